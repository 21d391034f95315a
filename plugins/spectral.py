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
from nnaudio_plugins.mel import (
    DCT_NORM_PARAM,
    DCT_TYPE_PARAM,
    FMAX_PARAM,
    FMIN_PARAM,
    HTK_PARAM,
    LIFTER_PARAM,
    N_MELS_PARAM,
    SR_PARAM,
    check_mel_range,
    db_params,
    filter_norm,
    mel_norm_param,
)
from torch import Tensor

from nnaudio_core import KernelTransform, hookimpl
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.spectral import amplitude_to_db, apply_filterbank, power_to_db
from nnaudio_core.kernels.dct import dct_matrix, lifter_weights
from nnaudio_core.kernels.mel import filter_groups, mel_filterbank
from nnaudio_core.params import Param
from nnaudio_core.transform import DECIBELS, FEATURES, MAGNITUDE, POWER, TRAINABLE_PARAM


class _SpectrogramStep(KernelTransform):
    """Common checks of the spectrogram-in steps."""

    core_dims = 2

    def output_kind(self, input_kind: str = POWER) -> str:
        if input_kind not in self.input_kinds:
            raise ValueError(f"{self.name} takes {' or '.join(sorted(self.input_kinds))} input, not {input_kind}")
        return self._output_kind(input_kind)

    def _output_kind(self, input_kind: str) -> str:
        raise NotImplementedError

    def _check_bins(self, x: Tensor, expected: int, what: str) -> None:
        if x.shape[-2] != expected:
            raise ValueError(
                f"{self.name}: input of shape {tuple(x.shape)} has {x.shape[-2]} frequency rows (dim -2); "
                f"this step was built for {what}"
            )


class MelScale(_SpectrogramStep):
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
        return config

    def setup(self) -> None:
        c = self.config
        self.n_bins: int = c["n_fft"] // 2 + 1
        self._mel_basis64 = mel_filterbank(
            sr=c["sr"], n_fft=c["n_fft"], n_mels=c["n_mels"], fmin=c["fmin"], fmax=check_mel_range(dict(c)),
            htk=c["htk"], norm=filter_norm(c["norm"]),
        )
        #: Blocks of the frozen filterbank that hold its non-zero weights (None when trainable).
        self.blocks = None if c["trainable"] else filter_groups(self._mel_basis64)

    def build_kernels(self) -> dict[str, np.ndarray]:
        return {"mel_basis": self._mel_basis64}

    def validate_input(self, x: Tensor) -> None:
        self._check_bins(x, self.n_bins, f"n_fft={self.config['n_fft']}, i.e. n_fft // 2 + 1 = {self.n_bins} rows; "
                                         "set n_fft to the STFT's")

    def compute(self, x: Tensor) -> Tensor:
        return apply_filterbank(self.mel_basis, x, self.blocks)

    def _output_kind(self, input_kind: str) -> str:
        return input_kind


class _ToDB(_SpectrogramStep):
    def forward(self, x: Tensor) -> Tensor:
        """Convert ``x``; ``top_db`` applies per example (see the class docstring)."""
        self.fold_input(x)  # shape, dtype and finiteness checks
        return self._convert(x, batched=x.dim() > 2)

    def compute(self, x: Tensor) -> Tensor:
        """Convert a folded batch ``(N, freq, frames)``; each item is its own example."""
        return self._convert(x, batched=True)

    def _convert(self, x: Tensor, *, batched: bool) -> Tensor:
        raise NotImplementedError

    def _output_kind(self, input_kind: str) -> str:
        return DECIBELS


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
    params = db_params(1e-10)

    def _convert(self, x: Tensor, *, batched: bool) -> Tensor:
        c = self.config
        return power_to_db(x, ref=c["ref"], amin=c["amin"], top_db=c["top_db"], batched=batched)


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
    params = db_params(1e-5)

    def _convert(self, x: Tensor, *, batched: bool) -> Tensor:
        c = self.config
        return amplitude_to_db(x, ref=c["ref"], amin=c["amin"], top_db=c["top_db"], batched=batched)


class DCT(_SpectrogramStep):
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
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        if config["n_coefficients"] > config["n_bands"]:
            n_bands = config["n_bands"]
            raise ParameterError(
                "n_coefficients", config["n_coefficients"], f"expected 1 <= n_coefficients <= n_bands = {n_bands}"
            )
        return config

    def kernel_is_trainable(self, name: str) -> bool:
        return False

    def build_kernels(self) -> dict[str, np.ndarray]:
        c = self.config
        basis = dct_matrix(c["n_bands"], c["n_coefficients"], norm=c["norm"])
        return {"dct_basis": basis * lifter_weights(c["n_coefficients"], c["lifter"])[:, None]}

    def validate_input(self, x: Tensor) -> None:
        self._check_bins(x, self.config["n_bands"], f"n_bands={self.config['n_bands']}; set n_bands to the mel step's "
                                                    "n_mels")

    def compute(self, x: Tensor) -> Tensor:
        return torch.matmul(self.dct_basis, x)

    def _output_kind(self, input_kind: str) -> str:
        return FEATURES


@hookimpl
def nnaudio_register_transforms(register):
    register(MelScale)
    register(PowerToDB)
    register(AmplitudeToDB)
    register(DCT)
