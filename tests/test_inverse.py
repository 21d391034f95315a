"""Inverse transforms: istft (and STFT.inverse) against librosa.istft and round trips on a real recording."""

from __future__ import annotations

from importlib.resources import files

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch
from signals import chirp, notes, rel_err

from nnaudio_core import ParameterError, build_transform, get_transform

STFT = get_transform("stft")
ISTFT = get_transform("istft")

#: The four configurations of issue 12: (n_fft, hop_length, window).
ROUND_TRIP = [(2048, 512, "hann"), (1024, 256, "hamming"), (1024, 441, "hann"), (512, 128, "blackman")]


def recording(seconds: float = 2.0, offset: float = 0.5) -> np.ndarray:
    """A slice of the shipped example recording (22050 Hz, mono, float64)."""
    y, sr = sf.read(str(files("nnaudio_core.data") / "example.flac"), dtype="float64")
    start = int(offset * sr)
    return y[start : start + int(seconds * sr)]


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    reference, estimate = np.asarray(reference, np.float64), np.asarray(estimate, np.float64)
    return float(10 * np.log10(np.sum(reference**2) / np.sum((reference - estimate) ** 2)))


# ------------------------------------------------------------------------------------------------
# istft
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["fft", "conv"])
@pytest.mark.parametrize(("n_fft", "hop", "window"), ROUND_TRIP)
def test_istft_matches_librosa_on_a_recording(backend, n_fft, hop, window):
    y = recording(1.5).astype(np.float32)
    spec = librosa.stft(y, n_fft=n_fft, hop_length=hop, window=window)
    ref = librosa.istft(spec, n_fft=n_fft, hop_length=hop, window=window)
    ours = ISTFT(n_fft=n_fft, hop_length=hop, window=window, backend=backend)(torch.from_numpy(spec)).numpy()
    assert ours.dtype == np.float32
    assert rel_err(ours, ref) <= 1e-5


@pytest.mark.parametrize(("dtype", "target_db"), [(torch.float32, 70.0), (torch.float64, 100.0)])
@pytest.mark.parametrize("backend", ["fft", "conv"])
@pytest.mark.parametrize(("n_fft", "hop", "window"), ROUND_TRIP)
def test_round_trip_snr(n_fft, hop, window, backend, dtype, target_db):
    y = torch.from_numpy(recording(2.0)).to(dtype)
    stft = STFT(n_fft=n_fft, hop_length=hop, window=window, backend=backend).to(dtype)
    istft = ISTFT(n_fft=n_fft, hop_length=hop, window=window, backend=backend).to(dtype)
    out = istft(stft(y), length=y.shape[-1])
    assert out.dtype == dtype
    assert snr_db(y.numpy(), out.numpy()) >= target_db


@pytest.mark.parametrize(("center", "length"), [(True, None), (True, 7000), (True, 9001), (False, None),
                                                (False, 6000), (False, 9500)])
def test_length_trims_or_pads_as_librosa(center, length):
    y = (chirp(0.4) + 0.5 * notes(0.4)).astype(np.float64)
    kw = {"n_fft": 512, "hop_length": 100, "win_length": 400, "window": "hamming", "center": center}
    spec = librosa.stft(y, **kw)
    ref = librosa.istft(spec, length=length, **kw)
    for backend in ("fft", "conv"):
        ours = ISTFT(**kw, backend=backend).double()(torch.from_numpy(spec), length=length).numpy()
        assert ours.shape == ref.shape
        assert rel_err(ours, ref) <= 1e-12


