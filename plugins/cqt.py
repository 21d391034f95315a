"""The constant-Q transforms ``cqt1992`` (alias ``cqt1992v2``) and ``cqt2019`` (aliases ``cqt2010v2``, ``cqt``).

Registered through the ``nnaudio.transforms`` entry point ``cqt = "nnaudio_plugins.cqt"``.

Both compute the same function (the definition in ``docs/cqt.md``):
``C[k, t] = sum_n x[t * hop_length + n] * conj(kernel_k[n])``, times a per-bin normalisation.

* ``cqt1992``: at the full sample rate. ``backend="conv"``: one strided conv1d with the real
  time-domain kernels ``[Re K; -Im K]`` (trainable). ``backend="fft"``: block FFT correlation for
  the long kernels and conv1d for the short ones; frozen kernels, equal up to float rounding.
* ``cqt2019``: multirate; each octave is correlated at the lowest sample rate its kernels allow,
  between halvings of the rate by an anti-alias low-pass (within 1e-4 of the definition in practice,
  1e-3 guaranteed by the tests).

Compatibility with nnAudio 0.3.4
--------------------------------
Arguments follow ``CQT1992v2`` / ``CQT2010v2``: ``sr, hop_length, fmin, fmax, n_bins,
bins_per_octave, filter_scale, norm, window, center, pad_mode, trainable, output_format``
(and ``earlydownsample`` for ``cqt2019``). Differences:

* ``normalization_type`` (a ``forward`` argument in nnAudio) is a constructor argument.
* ``lengths`` chooses the kernel lengths: ``"librosa"`` (default, librosa's fractional lengths) or
  ``"nnaudio"`` (nnAudio's ``ceil(Q * sr / f)``).
* ``output_format="Complex"`` returns a complex tensor and ``"Phase"`` the angle in radians (as the
  ``stft`` transform), not nnAudio's stacked ``(..., 2)`` pairs; ``"Power"`` is also available.
* ``CQT2010v2``'s ``norm``/``basis_norm`` pair is the single kernel ``norm`` here, and ``center``
  is available (nnAudio always centres).
* Any ``hop_length`` works with ``cqt2019`` (nnAudio fails when ``hop_length`` is not divisible by
  the downsampling factors), and clips shorter than the longest kernel work with ``reflect``
  padding (reflected repeatedly).
* nnAudio's ``CQT`` is ``CQT1992v2``; here ``cqt`` names the multirate ``cqt2019``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from torch import Tensor

from nnaudio_core import KernelTransform, hookimpl
from nnaudio_core.budget import check_memory
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.cqt1992 import CQT1992FFTSchedule, cqt1992_conv, cqt1992_fft, cqt1992_fft_plan
from nnaudio_core.functional.cqt2019 import CQT2019Schedule, cqt2019, cqt2019_plan
from nnaudio_core.functional.cqt_common import PAD_MODES, cqt_frame_count, kernel_geometry
from nnaudio_core.functional.stft import format_pair
from nnaudio_core.kernels.cqt import (
    LENGTH_CONVENTIONS,
    cqt_conv_kernels,
    cqt_frequencies,
    cqt_lengths,
    cqt_n_bins,
    max_cqt_bins,
)
from nnaudio_core.kernels.windows import window_problem
from nnaudio_core.kinds import COMPLEX, MAGNITUDE, PHASE, POWER, SignalInfo
from nnaudio_core.params import Param
from nnaudio_core.transform import BACKEND_PARAM, TRAINABLE_PARAM, Batch, constant

OUTPUT_FORMATS = ("Magnitude", "Complex", "Phase", "Power")
OUTPUT_KINDS = {"Complex": COMPLEX, "Magnitude": MAGNITUDE, "Phase": PHASE, "Power": POWER}
NORMALIZATION_TYPES = ("librosa", "convolutional", "wrap")
#: Most bins a CQT may have.
MAX_BINS = 100_000


def check_kernel_norm(value: Any) -> str | None:
    """A kernel ``norm``: ``None`` (or ``False``/``0``: none), a p-norm order ``> 0``, or ``inf``.

    ``True`` means 1, as nnAudio's truthiness test of ``norm`` does.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and (value == 0 or value > 0):
        return None
    return "None or 0 (no normalisation), a p-norm order > 0 (1: L1 as librosa and nnAudio, 2: L2) or inf"


