"""The ``gammatonegram`` transform and the ``gammatone_scale`` step, with nnAudio's arguments.

Registered through the ``nnaudio.transforms`` entry point ``gammatone = "nnaudio_plugins.gammatone"``.

``gammatonegram`` is a composite like ``mel``: an :class:`~nnaudio_plugins.stft.STFT` child
(``stft``) giving ``|X| ** power`` and a :class:`GammatoneScale` child (``gammatone_scale``)
multiplying by the filterbank of :func:`nnaudio_core.kernels.gammatone.gammatone_filterbank`. The
same computation step by step is ``stft (Power) → gammatone_scale``.

Compatibility with nnAudio 0.3.4
--------------------------------
``Gammatonegram(sr, n_fft, win_length, n_bins, hop_length, window, center, pad_mode, power, htk,
fmin, fmax, norm, trainable_bins, trainable_STFT)``: the same defaults and numbers (within 1e-3 of
the output scale). nnAudio accepts ``htk`` and ``norm`` and ignores them (the gammatone filterbank
has neither a mel scale nor a normalisation); this transform has no such parameters, and the
nnAudio facade ``Spectrogram.Gammatonegram`` warns when they are given other values.
``trainable_bins`` / ``trainable_STFT`` are ``trainable_filters`` / ``trainable_stft`` here.
``width`` (the bandwidth in ERBs, 1 in nnAudio) is new.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from nnaudio_plugins.declarations import SR_PARAM, params_of
from nnaudio_plugins.stft import STFT
from torch import Tensor

from nnaudio_core import KernelTransform, hookimpl
from nnaudio_core.budget import check_memory
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.spectral import apply_filterbank, dtype_max, magnitude_power
from nnaudio_core.kernels.gammatone import gammatone_filterbank, gammatone_frequencies
from nnaudio_core.kinds import FEATURES, MAGNITUDE, POWER, SignalInfo
from nnaudio_core.params import Param
from nnaudio_core.transform import TRAINABLE_PARAM, Batch, SpectrogramStep

N_BINS_PARAM = Param("n_bins", 64, "number of gammatone bands", type="int", low=1, high=100_000)
FMIN_PARAM = Param("fmin", 0.0, "lowest centre frequency in Hz", type="float", low=0)
FMAX_PARAM = Param("fmax", None, "highest centre frequency bound in Hz (None: sr / 2)", type="float", low=0,
                   low_open=True, optional=True)
WIDTH_PARAM = Param("width", 1.0, "bandwidth of each filter in ERBs", type="float", low=0, low_open=True, high=1e3)


def check_range(config: dict[str, Any]) -> float:
    """Check ``0 <= fmin < fmax <= sr / 2``; return ``fmax`` with ``None`` resolved to ``sr / 2``."""
    nyquist = config["sr"] / 2
    fmax = nyquist if config["fmax"] is None else config["fmax"]
    if fmax > nyquist:
        raise ParameterError("fmax", config["fmax"], f"expected 0 < fmax <= sr / 2 = {nyquist:g} Hz, or None for sr / 2")
    if config["fmin"] >= fmax:
        raise ParameterError("fmin", config["fmin"], f"expected 0 <= fmin < fmax = {fmax:g} Hz")
    return fmax


class GammatoneScale(SpectrogramStep):
    """Map a power or magnitude spectrogram to gammatone bands: ``gammatone_basis @ S``.

    The kernel ``gammatone_basis`` of shape ``(n_bins, n_fft // 2 + 1)`` comes from
    :func:`~nnaudio_core.kernels.gammatone.gammatone_filterbank` (nnAudio's ``get_gammatone``:
    Ellis' ``fft2gammatonemx`` divided by ``n_fft``). The output kind equals the input kind.

    Parameters
    ----------
    sr : float
        Sample rate in Hz of the analysed audio (default 22050).
    n_fft : int
        FFT length of the spectrogram; its frequency axis must have ``n_fft // 2 + 1`` rows.
    n_bins : int
        Number of bands (default 64).
    fmin, fmax : float
        Centre frequency range in Hz, ``0 <= fmin < fmax <= sr / 2`` (``fmax=None``: ``sr / 2``).
    width : float
        Filter bandwidth in ERBs (default 1).
    trainable : bool
        Make ``gammatone_basis`` an ``nn.Parameter``.

    Shape
    -----
    ``(..., n_fft // 2 + 1, frames)`` → ``(..., n_bins, frames)``.

    Examples
    --------
    >>> step = GammatoneScale(sr=16000, n_fft=512, n_bins=32)
    >>> step(torch.rand(3, 257, 10)).shape
    torch.Size([3, 32, 10])
    """

    name = "gammatone_scale"
    input_kinds = frozenset({POWER, MAGNITUDE})
    params = (
        SR_PARAM,
        Param("n_fft", 2048, "FFT length of the input spectrogram (n_fft // 2 + 1 rows)", type="int", low=2,
              high=2**24),
        N_BINS_PARAM,
        FMIN_PARAM,
        FMAX_PARAM,
        WIDTH_PARAM,
        TRAINABLE_PARAM,
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        check_range(config)
        sizes = {"n_bins": config["n_bins"], "n_fft": config["n_fft"]}
        check_memory(6 * 8 * config["n_bins"] * (config["n_fft"] // 2 + 1), "gammatone filterbank", sizes)
        return config

    def setup(self) -> None:
        c = self.config
        self.n_rows: int = c["n_fft"] // 2 + 1
        self.fmax: float = check_range(dict(c))

    def build_kernels(self) -> dict[str, np.ndarray]:
        c = self.config
        return {"gammatone_basis": gammatone_filterbank(sr=c["sr"], n_fft=c["n_fft"], n_bins=c["n_bins"],
                                                        fmin=c["fmin"], fmax=self.fmax, width=c["width"])}

    def expected_rows(self) -> int:
        return self.n_rows

    def rows_hint(self) -> str:
        return f"n_fft={self.config['n_fft']} gives n_fft // 2 + 1 = {self.n_rows} rows: set n_fft to the STFT's"

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        return apply_filterbank(self.gammatone_basis, x, None)

    @property
    def frequencies(self) -> np.ndarray:
        """Centre frequency in Hz of each band, shape ``(n_bins,)``, ascending."""
        c = self.config
        return gammatone_frequencies(c["n_bins"], fmin=c["fmin"], fmax=self.fmax)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        kind = POWER if upstream is None else upstream.kind
        sr = self.config["sr"] if upstream is None or upstream.sr is None else upstream.sr
        return self.passthrough_info(upstream, kind, sr=sr, frequencies=self.frequencies)


_PART_SWITCHES = (
    Param("trainable_stft", None, "make the STFT kernels nn.Parameters (None: as trainable; nnAudio's "
          "trainable_STFT)", type="bool", optional=True),
    Param("trainable_filters", None, "make the gammatone filterbank an nn.Parameter (None: as trainable; "
          "nnAudio's trainable_bins)", type="bool", optional=True),
)


def _part(config: dict[str, Any], switch: str) -> bool:
    value = config[switch]
    return bool(config["trainable"]) if value is None else bool(value)


class Gammatonegram(KernelTransform):
    """Gammatonegram of a waveform: ``gammatone_basis @ |STFT(x)| ** power`` (nnAudio's ``Gammatonegram``).

    An :class:`~nnaudio_plugins.stft.STFT` child (``stft``; ``|X| ** 2`` without a square root for
    ``power=2``) and a :class:`GammatoneScale` child (``gammatone_scale``) whose kernel
    ``gammatone_basis`` ``(n_bins, n_fft // 2 + 1)`` is nnAudio's ``get_gammatone`` filterbank.

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
        Padding when centred (default ``"reflect"``, as nnAudio).
    power : float
        Exponent of the magnitude, ``> 0`` (default 2).
    fmin, fmax : float
        Centre frequency range in Hz (default 0 and ``sr / 2``).
    width : float
        Filter bandwidth in ERBs (default 1, nnAudio's).
    trainable : bool
        Make every kernel an ``nn.Parameter``.
    trainable_stft, trainable_filters : bool, optional
        Override ``trainable`` for the STFT kernels / the filterbank.
    backend : {"auto", "conv", "fft"}
        Computation path of the STFT child.

    Shape
    -----
    ``(time,)``, ``(batch, time)`` or ``(batch, channels, time)`` → ``(..., n_bins, frames)``.

    Examples
    --------
    >>> layer = Gammatonegram(sr=16000, n_fft=512, hop_length=160, n_bins=32)
    >>> layer(torch.randn(2, 16000)).shape
    torch.Size([2, 32, 101])
    """

    name = "gammatonegram"
    params = (
        *params_of(STFT.params, "sr", "n_fft", "win_length"),
        N_BINS_PARAM,
        *params_of(STFT.params, "hop_length", "window", "center", "pad_mode", hop_length=512),
        Param("power", 2.0, "exponent of the magnitude spectrogram (2: power, 1: magnitude)", type="float", low=0,
              high=16, low_open=True),
        FMIN_PARAM,
        FMAX_PARAM,
        WIDTH_PARAM,
        TRAINABLE_PARAM,
        *_PART_SWITCHES,
        *params_of(STFT.params, "backend"),
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        check_range(config)
        if config["backend"] == "fft" and _part(config, "trainable_stft"):
            raise ParameterError("backend", "fft", "the fft path uses fixed STFT kernels; with trainable=True or "
                                 "trainable_stft=True use 'conv' or 'auto'")
        return config

    def setup(self) -> None:
        c = self.config
        self.power: float = c["power"]
        optional = {k: c[k] for k in ("win_length", "hop_length") if c[k] is not None}
        self.stft = STFT(
            n_fft=c["n_fft"], **optional, window=c["window"], center=c["center"], pad_mode=c["pad_mode"], sr=c["sr"],
            trainable=_part(dict(c), "trainable_stft"),
            output_format="Magnitude" if self.power == 1.0 else "Power", backend=c["backend"],
        )
        self.gammatone_scale = GammatoneScale(
            sr=c["sr"], n_fft=c["n_fft"], n_bins=c["n_bins"], fmin=c["fmin"], fmax=c["fmax"], width=c["width"],
            trainable=_part(dict(c), "trainable_filters"),
        )

    @property
    def gammatone_basis(self) -> Tensor:
        """The filterbank ``(n_bins, n_fft // 2 + 1)`` (the ``gammatone_scale`` child's kernel)."""
        return self.gammatone_scale.gammatone_basis

    def validate_input(self, x: Tensor) -> None:
        self.stft.validate_input(x)

    def frame_count(self, length: int) -> int:
        return self.stft.frame_count(length)

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        spec = self.stft.compute(x, batch)
        if self.power != 1.0 and self.power != 2.0:
            spec = magnitude_power(spec, self.power)
        # |X|^2 overflowing to inf would give inf * 0 = NaN in the product (see the mel transform)
        largest = dtype_max(spec.dtype)
        spec = spec.clamp(max=largest) if self.power == 1.0 else spec.clamp_(max=largest)
        return self.gammatone_scale.compute(spec, batch)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        spectrum = self.stft.output_info(upstream)
        kind = POWER if self.power == 2.0 else MAGNITUDE if self.power == 1.0 else FEATURES
        return self.gammatone_scale.output_info(spectrum.with_(kind=POWER)).with_(kind=kind)


@hookimpl
def nnaudio_register_transforms(register):
    register(GammatoneScale)
    register(Gammatonegram)