def test_conv_and_fft_paths_agree_and_the_conv_kernels_train():
    spec = torch.from_numpy(librosa.stft(recording(0.5).astype(np.float32), n_fft=256, hop_length=64))
    fast, conv = ISTFT(n_fft=256, hop_length=64), ISTFT(n_fft=256, hop_length=64, trainable=True)
    assert (fast.backend, conv.backend) == ("fft", "conv")
    assert conv.trainable_kernels == ("inverse_fourier",)
    a, b = fast(spec), conv(spec)
    assert float((a - b.detach()).abs().max()) <= 1e-5 * float(a.abs().max())
    b.square().sum().backward()
    assert conv.inverse_fourier.grad is not None and bool(conv.inverse_fourier.grad.any())


def test_truncated_bins_count_as_zeros():
    x = torch.randn(2, 4000, dtype=torch.float64)
    spec = STFT(n_fft=256, hop_length=64).double()(x)
    few = spec[:, :100]
    for backend in ("fft", "conv"):
        ours = ISTFT(n_fft=256, hop_length=64, freq_bins=100, backend=backend).double()(few)
        padded = torch.cat([few, torch.zeros_like(spec[:, 100:])], dim=1)
        ref = librosa.istft(padded.numpy(), n_fft=256, hop_length=64)
        assert rel_err(ours.numpy(), ref) <= 1e-12


def test_nola_failure_names_window_and_hop():
    with pytest.raises(ParameterError, match=r"hop_length.*window='hann'.*NOLA"):
        ISTFT(n_fft=256, hop_length=300)
    with pytest.raises(ParameterError, match=r"hop_length=200.*window='boxcar'.*win_length=100"):
        ISTFT(n_fft=256, win_length=100, hop_length=200, window="boxcar")
    ISTFT(n_fft=256, win_length=100, hop_length=100, window="boxcar")  # rectangular frames that just touch: NOLA


def test_input_checks():
    istft = ISTFT(n_fft=64, hop_length=16)
    with pytest.raises(ValueError, match="complex spectrogram"):
        istft(torch.rand(33, 10))
    with pytest.raises(ValueError, match="33 rows"):
        istft(torch.randn(20, 10, dtype=torch.complex64))
    with pytest.raises(ValueError, match="complex128 does not match"):
        istft(torch.randn(33, 10, dtype=torch.complex128))
    with pytest.raises(ValueError, match="length=0"):
        istft(torch.randn(33, 10, dtype=torch.complex64), length=0)


def test_stft_inverse_equals_istft():
    x = torch.from_numpy(recording(1.0)).float()
    stft = STFT(n_fft=1024, win_length=800, hop_length=256, window="hamming")
    spec = stft(x)
    expected = ISTFT(n_fft=1024, win_length=800, hop_length=256, window="hamming")(spec, length=x.shape[-1])
    assert torch.equal(stft.inverse(spec, length=x.shape[-1]), expected)
    double = STFT(n_fft=512, hop_length=128).double()
    assert double.inverse(double(x.double())).dtype == torch.float64
    with pytest.raises(ParameterError, match="freq_scale"):
        STFT(n_fft=64, freq_scale="linear").inverse(torch.randn(33, 4, dtype=torch.complex64))


