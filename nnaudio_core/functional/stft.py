"""The short-time Fourier transform as tensor functions, and the output formats shared by every spectrum.

:func:`stft_conv` correlates the padded signal with real Fourier kernels ``[cos; -sin]`` (trainable;
any frequency grid); :func:`stft_fft` computes the same frames with ``torch.stft`` on the FFT grid.
:func:`format_pair` and :func:`format_complex` turn a spectrum into the ``output_format`` of the
STFT and CQT transforms.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .complex import magnitude, phase
from .conv import strided_conv1d
from .spectral import power_spectrum

#: The output formats of a spectrum.
OUTPUT_FORMATS = ("Complex", "Magnitude", "Phase", "Power")

__all__ = ["OUTPUT_FORMATS", "format_complex", "format_pair", "pad_frames", "stft_conv", "stft_fft"]


def pad_frames(x: Tensor, pad_amount: int, pad_mode: str) -> Tensor:
    """``(N, time)`` → ``(N, 1, time + 2 * pad_amount)``, extended by ``pad_mode`` on both sides.

    Examples
    --------
    >>> pad_frames(torch.arange(4.0)[None], 2, "reflect")
    tensor([[[2., 1., 0., 1., 2., 3., 2., 1.]]])
    """
    x = x.unsqueeze(1)
    if pad_amount:
        x = F.pad(x, (pad_amount, pad_amount), mode=pad_mode)
    return x


def stft_conv(x: Tensor, fourier: Tensor, hop_length: int) -> tuple[Tensor, Tensor]:
    """STFT frames of a padded signal by strided correlation with real Fourier kernels.

    Parameters
    ----------
    x : Tensor, shape (N, 1, time)
        The padded signal (:func:`pad_frames`).
    fourier : Tensor, shape (2 * freq_bins, 1, n_fft)
        Rows ``[w cos; -w sin]`` (:func:`nnaudio_core.kernels.fourier_kernels`), trainable.
    hop_length : int

    Returns
    -------
    real, imag : Tensor, shape (N, freq_bins, frames)

    Examples
    --------
    >>> from nnaudio_core.kernels import fourier_bins, fourier_kernels, stft_window
    >>> re, im = fourier_kernels(stft_window("hann", win_length=8, n_fft=8), fourier_bins(n_fft=8, sr=8))
    >>> kernels = torch.from_numpy(np.concatenate([re, im])[:, None, :]).float()
    >>> real, imag = stft_conv(torch.randn(2, 1, 64), kernels, 4)
    >>> real.shape
    torch.Size([2, 5, 15])
    """
    y = strided_conv1d(x, fourier, hop_length)
    bins = fourier.shape[0] // 2
    return y[:, :bins], y[:, bins:]


def stft_fft(x: Tensor, window: Tensor, n_fft: int, hop_length: int, freq_bins: int) -> Tensor:
    """The frames of :func:`stft_conv` on the FFT grid, by ``torch.stft``: complex ``(N, freq_bins, frames)``.

    ``x`` is the padded signal ``(N, 1, time)``; ``window`` the ``(n_fft,)`` analysis window. Half
    precision input is transformed in float32 (a complex64 result).

    Examples
    --------
    >>> stft_fft(torch.randn(2, 1, 64), torch.hann_window(8), 8, 4, 5).shape
    torch.Size([2, 5, 15])
    """
    if x.dtype == torch.float16 or x.dtype == torch.bfloat16:  # CPU FFTs have no half precision
        x, window = x.float(), window.float()
    spec = torch.stft(x.squeeze(1), n_fft, hop_length, window=window, center=False, return_complex=True)
    return spec if freq_bins == spec.shape[1] else spec[:, :freq_bins]


def format_pair(real: Tensor, imag: Tensor, output_format: str) -> Tensor:
    """``real + i imag`` as ``output_format``: ``Magnitude`` (finite gradient at 0), ``Power``, ``Phase``, ``Complex``.

    Examples
    --------
    >>> format_pair(torch.tensor([3.0]), torch.tensor([4.0]), "Power")
    tensor([25.])
    """
    if output_format == "Magnitude":
        return magnitude(real, imag)
    if output_format == "Power":
        return real.square() + imag.square()
    if output_format == "Phase":
        return phase(real, imag)
    if real.dtype == torch.float16 or real.dtype == torch.bfloat16:  # no complex bfloat16 (nor a stable half)
        return torch.complex(real.float(), imag.float())
    return torch.complex(real, imag)


def format_complex(spec: Tensor, output_format: str, dtype: torch.dtype | None = None) -> Tensor:
    """A complex spectrum as ``output_format`` (see :func:`format_pair`); real outputs cast to ``dtype``.

    Examples
    --------
    >>> format_complex(torch.tensor([3 + 4j]), "Magnitude")
    tensor([5.])
    """
    if output_format == "Complex":
        return spec
    if output_format == "Magnitude":
        out = spec.abs()
    elif output_format == "Power":
        out = power_spectrum(spec)
    else:
        out = phase(spec.real, spec.imag)
    return out if dtype is None or dtype == out.dtype else out.to(dtype)
