"""Mel scale, mel filterbank and DCT kernel builders against librosa, scipy and torchaudio's formula."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import scipy.fft
import torch

from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.spectral import apply_filterbank
from nnaudio_core.kernels import (
    dct_matrix,
    filter_groups,
    hz_to_mel,
    lifter_weights,
    mel_filterbank,
    mel_frequencies,
    mel_to_hz,
    normalize_filters,
)

librosa = pytest.importorskip("librosa")


# ------------------------------------------------------------------------------------------------
# mel scales
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("htk", [False, True])
def test_hz_to_mel_matches_librosa_and_inverts(htk):
    hz = np.array([0.0, 20.0, 440.0, 999.9, 1000.0, 1000.1, 4000.0, 11025.0, 22050.0])
    mels = hz_to_mel(hz, htk=htk)
    np.testing.assert_allclose(mels, librosa.hz_to_mel(hz, htk=htk), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mel_to_hz(mels, htk=htk), hz, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(mel_to_hz(mels, htk=htk), librosa.mel_to_hz(mels, htk=htk), rtol=1e-12, atol=1e-9)


def test_mel_scale_landmarks():
    # Slaney: 3 mels per 200 Hz below 1 kHz, 27 mels per factor 6.4 above; HTK: 2595 log10(1 + f / 700)
    assert hz_to_mel(600.0) == pytest.approx(9.0)
    assert hz_to_mel(1000.0) == pytest.approx(15.0)
    assert hz_to_mel(6400.0) == pytest.approx(42.0)
    assert hz_to_mel(700.0, htk=True) == pytest.approx(2595 * math.log10(2))
    assert float(hz_to_mel(20.0)) == pytest.approx(0.3)  # scalar in, 0-d out
    np.testing.assert_allclose(
        mel_frequencies(40, fmin=0.0, fmax=8000.0), librosa.mel_frequencies(40, fmin=0.0, fmax=8000.0), rtol=1e-12
    )


# ------------------------------------------------------------------------------------------------
# mel filterbank vs librosa.filters.mel
# ------------------------------------------------------------------------------------------------
def _both(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = mel_filterbank(**kw)
        ref = librosa.filters.mel(dtype=np.float64, **kw)
    return ours, ref


def test_filterbank_matches_librosa_for_every_combination():
    combos = itertools.product(
        (8000, 22050, 44100),  # sr
        (256, 400, 2048),  # n_fft (400: torchaudio's default, an even non-power of two)
        (40, 128),  # n_mels
        ((0.0, None), (30.0, 4000.0), (150.0, None)),  # fmin, fmax
        (False, True),  # htk
        (None, "slaney", 1, 2, 2.5, np.inf, -np.inf, 0),  # norm
    )
    worst = 0.0
    count = 0
    for sr, n_fft, n_mels, (fmin, fmax), htk, norm in combos:
        ours, ref = _both(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
        assert ours.shape == ref.shape == (n_mels, n_fft // 2 + 1)
        assert ours.dtype == np.float64
        worst = max(worst, float(np.max(np.abs(ours - ref))))
        count += 1
    assert count == 3 * 3 * 2 * 3 * 2 * 8
    assert worst <= 1e-6, worst


def test_filterbank_odd_n_fft_matches_librosa():
    ours, ref = _both(sr=22050, n_fft=1023, n_mels=64)
    assert np.max(np.abs(ours - ref)) <= 1e-6


def test_torchaudio_convention_by_formula():
    """torchaudio.functional.melscale_fbanks (HTK scale, norm None / 'slaney'), written out in torch."""

    def melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None):
        all_freqs = torch.linspace(0, sample_rate // 2, n_freqs, dtype=torch.float64)
        m_min = 2595.0 * math.log10(1.0 + f_min / 700.0)
        m_max = 2595.0 * math.log10(1.0 + f_max / 700.0)
        m_pts = torch.linspace(m_min, m_max, n_mels + 2, dtype=torch.float64)
        f_pts = 700.0 * (10 ** (m_pts / 2595.0) - 1.0)
        f_diff = f_pts[1:] - f_pts[:-1]
        slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)
        down = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
        up = slopes[:, 2:] / f_diff[1:]
        fb = torch.clamp(torch.min(down, up), min=0.0)
        if norm == "slaney":
            fb = fb * (2.0 / (f_pts[2 : n_mels + 2] - f_pts[:n_mels])).unsqueeze(0)
        return fb  # (n_freqs, n_mels)

    for sr, n_fft, n_mels, fmin, fmax in ((16000, 400, 40, 0.0, 8000.0), (16000, 512, 80, 20.0, 7600.0),
                                          (22050, 2048, 128, 0.0, 11025.0)):
        for norm in (None, "slaney"):
            expected = melscale_fbanks(n_fft // 2 + 1, fmin, fmax, n_mels, sr, norm=norm).numpy().T
            ours = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=True, norm=norm)
            assert np.max(np.abs(ours - expected)) <= 1e-9 * max(1.0, expected.max())


def test_slaney_norm_gives_unit_area_and_lp_norms_are_one():
    sr, n_fft = 22050, 4096
    w = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=40, norm="slaney")
    area = w.sum(axis=1) * sr / n_fft  # Riemann sum over Hz
    assert np.all(np.abs(area - 1.0) < 0.02), area
    for p in (1, 2, 3.0):
        wp = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=40, norm=p)
        np.testing.assert_allclose((wp**p).sum(axis=1) ** (1 / p), 1.0, rtol=1e-12)
    winf = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=40, norm=np.inf)
    np.testing.assert_allclose(winf.max(axis=1), 1.0, rtol=1e-12)
    peak = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=40, norm=None)
    assert peak.max() <= 1.0 and peak.max() > 0.99


def test_normalize_filters_leaves_zero_rows():
    w = np.array([[0.0, 0.0, 0.0], [0.0, 3.0, 4.0]])
    np.testing.assert_allclose(normalize_filters(w, 2), [[0, 0, 0], [0, 0.6, 0.8]])
    with pytest.raises(ValueError, match="corners"):
        normalize_filters(w, "slaney")


def test_empty_filters_warn_naming_the_bands():
    kw = dict(sr=16000, n_fft=256, n_mels=128)
    with pytest.warns(UserWarning, match="empty") as record:
        w = mel_filterbank(**kw)
    empty = np.flatnonzero(w.max(axis=1) == 0)
    assert empty.size > 0
    message = str(record[0].message)
    shown = [int(s) for s in message.split("(bands ")[1].split(")")[0].replace(", ...", "").split(", ")]
    assert shown == list(empty[: len(shown)])
    assert f"{empty.size} of 128" in message
    assert "fewer n_mels" in message and "larger n_fft" in message
    # librosa agrees these filters are empty
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = librosa.filters.mel(dtype=np.float64, **kw)
    assert set(np.flatnonzero(ref.max(axis=1) == 0)) == set(empty)


def test_no_warning_for_usual_configurations():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mel_filterbank(sr=22050, n_fft=2048, n_mels=128)
        mel_filterbank(sr=16000, n_fft=400, n_mels=40, htk=True, norm=None)


@pytest.mark.parametrize(
    ("kwargs", "parameter", "fragment"),
    [
        (dict(fmax=12000.0), "fmax", "sr / 2 = 11025"),
        (dict(fmin=5000.0, fmax=4000.0), "fmin", "fmin < fmax = 4000"),
        (dict(fmin=-1.0), "fmin", "0 <= fmin"),
        (dict(n_mels=0), "n_mels", ">= 1"),
        (dict(n_fft=0), "n_fft", ">= 1"),
        (dict(sr=0), "sr", "> 0"),
        (dict(norm="area"), "norm", "'slaney'"),
        (dict(norm=-2), "norm", "p > 0"),
    ],
)
def test_filterbank_rejects_bad_arguments(kwargs, parameter, fragment):
    args = dict(sr=22050, n_fft=2048, n_mels=128) | kwargs
    with pytest.raises(ParameterError, match=fragment) as info:
        mel_filterbank(**args)
    assert info.value.parameter == parameter


# ------------------------------------------------------------------------------------------------
# block-sparse application of frozen filterbanks
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [dict(sr=22050, n_fft=2048, n_mels=128), dict(sr=16000, n_fft=512, n_mels=40, htk=True, fmin=100.0, fmax=7000.0),
     dict(sr=16000, n_fft=256, n_mels=128)],  # the last has empty filters
)
def test_filter_groups_cover_every_weight_and_give_the_same_product(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = mel_filterbank(**kwargs)
    blocks = filter_groups(w)
    assert [b[0] for b in blocks] == [0] + [b[1] for b in blocks[:-1]] and blocks[-1][1] == w.shape[0]
    covered = np.zeros_like(w, dtype=bool)
    for r0, r1, c0, c1 in blocks:
        covered[r0:r1, c0:c1] = True
    assert not np.any((w != 0) & ~covered)
    work = sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in blocks)
    assert work <= 0.5 * w.size, (work, w.size)
    spec = torch.rand(3, w.shape[1], 9, dtype=torch.float64)
    dense = torch.matmul(torch.from_numpy(w), spec)
    blocked = apply_filterbank(torch.from_numpy(w), spec, blocks)
    assert float((blocked - dense).abs().max()) <= 1e-12 * float(dense.abs().max())


def test_filter_groups_default_mel_needs_a_quarter_of_the_work():
    w = mel_filterbank(sr=22050, n_fft=2048, n_mels=128)
    work = sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in filter_groups(w))
    assert work < 0.25 * w.size
    # one block when products are dear; DC and Nyquist carry no weight with fmax = sr / 2
    assert filter_groups(w, group_cost=10**9) == ((0, 128, 1, 1024),)


# ------------------------------------------------------------------------------------------------
# DCT
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm", ["ortho", None])
@pytest.mark.parametrize(("n_in", "n_out"), [(13, 13), (40, 13), (128, 20), (1, 1)])
def test_dct_matrix_matches_scipy(norm, n_in, n_out):
    x = np.random.default_rng(n_in).standard_normal((n_in, 7))
    ours = dct_matrix(n_in, n_out, norm=norm) @ x
    ref = scipy.fft.dct(x, type=2, norm=norm, axis=0)[:n_out]
    assert np.max(np.abs(ours - ref)) <= 1e-12 * max(1.0, np.abs(ref).max())


def test_dct_ortho_is_orthogonal_and_errors():
    d = dct_matrix(64)
    np.testing.assert_allclose(d @ d.T, np.eye(64), atol=1e-13)
    with pytest.raises(ParameterError, match="n_out <= n_in = 4"):
        dct_matrix(4, 5)
    with pytest.raises(ParameterError, match="'ortho' or None"):
        dct_matrix(4, norm="forward")


def test_lifter_weights_formula():
    k = np.arange(1, 14)
    np.testing.assert_allclose(lifter_weights(13, 22), 1 + 11 * np.sin(np.pi * k / 22), rtol=1e-14)
    np.testing.assert_array_equal(lifter_weights(5, 0), np.ones(5))
    with pytest.raises(ParameterError, match="lifter"):
        lifter_weights(5, -1)
