"""The ``mel`` (alias ``melspectrogram``) and ``mfcc`` transforms, with nnAudio's arguments.

Registered through the ``nnaudio.transforms`` entry point ``mel = "nnaudio_plugins.mel"``.

``mel`` composes an :class:`~nnaudio_plugins.stft.STFT` child (the spectrogram) with a mel
filterbank kernel; ``mfcc`` composes a ``mel`` child with decibel conversion and a DCT kernel. The
same computation is available step by step (``stft → mel_scale → power_to_db → dct``, see
:mod:`nnaudio_plugins.spectral` and the bundled spec ``mfcc_chain``).

Compatibility with nnAudio 0.3.4
--------------------------------
* ``MelSpectrogram``: every argument has the same name and default here (``verbose`` aside).
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

import math
import numbers
from typing import Any

import numpy as np
import torch
from nnaudio_plugins.stft import STFT
from torch import Tensor

from nnaudio_core import KernelTransform, hookimpl
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.spectral import apply_filterbank, power_to_db
from nnaudio_core.kernels.dct import dct_matrix, lifter_weights
from nnaudio_core.kernels.mel import check_mel_norm, filter_groups, mel_filterbank
from nnaudio_core.params import Param
from nnaudio_core.transform import BACKEND_PARAM, FEATURES, MAGNITUDE, POWER, WAVEFORM

# ------------------------------------------------------------------------------------------------
# shared parameter declarations (also used by nnaudio_plugins.spectral)
# ------------------------------------------------------------------------------------------------
_NORM_ALLOWED = (
    "1 or 'slaney' (area normalisation), None (peak 1), 'l1' (L1 norm), or a number p > 0 (p != 1), "
    "0, inf or -inf for the Lp norm of each filter"
)


def check_transform_mel_norm(value: Any) -> str | None:
    """Validate a transform's mel ``norm``; return ``None`` when allowed, else what is allowed."""
    if isinstance(value, str):
        return None if value in ("slaney", "l1") else _NORM_ALLOWED
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and check_mel_norm(value) is None:
        return None
    return _NORM_ALLOWED


def filter_norm(value: Any) -> Any:
    """Map a transform's mel ``norm`` to :func:`~nnaudio_core.kernels.mel.mel_filterbank`'s.

    ``1`` and ``"slaney"`` → ``"slaney"`` (nnAudio's meaning of 1), ``"l1"`` → ``1.0`` (the L1
    norm), ``None`` → ``None``, any other number → itself.

    Examples
    --------
    >>> filter_norm(1), filter_norm("l1"), filter_norm(2)
    ('slaney', 1.0, 2.0)
    """
    if value is None:
        return None
    if isinstance(value, str):
        return "slaney" if value == "slaney" else 1.0
    return "slaney" if float(value) == 1.0 else float(value)


def mel_norm_param(name: str = "norm", default: Any = 1) -> Param:
    """The mel filter normalisation parameter, declared once for every mel transform."""
    return Param(
        name,
        default,
        "mel filter normalisation: 1 or 'slaney' (area), None (peak 1), 'l1', or a number p for the Lp norm "
        "of each filter as librosa.filters.mel",
        type="any",
        optional=True,
        check=check_transform_mel_norm,
    )


def check_ref(value: Any) -> str | None:
    """Validate a decibel ``ref``: a number > 0 or ``"max"``."""
    if value == "max" and isinstance(value, str):
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return None
    return "a number > 0 (the 0 dB reference) or 'max' (each example's maximum)"


def db_params(amin: float) -> tuple[Param, ...]:
    """``ref``, ``amin`` and ``top_db``, as librosa's ``power_to_db``."""
    return (
        Param("ref", 1.0, "reference value for 0 dB, or 'max' for each example's maximum", type="any", check=check_ref),
        Param("amin", amin, "smallest value considered before the logarithm", type="float", low=0, low_open=True),
        Param("top_db", 80.0, "dynamic range kept below each example's maximum (None: no floor)", type="float", low=0,
              optional=True),
    )


SR_PARAM = Param("sr", 22050.0, "sample rate in Hz", type="float", low=0, low_open=True)
N_MELS_PARAM = Param("n_mels", 128, "number of mel bands", type="int", low=1)
HTK_PARAM = Param("htk", False, "HTK mel scale (True) or Slaney's (False)", type="bool")
FMIN_PARAM = Param("fmin", 0.0, "lowest filter corner frequency in Hz", type="float", low=0)
FMAX_PARAM = Param("fmax", None, "highest filter corner frequency in Hz (None: sr / 2)", type="float", low=0,
                   low_open=True, optional=True)


