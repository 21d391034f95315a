"""PCEN, gammatonegram and CFP: parity with librosa.pcen and nnAudio 0.3.4 on the shipped recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import torch
from signals import chirp, notes
from torch.overrides import TorchFunctionMode

from nnaudio_core import ParameterError, build_transform, get_transform

librosa = pytest.importorskip("librosa")

PCEN = get_transform("pcen")
EXAMPLE = Path(__file__).resolve().parent.parent / "nnaudio_core" / "data" / "example.flac"


def recording(sr: int = 22050) -> np.ndarray:
    """The shipped example recording (4 s, 22.05 kHz), float32."""
    import soundfile

    y, file_sr = soundfile.read(EXAMPLE, dtype="float32")
    assert file_sr == sr
    return y


def _rel(actual, expected) -> float:
    """Largest absolute difference relative to the reference's largest magnitude."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    return float(np.abs(actual - expected).max() / np.abs(expected).max())


# ------------------------------------------------------------------------------------------------
# pcen
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mel_magnitude():
    return librosa.feature.melspectrogram(y=recording(), sr=22050, n_fft=2048, hop_length=512, n_mels=128, power=1.0)


@pytest.mark.parametrize("kw", [
    {},
    dict(max_size=3),
    dict(max_size=4, gain=0.6, bias=10.0, power=0.25),
    dict(power=0.0),
    dict(bias=0.0, time_constant=0.06),
    dict(b=0.5, eps=1e-3),
    dict(b=1.0),
])
@pytest.mark.parametrize("scale", [1.0, 2.0**31])  # librosa's defaults assume 32-bit integer audio
def test_pcen_is_librosas_on_a_real_mel_spectrogram(mel_magnitude, kw, scale):
    S = mel_magnitude * np.float32(scale)
    expected = librosa.pcen(S, sr=22050, hop_length=512, **kw)
    out = PCEN(sr=22050, hop_length=512, **kw)(torch.from_numpy(S)).numpy()
    assert _rel(out, expected) <= 1e-4


def test_pcen_batched_and_per_channel_equal_one_by_one(mel_magnitude):
    S = torch.from_numpy(np.stack([mel_magnitude, mel_magnitude[:, ::-1].copy() * 3.0]))
    shared = PCEN(sr=22050, hop_length=512)
    per_row = PCEN(sr=22050, hop_length=512, n_bands=128, trainable=True)
    batched = shared(S)
    for i in range(2):
        np.testing.assert_allclose(batched[i].numpy(), shared(S[i]).numpy(), rtol=1e-6, atol=1e-6)
        expected = librosa.pcen(S[i].numpy(), sr=22050, hop_length=512)
        assert _rel(per_row(S[i]).detach().numpy(), expected) <= 1e-4


def test_pcen_first_frame_initial_state_is_lfilter_zi_scaled(mel_magnitude):
    S = mel_magnitude * np.float32(100.0)
    b = 0.1
    zi = scipy.signal.lfilter_zi([b], [1, b - 1]) * S[:, :1]
    expected = librosa.pcen(S, sr=22050, hop_length=512, b=b, zi=zi)
    out = PCEN(sr=22050, hop_length=512, b=b, initial_state="first_frame")(torch.from_numpy(S)).numpy()
    assert _rel(out, expected) <= 1e-4
    # and differs from librosa's default state (M[-1] = 1), so the option is not a no-op
    assert _rel(PCEN(sr=22050, hop_length=512, b=b)(torch.from_numpy(S)).numpy(), expected) > 1e-3


@pytest.mark.parametrize("frames", [1, 31, 32, 33, 1025, 40_000])
def test_pcen_blocked_scan_matches_the_sequential_filter(frames):
    """Every block boundary of the three-level scan, against scipy's lfilter in float64."""
    rng = np.random.default_rng(frames)
    S = rng.random((3, frames)) ** 3
    for b in (0.9, 0.05, 1e-4):
        expected = librosa.pcen(S, sr=22050, hop_length=512, b=b)
        out = PCEN(sr=22050, hop_length=512, b=b).double()(torch.from_numpy(S)).numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-12)


def test_pcen_trainable_parameters_stay_valid_and_get_finite_gradients(mel_magnitude):
    step = PCEN(sr=22050, hop_length=512, n_bands=128, trainable=True)
    assert sorted(n for n, _ in step.named_parameters()) == ["log_bias", "log_gain", "log_power", "logit_smooth"]
    assert all(p.shape == (128, 1) for p in step.parameters())
    S = torch.from_numpy(mel_magnitude[None] * 1000.0)
    optimiser = torch.optim.SGD(step.parameters(), lr=5.0)
    for _ in range(3):  # big steps: the reparameterisation keeps every value in range
        optimiser.zero_grad()
        out = step(S)
        (-out.std()).backward()
        for name, p in step.named_parameters():
            assert torch.isfinite(p.grad).all(), name
            assert p.grad.abs().sum() > 0, name
        optimiser.step()
    assert torch.isfinite(step(S)).all()
    s = torch.sigmoid(step.logit_smooth)
    assert bool(((s > 0) & (s < 1)).all()) and bool((step.log_gain.exp() > 0).all())
    # the channels learnt different values
    assert step.log_gain.detach().std() > 0


