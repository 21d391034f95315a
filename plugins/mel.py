"""The ``mel`` (alias ``melspectrogram``) and ``mfcc`` transforms, with nnAudio's arguments.

Registered through the ``nnaudio.transforms`` entry point ``mel = "nnaudio_plugins.mel"``.

Both are composites, as torchaudio's: ``mel`` holds an :class:`~nnaudio_plugins.stft.STFT` child
(``stft``) and a :class:`~nnaudio_plugins.spectral.MelScale` child (``mel_scale``); ``mfcc`` holds a
``mel`` child, a :class:`~nnaudio_plugins.spectral.PowerToDB` child (``to_db``) and a
:class:`~nnaudio_plugins.spectral.DCT` child (``dct``). The same computation is available step by
step (``stft → mel_scale → power_to_db → dct``, the bundled spec ``mfcc_chain``). ``trainable``
makes every kernel a parameter; ``trainable_stft`` and ``trainable_filters`` switch the parts.

Compatibility with nnAudio 0.3.4
--------------------------------
* ``MelSpectrogram``: the same arguments and defaults (``verbose`` aside), except that nnAudio's
  ``trainable_mel`` / ``trainable_STFT`` are ``trainable_filters`` / ``trainable_stft`` here (the
  nnAudio facade keeps nnAudio's names).
  ``norm=1`` means Slaney area normalisation, as in nnAudio (in librosa >= 0.9 ``norm=1`` is the
  L1 norm; write ``norm="l1"`` here for that).
* ``MFCC(sr, n_mfcc, norm, verbose, ref, amin, top_db, **kwargs)``: ``norm`` is the *DCT* norm, and
  nnAudio's forward ignores it (it always applies the orthonormal DCT). The mel *filter* norm
  cannot be set at all: ``norm`` is consumed by ``MFCC`` and never reaches the inner
  ``MelSpectrogram``, which therefore always uses its default ``norm=1`` (Slaney). Here the two are
  separate: ``norm`` (DCT, default ``"ortho"``) and ``mel_norm`` (filters, default ``1``), as
  librosa's ``feature.mfcc(norm=..., mel_norm=...)``. The nnAudio-compatible
  ``nnaudio_core.Spectrogram.MFCC`` passes ``mel_norm=1`` (what nnAudio always uses) and honours
  ``norm`` (nnAudio's default ``"ortho"`` gives nnAudio's numbers).
  ``dct_type`` and ``lifter`` do not exist in nnAudio (it always uses type 2 without liftering).
"""

from __future__ import annotations

from typing import Any

from nnaudio_plugins.declarations import (
    DB_PARAMS_POWER,
    DCT_NORM_PARAM,
    DCT_TYPE_PARAM,
    FMAX_PARAM,
    FMIN_PARAM,
    HTK_PARAM,
    LIFTER_PARAM,
    N_MELS_PARAM,
    check_mel_range,
    mel_norm_param,
    params_of,
)
from nnaudio_plugins.spectral import DCT, MelScale, PowerToDB
from nnaudio_plugins.stft import STFT
from torch import Tensor

from nnaudio_core import KernelTransform, hookimpl
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.spectral import dtype_max, magnitude_power
from nnaudio_core.kinds import FEATURES, MAGNITUDE, POWER, SignalInfo
from nnaudio_core.params import Param
from nnaudio_core.transform import TRAINABLE_PARAM, Batch

_PART_SWITCHES = (
    Param("trainable_stft", None, "make the STFT kernels nn.Parameters (None: as trainable)", type="bool",
          optional=True),
    Param("trainable_filters", None, "make the mel filterbank an nn.Parameter (None: as trainable)", type="bool",
          optional=True),
)
_MEL_PARAMS = (
    *params_of(STFT.params, "sr", "n_fft", "win_length"),
    N_MELS_PARAM,
    *params_of(STFT.params, "hop_length", "window", "center", "pad_mode", hop_length=512),
    Param("power", 2.0, "exponent of the magnitude spectrogram (2: power, 1: magnitude)", type="float", low=0, high=16,
          low_open=True),
    HTK_PARAM,
    FMIN_PARAM,
    FMAX_PARAM,
    mel_norm_param("norm", 1),
    TRAINABLE_PARAM,
    *_PART_SWITCHES,
    *params_of(STFT.params, "backend"),
)


