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


# ------------------------------------------------------------------------------------------------
# contract v2: kernel lists, constants, output metadata, spectrogram steps, composites
# ------------------------------------------------------------------------------------------------
from nnaudio_core import ConvTransform, SignalInfo, SpecError, SpectrogramStep, constant, kinds  # noqa: E402
from nnaudio_core.transform import TRAINABLE_PARAM  # noqa: E402


class _TwoFilters(ConvTransform):
    """Two FIR filters from a list of kernels, one fixed gain."""

    name = "test_two_filters"
    params = (TRAINABLE_PARAM,)

    def build_kernels(self):
        taps = [np.array([[[1.0, -1.0 / 3.0]]]), np.array([[[0.5, 0.25, 1.0 / 7.0]]])]
        return {"filters": taps, "gain": constant(np.array(1.0 / 3.0))}

    def analyse(self, x):
        x = x.unsqueeze(1)
        return sum(torch.nn.functional.conv1d(x, k)[..., :4000 - 3] for k in self.filters).squeeze(1) * self.gain

    def output_info(self, upstream=None):
        self.check_upstream(upstream)
        return SignalInfo(kinds.WAVEFORM)


def test_kernel_lists_register_as_lists_and_rebuild_exactly():
    frozen = _TwoFilters()
    assert len(frozen.filters) == 2 and frozen.filters[1].shape == (1, 1, 3)
    assert dict(frozen.named_parameters()) == {} and frozen.state_dict() == {} and frozen.frozen
    trained = _TwoFilters(trainable=True)
    names = ["filters.0.value", "filters.1.value"]
    assert sorted(dict(trained.named_parameters())) == names == sorted(trained.state_dict())  # the constant stays fixed
    assert trained.trainable_kernels == tuple(names) and not trained.frozen
    # a state dict saved before kernels had a holder (keys filters.0, filters.1) still loads
    legacy = {"filters.0": trained.filters[0].detach() + 1, "filters.1": trained.filters[1].detach() + 2}
    again = _TwoFilters(trainable=True)
    again.load_state_dict(legacy)
    torch.testing.assert_close(again.filters[1], legacy["filters.1"])
    double = copy.deepcopy(frozen).double()
    assert double.filters[0].dtype == torch.float64 and float(double.filters[0][0, 0, 1]) == -1.0 / 3.0
    assert float(double.gain) == 1.0 / 3.0  # re-derived, not a widened float32
    x = torch.randn(4000)
    torch.testing.assert_close(double(x.double()).float(), frozen(x))


def test_output_info_describes_every_step_of_a_chain():
    chain = build_transform("mfcc_chain")
    infos, info = [], None
    for step in chain:
        info = step.output_info(info)
        infos.append(info)
    stft, mel, db, mfcc = infos
    assert (stft.kind, stft.rows, stft.hop_length, stft.sr) == (kinds.POWER, 1025, 512, 22050.0)
    assert mel.kind == kinds.POWER and mel.rows == 128 and 0 < mel.frequencies[0] < mel.frequencies[-1] < 11025
    assert db.kind == kinds.DECIBELS and db.rows == 128
    assert mfcc.kind == kinds.FEATURES and mfcc.frequencies is None and mfcc.axes == ("coefficient", "frames")
    assert chain.output_info().kind == kinds.FEATURES
    cqt = get_transform("cqt2019")(sr=22050, n_bins=24, fmin=110.0).output_info()
    np.testing.assert_allclose(cqt.frequencies[[0, 12]], [110.0, 220.0])


def test_a_row_mismatch_between_steps_is_a_spec_error_at_build_time():
    steps = [{"stft": {"n_fft": 1024, "output_format": "Power"}}, {"mel_scale": {"n_fft": 2048}}]
    with pytest.raises(SpecError, match=r"pipeline\[1\]\.mel_scale: mel_scale: the step before \(power\) has 513 "
                                        r"frequency rows.*built for 1025 rows; n_fft=2048"):
        build_transform({"pipeline": steps})


def test_spectrogram_step_is_public_and_checks_rows():
    class Halve(SpectrogramStep):
        name = "test_halve"
        input_kinds = frozenset({kinds.POWER})

        def expected_rows(self):
            return 5

        def compute(self, x, batch):
            return x / 2

        def output_info(self, upstream=None):
            return self.passthrough_info(upstream, kinds.POWER)

    step = Halve()
    assert step(torch.ones(3, 5, 7)).shape == (3, 5, 7) and step.example_input(2).shape == (2, 5, 16)
    with pytest.raises(ValueError, match=r"has 4 frequency rows \(dim -2\); this step was built for 5 rows"):
        step(torch.ones(4, 7))


def test_composites_delegate_backend_and_training_to_their_children():
    mel = get_transform("mel")(n_fft=256, hop_length=64, n_mels=24)
    assert mel.backend == "fft" and mel.stft.backend == "fft" and mel.frozen
    assert [type(c).name for c in mel.child_transforms()] == ["stft", "mel_scale"]
    trained = get_transform("mfcc")(n_fft=256, hop_length=64, n_mels=24, n_mfcc=8, trainable=True)
    assert trained.backend == "conv" and not trained.frozen
    assert sorted(n for n, _ in trained.named_parameters()) == [
        "dct.dct_basis", "mel.mel_scale.mel_basis", "mel.stft.fourier"]
