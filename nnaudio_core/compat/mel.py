"""nnAudio's ``MelSpectrogram`` and ``MFCC`` over the registered ``mel`` and ``mfcc`` transforms."""

from __future__ import annotations

from typing import Any

from ..errors import did_you_mean
from ._layout import NNAudioLayer, forwarded, reject_istft

__all__ = ["MFCC", "MelSpectrogram"]

#: ``MelSpectrogram`` arguments ``MFCC`` takes through ``**kwargs``.
_MEL_KWARGS = ("n_fft", "win_length", "n_mels", "hop_length", "window", "center", "pad_mode", "power", "htk",
               "fmin", "fmax", "trainable_mel", "trainable_STFT")
#: nnAudio's per-part switches and the ``mel`` / ``mfcc`` transforms' names for them.
_SWITCHES = {"trainable_mel": "trainable_filters", "trainable_STFT": "trainable_stft"}


def _stft_kwargs(owner: str, kwargs: dict[str, Any], accepted: tuple[str, ...]) -> dict[str, Any]:
    """Check nnAudio's ``**kwargs`` pass-through (``iSTFT=False`` and ``accepted`` names only), mapped.

    Returns the accepted arguments with nnAudio's ``trainable_*`` switches renamed to the
    transform's; raises ``TypeError`` for any other name.
    """
    kwargs = dict(kwargs)
    reject_istft(owner, kwargs.pop("iSTFT", False))
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        names = ", ".join(accepted + ("iSTFT",))
        raise TypeError(f"{owner} got an unexpected keyword argument {unknown[0]!r}"
                        f"{did_you_mean(unknown[0], accepted)}; its **kwargs accept: {names}")
    return {_SWITCHES.get(k, k): v for k, v in kwargs.items()}


class MelSpectrogram(NNAudioLayer):
    """Mel spectrogram with nnAudio's ``MelSpectrogram`` arguments.

    Holds the registered ``mel`` transform (attribute ``transform``): ``mel_basis @ |STFT(x)| ** power``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    n_fft : int
        Frame length (default 2048).
    win_length : int, optional
        Window length (default ``n_fft``).
    n_mels : int
        Number of mel bands (default 128).
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
    htk : bool
        HTK mel scale instead of Slaney's (default False).
    fmin, fmax : float
        Filter range in Hz (default 0 and ``sr / 2``).
    norm : {1, None} or other
        ``1``: Slaney area normalisation (default); ``None``: peak 1; also ``"slaney"``,
        ``"l1"`` or an Lp order as librosa.
    trainable_mel : bool
        The transform's ``trainable_filters``: the mel filterbank ``mel_basis`` becomes an
        ``nn.Parameter`` (state-dict key ``transform.mel_scale.mel_basis``).
    trainable_STFT : bool
        The transform's ``trainable_stft``: the STFT kernels ``stft.fourier`` become an
        ``nn.Parameter`` (``transform.stft.fourier``).
    verbose : bool
        Log the construction through ``logging``.
    **kwargs
        nnAudio passes these to its STFT; only ``iSTFT=False`` is meaningful (``True`` raises
        ``NotImplementedError``), anything else raises ``TypeError``.

    Attributes
    ----------
    transform : KernelTransform
        The ``mel`` transform (children ``stft`` and ``mel_scale``).

    Shape
    -----
    ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` → ``(batch, n_mels, frames)``.

    Examples
    --------
    >>> mel_layer = MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40, verbose=False)
    >>> mel_layer(torch.randn(16000)).shape
    torch.Size([1, 40, 101])
    >>> mel_layer.mel_basis.shape
    torch.Size([40, 257])
    """

    def __init__(
        self,
        sr: float = 22050,
        n_fft: int = 2048,
        win_length: int | None = None,
        n_mels: int = 128,
        hop_length: int = 512,
        window: Any = "hann",
        center: bool = True,
        pad_mode: str = "reflect",
        power: float = 2.0,
        htk: bool = False,
        fmin: float = 0.0,
        fmax: float | None = None,
        norm: Any = 1,
        trainable_mel: bool = False,
        trainable_STFT: bool = False,  # noqa: N803 (nnAudio's name)
        verbose: bool = True,
        **kwargs: Any,
    ) -> None:
        _stft_kwargs(type(self).__name__, kwargs, ())
        super().__init__("mel", verbose=verbose, renamed={v: k for k, v in _SWITCHES.items()}, sr=sr, n_fft=n_fft,
                         win_length=win_length, n_mels=n_mels, hop_length=hop_length, window=window, center=center,
                         pad_mode=pad_mode, power=power, htk=htk, fmin=fmin, fmax=fmax, norm=norm,
                         trainable_filters=trainable_mel, trainable_stft=trainable_STFT)

    mel_basis = forwarded("mel_basis", "The mel filterbank ``(n_mels, n_fft // 2 + 1)`` (nnAudio's attribute).")
    stft = forwarded("stft", "The transform's STFT child (nnAudio's attribute; its kernels are ``stft.fourier``).")

    def describe(self) -> str:
        c = self.transform.config
        return (f"{c['n_mels']} mel filters over {c['n_fft'] // 2 + 1} FFT bins ({c['fmin']:g}-"
                f"{self.transform.fmax:g} Hz, htk={c['htk']}), sr={c['sr']:g} Hz")


