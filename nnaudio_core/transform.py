"""The one contract every transform follows: :class:`KernelTransform`.

A subclass declares ``name``, ``params`` and ``input_kinds``, describes what it produces
(:meth:`~KernelTransform.output_info`), builds its kernels (:meth:`~KernelTransform.build_kernels`)
and implements one computation, :meth:`~KernelTransform.compute`. :class:`ConvTransform` offers the
pad → analyse → post_process template for conv-style transforms, and :class:`SpectrogramStep` is
the base of steps that take a spectrogram.

Life of a transform::

    KernelTransform(**params)
      ├─ resolve_params      declared Params → validated, defaults filled       (ParameterError)
      ├─ validate_config     cross-parameter checks; returns the config         (ParameterError)
      ├─ setup               derived plain attributes and child transforms
      ├─ resolve backend     "auto" → the fast path when the kernels are frozen and one exists
      └─ build_kernels       named arrays (or lists of arrays) → buffers, or nn.Parameters
                             when ``trainable=True``; :func:`constant` kernels stay buffers

    forward(x)
      ├─ fold                (core) | (batch, core) | (batch, channels, core) → (N, core) + Batch
      ├─ compute(x, batch)   the transform's computation on the folded batch
      └─ unfold              (N, ...) → the input's leading dims

Frozen kernels are derived from the configuration, so they are non-persistent buffers: they are
rebuilt from ``get_config()`` rather than saved in every checkpoint, and a change of floating dtype
(``.double()``, ``.to(torch.float64)``) rebuilds them from their float64 definition instead of
widening a float32 rounding. Trainable kernels are ``nn.Parameter`` objects and are saved.

A transform is frozen when none of its kernels, nor those of its child transforms, is a parameter
(:attr:`KernelTransform.frozen`); composite transforms (``mel`` holds an ``stft`` and a
``mel_scale``) pass ``trainable`` and ``backend`` on to their children.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from .batch import Batch, batch_of
from .errors import ParameterError
from .kinds import ALL_KINDS, COMPLEX, FEATURES, POWER, SPECTRAL_KINDS, WAVEFORM, SignalInfo
from .params import Param, resolve_params, to_plain

BACKEND_PARAM = Param(
    "backend",
    "auto",
    "computation path: 'conv' (conv1d with the kernels), 'fft' (faster equal path for frozen "
    "kernels) or 'auto' (fft when available and the kernels are frozen)",
    type="str",
    choices=("auto", "conv", "fft"),
)
TRAINABLE_PARAM = Param("trainable", False, "make the kernels nn.Parameters that receive gradients", type="bool")

__all__ = [
    "BACKEND_PARAM",
    "TRAINABLE_PARAM",
    "Batch",
    "ConvTransform",
    "KernelList",
    "KernelTransform",
    "SpectrogramStep",
    "constant",
]


class _Constant:
    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array


def constant(array: Any) -> Any:
    """Mark a kernel returned by ``build_kernels`` as never trainable (a low-pass filter, a scale).

    Examples
    --------
    >>> class Halve(KernelTransform):
    ...     name = "halve"
    ...     params = (TRAINABLE_PARAM,)
    ...     def build_kernels(self):
    ...         return {"gain": constant(np.array(0.5))}
    ...     def compute(self, x, batch):
    ...         return x * self.gain
    ...     def output_info(self, upstream=None):
    ...         return SignalInfo(WAVEFORM)
    >>> Halve(trainable=True).trainable_kernels
    ()
    """
    return _Constant(array)


class _Kernel(nn.Module):
    """One kernel of a :class:`KernelList`: a buffer or parameter named ``value``."""

    def __init__(self, tensor: Tensor, trainable: bool) -> None:
        super().__init__()
        if trainable and tensor.is_floating_point():
            self.value = nn.Parameter(tensor)
        else:
            self.register_buffer("value", tensor, persistent=False)


class KernelList(nn.ModuleList):
    """A list of kernels registered on a transform: buffers when frozen, parameters when trainable.

    Built by :class:`KernelTransform` when ``build_kernels`` returns a list for a name. Index and
    iterate it like a list of tensors (``self.octave_kernels[0]``, ``for k in self.octave_kernels``),
    and pass :meth:`tensors` to functional code (also in TorchScript). Kernel ``i`` is the tensor
    ``value`` of item ``i``: state-dict and parameter names are ``name.0.value``, ``name.1.value``, ...
    (a state dict saved with the earlier keys ``name.0``, ... still loads).
    """

    def __init__(self, tensors: Sequence[Tensor], *, trainable: bool) -> None:
        super().__init__([_Kernel(t, trainable) for t in tensors])

    @torch.jit.unused
    def __getitem__(self, index: int) -> Tensor:  # type: ignore[override]
        count = len(self)
        if not isinstance(index, int) or not -count <= index < count:
            raise IndexError(f"kernel index {index!r} out of range for {count} kernels")
        return self._modules[str(index % count)].value

    @torch.jit.unused
    def __iter__(self) -> Iterator[Tensor]:  # type: ignore[override]
        return iter([item.value for item in self._modules.values()])

    def tensors(self) -> list[Tensor]:
        """The kernels as a plain list (what functional code takes)."""
        out: list[Tensor] = []
        for item in self.children():
            out.append(item.value)
        return out

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        for i in range(len(self)):
            if prefix + str(i) in state_dict:  # the keys before kernels had a holder
                state_dict[f"{prefix}{i}.value"] = state_dict.pop(prefix + str(i))
        super()._load_from_state_dict(state_dict, prefix, *args)


def _property_names(cls: type) -> list[str]:
    names = []
    for klass in cls.__mro__:
        for key, value in vars(klass).items():
            if isinstance(value, property) and key not in names:
                names.append(key)
    return names


class KernelTransform(nn.Module):
    """Base class of every registered transform.

    Subclasses declare ``name``, ``params`` and ``input_kinds``, and implement
    :meth:`build_kernels` (optional), :meth:`compute` and :meth:`output_info`. Everything else
    (validation, kernel registration, trainability, backend choice, input folding, dtype
    handling, configuration) lives here once.

    Parameters
    ----------
    **params
        The transform's declared parameters (see ``describe_transform(name)``).

    Attributes
    ----------
    config : Mapping[str, object]
        The validated parameters, defaults filled in (read-only).
    backend : str
        The computation path in use, ``"conv"`` or ``"fft"`` (for a composite, ``"fft"`` only when
        every child with a choice uses it).
    check_input : bool
        When ``True``, ``forward`` raises ``ValueError`` on NaN or Inf input. Off by default since the
        check synchronises with the device on every call.

    Examples
    --------
    >>> from nnaudio_core import get_transform
    >>> stft = get_transform("stft")(n_fft=512, output_format="Magnitude")
    >>> stft(torch.randn(2, 4096)).shape
    torch.Size([2, 257, 33])
    """

    #: Registered name (lower case); a subclass with a new name is a new transform.
    name: ClassVar[str] = ""
    #: Declared parameters, in signature order.
    params: ClassVar[tuple[Param, ...]] = ()
    #: Kinds of input accepted.
    input_kinds: ClassVar[frozenset[str]] = frozenset({WAVEFORM})
    #: Number of trailing dimensions of one example: 1 for waveforms (time), 2 for spectrograms.
    core_dims: ClassVar[int] = 1
    #: Name of the faster equal path this transform's own kernels offer (``"fft"``), if any.
    fast_path: ClassVar[str | None] = None

    # ------------------------------------------------------------------------------------------
    # construction
    # ------------------------------------------------------------------------------------------
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # TorchScript compiles a module's properties unless told not to; these are Python-side
        # metadata (backend, frozen, ...), never used by the scripted forward.
        cls.__jit_unused_properties__ = _property_names(cls)
        # Give help() and IDEs the real keyword signature instead of **params.
        if cls.__dict__.get("__init__") is None and cls.params:
            cls.__signature__ = inspect.Signature(
                [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default) for p in cls.params]
            )

    def __init__(self, **params: Any) -> None:
        super().__init__()
        owner = type(self).__name__
        config = resolve_params(self.params, params, owner=owner)
        self._given: frozenset[str] = frozenset(params)
        try:
            self._build(config)
        except (OverflowError, ZeroDivisionError, FloatingPointError, MemoryError) as exc:
            # A safety net for extreme values that slipped past the declared ranges: still a ValueError
            # naming what was given, never a numeric exception from deep inside numpy.
            given = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "the defaults"
            raise ValueError(
                f"{owner}: cannot be built with {given}: {type(exc).__name__}: {exc}; use less extreme values"
            ) from exc

    def _build(self, config: dict[str, Any]) -> None:
        owner = type(self).__name__
        checked = self.validate_config(config)
        if not isinstance(checked, dict):
            raise TypeError(
                f"{owner}.validate_config returned {type(checked).__name__}; it must return the config dict "
                "(the one it was given, possibly with derived values filled in)"
            )
        self.config: Mapping[str, Any] = FrozenConfig(checked)
        self.check_input: bool = False
        self._core_dims: int = self.core_dims  # what the scripted forward reads (it cannot see ClassVars)
        self.setup()
        self._backend: str | None = self._resolve_backend()
        self._kernel_names: tuple[str, ...] = ()
        self._register_kernels(self.build_kernels())

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Check relations between parameters, fill derived defaults, and **return** the config.

        Runs before any kernel is built. Raise :class:`~nnaudio_core.errors.ParameterError` (a
        ``ValueError``) naming the parameter, its value and what is allowed; a spec reports it with
        the spec path (``pipeline[0].stft.win_length``).
        """
        return config

    def setup(self) -> None:
        """Set derived plain attributes and build child transforms (optional)."""

    def build_kernels(self) -> dict[str, Any]:
        """Return the kernels for the current config: ``{name: array}`` or ``{name: [arrays]}``.

        Arrays are float64 numpy arrays or tensors (integer index arrays are allowed); a list is
        registered as a :class:`KernelList`. Wrap a kernel in :func:`constant` to keep it out of
        training. ``self.backend`` is already resolved here.
        """
        return {}

    @property
    def trains_kernels(self) -> bool:
        """Whether this transform's own kernels become parameters: its ``trainable`` parameter."""
        return bool(self.config.get("trainable", False))

    def fast_path_available(self) -> bool:
        """Whether this configuration can use :attr:`fast_path` (e.g. the FFT grid only)."""
        return self.fast_path is not None

    def _resolve_backend(self) -> str | None:
        """The path of this transform's own kernels; ``None`` when it has no choice of its own."""
        requested = self.config.get("backend")
        if requested is None:
            return None
        if self.fast_path is None:
            if requested not in ("auto", "conv") and not self.child_transforms():
                raise ParameterError("backend", requested, f"{self.name} has no {requested} path; use 'conv' or 'auto'")
            return None  # a composite: its children chose
        available = self.fast_path_available()
        if requested == "auto":
            return self.fast_path if available and not self.trains_kernels else "conv"
        if requested == self.fast_path:
            if not available:
                raise ParameterError(
                    "backend", requested,
                    f"this {self.name} configuration has no {requested} path; use 'conv' or 'auto'",
                )
            if self.trains_kernels:
                raise ParameterError(
                    "backend", requested,
                    f"the {requested} path uses fixed kernels; with trainable=True use 'conv' or 'auto'",
                )
        return requested

    @property
    def backend(self) -> str:
        """The computation path in use: ``"conv"`` or the fast path (``"fft"``)."""
        if self._backend is not None:
            return self._backend
        paths = [child.backend for child in self.child_transforms() if "backend" in child.config]
        return paths[0] if paths and all(p == paths[0] for p in paths) else "conv"

    def child_transforms(self) -> list[KernelTransform]:
        """The transforms this one is composed of (direct children), in registration order."""
        return [m for m in self.children() if isinstance(m, KernelTransform)]

    def _register_kernels(self, kernels: Mapping[str, Any]) -> None:
        dtype = torch.get_default_dtype()
        trainable = self.trains_kernels
        names = []
        for name, value in kernels.items():
            fixed = isinstance(value, _Constant)
            value = value.array if fixed else value
            if isinstance(value, (list, tuple)):
                tensors = [_as_tensor(v, dtype) for v in value]
                self.add_module(name, KernelList(tensors, trainable=trainable and not fixed))
            else:
                tensor = _as_tensor(value, dtype)
                if trainable and not fixed and tensor.is_floating_point():
                    self.register_parameter(name, nn.Parameter(tensor))
                else:
                    self.register_buffer(name, tensor, persistent=False)
            names.append(name)
        self._kernel_names = tuple(names)

    def _own_kernel_tensors(self) -> Iterator[tuple[str, Tensor]]:
        for name in self._kernel_names:
            value = getattr(self, name)
            if isinstance(value, KernelList):
                for i, tensor in enumerate(value):
                    yield f"{name}.{i}.value", tensor
            else:
                yield name, value

    def _apply(self, fn: Any, recurse: bool = True) -> KernelTransform:
        frozen = {n: t.dtype for n, t in self._own_kernel_tensors() if not isinstance(t, nn.Parameter)}
        super()._apply(fn, recurse)
        changed = {
            n: t for n, t in self._own_kernel_tensors()
            if n in frozen and t.dtype != frozen[n] and t.is_floating_point()
        }
        if changed:
            # Re-derive from the float64 definition rather than widening a rounded copy.
            fresh = {n: (v.array if isinstance(v, _Constant) else v) for n, v in self.build_kernels().items()}
            for key, old in changed.items():
                name, _, index = key.partition(".")
                index = index.partition(".")[0]
                array = fresh[name][int(index)] if index else fresh[name]
                holder = getattr(self, name)._modules[index] if index else self
                setattr(holder, "value" if index else name, _as_tensor(array, old.dtype).to(old.device))
        return self

    # ------------------------------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------------------------------
    def forward(self, x: Tensor) -> Tensor:
        """Apply the transform.

        Parameters
        ----------
        x : torch.Tensor
            Floating tensor of shape ``core``, ``(batch, *core)`` or ``(batch, channels, *core)``,
            where ``core`` is ``(time,)`` for waveform transforms and ``(freq, frames)`` for
            spectrogram steps.

        Returns
        -------
        torch.Tensor
            The result with the same leading dimensions as ``x``.
        """
        if torch.jit.is_scripting():
            folded, batch = self._fold_scripted(x)
        else:
            folded, batch = self.fold(x)
        out = self.compute(folded, batch)
        return out.reshape(batch.leading + list(out.shape[1:]))

    def _fold_scripted(self, x: Tensor) -> tuple[Tensor, Batch]:
        """:meth:`fold` in TorchScript: the shape checks, without Python-side messages and hooks."""
        core = self._core_dims
        if x.dim() < core or x.dim() > core + 2:
            raise ValueError(
                "input has the wrong number of dims: expected core, (batch, *core) or (batch, channels, *core)"
            )
        if x.numel() == 0:
            raise ValueError("input is empty")
        leading = x.shape[: x.dim() - core]
        folded = x.reshape([-1] + x.shape[x.dim() - core:])
        return folded, batch_of(leading, folded.shape[0])

    @torch.jit.unused
    def fold(self, x: Tensor) -> tuple[Tensor, Batch]:
        """Validate ``x`` and fold its leading dimensions into one: ``(N, *core)`` and its :class:`Batch`."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{self.name}: expected a torch.Tensor, got {type(x).__name__}")
        core = self.core_dims
        what = "(time,)" if core == 1 else "(freq, frames)"
        if not core <= x.dim() <= core + 2:
            layouts = f"{what}, (batch, {what[1:]} or (batch, channels, {what[1:]}"
            raise ValueError(f"{self.name}: input of shape {tuple(x.shape)} has {x.dim()} dims; expected {layouts}")
        if x.is_complex() and COMPLEX not in self.input_kinds:
            raise ValueError(
                f"{self.name}: input dtype {x.dtype} is complex, but {self.name} takes "
                f"{' or '.join(sorted(self.input_kinds))} input (real values); pass x.real, x.abs() or x.abs() ** 2"
            )
        if not (x.is_floating_point() or x.is_complex()):
            raise ValueError(f"{self.name}: input dtype {x.dtype} is not floating point; convert it with x.float()")
        if x.numel() == 0:
            raise ValueError(f"{self.name}: input of shape {tuple(x.shape)} is empty")
        kernel_dtype = self.kernel_dtype
        if kernel_dtype is not None and x.is_floating_point() and x.dtype != kernel_dtype:
            raise ValueError(
                f"{self.name}: input dtype {x.dtype} differs from the transform's {kernel_dtype}; "
                f"call .to({x.dtype}) on the transform (kernels are rebuilt exactly) or cast the input"
            )
        self.validate_input(x)
        if self.check_input and not bool(torch.isfinite(x).all()):
            raise ValueError(f"{self.name}: input contains NaN or Inf (check_input is on)")
        leading = tuple(x.shape[:-core])
        folded = x.reshape((-1,) + tuple(x.shape[-core:]))
        return folded, batch_of(list(leading), folded.shape[0])

    @property
    def kernel_dtype(self) -> torch.dtype | None:
        """Floating dtype of the kernels (own, else the children's), or ``None`` without any."""
        for _, tensor in self._own_kernel_tensors():
            if tensor.is_floating_point():
                return tensor.dtype
        for child in self.child_transforms():
            if child.kernel_dtype is not None:
                return child.kernel_dtype
        return None

    def validate_input(self, x: Tensor) -> None:
        """Raise ``ValueError`` when ``x`` cannot be transformed (e.g. too short); optional."""

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        """Transform a folded batch ``x`` of shape ``(N, *core)``; return ``(N, ...)``.

        ``batch`` says which rows belong to one example; only per-example operations need it. A
        composite calls its children's ``compute`` with the same ``batch``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement compute(x, batch)")

    # ------------------------------------------------------------------------------------------
    # kinds, metadata, configuration
    # ------------------------------------------------------------------------------------------
    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        """Describe the output for an input described by ``upstream``.

        ``upstream=None`` means the input this transform assumes on its own (a waveform at its
        ``sr`` for waveform transforms). Raise ``ValueError`` when ``upstream.kind`` is not accepted.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement output_info()")

    def output_kind(self, input_kind: str | None = None) -> str:
        """Kind of data produced from ``input_kind`` (default: the first accepted kind)."""
        upstream = None if input_kind is None else SignalInfo(input_kind, axes=_axes_of(input_kind))
        return self.output_info(upstream).kind

    def accepts(self, input_kind: str) -> bool:
        """Whether this transform can consume data of ``input_kind``."""
        return input_kind in self.input_kinds

    def check_upstream(self, upstream: SignalInfo | None) -> SignalInfo | None:
        """Raise ``ValueError`` unless ``upstream`` (when given) has an accepted kind; return it."""
        if upstream is not None and upstream.kind not in self.input_kinds:
            raise ValueError(
                f"{self.name} takes {' or '.join(sorted(self.input_kinds))} input, not {upstream.kind}"
            )
        return upstream

    def frame_count(self, length: int) -> int | None:
        """Frames the output has for an input of ``length`` samples (``None``: not fixed by the config)."""
        return None

    def example_input(self, *leading: int, length: int = 8192, seed: int = 0) -> Tensor:
        """A valid random input with leading dims ``leading`` (for tests and ``check_transform``)."""
        generator = torch.Generator().manual_seed(seed)
        dtype = self.kernel_dtype or torch.get_default_dtype()
        return torch.randn(*leading, length, generator=generator, dtype=dtype)

    @property
    def frozen(self) -> bool:
        """Whether no kernel of this transform or its children is an ``nn.Parameter``."""
        return not any(True for _ in self.parameters())

    @property
    def trainable_kernels(self) -> tuple[str, ...]:
        """Names of this transform's own kernels that are ``nn.Parameter`` objects."""
        return tuple(n for n, t in self._own_kernel_tensors() if isinstance(t, nn.Parameter))

    def get_config(self) -> dict[str, Any]:
        """Return the parameters (plain YAML types) that rebuild this transform.

        ``build_transform({name: transform.get_config()})`` gives an equal transform.
        """
        return {key: to_plain(value) for key, value in self.config.items()}

    def to_spec(self) -> dict[str, Any]:
        """Return a one-step spec dict for :func:`nnaudio_core.build_transform` (with ``input`` unless a waveform)."""
        spec: dict[str, Any] = {"pipeline": [{self.name: self.get_config()}]}
        if WAVEFORM not in self.input_kinds and self.input_kinds:
            spec["input"] = next(k for k in ALL_KINDS if k in self.input_kinds)
        return spec

    def extra_repr(self) -> str:
        defaults = {p.name: p.default for p in self.params}
        shown = [
            f"{k}={to_plain(v)!r}"
            for k, v in self.config.items()
            if k in self._given and to_plain(v) != to_plain(defaults.get(k))
        ]
        if "backend" in self.config:
            shown.append(f"backend in use={self.backend!r}")
        return ", ".join(shown)


KernelTransform.__jit_unused_properties__ = _property_names(KernelTransform)


class ConvTransform(KernelTransform):
    """The template of conv-style transforms: ``compute = post_process(analyse(pad(x)))``.

    Subclasses implement :meth:`analyse` and usually :meth:`pad` and :meth:`post_process`; none of
    them sees the batch grouping (they act on each row alone).
    """

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        return self.post_process(self.analyse(self.pad(x)))

    def pad(self, x: Tensor) -> Tensor:
        """Pad the folded input ``(N, time)`` before analysis (identity by default)."""
        return x

    def analyse(self, x: Tensor) -> Tensor:
        """Apply the kernels (conv1d or the equal fast path)."""
        raise NotImplementedError(f"{type(self).__name__} must implement analyse()")

    def post_process(self, y: Tensor) -> Tensor:
        """Turn the analysis result into the output format (identity by default)."""
        return y


class SpectrogramStep(KernelTransform):
    """Base of the steps that take a spectrogram: core shape ``(freq, frames)``.

    A subclass sets ``input_kinds`` (a subset of the spectral kinds), implements :meth:`compute`
    and :meth:`output_info`, and overrides :meth:`expected_rows` when it needs a given number of
    frequency rows: inputs with another number are rejected with a message saying what was built
    for, and specs are checked against the step before at build time.
    """

    core_dims = 2
    input_kinds: ClassVar[frozenset[str]] = frozenset({POWER})

    def expected_rows(self) -> int | None:
        """Number of frequency rows (dim -2) the step was built for, or ``None`` for any."""
        return None

    def rows_hint(self) -> str:
        """How to build the step for another number of rows (appended to the row error)."""
        return ""

    def validate_input(self, x: Tensor) -> None:
        self.check_rows(x.shape[-2], f"input of shape {tuple(x.shape)}")

    def check_rows(self, rows: int | None, what: str) -> None:
        """Raise ``ValueError`` when ``rows`` differs from :meth:`expected_rows`."""
        expected = self.expected_rows()
        if expected is not None and rows is not None and rows != expected:
            hint = self.rows_hint()
            raise ValueError(
                f"{self.name}: {what} has {rows} frequency rows (dim -2); this step was built for {expected} rows"
                f"{'; ' + hint if hint else ''}"
            )

    def check_upstream(self, upstream: SignalInfo | None) -> SignalInfo | None:
        upstream = super().check_upstream(upstream)
        if upstream is not None:
            self.check_rows(upstream.rows, f"the step before ({upstream.kind})")
        return upstream

    def example_input(self, *leading: int, length: int = 16, seed: int = 0) -> Tensor:
        """Random non-negative spectrogram values with :meth:`expected_rows` rows (``length`` frames)."""
        generator = torch.Generator().manual_seed(seed)
        dtype = self.kernel_dtype or torch.get_default_dtype()
        rows = self.expected_rows() or 32
        return torch.rand(*leading, rows, length, generator=generator, dtype=dtype) + 0.01

    def passthrough_info(self, upstream: SignalInfo | None, kind: str, **changes: Any) -> SignalInfo:
        """``upstream`` checked and relabelled ``kind`` (with ``changes``), the common step output."""
        upstream = self.check_upstream(upstream)
        base = upstream if upstream is not None else SignalInfo(kind, axes=("freq", "frames"))
        return base.with_(kind=kind, **changes)


def _axes_of(kind: str) -> tuple[str, ...]:
    if kind == FEATURES:
        return ("coefficient", "frames")
    return ("freq", "frames") if kind in SPECTRAL_KINDS else ("time",)


class FrozenConfig(dict):
    """A read-only dict of validated parameters (picklable, unlike ``MappingProxyType``)."""

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a transform's config is read-only; build a new transform with other parameters")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenConfig, (dict(self),))

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenConfig:
        return FrozenConfig(copy.deepcopy(dict(self), memo))


def _as_tensor(array: Any, dtype: torch.dtype) -> Tensor:
    tensor = torch.as_tensor(np.ascontiguousarray(array) if isinstance(array, np.ndarray) else array)
    if tensor.is_floating_point():
        tensor = tensor.to(dtype)
    elif tensor.is_complex():
        tensor = tensor.to(torch.complex128 if dtype == torch.float64 else torch.complex64)
    # standard strides even on size-1 dims (numpy's ``a[:, None, :]`` has stride 0 there, which
    # torch calls contiguous but DDP's buffer broadcast and gradient buckets reject)
    return tensor.clone(memory_format=torch.contiguous_format)
