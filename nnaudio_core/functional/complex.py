"""Complex values held as ``(real, imag)`` tensor pairs: magnitude and phase with finite gradients.

All functions are TorchScript/ONNX friendly.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .dtypes import dtype_tiny, is_half

__all__ = ["magnitude", "phase"]


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
