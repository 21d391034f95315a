"""The variable-Q transform ``vqt``: the constant-Q definition with librosa's variable-Q kernel lengths.

Registered through the ``nnaudio.transforms`` entry point ``vqt = "nnaudio_plugins.vqt"``.

``C[k, t] = s_k * sum_n x[t * hop_length + n] * conj(kernel_k[n])`` exactly as the CQTs
(``docs/cqt.md``), with kernel lengths ``l_k = filter_scale * sr / (alpha * f_k + gamma)``
(:func:`nnaudio_core.kernels.cqt.cqt_lengths`): a bandwidth ``alpha * f_k + gamma`` that grows by
``gamma`` Hz, so the low bins get shorter kernels (better time resolution) than in the CQT.
``gamma=None`` (the default, as ``librosa.vqt``) is the ERB rule ``gamma = 24.7 * alpha / 0.108``;
``gamma=0`` is the constant-Q transform ``cqt2019``, kernel for kernel.

It runs on the multirate machinery of ``cqt2019`` (:func:`nnaudio_core.functional.cqt2019.cqt2019`):
each octave is correlated at the lowest sample rate its kernels allow; the shorter variable-Q
kernels reach further from their centre frequency, so low octaves may stay one level higher.

Compatibility
-------------
* ``librosa.vqt(y, sr, hop_length, fmin, n_bins, gamma, bins_per_octave, filter_scale, norm,
  window, pad_mode, scale=True, tuning=0.0)`` is ``vqt(..., pad_mode=...)`` with
  ``normalization_type="librosa"`` (librosa's ``scale=True``). librosa's ``pad_mode`` default is
  ``"constant"``, this transform's ``"reflect"`` (as the CQTs). ``tuning``, ``intervals``,
  ``sparsity`` and ``res_type`` do not exist here (equal temperament, exact kernels, own low-pass).
* nnAudio 0.3.4's ``VQT`` is ``nnaudio_core.Spectrogram.VQT`` (nnAudio's lengths
  ``ceil(Q * sr / (f_k + gamma / (2 ** (1 / B) - 1)))``, default ``gamma=0``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from nnaudio_plugins.cqt import CQT2019
from torch import Tensor

from nnaudio_core import hookimpl
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.cqt2019 import CQT2019Schedule, cqt2019
from nnaudio_core.functional.cqt_common import kernel_geometry
from nnaudio_core.kernels.cqt import cqt_frequencies, cqt_lengths
from nnaudio_core.kernels.windows import window_problem
from nnaudio_core.params import Param
from nnaudio_core.transform import Batch

GAMMA_PARAM = Param(
    "gamma", None, "bandwidth offset in Hz of the kernels (bandwidth alpha * f + gamma): 0 is the constant-Q "
    "transform, larger values shorten the low kernels; None: librosa's ERB rule gamma = 24.7 * alpha / 0.108",
    type="float", low=0, high=1e7, optional=True,
)


def _vqt_params() -> tuple[Param, ...]:
    out: list[Param] = []
    for p in CQT2019.params:
        out.append(p)
        if p.name == "bins_per_octave":
            out.append(GAMMA_PARAM)
    return tuple(out)


class VQT(CQT2019):
    """Variable-Q transform, multirate (librosa.vqt's arguments, the CQT plugins' options).

    The constant-Q definition of :class:`~nnaudio_plugins.cqt.CQT2019` with kernel lengths
    ``l_k = filter_scale * sr / (alpha * f_k + gamma)`` (``lengths="librosa"``) or nnAudio's
    ``ceil(Q * sr / (f_k + gamma / (2 ** (1 / B) - 1)))`` (``lengths="nnaudio"``), computed octave
    by octave at the lowest sample rate the kernels allow (within 1e-3 relative L2 of the
    definition, typically 1e-5). Any ``hop_length``, clips shorter than the longest kernel
    (``reflect`` padding reflects repeatedly) and partial octaves work.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    hop_length : int
        Samples between frames (default 512); any value.
    fmin : float
        Frequency of the lowest bin in Hz (default 32.70, C1).
    fmax : float, optional
        When given, ``n_bins = ceil(bins_per_octave * log2(fmax / fmin))`` (nnAudio's rule).
    n_bins : int
        Number of bins (default 84); the top bin must not exceed ``sr / 2``.
    bins_per_octave : int
        Default 12.
    gamma : float or None
        Bandwidth offset in Hz, ``>= 0``: ``0`` is the CQT (``cqt2019`` exactly); ``None``
        (default, as librosa) the ERB rule ``gamma = 24.7 * alpha / 0.108``.
    filter_scale : float
        Kernel length multiplier (default 1).
    norm : float or None
        Kernel p-norm (default 1, L1; ``None``: unnormalised).
    window : str or tuple
        Kernel window (default ``"hann"``).
    center : bool
        Centred frames (default True); else frames where the longest kernel fits in the clip.
    pad_mode : {"reflect", "constant", "replicate", "circular"}
        Extension of the clip (default ``"reflect"``; ``librosa.vqt`` uses ``"constant"``).
    trainable : bool
        The per-octave kernels ``cqt_kernels[g]`` become ``nn.Parameter`` objects.
    output_format : {"Magnitude", "Complex", "Phase", "Power"}
    normalization_type : {"librosa", "convolutional", "wrap"}
        Bin ``k`` times ``sqrt(l_k)`` (librosa's ``scale=True``), ``1`` or ``2``.
    lengths : {"librosa", "nnaudio"}
        Kernel length convention.
    earlydownsample : bool
        Let the top octave run below the full rate when its kernels allow (default True).

    Shape
    -----
    ``(time,)``, ``(batch, time)`` or ``(batch, channels, time)`` → ``(..., n_bins, frames)``,
    ``frames = 1 + time // hop_length`` when centred.

    Examples
    --------
    >>> vqt = VQT(sr=22050, n_bins=84, bins_per_octave=12, hop_length=512)
    >>> vqt(torch.randn(2, 22050)).shape
    torch.Size([2, 84, 44])
    >>> round(float(vqt.kernel_lengths[0]), 1)  # 11687 samples for the CQT (gamma=0)
    1462.0
    """

    name = "vqt"
    params = _vqt_params()

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        config = super().validate_config(config)  # the CQT checks (constant-Q lengths: the longest possible)
        freqs = cqt_frequencies(n_bins=config["n_bins"], fmin=config["fmin"], bins_per_octave=config["bins_per_octave"])
        lengths = cqt_lengths(freqs, sr=config["sr"], filter_scale=config["filter_scale"],
                              bins_per_octave=config["bins_per_octave"], convention=config["lengths"],
                              gamma=config["gamma"])
        if lengths[-1] < 1:
            raise ParameterError(
                "gamma", config["gamma"],
                f"the top bin's kernel would be {lengths[-1]:.3f} samples long; expected a gamma (and filter_scale) "
                "giving kernels of at least one sample",
            )
        for length in sorted({max(1, int(np.ceil(lengths[-1]))), max(1, min(int(np.ceil(lengths[0])), 1 << 16))}):
            problem = window_problem(config["window"], length)
            if problem:
                raise ParameterError("window", config["window"], f"a window usable for kernels of {length} samples: "
                                     f"{problem}")
        return config

    def check_size(self, config: dict[str, Any], longest: float) -> None:
        freqs = cqt_frequencies(n_bins=1, fmin=config["fmin"], bins_per_octave=config["bins_per_octave"])
        vqt_longest = cqt_lengths(freqs, sr=config["sr"], filter_scale=config["filter_scale"],
                                  bins_per_octave=config["bins_per_octave"], convention=config["lengths"],
                                  gamma=config["gamma"])[0]
        super().check_size(config, float(min(longest, vqt_longest)))

    def setup(self) -> None:
        super().setup()
        c = self.config
        self.gamma: float | None = c["gamma"]
        self.frequencies, self.kernel_lengths, self.center_index, self.kernel_width = kernel_geometry(
            sr=c["sr"], fmin=c["fmin"], n_bins=self.n_bins, bins_per_octave=c["bins_per_octave"],
            filter_scale=c["filter_scale"], convention=c["lengths"], gamma=c["gamma"])

    def _kernel_kwargs(self) -> dict[str, Any]:
        return {**super()._kernel_kwargs(), "gamma": self.config["gamma"]}

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


VQT.__annotations__["_schedule"] = CQT2019Schedule


@hookimpl
def nnaudio_register_transforms(register):
    register(VQT)
