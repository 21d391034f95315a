"""Constant-Q kernel builders (frequencies, lengths, kernels, the low-pass design) and the plan builders."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from cqt_reference import reference_kernel, reference_lengths

from nnaudio_core.functional.cqt1992 import cqt1992_fft_plan
from nnaudio_core.functional.cqt2019 import cqt2019_plan, subsample_kernels
from nnaudio_core.functional.cqt_common import octave_groups
from nnaudio_core.kernels.cqt import (
    cqt_frequencies,
    cqt_kernels,
    cqt_lengths,
    cqt_n_bins,
    max_cqt_bins,
    relative_bandwidth,
)
from nnaudio_core.kernels.lowpass import decimation_lowpass, lowpass_fir, polyphase_bank


def test_frequencies_are_geometric():
    f = cqt_frequencies(n_bins=25, fmin=55.0, bins_per_octave=12)
    assert f[0] == 55.0
    np.testing.assert_allclose(f[12], 110.0, rtol=1e-14)
    np.testing.assert_allclose(f[24], 220.0, rtol=1e-14)
    np.testing.assert_allclose(f[1:] / f[:-1], 2 ** (1 / 12), rtol=1e-14)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_bins=0, fmin=55.0), "n_bins"),
        (dict(n_bins=3, fmin=0.0), "fmin"),
        (dict(n_bins=3, fmin=55.0, bins_per_octave=0), "bins_per_octave"),
        (dict(n_bins=2.5, fmin=55.0), "n_bins"),
    ],
)
def test_frequencies_reject_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        cqt_frequencies(**kwargs)


def test_librosa_lengths_match_librosa():
    librosa = pytest.importorskip("librosa")
    for bpo, scale in [(12, 1.0), (24, 1.0), (36, 0.7)]:
        freqs = cqt_frequencies(n_bins=3 * bpo, fmin=40.0, bins_per_octave=bpo)
        ours = cqt_lengths(freqs, sr=22050, filter_scale=scale, bins_per_octave=bpo)
        theirs, _ = librosa.filters.wavelet_lengths(freqs=freqs, sr=22050, filter_scale=scale, gamma=0)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert relative_bandwidth(12) == pytest.approx((2 ** (1 / 6) - 1) / (2 ** (1 / 6) + 1), rel=1e-15)


def test_nnaudio_lengths_match_nnaudio():
    nnutils = pytest.importorskip("nnAudio.utils")
    for bpo, scale in [(12, 1.0), (24, 1.0), (12, 0.5)]:
        q = scale / (2 ** (1 / bpo) - 1)
        _, _, lengths, freqs = nnutils.create_cqt_kernels(q, 22050, 32.7, 2 * bpo, bpo, 1, "hann", None)
        ours = cqt_lengths(freqs, sr=22050, filter_scale=scale, bins_per_octave=bpo, convention="nnaudio")
        np.testing.assert_array_equal(ours, lengths.numpy().astype(np.float64))


def test_lengths_reject_unknown_convention():
    with pytest.raises(ValueError, match="convention='essentia'.*'librosa', 'nnaudio'"):
        cqt_lengths(np.array([100.0]), sr=8000, convention="essentia")


@pytest.mark.parametrize("convention", ["librosa", "nnaudio"])
@pytest.mark.parametrize("norm", [1, 2, np.inf, None])
@pytest.mark.parametrize("window", ["hann", "hamming", ("kaiser", 6.0)])
def test_kernels_follow_the_definition(convention, norm, window):
    sr, fmin, n_bins, bpo = 16000, 60.0, 30, 12
    kern, center, lengths = cqt_kernels(
        sr=sr, fmin=fmin, n_bins=n_bins, bins_per_octave=bpo, norm=norm, window=window, convention=convention
    )
    freqs = cqt_frequencies(n_bins=n_bins, fmin=fmin, bins_per_octave=bpo)
    np.testing.assert_allclose(lengths, reference_lengths(freqs, sr=sr, bins_per_octave=bpo, lengths=convention))
    for k in range(n_bins):
        n, expected = reference_kernel(freqs[k], lengths[k], sr=sr, window=window, norm=norm)
        np.testing.assert_allclose(kern[k, center + n], expected, rtol=0, atol=1e-12 * np.abs(expected).max())
        outside = np.ones(kern.shape[1], bool)
        outside[center + n] = False
        assert not np.any(kern[k, outside])


def test_fractional_length_grid_and_window_padding():
    # l = 96.7...: grid arange(-49, 48) has 97 samples; window of floor(l) = 96 samples, then one zero
    sr, bpo = 22050, 12
    f = 22050 / (relative_bandwidth(bpo) * 96.7)
    kern, center, lengths = cqt_kernels(sr=sr, fmin=f, n_bins=1, bins_per_octave=bpo, norm=None)
    assert lengths[0] == pytest.approx(96.7)
    assert kern.shape[1] == 97 and center == 49
    win = scipy.signal.get_window("hann", 96, fftbins=True)
    np.testing.assert_allclose(np.abs(kern[0, :96]), win, atol=1e-14)
    assert kern[0, 96] == 0
    # l in (2m + 1, 2m + 2): the grid has floor(l) samples, no zero padding
    f = 22050 / (relative_bandwidth(bpo) * 101.5)
    kern, center, lengths = cqt_kernels(sr=sr, fmin=f, n_bins=1, bins_per_octave=bpo, norm=None)
    assert kern.shape[1] == len(np.arange(-101.5 // 2, 101.5 // 2)) == 101 and center == 51


def test_kernels_l1_normalised_and_rows_share_center():
    kern, center, _ = cqt_kernels(sr=22050, fmin=32.7, n_bins=84)
    np.testing.assert_allclose(np.abs(kern).sum(axis=1), 1.0, rtol=1e-12)
    # n = 0 column: the phase there is exactly zero for every bin
    assert np.all(np.abs(np.angle(kern[:, center][kern[:, center] != 0])) < 1e-12)


def test_nnaudio_convention_matches_nnaudio_kernels():
    nnutils = pytest.importorskip("nnAudio.utils")
    bpo, sr = 12, 22050
    q = 1 / (2 ** (1 / bpo) - 1)
    theirs, width, _, _ = nnutils.create_cqt_kernels(q, sr, 220.0, 36, bpo, 1, "hann", None)
    kern, center, _ = cqt_kernels(sr=sr, fmin=220.0, n_bins=36, bins_per_octave=bpo, convention="nnaudio")
    # nnAudio puts n = 0 at column width // 2 of its power-of-two frame
    placed = np.zeros((36, width), complex)
    placed[:, width // 2 - center : width // 2 - center + kern.shape[1]] = kern
    np.testing.assert_allclose(placed, theirs, atol=2e-7)


def test_top_bin_above_nyquist_names_the_largest_valid_n_bins():
    largest = max_cqt_bins(sr=22050, fmin=32.70, bins_per_octave=12)
    assert cqt_frequencies(n_bins=largest, fmin=32.7)[-1] <= 11025 < cqt_frequencies(n_bins=largest + 1, fmin=32.7)[-1]
    cqt_kernels(sr=22050, fmin=32.70, n_bins=largest, bins=[largest - 1])
    with pytest.raises(ValueError, match=rf"n_bins={largest + 1} .*Nyquist.*largest valid n_bins is {largest}"):
        cqt_kernels(sr=22050, fmin=32.70, n_bins=largest + 1)


def test_n_bins_from_fmax_as_nnaudio():
    assert cqt_n_bins(fmin=32.70, fmax=32.70 * 2**7, bins_per_octave=12) == 84
    for fmax in [1000.0, 4186.0, 8000.0]:  # nnAudio: ceil(B * log2(fmax / fmin))
        assert cqt_n_bins(fmin=32.70, fmax=fmax, bins_per_octave=24) == int(np.ceil(24 * np.log2(fmax / 32.70)))
    with pytest.raises(ValueError, match="fmax=10.0 is not allowed; expected fmax > fmin"):
        cqt_n_bins(fmin=32.70, fmax=10.0)


def test_too_small_filter_scale_and_bad_norm_are_rejected():
    with pytest.raises(ValueError, match="filter_scale"):
        cqt_kernels(sr=8000, fmin=1000.0, n_bins=12, filter_scale=0.005)
    with pytest.raises(ValueError, match="norm=-1 is not allowed"):
        cqt_kernels(sr=8000, fmin=100.0, n_bins=12, norm=-1)


def test_subsample():
    full = np.arange(1.0, 12.0)[None]  # kernel[n] = n + 6 for n = -5 .. 5, centre column 5
    for factor in (2, 3, 4):
        for phase in range(factor):
            sub, sc = subsample_kernels(full, 5, factor=factor, phase=phase)
            m = np.arange(sub.shape[1]) - sc
            np.testing.assert_array_equal(sub[0], factor * (factor * m - phase + 6))
            assert sub.shape[1] == np.sum((np.arange(-5, 6) + phase) % factor == 0)


def test_octave_groups():
    assert octave_groups(84, 12)[0] == (72, 84) and octave_groups(84, 12)[-1] == (0, 12)
    assert octave_groups(100, 24) == [(76, 100), (52, 76), (28, 52), (4, 28), (0, 4)]


def test_lowpass_meets_its_specification():
    h = decimation_lowpass(passband=0.4, attenuation_db=100)
    w, resp = scipy.signal.freqz(h, worN=8192)
    f = w / np.pi
    assert np.max(np.abs(np.abs(resp[f <= 0.4]) - 1)) < 2e-5
    assert np.max(np.abs(resp[f >= 0.6])) < 2e-5
    np.testing.assert_allclose(h, h[::-1])  # linear phase
    h2 = lowpass_fir(passband=0.2, stopband=0.3, attenuation_db=60)
    w, resp = scipy.signal.freqz(h2, worN=8192)
    assert np.max(np.abs(resp[w / np.pi >= 0.3])) < 2e-3
    with pytest.raises(ValueError, match="passband=0.6 is not allowed"):
        decimation_lowpass(passband=0.6)


def test_polyphase_bank_equals_direct_decimation():
    rng = np.random.default_rng(0)
    h = rng.standard_normal(7)
    x = rng.standard_normal(200)
    bank = polyphase_bank(h, factor=2, outputs=4)
    direct = np.array([h @ x[2 * i : 2 * i + 7] for i in range((200 - 7) // 2 + 1)])
    blocks = [bank @ x[8 * b : 8 * b + bank.shape[1]] for b in range((200 - bank.shape[1]) // 8 + 1)]
    via_bank = np.concatenate(blocks)
    np.testing.assert_allclose(via_bank, direct[: len(via_bank)], atol=1e-12)


def test_multirate_schedule():
    seed = dict(sr=44100, fmin=55.0, n_bins=168, bins_per_octave=24)
    plan = cqt2019_plan(hop_length=512, **seed).schedule
    assert plan.levels == [1, 2, 3, 4, 5, 6, 7]  # top octave far below Nyquist: early downsampling
    assert cqt2019_plan(hop_length=512, earlydownsample=False, **seed).schedule.levels == [0, 1, 2, 3, 4, 5, 6]
    assert plan.phases == [1] * 7
    odd = cqt2019_plan(hop_length=441, **seed).schedule  # 441 is odd: frames fall between decimated samples
    assert odd.phases == [2, 4, 8, 16, 32, 32, 32] and odd.levels == [1, 2, 3, 4, 5, 5, 5]  # at most 32 phases
    near_nyquist = cqt2019_plan(sr=22050, fmin=32.7, n_bins=101, hop_length=512).schedule  # top bin 10.6 kHz
    assert near_nyquist.levels[:3] == [0, 0, 1]  # a top octave near Nyquist keeps the next one at full rate


def test_fft_plan_splits_long_and_short_kernels():
    plan = cqt1992_fft_plan(sr=22050, fmin=32.7, n_bins=84, hop_length=512)
    schedule = plan.schedule
    assert schedule.n_fft % 512 == 0 and schedule.n_fft >= 2 * schedule.width
    spectra = [v[..., 0] + 1j * v[..., 1] for v in plan.fft_kernels]  # stored as (re, im) pairs
    assert sum(v.shape[-1] for v in spectra) + sum(w.shape[0] // 2 for w in plan.conv_kernels) == 84
    assert [w.shape[-1] for w in plan.conv_kernels] == [1461, 731, 365, 183]  # octaves up to 4 * hop wide
    exact = cqt1992_fft_plan(sr=22050, fmin=32.7, n_bins=84, hop_length=512, eps=0)
    assert all(v.shape[1] == 512 for v in exact.fft_kernels)  # eps=0 keeps every spectral row
    # the banded spectra (hann: demodulated, decimated DFTs) equal the full DFT on every kept row
    exact_spectra = [v[..., 0] + 1j * v[..., 1] for v in exact.fft_kernels]
    for banded, full, bins in zip(spectra, exact_spectra, plan.fft_bins, strict=True):
        p = schedule.n_fft // 512
        rows = bins.reshape(p, -1)[0] // p  # stored q-major: (P, R)
        np.testing.assert_allclose(banded, full[:, rows], atol=2e-6 * np.abs(full).max())
