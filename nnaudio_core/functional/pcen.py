"""Per-channel energy normalisation (PCEN) and the first-order IIR smoother it uses, without a loop over frames.

The smoother ``M[t] = (1 - s) M[t - 1] + s x[t]`` is a linear recurrence; :func:`linear_recurrence`
solves ``y[t] = a y[t - 1] + u[t]`` as a blocked scan instead of one step per frame:

1. the frames are cut into blocks of ``block`` frames; inside a block the recurrence started from
   zero is a matrix product with the lower-triangular Toeplitz matrix ``W[j, k] = a ** (j - k)``
   (``k <= j``), the same for every block;
2. the last value of each block is what the block adds to the next one: the sequence of block ends
   obeys the same recurrence with coefficient ``a ** block``, solved the same way one level up
   (:data:`LEVELS` levels), and the few values left at the top by a dense matrix of powers;
3. going back down, each block adds ``a ** (j + 1)`` times the value that ended the block before.

Every weight is a power ``a ** d`` with ``0 <= a <= 1`` and ``d >= 0`` (computed as
``exp(d * log a)``), and the inputs of PCEN are non-negative, so every sum has non-negative terms:
the scan is as accurate in float32 as the sequential filter (no ``a ** -t`` growth, no
cancellation). It costs about ``block`` multiply-adds per frame, branches on no size (the padding
to whole blocks is arithmetic), and so scripts, compiles and exports with a dynamic number of
frames. The number of frames it solves exactly is unbounded; the dense top level holds
``frames / block ** LEVELS`` values (8 for an hour of 10 ms frames).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .capture import exporting, reshape_symbolic
from .dtypes import dtype_max, dtype_tiny, is_half

__all__ = ["BLOCK", "LEVELS", "exponential_smoothing", "linear_recurrence", "max_filter_freq", "pcen"]

#: Frames per block of the scan (the size of the Toeplitz matrix of each level).
BLOCK = 32
#: Block levels below the dense top level (``block ** LEVELS`` frames per top-level value).
LEVELS = 3
#: ``log a`` below this is ``a = 0`` (keeps ``0 * log a`` finite for ``a == 0``).
_LOG_FLOOR = -1.0e4


def _powers(log_a: Tensor, exponents: Tensor) -> Tensor:
    """``a ** exponents`` for ``a = exp(log_a)`` (``log_a`` ``(K, 1)``, exponents ``(...)``) → ``(K, ...)``.

    Powers below ``tiny ** 0.8`` of the dtype (``2 ** -100`` in float32) are 0: they change no
    sum by more than that fraction of one term, and subnormal weights would make every product
    with them tens of times slower on CPUs.
    """
    shape = [log_a.shape[0]] + [1] * exponents.dim()
    exponent = log_a.reshape(shape) * exponents.to(log_a.dtype)
    floor = 0.8 * math.log(dtype_tiny(log_a.dtype))
    return torch.where(exponent > floor, torch.exp(exponent), torch.zeros_like(exponent))


def _toeplitz(log_a: Tensor, size: int) -> Tensor:
    """``W[k, i, j] = a_k ** (i - j)`` for ``j <= i``, else 0: shape ``(K, size, size)``."""
    index = torch.arange(size, device=log_a.device)
    lag = index.unsqueeze(1) - index.unsqueeze(0)
    weights = _powers(log_a, lag.clamp(min=0))
    return torch.where(lag >= 0, weights, torch.zeros_like(weights))


def _blocks(u: Tensor, log_a: Tensor, block: int) -> tuple[Tensor, Tensor]:
    """Solve each block of ``u (C, M, frames)`` from a zero start: ``(C, M, blocks, block)`` and the block ends.

    One batched matrix product per coefficient (``K = 1``: a single one for everything).
    """
    channels, rows, frames = u.shape[0], u.shape[1], u.shape[2]
    # at least one zero block past the end, and never a single block: no size of the scan is ever 1, so
    # torch.export never specialises one (a size-1 dim broadcasts and has any stride: export guards on it)
    count = frames // block + 2
    padded = F.pad(u, [0, count * block - frames])
    per_k = channels // log_a.shape[0]
    grouped = reshape_symbolic(padded, [log_a.shape[0], per_k * rows * count, block])  # one matrix per coefficient
    local = torch.bmm(grouped, _toeplitz(log_a, block).transpose(-1, -2))
    local = reshape_symbolic(local, [channels, rows, count, block])
    return local, local[..., block - 1]


def _leading(x: Tensor, length: int) -> Tensor:
    """The first ``length`` values of the last axis: a slice, or a gather while exporting.

    (torch.export cannot prove that a frame count is at most its padding to whole blocks, and a slice
    makes it try; a gather needs no such proof. In eager mode the slice is the cheaper of the two.)
    """
    if exporting():
        return x.index_select(-1, torch.arange(length, device=x.device))
    return x[..., :length]


def linear_recurrence(u: Tensor, log_a: Tensor, initial: Tensor, block: int = BLOCK, levels: int = LEVELS) -> Tensor:
    """Solve ``y[t] = a y[t - 1] + u[t]`` along the last axis with ``y[-1] = initial``, as a blocked scan.

    Parameters
    ----------
    u : Tensor, shape (N, C, frames)
        The input of the recurrence.
    log_a : Tensor, shape (K, 1)
        ``log`` of the coefficient ``a`` in ``[0, 1]`` for each of ``K = C`` channels, or ``K = 1``
        for all (``-inf``, i.e. ``a = 0``, is allowed).
    initial : Tensor, broadcastable to (N, C, 1)
        The value before the first frame.
    block : int
        Frames per block (a configuration constant: the scan does not branch on ``frames``).
    levels : int
        Block levels below the dense top level.

    Returns
    -------
    Tensor, shape (N, C, frames)

    Examples
    --------
    >>> u = torch.ones(1, 1, 5)
    >>> linear_recurrence(u, torch.log(torch.tensor([[0.5]])), torch.zeros(1, 1, 1), block=2)
    tensor([[[1.0000, 1.5000, 1.7500, 1.8750, 1.9375]]])
    """
    log_a = log_a.clamp(min=-1.0e4)  # _LOG_FLOOR (TorchScript reads no module globals)
    count_k = log_a.shape[0]
    # channels first, (C, N, frames): the blocks of one coefficient are one contiguous matrix
    initial = initial.expand(u.shape[0], u.shape[1], 1).transpose(0, 1)
    u = u.transpose(0, 1).contiguous()
    channels, rows = u.shape[0], u.shape[1]
    locals_: list[Tensor] = []
    log_steps: list[Tensor] = []
    lengths: list[int] = []
    level_input = u
    level_log_a = log_a
    for _ in range(levels):
        lengths.append(level_input.shape[-1])
        local, ends = _blocks(level_input, level_log_a, block)
        locals_.append(local)
        log_steps.append(level_log_a)
        level_input = ends.contiguous()
        level_log_a = (level_log_a * block).clamp(min=-1.0e4)
    # the top level: a dense matrix of powers over the few values left
    count = level_input.shape[-1]
    index = torch.arange(count, device=u.device)
    lag = index.unsqueeze(1) - index.unsqueeze(0)
    dense = _powers(level_log_a, lag.clamp(min=0))
    dense = torch.where(lag >= 0, dense, torch.zeros_like(dense))        # (K, count, count)
    y = torch.bmm(reshape_symbolic(level_input, [count_k, -1, count]), dense.transpose(-1, -2))
    y = reshape_symbolic(y, [channels, rows, count])
    y = y + _powers(level_log_a, index + 1).unsqueeze(1) * initial        # (K, 1, count) * (C, N, 1)
    for level in range(levels - 1, -1, -1):
        local = locals_[level]
        # the value before each block: initial, then the end of every block but the last
        before = torch.cat([initial, y], dim=-1)[..., : local.shape[2]].unsqueeze(-1)  # (C, N, blocks, 1)
        steps = _powers(log_steps[level], torch.arange(1, block + 1, device=u.device))  # (K, block)
        # local += before * a ** (j + 1), in place as one batched outer product (no temporaries)
        flat = reshape_symbolic(local, [count_k, -1, block])
        flat.baddbmm_(reshape_symbolic(before, [count_k, -1, 1]).to(flat.dtype), steps.unsqueeze(1).to(flat.dtype))
        y = _leading(reshape_symbolic(flat, [channels, rows, local.shape[2] * block]), lengths[level])
    return y.transpose(0, 1).contiguous()


def exponential_smoothing(x: Tensor, smooth: Tensor, log_keep: Tensor, initial: Tensor) -> Tensor:
    """``M[t] = (1 - s) M[t - 1] + s x[t]`` along the last axis, ``M[-1] = initial`` (PCEN's smoother).

    Parameters
    ----------
    x : Tensor, shape (N, C, frames)
    smooth : Tensor, shape (K, 1)
        The coefficient ``s`` in ``[0, 1]`` per channel (``K = C``) or for all (``K = 1``).
    log_keep : Tensor, shape (K, 1)
        ``log(1 - s)`` (given separately so that it stays finite and exact for ``s`` near 0 or 1).
    initial : Tensor, broadcastable to (N, C, 1)

    Returns
    -------
    Tensor, shape (N, C, frames)

    Examples
    --------
    >>> s = torch.tensor([[0.5]])
    >>> exponential_smoothing(torch.tensor([[[2.0, 2.0, 0.0]]]), s, torch.log(1 - s), torch.ones(1, 1, 1))
    tensor([[[1.5000, 1.7500, 0.8750]]])
    """
    return linear_recurrence(x * smooth, log_keep, initial)


def max_filter_freq(x: Tensor, size: int) -> Tensor:
    """Maximum over ``size`` neighbouring rows (dim -2), ``scipy.ndimage.maximum_filter1d``'s window.

    The window of row ``f`` is rows ``f - size // 2`` to ``f - size // 2 + size - 1``, clipped at
    the edges (scipy's default ``mode="reflect"`` repeats only values inside the window there).

    Examples
    --------
    >>> max_filter_freq(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]]), 3).flatten()
    tensor([3., 3., 3., 2.])
    """
    if size <= 1:
        return x
    left = size // 2
    grid = F.pad(x.unsqueeze(1), [0, 0, left, size - 1 - left], mode="replicate")
    return F.max_pool2d(grid, kernel_size=[size, 1], stride=[1, 1]).squeeze(1)


def pcen(
    x: Tensor, log_gain: Tensor, log_bias: Tensor, log_power: Tensor, logit_smooth: Tensor, eps: float,
    max_size: int = 1, first_frame: bool = False, power_zero: bool = False, bias_zero: bool = False,
) -> Tensor:
    """Per-channel energy normalisation of ``x (N, C, frames)``, ``librosa.pcen``'s definition.

    ``M`` is :func:`exponential_smoothing` of ``R`` (``x``, or its :func:`max_filter_freq` when
    ``max_size > 1``) with ``s = sigmoid(logit_smooth)`` and ``M[-1] = 1`` (librosa's initial state,
    ``scipy.signal.lfilter_zi``) or ``M[-1] = R[..., 0]`` (``first_frame``); then::

        P = (x / (eps + M) ** gain + bias) ** power - bias ** power

    with ``gain, bias, power = exp(log_gain), exp(log_bias), exp(log_power)`` (each ``(K, 1)``,
    per channel or shared), computed in log space as librosa does. ``power_zero``: ``log1p(x /
    (eps + M) ** gain)`` (the limit ``power → 0``); ``bias_zero``: ``(x / (eps + M) ** gain) **
    power``. Half precision is computed in float32 and returned in its dtype.

    Examples
    --------
    >>> z = torch.zeros(1, 1)
    >>> out = pcen(torch.full((1, 1, 3), 4.0), z + math.log(0.5), z + math.log(2.0), z + math.log(0.5), z, 1e-6)
    >>> out.shape
    torch.Size([1, 1, 3])
    """
    dtype = x.dtype
    if is_half(dtype):
        x = x.float()
    params = [t.to(x.dtype) for t in (log_gain, log_bias, log_power, logit_smooth)]
    log_gain, log_bias, log_power, logit_smooth = params[0], params[1], params[2], params[3]
    reference = max_filter_freq(x, max_size)
    initial = reference[..., :1] if first_frame else torch.ones_like(reference[..., :1])
    smoothed = exponential_smoothing(reference, torch.sigmoid(logit_smooth), F.logsigmoid(-logit_smooth), initial)
    # (eps + M) ** -gain in log space (librosa's log(eps) + log1p(M / eps), in one logarithm: M >= 0)
    log_norm = -torch.exp(log_gain) * torch.log(smoothed + eps)
    # extreme gains (or a bias far below eps ** gain) would overflow the normaliser: it saturates at
    # sqrt(max) of the dtype instead, so values and gradients stay finite (librosa's settings never get near)
    ceiling = 0.5 * math.log(dtype_max(x.dtype))
    largest = dtype_max(x.dtype)
    if power_zero:
        out = torch.log1p(x * torch.exp(log_norm.clamp(max=ceiling)))
    elif bias_zero:
        # base ** power has an infinite derivative at 0 (power < 1): zero entries are masked, so value
        # and gradient are 0 there (as magnitude_power does for silence)
        base = x * torch.exp(log_norm.clamp(max=ceiling))
        positive = base > 0
        out = torch.where(positive, base, torch.ones_like(base)).pow(torch.exp(log_power)) * positive
    else:
        power = torch.exp(log_power)
        ratio = x * torch.exp((log_norm - log_bias).clamp(max=ceiling))
        out = torch.exp(power * log_bias) * torch.expm1(power * torch.log1p(ratio)).clamp(max=largest)
    out = out.clamp(max=largest)
    return out.to(dtype)