class MFCC(NNAudioLayer):
    """MFCCs with nnAudio's ``MFCC`` arguments.

    Holds the registered ``mfcc`` transform (attribute ``transform``):
    ``dct(power_to_db(mel(x)))[:n_mfcc]``, the decibel floor ``top_db`` applied per example. The
    mel filters use nnAudio's fixed Slaney normalisation (nnAudio's ``MFCC`` cannot pass a mel
    ``norm``).

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    n_mfcc : int
        Number of coefficients (default 20).
    norm : {"ortho", None}
        DCT normalisation (default ``"ortho"``). Honoured here; nnAudio 0.3.4 ignores it and
        always applies ``"ortho"``.
    verbose : bool
        Log the construction through ``logging``.
    ref : float or "max"
        Reference power for 0 dB, ``> 0`` (default 1.0).
    amin : float
        Smallest power before the logarithm, ``> 0`` (default 1e-10).
    top_db : float, optional
        Dynamic range kept below each example's maximum (default 80; ``None``: no floor).
    **kwargs
        :class:`MelSpectrogram` arguments: n_fft, win_length, n_mels, hop_length, window,
        center, pad_mode, power, htk, fmin, fmax, trainable_mel, trainable_STFT (and
        ``iSTFT=False``); anything else raises ``TypeError``.

    Attributes
    ----------
    transform : KernelTransform
        The ``mfcc`` transform (children ``mel``, ``to_db`` and ``dct``).

    Shape
    -----
    ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` → ``(batch, n_mfcc, frames)``.

    Examples
    --------
    >>> mfcc_layer = MFCC(sr=16000, n_mfcc=13, n_fft=512, hop_length=160, n_mels=40, verbose=False)
    >>> mfcc_layer(torch.randn(3, 16000)).shape
    torch.Size([3, 13, 101])
    """

    def __init__(
        self,
        sr: float = 22050,
        n_mfcc: int = 20,
        norm: str | None = "ortho",
        verbose: bool = True,
        ref: float | str = 1.0,
        amin: float = 1e-10,
        top_db: float | None = 80.0,
        **kwargs: Any,
    ) -> None:
        mel_kwargs = _stft_kwargs(type(self).__name__, kwargs, _MEL_KWARGS)
        super().__init__("mfcc", verbose=verbose, renamed={v: k for k, v in _SWITCHES.items()}, sr=sr,
                         n_mfcc=n_mfcc, norm=norm, ref=ref, amin=amin, top_db=top_db, mel_norm=1, **mel_kwargs)

    melspec_layer = forwarded("mel", "The transform's mel spectrogram child (nnAudio's attribute ``melspec_layer``; "
                              "its filterbank is ``melspec_layer.mel_basis``).")

    def describe(self) -> str:
        c = self.transform.config
        return (f"{c['n_mfcc']} coefficients from {c['n_mels']} mel bands, DCT norm={c['norm']!r}, "
                f"top_db={c['top_db']}, sr={c['sr']:g} Hz")
