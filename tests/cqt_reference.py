"""Float64 reference constant-Q transform: the definition computed directly, one correlation per bin.

Deliberately independent of ``nnaudio_core`` (only numpy and scipy's window table), slow and
simple, so the tests compare the library against the written definition (docs/cqt.md):

* ``f_k = fmin * 2 ** (k / B)``;
* ``l_k``: librosa ``filter_scale * sr / (alpha * f_k)``, ``alpha = (2^(2/B) - 1) / (2^(2/B) + 1)``,
  or nnAudio ``ceil(Q * sr / f_k)``, ``Q = filter_scale / (2^(1/B) - 1)``;
* ``n = arange(-l_k // 2, l_k // 2)``; window = periodic window of ``floor(l_k)`` samples,
  zero-padded at the end to ``len(n)``; ``kernel = window * exp(2j pi f_k n / sr)`` / its norm;
* ``C[k, t] = sum_n x[t * hop + n] * conj(kernel_k[n])`` with ``x`` extended by the padding
  (centred), or, with ``center=False``, ``n = 0`` at ``t * hop + c`` where ``c`` is the longest
  kernel's ``-min(n)`` and only frames whose longest kernel lies inside the signal;
* ``normalization_type``: "librosa" multiplies by ``sqrt(l_k)``, "convolutional" by 1, "wrap" by 2.
"""

from __future__ import annotations

import numpy as np
import scipy.signal


def reference_lengths(freqs, *, sr, filter_scale=1.0, bins_per_octave=12, lengths="librosa"):
    freqs = np.asarray(freqs, dtype=np.float64)
    if lengths == "librosa":
        r = 2.0 ** (2.0 / bins_per_octave)
        alpha = (r - 1) / (r + 1)
        return filter_scale * sr / (alpha * freqs)
    q = filter_scale / (2.0 ** (1.0 / bins_per_octave) - 1)
    return np.ceil(q * sr / freqs)


def reference_kernel(freq, length, *, sr, window="hann", norm=1):
    """(n, kernel) for one bin, straight from the definition."""
    n = np.arange(-length // 2, length // 2)  # floor division on the real length
    win = np.zeros(len(n))
    m = int(np.floor(length))
    win[:m] = scipy.signal.get_window(window, m, fftbins=True)
    kernel = win * np.exp(2j * np.pi * freq * n / sr)
    if norm is not None and norm is not False and norm != 0:
        kernel = kernel / np.linalg.norm(kernel, ord=norm)
    return n.astype(np.int64), kernel


def extend(x, index, pad_mode):
    """``x`` at integer positions ``index`` (any, also outside), extended as ``pad_mode`` says."""
    n = len(x)
    if pad_mode == "constant":
        inside = (index >= 0) & (index < n)
        return np.where(inside, x[np.clip(index, 0, n - 1)], 0.0)
    if pad_mode == "reflect":  # ... x2 x1 | x0 x1 x2 ... x_{n-1} | x_{n-2} ..., repeated
        if n == 1:
            return x[np.zeros_like(index)]
        period = 2 * (n - 1)
        i = np.mod(index, period)
        return x[np.where(i < n, i, period - i)]
    if pad_mode == "replicate":
        return x[np.clip(index, 0, n - 1)]
    if pad_mode == "circular":
        return x[np.mod(index, n)]
    raise ValueError(pad_mode)


def reference_cqt(
    x,
    *,
    sr,
    hop_length,
    fmin,
    n_bins,
    bins_per_octave=12,
    filter_scale=1.0,
    norm=1,
    window="hann",
    lengths="librosa",
    center=True,
    pad_mode="constant",
    normalization_type="librosa",
):
    """Complex CQT of ``x`` (shape ``(time,)`` or ``(batch, time)``), float64/complex128.

    Returns shape ``(n_bins, frames)`` or ``(batch, n_bins, frames)``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        return np.stack(
            [
                reference_cqt(
                    row, sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave,
                    filter_scale=filter_scale, norm=norm, window=window, lengths=lengths, center=center,
                    pad_mode=pad_mode, normalization_type=normalization_type,
                )
                for row in x
            ]
        )
    freqs = fmin * 2.0 ** (np.arange(n_bins) / bins_per_octave)
    lens = reference_lengths(freqs, sr=sr, filter_scale=filter_scale, bins_per_octave=bins_per_octave, lengths=lengths)
    kernels = [reference_kernel(f, ln, sr=sr, window=window, norm=norm) for f, ln in zip(freqs, lens, strict=True)]
    if center:
        n_frames = 1 + len(x) // hop_length
        origin = 0
    else:
        c = max(-n[0] for n, _ in kernels)
        width = c + max(n[-1] + 1 for n, _ in kernels)
        n_frames = max(0, 1 + (len(x) - width) // hop_length) if len(x) >= width else 0
        origin = c
    out = np.zeros((n_bins, n_frames), dtype=np.complex128)
    if n_frames == 0:
        return out
    lo = min(n[0] for n, _ in kernels)
    hi = max(n[-1] for n, _ in kernels)
    first = origin + lo  # smallest signal index any kernel touches
    span = np.arange(first, origin + hop_length * (n_frames - 1) + hi + 1)
    xp = extend(x, span, pad_mode)  # xp[i] = x[first + i], padding included
    for k, (n, kernel) in enumerate(kernels):
        start = origin + n[0] - first
        frames = np.lib.stride_tricks.sliding_window_view(xp[start:], len(n))[:: hop_length][:n_frames]
        out[k] = frames @ np.conj(kernel)
    scales = {"librosa": np.sqrt(lens), "convolutional": np.ones(n_bins), "wrap": 2 * np.ones(n_bins)}
    scale = scales[normalization_type]
    return out * scale[:, None]


def rel_err(actual, expected) -> float:
    """``||actual - expected|| / ||expected||`` on complex128."""
    a = np.asarray(actual, dtype=np.complex128)
    b = np.asarray(expected, dtype=np.complex128)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


__all__ = ["extend", "reference_cqt", "reference_kernel", "reference_lengths", "rel_err"]
