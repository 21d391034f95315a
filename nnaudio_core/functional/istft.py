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

from .capture import compiling, repeated_region
from .dtypes import dtype_tiny, is_half
from .spectral import apply_filterbank

__all__ = [
    "griffin_lim_phases",
    "griffin_lim_phasors",
    "griffin_lim_update",
    "istft_conv",
    "istft_fft",
    "inverse_envelope",
    "nnls_projected_gradient",
    "nnls_step",
    "overlap_add",
    "trim_signal",
    "window_envelope",
]


#: Most hop-sized pieces per frame for which :func:`overlap_add` sums shifted blocks (else ``F.fold``).
MAX_SHIFTED_BLOCKS = 32


def overlap_add(frames: Tensor, hop_length: int) -> Tensor:
    """Overlap-add ``(N, frames, n_fft)`` at stride ``hop_length``: ``(N, n_fft + hop_length * (frames - 1))``.

    Each frame is cut into ``R = ceil(n_fft / hop_length)`` pieces of ``hop_length`` samples (the
    last zero-padded); the output, seen as blocks of ``hop_length``, is the sum of the ``R`` piece
    sequences shifted by ``0 ... R - 1`` blocks: ``R`` contiguous additions, faster than
    ``F.fold`` (col2im). More than :data:`MAX_SHIFTED_BLOCKS` pieces (a tiny hop) use ``F.fold``.

    Examples
    --------
    >>> overlap_add(torch.ones(1, 3, 4), 2)
    tensor([[1., 1., 2., 2., 2., 2., 1., 1.]])
    >>> overlap_add(torch.ones(1, 2, 5), 2)
    tensor([[1., 1., 2., 2., 2., 1., 1.]])
    """
    n, count, n_fft = frames.shape[0], frames.shape[1], frames.shape[2]
    length = n_fft + hop_length * (count - 1)
    pieces = -(-n_fft // hop_length)
    if pieces > 32:  # MAX_SHIFTED_BLOCKS (TorchScript reads no module globals)
        out = F.fold(frames.transpose(1, 2), output_size=(1, length), kernel_size=(1, n_fft), stride=(1, hop_length))
        return out.reshape(n, length)
    padded = pieces * hop_length
    if padded != n_fft:
        frames = F.pad(frames, (0, padded - n_fft))
    blocks = frames.reshape(n, count, pieces, hop_length)
    out = blocks.new_zeros((n, count + pieces - 1, hop_length))
    for r in range(pieces):
        out[:, r : r + count] += blocks[:, :, r]
    return out.reshape(n, (count + pieces - 1) * hop_length)[:, :length]


def window_envelope(window_square: Tensor, n_frames: int, hop_length: int) -> Tensor:
    """The window-sum-square ``sum_t w[n - t hop] ** 2`` of ``n_frames`` frames, shape ``(n_fft + hop (frames - 1),)``.

    Examples
    --------
    >>> window_envelope(torch.ones(4), 3, 2)
    tensor([1., 1., 2., 2., 2., 2., 1., 1.])
    """
    columns = window_square.reshape(1, 1, -1).expand(1, n_frames, window_square.shape[0])
    return overlap_add(columns, hop_length)[0]


def inverse_envelope(window_square: Tensor, n_frames: int, hop_length: int) -> Tensor:
    """``1 / window_envelope`` where the envelope is above the dtype's tiny, else 1 (librosa's rule).

    Examples
    --------
    >>> inverse_envelope(torch.tensor([0.0, 2.0, 2.0, 0.0]), 2, 2)
    tensor([1.0000, 0.5000, 0.5000, 0.5000, 0.5000, 1.0000])
    """
    envelope = window_envelope(window_square, n_frames, hop_length)
    return torch.where(envelope > dtype_tiny(envelope.dtype), envelope, torch.ones_like(envelope)).reciprocal()


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
    spec: Tensor,
    window: Tensor,
    n_fft: int,
    hop_length: int,
    center: bool,
    length: Optional[int] = None,
    envelope: Optional[Tensor] = None,
) -> Tensor:
    """Inverse STFT of complex frames ``(N, freq_bins, frames)`` by ``irfft`` and overlap-add: ``(N, samples)``.

    Missing bins (``freq_bins < n_fft // 2 + 1``) are zeros; the imaginary parts of the 0 Hz and
    Nyquist bins are ignored. The synthesis window is the analysis ``window`` (``(n_fft,)``); the
    sum is divided by the window-sum-square where it is not tiny (``envelope``: its
    :func:`inverse_envelope` for these frames, computed when not given). Half precision windows
    compute in float32 (a float32 result).

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
    frames = torch.fft.irfft(spec.transpose(1, 2), n=n_fft, dim=2)  # (N, frames, n_fft)
    frames.mul_(window)  # in place: irfft's backward does not need its output
    if envelope is None:
        envelope = inverse_envelope(window * window, spec.shape[-1], hop_length)
    return trim_signal(overlap_add(frames, hop_length) * envelope, n_fft, center, length)


def istft_conv(
    real: Tensor,
    imag: Tensor,
    inverse_fourier: Tensor,
    window_square: Tensor,
    hop_length: int,
    center: bool,
    length: Optional[int] = None,
    envelope: Optional[Tensor] = None,
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
    envelope : Tensor, optional
        :func:`inverse_envelope` of ``window_square`` for these frames (computed when not given).

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
    if envelope is None:
        envelope = inverse_envelope(window_square, real.shape[-1], hop_length)
    return trim_signal(y * envelope, inverse_fourier.shape[-1], center, length)


def griffin_lim_phases(shape: list[int], seed: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """Pseudo-random unit phasors ``(cos, sin)`` of shape ``shape`` (freq, frames) from ``seed``.

    A counter-based integer hash of each element's index (three rounds of squaring, a
    Park-Miller step and an xor-shift modulo ``2 ** 31 - 1``, exact in int64 on every backend), so eager, TorchScript, compiled and exported modules start from the same
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
    for _ in range(3):  # squaring and an xor-shift make it non-linear (a linear map would give a plane wave)
        h = (h * h + 12345) % modulus
        h = (h * 48271) % modulus
        h = torch.bitwise_xor(h, torch.bitwise_right_shift(h, 13))
    angle = h.to(torch.float64) * (2.0 * 3.141592653589793 / modulus)
    return torch.cos(angle), torch.sin(angle)