def _part(config: dict[str, Any], switch: str) -> bool:
    value = config[switch]
    return bool(config["trainable"]) if value is None else bool(value)


def _check_backend(config: dict[str, Any]) -> None:
    if config["backend"] == "fft" and _part(config, "trainable_stft"):
        raise ParameterError(
            "backend", "fft",
            "the fft path uses fixed STFT kernels; with trainable=True or trainable_stft=True use 'conv' or 'auto'",
        )


# ------------------------------------------------------------------------------------------------
# mel
# ------------------------------------------------------------------------------------------------
class MelSpectrogram(KernelTransform):
    """Mel spectrogram of a waveform: ``mel_basis @ |STFT(x)| ** power``.

    The spectrogram comes from an :class:`~nnaudio_plugins.stft.STFT` child (attribute ``stft``;
    for ``power == 2`` it returns ``|X| ** 2 = re ** 2 + im ** 2``, without a square root;
    otherwise its magnitude raised to ``power``); the filterbank is the kernel ``mel_basis`` of
    shape ``(n_mels, n_fft // 2 + 1)`` of a :class:`~nnaudio_plugins.spectral.MelScale` child
    (attribute ``mel_scale``), from :func:`~nnaudio_core.kernels.mel.mel_filterbank`. With
    ``pad_mode`` given explicitly this is
    ``librosa.feature.melspectrogram`` (whose default pad_mode is ``"constant"``). A frozen
    filterbank is applied block by block over its non-zero band
    (:func:`~nnaudio_core.kernels.mel.filter_groups`): the same product with about a quarter of the
    multiply-adds; a trainable one is applied whole, so every weight gets a gradient.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    n_fft : int
        Frame length in samples (default 2048).
    win_length : int, optional
        Window length, centred and zero-padded to ``n_fft`` (default ``n_fft``).
    n_mels : int
        Number of mel bands, ``>= 1`` (default 128).
    hop_length : int, optional
        Samples between frames (default 512; ``None``: ``win_length // 4``).
    window : str or tuple
        Any :func:`scipy.signal.get_window` spec (default ``"hann"``).
    center : bool
        Centre frame ``t`` on sample ``t * hop_length`` by padding ``n_fft // 2`` on both sides.
    pad_mode : {"reflect", "constant"}
        Padding when centred (default ``"reflect"``, as nnAudio).
    power : float
        Exponent of the magnitude, ``> 0`` (default 2: power; 1: magnitude).
    htk : bool
        HTK mel scale (``True``) or Slaney's (``False``, default).
    fmin : float
        Lowest filter corner in Hz, ``0 <= fmin < fmax``.
    fmax : float, optional
        Highest filter corner in Hz, ``<= sr / 2`` (default ``sr / 2``).
    norm : {1, "slaney", None, "l1"} or float
        Filter normalisation: ``1``/``"slaney"`` area (default, as nnAudio), ``None`` peak 1,
        ``"l1"`` or a number ``p`` (2, inf, ...) for the Lp norm of each filter as
        ``librosa.filters.mel``.
    trainable : bool
        Make every kernel an ``nn.Parameter`` (forces the STFT's ``conv`` path).
    trainable_stft : bool, optional
        Override ``trainable`` for the STFT child's Fourier kernels.
    trainable_filters : bool, optional
        Override ``trainable`` for ``mel_basis``.
    backend : {"auto", "conv", "fft"}
        Computation path of the STFT child.

    Shape
    -----
    ``(time,)``, ``(batch, time)`` or ``(batch, channels, time)`` → ``(..., n_mels, frames)``,
    ``frames = 1 + time // hop_length`` when centred.

    Raises
    ------
    ParameterError
        At construction, for a value out of range (``fmax > sr / 2``, ``fmin >= fmax``,
        ``n_mels < 1``, ``power <= 0``, ...), naming the parameter and the allowed range.

    Examples
    --------
    >>> mel = MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40)
    >>> mel(torch.randn(2, 16000)).shape
    torch.Size([2, 40, 101])
    """

    name = "mel"
    params = _MEL_PARAMS

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        check_mel_range(config)
        _check_backend(config)
        return config

    def setup(self) -> None:
        c = self.config
        self.power: float = c["power"]
        self.n_mels: int = c["n_mels"]
        optional = {k: c[k] for k in ("win_length", "hop_length") if c[k] is not None}
        self.stft = STFT(
            n_fft=c["n_fft"], **optional, window=c["window"], center=c["center"], pad_mode=c["pad_mode"], sr=c["sr"],
            trainable=_part(dict(c), "trainable_stft"),
            # power 1: the magnitude (finite gradient at 0); other powers: |X|^2 without a square root,
            # raised to power / 2 with a zero gradient at silence
            output_format="Magnitude" if self.power == 1.0 else "Power",
            backend=c["backend"],
        )
        self.mel_scale = MelScale(
            sr=c["sr"], n_fft=c["n_fft"], n_mels=c["n_mels"], fmin=c["fmin"], fmax=c["fmax"], htk=c["htk"],
            norm=c["norm"], trainable=_part(dict(c), "trainable_filters"),
        )

    @property
    def fmax(self) -> float:
        """Highest filter corner in Hz (``fmax`` with ``None`` resolved to ``sr / 2``)."""
        return self.mel_scale.fmax

    @property
    def mel_basis(self) -> Tensor:
        """The mel filterbank ``(n_mels, n_fft // 2 + 1)`` (the ``mel_scale`` child's kernel)."""
        return self.mel_scale.mel_basis

    def validate_input(self, x: Tensor) -> None:
        self.stft.validate_input(x)

    def frame_count(self, length: int) -> int:
        return self.stft.frame_count(length)

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        spec = self.stft.compute(x, batch)
        if self.power != 1.0 and self.power != 2.0:
            spec = magnitude_power(spec, self.power)
        # huge input overflows |X|^2 to inf, and inf times the filterbank's zeros is NaN: keep the largest
        # finite value instead (in place, one cheap pass; not for the magnitude, whose sqrt backward needs it)
        largest = dtype_max(spec.dtype)
        spec = spec.clamp(max=largest) if self.power == 1.0 else spec.clamp_(max=largest)
        return self.mel_scale.compute(spec, batch)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        spectrum = self.stft.output_info(upstream)
        kind = POWER if self.power == 2.0 else MAGNITUDE if self.power == 1.0 else FEATURES
        return self.mel_scale.output_info(spectrum.with_(kind=POWER)).with_(kind=kind)


