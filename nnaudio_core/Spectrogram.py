"""nnAudio 0.3's class names, arguments and output layouts over the registered transforms.

Switching from nnAudio is one import line::

    from nnAudio import Spectrogram        # before
    from nnaudio_core import Spectrogram   # after

Every class here is a thin subclass of a transform registered by the built-in plugins (obtained
through :func:`nnaudio_core.get_transform`); it maps nnAudio's constructor arguments onto the
transform's parameters and formats the output the way nnAudio does. No spectrogram is computed
here: the numbers come from the plugins.

==================  ====================  ==============================================================
class               registered transform  notes
==================  ====================  ==============================================================
``STFT``            ``stft``              ``iSTFT=True`` is not supported (use ``torch.istft``)
``MelSpectrogram``  ``mel``
``MFCC``            ``mfcc``              ``norm`` is honoured (nnAudio always applied ``"ortho"``)
``CQT1992v2``       ``cqt1992``           nnAudio's kernel lengths ``ceil(Q * sr / f)``
``CQT``             ``cqt1992``           the same class as ``CQT1992v2``, as in nnAudio
``CQT1992``         ``cqt1992``           nnAudio's frequency-domain variant: the same transform
``CQT2010v2``       ``cqt2019``           multirate; any ``hop_length``; ``fmax`` is honoured
``CQT2019``         ``cqt2019``           the same class as ``CQT2010v2`` (the seed README's name)
==================  ====================  ==============================================================

Layouts, as nnAudio 0.3.4 returns them:

* input ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` gives ``(batch, freq, frames)``
  (a ``(len,)`` input gives a batch of one); ``(batch, channels, len)`` with ``channels > 1``,
  which nnAudio rejects, gives ``(batch, channels, freq, frames)``;
* ``"Complex"``: a real tensor ``(..., freq, frames, 2)`` holding ``(real, imag)``;
* ``"Phase"``: the STFT returns the angle in radians ``(..., freq, frames)``; the CQTs return
  ``(cos, sin)`` of the angle in a last dimension of 2;
* ``forward(x, output_format=...)`` overrides the constructor's format for one call, and the CQTs'
  ``forward(x, normalization_type=...)`` chooses ``"librosa"``, ``"convolutional"`` or ``"wrap"``.

Where nnAudio 0.3.4 misbehaves these classes do the right thing instead (all listed in
``docs/migrating-from-nnaudio.md``): any ``hop_length`` works in ``CQT2010v2``; clips shorter than
the longest CQT kernel work with ``pad_mode="reflect"``; an unknown ``freq_scale``,
``output_format`` or ``normalization_type`` raises :class:`~nnaudio_core.errors.ParameterError`;
magnitudes have a finite gradient at zero; ``CQT2010v2`` with early downsampling or
``basis_norm=2`` gives the same values as ``CQT1992v2``. ``verbose=True`` logs through the logger
``"nnaudio_core.Spectrogram"`` at INFO level; nothing is printed.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .errors import ParameterError, did_you_mean
from .functional.complex import magnitude, phase
from .registry import get_transform
from .transform import constant

__all__ = [
    "CQT",
    "CQT1992",
    "CQT1992v2",
    "CQT2010v2",
    "CQT2019",
    "MFCC",
    "STFT",
    "MelSpectrogram",
]

logger = logging.getLogger(__name__)

_STFT = get_transform("stft")
_MEL = get_transform("mel")
_MFCC = get_transform("mfcc")
_CQT1992 = get_transform("cqt1992")
_CQT2019 = get_transform("cqt2019")

STFT_FORMATS = ("Complex", "Magnitude", "Phase")
CQT_FORMATS = ("Magnitude", "Complex", "Phase")
NORMALIZATION_TYPES = ("librosa", "convolutional", "wrap")

#: nnAudio classes this library does not provide, and what to use instead.
UNSUPPORTED = {
    "iSTFT": "inverse transforms are not part of nnaudio-core; invert STFT(output_format='Complex') output with "
    "torch.istft(torch.view_as_complex(spec), n_fft, hop_length, window=torch.hann_window(n_fft))",
    "Griffin_Lim": "phase reconstruction is not part of nnaudio-core; torchaudio.transforms.GriffinLim does it",
    "CQT2010": "use CQT2010v2 (the same multirate constant-Q transform) or CQT1992v2",
    "VQT": "the variable-Q transform is not implemented; CQT1992v2 is the gamma=0 case",
    "Gammatonegram": "the gammatone filterbank is not implemented; a third-party plugin can register one",
    "Combined_Frequency_Periodicity": "CFP features are not implemented",
    "CFP": "CFP features are not implemented",
}


def __getattr__(name: str) -> Any:
    if name in UNSUPPORTED:
        raise AttributeError(f"{__name__} has no {name}: {UNSUPPORTED[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}{did_you_mean(name, __all__)}")


# ------------------------------------------------------------------------------------------------
# shared helpers
# ------------------------------------------------------------------------------------------------
def _nnaudio_input(x: Tensor) -> Tensor:
    """Map nnAudio's input layouts onto the transforms': ``(len,)`` → ``(1, len)``, ``(B, 1, len)`` → ``(B, len)``.

    Other layouts go to the transform unchanged (its checks name the problem).
    """
    if isinstance(x, Tensor):
        if x.dim() == 1:
            return x.unsqueeze(0)
        if x.dim() == 3 and x.shape[1] == 1:
            return x[:, 0]
    return x


def _check_choice(owner: str, name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices`` (exact spelling, as nnAudio compares), else raise."""
    if isinstance(value, str) and value in choices:
        return value
    allowed = "one of " + ", ".join(map(repr, choices))
    suggestion = did_you_mean(value, choices) if isinstance(value, str) else ""
    raise ParameterError(name, value, f"expected {allowed}{suggestion}", context=owner)