def _common_params(fmin_default: float = 32.70) -> tuple[Param, ...]:
    return (
        Param("sr", 22050.0, "sample rate in Hz", type="float", low=1, high=1e7),
        Param("hop_length", 512, "samples between frames", type="int", low=1, high=2**30),
        Param("fmin", fmin_default, "frequency of the lowest bin in Hz", type="float", low=0, low_open=True),
        Param("fmax", None, "frequency range top in Hz; when given, n_bins = ceil(bins_per_octave * log2(fmax / fmin)) "
              "(nnAudio's rule) and the n_bins argument is ignored", type="float", low=0, low_open=True, optional=True),
        Param("n_bins", 84, "number of bins (ignored when fmax is given)", type="int", low=1, high=MAX_BINS),
        Param("bins_per_octave", 12, "bins per octave", type="int", low=1, high=12_000),
        Param("filter_scale", 1.0, "kernel length multiplier (< 1: better time, worse frequency resolution)",
              type="float", low=0, low_open=True),
        Param("norm", 1, "kernel normalisation: the p of the p-norm each kernel is divided by (1: L1, as librosa and "
              "nnAudio; 2; inf), or None for none", type="any", optional=True, check=check_kernel_norm,
              allowed_text="a p-norm order > 0 (1, 2, inf), or 0 / False for no normalisation"),
        Param("window", "hann", "kernel window, any scipy.signal.get_window spec (periodic)", type="window"),
        Param("center", True, "centre frame t on sample t * hop_length (else frames where the longest kernel fits "
              "inside the clip)", type="bool"),
        Param("pad_mode", "reflect", "signal extension outside the clip: reflect (repeated for short clips), "
              "constant (zeros), replicate or circular", type="str", choices=PAD_MODES),
        TRAINABLE_PARAM,
        Param("output_format", "Magnitude", "what to return: Magnitude, Complex (complex tensor), Phase (radians) "
              "or Power", type="str", choices=OUTPUT_FORMATS),
        Param("normalization_type", "librosa", "output scaling: 'librosa' multiplies bin k by sqrt(l_k) (librosa's "
              "scale=True), 'convolutional' leaves the correlation, 'wrap' doubles it (a unit sinusoid gives ~1)",
              type="str", choices=NORMALIZATION_TYPES),
        Param("lengths", "librosa", "kernel length convention: 'librosa' (filter_scale * sr / (alpha * f)) or "
              "'nnaudio' (ceil(Q * sr / f))", type="str", choices=LENGTH_CONVENTIONS),
    )


