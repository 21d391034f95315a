"""Issue 10: bad parameters and inputs give ValueErrors that say why, never crashes, OOMs or NaNs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import yaml

from nnaudio_core import ParameterError, Spectrogram, build_transform, get_transform
from nnaudio_core.budget import MemoryBudgetError, current_budget, memory_budget, parse_size


# ------------------------------------------------------------------------------------------------
# construction: the memory budget and extreme numbers
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, named", [
    (lambda: get_transform("cqt1992")(sr=192000, fmin=0.5, n_bins=300, bins_per_octave=24, backend="conv"),
     "fmin=0.5"),
    (lambda: Spectrogram.CQT2010v2(fmin=1e-06, verbose=False), "fmin=1e-06"),
    (lambda: Spectrogram.STFT(n_fft=2**31, verbose=False), "n_fft=2147483648"),
    (lambda: get_transform("mel")(n_mels=10**30), "n_mels=1000000000000000000000000000000"),
    (lambda: get_transform("mel_scale")(n_mels=2**63), "n_mels=9223372036854775808"),
    (lambda: get_transform("dct")(n_bands=10**30), "n_bands=1000000000000000000000000000000"),
    (lambda: get_transform("cqt2019")(fmin=1e-6), "fmin=1e-06"),
])
def test_kernels_over_the_memory_budget_are_refused_before_allocating(make, named):
    with pytest.raises(MemoryBudgetError, match=rf"{named}.*would need .*more than the memory budget of 4\.0 GiB"):
        make()


def test_the_budget_is_settable_and_the_spec_error_carries_the_path(monkeypatch):
    assert current_budget() == 4 * 2**30 and parse_size("512MiB") == 2**29 and parse_size("none") is None
    with memory_budget("1MiB"), pytest.raises(MemoryBudgetError, match="budget of 1.0 MiB"):
        get_transform("stft")(n_fft=1024, backend="conv")
    monkeypatch.setenv("NNAUDIO_MEMORY_BUDGET", "200GiB")
    get_transform("cqt2019")(sr=44100, fmin=20.0, n_bins=24, bins_per_octave=24)  # fine either way
    assert current_budget() == 200 * 2**30
    monkeypatch.delenv("NNAUDIO_MEMORY_BUDGET")
    from nnaudio_core import SpecError

    spec = {"pipeline": [{"cqt1992": {"sr": 192000, "fmin": 0.5, "n_bins": 300, "bins_per_octave": 24,
                                      "backend": "conv"}}]}
    with pytest.raises(SpecError, match=r"^pipeline\[0\]\.cqt1992: .*would need"):
        build_transform(spec)
    with pytest.raises(SpecError, match="budget of 1.0 MiB"):
        build_transform({"stft": {"n_fft": 1024, "backend": "conv"}}, memory_budget="1MiB")


@pytest.mark.parametrize("name, kwargs, parameter", [
    ("cqt1992", {"n_bins": 2**31}, "n_bins"),
    ("cqt1992", {"sr": 1e308}, "sr"),
    ("cqt1992", {"bins_per_octave": 2**63}, "bins_per_octave"),
    ("cqt2019", {"fmin": 1e-300, "fmax": 11025.0, "bins_per_octave": 120}, "fmax"),
    ("stft", {"hop_length": 2**63}, "hop_length"),
    ("stft", {"window": ("dpss", 5.0), "n_fft": 8}, "window"),
    ("stft", {"window": ("gaussian", 0.0)}, "window"),
    ("stft", {"window": ("kaiser", math.nan)}, "window"),
    ("cqt2019", {"window": ("gaussian", 0.0)}, "window"),
    ("mel", {"sr": 1e-300}, "sr"),
    ("mel", {"power": 1e308}, "power"),
    ("mfcc", {"lifter": 1e308}, "lifter"),
])
def test_extreme_values_are_parameter_errors_naming_the_parameter(name, kwargs, parameter):
    with pytest.raises(ParameterError) as info:
        get_transform(name)(**kwargs)
    assert info.value.parameter == parameter


def test_the_nnaudio_facade_names_nnaudios_argument():
    with pytest.raises(ParameterError, match="trainable_CQT=0 is not allowed"):
        Spectrogram.CQT1992(trainable_CQT=0)


def test_get_config_is_plain_yaml_whatever_was_passed():
    stft = get_transform("stft")(n_fft=np.int64(256), hop_length=np.int32(64), window=("kaiser", np.float32(2.5)))
    mfcc = get_transform("mfcc")(n_fft=256, n_mels=24, ref=np.float32(2.0), top_db=np.float64(60.0))
    for layer in (stft, mfcc):
        text = yaml.safe_dump(layer.to_spec())  # would raise RepresenterError on numpy scalars
        rebuilt = build_transform(yaml.safe_load(text))[0]
        assert rebuilt.get_config() == layer.get_config()
    assert type(mfcc.get_config()["ref"]) is float and stft.get_config()["window"] == ["kaiser", 2.5]


# ------------------------------------------------------------------------------------------------
# forward: inputs, finiteness, gradients
# ------------------------------------------------------------------------------------------------
WAVEFORM_TRANSFORMS = {
    "stft": {"n_fft": 256}, "mel": {"n_fft": 256, "n_mels": 24}, "mfcc": {"n_fft": 256, "n_mels": 24},
    "cqt1992": {"fmin": 220.0, "n_bins": 24}, "cqt2019": {"fmin": 220.0, "n_bins": 24},
}


@pytest.mark.parametrize("name", sorted(WAVEFORM_TRANSFORMS))
def test_complex_input_to_a_waveform_transform_is_a_value_error(name):
    layer = get_transform(name)(**WAVEFORM_TRANSFORMS[name])
    with pytest.raises(ValueError, match=r"complex64 is complex, but .* takes waveform input"):
        layer(torch.randn(4096, dtype=torch.complex64))


@pytest.mark.parametrize("name", ["power_to_db", "amplitude_to_db", "dct", "mel_scale"])
def test_complex_input_to_a_real_spectrogram_step_is_a_value_error(name):
    step = get_transform(name)(**({"n_bands": 8, "n_coefficients": 4} if name == "dct" else {}))
    rows = step.expected_rows() or 8
    with pytest.raises(ValueError, match="is complex"):
        step(torch.ones(2, rows, 5, dtype=torch.complex64))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("kwargs", [{}, {"amin": 1e-300}, {"amin": 1e-300, "top_db": None}, {"top_db": 1e308},
                                    {"ref": 1e-300}, {"ref": "max"}])
def test_zeros_through_power_to_db_stay_finite_in_every_precision(dtype, kwargs):
    out = get_transform("power_to_db")(**kwargs)(torch.zeros(2, 8, 5, dtype=dtype))
    assert out.dtype == dtype and bool(torch.isfinite(out).all())


@pytest.mark.parametrize("power", [0.5, 1.0, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("backend", ["fft", "conv"])
def test_mel_gradients_are_finite_at_silence_for_every_power(power, backend):
    layer = get_transform("mel")(sr=8000, n_fft=256, hop_length=64, n_mels=16, power=power, backend=backend)
    x = torch.zeros(4000)
    x[2000:] = torch.randn(2000)
    x.requires_grad_(True)
    layer(x).sum().backward()
    assert bool(torch.isfinite(x.grad).all())
    ref = get_transform("stft")(n_fft=256, hop_length=64, output_format="Magnitude", backend=backend)(x.detach())
    expected = layer.mel_basis @ ref**power  # the same numbers as the magnitude raised to the power
    torch.testing.assert_close(layer(x.detach()), expected, rtol=1e-4, atol=1e-6)
