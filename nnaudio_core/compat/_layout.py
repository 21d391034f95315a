"""What the nnAudio wrappers share: input and output layouts, choice checks, logging, the base class.

Every wrapper is a :class:`NNAudioLayer`: a plain ``nn.Module`` that builds a registered transform
(``get_transform(name)(**params)``), keeps it as its child ``transform`` and converts nnAudio's
input layouts to the transform's and the transform's output to nnAudio's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import ParameterError, did_you_mean
from ..functional.complex import magnitude, phase
from ..registry import get_transform
from ..transform import KernelTransform

__all__ = [
    "CQT_FORMATS",
    "NORMALIZATION_TYPES",
    "STFT_FORMATS",
    "UNSUPPORTED",
    "NNAudioLayer",
    "check_choice",
    "forwarded",
    "logger",
    "missing_attribute",
    "nnaudio_input",
    "nnaudio_output",
    "reject_istft",
]

#: The wrappers log their construction here (nnAudio printed it); the name nnAudio users import.
logger = logging.getLogger("nnaudio_core.Spectrogram")

STFT_FORMATS = ("Complex", "Magnitude", "Phase")
CQT_FORMATS = ("Magnitude", "Complex", "Phase")
NORMALIZATION_TYPES = ("librosa", "convolutional", "wrap")

#: nnAudio classes this library does not provide, and what to use instead.
UNSUPPORTED: dict[str, str] = {}


def missing_attribute(module: str, name: str, names: Iterable[str]) -> AttributeError:
    """The error a module's ``__getattr__`` raises: the alternative for an nnAudio class not provided.

    Examples
    --------
    >>> str(missing_attribute("nnaudio_core.Spectrogram", "STTF", ["STFT", "VQT"]))
    "module 'nnaudio_core.Spectrogram' has no attribute 'STTF' (did you mean 'STFT'?)"
    """
    if name in UNSUPPORTED:
        return AttributeError(f"{module} has no {name}: {UNSUPPORTED[name]}")
    return AttributeError(f"module {module!r} has no attribute {name!r}{did_you_mean(name, names)}")


def nnaudio_input(x: Tensor) -> Tensor:
    """Map nnAudio's input layouts onto the transforms': ``(len,)`` → ``(1, len)``, ``(B, 1, len)`` → ``(B, len)``.

    Other layouts go to the transform unchanged (its checks name the problem).

    Examples
    --------
    >>> nnaudio_input(torch.zeros(100)).shape, nnaudio_input(torch.zeros(2, 1, 100)).shape
    (torch.Size([1, 100]), torch.Size([2, 100]))
    """
    if isinstance(x, Tensor):
        if x.dim() == 1:
            return x.unsqueeze(0)
        if x.dim() == 3 and x.shape[1] == 1:
            return x[:, 0]
    return x


def nnaudio_output(z: Tensor, output_format: str, *, phase_pairs: bool) -> Tensor:
    """nnAudio's output from the complex transform output ``z`` of shape ``(..., freq, frames)``.

    ``"Magnitude"``: ``|z|`` (finite gradient at 0); ``"Complex"``: the real tensor
    ``(..., freq, frames, 2)`` of ``(real, imag)``; ``"Phase"``: the angle ``(..., freq, frames)``,
    or with ``phase_pairs`` its ``(cos, sin)`` in a last dimension of 2 (the CQTs').

    Examples
    --------
    >>> z = torch.tensor([[1j, -2.0]])
    >>> nnaudio_output(z, "Complex", phase_pairs=False).shape
    torch.Size([1, 2, 2])
    >>> nnaudio_output(z, "Magnitude", phase_pairs=False)
    tensor([[1., 2.]])
    >>> nnaudio_output(z, "Phase", phase_pairs=False)
    tensor([[1.5708, 3.1416]])
    """
    if output_format == "Complex":
        return torch.view_as_real(z)
    if output_format == "Magnitude":
        return magnitude(z.real, z.imag)
    angle = phase(z.real, z.imag)
    return torch.stack((torch.cos(angle), torch.sin(angle)), -1) if phase_pairs else angle


def check_choice(owner: str, name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices`` (exact spelling, as nnAudio compares), else raise.

    Raises
    ------
    ParameterError
        Naming ``owner``, the argument, the allowed values and the closest one.
    """
    if isinstance(value, str) and value in choices:
        return value
    allowed = "one of " + ", ".join(map(repr, choices))
    suggestion = did_you_mean(value, choices) if isinstance(value, str) else ""
    raise ParameterError(name, value, f"expected {allowed}{suggestion}", context=owner)


def reject_istft(owner: str, istft: Any) -> None:
    """Raise ``NotImplementedError`` for nnAudio's ``iSTFT=True`` on a layer without an inverse (mel, MFCC)."""
    if istft:
        raise NotImplementedError(f"{owner}: iSTFT=True is not supported: {owner} has no inverse; keep iSTFT=False and "
                                  "invert a complex STFT with Spectrogram.iSTFT (or a magnitude with Griffin_Lim)")


def forwarded(name: str, doc: str) -> property:
    """A read-only property giving the held transform's attribute ``name`` (documented by ``doc``)."""

    def get(self: NNAudioLayer) -> Any:
        return getattr(self.transform, name)

    get.__doc__ = doc
    return property(get)


class NNAudioLayer(nn.Module):
    """Base of the nnAudio wrappers: builds a registered transform and holds it as ``transform``.

    Parameters
    ----------
    transform : str
        Registered name of the transform to build.
    verbose : bool
        Log one INFO record on the logger ``"nnaudio_core.Spectrogram"`` (:meth:`describe`).
    renamed : Mapping[str, str], optional
        nnAudio's argument name for transform parameters spelt differently: a
        :class:`~nnaudio_core.errors.ParameterError` from the transform names the nnAudio argument.
    output_format : str, optional
        For layers with :attr:`output_formats`: the default format of ``forward``
        (attribute ``output_format``); the transform is built with ``output_format="Complex"``.
        For the others: the transform's ``output_format`` (the CFP layers choose their output).
    **params
        The transform's parameters.

    Attributes
    ----------
    transform : KernelTransform
        The registered transform that computes the numbers (its kernels, config and
        ``output_info()``); the wrapper only converts layouts.

    Notes
    -----
    Constant per-bin factors a wrapper applies are registered with :meth:`register_exact`: float64
    definitions kept as buffers and rebuilt from float64 when the dtype changes, as the
    transforms' frozen kernels are.

    Examples
    --------
    >>> layer = NNAudioLayer("stft", verbose=False, n_fft=256, output_format="Magnitude")
    >>> layer(torch.randn(1000)).shape
    torch.Size([1, 129, 16])
    """

    #: nnAudio's output formats of ``forward`` (empty: the layer has a single output).
    output_formats: ClassVar[tuple[str, ...]] = ()
    transform: KernelTransform

    def __init__(self, transform: str, *, verbose: bool, renamed: Mapping[str, str] | None = None,
                 output_format: str | None = None, **params: Any) -> None:
        super().__init__()
        owner = type(self).__name__
        if self.output_formats:  # the transform gives complex values, formatted by forward
            self.output_format = check_choice(owner, "output_format", output_format, self.output_formats)
            params["output_format"] = "Complex"
        elif output_format is not None:  # a layer with one output: the transform's own output_format
            params["output_format"] = output_format
        self._exact: dict[str, np.ndarray] = {}
        start = time.perf_counter()
        try:
            self.transform = get_transform(transform)(**params)
        except ParameterError as exc:
            name = (renamed or {}).get(exc.parameter, exc.parameter)
            raise ParameterError(name, exc.value, exc.allowed, context=owner) from None
        if verbose:
            logger.info("%s: %s; kernels built in %.4f s", owner, self.describe(), time.perf_counter() - start)

    def describe(self) -> str:
        """One line about the built kernels (the ``verbose`` log record)."""
        return f"transform {self.transform.name!r}, backend {self.transform.backend!r}"

    def forward(self, x: Tensor) -> Tensor:
        """Transform ``x`` of shape ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)``: ``(batch, freq, frames)``.

        ``(batch, channels, len)`` gives ``(batch, channels, freq, frames)``.
        """
        return self.transform(nnaudio_input(x))

    def resolve_format(self, output_format: str | None) -> str:
        """``output_format`` (``None``: the constructor's), checked against :attr:`output_formats`."""
        fmt = self.output_format if output_format is None else output_format
        return check_choice(type(self).__name__, "output_format", fmt, self.output_formats)

    def register_exact(self, name: str, array: Any) -> None:
        """Register the float64 constant ``array`` as the non-persistent buffer ``name``.

        It has the layer's floating dtype and is rebuilt from the float64 values when that changes.
        """
        self._exact[name] = np.asarray(array, dtype=np.float64)
        dtype = self.transform.kernel_dtype or torch.get_default_dtype()
        self.register_buffer(name, torch.as_tensor(self._exact[name], dtype=dtype), persistent=False)

    def _apply(self, fn: Any, recurse: bool = True) -> NNAudioLayer:
        before = {name: getattr(self, name).dtype for name in self._exact}
        super()._apply(fn, recurse)
        for name, dtype in before.items():
            tensor = getattr(self, name)
            if tensor.dtype != dtype:  # re-derive rather than widen a rounded copy
                setattr(self, name, torch.as_tensor(self._exact[name], dtype=tensor.dtype, device=tensor.device))
        return self
