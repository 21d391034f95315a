"""STFT plugin: accuracy against librosa and a float64 DFT, backends, output formats, training."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch
from signals import SIGNALS, chirp, notes, rel_err

from nnaudio_core import ParameterError, get_transform

STFT = get_transform("stft")


def librosa_stft(y: np.ndarray, **kw) -> np.ndarray:
    return librosa.stft(y, **kw)


CASES = [
    # n_fft, win_length, hop, window, center, pad_mode
    (256, None, 64, "hann", True, "reflect"),
    (512, 400, 160, "hamming", True, "constant"),
    (1024, 1000, 441, "blackman", False, "reflect"),
    (2048, 1536, 512, ("kaiser", 8.0), True, "reflect"),
    (2048, None, 500, "hann", True, "constant"),
]


@pytest.mark.parametrize("backend", ["conv", "fft"])
@pytest.mark.parametrize("n_fft,win_length,hop,window,center,pad_mode", CASES)
def test_matches_librosa_float32(backend, n_fft, win_length, hop, window, center, pad_mode):
    y = (chirp(1.0) + 0.5 * notes(1.0)).astype(np.float32)
    stft = STFT(n_fft=n_fft, win_length=win_length, hop_length=hop, window=window, center=center,
                pad_mode=pad_mode, backend=backend)
    ours = stft(torch.from_numpy(y)).numpy()
    ref = librosa_stft(y, n_fft=n_fft, win_length=win_length, hop_length=hop, window=window, center=center,
                       pad_mode=pad_mode)
    assert ours.dtype == np.complex64
    assert rel_err(ours, ref) <= 1e-5


@pytest.mark.parametrize("backend", ["conv", "fft"])
@pytest.mark.parametrize("n_fft,win_length,hop,window,center,pad_mode", CASES[::2])
def test_matches_librosa_float64(backend, n_fft, win_length, hop, window, center, pad_mode):
    y = SIGNALS["noise"](0.5)
    stft = STFT(n_fft=n_fft, win_length=win_length, hop_length=hop, window=window, center=center,
                pad_mode=pad_mode, backend=backend).double()
    ours = stft(torch.from_numpy(y)).numpy()
    ref = librosa_stft(y, n_fft=n_fft, win_length=win_length, hop_length=hop, window=window, center=center,
                       pad_mode=pad_mode)
    assert ours.dtype == np.complex128
    assert rel_err(ours, ref) <= 1e-10


def direct_dft(y: np.ndarray, freqs: np.ndarray, *, n_fft: int, hop: int, sr: float, window: np.ndarray,
               pad_mode: str) -> np.ndarray:
    """float64 STFT at arbitrary frequencies straight from the definition (centred frames)."""
    padded = np.pad(y, n_fft // 2, mode=pad_mode)
    frames = 1 + (len(padded) - n_fft) // hop
    n = np.arange(n_fft)
    basis = window[None, :] * np.exp(-2j * np.pi * freqs[:, None] * n[None, :] / sr)
    idx = np.arange(frames)[:, None] * hop + n[None, :]
    return basis @ padded[idx].T


@pytest.mark.parametrize("freq_scale", ["linear", "log", "log2"])
def test_nonlinear_freq_scales_match_direct_dft(freq_scale):
    sr, n_fft, hop = 16000, 1024, 256
    y = notes(0.5, sr=sr)
    stft = STFT(n_fft=n_fft, hop_length=hop, freq_scale=freq_scale, fmin=55, fmax=7000, sr=sr, freq_bins=300)
    stft64 = stft.double()
    # The analysis frequencies follow nnAudio's formulas.
    k = np.arange(300)
    expected = 55 + k * (7000 - 55) / 300 if freq_scale == "linear" else 55 * (7000 / 55) ** (k / 300)
    np.testing.assert_allclose(stft.frequencies, expected, rtol=1e-12)
    window = librosa.filters.get_window("hann", n_fft, fftbins=True)
    ref = direct_dft(y, expected, n_fft=n_fft, hop=hop, sr=sr, window=window, pad_mode="reflect")
    assert rel_err(stft64(torch.from_numpy(y)).numpy(), ref) <= 1e-10
    assert rel_err(STFT(**stft.get_config())(torch.from_numpy(y.astype(np.float32))).numpy(), ref) <= 1e-5


def test_output_formats_agree_with_complex():
    y = torch.from_numpy(notes(0.5).astype(np.float32))
    z = STFT(n_fft=512)(y)
    assert z.is_complex() and z.shape == (257, 1 + len(y) // 128)
    for backend in ("conv", "fft"):
        mag = STFT(n_fft=512, output_format="Magnitude", backend=backend)(y)
        power = STFT(n_fft=512, output_format="power", backend=backend)(y)  # case-insensitive
        phase = STFT(n_fft=512, output_format="Phase", backend=backend)(y)
        torch.testing.assert_close(mag, z.abs(), rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(power, z.abs() ** 2, rtol=1e-4, atol=1e-3)
        strong = z.abs() > 1e-2 * z.abs().max()
        wrapped = torch.remainder(phase - z.angle() + torch.pi, 2 * torch.pi) - torch.pi  # ±pi are one angle
        assert wrapped[strong].abs().max() < 1e-3


def test_nnaudio_default_hop_and_freq_bins():
    stft = STFT(n_fft=1024, win_length=800)
    assert stft.hop_length == 200 and stft.freq_bins == 513
    out = STFT(n_fft=1024, freq_bins=100)(torch.randn(4096))
    assert out.shape == (100, 1 + 4096 // 256)


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        ({"freq_scale": "mel"}, "freq_scale"),
        ({"window": "no-such-window"}, "window"),
        ({"pad_mode": "circular"}, "pad_mode"),
        ({"n_fft": 0}, "n_fft"),
        ({"win_length": 4096}, "win_length"),
        ({"freq_scale": "linear", "fmax": 20000, "sr": 22050}, "fmax"),
        ({"freq_scale": "log", "fmin": 0}, "fmin"),
        ({"freq_scale": "linear", "fmin": 7000, "fmax": 6000}, "fmin"),
        ({"output_format": "Magnitudes"}, "output_format"),
        ({"backend": "fft", "freq_scale": "log"}, "backend"),
        ({"backend": "fft", "trainable": True}, "backend"),
        ({"n_fft": 2048.0}, "n_fft"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, parameter):
    with pytest.raises(ParameterError) as info:
        STFT(**kwargs)
    assert info.value.parameter == parameter
    assert repr(kwargs[parameter])[:5] in str(info.value)


def test_misspelled_argument_suggests_the_right_one():
    with pytest.raises(TypeError, match=r"n_ftt.*did you mean 'n_fft'"):
        STFT(n_ftt=512)


def test_trainable_kernels_get_gradients_and_training_lowers_loss():
    torch.manual_seed(0)
    sr = 8000
    x = torch.from_numpy(np.stack([notes(0.25, sr=sr, pitches=(60 + i, 67 + i)) for i in range(4)]).astype(np.float32))
    target = STFT(n_fft=256, hop_length=64, window="hamming", output_format="Magnitude")(x)
    model = STFT(n_fft=256, hop_length=64, window="hann", output_format="Magnitude", trainable=True)
    assert model.trainable_kernels == ("fourier",) and model.backend == "conv"
    assert [n for n, _ in model.named_parameters()] == ["fourier"]
    before = model.fourier.detach().clone()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(30):
        optimiser.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), target)
        loss.backward()
        assert model.fourier.grad is not None and torch.isfinite(model.fourier.grad).all()
        optimiser.step()
        losses.append(loss.item())
    assert not torch.equal(before, model.fourier.detach())
    assert losses[-1] < 0.5 * losses[0]


def test_magnitude_gradient_is_finite_at_silence():
    x = torch.zeros(2048, requires_grad=True)
    STFT(n_fft=256, output_format="Magnitude", backend="conv")(x).sum().backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("n_fft", [4, 5, 7, 8, 255, 256])
@pytest.mark.parametrize("center", [True, False])
def test_frame_count_follows_the_documented_formula_for_odd_and_even_n_fft(n_fft, center):
    stft = get_transform("stft")(n_fft=n_fft, hop_length=2, center=center, pad_mode="constant")
    for length in (300, 301, 302, 303):
        frames = stft(torch.randn(length)).shape[-1]
        expected = 1 + (length + 2 * (n_fft // 2) - n_fft) // 2 if center else 1 + (length - n_fft) // 2
        assert frames == expected
        if center and n_fft % 2 == 0:
            assert frames == 1 + length // 2
        if center:  # the same frames as librosa
            assert frames == librosa.stft(np.zeros(length), n_fft=n_fft, hop_length=2, pad_mode="constant").shape[-1]
