"""Constant-Q transforms as pure tensor functions.

All functions take a validated ``(batch, time)`` float tensor plus precomputed kernel tensors (see
:mod:`nnaudio_core.kernels.cqt`) and return ``(real, imag)``, each ``(batch, n_bins, frames)``.
They branch only on shapes and configuration, never on data values, and mutate nothing, so they
can be scripted or compiled.

Frames (the definition in ``docs/cqt.md``): ``C[k, t] = sum_n x[t * hop + n] * conj(kernel_k[n])``.
With ``center=True`` there are ``1 + len // hop`` frames and ``x`` is extended by ``pad_mode``
outside the signal. With ``center=False`` frame ``t`` has ``n = 0`` at sample
``t * hop + center_index`` (``center_index`` = the longest kernel's ``-min(n)``) and only frames
whose longest kernel lies entirely inside the signal are returned: ``1 + (len - width) // hop``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .conv import strided_conv1d

PAD_MODES = ("constant", "reflect", "replicate", "circular")

__all__ = [
    "PAD_MODES",
    "cqt1992_conv",
    "cqt1992_fft",
    "cqt2019",
    "cqt_frame_count",
    "extend_signal",
]


def cqt_frame_count(length: int, hop_length: int, center: bool, width: int) -> int:
    """Number of frames: ``1 + length // hop`` centred, else ``1 + (length - width) // hop`` (or 0)."""
    if center:
        return 1 + length // hop_length
    if length < width:
        return 0
    return 1 + (length - width) // hop_length


def extend_signal(x: Tensor, left: int, right: int, pad_mode: str) -> Tensor:
    """Pad the last axis of ``x`` by ``left``/``right`` samples (``right`` may be negative: crop).

    ``"constant"`` pads zeros; ``"reflect"`` mirrors without repeating the edge sample and keeps
    mirroring when the pad is longer than the signal (period ``2 * (len - 1)``); ``"replicate"``
    repeats the edge samples; ``"circular"`` wraps around.
    """
    length = x.shape[-1]
    if right < 0:
        x = x[..., : length + right]
        length = length + right
        right = 0
    if left == 0 and right == 0:
        return x
    if pad_mode == "constant":
        return F.pad(x, [left, right])
    if pad_mode == "reflect" and left < length and right < length:
        return F.pad(x.unsqueeze(1), [left, right], mode="reflect").squeeze(1)
    if pad_mode == "replicate":
        return F.pad(x.unsqueeze(1), [left, right], mode="replicate").squeeze(1)
    idx = torch.arange(-left, length + right, device=x.device)
    if pad_mode == "reflect":
        if length == 1:
            idx = torch.zeros_like(idx)
        else:
            period = 2 * (length - 1)
            idx = torch.remainder(idx, period)
            idx = torch.where(idx < length, idx, period - idx)
    elif pad_mode == "circular":
        idx = torch.remainder(idx, length)
    else:
        raise ValueError("pad_mode=" + pad_mode + " is not allowed; expected constant, reflect, replicate or circular")
    return x.index_select(-1, idx)


def _scaled(real: Tensor, imag: Tensor, scale: Tensor | None) -> tuple[Tensor, Tensor]:
    if scale is None:
        return real, imag
    s = scale.to(real.dtype).unsqueeze(-1)
    return real * s, imag * s


