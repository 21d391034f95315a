"""Discrete cosine transform matrices (for cepstral coefficients such as MFCCs).

``dct_matrix(n) @ x`` equals ``scipy.fft.dct(x, type=2, norm=...)`` along the first axis of ``x``,
so a DCT over the frequency axis of a ``(..., freq, frames)`` spectrogram is one matrix product.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..errors import ParameterError

DCT_NORMS = ("ortho", None)

#: Elements of the temporary phase-index block used while filling a DCT matrix.
_BLOCK_ELEMENTS = 1 << 16


def dct_matrix(n_in: int, n_out: int | None = None, *, norm: str | None = "ortho") -> np.ndarray:
    """The type-II DCT as a matrix, truncated to its first ``n_out`` coefficients.

    ``D[k, n] = 2 * cos(pi * k * (2 n + 1) / (2 n_in))`` (scipy's unnormalised DCT-II). With
    ``norm="ortho"`` row 0 is scaled by ``sqrt(1 / (4 n_in))`` and the other rows by
    ``sqrt(1 / (2 n_in))``, which makes the full square matrix orthogonal.

    Parameters
    ----------
    n_in : int
        Length of the transformed axis, ``>= 1``.
    n_out : int, optional
        Number of coefficients kept, ``1 <= n_out <= n_in`` (default ``n_in``).
    norm : {"ortho", None}
        Normalisation, as ``scipy.fft.dct``.

    Returns
    -------
    numpy.ndarray, shape (n_out, n_in), float64
        ``D @ x == scipy.fft.dct(x, type=2, norm=norm, axis=0)[:n_out]``.

    Examples
    --------
    >>> d = dct_matrix(4)
    >>> np.allclose(d @ d.T, np.eye(4))
    True
    >>> dct_matrix(2, norm=None).round(6)
    array([[ 2.      ,  2.      ],
           [ 1.414214, -1.414214]])
    """
    if isinstance(n_in, bool) or not isinstance(n_in, numbers.Integral) or n_in < 1:
        raise ParameterError("n_in", n_in, "expected an integer >= 1")
    n_in = int(n_in)
    if n_out is None:
        n_out = n_in
    if isinstance(n_out, bool) or not isinstance(n_out, numbers.Integral) or not 1 <= n_out <= n_in:
        raise ParameterError("n_out", n_out, f"expected an integer with 1 <= n_out <= n_in = {n_in}")
    if norm not in DCT_NORMS:
        raise ParameterError("norm", norm, "expected 'ortho' or None")
    n_out = int(n_out)
    # exact phase index: pi k (2n+1) / (2N) = 2 pi [k (2n+1) mod 4N] / (4N); the 4N cosines are
    # computed once and looked up, a block of rows at a time, so the only full-size array is the result
    table = 2.0 * np.cos(2.0 * np.pi * np.arange(4 * n_in) / (4 * n_in))
    odd = 2 * np.arange(n_in) + 1
    matrix = np.empty((n_out, n_in))
    rows = max(1, _BLOCK_ELEMENTS // n_in)
    for k0 in range(0, n_out, rows):
        k = np.arange(k0, min(k0 + rows, n_out))[:, None]
        np.take(table, (k * odd) % (4 * n_in), out=matrix[k0 : k0 + rows])
    if norm == "ortho":
        matrix[1:] *= math.sqrt(1.0 / (2 * n_in))
        matrix[0] *= math.sqrt(1.0 / (4 * n_in))
    return matrix


def lifter_weights(n_coefficients: int, lifter: float) -> np.ndarray:
    """Cepstral liftering weights ``1 + (lifter / 2) * sin(pi * (k + 1) / lifter)``, as librosa's mfcc.

    Parameters
    ----------
    n_coefficients : int
        Number of coefficients, ``>= 1``.
    lifter : float
        ``0`` for no liftering (all weights 1), else ``> 0``.

    Returns
    -------
    numpy.ndarray, shape (n_coefficients,), float64

    Examples
    --------
    >>> lifter_weights(3, 0)
    array([1., 1., 1.])
    >>> lifter_weights(2, 2.0).round(6)
    array([2., 1.])
    """
    lifter = _check_lifter(lifter)
    k = np.arange(1, int(n_coefficients) + 1, dtype=np.float64)
    if lifter == 0:
        return np.ones_like(k)
    return 1.0 + (lifter / 2.0) * np.sin(np.pi * k / lifter)


def _check_lifter(lifter: Any) -> float:
    if isinstance(lifter, bool) or not isinstance(lifter, numbers.Real) or not math.isfinite(lifter) or lifter < 0:
        raise ParameterError("lifter", lifter, "expected a number >= 0 (0: no liftering)")
    return float(lifter)
