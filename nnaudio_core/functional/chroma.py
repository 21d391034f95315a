"""Frame normalisation of chromagrams (``librosa.util.normalize`` along the pitch-class axis), scriptable.

``normalize_frames(x, norm)`` divides every frame (a column of ``(..., n_chroma, frames)``) by its
``norm``-norm: ``inf`` the largest magnitude, ``-inf`` the smallest, ``0`` the number of non-zero
entries, ``p > 0`` the p-norm, ``None`` nothing. Frames whose norm is below the smallest normal
number of the dtype (silence) are left as they are, so the result is finite (zeros stay zeros) and
so is its gradient. Half-precision input is normalised in float32 and cast back.
"""


import torch
from torch import Tensor

from .dtypes import dtype_tiny, is_half

__all__ = ["normalize_frames", "threshold_below"]


def normalize_frames(x: Tensor, norm: float | None, dim: int = -2) -> Tensor:
    """Divide ``x`` by its ``norm``-norm along ``dim`` (silent frames unchanged).

    Parameters
    ----------
    x : Tensor, shape (..., n_chroma, frames)
    norm : float or None
        ``inf``, ``-inf``, ``0`` (count of non-zeros), a p-norm order ``> 0``, or ``None`` (no-op).
    dim : int
        The axis normalised (default the pitch classes, ``-2``).

    Returns
    -------
    Tensor, same shape and dtype as ``x``

    Examples
    --------
    >>> normalize_frames(torch.tensor([[1.0, 0.0], [4.0, 0.0]]), float("inf"))
    tensor([[0.2500, 0.0000],
            [1.0000, 0.0000]])
    """
    if norm is None:
        return x
    work = x.float() if is_half(x.dtype) else x
    mag = work.abs()
    if norm == float("inf"):
        length = mag.amax(dim, keepdim=True)
    elif norm == float("-inf"):
        length = mag.amin(dim, keepdim=True)
    elif norm == 0.0:
        length = (mag > 0).to(work.dtype).sum(dim, keepdim=True)
    else:
        if norm == 1.0:
            total = mag.sum(dim, keepdim=True)
        elif norm == 2.0:
            total = (work * work).sum(dim, keepdim=True)
        else:
            total = mag.pow(norm).sum(dim, keepdim=True)
        # the root of a zero sum has an infinite derivative: take it of 1 there (the frame stays as it is)
        positive = total > 0
        length = torch.where(positive, total, torch.ones_like(total)).pow(1.0 / norm)
        length = torch.where(positive, length, torch.zeros_like(length))
    silent = length < dtype_tiny(x.dtype)
    length = torch.where(silent, torch.ones_like(length), length)
    return (work / length).to(x.dtype)


def threshold_below(x: Tensor, threshold: float | None) -> Tensor:
    """Set entries below ``threshold`` to zero (``None``: unchanged), as ``librosa.feature.chroma_cqt``.

    Examples
    --------
    >>> threshold_below(torch.tensor([0.1, 0.5]), 0.2)
    tensor([0.0000, 0.5000])
    """
    if threshold is None:
        return x
    return torch.where(x < threshold, torch.zeros_like(x), x)