def check_mel_range(config: dict[str, Any]) -> float:
    """Check ``fmin < fmax <= sr / 2``; return ``fmax`` with ``None`` resolved to ``sr / 2``."""
    nyquist = config["sr"] / 2
    fmax = nyquist if config["fmax"] is None else config["fmax"]
    if fmax > nyquist:
        raise ParameterError(
            "fmax", config["fmax"], f"expected 0 < fmax <= sr / 2 = {nyquist:g} Hz (Nyquist for sr={config['sr']:g}), "
            "or None for sr / 2"
        )
    if config["fmin"] >= fmax:
        raise ParameterError("fmin", config["fmin"], f"expected 0 <= fmin < fmax = {fmax:g} Hz")
    return fmax


STFT_PARAMS = (
    Param("n_fft", 2048, "frame length in samples", type="int", low=1),
    Param("win_length", None, "window length (None: n_fft)", type="int", low=1, optional=True),
)
_MEL_PARAMS = (
    SR_PARAM,
    *STFT_PARAMS,
    N_MELS_PARAM,
    Param("hop_length", 512, "samples between frames (None: win_length // 4)", type="int", low=1, optional=True),
    Param("window", "hann", "analysis window, any scipy.signal.get_window spec", type="window"),
    Param("center", True, "centre frame t on sample t * hop_length by padding n_fft // 2", type="bool"),
    Param("pad_mode", "reflect", "padding when centred", type="str", choices=("reflect", "constant")),
    Param("power", 2.0, "exponent of the magnitude spectrogram (2: power, 1: magnitude)", type="float", low=0,
          low_open=True),
    HTK_PARAM,
    FMIN_PARAM,
    FMAX_PARAM,
    mel_norm_param("norm", 1),
    Param("trainable_mel", False, "make the mel filterbank an nn.Parameter", type="bool"),
    Param("trainable_STFT", False, "make the STFT kernels an nn.Parameter", type="bool"),
    BACKEND_PARAM,
)


def _check_backend(config: dict[str, Any]) -> None:
    if config["backend"] == "fft" and config["trainable_STFT"]:
        raise ParameterError(
            "backend", "fft", "the fft path uses fixed STFT kernels; with trainable_STFT=True use 'conv' or 'auto'"
        )


def _power_kind(power: float) -> str:
    return POWER if power == 2.0 else MAGNITUDE if power == 1.0 else FEATURES


