"""The inverse short-time Fourier transform and Griffin-Lim phase reconstruction as tensor functions.

:func:`istft_fft` inverts complex frames with ``torch.fft.irfft`` and an overlap-add
(:func:`overlap_add`, ``F.fold``); :func:`istft_conv` computes the same samples with
``conv_transpose1d`` and real inverse Fourier kernels (trainable). Both divide by the
window-sum-square envelope (:func:`window_envelope`) wherever it is not tiny, and cut the result
with :func:`trim_signal`, as ``librosa.istft``. :func:`griffin_lim` is the fast Griffin-Lim
iteration (Perraudin et al. 2013, librosa's definition of ``momentum``) around any STFT / iSTFT
pair of functions. :func:`nnls_projected_gradient` solves the batched non-negative least-squares
problem of the inverse mel filterbank.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .dtypes import dtype_tiny, is_half

__all__ = [
    "griffin_lim_phases",
    "istft_conv",
    "istft_fft",
    "nnls_projected_gradient",
    "overlap_add",
    "trim_signal",
    "window_envelope",
]


def overlap_add(frames: Tensor, hop_length: int) -> Tensor:
    """Overlap-add ``(N, n_fft, frames)`` at stride ``hop_length``: ``(N, n_fft + hop_length * (frames - 1))``.

    Examples
    --------
    >>> overlap_add(torch.ones(1, 4, 3), 2)
    tensor([[1., 1., 2., 2., 2., 2., 1., 1.]])
    """
    n_fft = frames.shape[1]
    length = n_fft + hop_length * (frames.shape[2] - 1)
    out = F.fold(frames, output_size=(1, length), kernel_size=(1, n_fft), stride=(1, hop_length))
    return out.reshape(frames.shape[0], length)


def window_envelope(window_square: Tensor, n_frames: int, hop_length: int) -> Tensor:
    """The window-sum-square ``sum_t w[n - t hop] ** 2`` of ``n_frames`` frames, shape ``(n_fft + hop (frames - 1),)``.

    Examples
    --------
    >>> window_envelope(torch.ones(4), 3, 2)
    tensor([1., 1., 2., 2., 2., 2., 1., 1.])
    """
    columns = window_square.reshape(1, -1, 1).expand(1, window_square.shape[0], n_frames)
    return overlap_add(columns, hop_length)[0]


def _normalise(y: Tensor, window_square: Tensor, n_frames: int, hop_length: int) -> Tensor:
    """Divide the overlap-added ``y`` by the window-sum-square where it is above the dtype's tiny (librosa)."""
    envelope = window_envelope(window_square, n_frames, hop_length)
    envelope = torch.where(envelope > dtype_tiny(envelope.dtype), envelope, torch.ones_like(envelope))
    return y / envelope


def trim_signal(y: Tensor, n_fft: int, center: bool, length: Optional[int]) -> Tensor:
    """Cut an overlap-added ``(N, samples)`` signal as ``librosa.istft``.

    Centred: drop ``n_fft // 2`` samples at both ends (``length=None``) or keep ``length`` samples
    from ``n_fft // 2``; not centred: all samples, or the first ``length``. A ``length`` beyond the
    available samples is zero-padded at the end.

    Examples
    --------
    >>> trim_signal(torch.arange(8.0)[None], 4, True, None)
    tensor([[2., 3., 4., 5.]])
    >>> trim_signal(torch.arange(8.0)[None], 4, True, 7)
    tensor([[2., 3., 4., 5., 6., 7., 0.]])
    """
    start = n_fft // 2 if center else 0
    if length is None:
        stop = y.shape[-1] - start
        return y[:, start:stop]
    available = y.shape[-1] - start
    if length <= available:
        return y[:, start:start + length]
    return F.pad(y[:, start:], (0, length - available))


def istft_fft(
    spec: Tensor, window: Tensor, n_fft: int, hop_length: int, center: bool, length: Optional[int] = None
) -> Tensor:
    """Inverse STFT of complex frames ``(N, freq_bins, frames)`` by ``irfft`` and overlap-add: ``(N, samples)``.

    Missing bins (``freq_bins < n_fft // 2 + 1``) are zeros; the imaginary parts of the 0 Hz and
    Nyquist bins are ignored. The synthesis window is the analysis ``window`` (``(n_fft,)``); the
    sum is divided by the window-sum-square where it is not tiny (:func:`window_envelope`). Half
    precision windows compute in float32 (a float32 result).

    Examples
    --------
    >>> w = torch.hann_window(16, dtype=torch.float64)
    >>> x = torch.randn(2, 64, dtype=torch.float64)
    >>> spec = torch.stft(x, 16, 4, window=w, return_complex=True)
    >>> bool(torch.allclose(istft_fft(spec, w, 16, 4, True, 64), x))
    True
    """
    if is_half(window.dtype):
        window = window.float()
    if spec.dtype != torch.complex128 and window.dtype == torch.float64:
        spec = spec.to(torch.complex128)
    frames = torch.fft.irfft(spec, n=n_fft, dim=1) * window.reshape(1, -1, 1)
    y = overlap_add(frames, hop_length)
    return trim_signal(_normalise(y, window * window, spec.shape[-1], hop_length), n_fft, center, length)


