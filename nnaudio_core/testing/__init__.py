"""The conformance suite a transform (built-in or plugin) must pass: :func:`check_transform`.

A plugin author runs it in their own tests, with parameters small enough to be fast::

    from nnaudio_core.testing import check_transform, plugin_registered
    import my_plugin

    def test_my_transform_conforms():
        with plugin_registered(my_plugin, "my_plugin"):
            check_transform(my_plugin.MyTransform, n_fft=64)

Each property is one function ``check_<property>(factory, params, options)`` listed in
:data:`PROPERTIES` under its name; :func:`check_transform` runs them in order. A failure is an
``AssertionError`` whose message starts with the property's name (``"batch consistency: ..."``) and
says what differed: the largest absolute error and the tolerance, the shapes, or the attribute.

Properties
----------
batch consistency
    ``(time,)``, ``(batch, time)`` and ``(batch, channels, time)`` inputs (or the spectrogram core
    ``(freq, frames)``) give each example's own values, and the leading dims come back.
stateless forward
    ``forward`` assigns, removes or mutates no attribute of the transform or its submodules.
float64
    ``.to(torch.float64)`` rebuilds the kernels exactly as a build under float64; float64 input
    works and agrees with the float32 output to float32 precision.
config round trip
    ``build_transform({name: t.get_config()})`` gives the same config and the same output.
state_dict round trip
    A frozen ``state_dict`` loads into a fresh instance; with ``trainable=True`` perturbed
    parameters survive ``torch.save``/``torch.load`` into a fresh instance.
pickle and deepcopy
    Both give a transform with equal output.
input gradients
    ``torch.autograd.gradcheck`` in float64 (optional), and finite input gradients of a float32 loss.
trainable gradients
    With ``trainable=True`` every ``nn.Parameter`` gets a finite, not-all-zero gradient.
device
    ``.to("cpu")`` (and ``.to("cuda")`` when available) moves every tensor and keeps the output.
input errors
    Too many or too few dims, an integer dtype and an empty input raise ``ValueError``.
fuzz inputs
    A fixed handful of awkward inputs (bool, integer and complex dtypes; 0-size, 4-D and
    one-element inputs; zeros, huge and NaN values; strided and transposed views; half precision)
    give a ``ValueError`` with a message or a finite output of the documented shape.
torchscript, trace, torch.compile, torch.export, onnx, half precision, autocast, serialisation, distributed kernels
    The deployment properties, documented in :mod:`nnaudio_core.testing.deploy` and docs/deployment.md.

Beyond the properties, :func:`check_parameters`, :func:`fuzz_parameters` and :func:`check_spec`
fuzz construction and specs with hypothesis strategies (:func:`parameter_cases`,
:func:`spec_structures`); ``tests/test_fuzz.py`` and ``docs/fuzzing.md`` show how.

Examples
--------
>>> from nnaudio_core import get_transform
>>> fast = CheckOptions(compile_backend="aot_eager")
>>> check_transform(get_transform("dct"), n_bands=8, n_coefficients=4, options=fast)
('batch consistency', 'stateless forward', 'float64', ..., 'fuzz inputs', 'torchscript', ..., 'distributed kernels')
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import math
import pickle
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
import yaml
from torch import Tensor, nn

from ..errors import PluginError
from ..hookspecs import hookimpl
from ..kinds import COMPLEX, DECIBELS, WAVEFORM
from ..registry import REGISTRY, Registry, get_transform
from ..spec import build_transform
from ..transform import KernelTransform

__all__ = [
    "PROPERTIES",
    "CheckOptions",
    "FuzzCase",
    "FuzzTimeout",
    "check_parameters",
    "check_spec",
    "fuzz_input_cases",
    "fuzz_parameters",
    "limits",
    "parameter_cases",
    "spec_structures",
    "check_batch_consistency",
    "check_config_round_trip",
    "check_device",
    "check_float64",
    "check_input_errors",
    "check_fuzz_inputs",
    "check_input_gradients",
    "check_module",
    "check_pickle_and_deepcopy",
    "check_state_dict_round_trip",
    "check_stateless_forward",
    "check_trainable_gradients",
    "check_autocast",
    "check_distributed_kernels",
    "check_half_precision",
    "check_onnx",
    "check_serialisation",
    "check_torch_compile",
    "check_torch_export",
    "check_torchscript",
    "check_trace",
    "check_transform",
    "cast_like_input",
    "plugin_registered",
    "run_input_case",
]

Factory = Callable[..., KernelTransform]


@dataclasses.dataclass(frozen=True)
class CheckOptions:
    """How the properties exercise a transform.

    Parameters
    ----------
    input_length : int, optional
        Length of the last core dimension of the example inputs (samples for waveform transforms,
        frames for spectrogram steps); ``None``: :meth:`~nnaudio_core.KernelTransform.example_input`'s
        default.
    gradcheck : bool
        Run ``torch.autograd.gradcheck`` (needs a smooth transform: a ``top_db`` floor or
        ``ref="max"`` takes a maximum, which finite differences do not agree with at ties).
    gradcheck_numel : int
        Largest number of input elements for ``gradcheck`` (the input length is cut to fit).
    rtol : float
        Float32 agreement, relative to the output scale (its largest absolute value).
    batch, channels : int
        Leading dims of the batched example inputs (different, so a transposition shows).
    compile_backend : str
        ``torch.compile`` backend of the ``torch.compile`` property: ``"inductor"`` (the default,
        what users run) or ``"aot_eager"`` (the same graph capture and autograd tracing without
        code generation, much faster for large test matrices).
    """

    input_length: int | None = None
    gradcheck: bool = True
    gradcheck_numel: int = 512
    rtol: float = 1e-5
    batch: int = 3
    channels: int = 2
    compile_backend: str = "inductor"


PropertyCheck = Callable[[Factory, Mapping[str, Any], CheckOptions], None]

#: The properties, in the order :func:`check_transform` runs them: name → check function.
PROPERTIES: dict[str, PropertyCheck] = {}


def _property(name: str) -> Callable[[PropertyCheck], PropertyCheck]:
    def add(function: PropertyCheck) -> PropertyCheck:
        PROPERTIES[name] = function
        return function

    return add


def check_transform(
    transform_cls: Factory,
    *,
    skip: tuple[str, ...] | list[str] = (),
    options: CheckOptions | None = None,
    **params: Any,
) -> tuple[str, ...]:
    """Check that ``transform_cls(**params)`` has every property of :data:`PROPERTIES`.

    Parameters
    ----------
    transform_cls : type of KernelTransform
        The transform class (or any callable returning a transform from keyword parameters).
    skip : sequence of str
        Names of properties not to check (say why where you call it).
    options : CheckOptions, optional
        Input length, gradcheck switch and tolerances.
    **params
        The transform's parameters; keep the configuration tiny (``gradcheck`` evaluates it
        hundreds of times).

    Returns
    -------
    tuple of str
        The names of the properties checked.

    Raises
    ------
    AssertionError
        On the first property that fails; the message starts with its name.
    ValueError
        When ``skip`` names an unknown property.

    Examples
    --------
    >>> from nnaudio_core import get_transform
    >>> names = check_transform(get_transform("stft"), n_fft=16, hop_length=4, options=CheckOptions(input_length=64))
    >>> names[:3]
    ('batch consistency', 'stateless forward', 'float64')
    """
    unknown = sorted(set(skip) - set(PROPERTIES))
    if unknown:
        raise ValueError(f"skip names unknown properties {unknown}; properties: {', '.join(PROPERTIES)}")
    options = options or CheckOptions()
    checked = []
    for name, check in PROPERTIES.items():
        if name not in skip:
            check(transform_cls, params, options)
            checked.append(name)
    return tuple(checked)


def check_module(
    transform: KernelTransform, *, skip: tuple[str, ...] | list[str] = (), options: CheckOptions | None = None
) -> tuple[str, ...]:
    """:func:`check_transform` for a built transform: its class under its ``get_config()``.

    Trained weights are not looked at: every property builds fresh instances from the config (a
    pipeline step, ``build_transform(spec)[i]``, is checked as it was configured).

    Examples
    --------
    >>> from nnaudio_core import build_transform
    >>> steps = {"pipeline": [{"stft": {"n_fft": 16, "output_format": "Power"}}, {"power_to_db": {"top_db": None}}]}
    >>> step = build_transform(steps, device="cpu")[1]
    >>> "float64" in check_module(step, skip=("input gradients",))
    True
    """
    return check_transform(type(transform), skip=skip, options=options, **transform.get_config())


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def _example(transform: KernelTransform, *leading: int, options: CheckOptions, seed: int = 0,
             length: int | None = None) -> Tensor:
    length = length if length is not None else options.input_length
    if length is None:
        return transform.example_input(*leading, seed=seed)
    return transform.example_input(*leading, length=length, seed=seed)


def cast_like_input(x: Tensor, dtype: torch.dtype) -> Tensor:
    """``x`` in the floating ``dtype``; complex ``x`` in its complex counterpart.

    Complex inputs (to transforms that take ``COMPLEX`` spectrograms) become complex128 for
    float64 and complex64 otherwise: there is no complex bfloat16, and a half-precision transform
    takes complex64 input (it computes in float32 and returns its own dtype).

    Examples
    --------
    >>> cast_like_input(torch.ones(2, dtype=torch.complex64), torch.float64).dtype
    torch.complex128
    >>> cast_like_input(torch.ones(2, dtype=torch.complex128), torch.float16).dtype
    torch.complex64
    """
    if x.is_complex():
        return x.to(torch.complex128 if dtype == torch.float64 else torch.complex64)
    return x.to(dtype)


def _scale(tensor: Tensor) -> float:
    value = float(tensor.detach().abs().max()) if tensor.numel() else 0.0
    return value if value > 0 else 1.0


def _assert_close(prop: str, what: str, actual: Tensor, expected: Tensor, rtol: float) -> None:
    """Fail ``prop`` unless ``actual`` matches ``expected`` within ``rtol`` times the expected scale."""
    if tuple(actual.shape) != tuple(expected.shape):
        raise AssertionError(f"{prop}: {what}: shape {tuple(actual.shape)} differs from {tuple(expected.shape)}")
    if actual.is_complex() != expected.is_complex():
        raise AssertionError(f"{prop}: {what}: dtype {actual.dtype} differs from {expected.dtype}")
    actual = actual.detach().cpu()
    expected = expected.detach().cpu().to(actual.dtype)
    for name, tensor in (("result", actual), ("reference", expected)):
        if not bool(torch.isfinite(tensor).all()):
            raise AssertionError(f"{prop}: {what}: the {name} has non-finite values (shape {tuple(tensor.shape)})")
    tol = rtol * _scale(expected)
    error = float((actual - expected).abs().max()) if actual.numel() else 0.0
    if error > tol:
        raise AssertionError(
            f"{prop}: {what}: max abs error {error:.3g} > tolerance {tol:.3g} (rtol {rtol:g} of the reference "
            f"scale {_scale(expected):.3g}), shape {tuple(actual.shape)}"
        )


def _real_loss(out: Tensor, seed: int = 1) -> Tensor:
    """A random weighted sum of the (real view of the) output: no cancellation by symmetry."""
    real = torch.view_as_real(out) if out.is_complex() else out
    generator = torch.Generator().manual_seed(seed)
    weights = torch.rand(real.shape, generator=generator, dtype=real.dtype).to(real.device) + 0.5
    return (real * weights).sum()


def _declares(factory: Factory, name: str) -> bool:
    return any(p.name == name for p in getattr(factory, "params", ()))


def _trainable_params(factory: Factory, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """``params`` with ``trainable=True`` (the fast path swapped for ``auto``), or ``None`` if not declared."""
    if not _declares(factory, "trainable"):
        return None
    trainable = {**params, "trainable": True}
    if trainable.get("backend", "auto") not in ("auto", "conv"):
        trainable["backend"] = "auto"  # a fast path takes fixed kernels only (composites pass it on)
    return trainable


@contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _named_tensors(module: nn.Module) -> dict[str, Tensor]:
    """Every parameter and buffer (persistent or not) by qualified name."""
    tensors = dict(module.named_buffers())
    tensors.update(module.named_parameters())
    return tensors


# ------------------------------------------------------------------------------------------------
# 1. batch consistency
# ------------------------------------------------------------------------------------------------
@_property("batch consistency")
def check_batch_consistency(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """Batched inputs give each example's own values, and the leading dims are restored.

    ``t(x2)[b] == t(x2[b])`` for ``x2`` of shape ``(batch, *core)``; ``t(x3)[b] == t(x3[b:b + 1])[0]``
    for ``(batch, channels, *core)`` (an example is a batch item with all its channels); the output
    core of an unbatched input equals that of a batched one.
    """
    prop = "batch consistency"
    transform = factory(**params)
    b, c = options.batch, options.channels
    single = transform(_example(transform, options=options))
    x2 = _example(transform, b, options=options, seed=1)
    x3 = _example(transform, b, c, options=options, seed=2)
    y2, y3 = transform(x2), transform(x3)
    core = tuple(single.shape)
    for x, y, leading in ((x2, y2, (b,)), (x3, y3, (b, c))):
        if tuple(y.shape) != leading + core:
            raise AssertionError(
                f"{prop}: input {tuple(x.shape)} gave output {tuple(y.shape)}; expected the leading dims {leading} "
                f"followed by the output core {core} of the unbatched input {tuple(x.shape[len(leading):])}"
            )
    for i in range(b):
        _assert_close(prop, f"example {i} of a {tuple(x2.shape)} batch vs alone", y2[i], transform(x2[i]),
                      options.rtol)
        _assert_close(prop, f"example {i} of a {tuple(x3.shape)} batch vs a batch of one", y3[i],
                      transform(x3[i : i + 1])[0], options.rtol)


# ------------------------------------------------------------------------------------------------
# 2. stateless forward
# ------------------------------------------------------------------------------------------------
_MODULE_DICTS = ("_parameters", "_buffers", "_modules")


def _fingerprint(value: Any, seen: set[int] | None = None) -> Any:
    """A comparable snapshot of ``value``: by value for plain data, by identity and version for tensors."""
    seen = set() if seen is None else seen
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return (type(value).__name__, repr(value))
    if isinstance(value, Tensor):
        ptr = value.data_ptr() if value.layout == torch.strided else 0
        return ("tensor", id(value), ptr, value._version, tuple(value.shape), str(value.dtype), str(value.device))
    if isinstance(value, np.ndarray):
        digest = hashlib.blake2b(np.ascontiguousarray(value).tobytes(), digest_size=16).hexdigest()
        return ("ndarray", str(value.dtype), value.shape, digest)
    if isinstance(value, (nn.Module, type, torch.dtype, torch.device)) or callable(value):
        return ("ref", type(value).__qualname__, id(value))
    if id(value) in seen:
        return ("cycle", id(value))
    seen = seen | {id(value)}
    if isinstance(value, Mapping):
        items = tuple((_fingerprint(k, seen), _fingerprint(v, seen)) for k, v in value.items())
        return (type(value).__qualname__, items)
    if isinstance(value, (list, tuple)):
        return (type(value).__qualname__, tuple(_fingerprint(v, seen) for v in value))
    if isinstance(value, (set, frozenset)):
        return (type(value).__qualname__, tuple(sorted(repr(_fingerprint(v, seen)) for v in value)))
    if hasattr(value, "__dict__") or hasattr(value, "__slots__"):
        slots = [s for cls in type(value).__mro__ for s in getattr(cls, "__slots__", ())]
        fields = dict(getattr(value, "__dict__", {}))
        fields.update({s: getattr(value, s) for s in slots if hasattr(value, s)})
        return ("object", type(value).__qualname__, id(value), _fingerprint(fields, seen))
    return ("repr", type(value).__qualname__, repr(copy.deepcopy(value)))


def _snapshot(module: nn.Module) -> dict[tuple[str, str], tuple[Any, str]]:
    """Every attribute of every submodule: ``(module path, attribute) → (fingerprint, short repr)``."""
    state = {}
    for path, sub in module.named_modules(remove_duplicate=False):
        for key, value in vars(sub).items():
            if key in _MODULE_DICTS:
                for name, item in value.items():
                    state[(path, f"{key}[{name!r}]")] = (_fingerprint(item), _short(item))
            else:
                state[(path, key)] = (_fingerprint(value), _short(value))
    return state


def _short(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"tensor{tuple(value.shape)} {value.dtype} (version {value._version})"
    if isinstance(value, nn.Module):
        return type(value).__name__
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@_property("stateless forward")
def check_stateless_forward(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """``forward`` assigns, removes and mutates no attribute of any submodule.

    Plain attributes are compared by value (deep), tensors by identity, storage and version (an
    in-place change shows), and the parameter, buffer and submodule dicts entry by entry.
    """
    prop = "stateless forward"
    transform = factory(**params)
    x = _example(transform, options.batch, options=options)
    before = _snapshot(transform)
    transform(x)
    after = _snapshot(transform)
    problems = []
    for key in sorted(before.keys() | after.keys()):
        where = f"{type(transform).__name__}{'.' + key[0] if key[0] else ''}.{key[1]}"
        if key not in before:
            problems.append(f"assigned new attribute {where} = {after[key][1]}")
        elif key not in after:
            problems.append(f"removed attribute {where} (was {before[key][1]})")
        elif before[key][0] != after[key][0]:
            problems.append(f"changed attribute {where}: {before[key][1]} -> {after[key][1]}")
    if problems:
        raise AssertionError(f"{prop}: forward {'; '.join(problems)} (forward must not change the module)")


# ------------------------------------------------------------------------------------------------
# 3. float64
# ------------------------------------------------------------------------------------------------
@_property("float64")
def check_float64(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """``.to(torch.float64)`` gives exactly the kernels of a float64 build, and the float32 output.

    Frozen kernels must agree to 1e-12 relative (they are rebuilt from their float64 definition,
    not widened from float32); trainable parameters are widened exactly (trained values cannot be
    rebuilt). Tensor attributes must follow the dtype. Float64 input must work, give a float64
    (complex128) output equal to the float64 build's and agree with the float32 output to float32
    precision.
    """
    prop = "float64"
    single = factory(**params)
    converted = copy.deepcopy(single).to(torch.float64)
    with _default_dtype(torch.float64):
        native = factory(**params)
    ours, theirs = _named_tensors(converted), _named_tensors(native)
    if ours.keys() != theirs.keys():
        raise AssertionError(f"{prop}: .to(float64) has tensors {sorted(ours)}, a float64 build {sorted(theirs)}")
    for name, tensor in ours.items():
        reference = theirs[name]
        if tensor.dtype != reference.dtype:
            raise AssertionError(
                f"{prop}: kernel {name!r} is {tensor.dtype} after .to(float64), {reference.dtype} in a float64 build"
            )
        if tensor.shape != reference.shape:
            raise AssertionError(f"{prop}: kernel {name!r} has shape {tuple(tensor.shape)} after .to(float64), "
                                 f"{tuple(reference.shape)} in a float64 build")
        if isinstance(tensor, nn.Parameter):
            # trained values: widened exactly (never rebuilt), so they agree with a float64 build to float32
            widened = dict(single.named_parameters())[name].detach().to(torch.float64)
            if not torch.equal(tensor.detach(), widened):
                raise AssertionError(f"{prop}: parameter {name!r} is not its float32 value widened after .to(float64)")
            _assert_close(prop, f"parameter {name!r} after .to(float64) vs a float64 build", tensor, reference,
                          options.rtol)
        elif tensor.is_floating_point() or tensor.is_complex():
            _assert_close(prop, f"kernel {name!r} after .to(float64) vs a float64 build", tensor, reference, 1e-12)
        elif not torch.equal(tensor, reference):
            raise AssertionError(f"{prop}: kernel {name!r} ({tensor.dtype}) differs after .to(float64)")
    for path, sub in converted.named_modules():
        for key, value in vars(sub).items():
            if isinstance(value, Tensor) and value.is_floating_point() and value.dtype != torch.float64:
                raise AssertionError(
                    f"{prop}: tensor attribute {path + '.' if path else ''}{key} is still {value.dtype} after "
                    ".to(float64): a plain attribute is not converted; return it from build_kernels (a kernel, or "
                    "constant(...)) so it is rebuilt in the new dtype"
                )
    x64 = cast_like_input(_example(native, options.batch, options=options), torch.float64)
    try:
        y64 = converted(x64)
    except Exception as exc:
        raise AssertionError(f"{prop}: float64 input failed: {type(exc).__name__}: {exc}") from exc
    expected_dtype = torch.complex128 if y64.is_complex() else torch.float64
    if y64.dtype != expected_dtype:
        raise AssertionError(f"{prop}: float64 input gave a {y64.dtype} output; expected {expected_dtype}")
    exact = 1e-10 if converted.frozen else options.rtol  # trained parameters carry their float32 rounding
    _assert_close(prop, "output of .to(float64) vs a float64 build", y64, native(x64), exact)
    _assert_close(prop, "float32 output vs float64 output", single(cast_like_input(x64, torch.float32)), y64, options.rtol)


# ------------------------------------------------------------------------------------------------
# 4. config round trip
# ------------------------------------------------------------------------------------------------
class _OneTransformPlugin:
    """A plugin object registering one class (to build an unregistered transform through a spec)."""

    def __init__(self, cls: type) -> None:
        self.registers = cls

    @hookimpl
    def nnaudio_register_transforms(self, register: Callable[..., None]) -> None:
        register(self.registers)


@contextmanager
def _spec_buildable(cls: type[KernelTransform]) -> Iterator[None]:
    """Make ``cls.name`` build ``cls`` in specs: as registered, or registered for the block."""
    names = REGISTRY.names()
    if cls.name in names:
        registered = REGISTRY.entry(cls.name).cls
        if registered is not cls:
            raise AssertionError(
                f"config round trip: the name {cls.name!r} of {cls.__qualname__} is registered for "
                f"{registered.__module__}.{registered.__qualname__}; a subclass needs its own name to be built "
                "from its config"
            )
        yield
        return
    with plugin_registered(_OneTransformPlugin(cls), f"nnaudio_core.testing:{cls.__module__}.{cls.__qualname__}"):
        yield


def _build_one(name: str, config: dict[str, Any], cls: type[KernelTransform]) -> KernelTransform:
    """``build_transform({name: config})``; a step that takes no waveform by its registered name.

    Contract gap: a spec starts from a waveform, so a spectrogram step cannot be a spec's first
    step; those are built with ``get_transform(name)(**config)``.
    """
    if WAVEFORM in cls.input_kinds:
        return build_transform({name: config}, device="cpu", dtype="float32")[0]
    return get_transform(name)(**config)


@_property("config round trip")
def check_config_round_trip(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """``build_transform({name: t.get_config()})`` gives a transform with the same config and output.

    The config must be plain YAML data (it survives ``yaml.safe_dump``/``safe_load`` unchanged). An
    unregistered class is registered for the check.
    """
    prop = "config round trip"
    transform = factory(**params)
    config = transform.get_config()
    try:
        reloaded = yaml.safe_load(yaml.safe_dump(config))
    except yaml.YAMLError as exc:
        raise AssertionError(f"{prop}: get_config() is not plain YAML data: {exc}") from exc
    if reloaded != config:
        changed = sorted(k for k in config if reloaded.get(k) != config[k])
        raise AssertionError(f"{prop}: get_config() values {changed} change through YAML (not plain data)")
    cls = type(transform)
    with _spec_buildable(cls):
        try:
            rebuilt = _build_one(transform.name, reloaded, cls)
        except Exception as exc:
            raise AssertionError(
                f"{prop}: building {transform.name!r} from get_config() failed: {type(exc).__name__}: {exc}"
            ) from exc
    if type(rebuilt) is not cls:
        raise AssertionError(f"{prop}: the spec built {type(rebuilt).__qualname__}, not {cls.__qualname__}")
    for label, ours, theirs in (("config", transform.config, rebuilt.config), ("get_config()", config,
                                                                             rebuilt.get_config())):
        differ = sorted(k for k in set(ours) | set(theirs) if k not in ours or k not in theirs or ours[k] != theirs[k])
        if differ:
            shown = ", ".join(f"{k}: {ours.get(k, '<missing>')!r} -> {theirs.get(k, '<missing>')!r}" for k in differ)
            raise AssertionError(f"{prop}: the rebuilt transform's {label} differs: {shown}")
    x = _example(transform, options.batch, options=options)
    _assert_close(prop, "output of the rebuilt transform", rebuilt(x), transform(x), options.rtol)


# ------------------------------------------------------------------------------------------------
# 5. state_dict round trip
# ------------------------------------------------------------------------------------------------
def _load_into_fresh(prop: str, factory: Factory, params: Mapping[str, Any], state: Mapping[str, Tensor],
                     what: str) -> KernelTransform:
    fresh = factory(**params)
    try:
        fresh.load_state_dict(state)
    except Exception as exc:
        raise AssertionError(f"{prop}: the {what} state_dict does not load into a fresh instance: "
                             f"{type(exc).__name__}: {exc}") from exc
    return fresh


@_property("state_dict round trip")
def check_state_dict_round_trip(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """A state_dict loads into a fresh instance and gives the same output, frozen and trainable.

    With ``trainable=True`` (when declared) the parameters are perturbed, saved with ``torch.save``
    and loaded into a fresh trainable instance.
    """
    prop = "state_dict round trip"
    transform = factory(**params)
    x = _example(transform, options.batch, options=options)
    fresh = _load_into_fresh(prop, factory, params, transform.state_dict(), "frozen")
    _assert_close(prop, "output after loading the state_dict", fresh(x), transform(x), options.rtol)
    trainable = _trainable_params(factory, params)
    if trainable is None:
        return
    trained = factory(**trainable)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for parameter in trained.parameters():
            noise = torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype)
            parameter.add_(noise * 0.01 * _scale(parameter))
    buffer = io.BytesIO()
    torch.save(trained.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    missing = sorted(name for name, _ in trained.named_parameters() if name not in state)
    if missing:
        raise AssertionError(f"{prop}: trainable parameters {missing} are not in the state_dict")
    loaded = _load_into_fresh(prop, factory, trainable, state, "trainable (perturbed)")
    _assert_close(prop, "output of perturbed trainable kernels after torch.save/torch.load", loaded(x), trained(x),
                  options.rtol)


# ------------------------------------------------------------------------------------------------
# 6. pickle and deepcopy
# ------------------------------------------------------------------------------------------------
@_property("pickle and deepcopy")
def check_pickle_and_deepcopy(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """``pickle`` and ``copy.deepcopy`` give a transform with the same output."""
    prop = "pickle and deepcopy"
    transform = factory(**params)
    x = _example(transform, options.batch, options=options)
    expected = transform(x)
    copies = {"pickle": lambda: pickle.loads(pickle.dumps(transform)), "deepcopy": lambda: copy.deepcopy(transform)}
    for how, make in copies.items():
        try:
            clone = make()
        except Exception as exc:
            raise AssertionError(f"{prop}: {how} failed: {type(exc).__name__}: {exc}") from exc
        _assert_close(prop, f"output after {how}", clone(x), expected, options.rtol)


# ------------------------------------------------------------------------------------------------
# 7. input gradients
# ------------------------------------------------------------------------------------------------
@_property("input gradients")
def check_input_gradients(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """Finite input gradients of a float32 loss, and (``options.gradcheck``) ``gradcheck`` in float64.

    The gradcheck input is cut to ``options.gradcheck_numel`` elements; the configuration itself
    must be tiny (``gradcheck`` runs the transform twice per input element in its slow mode; the
    fast mode used here a few times).
    """
    prop = "input gradients"
    transform = factory(**params)
    x = _example(transform, options.batch, options=options).requires_grad_(True)
    _real_loss(transform(x)).backward()
    if x.grad is None:
        raise AssertionError(f"{prop}: the input got no gradient (the output is detached from it)")
    if not bool(torch.isfinite(x.grad).all()):
        bad = int((~torch.isfinite(x.grad)).sum())
        raise AssertionError(f"{prop}: {bad} of {x.grad.numel()} input gradients are not finite")
    if not options.gradcheck:
        return
    with _default_dtype(torch.float64):
        double = factory(**params)
    probe = _example(double, options=options)
    per_step = max(1, probe.numel() // probe.shape[-1])
    length = max(1, min(probe.shape[-1], options.gradcheck_numel // per_step))
    small = cast_like_input(_example(double, options=options, length=length), torch.float64).requires_grad_(True)
    try:
        torch.autograd.gradcheck(double, (small,), fast_mode=True, eps=1e-6, atol=1e-5, rtol=1e-3)
    except Exception as exc:
        raise AssertionError(f"{prop}: gradcheck failed on a float64 input of shape {tuple(small.shape)}: "
                             f"{type(exc).__name__}: {exc}") from exc


# ------------------------------------------------------------------------------------------------
# 8. trainable gradients
# ------------------------------------------------------------------------------------------------
@_property("trainable gradients")
def check_trainable_gradients(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """With ``trainable=True`` (when declared) every parameter gets a finite, not-all-zero gradient."""
    prop = "trainable gradients"
    trainable = _trainable_params(factory, params)
    if trainable is None:
        return
    transform = factory(**trainable)
    _real_loss(transform(_example(transform, options.batch, options=options))).backward()
    for name, parameter in transform.named_parameters():
        if parameter.grad is None:
            raise AssertionError(f"{prop}: parameter {name!r} {tuple(parameter.shape)} got no gradient")
        if not bool(torch.isfinite(parameter.grad).all()):
            raise AssertionError(f"{prop}: parameter {name!r} has non-finite gradients")
        if not bool(parameter.grad.any()):
            raise AssertionError(f"{prop}: parameter {name!r} {tuple(parameter.shape)} has an all-zero gradient")


# ------------------------------------------------------------------------------------------------
# 9. device
# ------------------------------------------------------------------------------------------------
def _devices() -> list[torch.device]:
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    return devices


@_property("device")
def check_device(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """``.to(device)`` moves every tensor (kernels and tensor attributes) and keeps the output.

    CPU always; CUDA when available.
    """
    prop = "device"
    transform = factory(**params)
    x = _example(transform, options.batch, options=options)
    expected = transform(x)
    for device in _devices():
        moved = copy.deepcopy(transform).to(device)
        for path, sub in moved.named_modules():
            tensors = dict(sub.named_parameters(recurse=False)) | dict(sub.named_buffers(recurse=False))
            tensors |= {k: v for k, v in vars(sub).items() if isinstance(v, Tensor)}
            for name, tensor in tensors.items():
                if tensor.device.type != device.type:
                    raise AssertionError(f"{prop}: after .to({str(device)!r}) {path + '.' if path else ''}{name} "
                                         f"is on {tensor.device}")
        _assert_close(prop, f"output on {device}", moved(x.to(device)), expected, options.rtol)


# ------------------------------------------------------------------------------------------------
# 10. input errors
# ------------------------------------------------------------------------------------------------
@_property("input errors")
def check_input_errors(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """Inputs with too many or too few dims, an integer dtype or no elements raise ``ValueError``."""
    prop = "input errors"
    transform = factory(**params)
    x = _example(transform, options=options)
    core = transform.core_dims
    real = x.real if x.is_complex() else x
    cases = {
        f"a {core + 3}-D input": x.reshape((1, 1, 1) + tuple(x.shape)),
        "an int16 input": (real * 100).to(torch.int16),
        "an int64 input": (real * 100).to(torch.int64),
        "an empty input": x[..., :0],
        "an empty batch": x.reshape((1,) + tuple(x.shape))[:0],
    }
    if core > 1:
        cases[f"a {core - 1}-D input"] = x.reshape(-1)
    for what, bad in cases.items():
        try:
            transform(bad)
        except ValueError:
            continue
        except Exception as exc:
            raise AssertionError(
                f"{prop}: {what} of shape {tuple(bad.shape)} ({bad.dtype}) raised {type(exc).__name__} instead of "
                f"ValueError: {exc}"
            ) from exc
        raise AssertionError(f"{prop}: {what} of shape {tuple(bad.shape)} ({bad.dtype}) raised no ValueError")


# ------------------------------------------------------------------------------------------------
# plugin fixture
# ------------------------------------------------------------------------------------------------
@contextmanager
def plugin_registered(plugin: Any, name: str, *, registry: Registry | None = None) -> Iterator[list[str]]:
    """Register ``plugin`` for the duration of a ``with`` block, unless it already is.

    The entry-point plugins are loaded first (so a plugin that is also installed is found under its
    entry point, also with ``NNAUDIO_STRICT_PLUGINS=1``); the plugin is registered only if it is not
    registered yet, and only what this call registered is unregistered on exit.

    Parameters
    ----------
    plugin : module or object
        Implements ``nnaudio_register_transforms`` with :data:`nnaudio_core.hookimpl`.
    name : str
        Plugin name to register it under (its entry-point name, by convention).
    registry : Registry, optional
        Default: the shared registry behind :func:`nnaudio_core.get_transform`.

    Yields
    ------
    list of str
        The canonical names of the plugin's transforms.

    Raises
    ------
    nnaudio_core.PluginError
        If another object is registered under ``name``, or the plugin is invalid.

    Examples
    --------
    >>> import types
    >>> from nnaudio_core import available_transforms, get_transform, hookimpl
    >>> class Gain(get_transform("dct")):
    ...     name = "doc_gain"
    >>> plugin = types.SimpleNamespace(nnaudio_register_transforms=hookimpl(lambda register: register(Gain)))
    >>> with plugin_registered(plugin, "doc_plugin") as names:
    ...     names, "doc_gain" in available_transforms()
    (['doc_gain'], True)
    >>> "doc_gain" in available_transforms()
    False
    """
    registry = REGISTRY if registry is None else registry
    registry.names()  # loads the entry points first (and any whose module was importing when reached)
    existing = registry.plugin_name(plugin)
    if existing is not None:
        yield [e.name for e in registry.entries() if e.plugin == existing]
        return
    holder = registry.plugin(name)
    if holder is not None:
        raise PluginError(f"plugin name {name!r} is already registered for {holder!r}, another object than {plugin!r}")
    added = registry.register_plugin(plugin, name=name)
    try:
        yield added
    finally:
        registry.unregister_plugin(name)


# ------------------------------------------------------------------------------------------------
# 11. fuzz inputs
# ------------------------------------------------------------------------------------------------
#: Largest magnitude of "ordinary" input values whose output must be finite (float32 squares stay finite).
FINITE_SCALE = 1e4
#: A huge finite input value: the output may overflow to ``inf`` (its true value is beyond float32) but never NaN.
HUGE_VALUE = 1e30


def _expected_core(transform: KernelTransform, x: Tensor) -> tuple[int | None, int | None]:
    """Documented ``(rows, frames)`` of ``transform(x)``; ``None`` where the contract does not fix it.

    Rows: ``output_info().rows`` (a spectrogram step with no row count keeps its input's rows).
    Frames: ``transform.frame_count(time)`` when the transform says, else for a centred waveform
    transform ``1 + time // hop_length`` (docs/cqt.md); a spectrogram step keeps its input's frames.
    """
    info = transform.output_info()
    if transform.core_dims == 2:
        rows = info.rows
        if rows is None and info.kind == DECIBELS:  # a decibel step keeps its input's rows
            rows = int(x.shape[-2])
        return rows, int(x.shape[-1])
    frames = transform.frame_count(int(x.shape[-1]))
    hop = info.hop_length
    if frames is None and transform.config.get("center", False) is True and hop:
        frames = 1 + int(x.shape[-1]) // int(hop)
    return info.rows, frames


def _shape_problem(transform: KernelTransform, x: Tensor, out: Tensor) -> str | None:
    """Why ``out`` does not have the documented shape for ``x`` (``None`` when it does)."""
    if not isinstance(out, Tensor):
        return f"the output is a {type(out).__name__}, not a tensor"
    leading = tuple(x.shape[: x.dim() - transform.core_dims])
    if tuple(out.shape[: len(leading)]) != leading:
        return f"output {tuple(out.shape)} does not start with the input's leading dims {leading}"
    core = tuple(out.shape[len(leading):])
    if len(core) < 1:
        return f"output {tuple(out.shape)} has no core dims"
    rows, frames = _expected_core(transform, x)
    if len(core) >= 2:
        if rows is not None and core[0] != rows:
            return f"output {tuple(out.shape)} has {core[0]} rows; output_info() documents {rows}"
        if frames is not None and core[1] != frames:
            return (f"output {tuple(out.shape)} has {core[1]} frames for an input of {x.shape[-1]}; the documented "
                    f"count is {frames}")
    return None


def _nonfinite(out: Tensor) -> tuple[int, int]:
    """``(NaN count, inf count)`` of a real or complex tensor."""
    real = torch.view_as_real(out) if out.is_complex() else out
    real = real.detach()
    if not real.is_floating_point():
        return 0, 0
    return int(torch.isnan(real).sum()), int(torch.isinf(real).sum())


def fuzz_input_cases(transform: KernelTransform, options: CheckOptions) -> list[tuple[str, Tensor, str]]:
    """The fixed input cases of :func:`check_fuzz_inputs`: ``(what, input, expectation)``.

    ``expectation`` is ``"error"`` (a ``ValueError``), ``"finite"`` (a ``ValueError`` or a finite
    output of the documented shape), ``"no-nan"`` (inf allowed) or ``"any"`` (any values of that
    shape); see :func:`run_input_case`.
    """
    x = _example(transform, 2, options=options, seed=5)
    dtype = x.dtype
    length = int(x.shape[-1])
    long = _example(transform, 2, options=options, seed=6, length=2 * length)
    x3 = _example(transform, 3, 2, options=options, seed=7)
    nan = x.clone()
    nan.view(-1)[nan.numel() // 2] = float("nan")
    one = x[..., :1].contiguous()
    real = x.real.contiguous() if x.is_complex() else x
    if x.is_complex():  # a transform of complex spectrograms: a real input is refused unless a real kind is taken
        takes_real = bool(set(transform.input_kinds) - {COMPLEX})
        dtype_cases = [("a real input", real, "finite" if takes_real else "error")]
    else:
        dtype_cases = [("a complex64 input", x.to(torch.complex64), "error"),
                       ("a complex128 input", x.to(torch.complex128), "error")]
    cases = [
        ("a bool input", real > 0, "error"),
        ("an int32 input", (real * 100).to(torch.int32), "error"),
        *dtype_cases,
        ("a 0-size batch of 2-D input", x[:0], "error"),
        ("a 0-length core", x[..., :0], "error"),
        (f"a {transform.core_dims + 3}-D input", x.reshape((1, 1) + tuple(x.shape)), "error"),
        ("a core of one element along the last dim", one, "finite"),
        ("all zeros", torch.zeros_like(x), "finite"),
        (f"values of magnitude {FINITE_SCALE:g}", x * FINITE_SCALE, "finite"),
        (f"values of magnitude {HUGE_VALUE:g}", x * HUGE_VALUE, "no-nan"),
        ("an input with one NaN", nan, "any"),
        ("a strided (every other sample) view", long[..., ::2], "finite"),
        ("a transposed (batch, channels) view", x3.transpose(0, 1), "finite"),
    ]
    if transform.core_dims == 2:
        cases.append(("a (freq, frames) view transposed from (frames, freq)",
                      x.transpose(-1, -2).contiguous().transpose(-1, -2), "finite"))
    for other in (torch.float16, torch.bfloat16, torch.float64):
        if x.is_complex():  # the complex counterpart of float64 (no complex bfloat16; complex32 is experimental)
            if other == torch.float64 and dtype != torch.complex128:
                cases.append((f"a complex128 input to a {str(dtype).replace('torch.', '')} transform",
                              x.to(torch.complex128), "finite"))
        elif other != dtype:
            cases.append((f"a {str(other).replace('torch.', '')} input to a {str(dtype).replace('torch.', '')} "
                          "transform", cast_like_input(x, other), "finite"))
    del length
    return cases


def run_input_case(prop: str, transform: KernelTransform, what: str, x: Tensor, expect: str,
              reference: Callable[[Tensor], Tensor] | None = None, rtol: float = 1e-5) -> None:
    """Apply ``transform`` to ``x`` and fail ``prop`` unless the outcome matches ``expect``.

    ``expect`` is one of the expectations of :func:`fuzz_input_cases`; ``reference`` (e.g. the
    transform itself for a strided view) is applied to ``x.contiguous()`` and must agree within ``rtol``.

    Raises
    ------
    AssertionError
        Starting with ``prop``, saying what the input was and what went wrong.
    """
    described = f"{what} of shape {tuple(x.shape)} ({x.dtype})"
    try:
        out = transform(x)
    except ValueError as exc:
        if not str(exc):
            raise AssertionError(f"{prop}: {described} raised a ValueError with an empty message") from exc
        return
    except Exception as exc:
        raise AssertionError(f"{prop}: {described} raised {type(exc).__name__} instead of ValueError or an output: "
                             f"{exc}") from exc
    if expect == "error":
        raise AssertionError(f"{prop}: {described} raised no ValueError (gave {tuple(out.shape)} {out.dtype})")
    problem = _shape_problem(transform, x, out)
    if problem:
        raise AssertionError(f"{prop}: {described}: {problem}")
    nans, infs = _nonfinite(out)
    if expect == "finite" and (nans or infs):
        raise AssertionError(f"{prop}: {described} gave {nans} NaN and {infs} inf of {out.numel()} output values")
    if expect == "no-nan" and nans:
        raise AssertionError(f"{prop}: {described} gave {nans} NaN of {out.numel()} output values (inf from "
                             "overflow is allowed, NaN is not)")
    if reference is not None:
        _assert_close(prop, f"{what} vs the same values contiguous", out, reference(x.contiguous()), rtol)


@_property("fuzz inputs")
def check_fuzz_inputs(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """Awkward inputs give a ``ValueError`` with a message or a finite output of the documented shape.

    A fixed handful of cases (deterministic): bool, integer and complex dtypes, 0-size and 4-D+
    inputs are ``ValueError``; a one-element core, zeros, values of magnitude
    :data:`FINITE_SCALE`, strided and transposed views (equal to their contiguous copies) give a
    ``ValueError`` or a finite output whose leading dims, rows (``output_info().rows``) and frames
    (``1 + time // hop_length`` when centred; kept by spectrogram steps) are as documented; values
    of :data:`HUGE_VALUE` may overflow to ``inf`` but give no NaN; an input with a NaN may give any
    output of that shape. Other float dtypes than the kernels' are ``ValueError`` (or a correct
    output); after ``.to(float16)`` / ``.to(bfloat16)`` zeros give a finite output (or a
    ``ValueError``). Input gradients at all-zero input are finite (no ``sqrt``/``log`` at 0
    without a floor). No other exception is allowed anywhere.
    """
    prop = "fuzz inputs"
    transform = factory(**params)
    for what, x, expect in fuzz_input_cases(transform, options):
        reference = transform if "view" in what else None
        run_input_case(prop, transform, what, x, expect, reference, options.rtol)
    zeros = torch.zeros_like(_example(transform, 2, options=options)).requires_grad_(True)
    try:
        out = transform(zeros)
    except ValueError:
        out = None
    if out is not None and out.requires_grad:
        _real_loss(out).backward()
        if zeros.grad is not None and not bool(torch.isfinite(zeros.grad).all()):
            bad = int((~torch.isfinite(zeros.grad)).sum())
            raise AssertionError(f"{prop}: {bad} of {zeros.numel()} input gradients at an all-zero input are not "
                                 "finite")
    for half in (torch.float16, torch.bfloat16):
        try:
            converted = copy.deepcopy(transform).to(half)
        except ValueError:
            continue
        except Exception as exc:
            raise AssertionError(
                f"{prop}: .to({half}) raised {type(exc).__name__} instead of ValueError: {exc}"
            ) from exc
        x = cast_like_input(torch.zeros_like(_example(transform, 2, options=options)), half)
        run_input_case(prop, converted, f"zeros after .to({str(half).replace('torch.', '')})", x, "finite")


# ------------------------------------------------------------------------------------------------
# parameter and spec fuzzing (hypothesis strategies; hypothesis is imported only when used)
# ------------------------------------------------------------------------------------------------
#: Upper bounds of the "moderate" draws of size-like integer parameters (kernels stay small while the
#: construction memory budget is not enforced by the transforms themselves).
MODERATE_INT: dict[str, int] = {
    "n_fft": 1024, "win_length": 1024, "freq_bins": 513, "hop_length": 512, "n_mels": 64, "n_mfcc": 40,
    "n_bins": 48, "bins_per_octave": 24, "n_bands": 64, "n_coefficients": 64,
    # iteration counts: each iteration is the same computation, so a few exercise them; the cost is linear
    "n_iter": 8, "icqt_iter": 2,
}
#: ``(low, high)`` of the moderate draws of float parameters, by name (others: the declared range, capped).
MODERATE_FLOAT: dict[str, tuple[float, float]] = {
    "sr": (2000.0, 48000.0), "fmin": (20.0, 2000.0), "fmax": (500.0, 24000.0), "filter_scale": (0.25, 2.0),
    "amin": (1e-12, 1.0), "top_db": (1.0, 200.0), "power": (0.25, 3.0), "lifter": (0.0, 50.0),
}
#: Values of any type for ``type="any"`` and window parameters (valid or not: the declaration decides).
ANY_VALUES: tuple[Any, ...] = (
    None, 0, 1, 2, 1.0, 0.5, -1, float("inf"), float("nan"), "max", "slaney", "bogus", "", [1], {}, True,
)
WINDOW_VALUES: tuple[Any, ...] = (
    "hann", "hamming", "blackman", "boxcar", ["kaiser", 8.0], ["tukey", 0.5], ["gaussian", 0.0],
    ["gaussian", 3.0], ["kaiser", float("nan")], ["dpss", 1e6], ["general_gaussian", 1.5, 7.0], "bogus", 3, [],
    ["hann"], None,
)
#: Numbers of extreme size: declared-valid where the range allows, but beyond any budget or precision.
EXTREME_INTS: tuple[Any, ...] = (2**31, 2**32 + 1, 2**63, 2**64, 10**30, np.int64(2**62), np.int32(2**31 - 1))
EXTREME_FLOATS: tuple[Any, ...] = (1e308, 1.7976931348623157e308, 1e-300, 5e-324, 1e-30, np.float32(3e38),
                                   np.float64(1e200), 1e30)


def _hypothesis() -> Any:
    try:
        import hypothesis.strategies as st
    except ImportError as exc:  # pragma: no cover - hypothesis is a test dependency
        raise ImportError("parameter and spec fuzzing need hypothesis: pip install hypothesis") from exc
    return st


@dataclasses.dataclass(frozen=True)
class FuzzCase:
    """One generated construction: ``params`` and, when one value was made invalid, its name.

    Parameters
    ----------
    params : dict
        Keyword parameters for the transform class.
    invalid : str, optional
        The parameter given a value its declaration refuses (``ValueError``/``TypeError`` naming it
        is required); ``None`` when every value is declared-valid or of unknown validity.
    extreme : str, optional
        The parameter given an extreme (declared-valid) number: a ``ValueError`` naming it, or a
        transform that builds within the memory budget and runs.
    """

    params: dict[str, Any]
    invalid: str | None = None
    extreme: str | None = None


def moderate_value(param: Any) -> Any:
    """A hypothesis strategy of declared-valid, moderate values of ``param`` (a :class:`~nnaudio_core.Param`)."""
    st = _hypothesis()
    if param.choices is not None and param.type in ("str", "int"):
        values = list(param.choices)
        if param.type == "str":
            values += [c.upper() for c in param.choices if isinstance(c, str)]
        strategy = st.sampled_from(values)
    elif param.type == "bool":
        strategy = st.sampled_from([True, False])  # np.bool_: a known finding (issue 10), see tests/test_fuzz.py
    elif param.type == "int":
        low = int(param.low if param.low is not None else 0) + (1 if param.low_open else 0)
        high = MODERATE_INT.get(param.name, 64)
        if param.high is not None:
            high = min(high, int(param.high) - (1 if param.high_open else 0))
        strategy = st.integers(low, max(low, high)) | st.integers(low, max(low, high)).map(np.int64)
    elif param.type == "float":
        low, high = MODERATE_FLOAT.get(param.name, (param.low if param.low is not None else 0.0, 1e4))
        if param.low is not None:
            low = max(low, param.low)
        if param.high is not None:
            high = min(high, param.high)
        strategy = st.floats(low, max(low, high), exclude_min=param.low_open and low == param.low,
                             allow_nan=False, allow_infinity=False)
        strategy = strategy | strategy.map(np.float32).filter(lambda v: float(v) >= low and float(v) > 0 or
                                                                    not param.low_open)
    elif param.type == "window":
        strategy = st.sampled_from(WINDOW_VALUES[:6])
    else:
        strategy = st.just(param.default) | st.sampled_from(ANY_VALUES).filter(lambda v: _valid(param, v))
    if param.optional:
        strategy = strategy | st.none()
    return strategy


def _valid(param: Any, value: Any) -> bool:
    try:
        param.validate(value)
    except (ValueError, TypeError):
        return False
    return True


def invalid_value(param: Any) -> Any:
    """A hypothesis strategy of values ``param``'s declaration refuses (wrong type, out of range, not a choice)."""
    st = _hypothesis()
    wrong_types: list[Any] = [[1], {"a": 1}, b"x", object()]
    if param.type != "str":
        wrong_types += ["3", "nan"]
    if param.type not in ("int", "float", "any"):
        wrong_types += [1.5]
    if param.type == "bool":
        wrong_types += [0, 1, "yes", 2.0]
    if param.type == "int":
        wrong_types += [2.5, float("nan"), float("inf"), True, np.float64(3.0)]
    if param.type == "float":
        wrong_types += [float("nan"), float("inf"), -float("inf"), True, complex(1, 1)]
    if not param.optional:
        wrong_types.append(None)
    strategies = [st.sampled_from(wrong_types)]
    if param.type in ("int", "float") and param.low is not None:
        below = float(param.low) if param.low_open else float(param.low) - (1 if param.type == "int" else 1e-9)
        if param.type == "int":
            strategies.append(st.integers(max_value=int(math.floor(below))) | st.just(-(2**63)))
        else:
            strategies.append(st.floats(max_value=below, allow_nan=False, allow_infinity=False) | st.just(-1e308))
    if param.type in ("int", "float") and param.high is not None:
        above = float(param.high) if param.high_open else float(param.high) + 1
        strategies.append(st.integers(min_value=int(math.ceil(above))) if param.type == "int" else
                          st.floats(min_value=above, allow_nan=False, allow_infinity=False))
    if param.type == "str" and param.choices is not None:
        strategies.append(st.text(max_size=8).filter(lambda s: s.lower() not in {c.lower() for c in param.choices}))
    if param.type == "int" and param.choices is not None:
        strategies.append(st.integers(-5, 10).filter(lambda v: v not in param.choices))
    return st.one_of(strategies)


def extreme_value(param: Any) -> Any:
    """A hypothesis strategy of extreme numbers inside ``param``'s declared range (``None`` if it has none)."""
    st = _hypothesis()
    if param.type == "int" and param.choices is None:
        pool = [v for v in EXTREME_INTS if (param.high is None or v <= param.high)]
    elif param.type == "float":
        pool = [v for v in EXTREME_FLOATS if (param.low is None or v > param.low or (v == param.low and
                                                                                   not param.low_open))
                and (param.high is None or v <= param.high)]
    else:
        return None
    return st.sampled_from(pool) if pool else None


def parameter_cases(transform_cls: Any, *, mode: str = "mixed") -> Any:
    """A hypothesis strategy of :class:`FuzzCase` for ``transform_cls``'s declared parameters.

    Parameters
    ----------
    transform_cls : type of KernelTransform
        Its ``params`` are read.
    mode : {"valid", "invalid", "extreme", "mixed"}
        ``"valid"``: a random subset of the parameters, each a moderate declared-valid value;
        ``"invalid"``: such a base with one parameter given a refused value; ``"extreme"``: one
        parameter given an extreme number inside its range; ``"mixed"``: any of the three.
    """
    st = _hypothesis()
    declared = list(transform_cls.params)

    @st.composite
    def base(draw: Any) -> dict[str, Any]:
        chosen = draw(st.lists(st.sampled_from(declared), unique_by=lambda p: p.name, max_size=len(declared)))
        return {p.name: draw(moderate_value(p)) for p in chosen}

    @st.composite
    def corrupted(draw: Any, how: str) -> FuzzCase:
        params = draw(base())
        candidates = declared if how == "invalid" else [p for p in declared if extreme_value(p) is not None]
        if not candidates:
            return FuzzCase(params)
        param = draw(st.sampled_from(candidates))
        if how == "invalid":
            params[param.name] = draw(invalid_value(param))
            return FuzzCase(params, invalid=param.name)
        params[param.name] = draw(extreme_value(param))
        return FuzzCase(params, extreme=param.name)

    strategies = {
        "valid": base().map(FuzzCase),
        "invalid": corrupted("invalid"),
        "extreme": corrupted("extreme"),
    }
    if mode == "mixed":
        return st.one_of(strategies.values())
    if mode not in strategies:
        raise ValueError(f"mode={mode!r} is not allowed; expected one of 'valid', 'invalid', 'extreme', 'mixed'")
    return strategies[mode]


class FuzzTimeout(Exception):
    """A fuzzed construction or forward ran longer than its time limit."""


@contextmanager
def limits(*, seconds: float | None = 20.0, memory: int | None = 4 * 2**30) -> Iterator[None]:
    """Bound the wall time (SIGALRM, main thread only) and the new address space of a block.

    ``memory`` bytes are allowed on top of what the process has mapped when the block starts
    (``RLIMIT_AS``, Linux); an allocation beyond it fails (``MemoryError`` or torch's
    ``RuntimeError``) instead of driving the machine out of memory. The limits are restored on exit.
    """
    import signal
    import threading

    restore_alarm = None
    if seconds is not None and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        def on_alarm(signum: int, frame: Any) -> None:
            raise FuzzTimeout(f"took longer than {seconds:g} s")

        restore_alarm = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    restore_rlimit = None
    if memory is not None:
        try:
            import resource

            with open("/proc/self/statm") as statm:
                mapped = int(statm.read().split()[0]) * resource.getpagesize()
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            wanted = mapped + memory
            if hard == resource.RLIM_INFINITY or wanted < hard:
                resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
                restore_rlimit = (soft, hard)
        except (ImportError, OSError, ValueError):  # not Linux: no memory bound
            restore_rlimit = None
    try:
        yield
    finally:
        if restore_rlimit is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, restore_rlimit)
        if restore_alarm is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, restore_alarm)


