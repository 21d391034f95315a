"""The one contract every transform follows: :class:`KernelTransform`.

Life of a transform::

    KernelTransform(**params)
      ├─ resolve_params      declared Params → validated, defaults filled     (ParameterError)
      ├─ validate_config     cross-parameter checks of the subclass            (ParameterError)
      ├─ resolve backend     "auto" → "fft" only for frozen kernels with an equal fast path
      ├─ setup               derived plain attributes (frequencies, hop, ...)
      └─ build_kernels       named numpy arrays → buffers (frozen) or nn.Parameters (trainable)

    forward(x)
      ├─ fold leading dims   (core,) | (batch, core) | (batch, channels, core) → (N, core)
      ├─ compute             pad → analyse (conv1d or FFT) → post_process
      └─ unfold              (N, ...) → (batch, channels, ...)

Frozen kernels are derived from the configuration, so they are non-persistent buffers: they are
rebuilt from ``get_config()`` rather than saved in every checkpoint, and a change of floating dtype
(``.double()``, ``.to(torch.float64)``) rebuilds them from their float64 definition instead of
widening a float32 rounding. Trainable kernels are ``nn.Parameter`` objects and are saved.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from .errors import ParameterError
from .params import Param, resolve_params, to_plain

#: Kinds of data flowing between pipeline steps.
WAVEFORM = "waveform"
COMPLEX = "complex"  # complex spectrogram
MAGNITUDE = "magnitude"  # |X|
POWER = "power"  # |X| ** 2
PHASE = "phase"  # angle of X
DECIBELS = "decibels"
FEATURES = "features"  # real-valued coefficients (e.g. MFCC)
SPECTRAL_KINDS = frozenset({COMPLEX, MAGNITUDE, POWER, PHASE, DECIBELS, FEATURES})

BACKEND_PARAM = Param(
    "backend",
    "auto",
    "computation path: 'conv' (conv1d with the kernels), 'fft' (faster equal path for frozen "
    "kernels) or 'auto' (fft when available and the kernels are frozen)",
    type="str",
    choices=("auto", "conv", "fft"),
)
TRAINABLE_PARAM = Param("trainable", False, "make the kernels nn.Parameters that receive gradients", type="bool")


class KernelTransform(nn.Module):
    """Base class of every registered transform.

    Subclasses declare ``name``, ``params`` and the data kinds they accept and produce, and
    implement :meth:`build_kernels` and :meth:`analyse` (and usually :meth:`pad` and
    :meth:`post_process`). Everything else (validation, kernel registration, input folding, dtype
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
        The computation path in use, ``"conv"`` or ``"fft"``.
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

    # ------------------------------------------------------------------------------------------
    # construction
    # ------------------------------------------------------------------------------------------
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Give help() and IDEs the real keyword signature instead of **params.
        if cls.__dict__.get("__init__") is None and cls.params:
            cls.__signature__ = inspect.Signature(
                [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default) for p in cls.params]
            )

    def __init__(self, **params: Any) -> None:
        super().__init__()
        config = resolve_params(self.params, params, owner=type(self).__name__)
        self._given: frozenset[str] = frozenset(params)
        config = self.validate_config(config)
        self.config: Mapping[str, Any] = FrozenConfig(config)
        self.backend: str = self._resolve_backend()
        self.check_input: bool = False
        self.setup()
        self._kernel_names: tuple[str, ...] = ()
        self._register_kernels(self.build_kernels())

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Check relations between parameters and fill derived defaults; return the config.

        Raise :class:`~nnaudio_core.errors.ParameterError` naming the parameter, its value and
        what is allowed. Runs before any kernel is built.
        """
        return config

    def setup(self) -> None:
        """Set derived plain attributes used by the kernels and by ``forward`` (optional)."""

    def build_kernels(self) -> dict[str, np.ndarray | Tensor]:
        """Return the named kernels (float64 numpy arrays or tensors) for the current config."""
        return {}

    def has_fft_path(self) -> bool:
        """Whether this configuration has a faster path computing the same function."""
        return False

    def kernel_is_trainable(self, name: str) -> bool:
        """Whether kernel ``name`` becomes an ``nn.Parameter``; default: the ``trainable`` parameter."""
        return bool(self.config.get("trainable", False))

    def _resolve_backend(self) -> str:
        requested = self.config.get("backend", "conv")
        frozen = not self.config.get("trainable", False)
        if requested == "auto":
            return "fft" if frozen and self.has_fft_path() else "conv"
        if requested == "fft":
            if not self.has_fft_path():
                raise ParameterError(
                    "backend", requested, f"this {self.name} configuration has no fft path; use 'conv' or 'auto'"
                )
            if not frozen:
                raise ParameterError(
                    "backend", requested, "the fft path uses fixed kernels; with trainable=True use 'conv' or 'auto'"
                )
        return requested

    def _register_kernels(self, kernels: Mapping[str, Any]) -> None:
        dtype = torch.get_default_dtype()
        names = []
        for name, array in kernels.items():
            tensor = _as_tensor(array, dtype)
            if self.kernel_is_trainable(name):
                self.register_parameter(name, nn.Parameter(tensor))
            else:
                self.register_buffer(name, tensor, persistent=False)
            names.append(name)
        self._kernel_names = tuple(names)

    def _apply(self, fn: Any, recurse: bool = True) -> KernelTransform:
        frozen = [n for n in self._kernel_names if not isinstance(getattr(self, n), nn.Parameter)]
        before = {n: getattr(self, n).dtype for n in frozen}
        super()._apply(fn, recurse)
        changed = [n for n in frozen if getattr(self, n).dtype != before[n] and getattr(self, n).is_floating_point()]
        if changed:
            # Re-derive from the float64 definition rather than widening a rounded copy.
            fresh = self.build_kernels()
            for n in changed:
                old = getattr(self, n)
                setattr(self, n, _as_tensor(fresh[n], old.dtype).to(old.device))
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
        leading, folded = self.fold_input(x)
        out = self.compute(folded)
        return out.reshape(leading + out.shape[1:])

    def fold_input(self, x: Tensor) -> tuple[tuple[int, ...], Tensor]:
        """Validate ``x`` and fold its leading dimensions into one batch dimension."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{self.name}: expected a torch.Tensor, got {type(x).__name__}")
        core = self.core_dims
        what = "(time,)" if core == 1 else "(freq, frames)"
        if not core <= x.dim() <= core + 2:
            layouts = f"{what}, (batch, {what[1:]} or (batch, channels, {what[1:]}"
            raise ValueError(f"{self.name}: input of shape {tuple(x.shape)} has {x.dim()} dims; expected {layouts}")
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
        return leading, x.reshape((-1,) + tuple(x.shape[-core:]))

    @property
    def kernel_dtype(self) -> torch.dtype | None:
        """Floating dtype of the kernels, or ``None`` for a transform without kernels."""
        for name in self._kernel_names:
            tensor = getattr(self, name)
            if tensor.is_floating_point():
                return tensor.dtype
        return None

    def validate_input(self, x: Tensor) -> None:
        """Raise ``ValueError`` when ``x`` cannot be transformed (e.g. too short); optional."""

    def compute(self, x: Tensor) -> Tensor:
        """Transform a batch ``(N, *core)``; by default ``post_process(analyse(pad(x)))``."""
        return self.post_process(self.analyse(self.pad(x)))

    def pad(self, x: Tensor) -> Tensor:
        """Pad the folded input before analysis (identity by default)."""
        return x

    def analyse(self, x: Tensor) -> Tensor:
        """Apply the kernels (conv1d or the equal FFT path)."""
        raise NotImplementedError(f"{type(self).__name__} must implement analyse()")

    def post_process(self, y: Tensor) -> Tensor:
        """Turn the analysis result into the output format (identity by default)."""
        return y

    # ------------------------------------------------------------------------------------------
    # kinds, configuration, description
    # ------------------------------------------------------------------------------------------
    def output_kind(self, input_kind: str = WAVEFORM) -> str:
        """Kind of data produced from ``input_kind``; raise ``ValueError`` if it is not accepted."""
        raise NotImplementedError(f"{type(self).__name__} must implement output_kind()")

    def accepts(self, input_kind: str) -> bool:
        """Whether this transform can consume data of ``input_kind``."""
        return input_kind in self.input_kinds

    def get_config(self) -> dict[str, Any]:
        """Return the parameters (plain YAML types) that rebuild this transform.

        ``build_transform({name: transform.get_config()})`` gives an equal transform.
        """
        return {key: to_plain(value) for key, value in self.config.items()}

    def to_spec(self) -> dict[str, Any]:
        """Return a one-step spec dict for :func:`nnaudio_core.build_transform`."""
        return {"pipeline": [{self.name: self.get_config()}]}

    @property
    def trainable_kernels(self) -> tuple[str, ...]:
        """Names of the kernels that are ``nn.Parameter`` objects."""
        return tuple(n for n in self._kernel_names if isinstance(getattr(self, n), nn.Parameter))

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
    return tensor.contiguous()