# ------------------------------------------------------------------------------------------------
# mfcc
# ------------------------------------------------------------------------------------------------
_MFCC_PARAMS = (
    _MEL_PARAMS[0],
    Param("n_mfcc", 20, "number of coefficients, <= n_mels", type="int", low=1),
    DCT_NORM_PARAM,
    *DB_PARAMS_POWER,
    *(mel_norm_param("mel_norm", 1) if p.name == "norm" else p for p in _MEL_PARAMS[1:]),
    DCT_TYPE_PARAM,
    LIFTER_PARAM,
)


class MFCC(KernelTransform):
    """Mel-frequency cepstral coefficients: ``dct(power_to_db(mel(x)))[:n_mfcc]``.

    A :class:`MelSpectrogram` child (attribute ``mel``) gives the mel spectrogram; a
    :class:`~nnaudio_plugins.spectral.PowerToDB` child (``to_db``) converts it to decibels with
    ``top_db`` applied **per example** (each batch item against its own maximum, never the
    batch's); a :class:`~nnaudio_plugins.spectral.DCT` child (``dct``) multiplies by its kernel
    ``dct_basis`` of shape ``(n_mfcc, n_mels)``: the first ``n_mfcc`` rows of the type-II DCT
    matrix, liftering folded in. Equal to
    ``librosa.feature.mfcc`` with the same settings (``mel_norm`` is librosa's ``mel_norm``).

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    n_mfcc : int
        Number of coefficients, ``1 <= n_mfcc <= n_mels`` (default 20).
    norm : {"ortho", None}
        DCT normalisation (nnAudio's and librosa's ``norm``), default ``"ortho"``.
    ref : float or "max"
        Reference power for 0 dB (default 1.0), or ``"max"`` for each example's maximum.
    amin : float
        Smallest power before the logarithm, ``> 0`` (default 1e-10).
    top_db : float, optional
        Dynamic range kept below each example's maximum, ``>= 0`` (default 80); ``None``: no floor.
    n_fft, win_length, n_mels, hop_length, window, center, pad_mode, power, htk, fmin, fmax, \
trainable_stft, trainable_filters, backend
        As :class:`MelSpectrogram`.
    trainable : bool
        Make every kernel (Fourier, mel and DCT) an ``nn.Parameter``.
    mel_norm : {1, "slaney", None, "l1"} or float
        Mel filter normalisation (``MelSpectrogram``'s ``norm``), default ``1`` (Slaney area).
    dct_type : int
        DCT type; only 2.
    lifter : float
        Liftering ``1 + (lifter / 2) sin(pi (k + 1) / lifter)`` on coefficient ``k`` (0: none).

    Shape
    -----
    ``(time,)``, ``(batch, time)`` or ``(batch, channels, time)`` → ``(..., n_mfcc, frames)``.
    With channels, one batch item's channels share one ``top_db`` floor (as librosa for a
    multichannel clip, and torchaudio).

    Raises
    ------
    ParameterError
        At construction, for a value out of range (``n_mfcc > n_mels``, ``top_db < 0``, and every
        :class:`MelSpectrogram` check), naming the parameter and the allowed range.

    Examples
    --------
    >>> mfcc = MFCC(sr=16000, n_mfcc=13, n_fft=512, hop_length=160, n_mels=40)
    >>> mfcc(torch.randn(2, 16000)).shape
    torch.Size([2, 13, 101])
    """

    name = "mfcc"
    params = _MFCC_PARAMS

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        check_mel_range(config)
        _check_backend(config)
        if config["n_mfcc"] > config["n_mels"]:
            raise ParameterError("n_mfcc", config["n_mfcc"], f"expected 1 <= n_mfcc <= n_mels = {config['n_mels']}")
        return config

    def setup(self) -> None:
        c = self.config
        mel_args = {p.name: c[p.name] for p in _MEL_PARAMS if p.name != "norm"}
        self.mel = MelSpectrogram(norm=c["mel_norm"], **mel_args)
        self.to_db = PowerToDB(ref=c["ref"], amin=c["amin"], top_db=c["top_db"])
        self.dct = DCT(n_bands=c["n_mels"], n_coefficients=c["n_mfcc"], dct_type=c["dct_type"], norm=c["norm"],
                       lifter=c["lifter"], trainable=c["trainable"])
        self.n_mfcc: int = c["n_mfcc"]

    @property
    def dct_basis(self) -> Tensor:
        """The DCT matrix ``(n_mfcc, n_mels)`` with liftering (the ``dct`` child's kernel)."""
        return self.dct.dct_basis

    def validate_input(self, x: Tensor) -> None:
        self.mel.validate_input(x)

    def frame_count(self, length: int) -> int:
        return self.mel.frame_count(length)

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        return self.dct.compute(self.to_db.compute(self.mel.compute(x, batch), batch), batch)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        mel = self.mel.output_info(upstream)
        return self.dct.output_info(self.to_db.output_info(mel.with_(kind=POWER)))


@hookimpl
def nnaudio_register_transforms(register):
    register(MelSpectrogram, aliases=("melspectrogram",))
    register(MFCC)
