"""Kernel builders: plain numpy/scipy functions returning float64 arrays, public for plugin authors.

Like ``librosa.filters``, they take keyword arguments and know nothing about torch; transforms turn
their output into buffers or parameters.
"""

from .fourier import fourier_bins, fourier_kernels, stft_window
from .windows import get_window, pad_center, periodic_window, validate_window

__all__ = [
    "fourier_bins",
    "fourier_kernels",
    "get_window",
    "pad_center",
    "periodic_window",
    "stft_window",
    "validate_window",
]

from .dct import dct_matrix, lifter_weights  # noqa: E402
from .mel import (  # noqa: E402
    fft_frequencies,
    filter_groups,
    hz_to_mel,
    mel_filterbank,
    mel_frequencies,
    mel_to_hz,
    normalize_filters,
)

__all__ += [
    "dct_matrix",
    "fft_frequencies",
    "filter_groups",
    "hz_to_mel",
    "lifter_weights",
    "mel_filterbank",
    "mel_frequencies",
    "mel_to_hz",
    "normalize_filters",
]
