"""Full-rate constant-Q transform (``cqt1992``): one strided correlation, or block FFT correlation.

Two ways to compute the definition of :mod:`nnaudio_core.kernels.cqt` at the full sample rate:

* :func:`cqt1992_conv`: one strided correlation with the real rows ``[Re K; -Im K]`` of
  :func:`~nnaudio_core.kernels.cqt.cqt_conv_kernels` (trainable, float64-exact);
* :func:`cqt1992_fft`: block FFT correlation for the long kernels and strided correlation for the
  short ones, with the kernels and schedule of :func:`cqt1992_fft_plan` (frozen kernels, equal up
  to float rounding).

The plan builder is numpy; the two transforms are TorchScript-compatible tensor functions (see
:mod:`~nnaudio_core.functional.cqt_common` for the frames they return).
"""


import math
from typing import NamedTuple

import numpy as np
import scipy.fft
import torch
import torch.nn.functional as F
from torch import Tensor

from ..kernels.cqt import _check_int, _grid, cqt_conv_kernels, cqt_kernels
from ..kernels.windows import WindowSpec, periodic_window
from .capture import exporting, reshape_symbolic
from .conv import strided_conv1d
from .cqt_common import cqt_frame_count, extend_signal, fit_length, kernel_geometry, octave_groups, scale_bins

__all__ = ["CQT1992FFTPlan", "CQT1992FFTSchedule", "cqt1992_conv", "cqt1992_fft", "cqt1992_fft_plan"]


class CQT1992FFTSchedule(NamedTuple):
    """The integers :func:`cqt1992_fft` runs on (from :func:`cqt1992_fft_plan`; TorchScript-compatible).

    Attributes
    ----------
    hop_length : int
        Samples between frames.
    n_fft : int
        Block length ``F = hop_length * P`` (0: no FFT part, every octave is correlated directly).
    frames_per_block : int
        Frames computed from one block.
    center_index : int
        Column of ``n = 0`` in the common window (the longest kernel's grid).
    width : int
        Length of the common window.
    conv_offsets : list of int
        Per directly correlated octave (ascending bins): its first column in the common window.
    """

    hop_length: int
    n_fft: int
    frames_per_block: int
    center_index: int
    width: int
    conv_offsets: list[int]


class CQT1992FFTPlan(NamedTuple):
    """Kernels and schedule of the fast full-rate CQT (:func:`cqt1992_fft_plan`).

    Bins ``[0, n_fft_bins)`` come from block FFT correlation, the octaves above from strided
    correlations with their time-domain kernels; every list is in ascending bin order and every
    array is laid out as :func:`cqt1992_fft` takes it (``torch.from_numpy`` of each).

    Attributes
    ----------
    fft_kernels : list of numpy.ndarray, shape (P, R, n, 2), float32
        Per FFT octave: ``V[q, r, k] = conj(DFT(kernel_k)[r * P + q]) / hop`` on the ``R`` kept
        spectral rows, as (real, imag) pairs.
    fft_bins : list of numpy.ndarray, shape (P * R,), int64
        Per FFT octave: the DFT bins ``r * P + q`` of the kept rows, ``q``-major.
    conv_kernels : list of numpy.ndarray, shape (2 * n, 1, width), float64
        Per remaining octave: rows ``[Re K; -Im K]``.
    schedule : CQT1992FFTSchedule
    """

    fft_kernels: list[np.ndarray]
    fft_bins: list[np.ndarray]
    conv_kernels: list[np.ndarray]
    schedule: CQT1992FFTSchedule


def _window_extent(window: WindowSpec, level: float, length: int = 1024) -> float:
    """Half-width, in units of ``1 / window_length`` cycles per sample, beyond which the window's
    spectrum stays below ``level`` times its peak (measured on a ``length``-sample window)."""
    w = periodic_window(window, length)
    mag = np.abs(np.fft.rfft(w, 32 * length))
    above = np.flatnonzero(mag > level * mag.max())
    return (above[-1] + 1) / 32 if above.size else 1.0


