"""nnaudio-core: audio → spectrogram layers for PyTorch, as a small core plus plugins.

Public API
----------
build_transform(spec, device=None, dtype=None)
    A :class:`Pipeline` from a bundled spec name, a YAML file or a dict.
get_transform(name), available_transforms(), describe_transform(name)
    The registry of transforms, filled by entry-point plugins.
KernelTransform, ConvTransform, SpectrogramStep, hookimpl
    What a plugin subclasses and decorates (see ``docs/plugins.md``).
kinds, SignalInfo, Batch
    The kinds of data between steps, the output metadata, the batch grouping handed to ``compute``.
Spectrogram, features
    nnAudio 0.3's class names over the registered transforms (imported on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names below are imported on first use (see __getattr__)
    from . import kinds
    from .budget import memory_budget
    from .errors import ParameterError, PluginError, SpecError, UnknownTransformError
    from .hookspecs import hookimpl
    from .kinds import SignalInfo
    from .params import Param
    from .pipeline import Pipeline
    from .registry import PluginWarning, TransformInfo, available_transforms, describe_transform, get_transform
    from .spec import build_transform, bundled_specs
    from .transform import Batch, ConvTransform, KernelTransform, SpectrogramStep, constant

__version__ = "0.1.0"

__all__ = [
    "Batch",
    "ConvTransform",
    "KernelTransform",
    "Param",
    "ParameterError",
    "Pipeline",
    "PluginError",
    "PluginWarning",
    "SignalInfo",
    "SpecError",
    "SpectrogramStep",
    "TransformInfo",
    "UnknownTransformError",
    "available_transforms",
    "build_transform",
    "bundled_specs",
    "constant",
    "describe_transform",
    "get_transform",
    "hookimpl",
    "kinds",
    "memory_budget",
]

#: Where each public name lives. ``import nnaudio_core`` imports none of them, so it does not import
#: torch: the ``nnaudio`` command answers ``--help`` and ``--version`` without it. A name is imported
#: from its module on first use; ``Spectrogram`` and ``features`` (nnAudio-compatible modules) load
#: the plugins, and ``import nnaudio_core`` stays free of plugin imports.
_LAZY_NAMES = {
    # submodules (the ones this module used to import eagerly stay reachable as attributes)
    **dict.fromkeys(("kinds", "Spectrogram", "features", "budget", "errors", "hookspecs", "params", "pipeline",
                     "registry", "spec", "transform")),
    "memory_budget": "budget",
    **dict.fromkeys(("ParameterError", "PluginError", "SpecError", "UnknownTransformError"), "errors"),
    "hookimpl": "hookspecs",
    "SignalInfo": "kinds",
    "Param": "params",
    "Pipeline": "pipeline",
    **dict.fromkeys(("PluginWarning", "TransformInfo", "available_transforms", "describe_transform",
                     "get_transform"), "registry"),
    **dict.fromkeys(("build_transform", "bundled_specs"), "spec"),
    **dict.fromkeys(("Batch", "ConvTransform", "KernelTransform", "SpectrogramStep", "constant"), "transform"),
}


def __getattr__(name: str):
    if name not in _LAZY_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = _LAZY_NAMES[name]
    value = importlib.import_module(f".{name if module is None else module}", __name__)
    if module is not None:
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_NAMES})