def istft_conv(
    real: Tensor,
    imag: Tensor,
    inverse_fourier: Tensor,
    window_square: Tensor,
    hop_length: int,
    center: bool,
    length: Optional[int] = None,
) -> Tensor:
    """:func:`istft_fft` by ``conv_transpose1d`` with (trainable) inverse Fourier kernels.

    Parameters
    ----------
    real, imag : Tensor, shape (N, freq_bins, frames)
        The spectrum's parts.
    inverse_fourier : Tensor, shape (2 * freq_bins, 1, n_fft)
        Rows ``[c_k w cos; -c_k w sin] / n_fft`` (:func:`nnaudio_core.kernels.fourier.inverse_fourier_kernels`).
    window_square : Tensor, shape (n_fft,)
        The squared window, for the window-sum-square normalisation.
    hop_length : int
    center : bool
    length : int, optional
        See :func:`trim_signal`.

    Returns
    -------
    Tensor, shape (N, samples)

    Examples
    --------
    >>> from nnaudio_core.kernels.fourier import inverse_fourier_kernels, stft_window
    >>> w = stft_window("hann", win_length=16, n_fft=16)
    >>> k = torch.from_numpy(inverse_fourier_kernels(w, np.arange(9.0))[:, None, :])
    >>> x = torch.randn(2, 64, dtype=torch.float64)
    >>> spec = torch.stft(x, 16, 4, window=torch.from_numpy(w), return_complex=True)
    >>> y = istft_conv(spec.real, spec.imag, k, torch.from_numpy(w ** 2), 4, True, 64)
    >>> bool(torch.allclose(y, x))
    True
    """
    y = F.conv_transpose1d(torch.cat([real, imag], dim=1), inverse_fourier, stride=hop_length)[:, 0]
    return trim_signal(_normalise(y, window_square, real.shape[-1], hop_length), inverse_fourier.shape[-1], center,
                       length)


def griffin_lim_phases(shape: list[int], seed: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """Pseudo-random unit phasors ``(cos, sin)`` of shape ``shape`` (freq, frames) from ``seed``.

    A counter-based integer hash (three Park-Miller rounds of each element's index, exact in int64
    on every backend), so eager, TorchScript, compiled and exported modules start from the same
    phases, and each example of a batch from the same ones as alone.

    Examples
    --------
    >>> cos, sin = griffin_lim_phases([3, 4], 0, torch.device("cpu"))
    >>> bool(torch.allclose(cos ** 2 + sin ** 2, torch.ones(3, 4, dtype=torch.float64)))
    True
    """
    modulus = 2147483647
    rows = torch.arange(shape[0], device=device, dtype=torch.int64).reshape(-1, 1)
    cols = torch.arange(shape[1], device=device, dtype=torch.int64).reshape(1, -1)
    h = (rows * 7919 + cols * 104729 + (seed % modulus) * 15485863 + 1) % modulus
    for _ in range(3):
        h = (h * 48271) % modulus
    angle = h.to(torch.float64) * (2.0 * 3.141592653589793 / modulus)
    return torch.cos(angle), torch.sin(angle)


def nnls_projected_gradient(
    basis: Tensor, target: Tensor, start: Tensor, step: float, n_iter: int
) -> Tensor:
    """``argmin_{S >= 0} ||basis @ S - target||_F`` by accelerated projected gradient (FISTA), batched.

    Parameters
    ----------
    basis : Tensor, shape (rows, cols)
        The (mel) filterbank.
    target : Tensor, shape (N, rows, frames)
        What ``basis @ S`` should equal.
    start : Tensor, shape (N, cols, frames)
        The starting point (made non-negative).
    step : float
        ``1 / L`` with ``L`` the largest eigenvalue of ``basis.T @ basis``.
    n_iter : int
        Iterations (each two matrix products).

    Returns
    -------
    Tensor, shape (N, cols, frames), non-negative

    Examples
    --------
    >>> basis = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    >>> s = nnls_projected_gradient(basis, torch.tensor([[[2.0], [2.0]]]), torch.zeros(1, 3, 1), 1 / 3, 200)
    >>> bool(torch.allclose(basis @ s, torch.tensor([[[2.0], [2.0]]]), atol=1e-4)), bool((s >= 0).all())
    (True, True)
    """
    current = start.clamp(min=0)
    momentum_point = current
    t = 1.0
    for _ in range(n_iter):
        gradient = torch.matmul(basis.transpose(0, 1), torch.matmul(basis, momentum_point) - target)
        following = (momentum_point - step * gradient).clamp(min=0)
        t_next = (1.0 + (1.0 + 4.0 * t * t) ** 0.5) / 2.0
        momentum_point = following + ((t - 1.0) / t_next) * (following - current)
        current = following
        t = t_next
    return current