def cqt1992_conv(
    x: Tensor,
    weight: Tensor,
    hop_length: int,
    center_index: int,
    center: bool = True,
    pad_mode: str = "reflect",
    scale: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Full-rate CQT as one strided correlation with real time-domain kernels.

    Parameters
    ----------
    x : Tensor, shape (batch, time)
    weight : Tensor, shape (2 * n_bins, 1, width)
        Rows ``[Re K; -Im K]`` of the kernels, ``n = 0`` at column ``center_index`` (trainable).
    hop_length : int
    center_index : int
    center : bool
    pad_mode : str
        One of :data:`PAD_MODES` (centred frames only).
    scale : Tensor, shape (n_bins,), optional
        Per-bin output factor (normalisation).

    Returns
    -------
    real, imag : Tensor, shape (batch, n_bins, frames)
    """
    n_bins = weight.shape[0] // 2
    width = weight.shape[-1]
    length = x.shape[-1]
    frames = cqt_frame_count(length, hop_length, center, width)
    if center:
        x = extend_signal(x, center_index, (frames - 1) * hop_length + width - center_index - length, pad_mode)
    out = strided_conv1d(x.unsqueeze(1), weight, hop_length)[..., :frames]
    return _scaled(out[:, :n_bins], out[:, n_bins:], scale)


def cqt1992_fft(
    x: Tensor,
    fft_bins: list[Tensor],
    fft_kernels: list[Tensor],
    conv_weights: list[Tensor],
    conv_offsets: list[int],
    hop_length: int,
    n_fft: int,
    frames_per_block: int,
    center_index: int,
    width: int,
    center: bool = True,
    pad_mode: str = "reflect",
    scale: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Full-rate CQT, fast: block FFT correlation for the long kernels, strided correlation for the rest.

    Computes the same function as :func:`cqt1992_conv` (see
    :func:`nnaudio_core.kernels.cqt.cqt1992_fft_plan` for the algorithm and the tensors).

    Parameters
    ----------
    x : Tensor, shape (batch, time)
    fft_bins, fft_kernels : list of Tensor
        Per FFT octave (ascending): ``(P * R,)`` int64 DFT bins of the kept spectral rows and the
        folded conjugate kernel spectra as real pairs, ``(P, R, n, 2)``.
    conv_weights : list of Tensor
        Per remaining octave (ascending): ``(2n, 1, w)`` rows ``[Re K; -Im K]``.
    conv_offsets : list of int
        Column of each conv octave's first tap in the common window.
    hop_length, n_fft, frames_per_block, center_index, width : int
        From the plan; ``n_fft = 0`` when every octave is a conv octave.
    center, pad_mode, scale
        As :func:`cqt1992_conv`.

    Returns
    -------
    real, imag : Tensor, shape (batch, n_bins, frames)
    """
    batch = x.shape[0]
    length = x.shape[-1]
    frames = cqt_frame_count(length, hop_length, center, width)
    # padded signal: frame t's common window starts at sample t * hop
    needed = (frames - 1) * hop_length + width
    n_blocks = 0
    if n_fft > 0:
        n_blocks = (frames + frames_per_block - 1) // frames_per_block
        needed = max(needed, (n_blocks - 1) * frames_per_block * hop_length + n_fft)
    if center:
        xp = extend_signal(x, center_index, needed - center_index - length, pad_mode)
    else:
        xp = extend_signal(x, 0, needed - length, "constant")  # zeros only reach discarded frames
    reals: list[Tensor] = []
    imags: list[Tensor] = []
    if n_fft > 0:
        blocks = xp.unfold(-1, n_fft, frames_per_block * hop_length)  # (batch, blocks, n_fft)
        spec = torch.fft.rfft(blocks).reshape(batch * n_blocks, n_fft // 2 + 1)
        p = n_fft // hop_length
        folded: list[Tensor] = []
        for bins, kern in zip(fft_bins, fft_kernels):  # noqa: B905 (TorchScript has no strict=)
            rows = bins.shape[0] // p
            negative = bins > n_fft // 2  # X(f) = conj(X(n_fft - f)) for a real signal
            g = spec.index_select(-1, torch.where(negative, n_fft - bins, bins))
            g = torch.complex(g.real, torch.where(negative, -g.imag, g.imag))
            g = g.reshape(batch * n_blocks, p, rows).transpose(0, 1).contiguous()  # (P, BN, R)
            folded.append(torch.bmm(g, torch.view_as_complex(kern.to(x.dtype))))  # (P, BN, n)
        z = torch.cat(folded, -1)
        n_low = z.shape[-1]
        y = torch.fft.ifft(z, dim=0)[:frames_per_block]  # (Fb, BN, n)
        y = y.reshape(frames_per_block, batch, n_blocks, n_low).permute(1, 3, 2, 0)
        y = y.reshape(batch, n_low, n_blocks * frames_per_block)[..., :frames]
        reals.append(y.real)
        imags.append(y.imag)
    for weight, offset in zip(conv_weights, conv_offsets):  # noqa: B905 (TorchScript has no strict=)
        n = weight.shape[0] // 2
        out = strided_conv1d(xp[:, offset:].unsqueeze(1), weight.to(xp.dtype), hop_length)[..., :frames]
        reals.append(out[:, :n])
        imags.append(out[:, n:])
    return _scaled(torch.cat(reals, 1), torch.cat(imags, 1), scale)


def _bank_input(n_out: int, outputs: int, bank_width: int) -> int:
    """Input samples a decimating filter bank needs to produce ``n_out`` samples."""
    blocks = (n_out + outputs - 1) // outputs
    return (blocks - 1) * 2 * outputs + bank_width


def _decimate(x: Tensor, bank: Tensor) -> Tensor:
    """Filter and keep every second sample: ``y[i] = sum_k h[k] x[2 i + k]`` (valid part only)."""
    outputs = bank.shape[0]
    y = F.conv1d(x.unsqueeze(1), bank, stride=2 * outputs)  # (batch, M, blocks)
    return y.transpose(1, 2).reshape(x.shape[0], -1)


def cqt2019(
    x: Tensor,
    lowpass_bank: Tensor,
    weights: list[Tensor],
    levels: list[int],
    starts: list[int],
    strides: list[int],
    phases: list[int],
    hop_length: int,
    pad_left: int,
    center_index: int,
    width: int,
    center: bool = True,
    pad_mode: str = "reflect",
    scale: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Multirate CQT: each octave correlated at the lowest sample rate its kernels allow.

    The padded signal is low-pass filtered and decimated by two repeatedly
    (``lowpass_bank``, see :func:`nnaudio_core.kernels.lowpass.polyphase_bank`); octave group
    ``g`` is a strided correlation of the signal at level ``levels[g]`` with ``weights[g]``
    (:func:`nnaudio_core.kernels.cqt.cqt2019_plan`).

    Parameters
    ----------
    x : Tensor, shape (batch, time)
    lowpass_bank : Tensor, shape (M, 1, w)
    weights : list of Tensor
        Per group, from the top octave down: ``(phases * 2n, 1, w)``.
    levels, starts, strides, phases : list of int
        Per group: decimation level, first input sample, stride, frame phases.
    hop_length, pad_left, center_index, width : int
        From the plan.
    center, pad_mode, scale
        As :func:`cqt1992_conv` (``pad_mode`` also supplies the filter's context outside the
        signal when ``center=False``).

    Returns
    -------
    real, imag : Tensor, shape (batch, n_bins, frames)
    """
    batch = x.shape[0]
    length = x.shape[-1]
    frames = cqt_frame_count(length, hop_length, center, width)
    outputs = lowpass_bank.shape[0]
    bank_width = lowpass_bank.shape[-1]
    top = max(levels)
    # samples needed at each level, from the deepest up
    need = [0] * (top + 1)
    for g in range(len(weights)):
        count = (frames + phases[g] - 1) // phases[g]
        n_g = starts[g] + (count - 1) * strides[g] + weights[g].shape[-1]
        need[levels[g]] = max(need[levels[g]], n_g)
    for j in range(top - 1, -1, -1):
        need[j] = max(need[j], _bank_input(need[j + 1], outputs, bank_width))
    left = pad_left if center else pad_left - center_index
    xj = extend_signal(x, left, need[0] - left - length, pad_mode)
    bank = lowpass_bank.to(x.dtype)
    reals: list[Tensor] = []
    imags: list[Tensor] = []
    level = 0
    for g in range(len(weights)):
        while level < levels[g]:
            xj = _decimate(xj, bank)
            level += 1
        w = weights[g]
        p = phases[g]
        n = w.shape[0] // (2 * p)
        out = F.conv1d(xj[:, starts[g] :].unsqueeze(1), w.to(xj.dtype), stride=strides[g])  # (batch, p*2n, s)
        if p > 1:
            count = out.shape[-1]
            out = out.reshape(batch, p, 2 * n, count).permute(0, 2, 3, 1).reshape(batch, 2 * n, count * p)
        out = out[..., :frames]
        reals.append(out[:, :n])
        imags.append(out[:, n:])
    reals.reverse()
    imags.reverse()
    return _scaled(torch.cat(reals, 1), torch.cat(imags, 1), scale)