def griffin_lim_update(magnitudes: Tensor, rebuilt: Tensor, previous: Tensor, momentum: float) -> Tensor:
    """One fast Griffin-Lim update: ``magnitudes`` times the phasors of ``rebuilt - momentum / (1 + momentum) * previous``.

    ``rebuilt`` is the STFT of the current estimate, ``previous`` the one before (zeros at the
    first iteration); ``momentum = 0`` is the original Griffin-Lim. The phasor ``z / |z|`` is
    ``torch.sgn`` (0 at ``z = 0``, where librosa's ``z / (|z| + tiny)`` is 0 too), one pass and a
    finite gradient everywhere. (Complex tensors; :func:`griffin_lim_phasors` is the same on
    real and imaginary parts, which is what the built-in transforms use: it exports to ONNX.)

    Examples
    --------
    >>> griffin_lim_update(torch.tensor([2.0]), torch.tensor([3 + 4j]), torch.tensor([0j]), 0.99)
    tensor([1.2000+1.6000j])
    """
    accelerated = torch.add(rebuilt, previous, alpha=-(momentum / (1.0 + momentum))) if momentum > 0 else rebuilt
    return torch.sgn(accelerated) * magnitudes


def griffin_lim_phasors(
    real: Tensor, imag: Tensor, previous_real: Tensor, previous_imag: Tensor, momentum: float
) -> tuple[Tensor, Tensor]:
    """The unit phasor ``(cos, sin)`` of ``z - momentum / (1 + momentum) * previous``, on real tensors.

    :func:`griffin_lim_update` without complex tensors (so it scripts, compiles and exports to
    ONNX): ``z = real + i imag`` is the transform of the current estimate, ``previous`` the one
    before (zeros at the first iteration). ``|z|`` is ``sqrt(re ** 2 + im ** 2 + tiny)`` with the
    dtype's tiny inside, so the phasor is 0 at ``z = 0`` and its gradient finite everywhere.

    Examples
    --------
    >>> z = torch.tensor([0.0])
    >>> griffin_lim_phasors(torch.tensor([3.0]), torch.tensor([4.0]), z, z, 0.99)
    (tensor([0.6000]), tensor([0.8000]))
    """
    if momentum > 0:
        factor = momentum / (1.0 + momentum)
        real = real - factor * previous_real
        imag = imag - factor * previous_imag
    norm = torch.sqrt(real * real + imag * imag + dtype_tiny(real.dtype))
    return real / norm, imag / norm