def _names(exc: BaseException, name: str) -> bool:
    return getattr(exc, "parameter", None) == name or name in str(exc)


def check_parameters(transform_cls: Any, case: FuzzCase | Mapping[str, Any], *, input_length: int = 2048,
                     seconds: float | None = 20.0, memory: int | None = 4 * 2**30) -> KernelTransform | None:
    """Build ``transform_cls(**case.params)`` and check the outcome; return the transform or ``None``.

    A case with an ``invalid`` parameter must raise ``ValueError``/``TypeError`` naming it. Any
    other case raises a ``ValueError``/``TypeError`` naming one of its parameters (cross-parameter
    checks, the memory budget), or builds a transform whose ``get_config()`` is plain YAML data
    and which maps a small random input (``ValueError`` allowed, e.g. too short) to a finite output
    of the documented shape, with finite input gradients at an all-zero input. No other exception,
    nothing slower than ``seconds`` and no allocation beyond ``memory`` bytes (see :func:`limits`).

    Raises
    ------
    AssertionError
        Naming the transform, the parameters and what went wrong.
    """
    if not isinstance(case, FuzzCase):
        case = FuzzCase(dict(case))
    shown = ", ".join(f"{k}={v!r}" for k, v in case.params.items())
    label = f"{getattr(transform_cls, 'name', transform_cls)}({shown})"
    with _as_finding(f"fuzz parameters: {label}"), limits(seconds=seconds, memory=memory):
        return _check_parameters(transform_cls, case, label, input_length)


