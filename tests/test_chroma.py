"""Chroma: the filterbank builders, the chroma step and the chroma_stft / chroma_cqt transforms vs librosa."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from signals import chirp, noise_bursts, notes

from nnaudio_core import ParameterError, build_transform, get_transform
from nnaudio_core.kernels.chroma import C1_HZ, chroma_filterbank, cq_to_chroma

librosa = pytest.importorskip("librosa")

Chroma = get_transform("chroma")
ChromaSTFT = get_transform("chroma_stft")
ChromaCQT = get_transform("chroma_cqt")


def _x(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _signals(sr=22050, seconds=2.0):
    # the chirp stays below the top constant-Q bin (4.1 kHz): above it a frame's chroma is out-of-band leakage
    return {"notes": notes(seconds, sr=sr), "chirp": chirp(seconds, sr=sr, f0=40.0, f1=3500.0),
            "noise": noise_bursts(seconds, sr=sr)}


@pytest.mark.parametrize("kw", [
    dict(sr=22050, n_fft=2048),
    dict(sr=22050, n_fft=4096, n_chroma=24, tuning=0.3, base_c=False),
    dict(sr=16000, n_fft=512, octwidth=None, norm=np.inf),
    dict(sr=8000, n_fft=64, n_chroma=7, norm=None, ctroct=3.0),
    dict(sr=44100, n_fft=1000, tuning=-0.2, octwidth=1.0),
])
def test_chroma_filterbank_is_librosas(kw):
    np.testing.assert_allclose(chroma_filterbank(**kw), librosa.filters.chroma(dtype=np.float64, **kw),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kw", [
    dict(n_input=252, bins_per_octave=36),
    dict(n_input=100, bins_per_octave=24, fmin=55.0, base_c=False),
    dict(n_input=50, bins_per_octave=12, fmin=40.0),
    dict(n_input=84, bins_per_octave=48, n_chroma=24, fmin=30.0),
])
def test_cq_to_chroma_is_librosas(kw):
    np.testing.assert_array_equal(cq_to_chroma(**kw), librosa.filters.cq_to_chroma(**kw))


@pytest.mark.parametrize("kw", [
    {},
    dict(n_fft=1024, hop_length=256, n_chroma=24, norm=2),
    dict(pad_mode="reflect", win_length=1500, base_c=False, octwidth=None),
    dict(hop_length=300, window="hamming", norm=1, ctroct=4.0, octwidth=1.5),
    dict(center=False, norm=None),
])
def test_chroma_stft_matches_librosa(kw):
    """Within 1e-4 of librosa.feature.chroma_stft(tuning=0.0) (max abs; 1e-6 measured)."""
    layer = ChromaSTFT(**kw)
    for y in _signals().values():
        ref = librosa.feature.chroma_stft(y=y, sr=22050, tuning=0.0, **kw)
        out = layer(_x(y)).numpy()
        scale = 1.0 if kw.get("norm", np.inf) is not None else np.abs(ref).max()
        assert out.shape == ref.shape and np.abs(out - ref).max() / scale <= 1e-4


@pytest.mark.parametrize("kw", [{}, dict(hop_length=256, threshold=0.1, norm=2),
                                dict(n_chroma=24, bins_per_octave=48, fmin=65.0, n_octaves=6)])
def test_chroma_cqt_matches_librosa(kw):
    """Within 3e-2 of librosa.feature.chroma_cqt(tuning=0.0) (max abs; the CQTs differ by 1-3 %)."""
    layer = ChromaCQT(**kw)
    for y in _signals().values():
        ref = librosa.feature.chroma_cqt(y=y, sr=22050, tuning=0.0, **kw)
        out = layer(_x(y)).numpy()
        assert out.shape == ref.shape and np.abs(out - ref).max() <= 3e-2


@pytest.mark.parametrize("norm", [math.inf, 2.0, 1.0, -math.inf, 0.0, None])
def test_silence_is_finite_with_finite_gradients(norm):
    for make in (ChromaSTFT, lambda **kw: ChromaCQT(n_octaves=3, fmin=110.0, **kw)):
        assert float(make(norm=norm)(torch.zeros(2, 4096)).abs().max()) == 0.0  # silent frames stay zero
        # trainable: a CQT magnitude has a finite gradient at 0 by being ~1e-19 there, which librosa's rule
        # (normalise any frame above the smallest normal number) normalises: finite, not necessarily zero
        layer = make(norm=norm, trainable=True)
        x = torch.zeros(2, 4096, requires_grad=True)
        out = layer(x)
        assert torch.isfinite(out).all()
        out.sum().backward()
        assert torch.isfinite(x.grad).all()
        assert all(torch.isfinite(p.grad).all() for p in layer.parameters())


def test_normalisation_per_frame():
    x = _x(notes(1.0))
    assert torch.allclose(ChromaSTFT()(x).amax(-2), torch.ones(1))
    assert torch.allclose(ChromaSTFT(norm=2)(x).norm(dim=-2), torch.ones(1))
    assert torch.allclose(ChromaSTFT(norm=1)(x).sum(-2), torch.ones(1))


def test_the_chroma_step_in_a_pipeline_gives_the_transforms():
    x = _x(np.stack([notes(1.0), noise_bursts(1.0)]))
    stft_chain = build_transform({"pipeline": [
        {"stft": {"n_fft": 2048, "hop_length": 512, "pad_mode": "constant", "output_format": "Power"}},
        {"chroma": {"source": "stft", "sr": 22050, "n_fft": 2048}},
    ]})
    torch.testing.assert_close(stft_chain(x), ChromaSTFT()(x), rtol=1e-5, atol=1e-6)
    cqt_chain = build_transform({"pipeline": [
        {"cqt2019": {"fmin": C1_HZ, "n_bins": 252, "bins_per_octave": 36, "pad_mode": "constant"}},
        {"chroma": {"source": "cqt", "fmin": C1_HZ, "n_bins": 252, "bins_per_octave": 36}},
    ]})
    torch.testing.assert_close(cqt_chain(x), ChromaCQT()(x), rtol=1e-5, atol=1e-6)
    # a magnitude STFT works too (librosa's chroma_stft(S=|X|))
    mag = torch.stft(x, 2048, 512, window=torch.hann_window(2048), return_complex=True, pad_mode="constant").abs()
    ref = librosa.feature.chroma_stft(S=mag.numpy(), sr=22050, tuning=0.0)
    assert np.abs(Chroma()(mag).numpy() - ref).max() <= 1e-4


def test_bundled_specs():
    assert build_transform("chroma_stft")[0].name == "chroma_stft"
    cqt = build_transform("chroma_cqt")[0]
    assert cqt.name == "chroma_cqt" and cqt.cqt.n_bins == 252 and cqt.config["norm"] == math.inf


def test_scripted_equals_eager():
    x = torch.randn(2, 8192)
    for layer in (ChromaSTFT(n_fft=1024), ChromaCQT(n_octaves=4, fmin=65.0, hop_length=300)):
        torch.testing.assert_close(torch.jit.script(layer)(x), layer(x), rtol=1e-5, atol=1e-6)
    step = Chroma(source="cqt", n_bins=24, norm=2.0)
    s = torch.rand(3, 24, 7)
    torch.testing.assert_close(torch.jit.script(step)(s), step(s))


def test_trainable_filterbank_gets_gradients():
    layer = ChromaSTFT(trainable=True)
    assert isinstance(layer.chroma.chroma_basis, torch.nn.Parameter)
    layer(torch.randn(4096)).square().sum().backward()
    assert float(layer.chroma.chroma_basis.grad.abs().sum()) > 0


def test_errors_say_what_is_allowed():
    with pytest.raises(ParameterError, match="multiple of n_chroma"):
        ChromaCQT(bins_per_octave=30)
    with pytest.raises(ParameterError, match="n_octaves"):
        ChromaCQT(n_octaves=10)
    with pytest.raises(ParameterError, match="norm"):
        ChromaSTFT(norm="max")
    with pytest.raises(ValueError, match="1025 rows"):
        Chroma(n_fft=2048)(torch.rand(513, 4))
    with pytest.raises(ParameterError, match="multiple of n_chroma"):
        Chroma(source="cqt", bins_per_octave=20)
