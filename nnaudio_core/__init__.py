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

_LAZY_SUBMODULES = ("Spectrogram", "features")


def __getattr__(name: str):
    # nnAudio-compatible modules load the plugins, so they are imported on first use only:
    # ``import nnaudio_core`` stays free of plugin imports.
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