def nnls_projected_gradient(
    basis: Tensor, target: Tensor, start: Tensor, step: Tensor, n_iter: int
) -> Tensor:
    """``argmin_{S >= 0} ||basis @ S - target||_F`` by accelerated projected gradient (FISTA), batched.

    With a non-negative ``basis`` the diagonal step ``1 / (basis.T @ basis @ 1)`` (per column of
    ``basis``) majorises the curvature (a diagonally dominant bound), so each step descends and the
    badly scaled narrow filters of a mel filterbank converge as fast as the wide ones.

    Parameters
    ----------
    basis : Tensor, shape (rows, cols)
        The (mel) filterbank.
    target : Tensor, shape (N, rows, frames)
        What ``basis @ S`` should equal.
    start : Tensor, shape (N, cols, frames)
        The starting point (made non-negative).
    step : Tensor, shape (cols, 1) or ()
        The step per unknown: ``1 / (basis.T @ basis @ 1)`` (0 where that is 0), or a scalar
        ``1 / L`` with ``L`` the largest eigenvalue of ``basis.T @ basis``.
    n_iter : int
        Iterations (each two matrix products).

    Returns
    -------
    Tensor, shape (N, cols, frames), non-negative

    Examples
    --------
    >>> basis = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    >>> s = nnls_projected_gradient(basis, torch.tensor([[[2.0], [2.0]]]), torch.zeros(1, 3, 1), torch.tensor(1 / 3), 200)
    >>> bool(torch.allclose(basis @ s, torch.tensor([[[2.0], [2.0]]]), atol=1e-4)), bool((s >= 0).all())
    (True, True)
    """
    current = start.clamp(min=0)
    if not torch.jit.is_scripting():
        if compiling():  # one compiled step, reused: unrolled, 200 steps took inductor minutes
            return _nnls_compiled_steps(basis, target, current, step, n_iter)
    momentum_point = current
    t = 1.0
    for _ in range(n_iter):
        # apply_filterbank: torch 2.9 cannot export a 2-D @ 3-D matmul with a dynamic batch
        gradient = apply_filterbank(basis.transpose(0, 1), apply_filterbank(basis, momentum_point) - target)
        following = (momentum_point - step * gradient).clamp(min=0)
        t_next = (1.0 + (1.0 + 4.0 * t * t) ** 0.5) / 2.0
        momentum_point = following + ((t - 1.0) / t_next) * (following - current)
        current = following
        t = t_next
    return current


def nnls_step(
    basis: Tensor, target: Tensor, step: Tensor, current: Tensor, momentum_point: Tensor, t: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """One step of :func:`nnls_projected_gradient` with the FISTA sequence ``t`` as a tensor.

    Returns the new iterate, the new extrapolated point and ``t`` of the next step (start from
    ``current = momentum_point`` and ``t = 1``). The loop of :func:`nnls_projected_gradient`
    in one function of tensors only, so that ``torch.compile`` compiles it once
    (:func:`~nnaudio_core.functional.capture.repeated_region`).

    Examples
    --------
    >>> basis = torch.tensor([[1.0, 1.0]])
    >>> s, point, t = nnls_step(basis, torch.tensor([[[2.0]]]), torch.tensor(0.5), torch.zeros(1, 2, 1),
    ...                         torch.zeros(1, 2, 1), torch.tensor(1.0, dtype=torch.float64))
    >>> s.flatten(), float(t)
    (tensor([1., 1.]), 1.618033988749895)
    """
    gradient = torch.matmul(basis.transpose(0, 1), torch.matmul(basis, momentum_point) - target)
    following = (momentum_point - step * gradient).clamp(min=0)
    t_next = (1.0 + torch.sqrt(1.0 + 4.0 * t * t)) / 2.0
    extrapolated = following + ((t - 1.0) / t_next).to(following.dtype) * (following - current)
    return following, extrapolated, t_next


_nnls_step_region = repeated_region(nnls_step)


def _nnls_compiled_steps(basis: Tensor, target: Tensor, start: Tensor, step: Tensor, n_iter: int) -> Tensor:
    """:func:`nnls_projected_gradient`'s loop under ``torch.compile``: the same steps, one compiled region."""
    current, momentum_point = start, start.clone()  # one tensor as two arguments would alias them
    t = torch.ones((), dtype=torch.float64, device=start.device)
    for _ in range(n_iter):
        current, momentum_point, t = _nnls_step_region(basis, target, step, current, momentum_point, t)
    return current
