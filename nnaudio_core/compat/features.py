"""nnAudio's ``Gammatonegram``, ``Combined_Frequency_Periodicity`` and ``CFP`` over the ``gammatonegram`` and ``cfp`` transforms."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor

from ._layout import NNAudioLayer, forwarded, nnaudio_input
from .mel import _stft_kwargs

__all__ = ["CFP", "Combined_Frequency_Periodicity", "Gammatonegram"]


class Gammatonegram(NNAudioLayer):
    """Gammatonegram with nnAudio's ``Gammatonegram`` arguments.

    Holds the registered ``gammatonegram`` transform (attribute ``transform``):
    ``gammatone_basis @ |STFT(x)| ** power``, nnAudio's filterbank and numbers.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    n_fft : int
        Frame length (default 2048).
    win_length : int, optional
        Window length (default ``n_fft``).
    n_bins : int
        Number of gammatone bands (default 64).
    hop_length : int
        Samples between frames (default 512).
    window : str or tuple
        Analysis window (default ``"hann"``).
    center : bool
        Centred frames (default True).
    pad_mode : {"reflect", "constant"}
        Padding when centred (default ``"reflect"``).
    power : float
        Exponent of the magnitude (default 2).
    htk, norm
        Accepted and without effect, as in nnAudio (which ignores them: the gammatone filterbank
        has no mel scale and no normalisation); values other than the defaults ``False`` and ``1``
        give a ``UserWarning``.
    fmin, fmax : float
        Centre frequency range in Hz (default 0 and ``sr / 2``).
    trainable_bins : bool
        The transform's ``trainable_filters``: ``gammatone_basis`` becomes an ``nn.Parameter``
        (state-dict key ``transform.gammatone_scale.gammatone_basis``).
    trainable_STFT : bool
        The transform's ``trainable_stft`` (``transform.stft.fourier``).
    verbose : bool
        Log the construction through ``logging``.
    **kwargs
        nnAudio passes these to its STFT; only ``iSTFT=False`` is meaningful.

    Shape
    -----
    ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` → ``(batch, n_bins, frames)``.

    Examples
    --------
    >>> layer = Gammatonegram(sr=16000, n_fft=512, hop_length=160, n_bins=32, verbose=False)
    >>> layer(torch.randn(16000)).shape
    torch.Size([1, 32, 101])
    """

    def __init__(
        self,
        sr: float = 22050,
        n_fft: int = 2048,
        win_length: int | None = None,
        n_bins: int = 64,
        hop_length: int = 512,
        window: Any = "hann",
        center: bool = True,
        pad_mode: str = "reflect",
        power: float = 2.0,
        htk: bool = False,
        fmin: float = 0.0,
        fmax: float | None = None,
        norm: Any = 1,
        trainable_bins: bool = False,
        trainable_STFT: bool = False,  # noqa: N803 (nnAudio's name)
        verbose: bool = True,
        **kwargs: Any,
    ) -> None:
        _stft_kwargs(type(self).__name__, kwargs, ())
        if htk is not False or norm != 1:
            warnings.warn(f"Gammatonegram: htk={htk!r} and norm={norm!r} have no effect (nnAudio ignores them too: "
                          "the gammatone filterbank has no mel scale and no normalisation)", UserWarning, stacklevel=2)
        super().__init__("gammatonegram", verbose=verbose,
                         renamed={"trainable_filters": "trainable_bins", "trainable_stft": "trainable_STFT"}, sr=sr,
                         n_fft=n_fft, win_length=win_length, n_bins=n_bins, hop_length=hop_length, window=window,
                         center=center, pad_mode=pad_mode, power=power, fmin=fmin, fmax=fmax,
                         trainable_filters=trainable_bins, trainable_stft=trainable_STFT)

    gammatone_basis = forwarded("gammatone_basis", "The filterbank ``(n_bins, n_fft // 2 + 1)`` (nnAudio's "
                                "attribute).")
    stft = forwarded("stft", "The transform's STFT child (its kernels are ``stft.fourier``).")

    def describe(self) -> str:
        c = self.transform.config
        return (f"{c['n_bins']} gammatone filters over {c['n_fft'] // 2 + 1} FFT bins ({c['fmin']:g}-"
                f"{self.transform.gammatone_scale.fmax:g} Hz), sr={c['sr']:g} Hz")


class _CFPLayer(NNAudioLayer):
    def __init__(self, *, fr: float, fs: float, hop_length: int, window_size: int, fc: float, tc: float, g: Any,
                 NumPerOct: int, output_format: str) -> None:  # noqa: N803 (nnAudio's name)
        super().__init__("cfp", verbose=False, fr=fr, fs=fs, hop_length=hop_length, window_size=window_size, fc=fc,
                         tc=tc, g=list(g), NumPerOct=NumPerOct, output_format=output_format)
        c = self.transform.config
        #: nnAudio's attributes: the FFT length, the frequencies and quefrencies kept, the cutoffs.
        self.N: int = self.transform.n_fft
        self.window_size: int = c["window_size"]
        self.hop_length: int = c["hop_length"]
        self.g = list(c["g"])
        self.NumofLayer: int = len(self.g)

    h = forwarded("window", "The analysis window (centred in ``N`` samples here; nnAudio keeps ``window_size``).")
    freq2logfreq_matrix = forwarded("freq_to_log", "The spectrum to log-frequency map (nnAudio's attribute).")
    quef2logfreq_matrix = forwarded("quef_to_log", "The cepstrum to log-frequency map (nnAudio's attribute).")

    def describe(self) -> str:
        c = self.transform.config
        return (f"CFP with N={self.N}, {self.transform.freq_to_log.shape[0]} bands from {c['fc']:g} Hz, "
                f"g={c['g']}")


class Combined_Frequency_Periodicity(_CFPLayer):  # noqa: N801 (nnAudio's name)
    """nnAudio's ``Combined_Frequency_Periodicity``: ``forward`` returns ``(Z, tfrL0, tfrLF, tfrLQ)``.

    Holds the registered ``cfp`` transform (``output_format="all"``); each of the four tensors is
    ``(batch, bands, frames - 2)``: the first and the last frame are dropped, as in nnAudio.
    ``Z = tfrLF * tfrLQ`` is the combined representation, ``tfrL0`` the log-frequency spectrum,
    ``tfrLF`` the frequency (spectral) and ``tfrLQ`` the periodicity (cepstral) representation.

    Parameters
    ----------
    fr, fs, hop_length, window_size, fc, tc, g, NumPerOct
        As nnAudio (defaults 2, 16000, 320, 2049, 80, 1/1000, [0.24, 0.6, 1], 48); see the ``cfp``
        transform.

    Examples
    --------
    >>> layer = Combined_Frequency_Periodicity(fr=20, fs=8000, hop_length=80, window_size=301, fc=100,
    ...                                        tc=1 / 2000, NumPerOct=12)
    >>> [tuple(t.shape) for t in layer(torch.randn(8000))]
    [(1, 51, 99), (1, 51, 99), (1, 51, 99), (1, 51, 99)]
    """

    def __init__(self, fr: float = 2, fs: float = 16000, hop_length: int = 320, window_size: int = 2049,
                 fc: float = 80, tc: float = 1 / 1000, g: Any = (0.24, 0.6, 1), NumPerOct: int = 48) -> None:  # noqa: N803
        super().__init__(fr=fr, fs=fs, hop_length=hop_length, window_size=window_size, fc=fc, tc=tc, g=g,
                         NumPerOct=NumPerOct, output_format="all")

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(Z, tfrL0, tfrLF, tfrLQ)``, each ``(batch, bands, frames - 2)``."""
        every = self.transform(nnaudio_input(x))[..., 1:-1, :]
        z, spectrum, frequency, periodicity = torch.unbind(every, dim=-1)
        return z, spectrum, frequency, periodicity


class CFP(_CFPLayer):
    """nnAudio's ``CFP``: the combined representation ``Z`` only, with every frame.

    Holds the registered ``cfp`` transform (``output_format="Z"``).

    Parameters
    ----------
    fr, fs, hop_length, window_size, fc, tc, g, NumPerOct
        As :class:`Combined_Frequency_Periodicity`.

    Shape
    -----
    ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` → ``(batch, bands, frames)``.

    Examples
    --------
    >>> layer = CFP(fr=20, fs=8000, hop_length=80, window_size=301, fc=100, tc=1 / 2000, NumPerOct=12)
    >>> layer(torch.randn(2, 8000)).shape
    torch.Size([2, 51, 101])
    """

    def __init__(self, fr: float = 2, fs: float = 16000, hop_length: int = 320, window_size: int = 2049,
                 fc: float = 80, tc: float = 1 / 1000, g: Any = (0.24, 0.6, 1), NumPerOct: int = 48) -> None:  # noqa: N803
        super().__init__(fr=fr, fs=fs, hop_length=hop_length, window_size=window_size, fc=fc, tc=tc, g=g,
                         NumPerOct=NumPerOct, output_format="Z")
