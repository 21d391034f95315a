"""Spectrogram-in steps: ``mel_scale``, ``power_to_db``, ``amplitude_to_db`` and ``dct``.

Registered through the ``nnaudio.transforms`` entry point ``spectral = "nnaudio_plugins.spectral"``.
Each takes ``(freq, frames)``, ``(batch, freq, frames)`` or ``(batch, channels, freq, frames)`` and
declares the kinds of data it accepts and produces, so :func:`nnaudio_core.build_transform`
rejects chains that do not fit (``power_to_db`` after a magnitude STFT, ``dct`` before decibels)::

    pipeline:
      - stft: {n_fft: 2048, hop_length: 512, output_format: Power}
      - mel_scale: {sr: 22050, n_fft: 2048, n_mels: 128}
      - power_to_db: {top_db: 80}
      - dct: {n_bands: 128, n_coefficients: 20}

is the ``mfcc`` transform with the same settings (bundled as the spec ``mfcc_chain``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from nnaudio_plugins.declarations import (
    DB_PARAMS_AMPLITUDE,
    DB_PARAMS_POWER,
    DCT_NORM_PARAM,
    DCT_TYPE_PARAM,
    FMAX_PARAM,
    FMIN_PARAM,
    HTK_PARAM,
    LIFTER_PARAM,
    N_MELS_PARAM,
    SR_PARAM,
    check_mel_range,
    filter_norm,
    mel_norm_param,
)
from torch import Tensor

from nnaudio_core import hookimpl
from nnaudio_core.budget import check_memory
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.spectral import amplitude_to_db, apply_filterbank, db_scale, power_to_db
from nnaudio_core.kernels.dct import dct_matrix, lifter_weights
from nnaudio_core.kernels.mel import filter_groups, mel_filterbank, mel_frequencies
from nnaudio_core.kinds import DECIBELS, FEATURES, MAGNITUDE, POWER, SignalInfo
from nnaudio_core.params import Param
from nnaudio_core.transform import TRAINABLE_PARAM, Batch, SpectrogramStep


class MelScale(SpectrogramStep):
    """Map a power or magnitude spectrogram to mel bands: ``mel_basis @ S``.

    The kernel ``mel_basis`` of shape ``(n_mels, n_fft // 2 + 1)`` comes from
    :func:`~nnaudio_core.kernels.mel.mel_filterbank`. The output kind equals the input kind (a power
    spectrogram gives a mel power spectrogram).

    Parameters
    ----------
    sr : float
        Sample rate in Hz of the analysed audio (default 22050).
    n_fft : int
        FFT length of the spectrogram; its frequency axis must have ``n_fft // 2 + 1`` rows.
    n_mels : int
        Number of mel bands, ``>= 1`` (default 128).
    fmin, fmax : float
        Filter corner range in Hz, ``0 <= fmin < fmax <= sr / 2`` (``fmax=None``: ``sr / 2``).
    htk : bool
        HTK mel scale (``True``) or Slaney's (``False``).
    norm : {"slaney", 1, None, "l1"} or float
        Filter normalisation (default ``"slaney"``; ``1`` is the same, as nnAudio).
    trainable : bool
        Make ``mel_basis`` an ``nn.Parameter``.

    Shape
    -----
    ``(..., n_fft // 2 + 1, frames)`` → ``(..., n_mels, frames)``.

    Examples
    --------
    >>> step = MelScale(sr=16000, n_fft=512, n_mels=40)
    >>> step(torch.rand(3, 257, 10)).shape
    torch.Size([3, 40, 10])
    """

    name = "mel_scale"
    input_kinds = frozenset({POWER, MAGNITUDE})
    params = (
        SR_PARAM,
        Param("n_fft", 2048, "FFT length of the input spectrogram (n_fft // 2 + 1 rows)", type="int", low=1),
        N_MELS_PARAM,
        FMIN_PARAM,
        FMAX_PARAM,
        HTK_PARAM,
        mel_norm_param("norm", "slaney"),
        TRAINABLE_PARAM,
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        check_mel_range(config)
        sizes = {"n_mels": config["n_mels"], "n_fft": config["n_fft"]}
        check_memory(4 * 8 * config["n_mels"] * (config["n_fft"] // 2 + 1), "mel filterbank", sizes)
        return config

    def setup(self) -> None:
        c = self.config
        self.n_bins: int = c["n_fft"] // 2 + 1
        self.fmax: float = check_mel_range(dict(c))
        self._mel_basis64 = mel_filterbank(
            sr=c["sr"], n_fft=c["n_fft"], n_mels=c["n_mels"], fmin=c["fmin"], fmax=self.fmax, htk=c["htk"],
            norm=filter_norm(c["norm"]),
        )
        #: Blocks of the frozen filterbank that hold its non-zero weights (None when trainable).
        self.blocks: list[tuple[int, int, int, int]] | None = (
            None if self.trains_kernels else [tuple(int(v) for v in b) for b in filter_groups(self._mel_basis64)]
        )

    def build_kernels(self) -> dict[str, np.ndarray]:
        return {"mel_basis": self._mel_basis64}

    def expected_rows(self) -> int:
        return self.n_bins

    def rows_hint(self) -> str:
        return f"n_fft={self.config['n_fft']} gives n_fft // 2 + 1 = {self.n_bins} rows: set n_fft to the STFT's"

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        return apply_filterbank(self.mel_basis, x, self.blocks)

    @property
    def frequencies(self) -> np.ndarray:
        """Centre frequency in Hz of each mel band, shape ``(n_mels,)``."""
        c = self.config
        return mel_frequencies(c["n_mels"] + 2, fmin=c["fmin"], fmax=self.fmax, htk=c["htk"])[1:-1]

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        kind = POWER if upstream is None else upstream.kind
        sr = self.config["sr"] if upstream is None or upstream.sr is None else upstream.sr
        return self.passthrough_info(upstream, kind, sr=sr, frequencies=self.frequencies)


class _ToDB(SpectrogramStep):
    """Decibels with ``top_db`` and ``ref="max"`` per example (all rows of one ``Batch`` example)."""

    #: The conversion: functional.power_to_db or functional.amplitude_to_db.
    convert = staticmethod(power_to_db)
    #: Decibels per decade of the input: 10 for power, 20 for amplitude.
    multiplier: float = 10.0

    def setup(self) -> None:
        c = self.config
        # plain attributes for the (scriptable) compute: ref "max" becomes a flag
        self.ref_max: bool = c["ref"] == "max"
        self.ref_value: float = 1.0 if self.ref_max else float(c["ref"])
        self.amin: float = float(c["amin"])
        self.top_db: float | None = None if c["top_db"] is None else float(c["top_db"])
        self.db_multiplier: float = self.multiplier

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        grouped = x.reshape([batch.examples, -1] + list(x.shape[1:]))
        db = db_scale(grouped, self.db_multiplier, self.ref_value, self.ref_max, self.amin, self.top_db, True)
        return db.reshape(x.shape)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        return self.passthrough_info(upstream, DECIBELS)


class PowerToDB(_ToDB):
    """Power spectrogram → decibels: ``10 log10(max(S, amin) / max(ref, amin))``, floored per example.

    With ``top_db``, values more than ``top_db`` below the maximum of *their own example* are raised
    to that floor: each ``(freq, frames)`` item of a ``(batch, freq, frames)`` input, and each batch
    item (all channels together) of a ``(batch, channels, freq, frames)`` input; never the whole
    batch. A 2-D input is one example. Equal to ``librosa.power_to_db`` per example.

    Parameters
    ----------
    ref : float or "max"
        Reference power for 0 dB, ``> 0`` (default 1.0), or ``"max"``: each example's maximum.
    amin : float
        Smallest power before the logarithm, ``> 0`` (default 1e-10).
    top_db : float, optional
        Dynamic range kept, ``>= 0`` (default 80); ``None``: no floor.

    Shape
    -----
    ``(freq, frames)``, ``(batch, freq, frames)`` or ``(batch, channels, freq, frames)``, unchanged.

    Examples
    --------
    >>> step = PowerToDB(top_db=60.0)
    >>> step(torch.tensor([[[1.0, 1e-9]], [[1e-4, 1e-9]]]))
    tensor([[[  0., -60.]],
    <BLANKLINE>
            [[-40., -90.]]])
    """

    name = "power_to_db"
    input_kinds = frozenset({POWER})
    params = DB_PARAMS_POWER
    convert = staticmethod(power_to_db)


class AmplitudeToDB(_ToDB):
    """Magnitude spectrogram → decibels: ``20 log10(max(S, amin) / max(ref, amin))``, floored per example.

    ``top_db`` applies per example exactly as in :class:`PowerToDB`. Equal to
    ``librosa.amplitude_to_db`` per example.

    Parameters
    ----------
    ref : float or "max"
        Reference amplitude for 0 dB, ``> 0`` (default 1.0), or ``"max"``: each example's maximum.
    amin : float
        Smallest amplitude before the logarithm, ``> 0`` (default 1e-5).
    top_db : float, optional
        Dynamic range kept, ``>= 0`` (default 80); ``None``: no floor.

    Shape
    -----
    ``(freq, frames)``, ``(batch, freq, frames)`` or ``(batch, channels, freq, frames)``, unchanged.

    Examples
    --------
    >>> AmplitudeToDB(top_db=None)(torch.tensor([[10.0, 1.0]]))
    tensor([[20.,  0.]])
    """

    name = "amplitude_to_db"
    input_kinds = frozenset({MAGNITUDE})
    params = DB_PARAMS_AMPLITUDE
    convert = staticmethod(amplitude_to_db)
    multiplier = 20.0


class DCT(SpectrogramStep):
    """Type-II DCT along the frequency axis, keeping the first ``n_coefficients`` (cepstral coefficients).

    ``y = dct_basis @ x`` with the kernel ``dct_basis`` of shape ``(n_coefficients, n_bands)``:
    the rows of :func:`~nnaudio_core.kernels.dct.dct_matrix`, times the liftering weights. Equal to
    ``scipy.fft.dct(x, type=2, norm=norm, axis=-2)[..., :n_coefficients, :]`` and, after
    ``power_to_db`` of a mel spectrogram, to ``librosa.feature.mfcc``.

    Parameters
    ----------
    n_bands : int
        Number of input frequency rows (the mel step's ``n_mels``), ``>= 1`` (default 128).
    n_coefficients : int
        Coefficients kept, ``1 <= n_coefficients <= n_bands`` (default 20).
    dct_type : int
        Only 2.
    norm : {"ortho", None}
        DCT normalisation, as scipy (default ``"ortho"``).
    lifter : float
        Liftering ``1 + (lifter / 2) sin(pi (k + 1) / lifter)`` on coefficient ``k``, ``>= 0``
        (0: none).

    Shape
    -----
    ``(..., n_bands, frames)`` → ``(..., n_coefficients, frames)``.

    Examples
    --------
    >>> DCT(n_bands=40, n_coefficients=13)(torch.randn(2, 40, 7)).shape
    torch.Size([2, 13, 7])
    """

    name = "dct"
    input_kinds = frozenset({DECIBELS})
    params = (
        Param("n_bands", 128, "number of input frequency rows (the mel step's n_mels)", type="int", low=1),
        Param("n_coefficients", 20, "number of coefficients kept, <= n_bands", type="int", low=1),
        DCT_TYPE_PARAM,
        DCT_NORM_PARAM,
        LIFTER_PARAM,
        TRAINABLE_PARAM,
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        if config["n_coefficients"] > config["n_bands"]:
            n_bands = config["n_bands"]
            raise ParameterError(
                "n_coefficients", config["n_coefficients"], f"expected 1 <= n_coefficients <= n_bands = {n_bands}"
            )
        sizes = {"n_bands": config["n_bands"], "n_coefficients": config["n_coefficients"]}
        check_memory(3 * 8 * config["n_bands"] * config["n_coefficients"], "DCT matrix", sizes)
        return config

    def build_kernels(self) -> dict[str, np.ndarray]:
        c = self.config
        basis = dct_matrix(c["n_bands"], c["n_coefficients"], norm=c["norm"])
        return {"dct_basis": basis * lifter_weights(c["n_coefficients"], c["lifter"])[:, None]}

    def expected_rows(self) -> int:
        return self.config["n_bands"]

    def rows_hint(self) -> str:
        return f"n_bands={self.config['n_bands']}: set n_bands to the mel step's n_mels"

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        return apply_filterbank(self.dct_basis, x)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        return self.passthrough_info(upstream, FEATURES, frequencies=None, axes=("coefficient", "frames"))


@hookimpl
def nnaudio_register_transforms(register):
    register(MelScale)
    register(PowerToDB)
    register(AmplitudeToDB)
    register(DCT)
