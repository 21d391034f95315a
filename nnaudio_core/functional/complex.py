"""Complex values held as ``(real, imag)`` tensor pairs: magnitude and phase with finite gradients.

All functions are TorchScript/ONNX friendly.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .dtypes import dtype_tiny, is_half

__all__ = ["capturing", "exporting", "magnitude", "phase"]


def exporting() -> bool:
    """Whether the code runs under ``torch.export`` (and so ``torch.onnx.export(dynamo=True)``).

    ONNX has no complex tensors: paths that hold a complex intermediate switch to real and
    imaginary parts while exporting (the same values). ``False`` in eager mode and TorchScript.

    Examples
    --------
    >>> exporting()
    False
    """
    if not torch.jit.is_scripting():
        if torch.compiler.is_exporting():
            return True
    return False


def capturing() -> bool:
    """Whether the code is being captured as a graph with symbolic shapes: ``torch.export`` or ``torch.compile``.

    Paths whose size arithmetic makes the shape solver work hard (slices with symbolic ends,
    reshapes of symbolic lengths, Python loops of shifted additions) take a branch-free form
    while capturing: the same values, a smaller graph and no guards to prove. For the inverse CQT
    this cut inductor's first compile of a tiny configuration from 37 s to 6 s and its
    dynamic-shape recompile from 66 s to 8 s. ``False`` in eager mode and TorchScript.

    Examples
    --------
    >>> capturing()
    False
    """
    if not torch.jit.is_scripting():
        if torch.compiler.is_exporting() or torch.compiler.is_compiling():
            return True
    return False


def magnitude(real: Tensor, imag: Tensor) -> Tensor:
    """``|real + i imag|`` from real tensors, with a finite gradient everywhere.

    Computed as ``sqrt(real**2 + imag**2 + tiny)`` with ``tiny`` the smallest normal number of the
    dtype (1.2e-38 for float32): the partial derivatives ``real / |z|`` stay bounded by 1 and are 0
    at ``z = 0`` (where nnAudio's gradient is NaN), and values move by at most ``sqrt(tiny)``.

    Parameters
    ----------
    real, imag : torch.Tensor
        Real and imaginary parts, same shape (any).

    Returns
    -------
    torch.Tensor, same shape as ``real``

    Examples
    --------
    >>> magnitude(torch.tensor([3.0, 0.0]), torch.tensor([4.0, 0.0]))
    tensor([5.0000e+00, 1.0842e-19])
    """
    dtype = real.dtype
    if is_half(dtype):
        # |X| of a full-scale tone (hundreds) fits in float16, but real**2 + imag**2 does not
        real, imag = real.float(), imag.float()
    return torch.sqrt(real * real + imag * imag + dtype_tiny(real.dtype)).to(dtype)


def phase(real: Tensor, imag: Tensor) -> Tensor:
    """Angle of ``real + i imag`` in radians, in ``(-pi, pi]`` (``+0.0`` folds ``-0`` to ``0``).

    Parameters
    ----------
    real, imag : torch.Tensor
        Real and imaginary parts, same shape (any).

    Returns
    -------
    torch.Tensor, same shape as ``real``

    Examples
    --------
    >>> phase(torch.tensor([-1.0, 0.0]), torch.tensor([-0.0, 1.0]))
    tensor([3.1416, 1.5708])
    """
    return torch.atan2(imag + 0.0, real)
