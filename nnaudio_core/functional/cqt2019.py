"""Multirate constant-Q transform (``cqt2019``): each octave at the lowest sample rate its kernels allow.

Computes the definition of :mod:`nnaudio_core.kernels.cqt` (within 1e-3 relative L2, typically
1e-5): the signal is low-pass filtered and decimated by two repeatedly, and each octave group is a
strided correlation of the decimated signal with its kernels subsampled to that rate
(:func:`subsample_kernels`), one set per frame phase when ``hop_length`` is not a multiple of the
decimation. :func:`cqt2019_plan` (numpy) builds the kernels and the integer schedule;
:func:`cqt2019` (a TorchScript-compatible tensor function) runs them.
"""


import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..kernels.cqt import _check_int, cqt_conv_kernels
from ..kernels.lowpass import decimation_lowpass, polyphase_bank
from ..kernels.windows import WindowSpec
from .capture import exporting
from .cqt_common import cqt_frame_count, extend_signal, fit_length, kernel_geometry, octave_groups, scale_bins

__all__ = ["CQT2019Plan", "CQT2019Schedule", "cqt2019", "cqt2019_plan", "level_lengths", "subsample_kernels"]


class CQT2019Schedule(NamedTuple):
    """The integers :func:`cqt2019` runs on (from :func:`cqt2019_plan`; TorchScript-compatible).

    Groups are octaves from the top bin down. Group ``g`` is computed on the signal decimated by
    ``2 ** levels[g]``: a strided correlation (stride ``strides[g]``, starting at sample
    ``starts[g]`` of that signal) with kernels whose rows are ``phases[g]`` blocks of
    ``[Re K; -Im K]`` (one per frame phase).

    Attributes
    ----------
    levels, starts, strides, phases : list of int
        Per group: decimation level, first input sample, stride, frame phases.
    hop_length : int
        Samples between frames.
    pad_left : int
        Left padding (centred frames) so that frame ``t``'s ``n = 0`` is at padded sample
        ``pad_left + t * hop_length``.
    center_index : int
        Column of ``n = 0`` of the longest kernel (``center=False`` frames).
    width : int
        Grid length of the longest kernel.
    """

    levels: list[int]
    starts: list[int]
    strides: list[int]
    phases: list[int]
    hop_length: int
    pad_left: int
    center_index: int
    width: int


class CQT2019Plan(NamedTuple):
    """Kernels and schedule of the multirate CQT (:func:`cqt2019_plan`).

    Every array is laid out as :func:`cqt2019` takes it (``torch.from_numpy`` of each).

    Attributes
    ----------
    kernels : list of numpy.ndarray, shape (phases[g] * 2 * n, 1, width), float64
        Per group, from the top octave down.
    lowpass : numpy.ndarray, shape (M, 1, taps + 2 * (M - 1)), float64
        Rows of the decimating anti-alias filter
        (:func:`~nnaudio_core.kernels.lowpass.polyphase_bank`).
    schedule : CQT2019Schedule
    """

    kernels: list[np.ndarray]
    lowpass: np.ndarray
    schedule: CQT2019Schedule