class _CQTBase(KernelTransform):
    """Validation, derived attributes and output formatting shared by both CQT transforms."""

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        sr, fmin, bpo = config["sr"], config["fmin"], config["bins_per_octave"]
        nyquist = sr / 2
        if fmin > nyquist:
            raise ParameterError("fmin", fmin, f"expected 0 < fmin <= sr / 2 = {nyquist:g} Hz")
        if config["fmax"] is not None:
            if config["fmax"] > nyquist:
                raise ParameterError("fmax", config["fmax"],
                                     f"expected fmin={fmin:g} < fmax <= sr / 2 = {nyquist:g} Hz")
            if config["fmax"] <= fmin:
                raise ParameterError("fmax", config["fmax"], f"expected fmax > fmin={fmin:g} Hz")
            config["n_bins"] = cqt_n_bins(fmin=fmin, fmax=config["fmax"], bins_per_octave=bpo)
            if config["n_bins"] > MAX_BINS:
                raise ParameterError("fmax", config["fmax"], f"fmin={fmin:g} to fmax gives {config['n_bins']} bins at "
                                     f"bins_per_octave={bpo}; expected at most {MAX_BINS} bins")
        n_bins = config["n_bins"]
        # the top bin's frequency, without overflowing for absurd n_bins / bins_per_octave
        top = fmin * 2.0 ** ((n_bins - 1) / bpo) if (n_bins - 1) / bpo < 1000 else math.inf
        if top > nyquist:
            largest = max_cqt_bins(sr=sr, fmin=fmin, bins_per_octave=bpo)
            raise ParameterError(
                "n_bins", n_bins, f"the top bin would be {top:.1f} Hz, above the Nyquist frequency {nyquist:g} Hz; "
                f"with fmin={fmin:g} and bins_per_octave={bpo} the largest valid n_bins is {largest}"
            )
        freqs = cqt_frequencies(n_bins=n_bins, fmin=fmin, bins_per_octave=bpo)
        lengths = cqt_lengths(freqs, sr=sr, filter_scale=config["filter_scale"], bins_per_octave=bpo,
                              convention=config["lengths"])
        if lengths[-1] < 1:
            raise ParameterError(
                "filter_scale", config["filter_scale"],
                f"the top bin's kernel would be {lengths[-1]:.3f} samples long; expected a filter_scale giving "
                "kernels of at least one sample",
            )
        self.check_size(config, float(lengths[0]))
        for length in sorted({max(1, math.ceil(lengths[-1])), max(1, min(math.ceil(lengths[0]), 1 << 16))}):
            problem = window_problem(config["window"], length)
            if problem:
                raise ParameterError("window", config["window"], f"a window usable for kernels of {length} samples: "
                                     f"{problem}")
        if config["norm"] is True:
            config["norm"] = 1
        elif config["norm"] is False or (config["norm"] is not None and config["norm"] == 0):
            config["norm"] = None
        return config

    def check_size(self, config: dict[str, Any], longest: float) -> None:
        """Refuse configurations whose kernels (``longest`` samples at most) exceed the memory budget."""
        bins, bpo = config["n_bins"], config["bins_per_octave"]
        sizes = {"sr": config["sr"], "fmin": config["fmin"], "n_bins": bins, "bins_per_octave": bpo,
                 "filter_scale": config["filter_scale"]}
        check_memory(*self.kernel_bytes(config, longest), sizes)

    def kernel_bytes(self, config: dict[str, Any], longest: float) -> tuple[float, str]:
        """Bytes the kernels and their plan need at most, and what they are (for the budget message).

        Multirate and block-FFT plans are dominated by the lowest octave's kernels and spectra.
        """
        return 6 * 16 * min(config["n_bins"], config["bins_per_octave"]) * longest, "kernels of the lowest octave"

    def setup(self) -> None:
        c = self.config
        self.hop_length: int = c["hop_length"]
        self.n_bins: int = c["n_bins"]
        self.center: bool = c["center"]
        self.pad_mode: str = c["pad_mode"]
        self.output_format: str = c["output_format"]
        # frequencies: centre of each bin in Hz; kernel_lengths: real-valued kernel length of each bin
        # in samples (both (n_bins,)); center_index, kernel_width: the longest kernel's n = 0 column and
        # grid length.
        self.frequencies, self.kernel_lengths, self.center_index, self.kernel_width = kernel_geometry(
            sr=c["sr"], fmin=c["fmin"], n_bins=self.n_bins, bins_per_octave=c["bins_per_octave"],
            filter_scale=c["filter_scale"], convention=c["lengths"])

    def _kernel_kwargs(self) -> dict[str, Any]:
        c = self.config
        return dict(sr=c["sr"], fmin=c["fmin"], n_bins=self.n_bins, bins_per_octave=c["bins_per_octave"],
                    filter_scale=c["filter_scale"], norm=c["norm"], window=c["window"], convention=c["lengths"])

    def _scale(self) -> np.ndarray:
        kind = self.config["normalization_type"]
        if kind == "librosa":
            return np.sqrt(self.kernel_lengths)
        return np.full(self.n_bins, 2.0 if kind == "wrap" else 1.0)

    @property
    def min_input_length(self) -> int:
        """Shortest input (samples): 1 when centred, else the longest kernel's grid length."""
        return 1 if self.center else self.kernel_width

    def validate_input(self, x: Tensor) -> None:
        length = x.shape[-1]
        if length < self.min_input_length:
            raise ValueError(
                f"{self.name}: input of {length} samples is too short for center=False: the longest kernel "
                f"({self.kernel_lengths[0]:.1f} samples at {self.frequencies[0]:.2f} Hz) needs at least "
                f"{self.min_input_length} samples; use center=True or a higher fmin"
            )

    def frame_count(self, length: int) -> int:
        """Number of frames for an input of ``length`` samples."""
        return cqt_frame_count(length, self.hop_length, self.center, self.kernel_width)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        self.check_upstream(upstream)
        return SignalInfo(OUTPUT_KINDS[self.output_format], sr=self.config["sr"], hop_length=self.hop_length,
                          frequencies=self.frequencies, axes=("freq", "frames"))

    def format_output(self, real: Tensor, imag: Tensor) -> Tensor:
        """Turn the real and imaginary parts ``(N, n_bins, frames)`` into ``output_format``."""
        return format_pair(real, imag, self.output_format)


