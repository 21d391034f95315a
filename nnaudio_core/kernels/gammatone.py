"""Gammatone filterbanks on the DFT grid (Ellis' ``fft2gammatonemx``, nnAudio's ``get_gammatone``).

A gammatone filter of order 4 with centre frequency ``f`` and bandwidth ``b = 1.019 * 2 pi * ERB(f)``
(Glasberg and Moore's equivalent rectangular bandwidth ``ERB(f) = width * (f / 9.26449 + 24.7)``,
after Slaney's ``MakeERBFilters``) is approximated, as in Ellis' MATLAB ``fft2gammatonemx``, by
the magnitude response of its digital pole-zero model: four zeros ``z_m`` and the pole pair
``p = exp(-b / sr + i 2 pi f / sr)`` (each of order 4), evaluated on the unit circle at the DFT
bin frequencies ``u_k = exp(i 2 pi k / n_fft)``::

    W[i, k] = T ** 4 / g_i * prod_m |u_k - z_m| * |(p - u_k) (conj(p) - u_k)| ** -4,   T = 1 / sr

with ``g_i`` the gain that gives the filter a unit response at its centre frequency. The centre
frequencies are ``n_bins`` points equally spaced on the ERB-rate scale
``log(f + 9.26449 * 24.7)``: the lowest at ``fmin``, the highest one step below ``fmax`` (see
:func:`gammatone_frequencies`), in ascending order. nnAudio's
``get_gammatone`` divides the whole matrix by ``n_fft``; so does :func:`gammatone_filterbank`.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ParameterError

__all__ = ["EAR_Q", "MIN_BANDWIDTH", "erb", "gammatone_filterbank", "gammatone_frequencies"]

#: Glasberg and Moore's asymptotic filter quality and minimum bandwidth in Hz (Slaney's MakeERBFilters).
EAR_Q = 9.26449
MIN_BANDWIDTH = 24.7


def gammatone_frequencies(n_bins: int, *, fmin: float, fmax: float) -> np.ndarray:
    """Centre frequencies in Hz, ascending: ``n_bins`` steps on the ERB-rate scale from ``fmax`` toward ``fmin``.

    ``f_i = (fmax + E) * exp(i * (log(fmin + E) - log(fmax + E)) / n_bins) - E`` for
    ``i = 1 .. n_bins`` (``E = 9.26449 * 24.7``), reversed: the lowest is exactly ``fmin``, the
    highest one step of the scale below ``fmax``.

    Examples
    --------
    >>> gammatone_frequencies(4, fmin=100.0, fmax=8000.0).round(1)
    array([ 100. ,  506.6, 1416.1, 3450.3])
    """
    em = EAR_Q * MIN_BANDWIDTH
    steps = np.arange(1, int(n_bins) + 1)
    centres = (fmax + em) * np.exp(steps * (math.log(fmin + em) - math.log(fmax + em)) / n_bins) - em
    return centres[::-1].copy()


def erb(frequencies: np.ndarray | float, *, width: float = 1.0) -> np.ndarray:
    """Equivalent rectangular bandwidth in Hz, ``width * (f / 9.26449 + 24.7)``.

    Examples
    --------
    >>> float(erb(1000.0).round(2))
    132.64
    """
    return width * (np.asarray(frequencies, dtype=np.float64) / EAR_Q + MIN_BANDWIDTH)


def gammatone_filterbank(
    *, sr: float, n_fft: int, n_bins: int = 64, fmin: float = 0.0, fmax: float | None = None, width: float = 1.0,
) -> np.ndarray:
    """Weights combining the ``n_fft // 2 + 1`` DFT bins into ``n_bins`` gammatone bands.

    Parameters
    ----------
    sr : float
        Sample rate in Hz, ``> 0``.
    n_fft : int
        FFT length, ``>= 2``.
    n_bins : int
        Number of bands, ``>= 1``.
    fmin, fmax : float
        Range of the centre frequencies in Hz, ``0 <= fmin < fmax <= sr / 2`` (``fmax=None``:
        ``sr / 2``).
    width : float
        Bandwidth in ERBs, ``> 0`` (default 1).

    Returns
    -------
    numpy.ndarray, shape (n_bins, n_fft // 2 + 1), float64
        Row ``i`` is band ``i`` (ascending centre frequency), divided by ``n_fft`` as nnAudio's
        ``get_gammatone`` (so that ``W @ |X| ** 2`` has nnAudio's scale).

    Examples
    --------
    >>> w = gammatone_filterbank(sr=16000, n_fft=512, n_bins=32)
    >>> w.shape, bool((w > 0).all())
    ((32, 257), True)
    >>> int(w[10].argmax()) == int(np.argmin(np.abs(np.fft.rfftfreq(512, 1 / 16000)
    ...     - gammatone_frequencies(32, fmin=0.0, fmax=8000.0)[10])))
    True
    """
    if not sr > 0:
        raise ParameterError("sr", sr, "expected a sample rate > 0")
    if int(n_fft) < 2:
        raise ParameterError("n_fft", n_fft, "expected an FFT length >= 2")
    if int(n_bins) < 1:
        raise ParameterError("n_bins", n_bins, "expected n_bins >= 1")
    fmax = sr / 2 if fmax is None else float(fmax)
    if not 0 <= fmin < fmax <= sr / 2:
        raise ParameterError("fmax" if fmax > sr / 2 else "fmin", fmax if fmax > sr / 2 else fmin,
                             f"expected 0 <= fmin < fmax <= sr / 2 = {sr / 2:g} Hz")
    if not width > 0:
        raise ParameterError("width", width, "expected a bandwidth > 0 ERBs")
    n_bins, n_fft = int(n_bins), int(n_fft)
    centres = gammatone_frequencies(n_bins, fmin=fmin, fmax=fmax)[:, None]
    t = 1.0 / sr
    bandwidth = 1.019 * 2 * np.pi * erb(centres, width=width)
    angle = 2 * np.pi * centres * t
    pole = np.exp(-bandwidth * t) * np.exp(1j * angle)
    decay = np.exp(bandwidth * t)
    # the four zeros of the 4th-order model (Slaney's MakeERBFilters A11..A14)
    root_plus, root_minus = math.sqrt(3 + 2**1.5), math.sqrt(3 - 2**1.5)
    cos_term, sin_term = 2 * t * np.cos(angle), 2 * t * np.sin(angle)
    zeros = [(cos_term + sign * root * sin_term) / (2 * decay) / t
             for root in (root_plus, root_minus) for sign in (1, -1)]
    # gain at the centre frequency: the product of the four second-order sections' responses
    e4 = np.exp(4j * np.pi * centres * t)
    e2 = np.exp(-bandwidth * t + 2j * np.pi * centres * t)
    cos_c, sin_c = np.cos(2 * np.pi * centres * t), np.sin(2 * np.pi * centres * t)
    numerator = np.ones_like(e4)
    for root in (root_minus, root_plus):
        for sign in (-1, 1):
            numerator = numerator * (-2 * e4 * t + 2 * e2 * t * (cos_c + sign * root * sin_c))
    denominator = (-2 / np.exp(2 * bandwidth * t) - 2 * e4 + 2 * (1 + e4) / decay) ** 4
    gain = np.abs(numerator / denominator)
    unit = np.exp(2j * np.pi * np.arange(n_fft // 2 + 1) / n_fft)[None, :]
    response = np.ones((n_bins, n_fft // 2 + 1))
    for zero in zeros:
        response = response * np.abs(unit - zero)
    response = response * np.abs((pole - unit) * (np.conj(pole) - unit)) ** -4.0
    return (t**4 / gain) * response / n_fft