def subsample_kernels(kernels: np.ndarray, center: int, *, factor: int, phase: int = 0) -> tuple[np.ndarray, int]:
    """The kernels that reproduce the full-rate CQT on a signal decimated by ``factor``.

    Column ``m`` of the output holds ``factor * kernel[factor * m - phase]``: correlating a
    band-limited signal decimated by ``factor`` (sample ``i`` = full-rate sample ``factor * i``)
    with it gives, for a frame whose full-rate position ``p`` satisfies ``p = factor * q - phase``,
    the full-rate correlation (valid while the kernels are band-limited to the decimated band).

    Parameters
    ----------
    kernels : numpy.ndarray, shape (n, width)
        Full-rate kernels, ``n = 0`` at column ``center``.
    center : int
    factor : int
        Decimation factor, ``>= 1``.
    phase : int
        ``0 <= phase < factor``.

    Returns
    -------
    kernels : numpy.ndarray, shape (n, width')
    center : int
        Column of ``m = 0``.

    Examples
    --------
    >>> k, c = subsample_kernels(np.arange(1.0, 8.0)[None], 3, factor=2)
    >>> k, c
    (array([[ 4.,  8., 12.]]), 1)
    """
    factor = _check_int("factor", factor, 1)
    if not 0 <= phase < factor:
        raise ValueError(f"phase={phase!r} is not allowed; expected 0 <= phase < factor={factor}")
    width = kernels.shape[-1]
    m_lo = -((center - phase) // factor)  # ceil((phase - center) / factor)
    m_hi = (width - 1 - center + phase) // factor
    cols = center + factor * np.arange(m_lo, m_hi + 1) - phase
    return factor * kernels[:, cols], int(-m_lo)


def cqt2019_plan(
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
    earlydownsample: bool = True,
    passband: float = 0.4,
    guard: float = 8.0,
    attenuation_db: float = 100.0,
    max_phases: int = 32,
    bank_outputs: int = 16,
    gamma: float | None = 0.0,
) -> CQT2019Plan:
    """Kernels and schedule of the multirate CQT (one octave per halving of the sample rate).

    Octave groups are assigned decimation levels from the top down. A group may run on the signal
    decimated by ``2 ** j`` when its highest kernel "reach" ``f_k + guard * sr / l_k`` (the
    frequency beyond which its kernels' spectra are negligible; ``sr / l_k`` is the kernels'
    spectral resolution) is at most ``passband * sr / 2 ** j``, the edge of the flat passband of
    the anti-alias filter (:func:`~nnaudio_core.kernels.lowpass.decimation_lowpass`). Each group
    goes at most one level below the previous one (the top group may start low when
    ``earlydownsample``), and no level needs more than ``max_phases`` frame phases
    (``2 ** j / gcd(hop_length, 2 ** j)``): with ``hop_length`` a multiple of ``2 ** j`` every
    frame sits on a decimated sample; otherwise frames fall between samples and each phase gets
    its own kernels, ``2 ** j * kernel[2 ** j * m - phase]``.

    Parameters
    ----------
    sr, fmin, n_bins, hop_length, bins_per_octave, filter_scale, norm, window, convention
        As :func:`~nnaudio_core.kernels.cqt.cqt_kernels`.
    earlydownsample : bool
        Let the top octave run below the full rate when its kernels allow it.
    passband : float
        Flat band of the anti-alias filter in units of its input Nyquist, ``0 < passband < 0.5``.
    guard : float
        Kernel reach in spectral-resolution units, ``> 0``.
    attenuation_db : float
        Anti-alias filter ripple / attenuation.
    max_phases : int
        Most frame phases allowed at one level.
    bank_outputs : int
        Decimated samples per row block of the filter bank (speed only).
    gamma : float or None
        Bandwidth offset of variable-Q kernel lengths (``0``: the constant-Q transform; ``None``:
        librosa's ERB rule), see :func:`~nnaudio_core.kernels.cqt.cqt_lengths`. Shorter kernels
        reach further from their centre frequency, so their octaves may stay at a higher rate.

    Returns
    -------
    CQT2019Plan

    Examples
    --------
    >>> plan = cqt2019_plan(sr=22050, fmin=32.70, n_bins=84, hop_length=512)
    >>> plan.schedule.levels
    [0, 1, 2, 3, 4, 5, 6]
    >>> plan.kernels[0].shape, plan.lowpass.shape
    ((24, 1, 183), (16, 1, 97))
    """
    hop_length = _check_int("hop_length", hop_length, 1)
    max_phases = _check_int("max_phases", max_phases, 1)
    if not (guard > 0):
        raise ValueError(f"guard={guard!r} is not allowed; expected a number > 0")
    common = dict(sr=sr, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave, filter_scale=filter_scale,
                  norm=norm, window=window, convention=convention, gamma=gamma)
    freqs, lengths, center, width = kernel_geometry(sr=sr, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave,
                                                    filter_scale=filter_scale, convention=convention, gamma=gamma)
    taps = decimation_lowpass(passband=passband, attenuation_db=attenuation_db)
    half = (len(taps) - 1) // 2
    groups = octave_groups(n_bins, bins_per_octave)

    def phases_at(j: int) -> int:
        return (1 << j) // math.gcd(hop_length, 1 << j)

    levels: list[int] = []
    for g, (lo, hi) in enumerate(groups):
        reach = float(np.max(freqs[lo:hi] + guard * sr / lengths[lo:hi]))
        cap = 0
        while reach <= passband * sr / 2 ** (cap + 1) and phases_at(cap + 1) <= max_phases:
            cap += 1
        if g == 0:
            levels.append(cap if earlydownsample else 0)
        else:
            levels.append(max(levels[-1], min(levels[-1] + 1, cap)))
    top = max(levels)
    # full-rate origin of decimated sample 0 at each level (valid filtering delays it by `half`)
    origin = [half * ((1 << j) - 1) for j in range(top + 1)]
    built = [cqt_conv_kernels(bins=np.arange(lo, hi), **common) for lo, hi in groups]  # rows [Re K; -Im K]
    # pad_left: every kernel's first tap inside the padded signal, and pad_left + half = 0 mod 2**top
    need = max(origin[j] + kern.center + (1 << j) for j, kern in zip(levels, built, strict=True))
    need = max(need, center)
    step = 1 << top
    pad_left = -half + step * (-(-(need + half) // step))
    kernels, starts, strides, phases = [], [], [], []
    for j, kern in zip(levels, built, strict=True):
        d = 1 << j
        p = phases_at(j)
        stride = hop_length * p // d
        subs = []
        for c in range(p):
            q, r = divmod(c * hop_length, d)
            # frame t = c + p * s: full-rate n = d * m - r around decimated sample base + q + s * stride
            sub, sub_center = subsample_kernels(kern.kernels, kern.center, factor=d, phase=r)
            subs.append((q - sub_center, sub))
        base = min(o for o, _ in subs)
        wid = max(o - base + s.shape[1] for o, s in subs)
        rows = kern.kernels.shape[0]  # 2n
        w = np.zeros((p * rows, wid))
        for c, (o, sub) in enumerate(subs):
            w[c * rows : (c + 1) * rows, o - base : o - base + sub.shape[1]] = sub
        a = (pad_left - origin[j]) // d  # decimated index of frame 0's n = 0 (phase 0)
        kernels.append(w[:, None, :])
        starts.append(int(a + base))
        strides.append(int(stride))
        phases.append(int(p))
    bank = polyphase_bank(taps, factor=2, outputs=bank_outputs)
    schedule = CQT2019Schedule(levels, starts, strides, phases, hop_length, int(pad_left), center, width)
    return CQT2019Plan(kernels, bank[:, None, :], schedule)


def level_lengths(schedule: CQT2019Schedule, widths: list[int], outputs: int, bank_width: int) -> tuple[int, list[int]]:
    """The frame block ``B`` and constants ``b_j`` of the signal lengths :func:`cqt2019` works on.

    With ``K = ceil(frames / B)``, level ``j`` (the signal decimated by ``2 ** j``) holds
    ``K * B * hop_length / 2 ** j + b_j`` samples: one integer ``K`` for every level, so the
    lengths stay affine under symbolic shapes (``torch.compile(dynamic=True)``, ``torch.export``)
    instead of nesting one floor division per decimation. ``B`` is the least multiple of every
    group's frame phases for which each decimated level's ``B * hop_length / 2 ** j`` is a multiple
    of the filter bank's ``2 * outputs`` input samples per block; ``b_j`` covers every group's
    last kernel at level ``j`` and what both decimators (the bank and, under ``torch.export``, its
    first row at stride 2) need to produce ``b_{j+1}`` samples.

    Parameters
    ----------
    schedule : CQT2019Schedule
    widths : list of int
        Each group's kernel width (``kernels[g].shape[-1]``).
    outputs, bank_width : int
        Rows and width of the decimating filter bank.

    Returns
    -------
    block : int
    constants : list of int, one per level ``0 ... max(levels)``

    Examples
    --------
    >>> plan = cqt2019_plan(sr=22050, fmin=32.70, n_bins=84, hop_length=512)
    >>> block, constants = level_lengths(plan.schedule, [k.shape[-1] for k in plan.kernels], *plan.lowpass.shape[::2])
    >>> block, len(constants)
    (2, 7)
    """
    levels, starts, strides, phases = schedule.levels, schedule.starts, schedule.strides, schedule.phases
    hop = schedule.hop_length
    top = max(levels)
    block = max(phases)  # phases are powers of two: the largest is a multiple of the others
    if top > 0:
        unit = (2 * outputs) << (top - 1)  # B * hop must be a multiple of this
        multiple = unit // math.gcd(unit, hop)
        block = block * multiple // math.gcd(block, multiple)
    constants = [0] * (top + 1)
    for g in range(len(levels)):
        constants[levels[g]] = max(constants[levels[g]], starts[g] - strides[g] + widths[g])
    for j in range(top - 1, -1, -1):
        wanted = constants[j + 1]
        through_bank = 2 * outputs * max(0, (wanted + outputs - 1) // outputs - 1) + bank_width
        through_first_row = 2 * (wanted - 1) + bank_width
        constants[j] = max(constants[j], through_bank, through_first_row)
    return block, constants


def _decimate(x: Tensor, bank: Tensor) -> Tensor:
    """Filter and keep every second sample: ``y[i] = sum_k h[k] x[2 i + k]`` (valid part only)."""
    if exporting():
        # one stride-2 correlation with the first row (the taps): torch.export cannot merge the
        # bank's (blocks, M) output dims of symbolic size; level_lengths leaves room for both decimators
        return F.conv1d(x.unsqueeze(1), bank[:1], stride=2)[:, 0]
    outputs = int(bank.shape[0])  # a constant (the bank is fixed): torch 2.9's tracer rejects a traced size as a stride
    y = F.conv1d(x.unsqueeze(1), bank, stride=2 * outputs)  # (batch, M, blocks)
    return y.transpose(1, 2).reshape(x.shape[0], -1)


def cqt2019(
    x: Tensor,
    kernels: list[Tensor],
    lowpass: Tensor,
    scale: Tensor | None,
    schedule: CQT2019Schedule,
    center: bool = True,
    pad_mode: str = "reflect",
) -> tuple[Tensor, Tensor]:
    """Multirate CQT: each octave correlated at the lowest sample rate its kernels allow.

    The padded signal is low-pass filtered and decimated by two repeatedly (``lowpass``); octave
    group ``g`` is a strided correlation of the signal at level ``schedule.levels[g]`` with
    ``kernels[g]``. The tensors are those of a :class:`CQT2019Plan`.

    Parameters
    ----------
    x : Tensor, shape (batch, time)
    kernels : list of Tensor, shape (phases[g] * 2 * n, 1, w)
        Per group, from the top octave down (trainable).
    lowpass : Tensor, shape (M, 1, w)
        The decimating filter bank.
    scale : Tensor, shape (n_bins,), optional
        Per-bin output factor (normalisation); ``None`` for none.
    schedule : CQT2019Schedule
    center : bool
        Centred frames (see :mod:`~nnaudio_core.functional.cqt_common`).
    pad_mode : str
        One of :data:`~nnaudio_core.functional.cqt_common.PAD_MODES`; it also supplies the
        filter's context outside the signal when ``center=False``.

    Returns
    -------
    real, imag : Tensor, shape (batch, n_bins, frames)

    Examples
    --------
    >>> plan = cqt2019_plan(sr=22050, fmin=32.70, n_bins=84, hop_length=512)
    >>> real, imag = cqt2019(torch.randn(1, 22050), [torch.from_numpy(k).float() for k in plan.kernels],
    ...                      torch.from_numpy(plan.lowpass).float(), None, plan.schedule)
    >>> real.shape
    torch.Size([1, 84, 44])
    """
    levels, starts, strides, phases = schedule.levels, schedule.starts, schedule.strides, schedule.phases
    batch = x.shape[0]
    length = x.shape[-1]
    frames = cqt_frame_count(length, schedule.hop_length, center, schedule.width)
    outputs = lowpass.shape[0]
    bank_width = lowpass.shape[-1]
    left = schedule.pad_left if center else schedule.pad_left - schedule.center_index
    block, constants = level_lengths(schedule, [w.shape[-1] for w in kernels], outputs, bank_width)
    # every level holds blocks * block * hop / 2**j + constants[j] samples (affine in one integer: compilers
    # with dynamic shapes see no nested floor divisions); the last block may hold frames past `frames`
    blocks = max((frames + block - 1) // block, 1)  # one block when there are no frames (an empty output)
    total = blocks * block * schedule.hop_length + constants[0]
    exact = not exporting()  # torch.export: no slices with symbolic ends (fit_length pads or crops instead)
    xj = extend_signal(x, left, total - left - length, pad_mode)
    bank = lowpass.to(x.dtype)
    reals: list[Tensor] = []
    imags: list[Tensor] = []
    level = 0
    for g in range(len(kernels)):
        while level < levels[g]:
            xj = _decimate(xj, bank)
            level += 1
        w = kernels[g]
        p = phases[g]
        n = w.shape[0] // (2 * p)
        count = blocks * (block // p)  # frames t = c + p * s of phase c: s < count
        needed = (count - 1) * strides[g] + w.shape[-1]
        xg = xj[:, starts[g] : starts[g] + needed] if exact else fit_length(F.pad(xj, [-starts[g], 0]), needed)
        out = F.conv1d(xg.unsqueeze(1), w.to(xj.dtype), stride=strides[g])  # (batch, p*2n, count)
        if p > 1:
            out = out.reshape(batch, p, 2 * n, count).permute(0, 2, 3, 1).reshape(batch, 2 * n, count * p)
        out = fit_length(out, frames)
        reals.append(out[:, :n])
        imags.append(out[:, n:])
    reals.reverse()
    imags.reverse()
    return scale_bins(torch.cat(reals, 1), torch.cat(imags, 1), scale)