class CQT1992(_CQTBase):
    """Constant-Q transform at the full sample rate (nnAudio's ``CQT1992v2`` arguments).

    ``C[k, t] = s_k * sum_n x[t * hop_length + n] * conj(kernel_k[n])`` with the kernels of
    :func:`nnaudio_core.kernels.cqt.cqt_kernels` and ``s_k`` from ``normalization_type``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    hop_length : int
        Samples between frames (default 512); any value.
    fmin : float
        Lowest bin frequency in Hz (default 32.70, C1).
    fmax : float, optional
        When given, ``n_bins = ceil(bins_per_octave * log2(fmax / fmin))`` (as nnAudio).
    n_bins : int
        Number of bins (default 84); the top bin must not exceed ``sr / 2``.
    bins_per_octave : int
        Default 12.
    filter_scale : float
        Kernel length multiplier (default 1).
    norm : float or None
        Kernel p-norm normalisation (default 1, L1).
    window : str or tuple
        Kernel window (default ``"hann"``).
    center : bool
        Centred frames (default True); else frames where the longest kernel fits in the clip.
    pad_mode : {"reflect", "constant", "replicate", "circular"}
        Extension of the clip when centred.
    trainable : bool
        Kernels as an ``nn.Parameter`` (``cqt_kernels``, shape ``(2 * n_bins, 1, width)``); needs
        ``backend`` "conv" or "auto".
    output_format : {"Magnitude", "Complex", "Phase", "Power"}
    normalization_type : {"librosa", "convolutional", "wrap"}
        ``s_k = sqrt(l_k)``, ``1`` or ``2``.
    lengths : {"librosa", "nnaudio"}
        Kernel length convention.
    backend : {"auto", "conv", "fft"}
        ``auto``: ``fft`` for frozen kernels, ``conv`` when trainable.

    Shape
    -----
    ``(time,)``, ``(batch, time)`` or ``(batch, channels, time)`` → ``(..., n_bins, frames)``,
    ``frames = 1 + time // hop_length`` when centred.

    Examples
    --------
    >>> cqt = CQT1992(sr=22050, n_bins=84, hop_length=512)
    >>> cqt(torch.randn(2, 22050)).shape
    torch.Size([2, 84, 44])
    """

    name = "cqt1992"
    fast_path = "fft"
    params = (*_common_params(), BACKEND_PARAM)

    def kernel_bytes(self, config: dict[str, Any], longest: float) -> tuple[float, str]:
        if config["backend"] == "conv" or config["trainable"]:  # every kernel padded to the longest
            return 2 * 2 * 8 * config["n_bins"] * longest, "time-domain kernels (conv backend)"
        return super().kernel_bytes(config, longest)

    def build_kernels(self) -> dict[str, np.ndarray]:
        kw = self._kernel_kwargs()
        if self.backend == "conv":
            rows, _, _ = cqt_conv_kernels(**kw)
            return {"cqt_kernels": rows[:, None, :], "scale": constant(self._scale())}
        plan = cqt1992_fft_plan(hop_length=self.hop_length, **kw)
        self._schedule = plan.schedule
        return {
            "fft_kernels": list(plan.fft_kernels),  # single-precision (re, im) pairs, see cqt1992_fft_plan
            "fft_bins": list(plan.fft_bins),
            "conv_kernels": list(plan.conv_kernels),
            "scale": constant(self._scale()),
        }

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        if hasattr(self, "cqt_kernels"):  # the conv path's kernel (see STFT.compute)
            real, imag = cqt1992_conv(x, self.cqt_kernels, self.scale, self.hop_length, self.center_index,
                                      self.center, self.pad_mode)
        else:
            real, imag = cqt1992_fft(
                x,
                self.fft_kernels.tensors(),
                self.fft_bins.tensors(),
                self.conv_kernels.tensors(),
                self.scale,
                self._schedule,
                self.center,
                self.pad_mode,
            )
        return self.format_output(real, imag)