def test_pcen_rejects_values_trainable_cannot_represent():
    with pytest.raises(ParameterError, match="power"):
        PCEN(power=0.0, trainable=True)
    with pytest.raises(ParameterError, match="b"):
        PCEN(b=1.0, trainable=True)
    with pytest.raises(ValueError, match="hop_length"):
        build_transform({"pipeline": [{"mel": {"hop_length": 256}}, {"pcen": {"hop_length": 512}}]})


def test_pcen_runs_without_a_python_loop_over_frames():
    """The scan's Python work does not grow with the number of frames (a loop per frame would)."""
    step = PCEN(sr=22050, hop_length=512)
    calls = []

    class Count(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            calls.append(func)
            return func(*args, **(kwargs or {}))

    counts = []
    for frames in (40, 4000):
        calls.clear()
        with Count():
            step(torch.rand(8, frames))
        counts.append(len(calls))
    assert counts[0] == counts[1]


# ------------------------------------------------------------------------------------------------
# gammatonegram
# ------------------------------------------------------------------------------------------------
nnaudio_features = pytest.importorskip("nnAudio.features")
Gammatonegram = get_transform("gammatonegram")


@pytest.mark.parametrize("kw", [
    dict(sr=22050, n_fft=2048, n_bins=64, fmin=0.0, fmax=None),
    dict(sr=16000, n_fft=512, n_bins=32, fmin=50.0, fmax=7000.0),
    dict(sr=44100, n_fft=4096, n_bins=128, fmin=20.0, fmax=None),
    dict(sr=8000, n_fft=100, n_bins=5, fmin=300.0, fmax=3000.0),
])
def test_gammatone_filterbank_is_nnaudios(kw):
    from nnAudio.librosa_functions import get_gammatone

    from nnaudio_core.kernels.gammatone import gammatone_filterbank

    expected = get_gammatone(**kw)  # float32 in nnAudio
    np.testing.assert_allclose(gammatone_filterbank(**kw), expected, rtol=1e-5, atol=1e-7 * np.abs(expected).max())


@pytest.mark.parametrize("kw", [
    {},
    dict(n_fft=1024, hop_length=256, n_bins=32, fmin=50.0, fmax=8000.0),
    dict(power=1.0, center=False),
    dict(power=1.5, pad_mode="constant", win_length=1500, window="hamming"),
])
def test_gammatonegram_is_nnaudios_on_the_recording(kw):
    x = torch.from_numpy(recording())
    expected = nnaudio_features.Gammatonegram(sr=22050, verbose=False, **kw)(x)[0].numpy()
    layer = Gammatonegram(sr=22050, **kw)
    assert _rel(layer(x).numpy(), expected) <= 1e-3
    assert _rel(Gammatonegram(sr=22050, backend="conv", **kw)(x).numpy(), expected) <= 1e-3


def test_gammatonegram_is_the_stft_then_the_gammatone_scale_step():
    x = torch.from_numpy(np.stack([chirp(1.0, sr=16000), notes(1.0, sr=16000)]).astype(np.float32))
    layer = Gammatonegram(sr=16000, n_fft=512, hop_length=128, n_bins=40, fmin=40.0)
    chain = build_transform({"pipeline": [
        {"stft": {"sr": 16000, "n_fft": 512, "hop_length": 128, "output_format": "Power", "pad_mode": "reflect"}},
        {"gammatone_scale": {"sr": 16000, "n_fft": 512, "n_bins": 40, "fmin": 40.0}},
    ]}, device="cpu")
    np.testing.assert_allclose(chain(x).numpy(), layer(x).numpy(), rtol=1e-5, atol=1e-6 * float(layer(x).max()))
    info = layer.output_info()
    assert info.rows == 40 and np.all(np.diff(info.frequencies) > 0) and info.frequencies[0] == pytest.approx(40.0)
    # a tone peaks in the band whose centre is nearest
    tone = torch.from_numpy(np.sin(2 * np.pi * 1000.0 * np.arange(16000) / 16000).astype(np.float32))
    band = int(layer(tone).mean(-1).argmax())
    assert band == int(np.argmin(np.abs(info.frequencies - 1000.0)))


def test_gammatonegram_trainable_parts():
    layer = Gammatonegram(sr=8000, n_fft=64, hop_length=16, n_bins=8, trainable_filters=True)
    assert [n for n, _ in layer.named_parameters()] == ["gammatone_scale.gammatone_basis"]
    with pytest.raises(ParameterError, match="fmax"):
        Gammatonegram(sr=8000, fmax=5000.0)


# ------------------------------------------------------------------------------------------------
# cfp
# ------------------------------------------------------------------------------------------------
CFP = get_transform("cfp")


@pytest.fixture
def nnaudio_cfp(monkeypatch):
    """nnAudio 0.3.4's CFP module, with scipy.signal.blackmanharris patched in for the reference only."""
    import scipy.signal.windows

    monkeypatch.setattr(scipy.signal, "blackmanharris", scipy.signal.windows.blackmanharris, raising=False)
    return nnaudio_features


@pytest.fixture(scope="module")
def recording16k():
    return torch.from_numpy(librosa.resample(recording(), orig_sr=22050, target_sr=16000))[None]


@pytest.mark.parametrize("kw", [
    {},
    dict(g=[0.2, 0.6]),
    dict(g=[0.24, 0.6, 1.0, 0.5]),
    dict(g=[0.1, 0.0, 0.9]),  # 0: nnAudio's logarithm
    dict(fr=4, hop_length=160, window_size=1025, fc=50, tc=1 / 2000, NumPerOct=24),
])
def test_cfp_is_nnaudios_on_the_recording(nnaudio_cfp, recording16k, kw):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = nnaudio_cfp.Combined_Frequency_Periodicity(**kw)(recording16k)
        expected_z = nnaudio_cfp.CFP(**kw)(recording16k)
    every = CFP(output_format="all", **kw)(recording16k)[0]
    assert every.shape[-1] == 4
    # g = 0 takes log(relu(c) + 1e-8): where a coefficient sits at zero, float32 rounding decides between
    # log(1e-8) and log(c), and the next layer's DFT spreads that over the frame. 3 of the recording's 199
    # frames do so (which ones depends on the FFT's summation order); every other frame must match.
    ill_conditioned_frames = 4 if 0.0 in kw.get("g", ()) else 0
    for i, reference in enumerate(expected):  # Z, tfrL0, tfrLF, tfrLQ, without the first and last frame
        ours, theirs = every[..., 1:-1, i].double().numpy(), reference[0].double().numpy()
        frame_error = np.abs(ours - theirs).max(axis=0) / np.abs(theirs).max()
        assert np.sort(frame_error)[-1 - ill_conditioned_frames] <= 1e-3, (i, np.sort(frame_error)[-5:])
    z_ours, z_theirs = CFP(**kw)(recording16k)[0].double().numpy(), expected_z[0].double().numpy()
    z_error = np.abs(z_ours - z_theirs).max(axis=0) / np.abs(z_theirs).max()
    assert np.sort(z_error)[-1 - ill_conditioned_frames] <= 1e-3
    for i, name in enumerate(("Z", "spectrum", "frequency", "periodicity")):
        np.testing.assert_array_equal(CFP(output_format=name, **kw)(recording16k)[0].numpy(), every[..., i].numpy())


def test_cfp_real_dft_and_validation():
    from nnaudio_core.functional.cfp import real_dft

    s = torch.randn(4, 11, dtype=torch.float64)
    torch.testing.assert_close(real_dft(s), torch.fft.fft(s).real)
    with pytest.raises(ParameterError, match="window_size"):
        CFP(window_size=9000)
    with pytest.raises(ParameterError, match="g"):
        CFP(g=[0.5])
    layer = CFP()
    info = layer.output_info()
    assert info.rows == layer.freq_to_log.shape[0] and info.frequencies[1] == pytest.approx(80 * 2 ** (1 / 48))


# ------------------------------------------------------------------------------------------------
# the nnAudio facade
# ------------------------------------------------------------------------------------------------
def test_facade_gammatonegram_is_nnaudios():
    from nnaudio_core import Spectrogram, features

    assert features.Gammatonegram is Spectrogram.Gammatonegram
    x = torch.from_numpy(recording()[: 22050 * 2])
    for shape in ((-1,), (1, -1), (1, 1, -1)):
        ours = Spectrogram.Gammatonegram(verbose=False, n_bins=48)(x.reshape(shape))
        theirs = nnaudio_features.Gammatonegram(verbose=False, n_bins=48)(x.reshape(shape))
        assert ours.shape == theirs.shape
        assert _rel(ours.numpy(), theirs.numpy()) <= 1e-3
    layer = Spectrogram.Gammatonegram(verbose=False, trainable_bins=True)
    assert [n for n, _ in layer.named_parameters()] == ["transform.gammatone_scale.gammatone_basis"]
    assert layer.gammatone_basis.shape == (64, 1025)
    with pytest.warns(UserWarning, match="no effect"):
        Spectrogram.Gammatonegram(verbose=False, htk=True)


def test_facade_cfp_classes_are_nnaudios(nnaudio_cfp, recording16k):
    import warnings

    from nnaudio_core import Spectrogram

    kw = dict(fr=4, hop_length=160, window_size=1025, fc=60, tc=1 / 1500, NumPerOct=24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nnaudio_cfp.Combined_Frequency_Periodicity(**kw)(recording16k)
        theirs_z = nnaudio_cfp.CFP(**kw)(recording16k)
    ours = Spectrogram.Combined_Frequency_Periodicity(**kw)(recording16k)
    assert isinstance(ours, tuple) and len(ours) == 4
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        assert _rel(a.numpy(), b.numpy()) <= 1e-3
    ours_z = Spectrogram.CFP(**kw)(recording16k[0])
    assert ours_z.shape == theirs_z.shape and _rel(ours_z.numpy(), theirs_z.numpy()) <= 1e-3
    layer = Spectrogram.CFP()
    assert layer.N == 8000 and layer.freq2logfreq_matrix.shape == (174, 501)