def _format_pair(pair: Tensor, output_format: str, phase_as_cos_sin: bool) -> Tensor:
    """nnAudio's output from the ``(..., 2)`` pair of real and imaginary parts."""
    real, imag = pair[..., 0], pair[..., 1]
    if output_format == "Magnitude":
        return magnitude(real, imag)
    if output_format == "Complex":
        return pair
    angle = phase(real, imag)
    if phase_as_cos_sin:
        return torch.stack((torch.cos(angle), torch.sin(angle)), -1)
    return angle


def _reject_istft(owner: str, istft: Any) -> None:
    if istft:
        raise NotImplementedError(f"{owner}: iSTFT=True is not supported: {UNSUPPORTED['iSTFT']}; keep iSTFT=False")


def _log_built(verbose: bool, owner: str, start: float, details: str) -> None:
    if verbose:
        logger.info("%s: %s; kernels built in %.4f s", owner, details, time.perf_counter() - start)


def _no_signature(cls: type) -> type:
    """Let ``inspect.signature`` read the compatibility ``__init__`` instead of the plugin's keyword list."""
    cls.__signature__ = None  # type: ignore[attr-defined]
    return cls


# ------------------------------------------------------------------------------------------------
# STFT
# ------------------------------------------------------------------------------------------------
@_no_signature
class STFT(_STFT):
    """Short-time Fourier transform with nnAudio's ``STFT`` arguments and output layouts.

    A subclass of the registered ``stft`` transform; the arguments keep nnAudio 0.3.4's names,
    order and defaults.

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
        Make the Fourier kernels an ``nn.Parameter`` (attribute ``fourier``).
    output_format : {"Complex", "Magnitude", "Phase"}
        Default output of ``forward`` (default ``"Complex"``, as nnAudio 0.3).
    verbose : bool
        Log the construction through ``logging`` (logger ``"nnaudio_core.Spectrogram"``).

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
        pad_mode: str = "reflect",
        iSTFT: bool = False,  # noqa: N803 (nnAudio's name)
        fmin: float = 50,
        fmax: float = 6000,
        sr: float = 22050,
        trainable: bool = False,
        output_format: str = "Complex",
        verbose: bool = True,
    ) -> None:
        owner = type(self).__name__
        _reject_istft(owner, iSTFT)
        _check_choice(owner, "output_format", output_format, STFT_FORMATS)
        start = time.perf_counter()
        super().__init__(n_fft=n_fft, win_length=win_length, freq_bins=freq_bins, hop_length=hop_length,
                         window=window, freq_scale=freq_scale, center=center, pad_mode=pad_mode, fmin=fmin,
                         fmax=fmax, sr=sr, trainable=trainable, output_format=output_format)
        _log_built(verbose, owner, start, f"{self.freq_bins} Fourier kernels of {self.n_fft} samples, "
                   f"freq_scale={self.config['freq_scale']!r}, sr={self.config['sr']:g} Hz, hop {self.hop_length}, "
                   f"backend {self.backend!r}")

    @property
    def bins2freq(self) -> list[float]:
        """Frequency in Hz of each output bin (nnAudio's attribute)."""
        return [float(f) for f in self.frequencies]

    def post_process(self, y: Tensor) -> Tensor:
        """The ``(..., freq, frames, 2)`` pair of real and imaginary parts (formatted by :meth:`forward`)."""
        if isinstance(y, Tensor):  # fft path: complex frames
            return torch.view_as_real(y)
        return torch.stack(y, -1)

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
            ``(batch, freq_bins, frames)``, or ``(batch, freq_bins, frames, 2)`` for ``"Complex"``.
        """
        fmt = self.output_format if output_format is None else output_format
        fmt = _check_choice(type(self).__name__, "output_format", fmt, STFT_FORMATS)
        folded, batch = self.fold(_nnaudio_input(x))
        out = _format_pair(self.compute(folded, batch), fmt, phase_as_cos_sin=False)
        return out.reshape(batch.leading + list(out.shape[1:]))

    def inverse(self, *args: Any, **kwargs: Any) -> Tensor:
        """Not supported: inverse transforms are not part of nnaudio-core (raises ``NotImplementedError``)."""
        raise NotImplementedError(f"{type(self).__name__}.inverse is not supported: {UNSUPPORTED['iSTFT']}")


# ------------------------------------------------------------------------------------------------
# mel and MFCC
# ------------------------------------------------------------------------------------------------
_MEL_KWARGS = ("n_fft", "win_length", "n_mels", "hop_length", "window", "center", "pad_mode", "power", "htk",
               "fmin", "fmax", "trainable_mel", "trainable_STFT")


def _stft_kwargs(owner: str, kwargs: dict[str, Any], accepted: tuple[str, ...]) -> dict[str, Any]:
    """Check nnAudio's ``**kwargs`` pass-through: ``iSTFT=False`` and ``accepted`` names only."""
    kwargs = dict(kwargs)
    _reject_istft(owner, kwargs.pop("iSTFT", False))
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        names = ", ".join(accepted + ("iSTFT",))
        raise TypeError(f"{owner} got an unexpected keyword argument {unknown[0]!r}"
                        f"{did_you_mean(unknown[0], accepted)}; its **kwargs accept: {names}")
    return kwargs


@_no_signature
class MelSpectrogram(_MEL):
    """Mel spectrogram with nnAudio's ``MelSpectrogram`` arguments.

    A subclass of the registered ``mel`` transform: ``mel_basis @ |STFT(x)| ** power``.

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
    trainable_mel, trainable_STFT : bool
        Make the mel filterbank / the STFT kernels ``nn.Parameter`` objects.
    verbose : bool
        Log the construction through ``logging``.
    **kwargs
        nnAudio passes these to its STFT; only ``iSTFT=False`` is meaningful (``True`` raises
        ``NotImplementedError``), anything else raises ``TypeError``.

    Shape
    -----
    ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` → ``(batch, n_mels, frames)``.

    Examples
    --------
    >>> mel_layer = MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40, verbose=False)
    >>> mel_layer(torch.randn(16000)).shape
    torch.Size([1, 40, 101])
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
        owner = type(self).__name__
        _stft_kwargs(owner, kwargs, ())
        start = time.perf_counter()
        super().__init__(sr=sr, n_fft=n_fft, win_length=win_length, n_mels=n_mels, hop_length=hop_length,
                         window=window, center=center, pad_mode=pad_mode, power=power, htk=htk, fmin=fmin, fmax=fmax,
                         norm=norm, trainable_filters=trainable_mel, trainable_stft=trainable_STFT)
        _log_built(verbose, owner, start, f"{self.n_mels} mel filters over {n_fft // 2 + 1} FFT bins "
                   f"({self.config['fmin']:g}-{self.fmax:g} Hz, htk={htk}), sr={self.config['sr']:g} Hz")

    def forward(self, x: Tensor) -> Tensor:
        """Mel spectrogram of ``x``: ``(batch, n_mels, frames)`` (see the class docstring for layouts)."""
        return super().forward(_nnaudio_input(x))


@_no_signature
class MFCC(_MFCC):
    """MFCCs with nnAudio's ``MFCC`` arguments.

    A subclass of the registered ``mfcc`` transform: ``dct(power_to_db(mel(x)))[:n_mfcc]``, the
    decibel floor ``top_db`` applied per example. The mel filters use nnAudio's fixed Slaney
    normalisation (nnAudio's ``MFCC`` cannot pass a mel ``norm``).

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
        owner = type(self).__name__
        mel_kwargs = _stft_kwargs(owner, kwargs, _MEL_KWARGS)
        for nnaudio_name, name in (("trainable_mel", "trainable_filters"), ("trainable_STFT", "trainable_stft")):
            if nnaudio_name in mel_kwargs:
                mel_kwargs[name] = mel_kwargs.pop(nnaudio_name)
        start = time.perf_counter()
        super().__init__(sr=sr, n_mfcc=n_mfcc, norm=norm, ref=ref, amin=amin, top_db=top_db, mel_norm=1,
                         **mel_kwargs)
        _log_built(verbose, owner, start, f"{self.n_mfcc} coefficients from {self.config['n_mels']} mel bands, "
                   f"DCT norm={norm!r}, top_db={top_db}, sr={self.config['sr']:g} Hz")

    def forward(self, x: Tensor) -> Tensor:
        """MFCCs of ``x``: ``(batch, n_mfcc, frames)`` (see the class docstring for layouts)."""
        return super().forward(_nnaudio_input(x))


# ------------------------------------------------------------------------------------------------
# constant-Q transforms
# ------------------------------------------------------------------------------------------------
class _CQTLayout:
    """nnAudio's CQT behaviour on top of a registered CQT transform (mixed in before it).

    * kernel lengths ``ceil(Q * sr / f)`` (``lengths="nnaudio"``, set by the subclasses);
    * unnormalised kernels (``norm`` falsy) carry nnAudio's ``1 / l_k`` factor: folded into the
      transform's per-bin output ``scale``;
    * ``forward(x, output_format, normalization_type)`` with nnAudio's layouts; the extra
      per-bin factors for ``normalization_type`` are the buffer ``nnaudio_rescale`` (rows
      librosa, convolutional, wrap), rebuilt exactly with the kernels on a dtype change.
    """

    kernel_lengths: np.ndarray
    config: Any
    output_format: str

    def _scale(self) -> np.ndarray:
        scale = super()._scale()  # type: ignore[misc]
        if self.config["norm"] is None:  # nnAudio divides unnormalised kernels by their length
            scale = scale / self.kernel_lengths
        return scale

    def build_kernels(self) -> dict[str, Any]:
        kernels = super().build_kernels()  # type: ignore[misc]
        root = np.sqrt(self.kernel_lengths)
        # relative to the built-in "librosa" scale sqrt(l_k)
        kernels["nnaudio_rescale"] = constant(np.stack([np.ones_like(root), 1.0 / root, 2.0 / root]))
        return kernels

    def format_output(self, real: Tensor, imag: Tensor) -> Tensor:
        """The ``(..., n_bins, frames, 2)`` pair (formatted by :meth:`forward`)."""
        return torch.stack((real, imag), -1)

    def forward(self, x: Tensor, output_format: str | None = None, normalization_type: str = "librosa") -> Tensor:
        """Constant-Q transform of ``x`` in nnAudio's layout.

        Parameters
        ----------
        x : torch.Tensor
            ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` (``(batch, channels, len)`` also).
        output_format : {"Magnitude", "Complex", "Phase"}, optional
            Overrides the constructor's ``output_format`` for this call.
        normalization_type : {"librosa", "convolutional", "wrap"}
            ``"librosa"``: bin ``k`` times ``sqrt(l_k)`` (librosa's scale); ``"convolutional"``:
            the plain correlation with the kernels; ``"wrap"``: times 2, so that with L1 kernels a
            unit sinusoid reads about 1.

        Returns
        -------
        torch.Tensor
            ``(batch, n_bins, frames)`` for ``"Magnitude"``, ``(batch, n_bins, frames, 2)`` for
            ``"Complex"`` (real, imag) and ``"Phase"`` (cos, sin).
        """
        owner = type(self).__name__
        fmt = self.output_format if output_format is None else output_format
        fmt = _check_choice(owner, "output_format", fmt, CQT_FORMATS)
        row = NORMALIZATION_TYPES.index(_check_choice(owner, "normalization_type", normalization_type,
                                                      NORMALIZATION_TYPES))
        x = _nnaudio_input(x)
        if not self.config["center"]:
            x, frames = self._nnaudio_uncentred(x)
        folded, batch = self.fold(x)  # type: ignore[attr-defined]
        pair = self.compute(folded, batch)  # type: ignore[attr-defined]
        if not self.config["center"]:
            pair = pair[:, :, :frames]
        if row:
            pair = pair * self.nnaudio_rescale[row].to(pair.dtype)[:, None, None]  # type: ignore[attr-defined]
        out = _format_pair(pair, fmt, phase_as_cos_sin=True)
        return out.reshape(batch.leading + list(out.shape[1:]))

    def _nnaudio_uncentred(self, x: Tensor) -> tuple[Tensor, int]:
        """nnAudio's ``center=False`` frames: the crop of ``x`` and the number of frames to keep.

        nnAudio places every kernel in an array of ``fft_len = 2 ** ceil(log2(l_0))`` columns with
        sample ``n = 0`` at column ``fft_len // 2`` and correlates without padding, so frame ``t``
        has ``n = 0`` on sample ``t * hop_length + fft_len // 2`` and there are
        ``1 + (len - fft_len) // hop_length`` frames. The transform's own ``center=False`` frames
        put ``n = 0`` on ``t * hop_length + center_index``: dropping the first
        ``fft_len // 2 - center_index`` samples lines the two up.
        """
        fft_len = 2 ** math.ceil(math.log2(self.kernel_lengths[0]))
        length = x.shape[-1]
        if length < fft_len:
            raise ValueError(
                f"{type(self).__name__}: input of {length} samples is too short for center=False: nnAudio's frames "
                f"span the {fft_len}-sample kernel array (longest kernel {self.kernel_lengths[0]:.0f} samples at "
                f"{self.frequencies[0]:.2f} Hz); use center=True or a higher fmin"  # type: ignore[attr-defined]
            )
        shift = fft_len // 2 - self.center_index  # type: ignore[attr-defined]
        return x[..., shift:], 1 + (length - fft_len) // self.config["hop_length"]

    def _describe(self) -> str:
        freqs = self.frequencies  # type: ignore[attr-defined]
        return (f"{len(freqs)} kernels ({freqs[0]:.2f}-{freqs[-1]:.2f} Hz, longest {self.kernel_lengths[0]:.0f} "
                f"samples), sr={self.config['sr']:g} Hz, hop {self.config['hop_length']}, transform {self.name!r}")


#: The registered CQTs' kernel ``norm`` declaration (``None``/``False``/``0``: none, ``True``: 1, p > 0).
_KERNEL_NORM = next(p for p in _CQT2019.params if p.name == "norm")


def _basis_norm(owner: str, value: Any) -> Any:
    """``CQT2010v2``'s ``basis_norm`` is the transform's kernel ``norm``; errors name nnAudio's argument."""
    try:
        return _KERNEL_NORM.validate(value)
    except ParameterError as exc:
        raise ParameterError("basis_norm", value, exc.allowed, context=owner) from None


@_no_signature
class CQT1992v2(_CQTLayout, _CQT1992):
    """Constant-Q transform with nnAudio's ``CQT1992v2`` arguments (also available as ``CQT``).

    A subclass of the registered ``cqt1992`` transform with nnAudio's kernel lengths
    ``l_k = ceil(Q * sr / f_k)``, ``Q = filter_scale / (2 ** (1 / bins_per_octave) - 1)``, each
    kernel's sample ``n = 0`` on the frame's sample ``t * hop_length``, as nnAudio places them.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    hop_length : int
        Samples between frames (default 512).
    fmin : float
        Frequency of the lowest bin in Hz (default 32.70).
    fmax : float, optional
        When given, ``n_bins = ceil(bins_per_octave * log2(fmax / fmin))`` and ``n_bins`` is ignored.
    n_bins : int
        Number of bins (default 84); the top bin must not exceed ``sr / 2``.
    bins_per_octave : int
        Default 12.
    filter_scale : float
        Kernel length multiplier (default 1).
    norm : float or None
        Kernel p-norm (1: L1, default; 2: L2); ``None``/``0``/``False``: unnormalised kernels
        ``window * exp(...) / l_k``, as nnAudio.
    window : str or tuple
        Kernel window (default ``"hann"``).
    center : bool
        Centred frames (default True).
    pad_mode : {"reflect", "constant"}
        Signal extension when centred; ``"reflect"`` also works for clips shorter than the
        longest kernel (reflected repeatedly), where nnAudio fails.
    trainable : bool
        Time-domain kernels as an ``nn.Parameter`` (``cqt_kernels``).
    output_format : {"Magnitude", "Complex", "Phase"}
        Default output (``"Magnitude"``).
    verbose : bool
        Log the construction through ``logging``.

    Shape
    -----
    ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` → ``(batch, n_bins, frames)``
    (``Magnitude``) or ``(batch, n_bins, frames, 2)`` (``Complex``, ``Phase``).

    Examples
    --------
    >>> cqt_layer = CQT1992v2(sr=22050, fmin=55.0, n_bins=60, verbose=False)
    >>> cqt_layer(torch.randn(2, 22050)).shape
    torch.Size([2, 60, 44])
    >>> cqt_layer(torch.randn(22050), output_format="Complex", normalization_type="wrap").shape
    torch.Size([1, 60, 44, 2])
    """

    def __init__(
        self,
        sr: float = 22050,
        hop_length: int = 512,
        fmin: float = 32.70,
        fmax: float | None = None,
        n_bins: int = 84,
        bins_per_octave: int = 12,
        filter_scale: float = 1,
        norm: Any = 1,
        window: Any = "hann",
        center: bool = True,
        pad_mode: str = "reflect",
        trainable: bool = False,
        output_format: str = "Magnitude",
        verbose: bool = True,
    ) -> None:
        owner = type(self).__name__
        _check_choice(owner, "output_format", output_format, CQT_FORMATS)
        start = time.perf_counter()
        super().__init__(sr=sr, hop_length=hop_length, fmin=fmin, fmax=fmax, n_bins=n_bins,
                         bins_per_octave=bins_per_octave, filter_scale=filter_scale,
                         norm=norm, window=window, center=center, pad_mode=pad_mode,
                         trainable=trainable, output_format=output_format, lengths="nnaudio")
        _log_built(verbose, owner, start, self._describe())


#: nnAudio's ``CQT`` is ``CQT1992v2``.
CQT = CQT1992v2


@_no_signature
class CQT1992(_CQTLayout, _CQT1992):
    """nnAudio's ``CQT1992`` (frequency-domain kernels): the same transform as :class:`CQT1992v2`.

    nnAudio multiplies a rectangular-window STFT by the kernels' spectra; that computes the same
    correlation as ``CQT1992v2`` (within 1e-4 in nnAudio). Here both are the registered
    ``cqt1992`` transform, whose frozen-kernel path is itself an FFT algorithm. nnAudio's
    ``Phase`` output of this class is the conjugate of its ``Complex`` output; here it is the
    phase of the ``Complex`` output, as in ``CQT1992v2``.

    Parameters
    ----------
    sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, output_format, norm, window, \
center, pad_mode
        As :class:`CQT1992v2` (note nnAudio's defaults here: ``fmin=220``, and the argument order).
    trainable_STFT : bool
        Only ``False``: there is no separate Fourier stage to train (``True`` raises
        ``NotImplementedError``; use ``trainable_CQT=True``).
    trainable_CQT : bool
        Make the constant-Q kernels an ``nn.Parameter`` (time-domain kernels, ``cqt_kernels``).

    Shape
    -----
    As :class:`CQT1992v2`.

    Examples
    --------
    >>> cqt_layer = CQT1992(n_bins=48)
    >>> cqt_layer(torch.randn(22050)).shape
    torch.Size([1, 48, 44])
    """

    def __init__(
        self,
        sr: float = 22050,
        hop_length: int = 512,
        fmin: float = 220,
        fmax: float | None = None,
        n_bins: int = 84,
        trainable_STFT: bool = False,  # noqa: N803 (nnAudio's name)
        trainable_CQT: bool = False,  # noqa: N803 (nnAudio's name)
        bins_per_octave: int = 12,
        filter_scale: float = 1,
        output_format: str = "Magnitude",
        norm: Any = 1,
        window: Any = "hann",
        center: bool = True,
        pad_mode: str = "reflect",
    ) -> None:
        owner = type(self).__name__
        if trainable_STFT:
            raise NotImplementedError(
                f"{owner}: trainable_STFT=True is not supported: the transform correlates the signal with the "
                "constant-Q kernels directly, with no separate Fourier stage; use trainable_CQT=True to train the "
                "kernels"
            )
        _check_choice(owner, "output_format", output_format, CQT_FORMATS)
        start = time.perf_counter()
        super().__init__(sr=sr, hop_length=hop_length, fmin=fmin, fmax=fmax, n_bins=n_bins,
                         bins_per_octave=bins_per_octave, filter_scale=filter_scale,
                         norm=norm, window=window, center=center, pad_mode=pad_mode,
                         trainable=trainable_CQT, output_format=output_format, lengths="nnaudio")
        # nnAudio's CQT1992 has no verbose argument and always reports its kernels
        _log_built(True, owner, start, self._describe())


@_no_signature
class CQT2010v2(_CQTLayout, _CQT2019):
    """Multirate constant-Q transform with nnAudio's ``CQT2010v2`` arguments (also ``CQT2019``).

    A subclass of the registered ``cqt2019`` transform with nnAudio's kernel lengths: the same
    function as :class:`CQT1992v2` (within 1e-3, typically 1e-5), computed octave by octave at
    reduced sample rates. nnAudio's own ``CQT2010v2`` is 0.3-1 % away from its ``CQT1992v2``
    and fails for some hop lengths; see ``docs/migrating-from-nnaudio.md``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    hop_length : int
        Samples between frames (default 512); any value (nnAudio needs it divisible by
        ``2 ** (octaves - 1)``).
    fmin : float
        Frequency of the lowest bin (default 32.70).
    fmax : float, optional
        When given, ``n_bins = ceil(bins_per_octave * log2(fmax / fmin))`` (nnAudio 0.3.4
        ignores ``fmax`` in this class).
    n_bins : int
        Number of bins (default 84).
    filter_scale : float
        Kernel length multiplier (default 1).
    bins_per_octave : int
        Default 12.
    norm : bool
        Only ``True``: the output is scaled as ``normalization_type`` says. nnAudio 0.3.4 accepts
        this argument and ignores it, so ``False`` raises
        :class:`~nnaudio_core.errors.ParameterError` (use ``normalization_type="convolutional"``).
    basis_norm : float or None
        Kernel p-norm (1: L1, default); ``None``/``0``: unnormalised kernels divided by their
        length, as in :class:`CQT1992v2`.
    window : str or tuple
        Kernel window (default ``"hann"``).
    pad_mode : {"reflect", "constant"}
        Signal extension (frames are always centred, as in nnAudio).
    earlydownsample : bool
        Let the top octave run below the full rate when its kernels allow (default True). Speed
        only: the values do not change (in nnAudio they were scaled by the downsampling factor).
    trainable : bool
        Per-octave kernels as ``nn.Parameter`` objects (the kernel list ``cqt_kernels``).
    output_format : {"Magnitude", "Complex", "Phase"}
        Default output (``"Magnitude"``).
    verbose : bool
        Log the construction through ``logging``.

    Shape
    -----
    As :class:`CQT1992v2`.

    Examples
    --------
    >>> cqt_layer = CQT2010v2(sr=44100, n_bins=84 * 2, bins_per_octave=24, fmin=55, verbose=False)
    >>> cqt_layer(torch.randn(2, 44100)).shape
    torch.Size([2, 168, 87])
    >>> CQT2010v2(hop_length=500, verbose=False)(torch.randn(22050)).shape
    torch.Size([1, 84, 45])
    """

    def __init__(
        self,
        sr: float = 22050,
        hop_length: int = 512,
        fmin: float = 32.70,
        fmax: float | None = None,
        n_bins: int = 84,
        filter_scale: float = 1,
        bins_per_octave: int = 12,
        norm: bool = True,
        basis_norm: Any = 1,
        window: Any = "hann",
        pad_mode: str = "reflect",
        earlydownsample: bool = True,
        trainable: bool = False,
        output_format: str = "Magnitude",
        verbose: bool = True,
    ) -> None:
        owner = type(self).__name__
        if norm is not True and norm != 1:
            raise ParameterError(
                "norm", norm, "expected True: nnAudio 0.3.4 accepts CQT2010v2's norm but ignores it (its output is "
                "always scaled as forward's normalization_type says); for the unscaled correlation call "
                "forward(x, normalization_type='convolutional')", context=owner,
            )
        _check_choice(owner, "output_format", output_format, CQT_FORMATS)
        start = time.perf_counter()
        super().__init__(sr=sr, hop_length=hop_length, fmin=fmin, fmax=fmax, n_bins=n_bins,
                         bins_per_octave=bins_per_octave, filter_scale=filter_scale,
                         norm=_basis_norm(owner, basis_norm), window=window, center=True,
                         pad_mode=pad_mode, trainable=trainable, output_format=output_format, lengths="nnaudio",
                         earlydownsample=earlydownsample)
        _log_built(verbose, owner, start, self._describe())


#: The seed README's name for ``CQT2010v2``.
CQT2019 = CQT2010v2

