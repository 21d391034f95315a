"""Mel scales and triangular mel filterbanks.

Two mel scales are in common use:

* **Slaney** (``htk=False``; librosa's default, from Slaney's Auditory Toolbox): linear below
  1 kHz at 3 mels per 200 Hz, logarithmic above, with 27 mels per factor 6.4 in frequency
  (so 1000 Hz is 15 mels).
* **HTK** (``htk=True``; torchaudio's default): ``mel = 2595 * log10(1 + f / 700)``.

A filterbank has ``n_mels`` triangles whose corners are ``n_mels + 2`` frequencies equally spaced
on the chosen mel scale from ``fmin`` to ``fmax``; triangle ``m`` rises from corner ``m`` to 1 at
corner ``m + 1`` and falls to 0 at corner ``m + 2`` (linearly in Hz), sampled at the FFT bin
frequencies ``k * sr / n_fft``. Each triangle is then optionally normalised (``norm``).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from ..errors import ParameterError

#: Slaney scale: Hz per mel in the linear region, and where the log region starts.
_SLANEY_HZ_PER_MEL = 200.0 / 3.0
_SLANEY_LOG_START_HZ = 1000.0
_SLANEY_LOG_START_MEL = _SLANEY_LOG_START_HZ / _SLANEY_HZ_PER_MEL  # 15 mels
_SLANEY_LOG_STEP = math.log(6.4) / 27.0  # natural-log step per mel in the log region

MelNorm = Any  # None | "slaney" | float


def hz_to_mel(frequencies: float | np.ndarray, *, htk: bool = False) -> np.ndarray:
    """Convert frequencies in Hz to mels.

    Parameters
    ----------
    frequencies : float or array_like
        Frequencies in Hz (any shape).
    htk : bool
        ``True``: HTK scale ``2595 * log10(1 + f / 700)``; ``False``: Slaney scale (linear below
        1 kHz, logarithmic above).

    Returns
    -------
    numpy.ndarray, float64, same shape as ``frequencies``

    Examples
    --------
    >>> hz_to_mel([60.0, 1000.0, 6400.0])
    array([ 0.9, 15. , 42. ])
    >>> float(hz_to_mel(1000.0, htk=True).round(3))
    999.986
    """
    f = np.asarray(frequencies, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    linear = f / _SLANEY_HZ_PER_MEL
    with np.errstate(divide="ignore", invalid="ignore"):
        log = _SLANEY_LOG_START_MEL + np.log(f / _SLANEY_LOG_START_HZ) / _SLANEY_LOG_STEP
    return np.where(f >= _SLANEY_LOG_START_HZ, log, linear)


def mel_to_hz(mels: float | np.ndarray, *, htk: bool = False) -> np.ndarray:
    """Convert mels to frequencies in Hz (the inverse of :func:`hz_to_mel`).

    Parameters
    ----------
    mels : float or array_like
        Mel values (any shape).
    htk : bool
        ``True``: HTK scale; ``False``: Slaney scale.

    Returns
    -------
    numpy.ndarray, float64, same shape as ``mels``

    Examples
    --------
    >>> mel_to_hz([0.9, 15.0, 42.0]).round(6)
    array([  60., 1000., 6400.])
    """
    m = np.asarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    linear = m * _SLANEY_HZ_PER_MEL
    with np.errstate(over="ignore"):
        log = _SLANEY_LOG_START_HZ * np.exp(_SLANEY_LOG_STEP * (m - _SLANEY_LOG_START_MEL))
    return np.where(m >= _SLANEY_LOG_START_MEL, log, linear)


def mel_frequencies(n_mels: int = 128, *, fmin: float = 0.0, fmax: float = 11025.0, htk: bool = False) -> np.ndarray:
    """``n_mels`` frequencies in Hz equally spaced on the mel scale from ``fmin`` to ``fmax`` (inclusive).

    Parameters
    ----------
    n_mels : int
        Number of frequencies, ``>= 1``.
    fmin, fmax : float
        End points in Hz.
    htk : bool
        Mel scale (see :func:`hz_to_mel`).

    Returns
    -------
    numpy.ndarray, shape (n_mels,), float64

    Examples
    --------
    >>> mel_frequencies(3, fmin=0.0, fmax=2000.0, htk=True).round(1)
    array([   0. ,  674.8, 2000. ])
    """
    low, high = hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk)
    return mel_to_hz(np.linspace(low, high, int(n_mels)), htk=htk)


def fft_frequencies(*, sr: float, n_fft: int) -> np.ndarray:
    """Frequencies in Hz of the ``n_fft // 2 + 1`` one-sided DFT bins, ``k * sr / n_fft``.

    Examples
    --------
    >>> fft_frequencies(sr=8000, n_fft=8)
    array([   0., 1000., 2000., 3000., 4000.])
    """
    return np.fft.rfftfreq(int(n_fft), d=1.0 / float(sr))


def check_mel_norm(norm: Any) -> str | None:
    """Return ``None`` if ``norm`` is a valid :func:`mel_filterbank` norm, else what is allowed."""
    if norm is None or (isinstance(norm, str) and norm == "slaney"):
        return None
    if isinstance(norm, numbers.Real) and not isinstance(norm, bool):
        p = float(norm)
        if math.isnan(p):
            return "expected None, 'slaney' or a number p (p > 0, 0 or +-inf); got NaN"
        if p > 0 or p == 0 or p == -math.inf:
            return None
    return "expected None, 'slaney' (area normalisation) or a number p > 0, 0, inf or -inf (Lp norm of each filter)"


def normalize_filters(weights: np.ndarray, norm: MelNorm, *, corners: np.ndarray | None = None) -> np.ndarray:
    """Normalise each row (filter) of ``weights`` as ``librosa.filters.mel`` does.

    Parameters
    ----------
    weights : numpy.ndarray, shape (n_filters, n_bins)
        Non-negative filter weights.
    norm : None, "slaney" or float
        ``None``: unchanged. ``"slaney"``: multiply filter ``m`` by ``2 / (corners[m + 2] - corners[m])``
        (unit area in Hz, so every band has about equal energy for white noise; needs ``corners``).
        A number ``p``: divide each filter by its Lp norm (``inf``: its maximum, ``-inf``: its
        minimum, ``0``: its number of non-zero weights); a filter whose norm is 0 is left as is.
    corners : numpy.ndarray, shape (n_filters + 2,), optional
        Corner frequencies in Hz, for ``norm="slaney"``.

    Returns
    -------
    numpy.ndarray, same shape as ``weights``, float64

    Examples
    --------
    >>> normalize_filters(np.array([[0.0, 1.0, 1.0]]), 2).round(4)
    array([[0.    , 0.7071, 0.7071]])
    """
    problem = check_mel_norm(norm)
    if problem:
        raise ParameterError("norm", norm, problem)
    return _normalize_in_place(np.array(weights, dtype=np.float64), norm, corners=corners)


def _normalize_in_place(w: np.ndarray, norm: MelNorm, *, corners: np.ndarray | None) -> np.ndarray:
    """:func:`normalize_filters` on a float64 ``w`` that it may overwrite (no full-size copy)."""
    if norm is None:
        return w
    if norm == "slaney":
        if corners is None:
            raise ValueError("normalize_filters: norm='slaney' needs the corner frequencies (corners=...)")
        n = w.shape[0]
        w *= (2.0 / (corners[2 : n + 2] - corners[:n]))[:, None]
        return w
    p = float(norm)
    mag = np.abs(w)
    if p == math.inf:
        length = mag.max(axis=-1, keepdims=True)
    elif p == -math.inf:
        length = mag.min(axis=-1, keepdims=True)
    elif p == 0:
        length = (mag > 0).sum(axis=-1, keepdims=True).astype(np.float64)
    else:
        length = (mag**p).sum(axis=-1, keepdims=True) ** (1.0 / p)
    del mag
    length = np.where(length < np.finfo(np.float64).tiny, 1.0, length)
    w /= length
    return w


def mel_filterbank(
    *,
    sr: float,
    n_fft: int,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: MelNorm = "slaney",
) -> np.ndarray:
    """Triangular mel filterbank mapping ``n_fft // 2 + 1`` FFT bins to ``n_mels`` mel bands.

    The same matrix as ``librosa.filters.mel`` (with ``dtype=np.float64``) for every argument it
    shares; ``htk=True, norm=None`` is torchaudio's ``melscale_fbanks`` convention (transposed).

    Parameters
    ----------
    sr : float
        Sample rate in Hz, ``> 0``.
    n_fft : int
        FFT length, ``>= 1``.
    n_mels : int
        Number of mel bands, ``>= 1``.
    fmin : float
        Lowest corner frequency in Hz, ``0 <= fmin < fmax``.
    fmax : float, optional
        Highest corner frequency in Hz, ``<= sr / 2`` (default ``sr / 2``).
    htk : bool
        Mel scale: HTK (``True``) or Slaney (``False``); see :func:`hz_to_mel`.
    norm : None, "slaney" or float
        Filter normalisation (see :func:`normalize_filters`): ``"slaney"`` (area), ``None``
        (peak 1), or a number ``p`` for the Lp norm of each filter (as ``librosa.filters.mel``:
        ``norm=1`` here is the L1 norm, not Slaney's area).

    Returns
    -------
    numpy.ndarray, shape (n_mels, n_fft // 2 + 1), float64
        ``mel_power = weights @ power_spectrogram``.

    Raises
    ------
    ParameterError
        For a value out of range (the message names the parameter and the allowed range).

    Warns
    -----
    UserWarning
        When some filters are empty (all zero: no FFT bin lies strictly inside the triangle),
        naming them; use fewer ``n_mels`` or a larger ``n_fft``.

    Examples
    --------
    >>> w = mel_filterbank(sr=22050, n_fft=2048, n_mels=128)
    >>> w.shape
    (128, 1025)
    >>> float(mel_filterbank(sr=16000, n_fft=400, n_mels=40, htk=True, norm=None).max()) <= 1.0
    True
    """
    sr, n_fft, n_mels, fmin, fmax = _check_filterbank_args(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    problem = check_mel_norm(norm)
    if problem:
        raise ParameterError("norm", norm, problem)
    bins_hz = fft_frequencies(sr=sr, n_fft=n_fft)
    corners = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)
    weights = _triangles(corners, bins_hz)
    weights = _normalize_in_place(weights, norm, corners=corners)
    empty = np.flatnonzero(weights.max(axis=1) <= 0)
    if empty.size:
        _warn_empty(empty, corners, sr=sr, n_fft=n_fft, n_mels=n_mels)
    return weights


def _triangles(corners: np.ndarray, bins_hz: np.ndarray) -> np.ndarray:
    """Unnormalised triangles ``max(0, min(rising, falling))``, computed only where they are non-zero.

    Triangle ``m`` is non-zero only at bins strictly between ``corners[m]`` and ``corners[m + 2]``;
    the weights there are the same expressions as over the whole grid, so the matrix is identical
    while the work and temporary memory are proportional to the non-zero weights (plus the zeroed
    output), not several times the full matrix.
    """
    n_mels, n_bins = corners.size - 2, bins_hz.size
    weights = np.zeros((n_mels, n_bins))
    widths = np.diff(corners)
    lo = np.searchsorted(bins_hz, corners[:-2], side="right")
    hi = np.maximum(np.searchsorted(bins_hz, corners[2:], side="left"), lo)
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return weights
    rows = np.repeat(np.arange(n_mels), counts)
    # bin index of every (row, bin) pair inside a triangle: lo[row] + position within the row's run
    starts = np.cumsum(counts) - counts
    cols = np.arange(total) - np.repeat(starts - lo, counts)
    b = bins_hz[cols]
    rising = -(corners[rows] - b) / widths[rows]
    falling = (corners[rows + 2] - b) / widths[rows + 1]
    weights[rows, cols] = np.maximum(0.0, np.minimum(rising, falling))
    return weights


def _check_filterbank_args(
    *, sr: Any, n_fft: Any, n_mels: Any, fmin: Any, fmax: Any
) -> tuple[float, int, int, float, float]:
    def number(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ParameterError(name, value, "expected a finite number")
        return float(value)

    def integer(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ParameterError(name, value, "expected an integer >= 1")
        return int(value)

    sr = number("sr", sr)
    if sr <= 0:
        raise ParameterError("sr", sr, "expected a sample rate > 0")
    n_fft = integer("n_fft", n_fft)
    n_mels = integer("n_mels", n_mels)
    nyquist = sr / 2
    fmax = nyquist if fmax is None else number("fmax", fmax)
    if not 0 < fmax <= nyquist:
        raise ParameterError(
            "fmax", fmax, f"expected 0 < fmax <= sr / 2 = {nyquist:g} Hz (Nyquist for sr={sr:g}), or None"
        )
    fmin = number("fmin", fmin)
    if not 0 <= fmin < fmax:
        raise ParameterError("fmin", fmin, f"expected 0 <= fmin < fmax = {fmax:g} Hz")
    return sr, n_fft, n_mels, fmin, fmax


def _warn_empty(empty: np.ndarray, corners: np.ndarray, *, sr: float, n_fft: int, n_mels: int) -> None:
    shown = ", ".join(str(int(i)) for i in empty[:12]) + (", ..." if empty.size > 12 else "")
    narrowest = float(np.min(corners[2:] - corners[:-2]))
    spacing = sr / n_fft
    warnings.warn(
        f"mel_filterbank: {empty.size} of {n_mels} mel filters are empty (bands {shown}): no FFT bin lies inside "
        f"them (bin spacing {spacing:.3g} Hz at sr={sr:g}, n_fft={n_fft}; narrowest band {narrowest:.3g} Hz wide), "
        "so they always output 0. Use fewer n_mels, a larger n_fft, or a higher fmin.",
        UserWarning,
        stacklevel=3,
    )


def filter_groups(weights: np.ndarray, *, group_cost: int = 2048) -> tuple[tuple[int, int, int, int], ...]:
    """Split a banded filterbank into blocks of consecutive filters that skip its zero columns.

    Mel filters are narrow triangles, so most of a filterbank matrix is zero. Applying it block by
    block, each block being a run of consecutive filters times only the columns they touch, gives
    the same result as the full product with far fewer multiply-adds. The partition minimises
    ``sum(rows * columns) + group_cost * n_groups`` (multiply-adds per frame plus a per-product
    overhead) by dynamic programming over the contiguous row partitions; each row only tries the
    block starts that can still win, so the work grows with the filters' spans, not with
    ``n_filters ** 2``.

    Parameters
    ----------
    weights : numpy.ndarray, shape (n_filters, n_bins)
        The filterbank.
    group_cost : int
        Overhead of one extra matrix product, in multiply-adds per frame (``>= 0``).

    Returns
    -------
    tuple of (row_start, row_stop, col_start, col_stop)
        Blocks covering all rows in order; every non-zero weight lies inside its row's block.

    Examples
    --------
    >>> w = mel_filterbank(sr=22050, n_fft=2048, n_mels=128)
    >>> blocks = filter_groups(w)
    >>> blocks[0][:2], blocks[-1][1], sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in blocks) < w.size // 4
    ((0, 29), 128, True)
    """
    w = np.asarray(weights)
    if w.ndim != 2 or w.shape[0] < 1:
        raise ValueError(f"filter_groups: weights must be a non-empty (n_filters, n_bins) matrix, got shape {w.shape}")
    n_rows, n_cols = w.shape
    nonzero = w != 0
    has = nonzero.any(axis=1)
    first = np.where(has, nonzero.argmax(axis=1), n_cols)
    last = np.where(has, n_cols - nonzero[:, ::-1].argmax(axis=1), 0)
    best = np.zeros(n_rows + 1)
    start = np.zeros(n_rows + 1, dtype=np.int64)
    window = 16
    for j in range(1, n_rows + 1):
        # Block [i, j) spans columns min(first[i:j]) .. max(last[i:j]). Starts are tried in a window
        # [i0, j) that grows until it holds a start p with cost(p) - group_cost > the best cost seen:
        # every earlier start i' < p then costs more (cost(i') >= cost(p) - group_cost, covering
        # [i', p) by one block), so the result is the full minimisation's, ties included.
        while True:
            i0 = max(0, j - window)
            lo = np.minimum.accumulate(first[i0:j][::-1])[::-1]
            hi = np.maximum.accumulate(last[i0:j][::-1])[::-1]
            cost = best[i0:j] + (j - np.arange(i0, j)) * np.maximum(hi - lo, 0) + group_cost
            k = int(np.argmin(cost))
            beaten = np.flatnonzero(cost - group_cost > cost[k])
            if i0 == 0 or beaten.size:
                break
            window *= 2
        best[j], start[j] = cost[k], i0 + k
        # the next row needs about as many starts as this one did
        needed = j - i0 - (int(beaten[-1]) if beaten.size else 0)
        window = needed + needed // 4 + 4
    blocks = []
    j = n_rows
    while j > 0:
        i = int(start[j])
        lo, hi = int(first[i:j].min()), int(last[i:j].max())
        lo = min(lo, n_cols)
        blocks.append((i, j, lo, max(hi, lo)))
        j = i
    return tuple(blocks[::-1])
