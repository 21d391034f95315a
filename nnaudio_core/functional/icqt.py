"""Inverse constant-Q transform (``icqt``): the one-shot inverse and its least-squares refinement.

The forward transform is the multirate CQT of :func:`~nnaudio_core.functional.cqt2019.cqt2019`
(the definition of :mod:`nnaudio_core.kernels.cqt`), a real-linear map ``A`` from a real signal
``x`` to the pair ``(Re C, Im C)``. This module provides

* :func:`cqt2019_adjoint`: the exact transpose ``A^T`` of that map (every step of
  :func:`~nnaudio_core.functional.cqt2019.cqt2019` transposed: per-octave transposed correlations,
  transposed decimating filters, and the transpose of the signal extension), and its padded-domain
  part :func:`cqt2019_synthesis` (the overlap-add of the kernels weighted by the coefficients);
* :func:`icqt_weights` (numpy): the per-bin weights of the one-shot inverse;
* :func:`icqt`: the one-shot inverse ``y0 = 2 A^T D C``: the overlap-add of the kernels
  ``kernel_k`` at ``t * hop_length`` weighted by ``d_k * C[k, t]`` (``D = diag(d_k)``), with the
  signal extension transposed (what the frames read beyond the clip's edges is folded back onto the
  samples it was copied from: with ``reflect`` padding this completes the edge frames' coverage;
  with ``constant`` padding it is a plain crop, as librosa's); with ``n_iter > 0``, ``n_iter``
  conjugate-gradient steps from ``y0`` on the weighted normal equations ``2 A^T D A y = 2 A^T D C``
  (a least-squares fit of ``C`` by the CQT of ``y``).

``d_k = ln(2) / B * hop_length * f_k / (sr * s_k ** 2 * ||kernel_k||_2 ** 2)`` (``B`` bins per
octave, ``f_k`` the bin's frequency, ``s_k`` the forward's per-bin normalisation) is librosa's
``icqt`` weighting ``hop_length / (s_k ** 2 * l_k * ||kernel_k||_2 ** 2)`` (``l_k`` the kernel length)
with ``l_k`` replaced by its constant-Q value ``B * sr / (ln(2) * f_k)`` at ``filter_scale = 1``.
For librosa's lengths the two differ by the factor ``filter_scale * ln(2) / (B * alpha)``
(``filter_scale`` within 0.1 %): librosa's one-shot result is ``1 / filter_scale`` times too loud,
and nnAudio's rounded-up lengths would make it 1.4 % too quiet at 24 bins per octave. With these
weights ``2 A^T D A`` is close to the identity on the band the kernels cover whenever the frames
sample every kernel densely (``hop_length`` well below the shortest kernel), so ``y0`` is already
accurate there and the refinement converges in a few steps. Everything is a
TorchScript-compatible tensor function branching on shapes and configuration only.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..kernels.cqt import _check_int, _check_norm, cqt_frequencies, cqt_lengths
from ..kernels.windows import WindowSpec, periodic_window, validate_window
from .capture import capturing, compiling, repeated_region
from .cqt2019 import CQT2019Schedule, cqt2019, level_lengths
from .cqt_common import extension_index
from .dtypes import dtype_eps, dtype_tiny, is_half

__all__ = ["cqt2019_adjoint", "cqt2019_synthesis", "extend_signal_adjoint", "icqt", "icqt_length", "icqt_weights"]


def icqt_weights(
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
    scale: np.ndarray | None = None,
    gamma: float | None = 0.0,
) -> np.ndarray:
    """Per-bin weights ``d_k = ln(2) / B * hop_length * f_k / (sr * s_k ** 2 * ||kernel_k||_2 ** 2)`` of the one-shot inverse.

    ``kernel_k`` is the kernel of :func:`~nnaudio_core.kernels.cqt.cqt_kernels` (its squared L2
    norm is its window's, after the ``norm`` normalisation), ``f_k`` its frequency, ``B`` the bins
    per octave and ``s_k`` the forward's output scale of bin ``k`` (``scale``; ``None``: 1). The
    sum over the bins of ``2 d_k s_k ** 2 |DFT(kernel_k)(f)| ** 2 / hop_length`` is then close to 1
    at every frequency the kernels cover (each kernel's spectrum integrates to ``sr *
    ||kernel_k||_2 ** 2``, and ``B / ln(2)`` bins per unit of log frequency overlap there). librosa's
    ``icqt`` uses ``hop_length / (s_k ** 2 * l_k * ||kernel_k||_2 ** 2)``, the same for ``filter_scale = 1``
    and librosa's lengths ``l_k`` up to the factor ``ln(2) / (B * alpha)`` (0.1 % or less); its result
    is ``1 / filter_scale`` times too loud otherwise.

    Parameters
    ----------
    sr, fmin, n_bins, hop_length, bins_per_octave, filter_scale, norm, window, convention, gamma
        As :func:`~nnaudio_core.kernels.cqt.cqt_kernels`; ``hop_length >= 1``.
    scale : numpy.ndarray, shape (n_bins,), optional
        The forward transform's per-bin output factor ``s_k``.

    Returns
    -------
    numpy.ndarray, shape (n_bins,), float64

    Examples
    --------
    >>> d = icqt_weights(sr=22050, fmin=32.70, n_bins=84, hop_length=512)
    >>> d.shape, bool(np.all(d > 0))
    ((84,), True)
    """
    hop_length = _check_int("hop_length", hop_length, 1)
    bins_per_octave = _check_int("bins_per_octave", bins_per_octave, 1)
    freqs = cqt_frequencies(n_bins=n_bins, fmin=fmin, bins_per_octave=bins_per_octave)
    lengths = cqt_lengths(freqs, sr=sr, filter_scale=filter_scale, bins_per_octave=bins_per_octave,
                          convention=convention, gamma=gamma)
    p = _check_norm(norm)
    window = validate_window(window)
    energy = np.empty(n_bins)
    cache: dict[int, float] = {}
    for k, length in enumerate(lengths):
        m = int(math.floor(length))
        if m not in cache:
            win = np.abs(periodic_window(window, m))
            e = float(np.sum(win**2))
            if p is not None:
                nrm = float(np.sum(win**p) ** (1.0 / p)) if math.isfinite(p) else float(win.max())
                if nrm > 0:
                    e = e / nrm**2
            cache[m] = e
        energy[k] = cache[m]
    s2 = np.ones(n_bins) if scale is None else np.asarray(scale, dtype=np.float64) ** 2
    return math.log(2.0) / bins_per_octave * hop_length * freqs / (float(sr) * s2 * np.maximum(energy, 1e-300))


def icqt_length(frames: int, hop_length: int, center: bool, width: int) -> int:
    """The default output length for ``frames`` CQT frames: the shortest clip that gives them.

    ``(frames - 1) * hop_length`` samples when centred (``1 + length // hop_length`` frames), else
    ``width + (frames - 1) * hop_length`` (the longest kernel's grid length ``width``).

    Examples
    --------
    >>> icqt_length(44, 512, True, 11687), icqt_length(3, 512, False, 1000)
    (22016, 2024)
    """
    if center:
        return (frames - 1) * hop_length
    return width + (frames - 1) * hop_length


def extend_signal_adjoint(g: Tensor, left: int, length: int, pad_mode: str) -> Tensor:
    """Transpose of :func:`~nnaudio_core.functional.cqt_common.extend_signal` for a clip of ``length``.

    ``g`` has the extended length ``left + length + right`` (``right`` may be negative: the
    extension then dropped samples at the end). Every extended sample's value is added back onto the
    clip sample it was copied from (``"constant"`` padding copies none).

    Parameters
    ----------
    g : torch.Tensor, shape (batch, extended)
    left : int
        Samples the extension added before the clip.
    length : int
        Clip length.
    pad_mode : str
        One of :data:`~nnaudio_core.functional.cqt_common.PAD_MODES`.

    Returns
    -------
    torch.Tensor, shape (batch, length)

    Examples
    --------
    >>> extend_signal_adjoint(torch.ones(1, 9), 4, 3, "reflect")
    tensor([[3., 4., 2.]])
    """
    extended = g.shape[-1]
    if capturing():  # no comparison of the (symbolic) lengths: extend_signal's capture path, transposed
        return _extension_adjoint_indexed(g, left, length, pad_mode)
    right = extended - left - length
    kept = length + right if right < 0 else length  # samples of the clip the extension reads
    tail = max(right, 0)
    if pad_mode == "constant":
        out = g[:, left : left + kept]
    elif pad_mode == "reflect" and 0 < left < kept and tail < kept:  # one mirror image each side
        out = g[:, left : left + kept]
        head = F.pad(g[:, :left].flip(-1), [1, kept - left - 1])
        end = F.pad(g[:, left + kept :].flip(-1), [kept - 1 - tail, 1])
        out = out + head + end
    else:
        idx = extension_index(left, kept + tail, kept, pad_mode, g.device)
        out = torch.zeros(g.shape[0], kept, dtype=g.dtype, device=g.device).index_add(1, idx, g)
    if kept < length:
        out = F.pad(out, [0, length - kept])
    return out


def _extension_adjoint_indexed(g: Tensor, left: int, length: int, pad_mode: str) -> Tensor:
    """:func:`extend_signal_adjoint` without branches on the sizes (what an exported program runs).

    The transpose of :func:`~nnaudio_core.functional.cqt_common.extend_signal`'s index path: each
    extended sample ``i - left`` is added onto the clip sample it maps to (reflected, wrapped or
    clamped over the ``length`` samples); ``"constant"`` keeps the clip's own samples, cropping or
    zero-padding at the end with one ``F.pad``.
    """
    if pad_mode == "constant":
        return F.pad(g[:, left:], [0, length - (g.shape[-1] - left)])
    idx = extension_index(left, g.shape[-1] - left, length, pad_mode, g.device)
    return torch.zeros(g.shape[0], length, dtype=g.dtype, device=g.device).index_add(1, idx, g)


def overlap_add(z: Tensor, weight: Tensor, stride: int, length: int) -> Tensor:
    """Transposed strided correlation: ``y[t * stride + n] += sum_c z[c, t] * weight[c, 0, n]``, on ``length`` samples.

    ``F.conv_transpose1d(z, weight, stride=stride)`` (zero-padded or cut to ``length``), computed as
    one matrix product giving every frame's patch and ``ceil(width / stride)`` shifted sums of the
    patches (faster on CPUs than the im2col form of the transposed convolution), or, where that
    would take more than 64 shifts, by the transposed convolution itself.

    Parameters
    ----------
    z : Tensor, shape (batch, channels, frames)
    weight : Tensor, shape (channels, 1, width)
    stride : int
    length : int
        Output samples (``>= 0``).

    Returns
    -------
    Tensor, shape (batch, length)

    Examples
    --------
    >>> z, w = torch.randn(2, 3, 5), torch.randn(3, 1, 7)
    >>> bool(torch.allclose(overlap_add(z, w, 2, 15), F.conv_transpose1d(z, w, stride=2)[:, 0], atol=1e-6))
    True
    """
    batch = z.shape[0]
    frames = z.shape[-1]
    width = weight.shape[-1]
    parts = (width + stride - 1) // stride
    # a stride far below the width: one loop step per shift would cost more than im2col; and while capturing
    # (export, compile) one op makes a far smaller graph than `parts` shifted additions
    if parts > 64 or capturing():
        out = F.conv_transpose1d(z, weight, stride=stride)[:, 0]
        return F.pad(out, [0, length - out.shape[-1]])
    patches = torch.matmul(z.transpose(1, 2), weight.reshape(weight.shape[0], width))  # (batch, frames, width)
    patches = F.pad(patches, [0, parts * stride - width])
    total = (frames + parts - 1) * stride
    out = torch.zeros(batch, total, dtype=patches.dtype, device=patches.device)
    for j in range(parts):
        out[:, j * stride : j * stride + frames * stride] += patches[:, :, j * stride : (j + 1) * stride].reshape(
            batch, frames * stride)
    return F.pad(out, [0, length - total])  # zeros, or cut (a negative pad); no max(): traces stay dynamic


def _level_lengths(schedule: CQT2019Schedule, kernels: list[Tensor], lowpass: Tensor, blocks: int) -> list[int]:
    """Lengths of the signal at every decimation level in :func:`~nnaudio_core.functional.cqt2019.cqt2019`.

    ``blocks`` is the forward's ``K = max(ceil(frames / B), 1)`` (:func:`level_lengths`): level 0
    holds ``K * B * hop + b_0`` samples, and each decimation keeps what the forward's filter bank
    returns (affine in ``K`` again, as ``B * hop / 2 ** j`` is a multiple of the bank's block).
    """
    outputs = lowpass.shape[0]
    bank_width = lowpass.shape[-1]
    block, constants = level_lengths(schedule, [w.shape[-1] for w in kernels], outputs, bank_width)
    lengths = [blocks * block * schedule.hop_length + constants[0]]
    for j in range(max(schedule.levels)):
        lengths.append(((lengths[j] - bank_width) // (2 * outputs) + 1) * outputs)
    return lengths


def cqt2019_synthesis(
    real: Tensor,
    imag: Tensor,
    kernels: list[Tensor],
    lowpass: Tensor,
    scale: Tensor | None,
    schedule: CQT2019Schedule,
) -> Tensor:
    """Transpose of the multirate correlation of :func:`~nnaudio_core.functional.cqt2019.cqt2019`, before unpadding.

    Returns the signal in the forward's extended (padded) domain: ``sum_{k, t} s_k Re(kernel_k[m -
    p_t] (real + 1j imag)[k, t])`` with ``p_t`` frame ``t``'s position, computed octave by octave
    at the forward's rates (transposed strided correlations, then the transposed decimating
    low-pass on the way up).

    Parameters
    ----------
    real, imag : Tensor, shape (batch, n_bins, frames)
    kernels, lowpass, scale, schedule
        Those of a :class:`~nnaudio_core.functional.cqt2019.CQT2019Plan`, as
        :func:`~nnaudio_core.functional.cqt2019.cqt2019` takes them.

    Returns
    -------
    Tensor, shape (batch, extended)
        ``extended`` is the length the forward pads a clip giving ``frames`` frames to.

    Examples
    --------
    >>> from nnaudio_core.functional.cqt2019 import cqt2019_plan
    >>> plan = cqt2019_plan(sr=8000, fmin=300.0, n_bins=12, bins_per_octave=6, hop_length=32)
    >>> k = [torch.from_numpy(w).float() for w in plan.kernels]
    >>> y = cqt2019_synthesis(torch.randn(1, 12, 5), torch.randn(1, 12, 5), k,
    ...                       torch.from_numpy(plan.lowpass).float(), None, plan.schedule)
    >>> y.shape[0], y.dim()
    (1, 2)
    """
    levels, starts, strides, phases = schedule.levels, schedule.starts, schedule.strides, schedule.phases
    batch = real.shape[0]
    n_bins = real.shape[1]
    frames = real.shape[-1]
    if scale is not None:
        s = scale.to(real.dtype).unsqueeze(-1)
        real = real * s
        imag = imag * s
    block, _ = level_lengths(schedule, [w.shape[-1] for w in kernels], lowpass.shape[0], lowpass.shape[-1])
    blocks = max((frames + block - 1) // block, 1)  # as the forward: frames of whole blocks
    lengths = _level_lengths(schedule, kernels, lowpass, blocks)
    top = max(levels)
    outputs = lowpass.shape[0]
    bank = lowpass.to(real.dtype)
    acc = torch.zeros(batch, lengths[top], dtype=real.dtype, device=real.device)
    level = top
    hi = n_bins
    offsets: list[int] = []
    for g in range(len(kernels)):  # bin ranges of the groups (top octave first)
        offsets.append(hi)
        hi = hi - kernels[g].shape[0] // (2 * phases[g])  # not -=: a traced size is a tensor
    for g in range(len(kernels) - 1, -1, -1):  # from the deepest level up
        while level > levels[g]:
            level -= 1
            acc = _interpolate(acc, bank, lengths[level])
        w = kernels[g].to(real.dtype)
        p = phases[g]
        n = w.shape[0] // (2 * p)
        hi = offsets[g]
        count = blocks * (block // p)  # the forward's correlation outputs per phase (frames past the end are 0)
        z = torch.cat([real[:, hi - n : hi], imag[:, hi - n : hi]], 1)  # (batch, 2n, frames)
        z = F.pad(z, [0, count * p - frames])
        if p > 1:
            z = z.reshape(batch, 2 * n, count, p).permute(0, 3, 1, 2).reshape(batch, p * 2 * n, count)
        contribution = overlap_add(z, w, strides[g], acc.shape[-1] - starts[g])
        acc = torch.cat([acc[:, : starts[g]], acc[:, starts[g] :] + contribution], 1)
    while level > 0:
        level -= 1
        acc = _interpolate(acc, bank, lengths[level])
    return acc


def _interpolate(x: Tensor, bank: Tensor, length: int) -> Tensor:
    """Transpose of the forward's decimation by 2 (filter bank ``bank`` ``(M, 1, width)``), on ``length`` samples.

    ``x`` ``(batch, M * rows)`` holds the bank's outputs row by row (``y[i] = sum_k h[k] x[2 i +
    k]``, the same taps ``h`` in every row). While capturing (export, compile), a transposed stride-2
    convolution with the taps (the forward's capture path, transposed): no reshape of the symbolic
    length, which torch.export cannot prove divisible.
    """
    if capturing():
        return F.pad(F.conv_transpose1d(x.unsqueeze(1), bank[:1], stride=2)[:, 0],
                     [0, length - (2 * x.shape[-1] - 2 + bank.shape[-1])])
    outputs = int(bank.shape[0])  # a constant (the bank is fixed): torch 2.9's tracer rejects a traced size as a stride
    return overlap_add(x.reshape(x.shape[0], -1, outputs).transpose(1, 2), bank, 2 * outputs, length)


def _left(schedule: CQT2019Schedule, center: bool) -> int:
    return schedule.pad_left if center else schedule.pad_left - schedule.center_index


def cqt2019_adjoint(
    real: Tensor,
    imag: Tensor,
    kernels: list[Tensor],
    lowpass: Tensor,
    scale: Tensor | None,
    schedule: CQT2019Schedule,
    length: int,
    center: bool = True,
    pad_mode: str = "reflect",
) -> Tensor:
    """The exact transpose of :func:`~nnaudio_core.functional.cqt2019.cqt2019` for clips of ``length`` samples.

    For a real clip ``x`` giving ``(Re C, Im C)`` and any ``(real, imag)`` of the same shape,
    ``<cqt2019(x), (real, imag)> == <x, cqt2019_adjoint(real, imag)>`` (to float rounding):
    ``Re(A^H (real + 1j imag))``.

    Parameters
    ----------
    real, imag : Tensor, shape (batch, n_bins, frames)
        ``frames`` must be the number of frames of a clip of ``length`` samples.
    kernels, lowpass, scale, schedule, center, pad_mode
        As :func:`~nnaudio_core.functional.cqt2019.cqt2019`.
    length : int
        Clip length in samples.

    Returns
    -------
    Tensor, shape (batch, length)

    Examples
    --------
    >>> from nnaudio_core.functional.cqt2019 import cqt2019_plan
    >>> plan = cqt2019_plan(sr=8000, fmin=300.0, n_bins=12, bins_per_octave=6, hop_length=32)
    >>> k = [torch.from_numpy(w).double() for w in plan.kernels]
    >>> lp = torch.from_numpy(plan.lowpass)
    >>> x = torch.randn(1, 200, dtype=torch.float64)
    >>> re, im = cqt2019(x, k, lp, None, plan.schedule)
    >>> u, v = torch.randn_like(re), torch.randn_like(im)
    >>> lhs = (re * u + im * v).sum()
    >>> rhs = (x * cqt2019_adjoint(u, v, k, lp, None, plan.schedule, 200)).sum()
    >>> bool(torch.isclose(lhs, rhs))
    True
    """
    padded = cqt2019_synthesis(real, imag, kernels, lowpass, scale, schedule)
    return extend_signal_adjoint(padded, _left(schedule, center), length, pad_mode)


def _dot(a: Tensor, b: Tensor) -> Tensor:
    """Per-row inner products of ``(batch, time)`` tensors, shape (batch, 1)."""
    return (a * b).sum(-1, keepdim=True)


def icqt(
    real: Tensor,
    imag: Tensor,
    kernels: list[Tensor],
    lowpass: Tensor,
    scale: Tensor | None,
    weights: Tensor,
    schedule: CQT2019Schedule,
    length: int,
    n_iter: int = 0,
    center: bool = True,
    pad_mode: str = "reflect",
    reuse_steps: bool = True,
) -> Tensor:
    """Inverse CQT: the one-shot inverse, refined by ``n_iter`` conjugate-gradient steps.

    ``y0 = 2 A^T D C`` (``A`` the forward :func:`~nnaudio_core.functional.cqt2019.cqt2019`,
    ``A^T`` its transpose :func:`cqt2019_adjoint`, ``D = diag(weights)``): the overlap-add of the
    kernels at the frame positions weighted by ``weights[k] * C[k, t]``, folded back from the
    forward's signal extension onto the clip's ``length`` samples. Each refinement step is one
    conjugate-gradient step on ``2 A^T D A y = 2 A^T D C``, started from ``y0``: towards the
    least-squares signal whose CQT is closest to ``C`` in the ``D``-weighted norm. All ``n_iter`` steps
    run (no data-dependent control flow, so the function scripts and exports), but a row whose
    residual has reached the rounding floor (``|r| <= 100 eps |r_0|``) or whose curvature
    ``p^T A p`` is no longer positive takes zero steps from then on: beyond that point conjugate
    gradients only amplify rounding. The steps run on ``C / max|C|`` (per row) so that no inner
    product overflows.

    Parameters
    ----------
    real, imag : Tensor, shape (batch, n_bins, frames)
        The CQT; ``frames`` must be the number of frames of a clip of ``length`` samples.
    kernels, lowpass, scale, schedule, center, pad_mode
        Those of the forward transform (:func:`~nnaudio_core.functional.cqt2019.cqt2019`).
    weights : Tensor, shape (n_bins,)
        The per-bin weights ``d_k`` (:func:`icqt_weights`).
    length : int
        Output samples.
    n_iter : int
        Refinement steps (0: the one-shot inverse).
    reuse_steps : bool
        Under ``torch.compile``, compile one refinement step and reuse it (a
        :func:`~nnaudio_core.functional.capture.repeated_region`); ``False`` unrolls them, as a
        caller that is itself such a region needs (inductor does not take one inside another).
        No effect elsewhere.

    Returns
    -------
    Tensor, shape (batch, length)

    Examples
    --------
    >>> from nnaudio_core.functional.cqt2019 import cqt2019_plan
    >>> kw = dict(sr=8000, fmin=200.0, n_bins=24, bins_per_octave=12, hop_length=16)
    >>> plan = cqt2019_plan(**kw)
    >>> k = [torch.from_numpy(w).double() for w in plan.kernels]
    >>> lp = torch.from_numpy(plan.lowpass)
    >>> d = torch.from_numpy(icqt_weights(**kw))
    >>> t = torch.arange(4000, dtype=torch.float64) / 8000
    >>> x = torch.sin(2 * torch.pi * 440 * t)[None] * torch.hann_window(4000, dtype=torch.float64)
    >>> re, im = cqt2019(x, k, lp, None, plan.schedule)
    >>> y = icqt(re, im, k, lp, None, d, plan.schedule, 4000, n_iter=3)
    >>> bool(((y - x).norm() / x.norm()) < 1e-2)
    True
    """
    out_dtype = weights.dtype  # the kernels' dtype (a half-precision module may take complex64 input)
    if is_half(real.dtype) or is_half(out_dtype):  # inner products and sums of many kernels: float32
        real = real.float()
        imag = imag.float()
    d = weights.to(real.dtype).unsqueeze(-1)
    level = torch.ones(real.shape[0], 1, dtype=real.dtype, device=real.device)
    if n_iter > 0:  # the solve is linear: run it on C / max|C| so that its inner products cannot overflow
        peak = torch.maximum(real.abs().amax(dim=(1, 2)), imag.abs().amax(dim=(1, 2))).unsqueeze(-1)
        level = torch.where(peak > 0, peak, torch.ones_like(peak))
        real = real / level.unsqueeze(-1)
        imag = imag / level.unsqueeze(-1)
    y = 2.0 * cqt2019_adjoint(real * d, imag * d, kernels, lowpass, scale, schedule, length, center, pad_mode)
    if n_iter > 0:
        tiny = dtype_tiny(real.dtype)
        r = y - _normal(y, d, kernels, lowpass, scale, schedule, length, center, pad_mode)
        p = r
        rr = _dot(r, r)
        # a row stops for good once its residual is at the rounding floor (|r| <= 100 eps |r0|) or the
        # curvature p^T A p is no longer positive: past that point the steps amplify rounding (a narrow
        # bank leaves most of the signal space in A's null space) and run off to inf within a few steps
        floor = rr * (100.0 * dtype_eps(real.dtype)) ** 2
        active = rr > tiny
        compiled = False
        if not torch.jit.is_scripting():
            if reuse_steps and compiling():  # one compiled step, reused: each step is a CQT and its transpose
                compiled = True
                p = r.clone()  # one tensor as two arguments of the region would alias them
                for _ in range(n_iter):
                    y, r, p, rr, active = _compiled_refinement_step(
                        y, r, p, rr, active, floor, d, kernels, lowpass, scale, schedule, length, center, pad_mode
                    )
        if not compiled:
            for _ in range(n_iter):
                y, r, p, rr, active = _refinement_step(
                    y, r, p, rr, active, floor, d, kernels, lowpass, scale, schedule, length, center, pad_mode
                )
        y = y * level
    return y.to(out_dtype)


def _refinement_step(
    y: Tensor,
    r: Tensor,
    p: Tensor,
    rr: Tensor,
    active: Tensor,
    floor: Tensor,
    d: Tensor,
    kernels: list[Tensor],
    lowpass: Tensor,
    scale: Tensor | None,
    schedule: CQT2019Schedule,
    length: int,
    center: bool,
    pad_mode: str,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """One conjugate-gradient step of :func:`icqt`'s refinement: the new ``(y, r, p, |r|^2, active)``.

    ``y`` the estimate, ``r`` its residual, ``p`` the search direction, ``rr = |r|^2`` per row,
    ``active`` the rows still stepping and ``floor`` their residual floor (all per row of the batch).
    """
    tiny = dtype_tiny(y.dtype)
    q = _normal(p, d, kernels, lowpass, scale, schedule, length, center, pad_mode)
    pq = _dot(p, q)
    active = active & (rr > floor) & (pq > tiny)
    alpha = torch.where(active, rr / torch.where(pq > tiny, pq, torch.ones_like(pq)), torch.zeros_like(pq))
    y = y + alpha * p
    r = r - alpha * q
    rr_new = _dot(r, r)
    beta = torch.where(active, rr_new / torch.where(rr > tiny, rr, torch.ones_like(rr)), torch.zeros_like(rr))
    p = r + beta * p
    rr = torch.where(active, rr_new, rr)
    return y, r, p, rr, active


_compiled_refinement_step = repeated_region(_refinement_step)


def _normal(
    y: Tensor,
    d: Tensor,
    kernels: list[Tensor],
    lowpass: Tensor,
    scale: Tensor | None,
    schedule: CQT2019Schedule,
    length: int,
    center: bool,
    pad_mode: str,
) -> Tensor:
    """``2 A^T D A y``: the weighted normal operator of the refinement."""
    re, im = cqt2019(y, kernels, lowpass, scale, schedule, center, pad_mode)
    return 2.0 * cqt2019_adjoint(re * d, im * d, kernels, lowpass, scale, schedule, length, center, pad_mode)
