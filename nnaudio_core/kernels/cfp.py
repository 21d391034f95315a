"""Kernels of the combined frequency and periodicity (CFP) representation (Su and Yang 2015, nnAudio's CFP).

The CFP maps a linear spectrum (bin ``j`` at frequency ``f_j``) and a cepstrum (quefrency ``q_j``,
read as the frequency ``1 / q_j``) onto the same log-frequency grid: ``num_per_oct`` centres per
octave from ``fc`` up to (not reaching) ``1 / tc``, ``c_i = fc * 2 ** (i / num_per_oct)``. Output
row ``i`` (``1 <= i <= len(c) - 2``) is a triangle rising from ``c_{i-1}`` to 1 at ``c_i`` and
falling to ``c_{i+1}`` (strict inequalities: a bin exactly on a corner has weight 0), sampled at
the bins between ``round(c_{i-1} / fr)`` and ``round(c_{i+1} / fr)`` (frequency) or between
``round(fs / c_{i+1})`` and ``round(fs / c_{i-1})`` (quefrency). A band narrower than one bin
takes that bin whole. Row 0 is zero, as in nnAudio (which never fills it). The frequency axis
is nnAudio's ``fs * linspace(0, 0.5, N // 2)[:stop]`` for ``N = int(fs / fr)`` (a step of
``fs / (N - 2)``, not ``fs / N``), kept for its numbers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cfp_axes", "frequency_to_log", "log_frequency_centres", "quefrency_to_log"]


def log_frequency_centres(fc: float, tc: float, num_per_oct: int) -> np.ndarray:
    """``fc * 2 ** (i / num_per_oct)`` below ``1 / tc``, for ``i < ceil(log2(1 / (tc fc))) * num_per_oct``.

    Examples
    --------
    >>> log_frequency_centres(100.0, 1 / 400.0, 1)
    array([100., 200.])
    """
    stop = 1.0 / tc
    count = int(np.ceil(np.log2(stop / fc)) * num_per_oct)
    centres = fc * 2.0 ** (np.arange(count) / float(num_per_oct))
    return centres[centres < stop]


def cfp_axes(fr: float, fs: float, fc: float, tc: float) -> tuple[int, np.ndarray, np.ndarray]:
    """``(N, f, q)``: FFT length ``int(fs / fr)``, the frequencies of the bins kept and the quefrencies kept.

    ``f = fs * linspace(0, 0.5, round(N // 2))[: round(1 / tc / fr) + 1]`` (nnAudio's axis) and
    ``q = arange(round(fs / fc) + 1) / fs``.

    Examples
    --------
    >>> n, f, q = cfp_axes(2.0, 16000.0, 80.0, 1 / 1000.0)
    >>> n, f.shape, q.shape
    (8000, (501,), (201,))
    """
    n = int(fs / float(fr))
    f = fs * np.linspace(0, 0.5, int(np.round(n // 2)), endpoint=True)
    f = f[: int(round((1.0 / tc) / fr) + 1)]
    q = np.arange(int(round(fs / fc) + 1)) / float(fs)
    return n, f, q


def _triangles(axis: np.ndarray, centres: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
    weights = np.zeros((len(centres) - 1, len(axis)), dtype=np.float64)
    for i in range(1, len(centres) - 1):
        low, high = ranges[i - 1]
        j = np.arange(max(low, 0), min(high, len(axis)))
        v = axis[j]
        lo, mid, hi = centres[i - 1], centres[i], centres[i + 1]
        rising = (v > lo) & (v < mid)
        falling = (v > mid) & (v < hi)
        weights[i, j[rising]] = (v[rising] - lo) / (mid - lo)
        weights[i, j[falling]] = (hi - v[falling]) / (hi - mid)
    return weights


def frequency_to_log(f: np.ndarray, centres: np.ndarray, fr: float) -> np.ndarray:
    """Triangular weights ``(len(centres) - 1, len(f))`` from linear frequency bins to the log grid.

    Examples
    --------
    >>> w = frequency_to_log(np.arange(10.0) * 100, np.array([100.0, 200.0, 400.0, 800.0]), 100.0)
    >>> w[1].round(2)  # the bin exactly at the centre (200 Hz) weighs 0, as in nnAudio
    array([0. , 0. , 0. , 0.5, 0. , 0. , 0. , 0. , 0. , 0. ])
    """
    out = _triangles(f, centres, [(int(round(centres[i - 1] / fr)), int(round(centres[i + 1] / fr) + 1))
                                  for i in range(1, len(centres) - 1)])
    for i in range(1, len(centres) - 1):  # a band narrower than one bin takes that bin
        low, high = int(round(centres[i - 1] / fr)), int(round(centres[i + 1] / fr) + 1)
        if low >= high - 1:
            out[i] = 0.0
            out[i, low] = 1.0
    return out


def quefrency_to_log(q: np.ndarray, centres: np.ndarray, fs: float) -> np.ndarray:
    """Triangular weights ``(len(centres) - 1, len(q))`` from quefrency bins (as ``1 / q``) to the log grid.

    Examples
    --------
    >>> w = quefrency_to_log(np.arange(81) / 8000.0, np.array([100.0, 200.0, 400.0]), 8000.0)
    >>> int(w[1].argmax()), float(w[1].max())
    (39, 0.9743589743589743)
    """
    with np.errstate(divide="ignore"):
        inverse = 1.0 / q
    return _triangles(inverse, centres, [(int(round(fs / centres[i + 1])), int(round(fs / centres[i - 1])) + 1)
                                         for i in range(1, len(centres) - 1)])
