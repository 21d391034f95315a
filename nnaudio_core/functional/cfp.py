"""The combined frequency and periodicity (CFP) representation, real-valued end to end (nnAudio's CFP).

From the magnitude spectrum ``|X|`` (``N`` bins, full circle) of each frame, alternate a real DFT
and a rectified power ``len(g) - 1`` times (Su and Yang 2015)::

    spec = relu(|X| / ||h||) ** g[0]
    ceps = mask_q * relu(Re DFT(spec) / sqrt(N)) ** g[1]       (odd layers)
    spec = mask_f * relu(Re DFT(ceps) / sqrt(N)) ** g[2]       (even layers)

(``g = 0``: ``log(relu(.) + 1e-8)`` instead of the power; the masks zero the first and the last
``cutoff`` bins). The real part of a DFT of a real sequence ``s`` is the DFT of its even part, so
each layer is one ``irfft`` of a real half-sequence (no complex tensor: :func:`real_dft`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .complex import magnitude
from .dtypes import dtype_max, is_half
from .stft import pad_frames, stft_fft

__all__ = ["OUTPUTS", "cfp", "real_dft"]

#: The representations, in nnAudio's order: combined, spectrum, frequency (spectral), periodicity (cepstral).
OUTPUTS = ("Z", "spectrum", "frequency", "periodicity")


def real_dft(s: Tensor) -> Tensor:
    """``Re DFT(s)`` along the last axis of a real ``s`` (length ``N``), as one real inverse FFT.

    ``Re DFT(s) = DFT(e)`` for the even part ``e[j] = (s[j] + s[-j mod N]) / 2``, and the DFT of a
    real even sequence is ``N * irfft(e[: N // 2 + 1], n=N)``.

    Examples
    --------
    >>> s = torch.randn(3, 10, dtype=torch.float64)
    >>> bool(torch.allclose(real_dft(s), torch.fft.fft(s).real))
    True
    """
    n = s.shape[-1]
    half = n // 2 + 1
    mirrored = torch.cat([s[..., :1], torch.flip(s[..., n - n // 2:], [-1])], dim=-1)
    even = 0.5 * (s[..., :half] + mirrored)
    return torch.fft.irfft(even, n=n, dim=-1) * n


def _activate(x: Tensor, g: float, mask: Tensor, bound: float) -> Tensor:
    if g == 0.0:
        return torch.log(torch.relu(x) + 1e-8) * mask
    # at most bound = max / N: the next DFT's sum of N terms stays finite (inf - inf would be NaN)
    return torch.relu(x).pow(g).clamp(max=bound) * mask


def cfp(
    x: Tensor, window: Tensor, freq_to_log: Tensor, quef_to_log: Tensor, spectrum_mask: Tensor,
    cepstrum_mask: Tensor, n_fft: int, hop_length: int, g: list[float], output: str,
) -> Tensor:
    """CFP of waveforms ``x (N, time)``: ``(N, bands, frames)`` for one ``output``, or ``(N, bands, frames, 4)``.

    Parameters
    ----------
    x : Tensor, shape (N, time)
    window : Tensor, shape (n_fft,)
        The analysis window centred in ``n_fft`` samples (``||window||`` normalises the spectrum).
    freq_to_log, quef_to_log : Tensor, shape (bands, n_freq), (bands, n_quef)
        The log-frequency maps (:mod:`nnaudio_core.kernels.cfp`); ``n_freq``, ``n_quef <= n_fft // 2``.
    spectrum_mask, cepstrum_mask : Tensor, shape (n_fft,)
        1, with 0 at the first and last ``cutoff`` bins of the spectral and cepstral layers.
    n_fft, hop_length : int
        Frames of ``n_fft`` samples every ``hop_length`` (centred, zero padded).
    g : list of float
        The exponents, ``len(g) >= 2``.
    output : {"Z", "spectrum", "frequency", "periodicity", "all"}
        One representation, or all four stacked in nnAudio's order (a last dim).

    Examples
    --------
    >>> w, m = torch.hann_window(64), torch.ones(64)
    >>> cfp(torch.randn(2, 800), w, torch.rand(5, 20), torch.rand(5, 16), m, m, 64, 16, [0.24, 0.6, 1.0],
    ...     "all").shape
    torch.Size([2, 5, 51, 4])
    """
    dtype = x.dtype
    if is_half(dtype):
        x, window = x.float(), window.float()
        freq_to_log, quef_to_log = freq_to_log.float(), quef_to_log.float()
        spectrum_mask, cepstrum_mask = spectrum_mask.float(), cepstrum_mask.float()
    spec = stft_fft(pad_frames(x, n_fft // 2, "constant"), window, n_fft, hop_length, n_fft // 2 + 1)
    half = magnitude(spec.real, spec.imag).transpose(1, 2) / torch.linalg.vector_norm(window)  # (N, frames, bins)
    # the full circle of a real signal's magnitude: bins n_fft // 2 + 1 .. n_fft - 1 mirror 1 .. (n_fft - 1) // 2
    full = torch.cat([half, torch.flip(half[..., 1 : n_fft - n_fft // 2], [-1])], dim=-1)
    scale = 1.0 / math.sqrt(n_fft)
    bound = dtype_max(full.dtype) / n_fft
    full = full.clamp(max=bound)  # huge input: |X| overflows to inf
    spectrum = torch.relu(full).pow(g[0]).clamp(max=bound)
    cepstrum = spectrum
    for layer in range(1, len(g)):
        if layer % 2 == 1:
            cepstrum = _activate(real_dft(spectrum) * scale, g[layer], cepstrum_mask, bound)
        else:
            spectrum = _activate(real_dft(cepstrum) * scale, g[layer], spectrum_mask, bound)
    n_freq, n_quef = freq_to_log.shape[1], quef_to_log.shape[1]
    linear = torch.matmul(full[..., :n_freq], freq_to_log.t()).transpose(1, 2)
    frequency = torch.matmul(spectrum[..., :n_freq], freq_to_log.t()).transpose(1, 2)
    periodicity = torch.matmul(cepstrum[..., :n_quef], quef_to_log.t()).transpose(1, 2)
    combined = frequency * periodicity
    if output == "Z":
        out = combined
    elif output == "spectrum":
        out = linear
    elif output == "frequency":
        out = frequency
    elif output == "periodicity":
        out = periodicity
    else:
        out = torch.stack([combined, linear, frequency, periodicity], dim=-1)
    return out.contiguous().to(dtype)
