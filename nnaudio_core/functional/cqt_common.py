"""What both constant-Q algorithms share: frame counts, signal extension, per-bin scaling, octaves.

Frames (the definition in ``docs/cqt.md``): ``C[k, t] = sum_n x[t * hop + n] * conj(kernel_k[n])``.
With ``center=True`` there are ``1 + len // hop`` frames and ``x`` is extended by ``pad_mode``
outside the signal. With ``center=False`` frame ``t`` has ``n = 0`` at sample
``t * hop + center_index`` (``center_index`` = the longest kernel's ``-min(n)``) and only frames
whose longest kernel lies entirely inside the signal are returned: ``1 + (len - width) // hop``.

The tensor functions here are TorchScript-compatible; :func:`octave_groups` and
:func:`kernel_geometry` (numpy) serve the plan builders.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..kernels.cqt import _check_int, _grid, cqt_frequencies, cqt_lengths
from .capture import exporting

PAD_MODES = ("constant", "reflect", "replicate", "circular")

__all__ = ["PAD_MODES", "cqt_frame_count", "extend_signal", "extension_index", "fit_length", "kernel_geometry", "octave_groups",
           "scale_bins"]


def cqt_frame_count(length: int, hop_length: int, center: bool, width: int) -> int:
    """Number of frames: ``1 + length // hop`` centred, else ``1 + (length - width) // hop`` (or 0).

    Parameters
    ----------
    length : int
        Input samples.
    hop_length : int
        Samples between frames.
    center : bool
        Centred frames.
    width : int
        Grid length of the longest kernel (used when ``center=False``).

    Returns
    -------
    int

    Examples
    --------
    >>> cqt_frame_count(22050, 512, True, 27771), cqt_frame_count(44100, 512, False, 27771)
    (44, 32)
    """
    if center:
        return 1 + length // hop_length
    if not exporting() and length < width:  # an exported program takes inputs of at least `width` samples
        return 0
    return 1 + (length - width) // hop_length


def fit_length(x: Tensor, length: int) -> Tensor:
    """Crop the last axis of ``x`` to ``length`` samples, or zero-pad it to that length.

    One ``F.pad`` (a negative pad crops), with no branch on the sizes: under ``torch.export`` the
    result has exactly ``length`` samples for every input length, so the time dimension stays
    dynamic where a slice ``x[..., :length]`` would need the exporter to prove ``length <= len``.

    Parameters
    ----------
    x : torch.Tensor, shape (..., time)
    length : int
        Samples to keep, ``>= 0``.

    Returns
    -------
    torch.Tensor, shape (..., length)

    Examples
    --------
    >>> fit_length(torch.arange(5.0), 3), fit_length(torch.arange(2.0), 4)
    (tensor([0., 1., 2.]), tensor([0., 1., 0., 0.]))
    """
    return F.pad(x, [0, length - x.shape[-1]])


def extend_signal(x: Tensor, left: int, right: int, pad_mode: str) -> Tensor:
    """Pad the last axis of ``x`` by ``left``/``right`` samples (``right`` may be negative: crop).

    ``"constant"`` pads zeros; ``"reflect"`` mirrors without repeating the edge sample and keeps
    mirroring when the pad is longer than the signal (period ``2 * (len - 1)``); ``"replicate"``
    repeats the edge samples; ``"circular"`` wraps around.

    Parameters
    ----------
    x : torch.Tensor, shape (batch, time)
    left, right : int
        Samples added before and after (``right < 0`` drops samples at the end).
    pad_mode : str
        One of :data:`PAD_MODES`.

    Returns
    -------
    torch.Tensor, shape (batch, time + left + right)

    Examples
    --------
    >>> extend_signal(torch.tensor([[1.0, 2.0, 3.0]]), 4, 2, "reflect")
    tensor([[1., 2., 3., 2., 1., 2., 3., 2., 1.]])
    """
    length = x.shape[-1]
    if pad_mode == "constant":
        return F.pad(x, [left, right])  # a negative pad crops
    if not exporting():  # exporting: no comparison of the (symbolic) lengths; the index path takes any pads
        # (not while compiling: inductor runs the index path 2x slower than F.pad, and compiles F.pad fast)
        if right < 0:
            x = x[..., : length + right]
            length = length + right
            right = 0
        if left == 0 and right == 0:
            return x
        if pad_mode == "reflect" and left < length and right < length:
            return F.pad(x.unsqueeze(1), [left, right], mode="reflect").squeeze(1)
        if pad_mode == "replicate":
            return F.pad(x.unsqueeze(1), [left, right], mode="replicate").squeeze(1)
    idx = extension_index(left, length + right, length, pad_mode, x.device)
    return x.index_select(-1, idx)


def extension_index(left: int, stop: int, length: int, pad_mode: str, device: torch.device) -> Tensor:
    """The clip sample each sample of an extension reads: positions ``-left ... stop - 1`` mapped onto ``0 ... length - 1``.

    ``"reflect"`` mirrors without repeating the edge sample (period ``2 * (length - 1)``, as a
    tensor: ONNX has no remainder by a symbolic scalar), ``"circular"`` wraps, ``"replicate"``
    clamps. :func:`extend_signal` gathers with it; its adjoint scatters (``index_add``) with it.

    Examples
    --------
    >>> extension_index(2, 5, 3, "reflect", torch.device("cpu"))
    tensor([2, 1, 0, 1, 2, 1, 0])
    """
    idx = torch.arange(-left, stop, device=device)
    if pad_mode == "reflect":
        if length == 1:
            return torch.zeros_like(idx)
        period = torch.full((), 2 * (length - 1), dtype=idx.dtype, device=device)
        idx = torch.remainder(idx, period)
        return torch.where(idx < length, idx, period - idx)
    if pad_mode == "circular":
        return torch.remainder(idx, torch.full((), length, dtype=idx.dtype, device=device))
    if pad_mode == "replicate":
        return idx.clamp(0, length - 1)
    raise ValueError("pad_mode=" + pad_mode + " is not allowed; expected constant, reflect, replicate or circular")


def scale_bins(real: Tensor, imag: Tensor, scale: Tensor | None) -> tuple[Tensor, Tensor]:
    """Multiply bin ``k`` of both parts by ``scale[k]`` (``None``: unchanged).

    Parameters
    ----------
    real, imag : torch.Tensor, shape (batch, n_bins, frames)
    scale : torch.Tensor, shape (n_bins,), optional

    Returns
    -------
    real, imag : torch.Tensor, shape (batch, n_bins, frames)

    Examples
    --------
    >>> re, im = scale_bins(torch.ones(1, 2, 3), torch.zeros(1, 2, 3), torch.tensor([1.0, 2.0]))
    >>> re[0, :, 0]
    tensor([1., 2.])
    """
    if scale is None:
        return real, imag
    s = scale.to(real.dtype).unsqueeze(-1)
    return real * s, imag * s


def octave_groups(n_bins: int, bins_per_octave: int) -> list[tuple[int, int]]:
    """Bin ranges ``[lo, hi)`` of the octaves counted from the top bin down.

    The first range holds the top ``bins_per_octave`` bins; the last one may be partial.

    Parameters
    ----------
    n_bins, bins_per_octave : int
        Both ``>= 1``.

    Returns
    -------
    list of (int, int)

    Examples
    --------
    >>> octave_groups(10, 4)
    [(6, 10), (2, 6), (0, 2)]
    """
    n_bins = _check_int("n_bins", n_bins, 1)
    bins_per_octave = _check_int("bins_per_octave", bins_per_octave, 1)
    out = []
    hi = n_bins
    while hi > 0:
        out.append((max(0, hi - bins_per_octave), hi))
        hi -= bins_per_octave
    return out


def kernel_geometry(
    *, sr: float, fmin: float, n_bins: int, bins_per_octave: int, filter_scale: float, convention: str,
    gamma: float | None = 0.0,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Centre frequencies, real kernel lengths, and the longest kernel's ``n = 0`` column and grid length.

    Parameters
    ----------
    sr, fmin, n_bins, bins_per_octave, filter_scale, convention, gamma
        As :func:`~nnaudio_core.kernels.cqt.cqt_kernels` (``gamma``: variable-Q lengths).

    Returns
    -------
    freqs, lengths : numpy.ndarray, shape (n_bins,), float64
    center_index, width : int

    Examples
    --------
    >>> _, _, center_index, width = kernel_geometry(sr=22050, fmin=32.70, n_bins=84, bins_per_octave=12,
    ...                                             filter_scale=1.0, convention="librosa")
    >>> center_index, width
    (5844, 11687)
    """
    freqs = cqt_frequencies(n_bins=n_bins, fmin=fmin, bins_per_octave=bins_per_octave)
    lengths = cqt_lengths(freqs, sr=sr, filter_scale=filter_scale, bins_per_octave=bins_per_octave,
                          convention=convention, gamma=gamma)
    lo, hi = _grid(float(lengths[0]))
    return freqs, lengths, -lo, hi - lo
