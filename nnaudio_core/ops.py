"""Small tensor operations shared by transforms (all TorchScript/ONNX friendly)."""

from __future__ import annotations

import torch
from torch import Tensor


def safe_sqrt(power: Tensor) -> Tensor:
    """``sqrt(power)`` with a zero gradient, not NaN or Inf, where ``power == 0``.

    Examples
    --------
    >>> p = torch.tensor([0.0, 4.0], requires_grad=True)
    >>> safe_sqrt(p).sum().backward()
    >>> p.grad
    tensor([0.0000, 0.2500])
    """
    positive = power > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, power, torch.ones_like(power))), torch.zeros_like(power))


def magnitude(real: Tensor, imag: Tensor) -> Tensor:
    """``|real + i imag|`` computed from real tensors, with a safe gradient at zero."""
    return safe_sqrt(real * real + imag * imag)


def phase(real: Tensor, imag: Tensor) -> Tensor:
    """Angle of ``real + i imag`` in radians, in ``(-pi, pi]`` (``+0.0`` folds ``-0`` to ``0``)."""
    return torch.atan2(imag + 0.0, real)
