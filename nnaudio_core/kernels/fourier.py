"""Fourier kernels for the short-time Fourier transform."""

from __future__ import annotations

import numpy as np

from .windows import WindowSpec, get_window, pad_center

FREQ_SCALES = ("no", "linear", "log", "log2")


def stft_window(window: WindowSpec, *, win_length: int, n_fft: int) -> np.ndarray:
    """The periodic analysis window of ``win_length`` samples, zero-padded centred to ``n_fft``.

    Parameters
    ----------
    window : str or tuple
        Window spec, as :func:`scipy.signal.get_window`.
    win_length : int
        Window length in samples, ``1 <= win_length <= n_fft``.
    n_fft : int
        Frame length in samples.

    Returns
    -------
    numpy.ndarray, shape (n_fft,), float64

    Examples
    --------
    >>> stft_window("hann", win_length=4, n_fft=6)
    array([0. , 0. , 0.5, 1. , 0.5, 0. ])
    """
    if not 1 <= win_length <= n_fft:
        raise ValueError(f"win_length={win_length} is not allowed; expected 1 <= win_length <= n_fft={n_fft}")
    return pad_center(get_window(window, win_length, fftbins=True), n_fft)


def fourier_bins(
    *,
    n_fft: int,
    sr: float,
    freq_bins: int | None = None,
    freq_scale: str = "no",
    fmin: float = 50.0,
    fmax: float = 6000.0,
) -> np.ndarray:
    """Analysis frequencies of an STFT, as (possibly fractional) DFT bin indices.

    ``"no"``: bins ``0, 1, ..., freq_bins - 1`` (the FFT grid, up to Nyquist by default).
    ``"linear"``: ``freq_bins`` frequencies from ``fmin`` in steps of ``(fmax - fmin) / freq_bins``.
    ``"log"``/``"log2"``: ``fmin * (fmax / fmin) ** (k / freq_bins)`` (the same values; both names
    exist for nnAudio compatibility). ``fmax`` itself is excluded, as in nnAudio.

    Parameters
    ----------
    n_fft : int
        Frame length.
    sr : float
        Sample rate in Hz.
    freq_bins : int, optional
        Number of frequencies; default ``n_fft // 2 + 1``.
    freq_scale : {"no", "linear", "log", "log2"}
    fmin, fmax : float
        Frequency range in Hz for the linear and log scales.

    Returns
    -------
    numpy.ndarray, shape (freq_bins,), float64
        Bin indices; multiply by ``sr / n_fft`` for Hz.

    Examples
    --------
    >>> fourier_bins(n_fft=8, sr=8000, freq_scale="linear", fmin=1000, fmax=3000, freq_bins=2)
    array([1., 2.])
    """
    if freq_scale not in FREQ_SCALES:
        raise ValueError(f"freq_scale={freq_scale!r} is not allowed; expected one of {', '.join(FREQ_SCALES)}")
    count = n_fft // 2 + 1 if freq_bins is None else int(freq_bins)
    k = np.arange(count, dtype=np.float64)
    if freq_scale == "no":
        return k
    if freq_scale == "linear":
        hz = fmin + k * (fmax - fmin) / count
    else:
        hz = fmin * np.exp(k * np.log(fmax / fmin) / count)
    return hz * n_fft / sr


def fourier_kernels(window: np.ndarray, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Windowed DFT kernels: ``window[n] * exp(-2j pi bins[k] n / n_fft)`` split into real and imag.

    Integer bins use an exact phase table (``k * n mod n_fft``), so the kernels carry no rounding
    from large cosine arguments and build quickly.

    Parameters
    ----------
    window : numpy.ndarray, shape (n_fft,)
        Analysis window (already padded to ``n_fft``).
    bins : numpy.ndarray, shape (freq_bins,)
        DFT bin indices (fractional allowed).

    Returns
    -------
    real, imag : numpy.ndarray, shape (freq_bins, n_fft), float64
        ``real = window * cos(phase)``, ``imag = -window * sin(phase)``: correlating a frame with
        them gives the real and imaginary parts of its DFT (librosa's sign convention).

    Examples
    --------
    >>> re, im = fourier_kernels(np.ones(4), np.arange(3.0))
    >>> re.round(12)
    array([[ 1.,  1.,  1.,  1.],
           [ 1.,  0., -1., -0.],
           [ 1., -1.,  1., -1.]])
    """
    n_fft = window.shape[-1]
    n = np.arange(n_fft)
    if np.all(bins == np.round(bins)):
        angle = 2 * np.pi * n / n_fft
        index = (np.round(bins).astype(np.int64)[:, None] * n[None, :]) % n_fft
        return window * np.cos(angle)[index], -window * np.sin(angle)[index]
    phase = 2 * np.pi * bins[:, None] * n[None, :] / n_fft
    return window * np.cos(phase), -window * np.sin(phase)


def inverse_fourier_kernels(window: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Windowed inverse DFT kernels of a one-sided spectrum: rows ``[c_k w cos; -c_k w sin] / n_fft``.

    ``frame[n] = sum_k re_k * K[k, n] + im_k * K[F + k, n]`` is ``window[n]`` times the inverse real
    DFT of the ``F = len(bins)`` bins (missing bins count as zeros); ``c_k`` is 1 for the 0 Hz and
    Nyquist bins and 2 for the others (each stands for itself and its conjugate). Transposed
    convolution with these kernels is the overlap-add of the windowed inverse frames.

    Parameters
    ----------
    window : numpy.ndarray, shape (n_fft,)
        Synthesis window (already padded to ``n_fft``).
    bins : numpy.ndarray, shape (freq_bins,)
        Integer DFT bins ``0 ... freq_bins - 1`` (``freq_bins <= n_fft // 2 + 1``).

    Returns
    -------
    numpy.ndarray, shape (2 * freq_bins, n_fft), float64

    Examples
    --------
    >>> k = inverse_fourier_kernels(np.ones(4), np.arange(3.0))
    >>> (k[:3] * 4).round(12)
    array([[ 1.,  1.,  1.,  1.],
           [ 2.,  0., -2., -0.],
           [ 1., -1.,  1., -1.]])
    """
    n_fft = window.shape[-1]
    real, imag = fourier_kernels(window, bins)  # w cos, -w sin
    weight = np.where((bins == 0) | (2 * bins == n_fft), 1.0, 2.0)[:, None] / n_fft
    return np.concatenate([real * weight, imag * weight])


def nola_problem(window: np.ndarray, hop_length: int) -> str | None:
    """Why ``window`` at ``hop_length`` fails the nonzero-overlap-add (NOLA) condition, or ``None``.

    NOLA holds when ``sum_t window[n - t hop] ** 2 > 0`` for every ``n`` of the steady state (away
    from the first and last frame): then the window-sum-square can be divided out and the inverse
    STFT exists. Values below ``1e-10`` of the largest count as zero.

    Examples
    --------
    >>> nola_problem(np.hanning(8), 4) is None
    True
    >>> nola_problem(np.ones(4), 6)
    'the window-sum-square is 0 at 2 of every 6 samples (the frames do not overlap enough)'
    """
    square = np.asarray(window, dtype=np.float64) ** 2
    padded = np.zeros(int(np.ceil(len(square) / hop_length)) * hop_length)
    padded[: len(square)] = square
    envelope = padded.reshape(-1, hop_length).sum(axis=0)
    zero = envelope <= 1e-10 * max(float(square.max()), np.finfo(np.float64).tiny)
    if not zero.any():
        return None
    return (f"the window-sum-square is 0 at {int(zero.sum())} of every {hop_length} samples (the frames do not "
            "overlap enough)")
