"""nnaudio_core.testing catches what it promises: each broken transform fails its property, by name."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnaudio_core import ConvTransform, Param, PluginError, SignalInfo, available_transforms, get_transform, hookimpl
from nnaudio_core.kinds import WAVEFORM
from nnaudio_core.registry import REGISTRY
from nnaudio_core.testing import (
    PROPERTIES,
    CheckOptions,
    check_module,
    check_stateless_forward,
    check_transform,
    plugin_registered,
)
from nnaudio_core.transform import TRAINABLE_PARAM, Batch

DISTS = Path(__file__).parent / "plugin_dists"
OPTIONS = CheckOptions(input_length=64)


class Smooth(ConvTransform):
    """A correct minimal transform: a trainable Hann-weighted moving average, same length out."""

    name = "suite_smooth"
    params = (Param("taps", 5, "kernel length", type="int", low=1), TRAINABLE_PARAM)

    def build_kernels(self):
        taps = self.config["taps"]
        window = np.hanning(taps + 2)[1:-1]
        return {"kernel": (window / window.sum())[None, None, :]}

    def setup(self):
        self.taps: int = self.config["taps"]  # compute (scripted) reads plain attributes, not the config

    def pad(self, x):
        return F.pad(x.unsqueeze(1), (self.taps // 2, (self.taps - 1) // 2))

    def analyse(self, x):
        return F.conv1d(x, self.kernel).squeeze(1)

    def output_info(self, upstream=None):
        self.check_upstream(upstream)
        return SignalInfo(WAVEFORM)



class BatchMax(Smooth):
    """(a) Normalises by the maximum of the whole batch: examples depend on each other."""

    name = "suite_batch_max"

    def post_process(self, y):
        return y / y.abs().max()


class CountsCalls(Smooth):
    """(b) Counts its calls in an attribute."""

    name = "suite_counts_calls"

    def setup(self):
        super().setup()
        self.calls = 0

    def compute(self, x: torch.Tensor, batch: Batch) -> torch.Tensor:
        self.calls += 1
        return self.post_process(self.analyse(self.pad(x)))  # (TorchScript has no super())


class MutatesBuffer(Smooth):
    """Changes a kernel in place in forward (its values stay the same, its version does not)."""

    name = "suite_mutates_buffer"

    def analyse(self, x):
        self.kernel.mul_(1.0)
        return super().analyse(x)


class Float32Copy(Smooth):
    """(c) Keeps a float32 copy of a kernel as a plain attribute: .double() leaves it float32."""

    name = "suite_float32_copy"

    def setup(self):
        super().setup()
        self.gain = torch.tensor(1.0 / 3.0)

    def post_process(self, y):
        return y * self.gain


class WidensOnDouble(Smooth):
    """(c) Overrides _apply and skips the exact rebuild: .double() widens the float32 kernel."""

    name = "suite_widens_on_double"

    def _apply(self, fn, recurse=True):
        return nn.Module._apply(self, fn, recurse)


class LosesConfig(Smooth):
    """(d) get_config forgets a parameter: the rebuilt transform has the default."""

    name = "suite_loses_config"

    def get_config(self):
        return {k: v for k, v in super().get_config().items() if k != "taps"}


class NoDimCheck(Smooth):
    """(e) Passes 4-D inputs on to conv1d, which raises RuntimeError."""

    name = "suite_no_dim_check"

    def forward(self, x):
        if x.dim() > 3:
            return F.conv1d(x, self.kernel)
        return super().forward(x)


class UnusedKernel(Smooth):
    """A trainable kernel the computation never uses: it gets no gradient."""

    name = "suite_unused_kernel"

    def build_kernels(self):
        return {**super().build_kernels(), "unused": np.ones(3)}


def test_a_correct_transform_passes_every_property():
    assert check_transform(Smooth, taps=4, options=OPTIONS) == tuple(PROPERTIES)
    assert check_module(Smooth(taps=7), options=OPTIONS) == tuple(PROPERTIES)


@pytest.mark.parametrize(
    ("cls", "prop", "detail"),
    [
        (BatchMax, "batch consistency", "max abs error"),
        (CountsCalls, "stateless forward", "CountsCalls.calls: 0 -> 1"),
        (MutatesBuffer, "stateless forward", "_buffers['kernel']"),
        (Float32Copy, "float64", "tensor attribute gain is still torch.float32 after .to(float64)"),
        (WidensOnDouble, "float64", "kernel 'kernel' after .to(float64) vs a float64 build: max abs error"),
        (LosesConfig, "config round trip", "taps: 4 -> 5"),
        (NoDimCheck, "input errors", "a 4-D input of shape (1, 1, 1, 64) (torch.float32) raised RuntimeError"),
        (UnusedKernel, "trainable gradients", "parameter 'unused' (3,) got no gradient"),
    ],
)
def test_a_broken_transform_fails_its_property_by_name(cls, prop, detail):
    with pytest.raises(AssertionError) as caught:
        check_transform(cls, taps=4, options=OPTIONS)
    message = str(caught.value)
    assert message.startswith(f"{prop}: "), message
    assert detail in message, message
    # the property's own function says the same
    with pytest.raises(AssertionError, match=f"^{prop}: "):
        PROPERTIES[prop](cls, {"taps": 4}, OPTIONS)


def test_skipping_the_failing_property_lets_the_rest_pass():
    checked = check_transform(CountsCalls, skip=("stateless forward",), taps=4, options=OPTIONS)
    assert "stateless forward" not in checked and len(checked) == len(PROPERTIES) - 1
    with pytest.raises(ValueError, match="unknown properties.*'statless forward'"):
        check_transform(Smooth, skip=("statless forward",))


def test_the_stateless_check_names_new_and_removed_attributes():
    class Adds(Smooth):
        name = "suite_adds"

        def compute(self, x, batch):
            self.last_input_shape = tuple(x.shape)
            return super().compute(x, batch)

    with pytest.raises(AssertionError, match=r"^stateless forward: forward assigned new attribute Adds.last_input_sh"):
        check_stateless_forward(Adds, {}, OPTIONS)


# ------------------------------------------------------------------------------------------------
# plugin_registered
# ------------------------------------------------------------------------------------------------
def _plugin(*classes):
    def nnaudio_register_transforms(register):
        for cls in classes:
            register(cls)

    return types.SimpleNamespace(nnaudio_register_transforms=hookimpl(nnaudio_register_transforms))


def test_plugin_registered_registers_for_the_block_only():
    plugin = _plugin(Smooth)
    with plugin_registered(plugin, "suite") as names:
        assert names == ["suite_smooth"]
        assert get_transform("suite_smooth") is Smooth
        # registering the same object again (under any name) is a no-op that unregisters nothing
        with plugin_registered(plugin, "suite_again") as again:
            assert again == ["suite_smooth"]
        assert "suite_smooth" in available_transforms()
    assert "suite_smooth" not in available_transforms()


def test_plugin_registered_leaves_an_entry_point_plugin_registered():
    import nnaudio_plugins.stft

    with plugin_registered(nnaudio_plugins.stft, "my_stft") as names:
        assert names == ["stft"]
    assert get_transform("stft") is nnaudio_plugins.stft.STFT


def test_plugin_registered_refuses_a_name_held_by_another_object():
    with pytest.raises(PluginError, match="'stft' is already registered"):
        with plugin_registered(_plugin(Smooth), "stft"):
            pass
    assert "suite_smooth" not in available_transforms()


@pytest.fixture
def example_dist(monkeypatch):
    """The example plugin distribution on sys.path (its entry point visible), in strict mode."""
    monkeypatch.setenv("NNAUDIO_STRICT_PLUGINS", "1")
    monkeypatch.syspath_prepend(str(DISTS / "good"))
    REGISTRY.reset()
    yield
    sys.modules.pop("nnaudio_example_plugin", None)
    REGISTRY.reset()


@pytest.mark.parametrize("name", ["example", "another_name"])
def test_plugin_registered_with_the_plugin_also_installed_through_its_entry_point(example_dist, name):
    import nnaudio_example_plugin

    with plugin_registered(nnaudio_example_plugin, name) as names:
        assert sorted(names) == ["example_power_stft", "example_preemphasis"]
        check_transform(get_transform("example_preemphasis"), coefficient=0.5, options=OPTIONS)
    assert REGISTRY.entry("example_preemphasis").plugin == "example"  # still there, from its entry point


def test_an_unregistered_transform_is_registered_for_the_config_check_only():
    check_transform(Smooth, taps=4, options=OPTIONS)
    assert "suite_smooth" not in available_transforms()


def test_a_fuzz_finding_does_not_keep_the_failed_case_alive():
    """The memory limit is relative to what is mapped: a retained failed case would ratchet it up."""
    import weakref

    from nnaudio_core.testing import _as_finding

    refs = []

    def failing_case(error: type[BaseException]) -> None:
        output = torch.zeros(1000)
        refs.append(weakref.ref(output))
        raise error("the case failed")

    for error in (RuntimeError, AssertionError):
        with pytest.raises(AssertionError, match="the case failed") as info:
            with _as_finding("a case"):
                failing_case(error)
        assert info.value is not None  # the finding itself is still held, as hypothesis holds it
        assert refs[-1]() is None, f"{error.__name__}: the failed case's tensors are still referenced"
