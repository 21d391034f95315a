"""The vqt transform and the nnAudio VQT / CQT2010 facade classes: definition, librosa, nnAudio.

The float64 definition (written here, on top of the CQT reference's kernels): the constant-Q
definition of ``docs/cqt.md`` with the variable-Q lengths

* librosa: ``l_k = filter_scale * sr / (alpha * f_k + gamma)``, ``alpha = (2^(2/B) - 1) / (2^(2/B) + 1)``,
  ``gamma=None``: ``gamma = 24.7 * alpha / 0.108`` (the ERB rule);
* nnAudio: ``l_k = ceil(Q * sr / (f_k + gamma / a))``, ``a = 2^(1/B) - 1``, ``Q = filter_scale / a``.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import warnings

import numpy as np
import pytest
import torch
from cqt_reference import extend, reference_kernel, rel_err
from signals import chirp, noise_bursts, notes

from nnaudio_core import ParameterError, Spectrogram, build_transform, get_transform

VQT = get_transform("vqt")
CQT2019 = get_transform("cqt2019")


def _x(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def reference_vqt_lengths(freqs, *, sr, bins_per_octave, gamma, filter_scale=1.0, lengths="librosa"):
    freqs = np.asarray(freqs, dtype=np.float64)
    if lengths == "librosa":
        r = 2.0 ** (2.0 / bins_per_octave)
        alpha = (r - 1) / (r + 1)
        g = 24.7 * alpha / 0.108 if gamma is None else gamma
        return filter_scale * sr / (alpha * freqs + g)
    a = 2.0 ** (1.0 / bins_per_octave) - 1
    g = 24.7 * a / 0.108 if gamma is None else gamma
    return np.ceil(filter_scale / a * sr / (freqs + g / a))


def reference_vqt(x, *, sr, hop_length, fmin, n_bins, bins_per_octave=12, gamma=None, filter_scale=1.0, norm=1,
                  lengths="librosa", center=True, pad_mode="reflect"):
    """Complex VQT (``librosa`` normalisation: bin k times sqrt(l_k)) of a 1-D float64 signal, one bin at a time."""
    x = np.asarray(x, dtype=np.float64)
    freqs = fmin * 2.0 ** (np.arange(n_bins) / bins_per_octave)
    lens = reference_vqt_lengths(freqs, sr=sr, bins_per_octave=bins_per_octave, gamma=gamma,
                                 filter_scale=filter_scale, lengths=lengths)
    kernels = [reference_kernel(f, ln, sr=sr, norm=norm) for f, ln in zip(freqs, lens, strict=True)]
    if center:
        n_frames, origin = 1 + len(x) // hop_length, 0
    else:
        c = max(-n[0] for n, _ in kernels)
        width = c + max(n[-1] + 1 for n, _ in kernels)
        n_frames, origin = 1 + (len(x) - width) // hop_length, c
    lo = min(n[0] for n, _ in kernels)
    hi = max(n[-1] for n, _ in kernels)
    xp = extend(x, np.arange(origin + lo, origin + hop_length * (n_frames - 1) + hi + 1), pad_mode)
    out = np.zeros((n_bins, n_frames), dtype=np.complex128)
    for k, (n, kernel) in enumerate(kernels):  # frame t, sample n: xp[t * hop + n - lo]
        frames = np.lib.stride_tricks.sliding_window_view(xp[n[0] - lo :], len(n))[::hop_length][:n_frames]
        out[k] = frames @ np.conj(kernel)
    return out * np.sqrt(lens)[:, None]


@pytest.fixture(scope="module")
def clip():
    return np.stack([notes(1.0, sr=22050), chirp(1.0, sr=22050), noise_bursts(1.0, sr=22050)])


def test_lengths_are_librosas_wavelet_lengths():
    import librosa

    freqs = 32.70 * 2.0 ** (np.arange(84) / 12)
    for gamma in (None, 0.0, 7.5):
        expected, _ = librosa.filters.wavelet_lengths(freqs=freqs, sr=22050, gamma=gamma)
        vqt = VQT(gamma=gamma)
        np.testing.assert_allclose(vqt.kernel_lengths, expected, rtol=1e-12)
        np.testing.assert_allclose(vqt.kernel_lengths, reference_vqt_lengths(freqs, sr=22050, bins_per_octave=12,
                                                                             gamma=gamma), rtol=1e-12)


@pytest.mark.parametrize(("gamma", "hop_length"), [(None, 512), (12.0, 441)])
def test_matches_the_definition(clip, gamma, hop_length):
    vqt = VQT(gamma=gamma, hop_length=hop_length, output_format="Complex")
    out = vqt(_x(clip)).numpy()
    for row, signal in zip(out, clip, strict=True):
        ref = reference_vqt(signal, sr=22050, hop_length=hop_length, fmin=32.70, n_bins=84, gamma=gamma)
        assert rel_err(row, ref) <= 1e-3


@pytest.mark.parametrize("case", [
    dict(n_bins=80, bins_per_octave=12, hop_length=333),  # a partial octave, an odd hop
    dict(n_bins=168, bins_per_octave=24, hop_length=300, fmin=55.0, sr=44100, gamma=3.0),
    dict(n_bins=70, bins_per_octave=12, hop_length=256, lengths="nnaudio", gamma=20.0),
    dict(n_bins=84, bins_per_octave=12, hop_length=256, center=False),
    dict(n_bins=84, bins_per_octave=12, hop_length=512, pad_mode="constant", filter_scale=0.8, norm=2),
])
def test_matches_the_definition_in_every_configuration(case):
    case = dict(case)
    sr = case.pop("sr", 22050)
    fmin = case.pop("fmin", 32.70)
    signal = notes(1.0, sr=sr)
    vqt = VQT(sr=sr, fmin=fmin, output_format="Complex", **case)
    ref = reference_vqt(signal, sr=sr, fmin=fmin, **case)
    assert rel_err(vqt(_x(signal)).numpy(), ref) <= 1e-3


def test_clip_shorter_than_the_longest_kernel():
    vqt = VQT(gamma=0.0, hop_length=128, output_format="Complex")  # longest kernel 11687 samples
    signal = notes(0.25, sr=22050)
    ref = reference_vqt(signal, sr=22050, hop_length=128, fmin=32.70, n_bins=84, gamma=0.0)
    assert rel_err(vqt(_x(signal)).numpy(), ref) <= 1e-3


def test_gamma_zero_is_cqt2019(clip):
    for kw in ({"hop_length": 500, "bins_per_octave": 24, "n_bins": 160}, {"center": False}):
        a = VQT(gamma=0, output_format="Complex", **kw)(_x(clip))
        b = CQT2019(output_format="Complex", **kw)(_x(clip))
        assert float((a - b).abs().max() / b.abs().max()) <= 1e-5


def test_close_to_librosa_vqt():
    """librosa.vqt(gamma=None), 24 bins per octave (the seed configuration), librosa's zero padding: <= 2.5e-2.

    Measured: 1.7e-2 (notes), 2.1e-2 (chirp), 1.7e-2 (noise).
    """
    import librosa

    kw = dict(sr=44100, fmin=55.0, n_bins=168, bins_per_octave=24)
    layer = VQT(output_format="Complex", pad_mode="constant", **kw)
    for signal in (notes, chirp, noise_bursts):
        y = signal(1.0, sr=44100)
        assert rel_err(layer(_x(y)).numpy(), librosa.vqt(y, gamma=None, pad_mode="constant", **kw)) <= 2.5e-2


def test_close_to_librosa_vqt_with_short_kernels_or_reflect_padding():
    """<= 4e-2: at 22.05 kHz the top octave's kernels are short (librosa's kernels are mirrored, docs/cqt.md:
    2.2e-2 / 3.2e-2 / 2.6e-2 measured), and librosa reflects each decimated octave separately (3e-2 on notes)."""
    import librosa

    y = notes(1.0, sr=22050)
    for pad_mode in ("constant", "reflect"):
        ref = librosa.vqt(y, sr=22050, fmin=32.70, n_bins=168, bins_per_octave=24, gamma=None, pad_mode=pad_mode)
        out = VQT(output_format="Complex", pad_mode=pad_mode, n_bins=168, bins_per_octave=24)(_x(y)).numpy()
        assert rel_err(out, ref) <= 4e-2
    kw = dict(sr=44100, fmin=55.0, n_bins=168, bins_per_octave=24)
    y = notes(1.0, sr=44100)
    out = VQT(output_format="Complex", pad_mode="reflect", **kw)(_x(y)).numpy()
    assert rel_err(out, librosa.vqt(y, gamma=None, pad_mode="reflect", **kw)) <= 4e-2


def test_at_22050_hz_librosa_vqt_is_the_one_off_its_own_kernels():
    """The 2.5e-2 gap to librosa.vqt at 22.05 kHz is librosa's multirate approximation, not ours.

    On the shipped recording (22.05 kHz, 168 bins from C1, 24 per octave: the bundled ``vqt`` spec),
    correlate librosa's own full-rate kernels (``librosa.filters.wavelet``, times ``sqrt(lengths)``
    as librosa scales) with the zero-padded signal in float64, frame by frame: that is librosa's
    definition without its per-octave resampling. librosa.vqt is 2.9e-2 from it (4.6e-2 in the lowest
    octave, whose kernels librosa builds on its most decimated grid; the resampler's quality does not
    matter: ``res_type="soxr_vhq"`` and ``sparsity=0`` give 2.9e-2 too), this library's vqt 7e-4
    (kernel centring conventions).
    """
    import librosa
    import soundfile as sf
    from importlib.resources import files

    y, sr = sf.read(str(files("nnaudio_core.data") / "example.flac"), dtype="float64")
    fmin, n_bins, bins_per_octave, hop = 32.70, 168, 24, 512
    freqs = librosa.cqt_frequencies(n_bins, fmin=fmin, bins_per_octave=bins_per_octave)
    lengths, _ = librosa.filters.wavelet_lengths(freqs=freqs, sr=sr, window="hann", gamma=None)
    basis, _ = librosa.filters.wavelet(freqs=freqs, sr=sr, window="hann", norm=1, pad_fft=False, gamma=None)
    width = basis.shape[1]
    padded = np.pad(y, width // 2)
    frames = 1 + len(y) // hop
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)[::hop][:frames]
    full_rate = (basis.conj() @ windows.T) * np.sqrt(lengths)[:, None]

    theirs = librosa.vqt(y, sr=sr, hop_length=hop, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave,
                         gamma=None, pad_mode="constant")
    ours = VQT(
        sr=sr, hop_length=hop, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave, output_format="Complex",
        pad_mode="constant")(_x(y)[None]).numpy()[0]
    assert ours.shape == theirs.shape == full_rate.shape
    assert rel_err(ours, full_rate) <= 2e-3
    assert rel_err(theirs, full_rate) >= 2.5e-2
    assert rel_err(theirs[:24], full_rate[:24]) >= 4e-2


def test_trainable_kernels_get_gradients():
    vqt = VQT(sr=8000, fmin=100.0, n_bins=24, hop_length=64, trainable=True)
    assert len(list(vqt.parameters())) == len(vqt.cqt_kernels)
    vqt(torch.randn(2, 4000)).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in vqt.parameters())


def test_scripted_equals_eager():
    vqt = VQT(hop_length=300, n_bins=80)
    x = torch.randn(2, 8000)
    torch.testing.assert_close(torch.jit.script(vqt)(x), vqt(x), rtol=1e-5, atol=1e-5)


def test_spec_and_errors():
    step = build_transform("vqt")[0]
    assert step.name == "vqt" and step.config["gamma"] is None and step.config["bins_per_octave"] == 24
    assert step.config["pad_mode"] == "constant"
    with pytest.raises(ParameterError, match="gamma"):
        VQT(gamma=-1.0)
    with pytest.raises(ParameterError, match="n_bins"):
        VQT(n_bins=200)
    with pytest.raises(ParameterError, match="gamma"):  # the top kernel would be shorter than one sample
        VQT(sr=8000, fmin=1000.0, n_bins=12, gamma=1e6)


# ------------------------------------------------------------------------------------------------
# the nnAudio facade: VQT and CQT2010
# ------------------------------------------------------------------------------------------------
def _nn(name, **kwargs):
    from nnAudio import features

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(features, name)(**kwargs)


@pytest.mark.parametrize("name", ["VQT", "CQT2010"])
def test_facade_signatures_are_nnaudios(name):
    from nnAudio import features

    def params(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    assert params(getattr(Spectrogram, name)) == params(getattr(features, name))
    assert params(getattr(Spectrogram, name).forward) == params(getattr(features, name).forward)


def _interior(a, b, edge=8):
    a, b = a[..., edge:-edge], b[..., edge:-edge]
    return max(float((a[i] - b[i]).norm() / b[i].norm()) for i in range(a.shape[0]))


def test_facade_cqt2010_is_the_library_cqt(clip):
    """Spectrogram.CQT2010 within 1e-2 of nnAudio's CQT1992v2 away from the edges (1e-5 measured)."""
    x = _x(clip)
    ref = _nn("CQT1992v2")(x)
    assert _interior(Spectrogram.CQT2010(verbose=False)(x), ref) <= 1e-2
    torch.testing.assert_close(Spectrogram.CQT2010(verbose=False)(x), Spectrogram.CQT2010v2(verbose=False)(x))
    assert Spectrogram.CQT2010(hop_length=300, verbose=False)(x).shape == (3, 84, 1 + 22050 // 300)
    with pytest.raises(NotImplementedError, match="trainable_CQT"):
        Spectrogram.CQT2010(trainable_STFT=True)
    trained = Spectrogram.CQT2010(trainable_CQT=True, verbose=False).transform.trainable_kernels
    assert trained and all(name.startswith("cqt_kernels.") for name in trained)


def test_facade_vqt_gamma_zero_is_nnaudios_cqt(clip):
    x = _x(clip)
    assert _interior(Spectrogram.VQT(verbose=False)(x), _nn("CQT1992v2")(x)) <= 1e-4


@pytest.mark.parametrize("gamma", [5.0, 20.0])
def test_facade_vqt_is_nnaudios_kernels_at_the_full_rate(clip, gamma):
    """nnAudio's own VQT kernels (create_cqt_kernels with gamma), correlated at the full rate: <= 1e-3.

    nnAudio's VQT itself computes the octaves at reduced rates with its own filters and lands 1-4 %
    from this (<= 6e-2 asserted), and it fails for hops that are not powers of two.
    """
    from nnAudio.utils import create_cqt_kernels

    q = 1.0 / (2 ** (1 / 12) - 1)
    kernels, width, lengths, _ = create_cqt_kernels(q, 22050, 32.70, 84, 12, norm=1, topbin_check=False, gamma=gamma)
    kernels = kernels.astype(np.complex128)
    x = torch.from_numpy(clip)
    padded = torch.nn.functional.pad(x[:, None], (width // 2, width // 2), mode="reflect")
    w = torch.from_numpy(np.concatenate([kernels.real, kernels.imag]))[:, None]
    out = torch.nn.functional.conv1d(padded, w, stride=512)
    ref = torch.complex(out[:, :84], out[:, 84:]).abs() * torch.sqrt(lengths.double())[:, None]
    layer = Spectrogram.VQT(gamma=gamma, verbose=False)
    ours = layer(_x(clip)).double()
    assert _interior(ours, ref) <= 1e-3
    assert _interior(ours, _nn("VQT", gamma=gamma)(_x(clip)).double()) <= 6e-2
    assert layer(_x(clip)[:, :9000], output_format="Complex").shape == (3, 84, 18, 2)
    assert Spectrogram.VQT(gamma=gamma, hop_length=300, verbose=False)(_x(clip)).shape == (3, 84, 74)


def test_facade_vqt_norm_must_be_true():
    with pytest.raises(ParameterError, match="norm"):
        Spectrogram.VQT(norm=False)
