"""Constant-Q kernels: frequencies, lengths, time-domain kernels and their derived forms.

The definition every CQT in nnaudio-core computes (see ``docs/cqt.md``):

* bin ``k`` has frequency ``f_k = fmin * 2 ** (k / B)`` (``B = bins_per_octave``);
* its real-valued length ``l_k`` follows librosa (``filter_scale * sr / (alpha * f_k)``,
  ``alpha = (2 ** (2 / B) - 1) / (2 ** (2 / B) + 1)``) or nnAudio
  (``ceil(Q * sr / f_k)``, ``Q = filter_scale / (2 ** (1 / B) - 1)``);
* its kernel lives on the integer grid ``n = arange(-l_k // 2, l_k // 2)`` (floor division on the
  real length), is the periodic window of ``floor(l_k)`` samples zero-padded at the end to the
  grid's length, times ``exp(2j pi f_k n / sr)``, and is divided by its ``norm``-norm;
* frame ``t`` is ``C[k, t] = sum_n x[t * hop_length + n] * conj(kernel_k[n])``.

Every builder here is plain numpy/scipy with keyword-only arguments; transforms turn the arrays
into buffers or parameters. The execution plans built from these kernels live next to their
algorithms: :func:`nnaudio_core.functional.cqt1992.cqt1992_fft_plan` and
:func:`nnaudio_core.functional.cqt2019.cqt2019_plan`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .windows import WindowSpec, _phasor, periodic_window, validate_window

LENGTH_CONVENTIONS = ("librosa", "nnaudio")

__all__ = [
    "LENGTH_CONVENTIONS",
    "CQTKernels",
    "cqt_conv_kernels",
    "cqt_frequencies",
    "cqt_kernels",
    "cqt_lengths",
    "cqt_n_bins",
    "max_cqt_bins",
    "relative_bandwidth",
    "vqt_gamma",
]


class CQTKernels(NamedTuple):
    """Time-domain CQT kernels as returned by :func:`cqt_kernels`.

    Attributes
    ----------
    kernels : numpy.ndarray, shape (n_bins, width), complex
        Row ``k`` holds ``kernel_k[n]`` at column ``center + n``; zeros elsewhere.
    center : int
        Column of the sample ``n = 0`` (the same for every row).
    lengths : numpy.ndarray, shape (n_bins,), float64
        The real-valued lengths ``l_k``.
    """

    kernels: np.ndarray
    center: int
    lengths: np.ndarray


def _check_positive(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not allowed; expected a positive number") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name}={value!r} is not allowed; expected a positive finite number")
    return v


def _check_int(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}={value!r} is not allowed; expected an integer >= {minimum}")
    return int(value)


def _check_norm(norm: float | None) -> float | None:
    """``None``/``False``/``0`` (nnAudio's "off") -> ``None``; otherwise a p > 0 or inf."""
    if norm is None or norm is False or (not isinstance(norm, bool) and isinstance(norm, (int, float)) and norm == 0):
        return None
    if isinstance(norm, bool):  # True: nnAudio treats it as 1
        return 1.0
    try:
        p = float(norm)
    except (TypeError, ValueError):
        p = float("nan")
    if not (p > 0):  # also rejects nan
        raise ValueError(
            f"norm={norm!r} is not allowed; expected None (no normalisation), "
            "a p-norm order > 0 (1 is L1, 2 is L2) or inf"
        )
    return p


def cqt_frequencies(*, n_bins: int, fmin: float, bins_per_octave: int = 12) -> np.ndarray:
    """Centre frequencies ``fmin * 2 ** (k / bins_per_octave)`` of a constant-Q transform.

    Parameters
    ----------
    n_bins : int
        Number of bins, ``>= 1``.
    fmin : float
        Frequency of bin 0 in Hz, ``> 0``.
    bins_per_octave : int
        Bins per octave, ``>= 1``.

    Returns
    -------
    numpy.ndarray, shape (n_bins,), float64

    Examples
    --------
    >>> cqt_frequencies(n_bins=3, fmin=110.0, bins_per_octave=1)
    array([110., 220., 440.])
    """
    n_bins = _check_int("n_bins", n_bins, 1)
    fmin = _check_positive("fmin", fmin)
    bins_per_octave = _check_int("bins_per_octave", bins_per_octave, 1)
    return fmin * 2.0 ** (np.arange(n_bins, dtype=np.float64) / bins_per_octave)


def cqt_n_bins(*, fmin: float, fmax: float, bins_per_octave: int = 12) -> int:
    """Number of bins when the range is given by ``fmax``, as nnAudio: ``ceil(B * log2(fmax / fmin))``.

    A tolerance of ``1e-9`` bins absorbs float rounding, so ``fmax = fmin * 2`` gives exactly
    ``bins_per_octave`` bins (bins ``fmin`` ... ``fmax / 2 ** (1 / B)``; ``fmax`` itself is excluded).

    Parameters
    ----------
    fmin, fmax : float
        Frequency range in Hz, ``0 < fmin < fmax``.
    bins_per_octave : int

    Returns
    -------
    int

    Examples
    --------
    >>> cqt_n_bins(fmin=32.70, fmax=32.70 * 2 ** 7, bins_per_octave=12)
    84
    """
    fmin = _check_positive("fmin", fmin)
    fmax = _check_positive("fmax", fmax)
    bins_per_octave = _check_int("bins_per_octave", bins_per_octave, 1)
    if fmax <= fmin:
        raise ValueError(f"fmax={fmax!r} is not allowed; expected fmax > fmin={fmin!r}")
    return max(1, int(math.ceil(bins_per_octave * math.log2(fmax / fmin) - 1e-9)))


def max_cqt_bins(*, sr: float, fmin: float, bins_per_octave: int = 12) -> int:
    """Largest ``n_bins`` whose top bin ``fmin * 2 ** ((n_bins - 1) / B)`` is at most Nyquist (``sr / 2``).

    Returns 0 when ``fmin`` itself is above Nyquist.

    Examples
    --------
    >>> max_cqt_bins(sr=22050, fmin=32.70, bins_per_octave=12)
    101
    """
    sr = _check_positive("sr", sr)
    fmin = _check_positive("fmin", fmin)
    bins_per_octave = _check_int("bins_per_octave", bins_per_octave, 1)
    if fmin > sr / 2:
        return 0
    n = int(math.floor(bins_per_octave * math.log2(sr / 2 / fmin))) + 1
    # guard the float rounding of log2 on both sides
    while n > 1 and fmin * 2.0 ** ((n - 1) / bins_per_octave) > sr / 2:
        n -= 1
    while fmin * 2.0 ** (n / bins_per_octave) <= sr / 2:
        n += 1
    return n


def relative_bandwidth(bins_per_octave: int) -> float:
    """librosa's relative bandwidth ``alpha = (2 ** (2 / B) - 1) / (2 ** (2 / B) + 1)``.

    Examples
    --------
    >>> round(relative_bandwidth(12), 6)
    0.057698
    """
    bins_per_octave = _check_int("bins_per_octave", bins_per_octave, 1)
    r = 2.0 ** (2.0 / bins_per_octave)
    return (r - 1.0) / (r + 1.0)


def cqt_lengths(
    freqs: np.ndarray,
    *,
    sr: float,
    filter_scale: float = 1.0,
    bins_per_octave: int = 12,
    convention: str = "librosa",
    gamma: float | None = 0.0,
) -> np.ndarray:
    """Real-valued kernel lengths ``l_k`` (in samples) of the bins at ``freqs``.

    ``"librosa"``: ``filter_scale * sr / (alpha * f_k + gamma)`` with ``alpha`` from
    :func:`relative_bandwidth` (the lengths of ``librosa.filters.wavelet_lengths``); these are
    generally fractional. ``"nnaudio"``: ``ceil(Q * sr / (f_k + gamma / a))`` with
    ``a = 2 ** (1 / B) - 1`` and ``Q = filter_scale / a`` (nnAudio 0.3's ``create_cqt_kernels``).
    ``gamma = 0`` is the constant-Q transform; ``gamma > 0`` (in Hz) shortens the low kernels (the
    variable-Q transform, bandwidth ``alpha * f_k + gamma``); ``gamma=None`` is librosa's ERB rule
    ``gamma = 24.7 * alpha / 0.108`` (bandwidths a constant fraction of the equivalent rectangular
    bandwidth ``24.7 + 0.108 * f``), with the convention's ``alpha`` (:func:`vqt_gamma`).

    Parameters
    ----------
    freqs : numpy.ndarray
        Centre frequencies in Hz, all ``> 0``.
    sr : float
        Sample rate in Hz.
    filter_scale : float
        Length multiplier, ``> 0`` (``< 1`` trades frequency for time resolution).
    bins_per_octave : int
        Bins per octave (sets the bandwidth).
    convention : {"librosa", "nnaudio"}
    gamma : float or None
        Bandwidth offset in Hz, ``>= 0`` (``0``: constant Q); ``None``: the ERB rule.

    Returns
    -------
    numpy.ndarray, float64, same shape as ``freqs``

    Examples
    --------
    >>> cqt_lengths(np.array([440.0]), sr=22050, bins_per_octave=12, convention="nnaudio")
    array([843.])
    >>> cqt_lengths(np.array([440.0]), sr=22050, bins_per_octave=12).round(3)
    array([868.549])
    >>> cqt_lengths(np.array([440.0]), sr=22050, bins_per_octave=12, gamma=None).round(3)
    array([571.496])
    """
    sr = _check_positive("sr", sr)
    filter_scale = _check_positive("filter_scale", filter_scale)
    bins_per_octave = _check_int("bins_per_octave", bins_per_octave, 1)
    freqs = np.asarray(freqs, dtype=np.float64)
    if freqs.size and not np.all(freqs > 0):
        raise ValueError(f"freqs={freqs!r} is not allowed; every frequency must be > 0")
    if convention not in LENGTH_CONVENTIONS:
        allowed = ", ".join(map(repr, LENGTH_CONVENTIONS))
        raise ValueError(f"convention={convention!r} is not allowed; expected one of {allowed}")
    g = vqt_gamma(gamma, bins_per_octave=bins_per_octave, convention=convention)
    if convention == "librosa":
        alpha = relative_bandwidth(bins_per_octave)
        if g == 0:  # the constant-Q lengths, bit for bit
            return filter_scale * sr / (alpha * freqs)
        return filter_scale * sr / (alpha * freqs + g)
    a = 2.0 ** (1.0 / bins_per_octave) - 1.0
    q = filter_scale / a
    if g == 0:
        return np.ceil(q * sr / freqs)
    return np.ceil(q * sr / (freqs + g / a))


def vqt_gamma(gamma: float | None, *, bins_per_octave: int = 12, convention: str = "librosa") -> float:
    """The bandwidth offset ``gamma`` in Hz: ``gamma`` itself, or for ``None`` librosa's ERB rule.

    The ERB rule ``gamma = 24.7 * alpha / 0.108`` makes every bandwidth ``alpha * f + gamma`` the
    fraction ``alpha / 0.108`` of the equivalent rectangular bandwidth ``24.7 + 0.108 * f``
    (Glasberg and Moore), with ``alpha`` the convention's relative bandwidth
    (:func:`relative_bandwidth` for ``"librosa"``, ``2 ** (1 / B) - 1`` for ``"nnaudio"``).

    Parameters
    ----------
    gamma : float or None
        ``>= 0`` Hz, or ``None``.
    bins_per_octave : int
    convention : {"librosa", "nnaudio"}

    Returns
    -------
    float

    Examples
    --------
    >>> round(vqt_gamma(None, bins_per_octave=12), 4), vqt_gamma(3.0)
    (13.1958, 3.0)
    """
    if gamma is None:
        bins_per_octave = _check_int("bins_per_octave", bins_per_octave, 1)
        if convention == "nnaudio":
            alpha = 2.0 ** (1.0 / bins_per_octave) - 1.0
        else:
            alpha = relative_bandwidth(bins_per_octave)
        return 24.7 * alpha / 0.108
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        g = float("nan")
    if isinstance(gamma, bool) or not (math.isfinite(g) and g >= 0):
        raise ValueError(f"gamma={gamma!r} is not allowed; expected a bandwidth offset >= 0 in Hz, or None (ERB rule)")
    return g


def _grid(length: float) -> tuple[int, int]:
    """First and one-past-last ``n`` of ``arange(-l // 2, l // 2)`` for a real ``l``."""
    return int(math.floor(-length / 2.0)), int(math.floor(length / 2.0))


def cqt_kernels(
    *,
    sr: float,
    fmin: float,
    n_bins: int,
    bins_per_octave: int = 12,
    filter_scale: float = 1.0,
    norm: float | None = 1,
    window: WindowSpec = "hann",
    convention: str = "librosa",
    bins: np.ndarray | slice | None = None,
    dtype: type = np.complex128,
    gamma: float | None = 0.0,
) -> CQTKernels:
    """Time-domain constant-Q kernels, exactly as in the module definition.

    Kernel ``k`` is ``w_k[n] * exp(2j pi f_k n / sr)`` on ``n = arange(-l_k // 2, l_k // 2)``,
    where ``w_k`` is the periodic ``window`` of ``floor(l_k)`` samples, zero-padded at the end to
    the grid's length, divided by its ``norm``-norm. All rows share one sample ``n = 0`` column
    (``center``), so row ``k`` is ``kernel_k[column - center]``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    fmin : float
        Frequency of bin 0 in Hz.
    n_bins : int
        Number of bins of the transform (the top bin must be at most ``sr / 2``).
    bins_per_octave : int
        Bins per octave.
    filter_scale : float
        Kernel length multiplier, ``> 0``.
    norm : float or None
        Order of the norm each kernel is divided by (``1``: L1, as librosa and nnAudio; ``2``;
        ``inf``); ``None`` (or ``False``/``0``, nnAudio's spelling) leaves kernels unnormalised.
    window : str or tuple
        Window spec for :func:`scipy.signal.get_window` (periodic).
    convention : {"librosa", "nnaudio"}
        Length convention, see :func:`cqt_lengths`.
    bins : array of int or slice, optional
        Build only these bins (rows in this order); the array is as wide as its longest kernel.
    dtype : numpy complex dtype
        Output dtype (kernels are computed in float64).
    gamma : float or None
        Bandwidth offset in Hz of the variable-Q lengths (``0``: constant Q, the default;
        ``None``: librosa's ERB rule), see :func:`cqt_lengths`.

    Returns
    -------
    CQTKernels
        ``(kernels, center, lengths)``: kernels of shape ``(len(bins), width)``, the column of
        ``n = 0`` and the real lengths ``l_k`` of the selected bins.

    Raises
    ------
    ValueError
        For an invalid argument, a top bin above Nyquist (the message gives the largest valid
        ``n_bins``), or a kernel shorter than one sample.

    Examples
    --------
    >>> kern, center, lengths = cqt_kernels(sr=8000, fmin=1000.0, n_bins=2, bins_per_octave=12)
    >>> kern.shape, center, lengths.round(2)
    ((2, 139), 70, array([138.65, 130.87]))
    >>> round(float(np.abs(kern).sum(axis=1)[0]), 12)  # L1-normalised
    1.0
    """
    return _kernel_array(sr=sr, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave, filter_scale=filter_scale,
                         norm=norm, window=window, convention=convention, bins=bins, dtype=dtype, real_rows=False,
                         gamma=gamma)


def cqt_conv_kernels(
    *,
    sr: float,
    fmin: float,
    n_bins: int,
    bins_per_octave: int = 12,
    filter_scale: float = 1.0,
    norm: float | None = 1,
    window: WindowSpec = "hann",
    convention: str = "librosa",
    bins: np.ndarray | slice | None = None,
    gamma: float | None = 0.0,
) -> CQTKernels:
    """The kernels of :func:`cqt_kernels` as real correlation rows ``[Re K; -Im K]``, float64.

    Correlating a signal with row ``k`` and row ``n + k`` gives the real and imaginary parts of
    ``sum_n x[n] * conj(kernel_k[n])`` (``n`` kernels): the real-valued form a strided
    ``conv1d`` (and training) uses. Same arguments as :func:`cqt_kernels`.

    Returns
    -------
    CQTKernels
        ``(rows, center, lengths)`` with ``rows`` of shape ``(2 * n, width)``.

    Examples
    --------
    >>> rows, center, _ = cqt_conv_kernels(sr=8000, fmin=1000.0, n_bins=2)
    >>> kern = cqt_kernels(sr=8000, fmin=1000.0, n_bins=2).kernels
    >>> bool(np.array_equal(rows, np.concatenate([kern.real, -kern.imag])))
    True
    """
    return _kernel_array(sr=sr, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave, filter_scale=filter_scale,
                         norm=norm, window=window, convention=convention, bins=bins, dtype=np.float64, real_rows=True,
                         gamma=gamma)


def _kernel_array(
    *,
    sr: float,
    fmin: float,
    n_bins: int,
    bins_per_octave: int,
    filter_scale: float,
    norm: float | None,
    window: WindowSpec,
    convention: str,
    bins: np.ndarray | slice | None,
    dtype: type,
    real_rows: bool,
    gamma: float | None = 0.0,
) -> CQTKernels:
    """Shared body of :func:`cqt_kernels` (complex rows) and :func:`cqt_conv_kernels` (real rows)."""
    freqs = cqt_frequencies(n_bins=n_bins, fmin=fmin, bins_per_octave=bins_per_octave)
    sr = _check_positive("sr", sr)
    if freqs[-1] > sr / 2:
        largest = max_cqt_bins(sr=sr, fmin=fmin, bins_per_octave=bins_per_octave)
        raise ValueError(
            f"n_bins={n_bins} is not allowed: the top bin {freqs[-1]:.2f} Hz is above the Nyquist frequency "
            f"{sr / 2:g} Hz; with fmin={fmin:g} and bins_per_octave={bins_per_octave} "
            f"the largest valid n_bins is {largest}"
        )
    p = _check_norm(norm)
    lengths_all = cqt_lengths(freqs, sr=sr, filter_scale=filter_scale, bins_per_octave=bins_per_octave,
                              convention=convention, gamma=gamma)
    if lengths_all.min() < 1:
        raise ValueError(
            f"filter_scale={filter_scale!r} is not allowed here: the top bin's kernel would be {lengths_all.min():.3f} "
            "samples long; expected a filter_scale giving kernels of at least 1 sample"
        )
    if bins is None:
        idx = np.arange(n_bins)
    elif isinstance(bins, slice):
        idx = np.arange(n_bins)[bins]
    else:
        idx = np.atleast_1d(np.asarray(bins))
        if idx.dtype.kind not in "iu" or (idx.size and (idx.min() < 0 or idx.max() >= n_bins)):
            raise ValueError(f"bins={bins!r} is not allowed; expected integer indices in [0, {n_bins})")
    if idx.size == 0:
        raise ValueError(f"bins={bins!r} selects no bin; expected at least one index in [0, {n_bins})")
    lengths = lengths_all[idx]
    grids = [_grid(float(length)) for length in lengths]
    center = max(-lo for lo, _ in grids)
    width = center + max(hi for _, hi in grids)
    window = validate_window(window)
    out = np.zeros((2 * idx.size, width) if real_rows else (idx.size, width), dtype=np.float64 if real_rows else dtype)
    for row, (k, length, (lo, _)) in enumerate(zip(idx, lengths, grids, strict=True)):
        m = int(math.floor(length))  # window samples; the grid's remaining samples stay zero
        win = periodic_window(window, m)
        if p is not None:  # |kernel| = |window|: the norm is the window's
            nrm = float(np.sum(np.abs(win) ** p) ** (1.0 / p)) if math.isfinite(p) else float(np.abs(win).max())
            if nrm > 0:
                win = win / nrm
        seg = slice(center + lo, center + lo + m)
        if real_rows:
            sig = _phasor(freqs[k] / sr, lo, m)
            np.multiply(sig.real, win, out=out[row, seg])
            np.multiply(sig.imag, -win, out=out[idx.size + row, seg])
        else:
            np.multiply(_phasor(freqs[k] / sr, lo, m), win, out=out[row, seg])
    return CQTKernels(out, int(center), lengths)
