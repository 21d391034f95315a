"""The KernelTransform contract, checked on the STFT plugin and a minimal transform."""

from __future__ import annotations

import copy
import io
import math

import numpy as np
import pytest
import torch
from signals import chirp

from nnaudio_core import ParameterError, build_transform, get_transform
from nnaudio_core.kernels import fourier_bins, fourier_kernels, stft_window

STFT = get_transform("stft")


@pytest.mark.parametrize("backend", ["conv", "fft"])
def test_input_layouts_keep_leading_dims(backend):
    stft = STFT(n_fft=256, hop_length=64, output_format="Magnitude", backend=backend)
    x = torch.randn(3, 2, 2000)
    out = stft(x)
    assert out.shape == (3, 2, 129, 1 + 2000 // 64)
    torch.testing.assert_close(out[1, 0], stft(x[1, 0]))
    torch.testing.assert_close(out[2], stft(x[2]))
    assert stft(x[0, 0]).shape == (129, 32)


@pytest.mark.parametrize(
    "x, message",
    [
        (torch.randn(1, 1, 1, 4096), r"shape \(1, 1, 1, 4096\) has 4 dims"),
        (torch.ones(4096, dtype=torch.int16), "not floating point"),
        (torch.randn(2, 0), "empty"),
        (torch.randn(2, 100), "100 samples is too short.*at least 129"),
        (torch.randn(4096, dtype=torch.float64), "differs from the transform's torch.float32"),
    ],
)
def test_bad_inputs_raise_value_errors_that_say_why(x, message):
    with pytest.raises(ValueError, match=message):
        STFT(n_fft=256)(x)


def test_short_input_works_with_constant_padding():
    out = STFT(n_fft=256, pad_mode="constant", hop_length=64)(torch.randn(100))
    assert out.shape == (129, 1 + 100 // 64)


def test_nan_propagates_by_default_and_check_input_raises():
    stft = STFT(n_fft=256)
    x = torch.randn(2048)
    x[1000] = math.nan
    assert torch.isnan(stft(x).abs()).any()
    stft.check_input = True
    with pytest.raises(ValueError, match="NaN or Inf"):
        stft(x)
    spec = build_transform({"check_input": True, "pipeline": [{"stft": {"n_fft": 256}}]})
    with pytest.raises(ValueError, match="NaN or Inf"):
        spec(x)
    x[1000] = math.inf
    with pytest.raises(ValueError, match="NaN or Inf"):
        spec(x)


@pytest.mark.parametrize("trainable", [False, True])
def test_double_rebuilds_frozen_kernels_exactly(trainable):
    stft = STFT(n_fft=512, backend="conv", trainable=trainable)
    window = stft_window("hann", win_length=512, n_fft=512)
    real, imag = fourier_kernels(window, fourier_bins(n_fft=512, sr=22050))
    exact = np.concatenate([real, imag])[:, None, :]
    stft64 = copy.deepcopy(stft).double()
    assert stft64.fourier.dtype == torch.float64
    error = np.abs(stft64.fourier.detach().numpy() - exact).max()
    if trainable:  # learned values are cast, not re-derived
        assert 0 < error < 1e-6
    else:
        assert error == 0
    assert stft64.to(torch.float32).fourier.dtype == torch.float32


def test_kernel_registration_buffers_versus_parameters():
    frozen = STFT(n_fft=256, backend="conv")
    assert list(dict(frozen.named_parameters())) == [] and "fourier" in dict(frozen.named_buffers())
    assert frozen.state_dict() == {}  # derived kernels are rebuilt from the config, not saved
    trained = STFT(n_fft=256, trainable=True)
    assert list(dict(trained.named_parameters())) == ["fourier"]
    assert list(trained.state_dict()) == ["fourier"]


def test_state_dict_round_trip_trainable():
    a = STFT(n_fft=256, trainable=True, output_format="Magnitude")
    with torch.no_grad():
        a.fourier.mul_(1.5)
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    b = STFT(n_fft=256, trainable=True, output_format="Magnitude")
    b.load_state_dict(torch.load(io.BytesIO(buffer.getvalue())))
    x = torch.randn(4096)
    torch.testing.assert_close(a(x), b(x))
    frozen = STFT(n_fft=256)
    frozen.load_state_dict(STFT(n_fft=256).state_dict())  # works (and is empty)


def test_get_config_round_trips_through_a_spec():
    stft = STFT(n_fft=512, hop_length=100, window=("kaiser", 6.0), freq_scale="log", fmin=80, fmax=8000,
                freq_bins=200, output_format="Magnitude", sr=22050)
    config = stft.get_config()
    assert config["window"] == ["kaiser", 6.0]  # plain YAML types
    rebuilt = build_transform({"stft": config})[0]
    rebuilt2 = build_transform(stft.to_spec())[0]
    x = torch.from_numpy(chirp(0.5).astype(np.float32))
    torch.testing.assert_close(rebuilt(x), stft(x))
    torch.testing.assert_close(rebuilt2(x), stft(x))
    assert rebuilt.get_config() == config


def test_forward_mutates_no_attribute():
    for backend in ("conv", "fft"):
        stft = STFT(n_fft=256, backend=backend, output_format="Magnitude")
        before = {k: (v if not isinstance(v, dict) else dict(v)) for k, v in vars(stft).items()}
        buffers = {k: v.data_ptr() for k, v in stft.named_buffers()}
        stft(torch.randn(2, 4000))
        after = {k: (v if not isinstance(v, dict) else dict(v)) for k, v in vars(stft).items()}
        assert after.keys() == before.keys()
        assert all(after[k] is before[k] or after[k] == before[k] for k in before)
        assert buffers == {k: v.data_ptr() for k, v in stft.named_buffers()}


def test_backends_agree():
    x = torch.from_numpy(np.stack([chirp(0.5), chirp(0.5, f0=200)]).astype(np.float32))
    for n_fft, hop in [(256, 64), (1024, 441), (2048, 512)]:
        conv = STFT(n_fft=n_fft, hop_length=hop, backend="conv")(x)
        fft = STFT(n_fft=n_fft, hop_length=hop, backend="fft")(x)
        assert torch.linalg.vector_norm(conv - fft) / torch.linalg.vector_norm(fft) < 1e-5
    assert STFT().backend == "fft"
    assert STFT(trainable=True).backend == "conv"
    assert STFT(freq_scale="linear").backend == "conv"


def test_repr_shows_only_given_non_default_arguments():
    assert repr(STFT(n_fft=512, window="hann")) == "STFT(n_fft=512, backend in use='fft')"


def test_signature_is_introspectable():
    import inspect

    params = inspect.signature(STFT).parameters
    assert list(params)[:3] == ["n_fft", "win_length", "freq_bins"] and params["n_fft"].default == 2048


def test_construction_validates_before_building_kernels(monkeypatch):
    def fail(self):
        raise AssertionError("kernels built before validation")

    monkeypatch.setattr(STFT, "build_kernels", fail)
    with pytest.raises(ParameterError):
        STFT(n_fft=-1)
