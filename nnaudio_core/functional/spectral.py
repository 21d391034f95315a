"""Tensor functions for spectrogram post-processing: decibels with a per-example ``top_db`` floor.

``top_db`` clips each *example* against its own maximum, never against the whole batch's (the
batch-wide maximum would make one loud clip change the floor of every other clip in its batch; see
torchaudio issue #994). An example is everything after the first dimension of a batched input:
for ``(batch, freq, frames)`` each ``(freq, frames)`` slice, for ``(batch, channels, freq, frames)``
all channels of one batch item together (as librosa treats a multichannel clip and torchaudio
treats channels). A 2-D ``(freq, frames)`` input is one example.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .capture import exporting
from .dtypes import dtype_max, dtype_tiny

REF_CHOICES = ("max",)


def _check(ref: float | str, amin: float, top_db: float | None) -> None:
    if isinstance(ref, str):
        if ref not in REF_CHOICES:
            raise ValueError(f"ref={ref!r} is not allowed; expected a number > 0 or 'max' (each example's maximum)")
    elif not (math.isfinite(ref) and ref > 0):
        raise ValueError(f"ref={ref!r} is not allowed; expected a number > 0 or 'max' (each example's maximum)")
    if not (math.isfinite(amin) and amin > 0):
        raise ValueError(f"amin={amin!r} is not allowed; expected a number > 0")
    if top_db is not None and not (math.isfinite(top_db) and top_db >= 0):
        raise ValueError(f"top_db={top_db!r} is not allowed; expected a number >= 0, or None for no clipping")


def _example_dims(x: Tensor, batched: bool | None) -> list[int]:
    if batched is None:
        batched = x.dim() >= 3
    start = 1 if batched else 0
    if batched and x.dim() < 2:
        raise ValueError("a batched input needs at least 2 dims")
    return list(range(start, x.dim()))


def db_scale(
    x: Tensor, multiplier: float, ref: float, ref_max: bool, amin: float, top_db: float | None,
    batched: bool | None,
) -> Tensor:
    """``multiplier * log10(max(x, amin) / ref)`` with a per-example ``top_db`` floor (TorchScript core).

    :func:`power_to_db` (``multiplier=10``) and :func:`amplitude_to_db` (``20``) check their
    arguments and call this; ``ref_max=True`` uses each example's maximum instead of ``ref``.
    Half precision input is converted in float32 and returned in its own dtype.

    Examples
    --------
    >>> db_scale(torch.tensor([[100.0, 1e-12]]), 10.0, 1.0, False, 1e-10, None, False)
    tensor([[  20., -100.]])
    """
    dtype = x.dtype
    if dtype == torch.float16 or dtype == torch.bfloat16:
        # amin (1e-10) and the logarithm of small values underflow in half precision: work in float32
        # (the decibel values themselves, -100 to +100, are well within half precision)
        x = x.float()
    dims = _example_dims(x, batched)
    # an amin below the dtype's smallest normal number would round to 0 and give log10(0) = -inf
    # (and one above its largest cannot be a clamp bound at all)
    largest = dtype_max(x.dtype)
    amin = min(max(amin, dtype_tiny(x.dtype)), largest)
    db = multiplier * torch.log10(torch.clamp(x, min=amin, max=largest))  # no log10(inf)
    if ref_max:
        peak = torch.amax(x, dim=dims, keepdim=True)
        db = db - multiplier * torch.log10(torch.clamp(peak, min=amin))
    else:
        db = db - multiplier * math.log10(max(amin, ref))
    if top_db is not None:
        floor = torch.amax(db, dim=dims, keepdim=True) - top_db
        db = torch.maximum(db, floor)
    return db.to(dtype)


def _to_db(
    x: Tensor, multiplier: float, *, ref: float | str, amin: float, top_db: float | None, batched: bool | None
) -> Tensor:
    _check(ref, amin, top_db)
    ref_max = ref == "max"
    return db_scale(x, multiplier, 1.0 if ref_max else float(ref), ref_max, amin, top_db, batched)


def power_to_db(
    power: Tensor,
    *,
    ref: float | str = 1.0,
    amin: float = 1e-10,
    top_db: float | None = 80.0,
    batched: bool | None = None,
) -> Tensor:
    """Convert a power spectrogram to decibels: ``10 log10(max(power, amin) / max(ref, amin))``.

    Then, when ``top_db`` is given, values more than ``top_db`` below the example's maximum are
    raised to that floor (per example, see the module docstring).

    Parameters
    ----------
    power : torch.Tensor, shape (freq, frames), (batch, freq, frames) or (batch, channels, freq, frames)
        Non-negative power values.
    ref : float or "max"
        Reference power for 0 dB (``> 0``), or ``"max"`` for each example's maximum (librosa's
        ``ref=np.max``, but per example).
    amin : float
        Smallest power considered (``> 0``), avoiding ``log(0)``.
    top_db : float, optional
        Dynamic range kept below each example's peak (``>= 0``), or ``None`` for no floor.
    batched : bool, optional
        Whether the first dimension indexes examples. Default: ``power.dim() >= 3``.

    Returns
    -------
    torch.Tensor, same shape and dtype as ``power``

    Examples
    --------
    >>> p = torch.tensor([[[1.0, 1e-12]], [[100.0, 1e-3]]])
    >>> power_to_db(p, top_db=30.0)
    tensor([[[  0., -30.]],
    <BLANKLINE>
            [[ 20., -10.]]])
    """
    return _to_db(power, 10.0, ref=ref, amin=amin, top_db=top_db, batched=batched)


def amplitude_to_db(
    amplitude: Tensor,
    *,
    ref: float | str = 1.0,
    amin: float = 1e-5,
    top_db: float | None = 80.0,
    batched: bool | None = None,
) -> Tensor:
    """Convert a magnitude spectrogram to decibels: ``20 log10(max(amplitude, amin) / max(ref, amin))``.

    Equal to ``power_to_db(amplitude ** 2, ref=ref ** 2, amin=amin ** 2, top_db=top_db)``, as
    librosa's ``amplitude_to_db``; ``top_db`` clips per example.

    Parameters
    ----------
    amplitude : torch.Tensor, shape (freq, frames), (batch, freq, frames) or (batch, channels, freq, frames)
        Non-negative magnitudes.
    ref : float or "max"
        Reference amplitude for 0 dB (``> 0``), or ``"max"`` for each example's maximum.
    amin : float
        Smallest amplitude considered (``> 0``).
    top_db : float, optional
        Dynamic range kept below each example's peak (``>= 0``), or ``None``.
    batched : bool, optional
        Whether the first dimension indexes examples. Default: ``amplitude.dim() >= 3``.

    Returns
    -------
    torch.Tensor, same shape and dtype as ``amplitude``

    Examples
    --------
    >>> amplitude_to_db(torch.tensor([[10.0, 1e-9]]), top_db=None)
    tensor([[  20., -100.]])
    """
    return _to_db(amplitude, 20.0, ref=ref, amin=amin, top_db=top_db, batched=batched)


def apply_filterbank(weights: Tensor, spec: Tensor, blocks: list[tuple[int, int, int, int]] | None = None) -> Tensor:
    """``weights @ spec`` over the frequency axis, optionally block by block.

    The product is formed in whichever orientation matches ``spec``'s memory layout, so a
    spectrogram stored frame by frame (as ``torch.stft`` returns it) is not gathered column-wise.

    Parameters
    ----------
    weights : torch.Tensor, shape (n_filters, freq)
        Filterbank (e.g. a mel basis).
    spec : torch.Tensor, shape (..., freq, frames)
        Spectrogram.
    blocks : list of (row_start, row_stop, col_start, col_stop), optional
        From :func:`nnaudio_core.kernels.mel.filter_groups`: only these blocks of ``weights`` are
        multiplied (the rest must be zero), which is the same product with fewer operations.

    Returns
    -------
    torch.Tensor, shape (..., n_filters, frames)

    Examples
    --------
    >>> w = torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    >>> apply_filterbank(w, torch.ones(4, 3), [(0, 1, 0, 2), (1, 2, 2, 4)])
    tensor([[2., 2., 2.],
            [2., 2., 2.]])
    """
    if exporting():
        # One product of contiguous rows, (..., frames, freq) @ weights.T, which matmul folds into a
        # single 2-D product: torch 2.9 decomposes the other forms (2-D @ N-D, or strided rows) by
        # broadcasting, which guards the batch size != 1 and so fails a dynamic batch dimension.
        # The blocks only skip zeros, so the full product has the same value.
        rows = spec.transpose(-1, -2).contiguous()
        return torch.matmul(rows, weights.t()).transpose(-1, -2).contiguous()
    frames_major = spec.dim() >= 2 and spec.stride(-2) == 1 and spec.stride(-1) != 1
    if blocks is None or len(blocks) < 2:
        if frames_major:
            # Frames-major memory (torch.stft's output is a transposed view of (..., frames, freq)):
            # multiply the rows as they lie, (frames, freq) @ weights.T, which is ~3x faster than
            # letting matmul gather the transposed operand; the result is returned contiguous.
            return torch.matmul(spec.transpose(-1, -2), weights.t()).transpose(-1, -2).contiguous()
        return torch.matmul(weights, spec)
    parts: list[Tensor] = []
    for block in blocks:
        r0, r1, c0, c1 = block
        if frames_major:
            parts.append(torch.matmul(spec.transpose(-1, -2)[..., c0:c1], weights[r0:r1, c0:c1].t()))
        else:
            parts.append(torch.matmul(weights[r0:r1, c0:c1], spec[..., c0:c1, :]))
    if frames_major:
        return torch.cat(parts, dim=-1).transpose(-1, -2).contiguous()
    return torch.cat(parts, dim=-2)


def magnitude_power(power: Tensor, exponent: float) -> Tensor:
    """``|X| ** exponent`` from a power spectrogram ``|X| ** 2``, with a zero gradient (not NaN) at 0.

    ``power ** (exponent / 2)`` has an infinite derivative at 0 for ``exponent < 2``, which turns
    silence into NaN gradients; here the zero entries are masked so value and gradient are 0 there.

    Examples
    --------
    >>> p = torch.tensor([0.0, 16.0], requires_grad=True)
    >>> y = magnitude_power(p, 0.5)
    >>> y.sum().backward()
    >>> y.detach(), p.grad
    (tensor([0., 2.]), tensor([0.0000, 0.0312]))
    """
    positive = power > 0
    return torch.where(positive, power, torch.ones_like(power)) ** (exponent / 2) * positive


def power_spectrum(spec: Tensor) -> Tensor:
    """``|spec| ** 2`` of a complex tensor as ``real ** 2 + imag ** 2``, with a single temporary.

    As accurate as squaring the parts separately (no square root in between, unlike
    ``spec.abs() ** 2``) and cheaper: one output allocation instead of three, which matters for
    large spectrograms. Differentiable.

    Parameters
    ----------
    spec : torch.Tensor, complex, any shape

    Returns
    -------
    torch.Tensor, real, same shape (and memory layout) as ``spec``

    Examples
    --------
    >>> power_spectrum(torch.tensor([3 + 4j, 1j]))
    tensor([25.,  1.])
    """
    if not spec.is_complex():
        raise ValueError(f"power_spectrum: expected a complex tensor, got {spec.dtype}")
    power = spec.real.square()
    return power.addcmul_(spec.imag, spec.imag)