class CQT2019(_CQTBase):
    """Multirate constant-Q transform (nnAudio's ``CQT2010v2`` arguments).

    The same function as :class:`CQT1992` (within 1e-3 relative L2, typically 1e-5): octave ``o``
    is correlated with its kernels subsampled to the rate ``sr / 2 ** j_o`` (each kernel's samples
    at ``n = 2 ** j m``, times ``2 ** j``), after a linear-phase anti-alias low-pass between
    halvings. ``hop_length`` need not be a multiple of ``2 ** j``: frames that fall between
    decimated samples use kernels sampled at the matching phase.

    Parameters
    ----------
    sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center,
    pad_mode, output_format, normalization_type, lengths
        As :class:`CQT1992`.
    trainable : bool
        The per-octave kernels ``cqt_kernels[g]`` (a kernel list, ``g = 0`` the top octave) become
        ``nn.Parameter`` objects; the low-pass filter stays fixed.
    earlydownsample : bool
        Let the top octave run below the full rate when its kernels allow it (default True);
        ``False`` keeps it at the full rate (slower, not more accurate).

    Examples
    --------
    >>> cqt = CQT2019(sr=44100, fmin=55.0, n_bins=168, bins_per_octave=24)
    >>> cqt(torch.randn(44100)).shape
    torch.Size([168, 87])
    """

    name = "cqt2019"
    params = (*_common_params(), Param("earlydownsample", True, "let the top octave run below the full sample rate "
                                       "when its kernels allow (faster, equally accurate)", type="bool"))

    def build_kernels(self) -> dict[str, np.ndarray]:
        plan = cqt2019_plan(hop_length=self.hop_length, earlydownsample=self.config["earlydownsample"],
                            **self._kernel_kwargs())
        self._schedule = plan.schedule
        return {
            "cqt_kernels": list(plan.kernels),  # per octave group, from the top octave down
            "lowpass": constant(plan.lowpass),
            "scale": constant(self._scale()),
        }

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        real, imag = cqt2019(
            x,
            self.cqt_kernels.tensors(),
            self.lowpass,
            self.scale,
            self._schedule,
            self.center,
            self.pad_mode,
        )
        return self.format_output(real, imag)


# The plans' types, for TorchScript (which cannot read this module's postponed annotations).
CQT1992.__annotations__["_schedule"] = CQT1992FFTSchedule
CQT2019.__annotations__["_schedule"] = CQT2019Schedule


@hookimpl
def nnaudio_register_transforms(register):
    register(CQT1992, aliases=("cqt1992v2",))
    register(CQT2019, aliases=("cqt2010v2", "cqt"))
