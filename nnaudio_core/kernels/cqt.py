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
into buffers or parameters.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.fft
import scipy.signal

from .windows import WindowSpec, _phasor, periodic_window, validate_window

LENGTH_CONVENTIONS = ("librosa", "nnaudio")

__all__ = [
    "LENGTH_CONVENTIONS",
    "CQTKernels",
    "cqt_conv_kernels",
    "cqt_fft_kernels",
    "cqt_frequencies",
    "cqt_kernels",
    "cqt_lengths",
    "cqt_n_bins",
    "max_cqt_bins",
    "relative_bandwidth",
    "subsample_kernels",
    "trim_kernels",
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
) -> np.ndarray:
    """Real-valued kernel lengths ``l_k`` (in samples) of the bins at ``freqs``.

    ``"librosa"``: ``filter_scale * sr / (alpha * f_k)`` with ``alpha`` from
    :func:`relative_bandwidth` (the lengths of ``librosa.filters.wavelet_lengths`` with ``gamma=0``);
    these are generally fractional. ``"nnaudio"``: ``ceil(Q * sr / f_k)`` with
    ``Q = filter_scale / (2 ** (1 / B) - 1)`` (nnAudio 0.3's ``create_cqt_kernels``).

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

    Returns
    -------
    numpy.ndarray, float64, same shape as ``freqs``

    Examples
    --------
    >>> cqt_lengths(np.array([440.0]), sr=22050, bins_per_octave=12, convention="nnaudio")
    array([843.])
    >>> cqt_lengths(np.array([440.0]), sr=22050, bins_per_octave=12).round(3)
    array([868.549])
    """
    sr = _check_positive("sr", sr)
    filter_scale = _check_positive("filter_scale", filter_scale)
    bins_per_octave = _check_int("bins_per_octave", bins_per_octave, 1)
    freqs = np.asarray(freqs, dtype=np.float64)
    if freqs.size and not np.all(freqs > 0):
        raise ValueError(f"freqs={freqs!r} is not allowed; every frequency must be > 0")
    if convention == "librosa":
        return filter_scale * sr / (relative_bandwidth(bins_per_octave) * freqs)
    if convention == "nnaudio":
        q = filter_scale / (2.0 ** (1.0 / bins_per_octave) - 1.0)
        return np.ceil(q * sr / freqs)
    allowed = ", ".join(map(repr, LENGTH_CONVENTIONS))
    raise ValueError(f"convention={convention!r} is not allowed; expected one of {allowed}")


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
                         norm=norm, window=window, convention=convention, bins=bins, dtype=dtype, real_rows=False)


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
                         norm=norm, window=window, convention=convention, bins=bins, dtype=np.float64, real_rows=True)


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
                              convention=convention)
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


def trim_kernels(kernels: np.ndarray, center: int) -> tuple[np.ndarray, int]:
    """Drop all-zero leading and trailing columns shared by every row.

    Parameters
    ----------
    kernels : numpy.ndarray, shape (n, width)
    center : int
        Column of ``n = 0``.

    Returns
    -------
    kernels : numpy.ndarray
        The trimmed array (a view).
    center : int
        The column of ``n = 0`` in it (may be negative or past the end if those columns were zero).

    Examples
    --------
    >>> trim_kernels(np.array([[0, 1, 2, 0, 0]]), 2)
    (array([[1, 2]]), 1)
    """
    nz = np.flatnonzero(np.any(kernels != 0, axis=0))
    if nz.size == 0:
        return kernels[:, :1], center
    return kernels[:, nz[0] : nz[-1] + 1], center - int(nz[0])


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


