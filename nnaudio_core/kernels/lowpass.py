"""Anti-alias low-pass filters for halving the sample rate between constant-Q octaves.

The multirate CQT (``cqt2019``) filters and decimates by two once per octave. What it needs from
the filter, at the *input* rate (frequencies in units of the input's Nyquist frequency):

* flat passband up to ``passband`` (the highest frequency any lower-octave kernel responds to),
* everything above ``stopband = 1 - passband`` suppressed, so nothing aliases into the passband
  after decimation (the band between ``passband`` and the new Nyquist ``0.5`` may alias into
  itself: no kernel looks there).

A Kaiser-windowed sinc meets both with ripple ``10 ** (-attenuation_db / 20)`` in each band.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.signal

__all__ = ["decimation_lowpass", "lowpass_fir", "polyphase_bank"]


def lowpass_fir(*, passband: float, stopband: float, attenuation_db: float = 100.0) -> np.ndarray:
    """Linear-phase Kaiser low-pass FIR with unit DC gain and an odd number of taps.

    Parameters
    ----------
    passband : float
        Passband edge in units of Nyquist, ``0 < passband < stopband``.
    stopband : float
        Stopband edge in units of Nyquist, ``stopband <= 1``.
    attenuation_db : float
        Stopband attenuation and passband ripple target in dB (``> 20``).

    Returns
    -------
    numpy.ndarray, shape (taps,), float64
        Symmetric taps; the group delay is ``(taps - 1) // 2`` samples.

    Examples
    --------
    >>> h = lowpass_fir(passband=0.4, stopband=0.6, attenuation_db=80)
    >>> len(h) % 2, round(float(h.sum()), 12)
    (1, 1.0)
    """
    passband, stopband, attenuation_db = float(passband), float(stopband), float(attenuation_db)
    if not (0 < passband < 1):
        raise ValueError(f"passband={passband!r} is not allowed; expected 0 < passband < 1 (units of Nyquist)")
    if not (passband < stopband <= 1):
        raise ValueError(f"stopband={stopband!r} is not allowed; expected passband={passband} < stopband <= 1")
    if not (math.isfinite(attenuation_db) and attenuation_db > 20):
        raise ValueError(f"attenuation_db={attenuation_db!r} is not allowed; expected a number > 20")
    numtaps, beta = scipy.signal.kaiserord(attenuation_db, stopband - passband)
    numtaps += 1 - numtaps % 2  # odd: integer group delay
    return scipy.signal.firwin(numtaps, (passband + stopband) / 2, window=("kaiser", beta), scale=True)


def decimation_lowpass(*, passband: float, attenuation_db: float = 100.0) -> np.ndarray:
    """Low-pass for decimation by two: flat to ``passband``, stop from ``1 - passband`` (Nyquist units).

    ``passband`` is the fraction of the *input* Nyquist to keep, ``< 0.5``; the filter is a
    half-band design (cutoff at the new Nyquist), so every second tap but the centre is ~0.

    Examples
    --------
    >>> h = decimation_lowpass(passband=0.4, attenuation_db=100)
    >>> len(h)
    67
    """
    passband = float(passband)
    if not (0 < passband < 0.5):
        raise ValueError(
            f"passband={passband!r} is not allowed; expected 0 < passband < 0.5 (units of the input Nyquist)"
        )
    return lowpass_fir(passband=passband, stopband=1.0 - passband, attenuation_db=attenuation_db)


def polyphase_bank(taps: np.ndarray, *, factor: int = 2, outputs: int = 16) -> np.ndarray:
    """Rows that compute ``outputs`` consecutive decimated samples in one strided correlation.

    Row ``i`` is ``taps`` delayed by ``factor * i``; correlating the signal with all rows at stride
    ``factor * outputs`` and interleaving the rows gives
    ``y[i] = sum_k taps[k] * x[factor * i + k]`` — decimating filtering as one matrix product
    instead of a single-channel convolution (which is slow on CPU).

    Parameters
    ----------
    taps : numpy.ndarray, shape (n,)
    factor : int
        Decimation factor, ``>= 1``.
    outputs : int
        Output samples per stride, ``>= 1``.

    Returns
    -------
    numpy.ndarray, shape (outputs, n + factor * (outputs - 1))

    Examples
    --------
    >>> polyphase_bank(np.array([1.0, 2.0]), factor=2, outputs=2)
    array([[1., 2., 0., 0.],
           [0., 0., 1., 2.]])
    """
    taps = np.asarray(taps, dtype=np.float64)
    if taps.ndim != 1 or taps.size == 0:
        raise ValueError(f"taps with shape {taps.shape} is not allowed; expected a non-empty 1-D array")
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"factor={factor!r} is not allowed; expected an integer >= 1")
    if isinstance(outputs, bool) or not isinstance(outputs, (int, np.integer)) or outputs < 1:
        raise ValueError(f"outputs={outputs!r} is not allowed; expected an integer >= 1")
    bank = np.zeros((outputs, taps.size + factor * (outputs - 1)))
    for i in range(outputs):
        bank[i, factor * i : factor * i + taps.size] = taps
    return bank
