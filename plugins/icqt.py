"""Inverse constant-Q transforms: ``icqt`` (complex CQT → waveform) and ``griffin_lim_cqt`` (magnitude → waveform).

Registered through the ``nnaudio.transforms`` entry point ``icqt = "nnaudio_plugins.icqt"``.

Both invert the CQT of ``docs/cqt.md`` (``cqt1992`` and ``cqt2019`` compute the same function):
``C[k, t] = s_k * sum_n x[t * hop_length + n] * conj(kernel_k[n])``. The definitions and the measured
accuracy are in ``docs/inverse-cqt.md``:

* ``icqt``: ``n_iter=0`` is the one-shot inverse (librosa's ``icqt``, for these kernels): the
  overlap-add of the kernels at the frame positions weighted by
  ``d_k = hop_length / (s_k ** 2 * l_k * ||kernel_k||_2 ** 2)``; ``n_iter > 0`` refines it by
  conjugate-gradient steps on the least-squares problem ``min_y ||D^(1/2) (CQT(y) - C)||``.
* ``griffin_lim_cqt``: librosa's ``griffinlim_cqt``: alternate projections between the CQTs of
  signals and the given magnitude (fast Griffin-Lim with ``momentum``), through ``icqt`` (by
  default with one refinement step per inner inverse; ``icqt_iter=0`` is librosa's scheme).

Compatibility
-------------
* ``librosa.icqt(C, sr, hop_length, fmin, bins_per_octave, filter_scale, norm, window, scale=True,
  length)`` is ``icqt(..., normalization_type="librosa")``; librosa's ``tuning``, ``sparsity`` and
  ``res_type`` do not exist here (pass ``fmin * 2 ** (tuning / B)``; the kernels are exact and the
  multirate low-pass is this library's), and librosa's CQT (``pad_mode="constant"``) is matched by
  ``pad_mode="constant"``.
* nnAudio2's ``iCQT`` is ``nnaudio_core.Spectrogram.iCQT``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from nnaudio_plugins.cqt import CQT2019
from torch import Tensor

from nnaudio_core import SpectrogramStep, hookimpl
from nnaudio_core.functional.capture import compiling, repeated_region
from nnaudio_core.functional.cqt2019 import cqt2019
from nnaudio_core.functional.cqt_common import cqt_frame_count
from nnaudio_core.functional.icqt import icqt, icqt_length, icqt_weights
from nnaudio_core.functional.istft import griffin_lim_phasors
from nnaudio_core.kernels.cqt import cqt_n_bins
from nnaudio_core.kinds import COMPLEX, MAGNITUDE, WAVEFORM, SignalInfo
from nnaudio_core.params import Param
from nnaudio_core.transform import Batch, constant

#: The CQT parameters the inverse transforms share with ``cqt2019`` (all but ``output_format``).
CQT_PARAM_NAMES = ("sr", "hop_length", "fmin", "fmax", "n_bins", "bins_per_octave", "filter_scale", "norm", "window",
                   "center", "pad_mode", "trainable", "normalization_type", "lengths", "earlydownsample")


def _cqt_params() -> tuple[Param, ...]:
    by_name = {p.name: p for p in CQT2019.params}
    return tuple(by_name[n] for n in CQT_PARAM_NAMES)


def resolve_bins(config: dict[str, Any]) -> dict[str, Any]:
    """Fill ``n_bins`` from ``fmax`` as the CQTs do (``ceil(B * log2(fmax / fmin))``); the CQT child checks the rest."""
    if config["fmax"] is not None and config["fmax"] > config["fmin"]:
        config["n_bins"] = cqt_n_bins(fmin=config["fmin"], fmax=config["fmax"], bins_per_octave=config["bins_per_octave"])
    return config


N_ITER_PARAM = Param("n_iter", 0, "conjugate-gradient refinement steps (0: the one-shot inverse, librosa's icqt)",
                     type="int", low=0, high=10_000)


class ICQT(SpectrogramStep):
    """Inverse constant-Q transform: complex CQT ``(..., n_bins, frames)`` → waveform ``(..., time)``.

    The CQT's parameters describe the forward transform the input came from (``cqt1992`` or
    ``cqt2019``, which compute the same function); the inverse uses that transform's kernels at its
    rates (a :class:`~nnaudio_plugins.cqt.CQT2019` child, attribute ``cqt``).

    * ``n_iter=0``: ``y = 2 Re sum_{k, t} d_k C[k, t] s_k kernel_k[m - t * hop_length]`` with
      ``d_k = hop_length / (s_k ** 2 * l_k * ||kernel_k||_2 ** 2)`` (librosa's ``icqt`` weights for
      these kernels; :func:`~nnaudio_core.functional.icqt.icqt_weights`): accurate where the frames
      sample every kernel densely (``hop_length`` well below the shortest kernel).
    * ``n_iter > 0``: that many conjugate-gradient steps from the one-shot result on the normal
      equations of ``min_y ||D^(1/2) (CQT(y) - C)||`` (``D = diag(d_k)``; the forward and its exact
      transpose :func:`~nnaudio_core.functional.icqt.cqt2019_adjoint`): the signal whose CQT is
      closest to ``C``. Each step costs one CQT and one transposed CQT.

    Parameters
    ----------
    sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center, pad_mode,
    normalization_type, lengths, earlydownsample
        Those of the forward CQT (see :class:`~nnaudio_plugins.cqt.CQT2019`).
    trainable : bool
        Make the CQT child's kernels ``nn.Parameter`` objects (synthesis and refinement use them).
    n_iter : int
        Refinement steps (default 0).

    Shape
    -----
    ``(n_bins, frames)``, ``(batch, n_bins, frames)`` or ``(batch, channels, n_bins, frames)``, complex
    → ``(..., time)``, ``time = (frames - 1) * hop_length`` when centred (else
    ``width + (frames - 1) * hop_length``, ``width`` the longest kernel's length) or ``length``.

    Examples
    --------
    >>> from nnaudio_core import get_transform
    >>> cqt = get_transform("cqt2019")(sr=8000, fmin=100.0, n_bins=48, bins_per_octave=12, hop_length=32,
    ...                                output_format="Complex")
    >>> inverse = ICQT(sr=8000, fmin=100.0, n_bins=48, bins_per_octave=12, hop_length=32, n_iter=2)
    >>> x = torch.randn(2, 4000)
    >>> inverse(cqt(x), length=4000).shape
    torch.Size([2, 4000])
    """

    name = "icqt"
    input_kinds = frozenset({COMPLEX})
    params = (*_cqt_params(), N_ITER_PARAM)

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return resolve_bins(config)

    def cqt_config(self) -> dict[str, Any]:
        """The parameters of the forward ``cqt2019`` this transform inverts (``output_format="Complex"``)."""
        return {**{k: self.config[k] for k in CQT_PARAM_NAMES}, "output_format": "Complex"}

    def setup(self) -> None:
        self.cqt = CQT2019(**self.cqt_config())  # validates the CQT parameters (ParameterError naming them)
        c = self.config
        self.hop_length: int = c["hop_length"]
        self.n_bins: int = self.cqt.n_bins
        self.center: bool = c["center"]
        self.pad_mode: str = c["pad_mode"]
        self.n_iter: int = c["n_iter"]
        self.kernel_width: int = self.cqt.kernel_width

    def build_kernels(self) -> dict[str, Any]:
        c = self.config
        weights = icqt_weights(sr=c["sr"], fmin=c["fmin"], n_bins=self.n_bins, hop_length=self.hop_length,
                               bins_per_octave=c["bins_per_octave"], filter_scale=c["filter_scale"], norm=c["norm"],
                               window=c["window"], convention=c["lengths"], scale=self.cqt._scale())
        return {"weights": constant(weights)}

    def expected_rows(self) -> int:
        return self.n_bins

    def rows_hint(self) -> str:
        return "build icqt with the n_bins (or fmin/fmax) of the CQT it inverts"

    @torch.jit.unused  # eager-only checks (fold calls them); never part of a scripted forward
    def validate_input(self, x: Tensor) -> None:
        if not x.is_complex():
            raise ValueError(
                f"{self.name}: input dtype {x.dtype} is real; {self.name} takes a complex CQT (a cqt2019 or cqt1992 "
                "with output_format='Complex'); for a magnitude use griffin_lim_cqt"
            )
        super().validate_input(x)
        real_dtype = x.real.dtype
        kernel_dtype = self.kernel_dtype
        half = kernel_dtype in (torch.float16, torch.bfloat16)  # complex64 also (there is no complex bfloat16)
        if kernel_dtype is not None and real_dtype != kernel_dtype and not (half and real_dtype == torch.float32):
            raise ValueError(
                f"{self.name}: input dtype {x.dtype} does not match the transform's {kernel_dtype} (complex input of "
                f"{kernel_dtype} parts expected); call .to({real_dtype}) on the transform or cast the input"
            )
        if self.center and x.shape[-1] < 2:
            raise ValueError(f"{self.name}: input of shape {tuple(x.shape)} has {x.shape[-1]} frame; the default "
                             "output length (frames - 1) * hop_length needs at least 2 frames (or pass length=...)")

    def forward(self, x: Tensor, length: int | None = None) -> Tensor:
        """Invert a complex CQT.

        Parameters
        ----------
        x : torch.Tensor, complex
            ``(n_bins, frames)``, ``(batch, n_bins, frames)`` or ``(batch, channels, n_bins, frames)``.
        length : int, optional
            Samples to return: frames beyond what a clip of ``length`` gives are dropped, missing
            ones count as zeros (librosa's trimming or zero-padding); default: the shortest clip
            that gives ``frames`` frames.

        Returns
        -------
        torch.Tensor, real, shape (..., time)
        """
        if torch.jit.is_scripting():
            folded, batch = self._fold_scripted(x)
        else:
            self.check_length(length)
            folded, batch = self.fold(x)
        out = self.synthesise(folded, length)
        return out.reshape(batch.leading + list(out.shape[1:]))

    @torch.jit.unused
    def check_length(self, length: Any) -> None:
        """Raise ``ValueError`` unless ``length`` is ``None`` or a positive int."""
        if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 1):
            raise ValueError(f"{self.name}: length={length!r} is not allowed; expected a positive int or None")

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        return self.synthesise(x, None)

    def synthesise(self, x: Tensor, length: int | None = None) -> Tensor:
        """The folded computation: ``(N, n_bins, frames)`` complex → ``(N, length)`` real."""
        frames = x.shape[-1]
        if length is None:
            samples = icqt_length(frames, self.hop_length, self.center, self.kernel_width)
        else:
            samples = length
        needed = cqt_frame_count(samples, self.hop_length, self.center, self.kernel_width)
        real = x.real
        imag = x.imag
        if needed != frames:  # trim, or zero frames where the input has none
            real = torch.nn.functional.pad(real, [0, max(needed - frames, 0)])[..., :needed]
            imag = torch.nn.functional.pad(imag, [0, max(needed - frames, 0)])[..., :needed]
        return icqt(real, imag, self.cqt.cqt_kernels.tensors(), self.cqt.lowpass, self.cqt.scale, self.weights,
                    self.cqt._schedule, samples, self.n_iter, self.center, self.pad_mode)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        self.check_upstream(upstream)
        sr = self.config["sr"]
        if upstream is not None:
            problems = []
            if upstream.sr is not None and not np.isclose(upstream.sr, sr):
                problems.append(f"sr {upstream.sr:g} (icqt: {sr:g})")
            if upstream.hop_length is not None and upstream.hop_length != self.hop_length:
                problems.append(f"hop_length {upstream.hop_length} (icqt: {self.hop_length})")
            freqs = upstream.frequencies
            if freqs is not None and (len(freqs) != self.n_bins or not np.allclose(freqs, self.cqt.frequencies)):
                problems.append(f"bins from {float(freqs[0]):.2f} Hz (icqt: from {self.cqt.frequencies[0]:.2f} Hz)")
            if problems:
                raise ValueError(f"{self.name}: the CQT before it has {', '.join(problems)}; build icqt with the "
                                 "CQT's parameters")
        return SignalInfo(WAVEFORM, sr=sr, hop_length=None, frequencies=None, axes=("time",))

    def example_input(self, *leading: int, length: int = 16, seed: int = 0) -> Tensor:
        """The complex CQT (``length`` frames, ``n_bins`` rows) of random noise, as the forward gives it."""
        generator = torch.Generator().manual_seed(seed)
        dtype = self.kernel_dtype or torch.get_default_dtype()
        samples = icqt_length(max(length, 1), self.hop_length, self.center, self.kernel_width)
        count = 1
        for d in leading:
            count *= d
        x = torch.randn(count, max(samples, 1), generator=generator, dtype=torch.float64)
        with torch.no_grad():
            real, imag = cqt2019(x, [k.detach().double() for k in self.cqt.cqt_kernels.tensors()],
                                 self.cqt.lowpass.double(), self.cqt.scale.double(), self.cqt._schedule, self.center,
                                 self.pad_mode)
        out = torch.complex(real, imag)[..., :length]
        out = out.to(torch.complex128 if dtype == torch.float64 else torch.complex64)
        return out.reshape(list(leading) + list(out.shape[1:]))


def hashed_phases(bins: int, frames: int, seed: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """Pseudo-random phases in ``[0, 2 pi)`` of shape ``(bins, frames)``: an integer hash of ``(k, t, seed)``.

    Deterministic, independent of the batch and of the device, and scriptable (no generator).

    Examples
    --------
    >>> p = hashed_phases(3, 4, 0, torch.float32, torch.device("cpu"))
    >>> p.shape, bool(((p >= 0) & (p < 2 * torch.pi)).all())
    (torch.Size([3, 4]), True)
    """
    k = torch.arange(bins, device=device).unsqueeze(-1)
    t = torch.arange(frames, device=device).unsqueeze(0)
    h = (k * 73856093) ^ (t * 19349663) ^ (seed * 83492791 + 12345)
    h = torch.remainder(h * 0x45D9F3B, 2147483647)
    h = torch.remainder((h ^ (h // 65536)) * 0x45D9F3B, 2147483647)
    h = h ^ (h // 65536)
    return torch.remainder(h, 16777216).to(dtype) * (2 * torch.pi / 16777216)


INIT_CHOICES = ("random", "zeros")


class GriffinLimCQT(SpectrogramStep):
    """CQT magnitude ``(..., n_bins, frames)`` → waveform: librosa's ``griffinlim_cqt`` (fast Griffin-Lim).

    Starting from the magnitude ``M`` with random phases (``init="random"``, a hash of ``seed``) or
    zero phases (``"zeros"``), each of ``n_iter`` iterations inverts ``M * angles`` with the
    ``icqt`` child (attribute ``icqt``; its ``cqt`` child is the forward), takes the CQT of the
    result, and sets ``angles`` to the phase of ``rebuilt - momentum / (1 + momentum) * previous``
    (fast Griffin-Lim); the result is the inverse of ``M * angles``.

    Parameters
    ----------
    sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center, pad_mode,
    normalization_type, lengths, earlydownsample, trainable
        As :class:`ICQT` (those of the CQT the magnitude came from).
    n_iter : int
        Griffin-Lim iterations (default 32, as librosa).
    momentum : float
        Fast Griffin-Lim momentum, ``>= 0`` (default 0.99, as librosa; 0: plain Griffin-Lim).
    init : {"random", "zeros"}
        Initial phases (librosa's ``"random"`` or ``None``).
    seed : int
        Seed of the random initial phases.
    icqt_iter : int
        Refinement steps of every inner inverse (default 1; 0 is librosa's one-shot inverse: on the
        example recording, 84 bins, hop 512, 32 iterations, spectral convergence 0.45 with 0 steps
        (librosa 0.42) and 0.22 with 1 step, at about twice the cost per iteration).

    Shape
    -----
    ``(n_bins, frames)``, ``(batch, n_bins, frames)`` or ``(batch, channels, n_bins, frames)``, real
    → ``(..., time)`` as :class:`ICQT` (``forward(x, length=None)``).

    Examples
    --------
    >>> from nnaudio_core import get_transform
    >>> kw = dict(sr=8000, fmin=100.0, n_bins=48, bins_per_octave=12, hop_length=32)
    >>> magnitude = get_transform("cqt2019")(**kw)(torch.randn(4000))
    >>> GriffinLimCQT(**kw, n_iter=4)(magnitude, length=4000).shape
    torch.Size([4000])
    """

    name = "griffin_lim_cqt"
    input_kinds = frozenset({MAGNITUDE})
    params = (
        *_cqt_params(),
        Param("n_iter", 32, "Griffin-Lim iterations", type="int", low=0, high=100_000),
        Param("momentum", 0.99, "fast Griffin-Lim momentum (0: plain Griffin-Lim)", type="float", low=0, high=10),
        Param("init", "random", "initial phases: random (hashed from seed) or zeros", type="str",
              choices=INIT_CHOICES),
        Param("seed", 0, "seed of the random initial phases", type="int", low=0, high=2**31 - 1),
        Param("icqt_iter", 1, "conjugate-gradient steps of every inner inverse CQT (0: the one-shot inverse, as "
              "librosa; 1 halves the spectral convergence at twice the cost)",
              type="int", low=0, high=10_000),
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return resolve_bins(config)

    def setup(self) -> None:
        c = self.config
        self.icqt = ICQT(**{k: c[k] for k in CQT_PARAM_NAMES}, n_iter=c["icqt_iter"])
        self.hop_length: int = c["hop_length"]
        self.n_bins: int = self.icqt.n_bins
        self.center: bool = c["center"]
        self.kernel_width: int = self.icqt.kernel_width
        self.n_iter: int = c["n_iter"]
        self.momentum: float = float(c["momentum"])
        self.random_init: bool = c["init"] == "random"
        self.seed: int = c["seed"]

    def expected_rows(self) -> int:
        return self.n_bins

    def rows_hint(self) -> str:
        return "build griffin_lim_cqt with the n_bins (or fmin/fmax) of the CQT the magnitude came from"

    @torch.jit.unused  # eager-only checks (fold calls them); never part of a scripted forward
    def validate_input(self, x: Tensor) -> None:
        super().validate_input(x)
        if self.center and x.shape[-1] < 2:
            raise ValueError(f"{self.name}: input of shape {tuple(x.shape)} has {x.shape[-1]} frame; the default "
                             "output length (frames - 1) * hop_length needs at least 2 frames (or pass length=...)")

    def forward(self, x: Tensor, length: int | None = None) -> Tensor:
        """Reconstruct a waveform from a CQT magnitude (see :meth:`ICQT.forward` for ``length``)."""
        if torch.jit.is_scripting():
            folded, batch = self._fold_scripted(x)
        else:
            self.check_length(length)
            folded, batch = self.fold(x)
        out = self.reconstruct(folded, length)
        return out.reshape(batch.leading + list(out.shape[1:]))

    @torch.jit.unused
    def check_length(self, length: Any) -> None:
        """Raise ``ValueError`` unless ``length`` is ``None`` or a positive int."""
        if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 1):
            raise ValueError(f"{self.name}: length={length!r} is not allowed; expected a positive int or None")

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        return self.reconstruct(x, None)

    def reconstruct(self, x: Tensor, length: int | None = None) -> Tensor:
        """The folded computation: ``(N, n_bins, frames)`` magnitude → ``(N, length)``."""
        frames = x.shape[-1]
        samples = icqt_length(frames, self.hop_length, self.center, self.kernel_width) if length is None else length
        needed = cqt_frame_count(samples, self.hop_length, self.center, self.kernel_width)
        out_dtype = x.dtype
        mag = x.float() if x.dtype == torch.float16 or x.dtype == torch.bfloat16 else x
        if needed != frames:
            mag = torch.nn.functional.pad(mag, [0, max(needed - frames, 0)])[..., :needed]
        inverse = self.icqt
        cqt = inverse.cqt
        kernels = cqt.cqt_kernels.tensors()
        if self.random_init:
            angle = hashed_phases(self.n_bins, needed, self.seed, mag.dtype, mag.device)
            cos = torch.cos(angle).expand_as(mag)
            sin = torch.sin(angle).expand_as(mag)
        else:
            cos = torch.ones_like(mag)
            sin = torch.zeros_like(mag)
        prev_r = torch.zeros_like(mag)
        prev_i = torch.zeros_like(mag)
        compiled = False
        if not torch.jit.is_scripting():
            if compiling():  # one compiled iteration, reused: each is an inverse CQT and a CQT
                compiled = True
                for _ in range(self.n_iter):
                    cos, sin, prev_r, prev_i = _compiled_griffin_lim_cqt_iteration(
                        self, mag, cos.contiguous(), sin.contiguous(), prev_r, prev_i, samples
                    )
        if not compiled:
            for _ in range(self.n_iter):
                cos, sin, prev_r, prev_i = self.iterate(mag, cos, sin, prev_r, prev_i, samples)
        y = icqt(mag * cos, mag * sin, kernels, cqt.lowpass, cqt.scale, inverse.weights, cqt._schedule, samples,
                 inverse.n_iter, inverse.center, inverse.pad_mode)
        return y.to(out_dtype)

    def iterate(
        self, mag: Tensor, cos: Tensor, sin: Tensor, prev_r: Tensor, prev_i: Tensor, samples: int
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """One fast Griffin-Lim iteration: the new phasors ``(cos, sin)`` and the CQT parts they come from.

        ``mag``, the phasors and the previous parts are ``(N, n_bins, frames)`` in the working
        dtype; ``samples`` is the length of the signal the inverse CQT makes.
        """
        inverse = self.icqt
        cqt = inverse.cqt
        kernels = cqt.cqt_kernels.tensors()
        # reuse_steps=False: under torch.compile this method is itself a region compiled once
        y = icqt(mag * cos, mag * sin, kernels, cqt.lowpass, cqt.scale, inverse.weights, cqt._schedule, samples,
                 inverse.n_iter, inverse.center, inverse.pad_mode, False).to(mag.dtype)  # half modules: float32 here
        re, im = cqt2019(y, kernels, cqt.lowpass, cqt.scale, cqt._schedule, cqt.center, cqt.pad_mode)
        cos, sin = griffin_lim_phasors(re, im, prev_r, prev_i, self.momentum)
        return cos, sin, re, im

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        self.check_upstream(upstream)
        if upstream is not None:
            self.icqt.output_info(upstream.with_(kind=COMPLEX))
        return self.icqt.output_info(None)

    def example_input(self, *leading: int, length: int = 16, seed: int = 0) -> Tensor:
        """The CQT magnitude (``length`` frames) of random noise, as ``cqt2019`` gives it."""
        return self.icqt.example_input(*leading, length=length, seed=seed).abs()


@repeated_region
def _compiled_griffin_lim_cqt_iteration(
    module: GriffinLimCQT, mag: Tensor, cos: Tensor, sin: Tensor, prev_r: Tensor, prev_i: Tensor, samples: int
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """:meth:`GriffinLimCQT.iterate` as a region ``torch.compile`` compiles once (outputs contiguous, no aliases)."""
    cos, sin, re, im = module.iterate(mag, cos, sin, prev_r, prev_i, samples)
    contiguous = torch.contiguous_format  # the strides of every call's arguments alike: one compiled body
    return cos.contiguous(), sin.contiguous(), re.clone(memory_format=contiguous), im.clone(memory_format=contiguous)


@hookimpl
def nnaudio_register_transforms(register):
    register(ICQT)
    register(GriffinLimCQT)

