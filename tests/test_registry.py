"""Plugin discovery through real entry-point metadata, and the registry's errors."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

import nnaudio_core
from nnaudio_core import (
    KernelTransform,
    PluginError,
    PluginWarning,
    SignalInfo,
    UnknownTransformError,
    available_transforms,
    build_transform,
    describe_transform,
    get_transform,
    hookimpl,
)
from nnaudio_core.registry import REGISTRY, Registry

DISTS = Path(__file__).parent / "plugin_dists"


@pytest.fixture
def with_dists(monkeypatch):
    """Put example plugin distributions on sys.path (so importlib.metadata sees their entry points)."""

    def add(*names: str) -> None:
        for name in names:
            monkeypatch.syspath_prepend(str(DISTS / name))
        REGISTRY.reset()

    yield add
    for module in [m for m in sys.modules if m.startswith("nnaudio_") and m.endswith("_plugin")]:
        del sys.modules[module]
    REGISTRY.reset()


def test_builtins_are_declared_as_ordinary_entry_points():
    eps = {ep.name: ep for ep in importlib.metadata.entry_points(group="nnaudio.transforms")}
    assert eps["stft"].value == "nnaudio_plugins.stft"
    assert eps["stft"].dist.metadata["Name"] == "nnaudio-core"
    entry = REGISTRY.entry("stft")
    assert (entry.plugin, entry.distribution, entry.version) == ("stft", "nnaudio-core", nnaudio_core.__version__)


def test_no_top_level_plugins_package():
    import nnaudio_plugins.stft

    assert nnaudio_plugins.stft.STFT is get_transform("stft")
    # Installed: site-packages/nnaudio_plugins; editable: the source folder plugins/ mapped to that name.
    assert Path(nnaudio_plugins.__file__).parent.name in ("nnaudio_plugins", "plugins")
    files = importlib.metadata.files("nnaudio-core") or []
    top_level = {f.parts[0] for f in files if len(f.parts) > 1}
    assert "plugins" not in top_level, "the distribution installs a top-level `plugins` package"
    if any(f.parts[0] == "nnaudio_plugins" for f in files):  # a regular (non-editable) install lists its files
        assert {"nnaudio_core", "nnaudio_plugins"} <= top_level


def test_third_party_plugin_is_discovered_through_entry_points(with_dists):
    with_dists("good")
    assert {"example_preemphasis", "example_power_stft", "stft"} <= set(available_transforms())
    info = describe_transform("example_pre")  # alias
    assert info.name == "example_preemphasis"
    assert (info.distribution, info.version, info.plugin) == ("nnaudio-example-plugin", "0.1", "example")
    assert [p.name for p in info.params] == ["coefficient", "trainable"]
    assert "pre-emphasis" in str(info)
    # The plugin's transforms work in pipelines like built-ins.
    steps = [{"example_preemphasis": {"coefficient": 0.5}}, {"example_power_stft": {"n_fft": 256}}]
    pipe = build_transform({"pipeline": steps})
    x = torch.randn(2, 4096)
    emphasised = x.clone()
    emphasised[:, 1:] -= 0.5 * x[:, :-1]
    expected = get_transform("stft")(n_fft=256, output_format="Power")(emphasised)
    torch.testing.assert_close(pipe(x), expected, rtol=1e-4, atol=1e-4)
    assert pipe.output_kind == "power"


def test_subclass_under_new_name_is_a_new_transform(with_dists):
    with_dists("good")
    power_stft = get_transform("example_power_stft")
    assert issubclass(power_stft, get_transform("stft")) and power_stft is not get_transform("stft")
    assert power_stft(n_fft=128).output_format == "Power"


def test_a_plugin_may_look_up_transforms_while_it_is_loaded_even_in_strict_mode(with_dists, monkeypatch):
    # "aaa_reentrant" looks up the example plugin's transform at import time, before the "example"
    # entry point (sorted after it) has been loaded; the example plugin looks up the built-in stft.
    for strict in ("0", "1"):
        monkeypatch.setenv("NNAUDIO_STRICT_PLUGINS", strict)
        with_dists("good", "reentrant")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            names = available_transforms()
        assert {"reentrant_strong_preemphasis", "example_power_stft", "stft", "mel"} <= set(names)
        assert issubclass(get_transform("reentrant_strong_preemphasis"), get_transform("example_preemphasis"))
        for module in [m for m in sys.modules if m in ("nnaudio_example_plugin", "nnaudio_reentrant_plugin")]:
            del sys.modules[module]


def test_hostile_plugins_never_take_the_builtins_down(with_dists):
    with_dists("hostile")
    with pytest.warns(PluginWarning) as caught:
        names = available_transforms()
    messages = "\n".join(str(w.message) for w in caught)
    assert "'a_exits'" in messages and "SystemExit: hostile plugin: exit at import" in messages
    assert "'b_interrupts'" in messages and "KeyboardInterrupt" in messages
    assert "'c_unprintable'" in messages and "could not be shown" in messages
    assert "'d_takes_cqt'" in messages and "'cqt' is registered twice" in messages
    assert "nnaudio-core" in messages and "nnaudio-hostile-plugin 0.5" in messages  # both distributions
    assert {"stft", "mel", "cqt2019"} <= set(names) and "hostile_taken" not in names
    assert get_transform("cqt") is get_transform("cqt2019")  # the built-in keeps its alias
    assert get_transform("stft")(n_fft=64)(torch.randn(256)).shape == (33, 17)


def test_hostile_plugins_are_an_error_in_strict_mode_and_the_builtins_still_work(with_dists, monkeypatch):
    monkeypatch.setenv("NNAUDIO_STRICT_PLUGINS", "1")
    with_dists("hostile")
    with pytest.raises(PluginError, match=r"'a_exits'.*'b_interrupts'.*'c_unprintable'.*'d_takes_cqt'"):
        available_transforms()
    assert "stft" in REGISTRY._entries and "cqt2019" in REGISTRY._entries


def test_registering_an_installed_plugin_again_is_a_no_op(with_dists, monkeypatch):
    """The documented test fixture works when the plugin is also installed (strict mode too)."""
    monkeypatch.setenv("NNAUDIO_STRICT_PLUGINS", "1")
    with_dists("good")
    import nnaudio_example_plugin

    available_transforms()  # loads it through its entry point
    assert REGISTRY.register_plugin(nnaudio_example_plugin, name="my_fixture") == [
        "example_preemphasis", "example_power_stft"]
    assert REGISTRY.entry("example_pre").plugin == "example"


class _Checked(KernelTransform):
    name = "test_checked"

    def validate_config(self, config):
        raise ValueError("the plugin's own check failed: 3 is odd")


class _ForgetsToReturn(KernelTransform):
    name = "test_forgets_to_return"

    def validate_config(self, config):
        config["x"] = 1  # returns None


class _ValidationPlugin:
    @staticmethod
    @hookimpl
    def nnaudio_register_transforms(register):
        register(_Checked)
        register(_ForgetsToReturn)


@pytest.fixture
def validation_plugin():
    REGISTRY.register_plugin(_ValidationPlugin, name="validation_test")
    yield
    REGISTRY.unregister_plugin("validation_test")


def test_a_plain_value_error_from_a_plugin_becomes_a_spec_error_with_the_path(validation_plugin):
    from nnaudio_core import SpecError

    with pytest.raises(SpecError) as info:
        build_transform({"pipeline": [{"stft": {"n_fft": 256}}, {"test_checked": {}}]})
    assert str(info.value) == "pipeline[1].test_checked: the plugin's own check failed: 3 is odd"
    assert isinstance(info.value, ValueError) and isinstance(info.value.__cause__, ValueError)


def test_validate_config_must_return_the_config(validation_plugin):
    with pytest.raises(TypeError, match=r"_ForgetsToReturn.validate_config returned NoneType; it must return"):
        get_transform("test_forgets_to_return")()


def test_broken_plugin_warns_and_the_others_still_load(with_dists):
    with_dists("broken", "good")
    with pytest.warns(PluginWarning) as caught:
        names = available_transforms()
    message = str(caught[0].message)
    assert "'broken'" in message and "nnaudio-broken-plugin 0.2" in message and "on purpose" in message
    assert {"stft", "example_preemphasis"} <= set(names)


def test_a_warning_raised_as_an_error_does_not_keep_the_other_plugins_out(with_dists):
    # pytest's filterwarnings=error (this project's own config) turns the warning into an exception;
    # every other plugin must still be registered by then ("broken" sorts before "stft").
    with_dists("broken", "good")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        with pytest.raises(PluginWarning, match="'broken'"):
            available_transforms()
    assert {"stft", "mel", "cqt2019", "example_preemphasis"} <= set(REGISTRY._entries)


def test_strict_mode_turns_the_warning_into_an_error(with_dists, monkeypatch):
    monkeypatch.setenv("NNAUDIO_STRICT_PLUGINS", "1")
    with_dists("broken")
    with pytest.raises(PluginError, match=r"'broken'.*nnaudio-broken-plugin.*on purpose"):
        available_transforms()


def test_misspelled_hook_is_an_error_not_silence(with_dists, monkeypatch):
    with_dists("misspelled")
    with pytest.warns(PluginWarning, match=r"'misspelled'.*nnaudio_register_transform'.*did you mean"):
        available_transforms()
    monkeypatch.setenv("NNAUDIO_STRICT_PLUGINS", "1")
    REGISTRY.reset()
    with pytest.raises(PluginError, match="not an nnaudio hook"):
        available_transforms()


def test_a_plugin_registering_a_taken_name_is_skipped_with_a_warning_naming_both(with_dists, monkeypatch):
    with_dists("duplicate")
    with pytest.warns(PluginWarning) as caught:
        names = available_transforms()
    message = str(caught[0].message)
    assert "'stft'" in message and "nnaudio-core" in message and "zz_duplicate" in message
    assert "nnaudio-duplicate-plugin" in message and "TransformConflictError" in message
    assert "stft" in names and get_transform("stft").__module__ == "nnaudio_plugins.stft"
    monkeypatch.setenv("NNAUDIO_STRICT_PLUGINS", "1")
    REGISTRY.reset()
    with pytest.raises(PluginError, match="registered twice"):
        available_transforms()


def test_unknown_name_has_did_you_mean_and_full_list():
    with pytest.raises(UnknownTransformError) as info:
        get_transform("sftf")
    assert "did you mean 'stft'" in str(info.value)
    assert all(name in str(info.value) for name in available_transforms())


class _Gain(KernelTransform):
    name = "test_gain"

    def compute(self, x, batch):
        return x

    def output_info(self, upstream=None):
        return upstream if upstream is not None else SignalInfo("waveform")


def test_registration_rules_on_a_private_registry():
    registry = Registry(group="nnaudio.no-such-group")

    class Plugin:
        @staticmethod
        @hookimpl
        def nnaudio_register_transforms(register):
            register(_Gain, aliases=("test_amp",))

    assert registry.register_plugin(Plugin, name="p1") == ["test_gain"]
    assert registry.entry("TEST_AMP").cls is _Gain  # aliases and case-insensitive lookup

    class Unnamed(_Gain):
        pass  # inherits name "test_gain"

    class Bad:
        @staticmethod
        @hookimpl
        def nnaudio_register_transforms(register):
            register(Unnamed)

    with pytest.raises(PluginError, match="needs its own"):
        registry.register_plugin(Bad, name="p2")
    assert not registry._manager.has_plugin("p2")  # all or nothing

    class NotATransform:
        @staticmethod
        @hookimpl
        def nnaudio_register_transforms(register):
            register(dict)

    with pytest.raises(PluginError, match="not a KernelTransform"):
        registry.register_plugin(NotATransform, name="p3")

    class Unmarked:
        @staticmethod
        def nnaudio_register_transforms(register):
            register(_Gain)

    with pytest.raises(PluginError, match="without the @nnaudio_core.hookimpl"):
        registry.register_plugin(Unmarked, name="p4")

    registry.unregister_plugin("p1")
    with pytest.raises(UnknownTransformError):
        registry.entry("test_gain")


def test_registry_is_lazy_and_quiet_for_the_builtins():
    code = (
        "import warnings, nnaudio_core.registry as r; warnings.simplefilter('error');"
        "assert not r.REGISTRY._loaded; import nnaudio_core; print(len(nnaudio_core.available_transforms()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) >= 1


def test_plugin_warning_names_the_distribution_even_without_strict(with_dists):
    with_dists("broken")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        available_transforms()
    assert any("nnaudio_broken_plugin" in str(w.message) for w in caught)
