"""Chromagrams: the ``chroma`` step and the ``chroma_stft`` / ``chroma_cqt`` transforms (librosa's).

Registered through the ``nnaudio.transforms`` entry point ``chroma = "nnaudio_plugins.chroma"``.

* ``chroma`` (a :class:`~nnaudio_core.SpectrogramStep`): folds a power STFT (``source="stft"``,
  the filterbank of :func:`nnaudio_core.kernels.chroma.chroma_filterbank`) or a constant-Q
  magnitude (``source="cqt"``, :func:`nnaudio_core.kernels.chroma.cq_to_chroma`) into pitch
  classes, sets values below ``threshold`` to zero and normalises each frame
  (:func:`nnaudio_core.functional.chroma.normalize_frames`: ``norm=inf`` divides by the frame's
  maximum; silent frames stay zero).
* ``chroma_stft``: ``librosa.feature.chroma_stft`` on the waveform: an ``stft`` child giving
  ``|X| ** 2`` and a ``chroma`` child.
* ``chroma_cqt``: ``librosa.feature.chroma_cqt`` on the waveform: a ``cqt2019`` child (magnitude,
  ``n_octaves * bins_per_octave`` bins) and a ``chroma`` child.

``tuning`` is a fixed number of chroma bins (default 0.0); librosa's ``tuning=None`` (estimated
from the signal) is not available: estimate it once with ``librosa.estimate_tuning`` and pass it.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import torch
from nnaudio_plugins.cqt import CQT2019
from nnaudio_plugins.declarations import SR_PARAM, params_of
from nnaudio_plugins.stft import STFT
from torch import Tensor

from nnaudio_core import KernelTransform, hookimpl
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.chroma import normalize_frames, threshold_below
from nnaudio_core.functional.dtypes import dtype_max, dtype_tiny, is_half
from nnaudio_core.functional.spectral import apply_filterbank
from nnaudio_core.kernels.chroma import C1_HZ, chroma_filterbank, cq_to_chroma
from nnaudio_core.kernels.cqt import max_cqt_bins
from nnaudio_core.kinds import FEATURES, MAGNITUDE, POWER, SignalInfo
from nnaudio_core.params import Param
from nnaudio_core.transform import TRAINABLE_PARAM, Batch, SpectrogramStep

SOURCES = ("stft", "cqt")


def check_frame_norm(value: Any) -> str | None:
    """A frame ``norm``: ``None``, ``inf``, ``-inf``, ``0`` or a p-norm order ``> 0``."""
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value) and value >= 0:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and value == -math.inf:
        return None
    return "None (no normalisation), inf (each frame's maximum, librosa's default), -inf, 0 or a p-norm order > 0"


def _frame_norm(value: Any) -> float | None:
    return None if value is None else float(value)


NORM_PARAM = Param("norm", math.inf, "frame normalisation: each frame divided by its norm (inf: its maximum, as "
                   "librosa; 1, 2, ...: p-norms; None: none); silent frames stay zero", type="any", optional=True,
                   check=check_frame_norm, allowed_text="None, inf, -inf, 0 or a p-norm order > 0")
N_CHROMA_PARAM = Param("n_chroma", 12, "number of pitch classes (12: semitones)", type="int", low=1, high=10_000)
TUNING_PARAM = Param("tuning", 0.0, "tuning deviation from A440 in fractions of a chroma bin (librosa's "
                     "tuning=None, estimation, is not available)", type="float", low=-1000, high=1000)
CTROCT_PARAM = Param("ctroct", 5.0, "centre in octaves above A0 (27.5 Hz) of the Gaussian octave weighting",
                     type="float", low=-100, high=100)
OCTWIDTH_PARAM = Param("octwidth", 2.0, "half-width in octaves of the octave weighting (None: every octave "
                       "weighted equally)", type="float", low=0, low_open=True, optional=True)
BASE_C_PARAM = Param("base_c", True, "row 0 is C (else A)", type="bool")
THRESHOLD_PARAM = Param("threshold", 0.0, "values below it are set to 0 before normalisation (None: none)",
                        type="float", optional=True)


def silence_floor(dtype: torch.dtype) -> float:
    """``2 * sqrt(tiny)``: twice the magnitude of silence (``sqrt(0 + tiny)``, see
    :func:`nnaudio_core.functional.complex.magnitude`; ``tiny`` of float32 for half precision)."""
    tiny = dtype_tiny(torch.float32) if is_half(dtype) else dtype_tiny(dtype)
    return 2.0 * math.sqrt(tiny)


class Chroma(SpectrogramStep):
    """Fold a power STFT or a constant-Q magnitude into pitch classes: ``normalize(W @ S)``.

    ``W`` is the kernel ``chroma_basis`` of shape ``(n_chroma, rows)``: for ``source="stft"``
    :func:`~nnaudio_core.kernels.chroma.chroma_filterbank` (``rows = n_fft // 2 + 1``, Gaussian
    bumps around each pitch class, weighted by octave), for ``source="cqt"``
    :func:`~nnaudio_core.kernels.chroma.cq_to_chroma` (``rows = n_bins``: each class sums its
    ``bins_per_octave / n_chroma`` bins in every octave). Folded values of at most
    ``2 * sqrt(tiny) * max_c sum_i |W[c, i]|`` (``tiny`` the smallest normal float32, or float64,
    number: what the gradient-safe magnitude of silence, ``sqrt(tiny)``, folds to) count as zero.
    Chroma values below ``threshold`` become 0; each frame is
    then divided by its ``norm``-norm (frames of norm below the dtype's smallest normal number,
    e.g. silence, are left as they are: zero).

    Parameters
    ----------
    source : {"stft", "cqt"}
        What the input is: a (power) STFT of ``n_fft`` or a constant-Q magnitude of ``n_bins``.
    sr : float
        Sample rate in Hz (``source="stft"``).
    n_fft : int
        FFT length of the input (``n_fft // 2 + 1`` rows; ``source="stft"``).
    n_chroma : int
        Number of pitch classes (default 12).
    tuning, ctroct, octwidth : float
        The STFT filterbank's tuning (chroma bins) and octave weighting (see
        :func:`~nnaudio_core.kernels.chroma.chroma_filterbank`).
    base_c : bool
        Row 0 is C (default) or A.
    n_bins, bins_per_octave, fmin
        The constant-Q input: number of bins, bins per octave (a multiple of ``n_chroma``) and the
        frequency of bin 0 (``source="cqt"``).
    norm : float or None
        Frame normalisation (default ``inf``: each frame's maximum is 1).
    threshold : float or None
        Values below it are set to zero before normalising (default 0).
    trainable : bool
        Make ``chroma_basis`` an ``nn.Parameter``.

    Shape
    -----
    ``(..., rows, frames)`` → ``(..., n_chroma, frames)``.

    Examples
    --------
    >>> step = Chroma(sr=22050, n_fft=2048)
    >>> step(torch.rand(2, 1025, 10)).shape
    torch.Size([2, 12, 10])
    >>> Chroma(source="cqt", n_bins=84, bins_per_octave=12)(torch.rand(84, 5)).amax(0)
    tensor([1., 1., 1., 1., 1.])
    """

    name = "chroma"
    input_kinds = frozenset({POWER, MAGNITUDE})
    params = (
        Param("source", "stft", "the input: a power STFT ('stft', n_fft // 2 + 1 rows) or a constant-Q magnitude "
              "('cqt', n_bins rows)", type="str", choices=SOURCES),
        SR_PARAM,
        Param("n_fft", 2048, "FFT length of an STFT input", type="int", low=2, high=2**24),
        N_CHROMA_PARAM,
        TUNING_PARAM,
        CTROCT_PARAM,
        OCTWIDTH_PARAM,
        BASE_C_PARAM,
        Param("n_bins", 84, "number of rows of a constant-Q input", type="int", low=1, high=100_000),
        Param("bins_per_octave", 12, "bins per octave of a constant-Q input (a multiple of n_chroma)", type="int",
              low=1, high=12_000),
        Param("fmin", 32.70, "frequency of bin 0 of a constant-Q input in Hz", type="float", low=0, low_open=True),
        NORM_PARAM,
        THRESHOLD_PARAM,
        TRAINABLE_PARAM,
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        if config["source"] == "cqt" and config["bins_per_octave"] % config["n_chroma"]:
            raise ParameterError("bins_per_octave", config["bins_per_octave"],
                                 f"a multiple of n_chroma={config['n_chroma']} (each pitch class merges a whole "
                                 "number of constant-Q bins)")
        if config["norm"] is not None:
            config["norm"] = float(config["norm"])
        return config

    def setup(self) -> None:
        c = self.config
        self.source: str = c["source"]
        self.n_chroma: int = c["n_chroma"]
        self.frame_norm: float | None = _frame_norm(c["norm"])
        self.threshold: float | None = None if c["threshold"] is None else float(c["threshold"])
        self.n_rows: int = c["n_fft"] // 2 + 1 if self.source == "stft" else c["n_bins"]

    def build_kernels(self) -> dict[str, np.ndarray]:
        c = self.config
        if self.source == "stft":
            basis = chroma_filterbank(sr=c["sr"], n_fft=c["n_fft"], n_chroma=c["n_chroma"], tuning=c["tuning"],
                                      ctroct=c["ctroct"], octwidth=c["octwidth"], base_c=c["base_c"])
        else:
            basis = cq_to_chroma(n_input=c["n_bins"], bins_per_octave=c["bins_per_octave"], n_chroma=c["n_chroma"],
                                 fmin=c["fmin"], base_c=c["base_c"])
        #: largest row sum of |W| (what input values all equal to 1 fold to at most)
        self.row_sum: float = float(np.abs(basis).sum(axis=1).max())
        return {"chroma_basis": basis}

    def expected_rows(self) -> int:
        return self.n_rows

    def rows_hint(self) -> str:
        if self.source == "stft":
            return f"n_fft={self.config['n_fft']} gives n_fft // 2 + 1 = {self.n_rows} rows: set n_fft to the STFT's"
        return f"set n_bins to the constant-Q transform's number of bins (now {self.n_rows})"

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        w = self.chroma_basis
        raw = apply_filterbank(w, x)  # in the orientation of x's memory (and export-safe)
        largest = dtype_max(raw.dtype)  # a sum of huge values overflows: inf / inf would be NaN
        raw = raw.clamp(-largest, largest)
        # silence as a gradient-safe magnitude (every input value sqrt(tiny)) folds to at most this: zero
        floor = silence_floor(x.dtype) * self.row_sum
        raw = torch.where(raw.abs() > floor, raw, torch.zeros_like(raw))
        return normalize_frames(threshold_below(raw, self.threshold), self.frame_norm, -2).contiguous()

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        return self.passthrough_info(upstream, FEATURES, frequencies=None, axes=("chroma", "frames"))


def _check_backend(config: dict[str, Any]) -> None:
    if config["backend"] == "fft" and config["trainable"]:
        raise ParameterError("backend", "fft", "the fft path uses fixed STFT kernels; with trainable=True use 'conv' "
                             "or 'auto'")


class ChromaSTFT(KernelTransform):
    """Chromagram of a waveform from its power spectrogram (``librosa.feature.chroma_stft``).

    ``normalize(W @ |STFT(x)| ** 2)``: an :class:`~nnaudio_plugins.stft.STFT` child (``stft``,
    ``output_format="Power"``) and a :class:`Chroma` child (``chroma``, ``source="stft"``) whose
    kernel ``chroma_basis`` ``(n_chroma, n_fft // 2 + 1)`` is librosa's chroma filterbank.
    Equal to ``librosa.feature.chroma_stft(y=x, ..., tuning=0.0)`` with the same arguments.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    n_fft : int
        Frame length (default 2048).
    hop_length : int
        Samples between frames (default 512).
    win_length : int, optional
        Window length (default ``n_fft``).
    window : str or tuple
        Analysis window (default ``"hann"``).
    center : bool
        Centred frames (default True).
    pad_mode : {"constant", "reflect"}
        Padding when centred (default ``"constant"``, as librosa).
    n_chroma : int
        Number of pitch classes (default 12).
    tuning : float
        Tuning deviation in chroma bins (default 0.0; estimation is not available).
    norm : float or None
        Frame normalisation (default ``inf``).
    ctroct, octwidth : float
        Octave weighting of the filterbank (defaults 5.0 and 2.0; ``octwidth=None``: flat).
    base_c : bool
        Row 0 is C (default) or A.
    trainable : bool
        STFT kernels and chroma filterbank as ``nn.Parameter`` (the STFT then uses ``conv``).
    backend : {"auto", "conv", "fft"}
        Computation path of the STFT child.

    Shape
    -----
    ``(time,)``, ``(batch, time)`` or ``(batch, channels, time)`` → ``(..., n_chroma, frames)``.

    Examples
    --------
    >>> chroma = ChromaSTFT(sr=22050)
    >>> chroma(torch.randn(2, 22050)).shape
    torch.Size([2, 12, 44])
    """

    name = "chroma_stft"
    params = (
        SR_PARAM,
        *params_of(STFT.params, "n_fft", "hop_length", "win_length", "window", "center", "pad_mode",
                   hop_length=512, pad_mode="constant"),
        N_CHROMA_PARAM,
        TUNING_PARAM,
        NORM_PARAM,
        CTROCT_PARAM,
        OCTWIDTH_PARAM,
        BASE_C_PARAM,
        TRAINABLE_PARAM,
        *params_of(STFT.params, "backend"),
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        _check_backend(config)
        if config["n_fft"] < 2:
            raise ParameterError("n_fft", config["n_fft"], "an FFT length >= 2")
        return config

    def setup(self) -> None:
        c = self.config
        optional = {k: c[k] for k in ("win_length",) if c[k] is not None}
        self.stft = STFT(n_fft=c["n_fft"], hop_length=c["hop_length"], **optional, window=c["window"],
                         center=c["center"], pad_mode=c["pad_mode"], sr=c["sr"], trainable=c["trainable"],
                         output_format="Power", backend=c["backend"])
        self.chroma = Chroma(source="stft", sr=c["sr"], n_fft=c["n_fft"], n_chroma=c["n_chroma"], tuning=c["tuning"],
                             ctroct=c["ctroct"], octwidth=c["octwidth"], base_c=c["base_c"], norm=c["norm"],
                             threshold=None, trainable=c["trainable"])

    def validate_input(self, x: Tensor) -> None:
        self.stft.validate_input(x)

    def frame_count(self, length: int) -> int:
        return self.stft.frame_count(length)

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        spec = self.stft.compute(x, batch)
        # |X|^2 of huge input overflows to inf, and inf times the filterbank is inf or NaN: keep it finite
        spec = spec.clamp(max=dtype_max(spec.dtype))
        return self.chroma.compute(spec, batch)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        return self.chroma.output_info(self.stft.output_info(upstream))


class ChromaCQT(KernelTransform):
    """Constant-Q chromagram of a waveform (``librosa.feature.chroma_cqt``).

    ``normalize(threshold(W @ |CQT(x)|))``: a :class:`~nnaudio_plugins.cqt.CQT2019` child (``cqt``;
    magnitude of ``n_octaves * bins_per_octave`` bins from ``fmin``, librosa's lengths and scale)
    and a :class:`Chroma` child (``chroma``, ``source="cqt"``). Within 3e-2 of
    ``librosa.feature.chroma_cqt(y=x, ..., tuning=0.0)`` (the CQTs differ by 1-3 %, see
    ``docs/cqt.md``).

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    hop_length : int
        Samples between frames (default 512); any value.
    fmin : float
        Frequency of the lowest constant-Q bin (default C1 = 32.703 Hz).
    n_chroma : int
        Number of pitch classes (default 12).
    n_octaves : int
        Octaves analysed (default 7); the top bin must not exceed ``sr / 2``.
    bins_per_octave : int
        Constant-Q bins per octave, a multiple of ``n_chroma`` (default 36).
    norm : float or None
        Frame normalisation (default ``inf``).
    threshold : float or None
        Chroma values below it are set to zero (default 0.0).
    pad_mode : {"constant", "reflect", "replicate", "circular"}
        Signal extension of the CQT (default ``"constant"``, as librosa).
    trainable : bool
        The CQT's per-octave kernels and the chroma map as ``nn.Parameter``.

    Shape
    -----
    ``(time,)``, ``(batch, time)`` or ``(batch, channels, time)`` → ``(..., n_chroma, frames)``.

    Examples
    --------
    >>> chroma = ChromaCQT(sr=22050, hop_length=512)
    >>> chroma(torch.randn(22050)).shape
    torch.Size([12, 44])
    """

    name = "chroma_cqt"
    params = (
        SR_PARAM,
        Param("hop_length", 512, "samples between frames", type="int", low=1, high=2**30),
        Param("fmin", C1_HZ, "frequency of the lowest constant-Q bin in Hz (default C1)", type="float", low=0,
              low_open=True),
        N_CHROMA_PARAM,
        Param("n_octaves", 7, "octaves of constant-Q bins", type="int", low=1, high=100),
        Param("bins_per_octave", 36, "constant-Q bins per octave, a multiple of n_chroma", type="int", low=1,
              high=12_000),
        NORM_PARAM,
        THRESHOLD_PARAM,
        *params_of(CQT2019.params, "pad_mode", pad_mode="constant"),
        TRAINABLE_PARAM,
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        bpo, n_chroma = config["bins_per_octave"], config["n_chroma"]
        if bpo % n_chroma:
            raise ParameterError("bins_per_octave", bpo, f"a multiple of n_chroma={n_chroma} (each pitch class "
                                 "merges a whole number of constant-Q bins)")
        n_bins = config["n_octaves"] * bpo
        largest = max_cqt_bins(sr=config["sr"], fmin=config["fmin"], bins_per_octave=bpo)
        if n_bins > largest:
            raise ParameterError("n_octaves", config["n_octaves"],
                                 f"n_octaves * bins_per_octave = {n_bins} bins from fmin={config['fmin']:g} Hz reach "
                                 f"above the Nyquist frequency {config['sr'] / 2:g} Hz; at most {largest} bins "
                                 f"({largest // bpo} whole octaves) fit")
        return config

    def setup(self) -> None:
        c = self.config
        n_bins = c["n_octaves"] * c["bins_per_octave"]
        self.cqt = CQT2019(sr=c["sr"], hop_length=c["hop_length"], fmin=c["fmin"], n_bins=n_bins,
                           bins_per_octave=c["bins_per_octave"], pad_mode=c["pad_mode"], output_format="Magnitude",
                           trainable=c["trainable"])
        self.chroma = Chroma(source="cqt", n_bins=n_bins, bins_per_octave=c["bins_per_octave"], fmin=c["fmin"],
                             n_chroma=c["n_chroma"], norm=c["norm"], threshold=c["threshold"],
                             trainable=c["trainable"])

    def validate_input(self, x: Tensor) -> None:
        self.cqt.validate_input(x)

    def frame_count(self, length: int) -> int:
        return self.cqt.frame_count(length)

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        spec = self.cqt.compute(x, batch)
        if not is_half(spec.dtype):  # huge input: a finite magnitude (half precision: no scalar that large)
            spec = spec.clamp(max=dtype_max(spec.dtype))
        return self.chroma.compute(spec, batch)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        return self.chroma.output_info(self.cqt.output_info(upstream))


@hookimpl
def nnaudio_register_transforms(register):
    register(Chroma)
    register(ChromaSTFT)
    register(ChromaCQT)
