"""Chroma filterbanks: fold a spectrogram's frequency rows into pitch classes (pure numpy builders).

* :func:`chroma_filterbank`: STFT bins → ``n_chroma`` pitch classes with Gaussian bumps in
  log-frequency, as ``librosa.filters.chroma`` defines them (D. Ellis' chromagram): FFT bin ``i``
  sits at ``b_i = n_chroma * log2(f_i / (27.5 * 2 ** (tuning / n_chroma)))`` chroma steps above
  A0; its weight for class ``c`` is ``exp(-0.5 * (2 * d / w_i) ** 2)`` with ``d`` the distance of
  ``b_i`` to ``c`` wrapped into ``[-n_chroma / 2, n_chroma / 2)`` and ``w_i = max(b_{i+1} - b_i, 1)``;
  each column (FFT bin) is divided by its ``norm``-norm, then weighted by the octave dominance
  ``exp(-0.5 * ((b_i / n_chroma - ctroct) / octwidth) ** 2)``; the 0 Hz bin is put 1.5 octaves
  below bin 1; rows start at C (``base_c``) or A.
* :func:`cq_to_chroma`: constant-Q bins → pitch classes (``librosa.filters.cq_to_chroma``): each
  class sums the ``bins_per_octave / n_chroma`` bins around it in every octave.

Both return float64 arrays of shape ``(n_chroma, n_input_rows)``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["C1_HZ", "chroma_filterbank", "column_norms", "cq_to_chroma"]

#: librosa's ``note_to_hz("C1")``: MIDI note 24 in A440 equal temperament.
C1_HZ = 440.0 * 2.0 ** ((24 - 69) / 12)


def _check_int(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}={value!r} is not allowed; expected an integer >= {minimum}")
    return int(value)


def _check_positive(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if isinstance(value, bool) or not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name}={value!r} is not allowed; expected a positive finite number")
    return v


def column_norms(weights: np.ndarray, norm: float | None) -> np.ndarray:
    """The ``norm``-norm of each column of ``weights`` (``None``: ones), as ``librosa.util.normalize``.

    ``inf`` is the largest magnitude, ``-inf`` the smallest, ``0`` the count of non-zeros and
    ``p > 0`` the p-norm. Columns whose norm is below the smallest normal float64 get 1 (they are
    left as they are).

    Examples
    --------
    >>> column_norms(np.array([[3.0, 0.0], [4.0, 0.0]]), 2)
    array([5., 1.])
    """
    mag = np.abs(weights)
    if norm is None:
        return np.ones(weights.shape[1])
    p = float(norm)
    if p == math.inf:
        length = mag.max(axis=0)
    elif p == -math.inf:
        length = mag.min(axis=0)
    elif p == 0:
        length = (mag > 0).sum(axis=0).astype(np.float64)
    elif p > 0:
        length = (mag**p).sum(axis=0) ** (1.0 / p)
    else:
        raise ValueError(f"norm={norm!r} is not allowed; expected None, inf, -inf, 0 or a p-norm order > 0")
    return np.where(length < np.finfo(np.float64).tiny, 1.0, length)


def chroma_filterbank(
    *,
    sr: float,
    n_fft: int,
    n_chroma: int = 12,
    tuning: float = 0.0,
    ctroct: float = 5.0,
    octwidth: float | None = 2.0,
    norm: float | None = 2,
    base_c: bool = True,
) -> np.ndarray:
    """STFT-bin to pitch-class weights (``librosa.filters.chroma``'s definition), float64.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    n_fft : int
        FFT length of the spectrogram (``n_fft // 2 + 1`` columns), ``>= 2``.
    n_chroma : int
        Number of pitch classes (12: semitones; 24: quarter tones), ``>= 1``.
    tuning : float
        Tuning deviation from A440 in fractions of a chroma bin.
    ctroct, octwidth : float
        Octave dominance window: a Gaussian in octaves above A0 (27.5 Hz) centred on ``ctroct``
        with half-width ``octwidth``; ``octwidth=None`` weights every octave equally.
    norm : float or None
        Norm each column (FFT bin) is divided by before the octave weighting (default 2; see
        :func:`column_norms`).
    base_c : bool
        Row 0 is C (default); ``False``: A.

    Returns
    -------
    numpy.ndarray, shape (n_chroma, n_fft // 2 + 1), float64

    Examples
    --------
    >>> fb = chroma_filterbank(sr=22050, n_fft=4096)
    >>> fb.shape
    (12, 2049)
    >>> int(fb[:, 372].argmax())  # bin 372 is 2002 Hz, close to B6 (1976 Hz): class 11 (B)
    11
    """
    sr = _check_positive("sr", sr)
    n_fft = _check_int("n_fft", n_fft, 2)
    n_chroma = _check_int("n_chroma", n_chroma, 1)
    tuning = float(tuning)
    if not math.isfinite(tuning):
        raise ValueError(f"tuning={tuning!r} is not allowed; expected a finite number of chroma bins")
    ctroct = float(ctroct)
    if octwidth is not None:
        octwidth = _check_positive("octwidth", octwidth)
    freqs = np.arange(1, n_fft, dtype=np.float64) * (sr / n_fft)  # FFT bins above 0 Hz
    a0 = 27.5 * 2.0 ** (tuning / n_chroma)
    pos = n_chroma * np.log2(freqs / a0)
    pos = np.concatenate(([pos[0] - 1.5 * n_chroma], pos))  # the 0 Hz bin: 1.5 octaves below bin 1
    width = np.concatenate((np.maximum(np.diff(pos), 1.0), [1.0]))
    half = float(np.round(n_chroma / 2))
    dist = pos[None, :] - np.arange(n_chroma, dtype=np.float64)[:, None]
    dist = np.remainder(dist + half + 10 * n_chroma, n_chroma) - half  # wrapped into [-half, n_chroma - half)
    weights = np.exp(-0.5 * (2.0 * dist / width[None, :]) ** 2)
    weights = weights / column_norms(weights, norm)[None, :]
    if octwidth is not None:
        weights = weights * np.exp(-0.5 * ((pos / n_chroma - ctroct) / octwidth) ** 2)[None, :]
    if base_c:
        weights = np.roll(weights, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(weights[:, : n_fft // 2 + 1])


def cq_to_chroma(
    *,
    n_input: int,
    bins_per_octave: int = 12,
    n_chroma: int = 12,
    fmin: float = C1_HZ,
    base_c: bool = True,
) -> np.ndarray:
    """Constant-Q-bin to pitch-class weights (``librosa.filters.cq_to_chroma``), float64 zeros and ones.

    With ``m = bins_per_octave / n_chroma`` (an integer) input bins per class, bin ``j`` belongs
    to class ``((j mod B + m // 2) mod B) // m`` counted from the pitch class of ``fmin``, then
    rotated so that row 0 is C (``base_c``) or A: the round MIDI pitch class of ``fmin``, scaled to
    ``n_chroma`` classes.

    Parameters
    ----------
    n_input : int
        Number of constant-Q bins, ``>= 1``.
    bins_per_octave : int
        Constant-Q bins per octave, a multiple of ``n_chroma``.
    n_chroma : int
        Number of pitch classes.
    fmin : float
        Frequency of constant-Q bin 0 in Hz (default C1, 32.703 Hz).
    base_c : bool
        Row 0 is C (default); ``False``: A.

    Returns
    -------
    numpy.ndarray, shape (n_chroma, n_input), float64

    Examples
    --------
    >>> m = cq_to_chroma(n_input=36, bins_per_octave=36)
    >>> m.shape, m.sum(axis=1)[:3]
    ((12, 36), array([3., 3., 3.]))
    >>> [int(i) for i in np.flatnonzero(m[0])]  # C takes the bins around C1: 0, 1 and 35
    [0, 1, 35]
    """
    n_input = _check_int("n_input", n_input, 1)
    bins_per_octave = _check_int("bins_per_octave", bins_per_octave, 1)
    n_chroma = _check_int("n_chroma", n_chroma, 1)
    fmin = _check_positive("fmin", fmin)
    if bins_per_octave % n_chroma:
        raise ValueError(
            f"bins_per_octave={bins_per_octave} is not allowed with n_chroma={n_chroma}: expected a multiple of "
            "n_chroma (each pitch class merges a whole number of constant-Q bins)"
        )
    merge = bins_per_octave // n_chroma
    j = np.arange(n_input)
    cls = ((j % bins_per_octave + merge // 2) % bins_per_octave) // merge
    midi0 = (12.0 * math.log2(fmin / 440.0) + 69.0) % 12.0
    roll = int(np.round((midi0 if base_c else midi0 - 9.0) * (n_chroma / 12.0)))
    out = np.zeros((n_chroma, n_input))
    out[(cls + roll) % n_chroma, j] = 1.0
    return out