def _release_frames(exc: BaseException | None) -> None:
    """Drop the local variables of the finished frames in ``exc``'s traceback chain (tracebacks still print).

    A finding keeps its exception alive (hypothesis holds every failure while it shrinks), and with
    it every frame's locals: the inputs, outputs and autograd graphs of the failed case. The memory
    limit is relative to what is mapped when a case starts, so those retained tensors would ratchet
    the bound up case after case (a shrinking griffin_lim_cqt run reached 24 GB that way).
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__


@contextmanager
def _as_finding(what: str) -> Iterator[None]:
    """Turn any exception but an AssertionError or a KeyboardInterrupt into a finding about ``what``."""
    try:
        yield
    except KeyboardInterrupt:
        raise
    except AssertionError as exc:
        _release_frames(exc)
        raise
    except BaseException as exc:
        _release_frames(exc)
        raise AssertionError(f"{what} raised {type(exc).__name__}: {str(exc)[:300]}") from exc


def _check_parameters(cls: Any, case: FuzzCase, label: str, input_length: int) -> KernelTransform | None:
    prop = "fuzz parameters"
    try:
        transform = cls(**case.params)
    except (ValueError, TypeError) as exc:
        if case.invalid is not None:
            if not _names(exc, case.invalid):
                raise AssertionError(f"{prop}: {label}: the error does not name {case.invalid!r}: "
                                     f"{type(exc).__name__}: {str(exc)[:300]}") from exc
        elif not any(_names(exc, name) for name in [p.name for p in cls.params]):
            raise AssertionError(f"{prop}: {label}: the error names no parameter: {type(exc).__name__}: "
                                 f"{str(exc)[:300]}") from exc
        return None
    if case.invalid is not None:
        raise AssertionError(f"{prop}: {label}: {case.invalid}={case.params[case.invalid]!r} is refused by its "
                             "declaration but the transform was built")
    try:
        yaml.safe_dump(transform.get_config())
    except yaml.YAMLError as exc:
        raise AssertionError(f"{prop}: {label}: get_config() is not plain YAML data: {str(exc)[:200]}") from exc
    length = input_length if transform.core_dims == 1 else 8
    x = transform.example_input(2, length=length, seed=0)
    try:
        out = transform(x)
    except ValueError as exc:
        if not str(exc):
            raise AssertionError(f"{prop}: {label}: a {tuple(x.shape)} input raised an empty ValueError") from exc
        return transform
    problem = _shape_problem(transform, x, out)
    if problem:
        raise AssertionError(f"{prop}: {label}: a {tuple(x.shape)} input: {problem}")
    nans, infs = _nonfinite(out)
    if nans or infs:
        raise AssertionError(f"{prop}: {label}: a random {tuple(x.shape)} input gave {nans} NaN and {infs} inf of "
                             f"{out.numel()} output values")
    zeros = torch.zeros_like(x).requires_grad_(True)
    out = transform(zeros)
    if out.requires_grad:
        _real_loss(out).backward()
        if zeros.grad is not None and not bool(torch.isfinite(zeros.grad).all()):
            bad = int((~torch.isfinite(zeros.grad)).sum())
            raise AssertionError(f"{prop}: {label}: {bad} of {zeros.numel()} input gradients at an all-zero input "
                                 "are not finite")
    return transform


def fuzz_parameters(transform_cls: Any, *, examples: int = 50, mode: str = "mixed", seed: int | None = 0,
                    **check: Any) -> int:
    """Run :func:`check_parameters` on ``examples`` generated cases of ``transform_cls`` (hypothesis).

    Parameters
    ----------
    transform_cls : type of KernelTransform
        The transform class; its declared ``params`` drive the generation.
    examples : int
        Hypothesis ``max_examples``.
    mode : str
        See :func:`parameter_cases`.
    seed : int, optional
        ``0`` (default): derandomized, the same cases every run; ``None``: random (hypothesis
        prints the ``@reproduce_failure`` blob of a failure).
    **check
        Passed to :func:`check_parameters` (``input_length``, ``seconds``, ``memory``).

    Returns
    -------
    int
        The number of cases run.

    Raises
    ------
    AssertionError
        On the (shrunk) first failing case.
    """
    st = _hypothesis()
    from hypothesis import HealthCheck, given, settings

    count = [0]

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is not None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(st.data())
    def run(data: Any) -> None:
        count[0] += 1
        check_parameters(transform_cls, data.draw(parameter_cases(transform_cls, mode=mode)), **check)

    run()
    return count[0]


def spec_values() -> Any:
    """A hypothesis strategy of arbitrary YAML-like values (scalars, nested lists and dicts)."""
    st = _hypothesis()
    scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
               | st.sampled_from(list(EXTREME_INTS[:5]) + list(EXTREME_FLOATS) + list(ANY_VALUES[:13])))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(max_size=6) | st.integers(), inner, max_size=3), max_leaves=8)


def spec_structures(names: Sequence[str] | None = None) -> Any:
    """A hypothesis strategy of spec dicts for :func:`~nnaudio_core.build_transform`, mostly malformed.

    Pipelines of registered (and unknown) names with declared (and unknown) parameters, moderate
    valid values, refused values and arbitrary structures, plus random ``dtype``/``device``/
    ``check_input`` entries and unknown top-level keys.
    """
    st = _hypothesis()
    names = list(REGISTRY.names()) if names is None else list(names)
    value = spec_values()

    def params_of(name: str) -> Any:
        try:
            declared = list(REGISTRY.entry(name).cls.params)
        except Exception:
            declared = []
        if not declared:
            return st.dictionaries(st.text(max_size=6), value, max_size=3)

        @st.composite
        def draw_params(draw: Any) -> Any:
            chosen = draw(st.lists(st.sampled_from(declared), unique_by=lambda p: p.name, max_size=4))
            params: dict[Any, Any] = {}
            for p in chosen:
                kind = draw(st.sampled_from(["valid", "valid", "invalid", "any"]))
                strategy = {"valid": moderate_value(p), "invalid": invalid_value(p), "any": value}[kind]
                params[p.name] = draw(strategy)
            if draw(st.booleans()) and draw(st.booleans()):
                params[draw(st.text(min_size=1, max_size=8))] = draw(value)
            return params

        return draw_params() | st.none() | value

    step = st.sampled_from(names + ["nope", "stft.STFT", "os:system"]).flatmap(
        lambda name: st.fixed_dictionaries({name: params_of(name)})) | value
    spec = st.fixed_dictionaries(
        {"pipeline": st.lists(step, max_size=3) | value},
        optional={
            "dtype": st.sampled_from(["float32", "float64", "float16", "bfloat16", "int32", "complex64", "nope"])
            | value,
            "device": st.sampled_from(["cpu", "auto", "cuda:7", "gpu"]) | value,
            "check_input": st.booleans() | value,
            "name": st.text(max_size=8),
            "extra": value,
        },
    )
    return spec | st.dictionaries(st.text(max_size=8), value, max_size=3)


def check_spec(spec: Any, *, seconds: float | None = 20.0, memory: int | None = 4 * 2**30) -> Any:
    """``build_transform(spec)`` raises a ``ValueError``/``TypeError`` starting with a spec path, or builds.

    The path's first component must be a key of the spec (``pipeline[1].stft.n_fft: ...``). A
    built pipeline must map a short waveform to a finite output (a ``ValueError`` is allowed).

    Raises
    ------
    AssertionError
        On any other exception, an error without a spec path, a time or memory overrun.
    """
    prop = "fuzz specs"
    shown = repr(spec)
    shown = shown if len(shown) <= 300 else shown[:297] + "..."
    with _as_finding(f"{prop}: {shown}"), limits(seconds=seconds, memory=memory):
        try:
            pipeline = build_transform(spec, device="cpu")
        except (ValueError, TypeError) as exc:
            message = str(exc)
            # a key is shown as written, or as its repr when it is blank or looks like path syntax
            keys = ({form for k in spec for form in (str(k), repr(str(k)))} | {"pipeline"}
                    if isinstance(spec, Mapping) else {"pipeline"})
            starts = [k for k in keys if k and message.startswith(k) and message[len(k):len(k) + 1] in ":.["]
            if not starts:
                raise AssertionError(f"{prop}: {shown}: the {type(exc).__name__} does not start with a spec path "
                                     f"(a key of the spec): {message[:300]}") from exc
            return None
        x = torch.randn(2, 4096, generator=torch.Generator().manual_seed(0))
        try:
            out = pipeline(x.to(pipeline[0].kernel_dtype or torch.float32))
        except ValueError:
            return pipeline
        nans, infs = _nonfinite(out)
        if nans or infs:
            raise AssertionError(f"{prop}: {shown}: a random waveform gave {nans} NaN and {infs} inf values")
        return pipeline


# the deployment properties (TorchScript, compile, export, ONNX, half precision, ...) register themselves
from .deploy import (  # noqa: E402
    check_autocast,
    check_distributed_kernels,
    check_half_precision,
    check_onnx,
    check_serialisation,
    check_torch_compile,
    check_torch_export,
    check_torchscript,
    check_trace,
)
