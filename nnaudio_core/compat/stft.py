"""nnAudio's ``STFT`` over the registered ``stft`` transform."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..errors import ParameterError
from ._layout import STFT_FORMATS, NNAudioLayer, forwarded, nnaudio_input, nnaudio_output

__all__ = ["STFT", "Griffin_Lim", "iSTFT"]


def complex_input(owner: str, X: Tensor, freq_bins: int, n_fft: int, onesided: bool) -> Tensor:  # noqa: N803
    """nnAudio's ``(batch, freq, time, 2)`` (or a complex ``(batch, freq, time)``) as a one-sided complex tensor.

    ``onesided=False`` (nnAudio's iSTFT default) takes all ``n_fft`` bins of a two-sided spectrum
    and folds bin ``n_fft - k`` onto bin ``k`` as ``(X[k] + conj(X[n_fft - k])) / 2``: the real
    part of the full inverse DFT, which is what nnAudio computes.

    Examples
    --------
    >>> x = torch.randn(1, 5, 3, 2)
    >>> complex_input("iSTFT", x, 5, 8, True).shape
    torch.Size([1, 5, 3])
    """
    if not isinstance(X, Tensor):
        raise TypeError(f"{owner}: expected a torch.Tensor, got {type(X).__name__}")
    if not X.is_complex():
        if X.dim() < 3 or X.shape[-1] != 2:
            raise ValueError(f"{owner}: input of shape {tuple(X.shape)}: expected nnAudio's (batch, freq_bins, "
                             "timesteps, 2) layout of (real, imag), or a complex (batch, freq_bins, timesteps) tensor")
        X = torch.view_as_complex(X.contiguous())
    half = n_fft // 2 + 1
    if onesided:
        return X
    if X.shape[-2] != n_fft:
        raise ValueError(f"{owner}: onesided=False takes all n_fft={n_fft} frequency bins, the input has "
                         f"{X.shape[-2]}; pass onesided=True for an STFT's {freq_bins} bins")
    folded = X[..., :half, :].clone()
    mirror = torch.flip(X[..., n_fft - half + 1 :, :], dims=[-2]).conj()  # bins n_fft - 1 ... n_fft - half + 1
    last = half - 1 if n_fft % 2 == 0 else half  # the Nyquist bin of an even n_fft pairs with itself
    folded[..., 1:last, :] = (folded[..., 1:last, :] + mirror[..., : last - 1, :]) / 2
    return folded


class STFTBase(NNAudioLayer):
    """The common base of :class:`STFT` and :class:`iSTFT`, as in nnAudio (not a layer of its own).

    nnAudio's ``STFTBase`` holds what its STFT and iSTFT share; here that is :class:`NNAudioLayer`
    (a registered transform held as ``transform``). It exists so that ``isinstance(layer,
    Spectrogram.STFTBase)`` and code importing the name keep working.

    Examples
    --------
    >>> from nnaudio_core import Spectrogram
    >>> issubclass(Spectrogram.iSTFT, Spectrogram.STFTBase), issubclass(Spectrogram.STFT, Spectrogram.STFTBase)
    (True, True)
    """


class STFT(STFTBase):
    """Short-time Fourier transform with nnAudio's ``STFT`` arguments and output layouts.

    Holds the registered ``stft`` transform (attribute ``transform``, built with
    ``output_format="Complex"``) and formats its complex output as nnAudio does. The arguments
    keep nnAudio 0.3.4's names, order and defaults.

    Parameters
    ----------
    n_fft : int
        Frame length in samples (default 2048).
    win_length : int, optional
        Window length, centred in the frame (default ``n_fft``).
    freq_bins : int, optional
        Number of frequencies (default ``n_fft // 2 + 1``).
    hop_length : int, optional
        Samples between frames (default ``win_length // 4``).
    window : str or tuple
        Any :func:`scipy.signal.get_window` spec (default ``"hann"``).
    freq_scale : {"no", "linear", "log", "log2"}
        ``"no"``: the FFT grid; otherwise ``freq_bins`` frequencies from ``fmin`` towards ``fmax``.
        Any other value raises :class:`~nnaudio_core.errors.ParameterError` (nnAudio printed a
        message and returned uninitialised kernels).
    center : bool
        Centre frame ``t`` on sample ``t * hop_length`` (default True).
    pad_mode : {"reflect", "constant"}
        Padding when centred.
    iSTFT : bool
        Accepted as nnAudio's switch; :meth:`inverse` works either way (nnAudio needs ``True`` to
        build its inverse kernels; here the ``istft`` transform is built when called).
    fmin, fmax : float
        Frequency range in Hz for the linear and log scales (``fmax <= sr / 2``).
    sr : float
        Sample rate in Hz (default 22050).
    trainable : bool
        The transform's ``trainable``: its Fourier kernels become an ``nn.Parameter``
        (``layer.fourier``, state-dict key ``transform.fourier``).
    output_format : {"Complex", "Magnitude", "Phase"}
        Default output of ``forward`` (default ``"Complex"``, as nnAudio 0.3).
    verbose : bool
        Log the construction through ``logging`` (logger ``"nnaudio_core.Spectrogram"``).

    Attributes
    ----------
    transform : KernelTransform
        The ``stft`` transform; ``transform.output_info()`` gives ``sr``, ``hop_length`` and the
        ``frequencies`` of the rows.
    output_format : str
        The constructor's ``output_format``.

    Shape
    -----
    ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` → ``(batch, freq_bins, frames)``
    (``Magnitude``, ``Phase``) or ``(batch, freq_bins, frames, 2)`` (``Complex``);
    ``frames = 1 + len // hop_length`` when centred.

    Examples
    --------
    >>> spec_layer = STFT(n_fft=512, hop_length=128, verbose=False)
    >>> spec_layer(torch.randn(8000)).shape
    torch.Size([1, 257, 63, 2])
    >>> spec_layer(torch.randn(2, 8000), output_format="Magnitude").shape
    torch.Size([2, 257, 63])
    >>> spec_layer.transform.name, spec_layer.bins2freq[1]
    ('stft', 43.06640625)
    """

    output_formats = STFT_FORMATS

    def __init__(
        self,
        n_fft: int = 2048,
        win_length: int | None = None,
        freq_bins: int | None = None,
        hop_length: int | None = None,
        window: Any = "hann",
        freq_scale: str = "no",
        center: bool = True,
        pad_mode: str = "reflect",
        iSTFT: bool = False,  # noqa: N803 (nnAudio's name)
        fmin: float = 50,
        fmax: float = 6000,
        sr: float = 22050,
        trainable: bool = False,
        output_format: str = "Complex",
        verbose: bool = True,
    ) -> None:
        self.iSTFT = bool(iSTFT)
        super().__init__("stft", verbose=verbose, n_fft=n_fft, win_length=win_length, freq_bins=freq_bins,
                         hop_length=hop_length, window=window, freq_scale=freq_scale, center=center,
                         pad_mode=pad_mode, fmin=fmin, fmax=fmax, sr=sr, trainable=trainable,
                         output_format=output_format)

    fourier = forwarded("fourier", "The Fourier kernels ``(2 * freq_bins, 1, n_fft)``, real rows then imaginary "
                        "(the transform's; absent on its ``fft`` path, used for frozen FFT-grid kernels).")

    @property
    def bins2freq(self) -> list[float]:
        """Frequency in Hz of each output bin (nnAudio's attribute)."""
        return [float(f) for f in self.transform.output_info().frequencies]

    def describe(self) -> str:
        t = self.transform
        c = t.config
        return (f"{len(self.bins2freq)} Fourier kernels of {c['n_fft']} samples, freq_scale={c['freq_scale']!r}, "
                f"sr={c['sr']:g} Hz, hop {c['hop_length']}, backend {t.backend!r}")

    def forward(self, x: Tensor, output_format: str | None = None) -> Tensor:
        """Spectrogram of ``x`` in nnAudio's layout.

        Parameters
        ----------
        x : torch.Tensor
            ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` (``(batch, channels, len)`` also).
        output_format : {"Complex", "Magnitude", "Phase"}, optional
            Overrides the constructor's ``output_format`` for this call.

        Returns
        -------
        torch.Tensor
            ``(batch, freq_bins, frames)``: the magnitude, or the angle in radians for ``"Phase"``;
            ``(batch, freq_bins, frames, 2)``, ``(real, imag)`` for ``"Complex"``.
        """
        fmt = self.resolve_format(output_format)
        return nnaudio_output(self.transform(nnaudio_input(x)), fmt, phase_pairs=False)

    def inverse(self, X: Tensor, onesided: bool = True, length: int | None = None,  # noqa: N803
                refresh_win: bool | None = None) -> Tensor:
        """nnAudio's ``STFT.inverse``: the waveform of ``X`` ``(batch, freq_bins, timesteps, 2)``.

        The registered ``istft`` with this STFT's parameters (``transform.inverse``); ``onesided``
        as :class:`iSTFT` (default ``True`` here, as nnAudio's ``inverse``); ``refresh_win`` is
        accepted and has no effect (the window-sum-square always fits the input's frames).

        Returns
        -------
        torch.Tensor, shape (batch, samples)
        """
        c = self.transform.config
        X = complex_input(type(self).__name__, X, self.transform.freq_bins, c["n_fft"], onesided)
        return self.transform.inverse(X, length=length)


class iSTFT(STFTBase):  # noqa: N801 (nnAudio's name)
    """nnAudio's ``iSTFT``: complex spectrogram ``(batch, freq, time, 2)`` → waveform, over the ``istft`` transform.

    The window-sum-square normalised inverse STFT (``librosa.istft``) of the registered ``istft``
    transform (attribute ``transform``), with nnAudio 0.3.4's arguments.

    Parameters
    ----------
    n_fft, win_length, freq_bins, hop_length, window, center, sr
        As :class:`STFT` (``freq_bins``: the one-sided bins the input holds, default
        ``n_fft // 2 + 1``).
    freq_scale : {"no"}
        Only the FFT grid is invertible (anything else raises ``ParameterError``; nnAudio built
        kernels for it and returned a wrong signal).
    fmin, fmax : float
        Accepted for nnAudio's signature; used only with other ``freq_scale`` values (refused).
    trainable_kernels, trainable_window : bool
        Either makes the transform's inverse Fourier kernels (which hold the window) an
        ``nn.Parameter`` (``layer.transform.inverse_fourier``).
    verbose : bool
        Log the construction through ``logging``.
    refresh_win : bool
        Accepted; nnAudio cached the window-sum-square of the first input's frame count when it
        is ``False`` (wrong for other lengths); here it always fits the input.

    Shape
    -----
    ``(batch, freq, timesteps, 2)`` (or complex ``(batch, freq, timesteps)``) → ``(batch,
    samples)``: ``freq = n_fft`` with ``onesided=False`` (nnAudio's default), ``n_fft // 2 + 1``
    with ``onesided=True``.

    Examples
    --------
    >>> stft = STFT(n_fft=512, hop_length=128, verbose=False)
    >>> istft = iSTFT(n_fft=512, hop_length=128, verbose=False)
    >>> x = torch.randn(2, 8000)
    >>> y = istft(stft(x), onesided=True, length=8000)
    >>> y.shape, bool((y - x).abs().max() < 1e-4)
    (torch.Size([2, 8000]), True)
    """

    def __init__(
        self,
        n_fft: int = 2048,
        win_length: int | None = None,
        freq_bins: int | None = None,
        hop_length: int | None = None,
        window: Any = "hann",
        freq_scale: str = "no",
        center: bool = True,
        fmin: float = 50,
        fmax: float = 6000,
        sr: float = 22050,
        trainable_kernels: bool = False,
        trainable_window: bool = False,
        verbose: bool = True,
        refresh_win: bool = True,
    ) -> None:
        if freq_scale != "no":
            raise ParameterError("freq_scale", freq_scale, "'no' (only the FFT grid is invertible)", context="iSTFT")
        self.refresh_win = refresh_win
        super().__init__("istft", verbose=verbose, renamed={"trainable": "trainable_kernels"}, n_fft=n_fft,
                         win_length=win_length, freq_bins=freq_bins, hop_length=hop_length, window=window,
                         center=center, sr=sr, trainable=bool(trainable_kernels or trainable_window))

    def forward(self, X: Tensor, onesided: bool = False, length: int | None = None,  # noqa: N803
                refresh_win: bool | None = None) -> Tensor:
        """The waveform of ``X`` (see the class Shape); ``length`` samples when given (zero-padded if longer)."""
        c = self.transform.config
        X = complex_input(type(self).__name__, X, self.transform.freq_bins, c["n_fft"], onesided)
        return self.transform(X, length=length)


class Griffin_Lim(NNAudioLayer):  # noqa: N801 (nnAudio's name)
    """nnAudio's ``Griffin_Lim``: magnitude spectrogram ``(batch, freq, time)`` → waveform, over ``griffin_lim``.

    Fast Griffin-Lim with ``momentum`` (librosa's definition, as nnAudio's) by the registered
    ``griffin_lim`` transform (attribute ``transform``). nnAudio 0.3.4's own class calls
    ``torch.stft``/``torch.istft`` with real ``(..., 2)`` tensors, which torch >= 2.0 refuses.

    Parameters
    ----------
    n_fft : int
        Frame length (no default, as nnAudio).
    n_iter : int
        Iterations (default 32).
    hop_length, win_length : int, optional
        Default ``n_fft // 4`` and ``n_fft``.
    window : str or tuple
        Analysis window (default ``"hann"``).
    center : bool
    pad_mode : {"reflect", "constant"}
    momentum : float
        Default 0.99.
    device : str or torch.device
        Where the layer is placed (nnAudio's argument); ``layer.to(...)`` works too.

    Examples
    --------
    >>> stft = STFT(n_fft=512, hop_length=128, output_format="Magnitude", verbose=False)
    >>> Griffin_Lim(n_fft=512, hop_length=128, n_iter=4)(stft(torch.randn(2, 8000))).shape
    torch.Size([2, 7936])
    """

    def __init__(self, n_fft: int, n_iter: int = 32, hop_length: int | None = None, win_length: int | None = None,
                 window: Any = "hann", center: bool = True, pad_mode: str = "reflect", momentum: float = 0.99,
                 device: Any = "cpu") -> None:
        super().__init__("griffin_lim", verbose=False, n_fft=n_fft, n_iter=n_iter, win_length=win_length,
                         hop_length=n_fft // 4 if hop_length is None else hop_length, window=window, center=center,
                         pad_mode=pad_mode, momentum=momentum)
        self.to(device)

    def forward(self, S: Tensor) -> Tensor:  # noqa: N803
        """The waveform ``(batch, samples)`` of the magnitude spectrogram ``S`` ``(batch, n_fft // 2 + 1, timesteps)``."""
        return self.transform(S)