def test_spec_chain_uses_the_stft_metadata():
    spec = {"pipeline": [{"stft": {"n_fft": 512, "hop_length": 128}}, {"istft": {"n_fft": 512, "hop_length": 128}}]}
    pipeline = build_transform(spec, device="cpu")
    x = torch.from_numpy(recording(0.5)).float()
    assert snr_db(x.numpy()[: 128 * (len(x) // 128)], pipeline(x).numpy()[: 128 * (len(x) // 128)]) >= 70
    assert pipeline.output_info().kind == "waveform" and pipeline.output_info().sr == 22050.0
    bad = {"pipeline": [{"stft": {"n_fft": 512, "hop_length": 128}}, {"istft": {"n_fft": 512, "hop_length": 64}}]}
    with pytest.raises(ValueError, match="hop_length=128"):
        build_transform(bad, device="cpu")
    magnitude = {"pipeline": [{"stft": {"n_fft": 512, "output_format": "Magnitude"}}, {"istft": {"n_fft": 512}}]}
    with pytest.raises(ValueError, match="complex"):
        build_transform(magnitude, device="cpu")


# ------------------------------------------------------------------------------------------------
# griffin_lim
# ------------------------------------------------------------------------------------------------
GRIFFIN_LIM = get_transform("griffin_lim")


def spectral_convergence(y: np.ndarray, magnitude: np.ndarray, **kw) -> float:
    """``|| |STFT(y)| - S ||_F / ||S||_F``."""
    rebuilt = np.abs(librosa.stft(np.asarray(y, np.float32), **kw))
    return float(np.linalg.norm(rebuilt - magnitude) / np.linalg.norm(magnitude))


@pytest.mark.parametrize("offset", [0.0, 2.0])
def test_griffin_lim_converges_like_librosa(offset):
    y = recording(2.0, offset).astype(np.float32)
    kw = {"n_fft": 1024, "hop_length": 256, "pad_mode": "constant"}
    magnitude = np.abs(librosa.stft(y, **kw))
    ours = {init: spectral_convergence(GRIFFIN_LIM(**kw, n_iter=32, momentum=0.99, init=init)(
        torch.from_numpy(magnitude), length=len(y)).numpy(), magnitude, **kw) for init in ("zeros", "random")}
    ref_zeros = spectral_convergence(librosa.griffinlim(magnitude, n_iter=32, momentum=0.99, init=None, length=len(y),
                                                         **kw), magnitude, **kw)
    ref_random = np.mean([spectral_convergence(librosa.griffinlim(magnitude, n_iter=32, momentum=0.99, length=len(y),
                                                                  random_state=seed, **kw), magnitude, **kw)
                          for seed in range(3)])
    # zero initial phase: the same algorithm from the same start (only float rounding differs)
    assert ours["zeros"] <= 1.02 * ref_zeros
    # random phases differ from librosa's generator: within 1.1x of librosa's mean over three seeds
    assert ours["random"] <= 1.1 * ref_random
    assert ours["random"] < 0.2  # and far below the 0.6-0.8 of random phases without iterations


def test_griffin_lim_iterations_help_and_momentum_matters():
    y = recording(1.0).astype(np.float32)
    kw = {"n_fft": 512, "hop_length": 128}
    magnitude = torch.from_numpy(np.abs(librosa.stft(y, pad_mode="reflect", **kw)))
    errors = {}
    for n_iter, momentum in ((0, 0.99), (8, 0.0), (8, 0.99), (32, 0.99)):
        out = GRIFFIN_LIM(**kw, n_iter=n_iter, momentum=momentum)(magnitude).numpy()
        errors[n_iter, momentum] = spectral_convergence(out, magnitude.numpy(), pad_mode="reflect", **kw)
    assert errors[0, 0.99] > errors[8, 0.0] > errors[8, 0.99] > errors[32, 0.99]


def test_griffin_lim_power_batch_and_length():
    y = torch.from_numpy(np.stack([recording(0.5), recording(0.5, 1.0)])).float()
    stft = STFT(n_fft=256, hop_length=64, output_format="Magnitude")
    magnitude = stft(y)
    gl = GRIFFIN_LIM(n_fft=256, hop_length=64, n_iter=4)
    out = gl(magnitude, length=11000)
    assert out.shape == (2, 11000)
    assert torch.allclose(out[1], gl(magnitude[1], length=11000), atol=1e-6)  # each example alone
    power = GRIFFIN_LIM(n_fft=256, hop_length=64, n_iter=4, power=2.0)(magnitude**2, length=11000)
    assert torch.allclose(power, out, atol=1e-5)
    assert not torch.allclose(GRIFFIN_LIM(n_fft=256, hop_length=64, n_iter=4, seed=1)(magnitude), gl(magnitude))
    with pytest.raises(ValueError, match="power: 2"):
        build_transform({"pipeline": [{"stft": {"n_fft": 256, "hop_length": 64, "output_format": "Power"}},
                                      {"griffin_lim": {"n_fft": 256, "hop_length": 64}}]}, device="cpu")
    with pytest.raises(ValueError, match="frames give"):
        gl(magnitude[..., :2])


# ------------------------------------------------------------------------------------------------
# inverse_mel, mfcc_to_mel
# ------------------------------------------------------------------------------------------------
INVERSE_MEL = get_transform("inverse_mel")
MFCC_TO_MEL = get_transform("mfcc_to_mel")


@pytest.mark.parametrize(("n_mels", "htk", "norm"), [(64, False, "slaney"), (40, True, None)])
def test_inverse_mel_fits_the_mel_spectrogram_as_well_as_librosa(n_mels, htk, norm):
    y = recording(0.4).astype(np.float32)
    power = np.abs(librosa.stft(y, n_fft=512, hop_length=256)) ** 2
    basis = librosa.filters.mel(sr=22050, n_fft=512, n_mels=n_mels, htk=htk, norm=norm)
    mel = basis @ power
    ref = librosa.feature.inverse.mel_to_stft(mel, sr=22050, n_fft=512, power=1.0, htk=htk, norm=norm)
    ours = INVERSE_MEL(sr=22050, n_fft=512, n_mels=n_mels, htk=htk, norm=norm)(torch.from_numpy(mel)).numpy()
    assert ours.shape == power.shape and (ours >= 0).all()

    def error(estimate):
        return np.linalg.norm(basis @ estimate - mel) / np.linalg.norm(mel)

    assert error(ours) <= 1.1 * error(ref)
    assert error(ours) < 0.01


def test_inverse_mel_batches_and_chains_after_mel_scale():
    spec = {"input": "power", "pipeline": [{"mel_scale": {"sr": 16000, "n_fft": 512, "n_mels": 40}},
                                           {"inverse_mel": {"sr": 16000, "n_fft": 512, "n_mels": 40}}]}
    pipeline = build_transform(spec, device="cpu")
    power = torch.rand(3, 2, 257, 12)
    out = pipeline(power)
    assert out.shape == power.shape
    assert torch.allclose(out[1, 0], pipeline(power[1, 0]), atol=1e-6)
    assert pipeline.output_info().rows == 257
    with pytest.raises(ValueError, match="40 rows"):
        INVERSE_MEL(sr=16000, n_fft=512, n_mels=40)(torch.rand(20, 5))


@pytest.mark.parametrize(("norm", "lifter", "ref"), [("ortho", 0.0, 1.0), (None, 0.0, 1.0), ("ortho", 22.0, 2.0)])
def test_mfcc_to_mel_matches_librosa(norm, lifter, ref):
    y = recording(1.0).astype(np.float32)
    mel = librosa.feature.melspectrogram(y=y, sr=22050, n_fft=1024, hop_length=256, n_mels=64)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, ref=ref, top_db=None), n_mfcc=20, norm=norm,
                                lifter=lifter)
    expected = librosa.feature.inverse.mfcc_to_mel(mfcc, n_mels=64, norm=norm, lifter=lifter, ref=ref)
    ours = MFCC_TO_MEL(n_mfcc=20, n_mels=64, norm=norm, lifter=lifter, ref=ref).double()(torch.from_numpy(
        mfcc.astype(np.float64))).numpy()
    assert rel_err(ours, expected) <= 1e-5  # librosa's float32 rounding
    full = MFCC_TO_MEL(n_mfcc=64, n_mels=64, norm=norm, lifter=lifter, ref=ref).double()(torch.from_numpy(
        librosa.feature.mfcc(S=librosa.power_to_db(mel, ref=ref, top_db=None), n_mfcc=64, norm=norm,
                             lifter=lifter).astype(np.float64))).numpy()
    assert rel_err(full, mel) <= 1e-5  # all coefficients: the mel spectrogram itself
