"""Window functions: validation of window specs and centred padding.

Windows are built with :func:`scipy.signal.get_window`, so every spec it understands works here:
a name (``"hann"``), or a name with arguments (``("kaiser", 8.0)``, written ``[kaiser, 8.0]`` in
YAML).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.signal

WindowSpec = Any  # str | tuple[str, float, ...]


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
    try:
        scipy.signal.get_window(window, 16, fftbins=True)
    except Exception as exc:  # scipy raises ValueError, TypeError or KeyError depending on the mistake
        raise ValueError(f"scipy.signal.get_window rejects it: {exc}") from None
    return window


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
