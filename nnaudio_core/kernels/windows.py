"""Window functions: validation of window specs, periodic windows and centred padding.

Windows are built with :func:`scipy.signal.get_window`, so every spec it understands works here:
a name (``"hann"``), or a name with arguments (``("kaiser", 8.0)``, written ``[kaiser, 8.0]`` in
YAML). :func:`periodic_window` computes the cosine-sum windows in closed form, for builders that
need one window per kernel (the constant-Q kernels).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.signal

WindowSpec = Any  # str | tuple[str, float, ...]

__all__ = [
    "COSINE_WINDOWS",
    "WindowSpec",
    "get_window",
    "pad_center",
    "periodic_window",
    "validate_window",
    "window_problem",
]

#: Periodic cosine-sum windows computed in closed form by :func:`periodic_window`: name -> ``a_k`` of
#: ``sum_k (-1) ** k * a_k * cos(2 pi k n / length)``.
COSINE_WINDOWS = {"hann": (0.5, 0.5), "hanning": (0.5, 0.5), "hamming": (0.54, 0.46), "blackman": (0.42, 0.5, 0.08)}


def validate_window(window: WindowSpec) -> WindowSpec:
    """Check that ``window`` is a spec :func:`scipy.signal.get_window` accepts.

    Parameters
    ----------
    window : str or sequence
        A window name, or a name followed by its parameters.

    Returns
    -------
    str or tuple
        The spec, with lists turned into tuples.

    Raises
    ------
    ValueError
        When scipy does not know the window or its parameters are wrong.

    Examples
    --------
    >>> validate_window(["kaiser", 8.0])
    ('kaiser', 8.0)
    """
    if isinstance(window, list):
        window = tuple(window)
    if not isinstance(window, (str, tuple)) or (isinstance(window, tuple) and not window):
        raise ValueError(f"a window spec must be a string or a non-empty list, got {type(window).__name__}")
    problem = None
    for length in (16, 4096):  # some windows (dpss) need a long enough frame for their parameters
        problem = window_problem(window, length)
        if problem is None:
            return window
    raise ValueError(problem)


def window_problem(window: WindowSpec, length: int) -> str | None:
    """What is wrong with ``window`` at ``length`` samples, or ``None`` when it is usable.

    A usable window is one :func:`scipy.signal.get_window` builds, with finite values that are not
    all zero (``("gaussian", 0.0)`` is all NaN, ``("kaiser", nan)`` too).

    Examples
    --------
    >>> window_problem("hann", 64) is None
    True
    >>> window_problem(("dpss", 40.0), 64)
    'scipy.signal.get_window rejects it for 64 samples: NW must be less than M/2.'
    >>> window_problem(("gaussian", 0.0), 64)
    'it is not finite for 64 samples (NaN or inf values)'
    """
    try:
        with np.errstate(all="ignore"):
            values = scipy.signal.get_window(window, length, fftbins=True)
    except Exception as exc:  # scipy raises ValueError, TypeError or KeyError depending on the mistake
        return f"scipy.signal.get_window rejects it for {length} samples: {exc}"
    if not np.all(np.isfinite(values)):
        return f"it is not finite for {length} samples (NaN or inf values)"
    if not np.any(values):
        return f"it is all zeros for {length} samples"
    return None


def get_window(window: WindowSpec, length: int, *, fftbins: bool = True) -> np.ndarray:
    """Return a float64 window of ``length`` samples.

    Parameters
    ----------
    window : str or tuple
        Window spec, as :func:`scipy.signal.get_window`.
    length : int
        Number of samples.
    fftbins : bool
        ``True`` for the periodic window (for spectral analysis), ``False`` for the symmetric one.

    Returns
    -------
    numpy.ndarray, shape (length,)

    Examples
    --------
    >>> get_window("hann", 4)
    array([0. , 0.5, 1. , 0.5])
    """
    if length < 1:
        raise ValueError(f"window length={length} is not allowed; expected an integer >= 1")
    return np.asarray(scipy.signal.get_window(validate_window(window), int(length), fftbins=fftbins), dtype=np.float64)


def _phasor(cycles_per_sample: float, start: int, count: int) -> np.ndarray:
    """``exp(2j pi * cycles_per_sample * n)`` for ``n = start, ..., start + count - 1``, float64-exact.

    Built as an outer product of two short tables whose phases are reduced modulo one cycle, so it
    costs one complex multiply per sample and carries no rounding from large arguments.
    """
    block = 256
    rows = -(-count // block)
    coarse = np.mod(cycles_per_sample * (start + block * np.arange(rows, dtype=np.float64)), 1.0)
    fine = np.mod(cycles_per_sample * np.arange(block, dtype=np.float64), 1.0)
    table = np.exp(2j * np.pi * coarse)[:, None] * np.exp(2j * np.pi * fine)[None, :]
    return table.reshape(-1)[:count]


def periodic_window(window: WindowSpec, length: int) -> np.ndarray:
    """The periodic window ``get_window(window, length)``, in closed form for the cosine sums.

    The windows of :data:`COSINE_WINDOWS` are computed directly (scipy's values to ~1e-16, without
    its per-call overhead: a constant-Q transform builds one window per bin); any other spec, and
    lengths below 2, go to :func:`scipy.signal.get_window`. The spec is not validated here (call
    :func:`validate_window` once).

    Parameters
    ----------
    window : str or tuple
        Window spec, as :func:`scipy.signal.get_window`.
    length : int
        Number of samples, ``>= 1``.

    Returns
    -------
    numpy.ndarray, shape (length,), float64

    Examples
    --------
    >>> periodic_window("hann", 4).round(12)
    array([0. , 0.5, 1. , 0.5])
    >>> bool(np.allclose(periodic_window("blackman", 100), get_window("blackman", 100), atol=1e-15))
    True
    """
    coeffs = COSINE_WINDOWS.get(window) if isinstance(window, str) else None
    if coeffs is None or length < 2:
        return np.asarray(scipy.signal.get_window(window, length, fftbins=True), dtype=np.float64)
    out = np.full(length, coeffs[0])
    for k, a in enumerate(coeffs[1:], start=1):
        out += (-1) ** k * a * _phasor(k / length, 0, length).real  # cos(2 pi k n / length)
    return out


def pad_center(array: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad the last axis of ``array`` on both sides to ``size`` samples, centred.

    The left side gets ``(size - n) // 2`` zeros, as librosa's ``util.pad_center``.

    Examples
    --------
    >>> pad_center(np.ones(2), 4)
    array([0., 1., 1., 0.])
    """
    n = array.shape[-1]
    if n > size:
        raise ValueError(f"cannot centre {n} samples in size={size}; expected size >= {n}")
    left = (size - n) // 2
    widths = [(0, 0)] * (array.ndim - 1) + [(left, size - n - left)]
    return np.pad(array, widths)