# ------------------------------------------------------------------------------------------------
# mel
# ------------------------------------------------------------------------------------------------
class MelSpectrogram(KernelTransform):
    """Mel spectrogram of a waveform: ``mel_basis @ |STFT(x)| ** power``.

    The spectrogram comes from an :class:`~nnaudio_plugins.stft.STFT` child (attribute ``stft``;
    for ``power == 2`` it returns ``|X| ** 2 = re ** 2 + im ** 2``, without a square root;
    otherwise its magnitude raised to ``power``); the filterbank is this transform's kernel
    ``mel_basis`` of shape ``(n_mels, n_fft // 2 + 1)``, from
    :func:`~nnaudio_core.kernels.mel.mel_filterbank`. With ``pad_mode`` given explicitly this is
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
    trainable_mel : bool
        Make ``mel_basis`` an ``nn.Parameter``.
    trainable_STFT : bool
        Make the STFT child's Fourier kernels an ``nn.Parameter`` (forces its ``conv`` path).
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

    def has_fft_path(self) -> bool:
        return True  # the STFT child works on the FFT grid; it resolves its own path

    def kernel_is_trainable(self, name: str) -> bool:
        return bool(self.config["trainable_mel"]) if name == "mel_basis" else False

    def setup(self) -> None:
        c = self.config
        self.power: float = c["power"]
        self.n_mels: int = c["n_mels"]
        self.fmax: float = check_mel_range(dict(c))
        optional = {k: c[k] for k in ("win_length", "hop_length") if c[k] is not None}
        self.stft = STFT(
            n_fft=c["n_fft"],
            **optional,
            window=c["window"],
            center=c["center"],
            pad_mode=c["pad_mode"],
            sr=c["sr"],
            trainable=c["trainable_STFT"],
            # power 2: |X|^2 without a square root; other powers: the magnitude, raised to the power.
            output_format="Power" if self.power == 2.0 else "Magnitude",
            backend=c["backend"],
        )
        self.backend = self.stft.backend
        self._mel_basis64 = mel_filterbank(
            sr=c["sr"], n_fft=c["n_fft"], n_mels=c["n_mels"], fmin=c["fmin"], fmax=self.fmax, htk=c["htk"],
            norm=filter_norm(c["norm"]),
        )
        #: Centre frequency in Hz of the FFT bins the filters read, shape (n_fft // 2 + 1,).
        self.frequencies: np.ndarray = self.stft.frequencies
        #: Blocks of the frozen filterbank that hold its non-zero weights (None when trainable).
        self.blocks = None if c["trainable_mel"] else filter_groups(self._mel_basis64)

    def build_kernels(self) -> dict[str, np.ndarray]:
        return {"mel_basis": self._mel_basis64}

    def validate_input(self, x: Tensor) -> None:
        self.stft.validate_input(x)

    def compute(self, x: Tensor) -> Tensor:
        spec = self.stft.compute(x)
        if self.power not in (1.0, 2.0):
            spec = spec**self.power
        return apply_filterbank(self.mel_basis, spec, self.blocks)

    def output_kind(self, input_kind: str = WAVEFORM) -> str:
        if input_kind != WAVEFORM:
            raise ValueError(f"mel takes a waveform, not {input_kind}")
        return _power_kind(self.power)


# ------------------------------------------------------------------------------------------------
# mfcc
# ------------------------------------------------------------------------------------------------
def check_dct_type(value: Any) -> str | None:
    """Only the type-II DCT is implemented."""
    return None if value == 2 else "2 (only the type-II DCT is implemented, as in nnAudio)"


DCT_NORM_PARAM = Param("norm", "ortho", "DCT normalisation: 'ortho' (orthonormal) or None (scipy's unnormalised)",
                       type="str", choices=("ortho",), optional=True)
DCT_TYPE_PARAM = Param("dct_type", 2, "DCT type (only 2)", type="int", choices=(2,), check=check_dct_type)
LIFTER_PARAM = Param("lifter", 0.0, "cepstral liftering coefficient (0: none), as librosa", type="float", low=0)

_MFCC_PARAMS = (
    SR_PARAM,
    Param("n_mfcc", 20, "number of coefficients, <= n_mels", type="int", low=1),
    DCT_NORM_PARAM,
    *db_params(1e-10),
    *(mel_norm_param("mel_norm", 1) if p.name == "norm" else p for p in _MEL_PARAMS if p.name != "sr"),
    DCT_TYPE_PARAM,
    LIFTER_PARAM,
)


class MFCC(KernelTransform):
    """Mel-frequency cepstral coefficients: ``dct(power_to_db(mel(x)))[:n_mfcc]``.

    A :class:`MelSpectrogram` child (attribute ``mel``) gives the mel spectrogram; it is converted
    to decibels with ``top_db`` applied **per example** (each batch item against its own maximum,
    never the batch's), then multiplied by the kernel ``dct_basis`` of shape ``(n_mfcc, n_mels)``:
    the first ``n_mfcc`` rows of the type-II DCT matrix, liftering folded in. Equal to
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
trainable_mel, trainable_STFT, backend
        As :class:`MelSpectrogram`.
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

    def has_fft_path(self) -> bool:
        return True

    def kernel_is_trainable(self, name: str) -> bool:
        return False

    def setup(self) -> None:
        c = self.config
        mel_args = {p.name: c[p.name] for p in _MEL_PARAMS if p.name != "norm"}
        self.mel = MelSpectrogram(norm=c["mel_norm"], **mel_args)
        self.backend = self.mel.backend
        self.n_mfcc: int = c["n_mfcc"]
        self.db_args: dict[str, Any] = {"ref": c["ref"], "amin": c["amin"], "top_db": c["top_db"]}

    def build_kernels(self) -> dict[str, np.ndarray]:
        c = self.config
        basis = dct_matrix(c["n_mels"], c["n_mfcc"], norm=c["norm"])
        return {"dct_basis": basis * lifter_weights(c["n_mfcc"], c["lifter"])[:, None]}

    def validate_input(self, x: Tensor) -> None:
        self.mel.validate_input(x)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the transform; see the class docstring for shapes and the ``top_db`` grouping."""
        leading, folded = self.fold_input(x)
        return self._mfcc(folded, leading)

    def compute(self, x: Tensor) -> Tensor:
        """MFCCs of a folded batch ``(N, time)``; each row is its own example."""
        return self._mfcc(x, (x.shape[0],))

    def _mfcc(self, folded: Tensor, leading: tuple[int, ...]) -> Tensor:
        mel = self.mel.compute(folded)
        mel = mel.reshape(tuple(leading) + tuple(mel.shape[1:]))
        db = power_to_db(mel, batched=len(leading) > 0, **self.db_args)
        return torch.matmul(self.dct_basis, db)

    def output_kind(self, input_kind: str = WAVEFORM) -> str:
        if input_kind != WAVEFORM:
            raise ValueError(f"mfcc takes a waveform, not {input_kind}")
        return FEATURES


@hookimpl
def nnaudio_register_transforms(register):
    register(MelSpectrogram, aliases=("melspectrogram",))
    register(MFCC)
