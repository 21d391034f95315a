"""nnAudio's ``STFT`` over the registered ``stft`` transform."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ._layout import STFT_FORMATS, UNSUPPORTED, NNAudioLayer, forwarded, nnaudio_input, nnaudio_output
from ._layout import reject_istft as _reject_istft

__all__ = ["STFT"]


class STFT(NNAudioLayer):
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
        Only ``False``: inverse transforms are not part of this library (``True`` raises
        ``NotImplementedError``; use :func:`torch.istft` on the ``"Complex"`` output).
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
        _reject_istft(type(self).__name__, iSTFT)
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

    def inverse(self, *args: Any, **kwargs: Any) -> Tensor:
        """Not supported: inverse transforms are not part of nnaudio-core (raises ``NotImplementedError``)."""
        raise NotImplementedError(f"{type(self).__name__}.inverse is not supported: {UNSUPPORTED['iSTFT']}")