def cqt_fft_kernels(kernels: np.ndarray, *, n_fft: int, hop_length: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Folded frequency-domain kernels: block FFT correlation with decimation by ``hop_length``.

    Let a block of ``n_fft = hop_length * P`` samples start where the kernels' column 0 sits for
    frame ``s = 0`` (frame ``s`` then starts ``s * hop_length`` samples later) and let ``X`` be its
    DFT. Then ``C[k, s] = ifft_P(sum_r X[r * P + q] * V[r, q, k])[s]`` with
    ``V[r, q, k] = conj(DFT(kernel_k)[r * P + q]) / hop_length``, for every frame whose kernel
    window fits in the block: multiplying by the conjugate spectrum correlates, and summing the
    spectrum modulo ``P`` decimates by ``hop_length`` in time. (The fast cqt1992 path uses this in
    the form of :func:`cqt1992_fft_plan`, restricted to the rows that matter.)

    Parameters
    ----------
    kernels : numpy.ndarray, shape (n, width), complex
        Kernels on a common window of ``width <= n_fft`` columns.
    n_fft : int
        Block length, a multiple of ``hop_length``.
    hop_length : int
    rows : numpy.ndarray of int, optional
        Keep only these ``r`` (each a run of ``P`` consecutive DFT bins); default all.

    Returns
    -------
    numpy.ndarray, shape (len(rows), P, n), complex128

    Examples
    --------
    >>> cqt_fft_kernels(np.ones((1, 4), complex), n_fft=8, hop_length=2).shape
    (2, 4, 1)
    """
    n_fft = _check_int("n_fft", n_fft, 1)
    hop_length = _check_int("hop_length", hop_length, 1)
    if n_fft % hop_length:
        raise ValueError(f"n_fft={n_fft} is not allowed; expected a multiple of hop_length={hop_length}")
    if kernels.shape[-1] > n_fft:
        raise ValueError(f"n_fft={n_fft} is not allowed; expected at least the kernel width {kernels.shape[-1]}")
    p = n_fft // hop_length
    spec = scipy.fft.fft(kernels, n=n_fft, axis=-1, workers=-1)  # (n, n_fft)
    v = np.conj(spec).T.reshape(hop_length, p, -1) / hop_length
    if rows is not None:
        v = v[np.asarray(rows)]
    return v


# ---------------------------------------------------------------------------------------------
# Plans: everything the fast cqt1992 path and the multirate cqt2019 need, as arrays and integers
# ---------------------------------------------------------------------------------------------


def octave_groups(n_bins: int, bins_per_octave: int) -> list[tuple[int, int]]:
    """Bin ranges ``[lo, hi)`` of the octaves counted from the top bin down.

    The first range holds the top ``bins_per_octave`` bins; the last one may be partial.

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


def _conv_rows(kernels: np.ndarray) -> np.ndarray:
    """Real correlation rows ``[Re K; -Im K]``: correlating with them gives Re and Im of ``x . conj(K)``."""
    return np.concatenate([kernels.real, -kernels.imag], axis=0)


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


class CQT1992FFTPlan(NamedTuple):
    """Arrays and sizes of the fast full-rate CQT (:func:`cqt1992_fft_plan`).

    Bins ``[0, n_fft_bins)`` come from block FFT correlation, the octaves above from strided
    correlations with their time-domain kernels (``conv_weights``, ascending bins).
    """

    fft_bins: list  # per FFT octave: (P * R,) int64 DFT bins r * P + q of the kept rows, q-major
    fft_kernels: list  # per FFT octave: (P, R, n) complex64, V[q, r, k] = conj(DFT(kernel_k)[r * P + q]) / hop
    conv_weights: list  # per conv octave: (2n, width) float64 rows [Re K; -Im K]
    conv_offsets: list  # per conv octave: its first column's offset in the common window
    n_fft: int  # block length F = hop_length * P (0: no FFT part)
    frames_per_block: int
    hop_length: int
    center: int  # column of n = 0 in the common window
    width: int  # common window length (the longest kernel's grid)
    lengths: np.ndarray  # (n_bins,) real kernel lengths


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
        As :func:`cqt_kernels`; ``hop_length >= 1``.
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
    >>> plan.n_fft, plan.frames_per_block, len(plan.fft_kernels), len(plan.conv_weights)
    (32768, 42, 3, 4)
    """
    hop_length = _check_int("hop_length", hop_length, 1)
    if not (block_factor > 1):
        raise ValueError(f"block_factor={block_factor!r} is not allowed; expected a number > 1")
    if not (eps >= 0):
        raise ValueError(f"eps={eps!r} is not allowed; expected a number >= 0")
    conv_max_width = 4 * hop_length if conv_max_width is None else int(conv_max_width)
    common = dict(sr=sr, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave, filter_scale=filter_scale,
                  norm=norm, window=window, convention=convention)
    freqs = cqt_frequencies(n_bins=n_bins, fmin=fmin, bins_per_octave=bins_per_octave)
    lengths = cqt_lengths(freqs, sr=sr, filter_scale=filter_scale, bins_per_octave=bins_per_octave,
                          convention=convention)
    groups = octave_groups(n_bins, bins_per_octave)[::-1]  # ascending
    lo0, hi0 = _grid(float(lengths[0]))
    center, width = -lo0, hi0 - lo0
    widths = [_grid(float(lengths[lo]))[1] - _grid(float(lengths[lo]))[0] for lo, _ in groups]
    n_fft_groups = 0
    while n_fft_groups < len(groups) and widths[n_fft_groups] > conv_max_width:
        n_fft_groups += 1
    # FFT octaves only feed single-precision spectra; the conv octaves keep float64 kernels
    built = [cqt_kernels(bins=np.arange(lo, hi), dtype=np.complex64 if g < n_fft_groups else np.complex128, **common)
             for g, (lo, hi) in enumerate(groups)]
    conv_weights, conv_offsets = [], []
    for kern in built[n_fft_groups:]:
        conv_weights.append(_conv_rows(kern.kernels))
        conv_offsets.append(center - kern.center)  # small octaves: the complex form is cheap here
    fft_bins, fft_kernels = [], []
    n_fft = frames_per_block = 0
    if n_fft_groups:
        p = 1
        while hop_length * p < block_factor * width:
            p *= 2
        n_fft = hop_length * p
        frames_per_block = (n_fft - width) // hop_length + 1
        extent = _window_extent(window, eps / 10)
        for (lo, hi), kern in zip(groups[:n_fft_groups], built[:n_fft_groups], strict=True):
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
            fft_kernels.append(np.ascontiguousarray(vr.transpose(2, 1, 0)))  # (P, R, n)
    return CQT1992FFTPlan(fft_bins, fft_kernels, conv_weights, conv_offsets, n_fft, frames_per_block, hop_length,
                          int(center), int(width), lengths)


class CQT2019Plan(NamedTuple):
    """Arrays and integers of the multirate CQT (:func:`cqt2019_plan`).

    Groups are octaves from the top bin down. Group ``g`` is computed on the signal decimated by
    ``2 ** levels[g]``: a strided correlation (stride ``strides[g]``, starting at sample
    ``starts[g]`` of that signal) with ``weights[g]``, whose rows are ``phases[g]`` blocks of
    ``[Re K; -Im K]`` (one per frame phase when ``hop_length`` is not a multiple of the decimation).
    """

    lowpass_bank: np.ndarray  # (M, taps + 2 (M - 1)) rows of the decimating filter
    lowpass_taps: int
    weights: list  # per group (phases * 2n, width) float64
    levels: list
    starts: list
    strides: list
    phases: list
    pad_left: int  # left padding (centred frames) so frame t's n = 0 is at padded sample pad_left + t * hop
    center: int  # column of n = 0 of the longest kernel (center=False frames)
    width: int  # grid length of the longest kernel
    hop_length: int
    lengths: np.ndarray


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
        As :func:`cqt_kernels`.
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

    Returns
    -------
    CQT2019Plan

    Examples
    --------
    >>> plan = cqt2019_plan(sr=22050, fmin=32.70, n_bins=84, hop_length=512)
    >>> plan.levels
    [0, 1, 2, 3, 4, 5, 6]
    """
    from .lowpass import decimation_lowpass, polyphase_bank

    hop_length = _check_int("hop_length", hop_length, 1)
    max_phases = _check_int("max_phases", max_phases, 1)
    if not (guard > 0):
        raise ValueError(f"guard={guard!r} is not allowed; expected a number > 0")
    common = dict(sr=sr, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave, filter_scale=filter_scale,
                  norm=norm, window=window, convention=convention)
    freqs = cqt_frequencies(n_bins=n_bins, fmin=fmin, bins_per_octave=bins_per_octave)
    lengths = cqt_lengths(freqs, sr=sr, filter_scale=filter_scale, bins_per_octave=bins_per_octave,
                          convention=convention)
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
    built = [cqt_kernels(bins=np.arange(lo, hi), **common) for lo, hi in groups]
    lo0, hi0 = _grid(float(lengths[0]))
    # pad_left: every kernel's first tap inside the padded signal, and pad_left + half = 0 mod 2**top
    need = max(origin[j] + kern.center + (1 << j) for j, kern in zip(levels, built, strict=True))
    need = max(need, -lo0)
    step = 1 << top
    pad_left = -half + step * (-(-(need + half) // step))
    weights, starts, strides, phases = [], [], [], []
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
        n = kern.kernels.shape[0]
        w = np.zeros((p * 2 * n, wid))
        for c, (o, sub) in enumerate(subs):
            w[c * 2 * n : (c + 1) * 2 * n, o - base : o - base + sub.shape[1]] = _conv_rows(sub)
        a = (pad_left - origin[j]) // d  # decimated index of frame 0's n = 0 (phase 0)
        weights.append(w)
        starts.append(int(a + base))
        strides.append(int(stride))
        phases.append(int(p))
    bank = polyphase_bank(taps, factor=2, outputs=bank_outputs)
    return CQT2019Plan(bank, len(taps), weights, levels, starts, strides, phases, int(pad_left), int(-lo0),
                       int(hi0 - lo0), hop_length, lengths)
