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

Examples
--------
>>> from nnaudio_core import get_transform
>>> check_transform(get_transform("dct"), n_bands=8, n_coefficients=4)
('batch consistency', 'stateless forward', 'float64', ..., 'input errors')
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import pickle
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
import yaml
from torch import Tensor, nn

from .errors import PluginError
from .hookspecs import hookimpl
from .kinds import WAVEFORM
from .registry import REGISTRY, Registry, get_transform
from .spec import build_transform
from .transform import KernelTransform

__all__ = [
    "PROPERTIES",
    "CheckOptions",
    "check_batch_consistency",
    "check_config_round_trip",
    "check_device",
    "check_float64",
    "check_input_errors",
    "check_input_gradients",
    "check_module",
    "check_pickle_and_deepcopy",
    "check_state_dict_round_trip",
    "check_stateless_forward",
    "check_trainable_gradients",
    "check_transform",
    "plugin_registered",
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
    """

    input_length: int | None = None
    gradcheck: bool = True
    gradcheck_numel: int = 512
    rtol: float = 1e-5
    batch: int = 3
    channels: int = 2


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
    x64 = _example(native, options.batch, options=options).to(torch.float64)
    try:
        y64 = converted(x64)
    except Exception as exc:
        raise AssertionError(f"{prop}: float64 input failed: {type(exc).__name__}: {exc}") from exc
    expected_dtype = torch.complex128 if y64.is_complex() else torch.float64
    if y64.dtype != expected_dtype:
        raise AssertionError(f"{prop}: float64 input gave a {y64.dtype} output; expected {expected_dtype}")
    exact = 1e-10 if converted.frozen else options.rtol  # trained parameters carry their float32 rounding
    _assert_close(prop, "output of .to(float64) vs a float64 build", y64, native(x64), exact)
    _assert_close(prop, "float32 output vs float64 output", single(x64.to(torch.float32)), y64, options.rtol)


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
    small = _example(double, options=options, length=length).to(torch.float64).requires_grad_(True)
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
    cases = {
        f"a {core + 3}-D input": x.reshape((1, 1, 1) + tuple(x.shape)),
        "an int16 input": (x * 100).to(torch.int16),
        "an int64 input": (x * 100).to(torch.int64),
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