def _kernel_band(
    kernels: np.ndarray,
    offset: int,
    *,
    n_fft: int,
    hop_length: int,
    centers: np.ndarray,
    half_widths: np.ndarray,
    eps: float,
) -> tuple[np.ndarray, int]:
    """DFT (length ``n_fft``) of kernels placed at column ``offset``, on the rows that can matter.

    Rows are runs of ``P = n_fft // hop_length`` bins. The rows covering every kernel's predicted
    support (``centers +- half_widths`` bins) are computed from the kernels demodulated to the
    band's start and decimated in time by the largest power of two ``D`` that keeps the band under
    half the decimated length: ``D * DFT_{n/D}(k[D m] e^{...})`` equals the full DFT on the band up
    to aliases of the (negligible) out-of-band spectrum. When the band is too wide, or the spectrum
    at its outermost bins is not negligible after all (a window whose spectrum is wider than
    predicted), the full DFT is used.

    Returns
    -------
    spec : numpy.ndarray, shape (n, rows, P), complex64
    first_row : int
        Row of ``spec[:, 0]`` (may be negative: rows wrap modulo ``hop_length``).
    """
    p = n_fft // hop_length
    n, width = kernels.shape
    lo_bin = math.floor(float(np.min(centers - half_widths))) - 1
    hi_bin = math.ceil(float(np.max(centers + half_widths))) + 1
    first_row, last_row = lo_bin // p, hi_bin // p
    rows = last_row - first_row + 1
    band = rows * p
    decim = 1
    while n_fft % (2 * decim) == 0 and n_fft // (2 * decim) >= 2 * band:
        decim *= 2
    if decim > 1 and rows < hop_length:
        f0 = first_row * p
        cols = np.arange(width)
        # demodulate to the band start, then keep every decim-th sample of the placed kernel
        keep = (offset + cols) % decim == 0
        pos = (offset + cols[keep]) // decim
        phase = np.exp(-2j * np.pi * np.mod(f0 * (offset + cols[keep]) / n_fft, 1.0))
        short = np.zeros((n, n_fft // decim), dtype=np.complex64)
        short[:, pos] = kernels[:, keep] * phase
        spec = (decim * scipy.fft.fft(short, axis=-1, workers=-1)[:, :band]).reshape(n, rows, p)
        flat = np.abs(spec.reshape(n, band))
        guard = max(2, p // 8)  # the band's outermost bins lie beyond every predicted support
        edge = np.maximum(flat[:, :guard].max(axis=1), flat[:, -guard:].max(axis=1))
        peak = flat.max(axis=1)
        if np.all(edge <= eps * peak):
            return spec.astype(np.complex64), first_row
    full = scipy.fft.fft(kernels.astype(np.complex64), n=n_fft, axis=-1, workers=-1)
    if offset:
        full *= np.exp(-2j * np.pi * np.mod(np.arange(n_fft) * offset / n_fft, 1.0)).astype(np.complex64)
    return full.reshape(n, hop_length, p), 0


def cqt1992_fft_plan(
    *,
    sr: float,
    fmin: float,
    n_bins: int,
    hop_length: int,
    bins_per_octave: int = 12,
    filter_scale: float = 1.0,
    norm: float | None = 1,
    window: WindowSpec = "hann",
    convention: str = "librosa",
    conv_max_width: int | None = None,
    block_factor: float = 2.0,
    eps: float = 1e-6,
) -> CQT1992FFTPlan:
    """Kernels for the fast full-rate CQT: block FFT correlation for long kernels, strided for short.

    Octaves whose kernels are at most ``conv_max_width`` samples wide (default
    ``4 * hop_length``) are correlated directly. The others share blocks of
    ``n_fft = hop_length * P`` samples (``P`` a power of two with ``n_fft >= block_factor * width``);
    each block's spectrum is multiplied by the kernels' conjugate spectra and folded modulo ``P``
    (decimation by ``hop_length`` in time), then a ``P``-point inverse FFT gives all the block's
    frames. Spectral rows (runs of ``P`` bins) where every kernel of an octave is below ``eps``
    times its peak are dropped; ``eps=0`` keeps everything (exact up to float rounding). The
    spectra are computed in single precision (relative accuracy ~1e-7, enough for float32 output;
    the ``conv`` path is the float64-exact one).

    Parameters
    ----------
    sr, fmin, n_bins, hop_length, bins_per_octave, filter_scale, norm, window, convention
        As :func:`~nnaudio_core.kernels.cqt.cqt_kernels`; ``hop_length >= 1``.
    conv_max_width : int, optional
        Widest octave computed by direct correlation.
    block_factor : float
        Block length over the longest kernel, ``> 1``.
    eps : float
        Relative spectral magnitude below which rows are dropped, ``>= 0``.

    Returns
    -------
    CQT1992FFTPlan

    Examples
    --------
    >>> plan = cqt1992_fft_plan(sr=22050, fmin=32.70, n_bins=84, hop_length=512)
    >>> plan.schedule.n_fft, plan.schedule.frames_per_block, len(plan.fft_kernels), len(plan.conv_kernels)
    (32768, 42, 3, 4)
    >>> plan.fft_kernels[0].shape, plan.conv_kernels[0].shape
    ((64, 13, 12, 2), (24, 1, 1461))
    """
    hop_length = _check_int("hop_length", hop_length, 1)
    if not (block_factor > 1):
        raise ValueError(f"block_factor={block_factor!r} is not allowed; expected a number > 1")
    if not (eps >= 0):
        raise ValueError(f"eps={eps!r} is not allowed; expected a number >= 0")
    conv_max_width = 4 * hop_length if conv_max_width is None else int(conv_max_width)
    common = dict(sr=sr, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave, filter_scale=filter_scale,
                  norm=norm, window=window, convention=convention)
    freqs, lengths, center, width = kernel_geometry(sr=sr, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave,
                                                    filter_scale=filter_scale, convention=convention)
    groups = octave_groups(n_bins, bins_per_octave)[::-1]  # ascending
    widths = [_grid(float(lengths[lo]))[1] - _grid(float(lengths[lo]))[0] for lo, _ in groups]
    n_fft_groups = 0
    while n_fft_groups < len(groups) and widths[n_fft_groups] > conv_max_width:
        n_fft_groups += 1
    conv_kernels, conv_offsets = [], []
    for lo, hi in groups[n_fft_groups:]:  # float64 rows [Re K; -Im K]
        rows = cqt_conv_kernels(bins=np.arange(lo, hi), **common)
        conv_kernels.append(rows.kernels[:, None, :])
        conv_offsets.append(int(center - rows.center))
    fft_bins, fft_kernels = [], []
    n_fft = frames_per_block = 0
    if n_fft_groups:
        p = 1
        while hop_length * p < block_factor * width:
            p *= 2
        n_fft = hop_length * p
        frames_per_block = (n_fft - width) // hop_length + 1
        extent = _window_extent(window, eps / 10)
        for lo, hi in groups[:n_fft_groups]:
            # FFT octaves only feed single-precision spectra
            kern = cqt_kernels(bins=np.arange(lo, hi), dtype=np.complex64, **common)
            offset = center - kern.center  # the group's first column in the common window
            spec, first_row = _kernel_band(kern.kernels, offset, n_fft=n_fft, hop_length=hop_length,
                                           centers=freqs[lo:hi] * n_fft / sr,
                                           half_widths=extent * n_fft / np.floor(lengths[lo:hi]), eps=eps)
            n_rows = spec.shape[1]
            row_peak = np.abs(spec).max(axis=2)  # (n, rows)
            keep = np.flatnonzero(np.any(row_peak > eps * row_peak.max(axis=1, keepdims=True), axis=0))
            fr = (np.arange(first_row, first_row + n_rows)[keep] % hop_length)[:, None] * p + np.arange(p)  # (R, P)
            vr = np.conj(spec[:, keep, :]) * np.float32(1.0 / hop_length)  # (n, R, P)
            fft_bins.append(np.ascontiguousarray(fr.T).reshape(-1).astype(np.int64))  # q-major: (P, R)
            v = np.ascontiguousarray(vr.transpose(2, 1, 0))  # (P, R, n)
            fft_kernels.append(v.view(np.float32).reshape(v.shape + (2,)))  # (re, im) pairs
    schedule = CQT1992FFTSchedule(hop_length, int(n_fft), int(frames_per_block), center, width, conv_offsets)
    return CQT1992FFTPlan(fft_kernels, fft_bins, conv_kernels, schedule)


def cqt1992_conv(
    x: Tensor,
    weight: Tensor,
    scale: Tensor | None,
    hop_length: int,
    center_index: int,
    center: bool = True,
    pad_mode: str = "reflect",
) -> tuple[Tensor, Tensor]:
    """Full-rate CQT as one strided correlation with real time-domain kernels.

    Parameters
    ----------
    x : Tensor, shape (batch, time)
    weight : Tensor, shape (2 * n_bins, 1, width)
        Rows ``[Re K; -Im K]`` of the kernels (:func:`~nnaudio_core.kernels.cqt.cqt_conv_kernels`),
        ``n = 0`` at column ``center_index`` (trainable).
    scale : Tensor, shape (n_bins,), optional
        Per-bin output factor (normalisation); ``None`` for none.
    hop_length : int
        Samples between frames.
    center_index : int
        Column of ``n = 0`` in ``weight``.
    center : bool
        Centred frames (see :mod:`~nnaudio_core.functional.cqt_common`).
    pad_mode : str
        One of :data:`~nnaudio_core.functional.cqt_common.PAD_MODES` (centred frames only).

    Returns
    -------
    real, imag : Tensor, shape (batch, n_bins, frames)

    Examples
    --------
    >>> from nnaudio_core.kernels.cqt import cqt_conv_kernels
    >>> rows, center_index, _ = cqt_conv_kernels(sr=8000, fmin=100.0, n_bins=24)
    >>> real, imag = cqt1992_conv(torch.randn(2, 8000), torch.from_numpy(rows).float()[:, None], None, 256,
    ...                           center_index)
    >>> real.shape
    torch.Size([2, 24, 32])
    """
    n_bins = weight.shape[0] // 2
    width = weight.shape[-1]
    length = x.shape[-1]
    frames = cqt_frame_count(length, hop_length, center, width)
    if center:
        x = extend_signal(x, center_index, (frames - 1) * hop_length + width - center_index - length, pad_mode)
    out = fit_length(strided_conv1d(x.unsqueeze(1), weight, hop_length), frames)
    return scale_bins(out[:, :n_bins], out[:, n_bins:], scale)


def cqt1992_fft(
    x: Tensor,
    fft_kernels: list[Tensor],
    fft_bins: list[Tensor],
    conv_kernels: list[Tensor],
    scale: Tensor | None,
    schedule: CQT1992FFTSchedule,
    center: bool = True,
    pad_mode: str = "reflect",
) -> tuple[Tensor, Tensor]:
    """Full-rate CQT, fast: block FFT correlation for the long kernels, strided correlation for the rest.

    Computes the same function as :func:`cqt1992_conv`; the tensors are those of a
    :class:`CQT1992FFTPlan` (see :func:`cqt1992_fft_plan` for the algorithm).

    Parameters
    ----------
    x : Tensor, shape (batch, time)
    fft_kernels : list of Tensor, shape (P, R, n, 2)
        Per FFT octave (ascending): the folded conjugate kernel spectra as (real, imag) pairs.
    fft_bins : list of Tensor, shape (P * R,), int64
        Per FFT octave: the DFT bins of the kept spectral rows.
    conv_kernels : list of Tensor, shape (2 * n, 1, w)
        Per remaining octave (ascending): rows ``[Re K; -Im K]``.
    scale : Tensor, shape (n_bins,), optional
        Per-bin output factor; ``None`` for none.
    schedule : CQT1992FFTSchedule
    center, pad_mode
        As :func:`cqt1992_conv`.

    Returns
    -------
    real, imag : Tensor, shape (batch, n_bins, frames)

    Examples
    --------
    >>> plan = cqt1992_fft_plan(sr=22050, fmin=32.70, n_bins=84, hop_length=512)
    >>> real, imag = cqt1992_fft(torch.randn(1, 22050), [torch.from_numpy(v) for v in plan.fft_kernels],
    ...                          [torch.from_numpy(b) for b in plan.fft_bins],
    ...                          [torch.from_numpy(w).float() for w in plan.conv_kernels], None, plan.schedule)
    >>> real.shape
    torch.Size([1, 84, 44])
    """
    hop_length, n_fft, frames_per_block = schedule.hop_length, schedule.n_fft, schedule.frames_per_block
    out_dtype = x.dtype
    if x.dtype == torch.float16 or x.dtype == torch.bfloat16:
        x = x.float()  # CPU FFTs have no half precision: the block FFTs run in float32
    batch = x.shape[0]
    length = x.shape[-1]
    frames = cqt_frame_count(length, hop_length, center, schedule.width)
    # padded signal: frame t's common window starts at sample t * hop
    needed = (frames - 1) * hop_length + schedule.width
    n_blocks = 0
    if n_fft > 0:
        # the blocks cover every frame's window: (frames_per_block - 1) * hop + width <= n_fft, so this
        # is at least the count above (no max() of two lengths: torch.export keeps time dynamic)
        n_blocks = (frames + frames_per_block - 1) // frames_per_block
        if exporting():
            n_blocks = n_blocks + 1  # torch.export specialises a dimension that can be 1: one spare block
        needed = (n_blocks - 1) * frames_per_block * hop_length + n_fft
    if center:
        xp = extend_signal(x, schedule.center_index, needed - schedule.center_index - length, pad_mode)
    else:
        xp = extend_signal(x, 0, needed - length, "constant")  # zeros only reach discarded frames
    reals: list[Tensor] = []
    imags: list[Tensor] = []
    if n_fft > 0:
        blocks = xp.unfold(-1, n_fft, frames_per_block * hop_length)  # (batch, blocks, n_fft)
        if exporting():
            re, im = _block_frames_real(blocks, fft_kernels, fft_bins, n_fft, hop_length, frames_per_block)
        else:
            re, im = _block_frames(blocks, fft_kernels, fft_bins, n_fft, hop_length, frames_per_block)
        reals.append(fit_length(re, frames))
        imags.append(fit_length(im, frames))
    for weight, offset in zip(conv_kernels, schedule.conv_offsets):  # noqa: B905 (TorchScript has no strict=)
        n = weight.shape[0] // 2
        # while exporting, a crop that makes a new tensor: the memory format of a sliced view's convolution
        # depends on whether the (dynamic) batch is 1, and torch 2.9 guards on it
        source = F.pad(xp, [-offset, 0]) if exporting() else xp[:, offset:]
        out = fit_length(strided_conv1d(source.unsqueeze(1), weight.to(xp.dtype), hop_length), frames)
        reals.append(out[:, :n])
        imags.append(out[:, n:])
    real, imag = scale_bins(torch.cat(reals, 1), torch.cat(imags, 1), scale)
    return real.to(out_dtype), imag.to(out_dtype)


def _block_frames(blocks: Tensor, fft_kernels: list[Tensor], fft_bins: list[Tensor], n_fft: int, hop_length: int,
                  frames_per_block: int) -> tuple[Tensor, Tensor]:
    """The FFT octaves' frames of every block (complex arithmetic): real, imag ``(batch, n, blocks * Fb)``."""
    batch = blocks.shape[0]
    spec = torch.fft.rfft(blocks).reshape(-1, n_fft // 2 + 1)  # (batch * blocks, bins)
    p = n_fft // hop_length
    folded: list[Tensor] = []
    for bins, kern in zip(fft_bins, fft_kernels):  # noqa: B905 (TorchScript has no strict=)
        rows = bins.shape[0] // p
        negative = bins > n_fft // 2  # X(f) = conj(X(n_fft - f)) for a real signal
        g = spec.index_select(-1, torch.where(negative, n_fft - bins, bins))
        g = torch.complex(g.real, torch.where(negative, -g.imag, g.imag))
        g = g.reshape(-1, p, rows).transpose(0, 1).contiguous()  # (P, BN, R)
        folded.append(torch.bmm(g, torch.view_as_complex(kern.to(blocks.dtype))))  # (P, BN, n)
    z = torch.cat(folded, -1)
    n_low = z.shape[-1]
    y = torch.fft.ifft(z, dim=0)[:frames_per_block]  # (Fb, BN, n)
    y = y.reshape(frames_per_block, batch, -1, n_low).permute(1, 3, 2, 0).reshape(batch, n_low, -1)
    return y.real, y.imag


@torch.jit.unused  # exporting only (never under TorchScript)
def _block_frames_real(blocks: Tensor, fft_kernels: list[Tensor], fft_bins: list[Tensor], n_fft: int,
                       hop_length: int, frames_per_block: int) -> tuple[Tensor, Tensor]:
    """:func:`_block_frames` on real and imaginary parts only (ONNX has no complex tensors).

    The block spectra come from ``view_as_real(rfft)``, the products are real matrix products, and
    the ``P``-point inverse DFT, of which only ``Fb`` outputs are kept, is a product with its
    ``(Fb, P)`` cosine and sine matrices.
    """
    batch = blocks.shape[0]
    spec = reshape_symbolic(torch.view_as_real(torch.fft.rfft(blocks)), [-1, n_fft // 2 + 1, 2])  # (BN, bins, 2)
    p = n_fft // hop_length
    folded_re: list[Tensor] = []
    folded_im: list[Tensor] = []
    for bins, kern in zip(fft_bins, fft_kernels):  # noqa: B905 (TorchScript has no strict=)
        rows = bins.shape[0] // p
        negative = bins > n_fft // 2
        g = spec.index_select(1, torch.where(negative, n_fft - bins, bins))
        sign = torch.where(negative, -1.0, 1.0).to(g.dtype)
        g_re = reshape_symbolic(g[..., 0], [-1, p, rows]).transpose(0, 1)  # (P, BN, R)
        g_im = reshape_symbolic(g[..., 1] * sign, [-1, p, rows]).transpose(0, 1)
        k = kern.to(g.dtype)
        k_re, k_im = k[..., 0], k[..., 1]  # (P, R, n)
        folded_re.append(torch.bmm(g_re, k_re) - torch.bmm(g_im, k_im))
        folded_im.append(torch.bmm(g_re, k_im) + torch.bmm(g_im, k_re))
    z_re, z_im = torch.cat(folded_re, -1), torch.cat(folded_im, -1)  # (P, BN, n)
    n_low = z_re.shape[-1]
    angle = torch.arange(frames_per_block, dtype=torch.float64)[:, None] * torch.arange(p, dtype=torch.float64)
    angle = angle * (2 * math.pi / p)
    cos = (torch.cos(angle) / p).to(device=blocks.device, dtype=z_re.dtype)
    sin = (torch.sin(angle) / p).to(device=blocks.device, dtype=z_re.dtype)
    # (Fb, P) @ (P, n) per block and batch, as bmm: no reshape that mixes the symbolic blocks with n
    z_re, z_im = z_re.transpose(0, 1), z_im.transpose(0, 1)  # (BN, P, n)
    cos, sin = cos.expand(z_re.shape[0], -1, -1), sin.expand(z_re.shape[0], -1, -1)
    y_re = (torch.bmm(cos, z_re) - torch.bmm(sin, z_im)).transpose(0, 1)  # (Fb, BN, n)
    y_im = (torch.bmm(sin, z_re) + torch.bmm(cos, z_im)).transpose(0, 1)
    y_re = reshape_symbolic(y_re, [frames_per_block, batch, -1, n_low]).permute(1, 3, 2, 0)
    y_im = reshape_symbolic(y_im, [frames_per_block, batch, -1, n_low]).permute(1, 3, 2, 0)
    y_re = reshape_symbolic(y_re, [batch, n_low, y_re.shape[2] * frames_per_block])
    y_im = reshape_symbolic(y_im, [batch, n_low, y_im.shape[2] * frames_per_block])
    return y_re, y_im
