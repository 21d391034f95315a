"""Inverse transforms: ``istft``, ``griffin_lim``, ``inverse_mel`` and ``mfcc_to_mel``.

Registered through the ``nnaudio.transforms`` entry point ``inverse = "nnaudio_plugins.inverse"``.

* ``istft``: complex STFT → waveform, window-sum-square normalised (librosa's ``istft``), by
  ``irfft`` + overlap-add (frozen, ``backend="fft"``) or by ``conv_transpose1d`` with inverse
  Fourier kernels (``backend="conv"``, trainable). ``STFT.inverse`` uses it.
* ``griffin_lim``: magnitude (or power) STFT → waveform by fast Griffin-Lim (librosa's
  ``griffinlim``); a composite of an ``stft`` and an ``istft``.
* ``inverse_mel``: mel power spectrogram → linear power spectrogram, the non-negative least-squares
  solution of ``mel_basis @ S = M`` (librosa's ``feature.inverse.mel_to_stft``), batched on the device.
* ``mfcc_to_mel``: MFCCs → mel power spectrogram (librosa's ``feature.inverse.mfcc_to_mel``).

Every one takes ``forward(X, length=None)`` where a waveform comes out (``length``: the number of
samples returned, trimmed or zero-padded as librosa's).
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
import torch
from nnaudio_plugins.declarations import (
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
    params_of,
)
from nnaudio_plugins.stft import STFT
from torch import Tensor

from nnaudio_core import hookimpl
from nnaudio_core.budget import check_memory
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.capture import compiling, exporting, repeated_region
from nnaudio_core.functional.dtypes import dtype_max, is_half
from nnaudio_core.functional.spectral import apply_filterbank, magnitude_power
from nnaudio_core.functional.istft import (
    griffin_lim_phases,
    griffin_lim_phasors,
    inverse_envelope,
    istft_conv,
    istft_fft,
    nnls_projected_gradient,
)
from nnaudio_core.kernels.dct import dct_matrix, lifter_weights
from nnaudio_core.kernels.fourier import fourier_bins, inverse_fourier_kernels, nola_problem, stft_window
from nnaudio_core.kernels.mel import mel_filterbank
from nnaudio_core.kinds import COMPLEX, FEATURES, MAGNITUDE, POWER, WAVEFORM, SignalInfo
from nnaudio_core.params import Param
from nnaudio_core.transform import TRAINABLE_PARAM, Batch, SpectrogramStep, constant

_STFT_NAMES = ("n_fft", "win_length", "freq_bins", "hop_length", "window", "center", "sr", "trainable", "backend")
#: The values of the STFT's other parameters when its validation runs for an inverse.
_STFT_FIXED = {"freq_scale": "no", "pad_mode": "reflect", "fmin": 50.0, "fmax": 6000.0, "output_format": "Complex"}


def _check_stft_config(owner: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The STFT's own checks and derived defaults (``win_length``, ``hop_length``) plus NOLA, on ``config``."""
    full = {**_STFT_FIXED, **config}
    STFT.validate_config(owner, full)
    for key in ("win_length", "hop_length"):
        config[key] = full[key]
    window = stft_window(config["window"], win_length=config["win_length"], n_fft=config["n_fft"])
    problem = nola_problem(window, config["hop_length"])
    if problem:
        raise ParameterError(
            "hop_length", config["hop_length"],
            f"a hop for which window={config['window']!r} (win_length={config['win_length']}) satisfies NOLA: "
            f"{problem}; use a smaller hop_length or a longer window",
        )
    return config


def _check_length(name: str, length: Any) -> None:
    if length is not None and (isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1):
        raise ValueError(f"{name}: length={length!r} is not allowed; expected None or an int >= 1 (samples returned)")


class ISTFT(SpectrogramStep):
    """Inverse short-time Fourier transform: complex spectrogram → waveform (``librosa.istft``).

    ``y[n] = sum_t w[n - t hop] frame_t[n - t hop] / sum_t w[n - t hop] ** 2`` with ``frame_t`` the
    inverse real DFT of column ``t`` (bins beyond ``freq_bins`` are zeros), the sum divided only
    where the window-sum-square is above the dtype's ``tiny`` (at the ends of an uncentred signal
    it may not be), then cut as ``librosa.istft``. The arguments are the
    :class:`~nnaudio_plugins.stft.STFT`'s: the inverse of ``stft(**same)`` on the FFT grid.

    Parameters
    ----------
    n_fft, win_length, freq_bins, hop_length, window, center, sr
        As :class:`~nnaudio_plugins.stft.STFT`; the window and hop must satisfy NOLA (every sample
        of the steady state is covered by a non-zero window value), else ``ParameterError``.
    trainable : bool
        Make the inverse Fourier kernels ``inverse_fourier`` ``(2 * freq_bins, 1, n_fft)`` an
        ``nn.Parameter`` (the ``conv`` path; the normalising window-sum-square stays fixed).
    backend : {"auto", "conv", "fft"}
        ``fft``: ``torch.fft.irfft`` and overlap-add (frozen kernels); ``conv``:
        ``conv_transpose1d`` with the inverse Fourier kernels.

    Shape
    -----
    Complex ``(freq_bins, frames)``, ``(batch, freq_bins, frames)`` or ``(batch, channels,
    freq_bins, frames)`` → ``(..., samples)``: ``samples = hop_length * (frames - 1)`` when centred
    (``n_fft + hop_length * (frames - 1) - 2 * (n_fft // 2)``), ``n_fft + hop_length * (frames -
    1)`` otherwise, or ``length`` when given. Complex64 input for float32 (and half precision)
    transforms, complex128 for float64.

    Examples
    --------
    >>> stft = STFT(n_fft=512, hop_length=128)
    >>> istft = ISTFT(n_fft=512, hop_length=128)
    >>> x = torch.randn(2, 8000)
    >>> y = istft(stft(x), length=8000)
    >>> y.shape, bool((y - x).abs().max() < 1e-4)
    (torch.Size([2, 8000]), True)
    """

    name = "istft"
    fast_path = "fft"
    input_kinds = frozenset({COMPLEX})
    params = params_of(STFT.params, *_STFT_NAMES)

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return _check_stft_config(self, config)

    def setup(self) -> None:
        c = self.config
        self.n_fft: int = c["n_fft"]
        self.hop_length: int = c["hop_length"]
        self.center: bool = c["center"]
        self.bins = fourier_bins(n_fft=self.n_fft, sr=c["sr"], freq_bins=c["freq_bins"])
        self.freq_bins: int = len(self.bins)

    def build_kernels(self) -> dict[str, Any]:
        window = stft_window(self.config["window"], win_length=self.config["win_length"], n_fft=self.n_fft)
        if self.backend == "fft":
            return {"window": window}
        return {"inverse_fourier": inverse_fourier_kernels(window, self.bins)[:, None, :],
                "window_square": constant(window**2)}

    def expected_rows(self) -> int:
        return self.freq_bins

    def rows_hint(self) -> str:
        return f"n_fft={self.n_fft}, freq_bins={self.config['freq_bins']}: set them to the STFT's"

    def signal_length(self, frames: int) -> int:
        """Samples returned for ``frames`` frames when ``length`` is not given (see Shape)."""
        full = self.n_fft + self.hop_length * (frames - 1)
        return full - 2 * (self.n_fft // 2) if self.center else full

    def validate_input(self, x: Tensor) -> None:
        super().validate_input(x)
        if not x.is_complex():
            raise ValueError(
                f"{self.name}: input dtype {x.dtype} is real; {self.name} takes a complex spectrogram (an stft with "
                "output_format='Complex'); for a (..., 2) real/imaginary layout use torch.view_as_complex"
            )
        dtype = self.kernel_dtype
        wanted = torch.complex128 if dtype == torch.float64 else torch.complex64
        if x.dtype != wanted:
            raise ValueError(
                f"{self.name}: input dtype {x.dtype} does not match the transform's {dtype} kernels, which take "
                f"{wanted} input; cast the input or call .to(torch.float64) / .to(torch.float32) on the transform"
            )
        if not exporting() and self.signal_length(int(x.shape[-1])) < 1:
            raise ValueError(
                f"{self.name}: {x.shape[-1]} frame(s) give no samples (n_fft={self.n_fft}, hop_length="
                f"{self.hop_length}, center={self.center}); pass more frames"
            )

    def forward(self, x: Tensor, length: Optional[int] = None) -> Tensor:
        """Invert ``x``; ``length`` samples when given (trimmed or zero-padded at the end, as librosa).

        Parameters
        ----------
        x : torch.Tensor
            Complex ``(freq_bins, frames)``, ``(batch, freq_bins, frames)`` or ``(batch, channels,
            freq_bins, frames)``.
        length : int, optional
            Samples to return.

        Returns
        -------
        torch.Tensor
            ``(..., samples)`` with the leading dims of ``x``.
        """
        if torch.jit.is_scripting():
            folded, batch = self._fold_scripted(x)
        else:
            _check_length(self.name, length)
            folded, batch = self.fold(x)
        out = self.synthesise(folded, length)
        return out.reshape(batch.leading + list(out.shape[1:]))

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        return self.synthesise(x, None)

    def envelope(self, frames: int) -> Tensor:
        """The inverse window-sum-square of ``frames`` frames (what :meth:`synthesise` multiplies by)."""
        if hasattr(self, "window"):
            window = self.window.float() if is_half(self.window.dtype) else self.window
            return inverse_envelope(window * window, frames, self.hop_length)
        square = self.window_square.float() if is_half(self.window_square.dtype) else self.window_square
        return inverse_envelope(square, frames, self.hop_length)

    def synthesise(self, x: Tensor, length: Optional[int], envelope: Optional[Tensor] = None) -> Tensor:
        """The waveform ``(N, samples)`` of the folded complex spectrogram ``x`` ``(N, freq_bins, frames)``.

        ``envelope``: :meth:`envelope` for these frames, when the caller reuses it (Griffin-Lim).
        """
        if hasattr(self, "window"):
            y = istft_fft(x, self.window, self.n_fft, self.hop_length, self.center, length, envelope)
            return y.to(self.window.dtype)
        return self.synthesise_parts(x.real, x.imag, length, envelope)

    def synthesise_parts(
        self, real: Tensor, imag: Tensor, length: Optional[int], envelope: Optional[Tensor] = None
    ) -> Tensor:
        """:meth:`synthesise` of ``real + i imag`` given as real tensors ``(N, freq_bins, frames)``.

        The fft path views the parts as one complex tensor only for ``irfft`` (which exports to
        ONNX); the conv path takes them as they are.
        """
        if hasattr(self, "window"):
            spec = torch.view_as_complex(torch.stack([real, imag], dim=-1))
            y = istft_fft(spec, self.window, self.n_fft, self.hop_length, self.center, length, envelope)
            return y.to(self.window.dtype)
        kernels = self.inverse_fourier
        if is_half(kernels.dtype):  # complex input is complex64: the sum runs in float32
            kernels = kernels.float()
        else:
            real, imag = real.to(kernels.dtype), imag.to(kernels.dtype)
        y = istft_conv(real, imag, kernels, self.window_square.to(kernels.dtype), self.hop_length, self.center, length,
                       envelope)
        return y.to(self.window_square.dtype)

    def check_upstream(self, upstream: SignalInfo | None) -> SignalInfo | None:
        upstream = super().check_upstream(upstream)
        if upstream is not None and upstream.hop_length is not None and upstream.hop_length != self.hop_length:
            raise ValueError(f"{self.name}: the step before has hop_length={upstream.hop_length}, this step "
                             f"hop_length={self.hop_length}: set hop_length to the STFT's")
        return upstream

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        upstream = self.check_upstream(upstream)
        sr = self.config["sr"] if upstream is None or upstream.sr is None else upstream.sr
        return SignalInfo(WAVEFORM, sr=sr)

    def example_input(self, *leading: int, length: int = 16, seed: int = 0) -> Tensor:
        """The complex STFT (this transform's window, hop and bins) of white noise: ``(*leading, freq_bins, length)``."""
        generator = torch.Generator().manual_seed(seed)
        dtype = self.kernel_dtype or torch.get_default_dtype()
        dtype = torch.float64 if dtype == torch.float64 else torch.float32
        samples = self.n_fft + self.hop_length * (length - 1)
        noise = torch.randn(int(np.prod(leading, dtype=np.int64)), samples, generator=generator, dtype=dtype)
        window = torch.from_numpy(stft_window(self.config["window"], win_length=self.config["win_length"],
                                              n_fft=self.n_fft)).to(dtype)
        spec = torch.stft(noise, self.n_fft, self.hop_length, window=window, center=False, return_complex=True)
        return spec[:, : self.freq_bins].reshape(*leading, self.freq_bins, length).contiguous()


_GL_STFT_NAMES = ("n_fft", "win_length", "freq_bins", "hop_length", "window", "center", "pad_mode", "sr")


class GriffinLim(SpectrogramStep):
    """Waveform from a magnitude (or power) spectrogram by fast Griffin-Lim (``librosa.griffinlim``).

    With ``S = X ** (1 / power)`` and unit phasors ``P`` (random or all ones), each of the
    ``n_iter`` iterations takes ``Y = stft(istft(S P))`` and sets ``P`` to the phasors of
    ``Y - momentum / (1 + momentum) * Y_previous`` (Perraudin, Balazs and Sondergaard 2013; 0 is
    the original Griffin-Lim); the result is ``istft(S P, length)``. The iterations run on the
    whole batch at once, with the ``stft`` and ``istft`` children (attributes ``stft``, ``istft``).

    Parameters
    ----------
    n_fft, win_length, freq_bins, hop_length, window, center, pad_mode, sr
        As :class:`~nnaudio_plugins.stft.STFT` (``pad_mode``: the padding of the inner STFT).
    n_iter : int
        Iterations, ``>= 0`` (default 32).
    momentum : float
        Fast Griffin-Lim momentum, ``0 <= momentum <= 1`` (default 0.99).
    power : float
        Exponent of the input: 1 for a magnitude spectrogram, 2 for a power one (default 1).
    init : {"random", "zeros"}
        Starting phases: pseudo-random from ``seed`` (the same for every example and on every
        backend), or zero phase (librosa's ``init=None``).
    seed : int
        Seed of the random starting phases.
    trainable : bool
        Make the children's kernels ``nn.Parameter`` s (the ``conv`` paths).
    backend : {"auto", "conv", "fft"}
        Paths of the children.

    Shape
    -----
    ``(freq_bins, frames)``, ``(batch, freq_bins, frames)`` or ``(batch, channels, freq_bins,
    frames)`` → ``(..., samples)`` as :class:`ISTFT`.

    Examples
    --------
    >>> stft = STFT(n_fft=512, hop_length=128, output_format="Magnitude")
    >>> gl = GriffinLim(n_fft=512, hop_length=128, n_iter=8)
    >>> gl(stft(torch.randn(2, 8000)), length=8000).shape
    torch.Size([2, 8000])
    """

    name = "griffin_lim"
    input_kinds = frozenset({MAGNITUDE, POWER})
    params = (
        *params_of(STFT.params, *_GL_STFT_NAMES),
        Param("n_iter", 32, "Griffin-Lim iterations", type="int", low=0, high=100000),
        Param("momentum", 0.99, "fast Griffin-Lim momentum (0: the original algorithm)", type="float", low=0, high=1),
        Param("power", 1.0, "exponent of the input spectrogram (1: magnitude, 2: power)", type="float", low=0,
              low_open=True, high=16),
        Param("init", "random", "starting phases: 'random' (from seed) or 'zeros'", type="str",
              choices=("random", "zeros")),
        Param("seed", 0, "seed of the random starting phases", type="int", low=0, high=2**62),
        TRAINABLE_PARAM,
        *params_of(STFT.params, "backend"),
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        inner = {k: config[k] for k in ("n_fft", "win_length", "freq_bins", "hop_length", "window", "center", "sr",
                                        "trainable", "backend")}
        _check_stft_config(self, inner)
        config["win_length"], config["hop_length"] = inner["win_length"], inner["hop_length"]
        return config

    def setup(self) -> None:
        c = self.config
        common = {k: c[k] for k in ("n_fft", "win_length", "freq_bins", "hop_length", "window", "center", "sr",
                                    "trainable", "backend")}
        self.stft = STFT(**common, pad_mode=c["pad_mode"], output_format="Complex")
        self.istft = ISTFT(**common)
        self.n_iter: int = c["n_iter"]
        self.momentum: float = float(c["momentum"])
        self.power: float = float(c["power"])
        self.random_init: bool = c["init"] == "random"
        self.seed: int = int(c["seed"])
        self.freq_bins: int = self.istft.freq_bins

    def expected_rows(self) -> int:
        return self.freq_bins

    def rows_hint(self) -> str:
        return self.istft.rows_hint()

    @property
    def min_frames(self) -> int:
        """Fewest input frames: their ``istft`` must be long enough for the inner ``stft``'s padding."""
        frames = 1
        while self.istft.signal_length(frames) < self.stft.min_input_length:
            frames += 1
        return frames

    def validate_input(self, x: Tensor) -> None:
        super().validate_input(x)
        if exporting():  # a guard on the frame count would pin the exported program's dynamic time
            return
        samples = self.istft.signal_length(int(x.shape[-1]))
        if samples < self.stft.min_input_length:
            raise ValueError(
                f"{self.name}: {x.shape[-1]} frames give {samples} samples, fewer than the {self.stft.min_input_length} "
                f"the inner stft (n_fft={self.stft.n_fft}, pad_mode={self.stft.pad_mode!r}) needs; pass more frames "
                "or use pad_mode='constant'"
            )

    def forward(self, x: Tensor, length: Optional[int] = None) -> Tensor:
        """Reconstruct a waveform from ``x``; ``length`` samples when given (as :meth:`ISTFT.forward`).

        Parameters
        ----------
        x : torch.Tensor
            Real ``(freq_bins, frames)`` with up to two leading dims: ``|X| ** power``.
        length : int, optional
            Samples to return.

        Returns
        -------
        torch.Tensor
            ``(..., samples)`` with the leading dims of ``x``.
        """
        if torch.jit.is_scripting():
            folded, batch = self._fold_scripted(x)
        else:
            _check_length(self.name, length)
            folded, batch = self.fold(x)
        out = self.reconstruct(folded, batch, length)
        return out.reshape(batch.leading + list(out.shape[1:]))

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        return self.reconstruct(x, batch, None)

    def reconstruct(self, x: Tensor, batch: Batch, length: Optional[int]) -> Tensor:
        """The Griffin-Lim waveform ``(N, samples)`` of the folded ``x`` ``(N, freq_bins, frames)``."""
        dtype = x.dtype
        work = torch.float32 if is_half(dtype) else dtype  # no half-precision FFTs on CPU, no complex bfloat16
        magnitude = x.to(work) if self.power == 1.0 else magnitude_power(x.to(work), 2.0 / self.power)
        # real and imaginary parts throughout (no complex tensors: the loop exports to ONNX)
        if self.random_init:
            cos, sin = griffin_lim_phases([x.shape[1], x.shape[2]], self.seed, x.device)
            cos, sin = cos.to(work), sin.to(work)
        else:
            cos, sin = torch.ones_like(magnitude), torch.zeros_like(magnitude)
        previous_real = torch.zeros_like(magnitude)
        previous_imag = torch.zeros_like(magnitude)
        envelope = self.istft.envelope(x.shape[2]).to(work)
        if not torch.jit.is_scripting():
            if compiling():  # one compiled iteration, reused: unrolled, 32 iterations took inductor minutes
                cos = cos.expand_as(magnitude).contiguous()  # every call's arguments alike: one region
                sin = sin.expand_as(magnitude).contiguous()
                for _ in range(self.n_iter):
                    cos, sin, previous_real, previous_imag = _compiled_griffin_lim_iteration(
                        self, magnitude, cos, sin, previous_real, previous_imag, envelope, batch, dtype
                    )
                return self.istft.synthesise_parts(magnitude * cos, magnitude * sin, length, envelope).to(dtype)
        for _ in range(self.n_iter):
            cos, sin, previous_real, previous_imag = self.iterate(
                magnitude, cos, sin, previous_real, previous_imag, envelope, batch, dtype
            )
        return self.istft.synthesise_parts(magnitude * cos, magnitude * sin, length, envelope).to(dtype)

    def iterate(
        self, magnitude: Tensor, cos: Tensor, sin: Tensor, previous_real: Tensor, previous_imag: Tensor,
        envelope: Tensor, batch: Batch, dtype: torch.dtype,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """One fast Griffin-Lim iteration: the new phasors ``(cos, sin)`` and the STFT parts they come from.

        ``magnitude``, the phasors and the previous STFT parts ``(N, freq_bins, frames)`` are in
        the working dtype; ``dtype`` is the module's (what the inner STFT takes).
        """
        inverse = self.istft.synthesise_parts(magnitude * cos, magnitude * sin, None, envelope)
        real, imag = self.stft.compute_parts(inverse.to(dtype), batch)
        real, imag = real.to(magnitude.dtype), imag.to(magnitude.dtype)
        cos, sin = griffin_lim_phasors(real, imag, previous_real, previous_imag, self.momentum)
        return cos, sin, real, imag

    def check_upstream(self, upstream: SignalInfo | None) -> SignalInfo | None:
        upstream = super().check_upstream(upstream)  # the kind and the rows
        if upstream is not None:
            self.istft.check_upstream(upstream.with_(kind=COMPLEX))  # the hop
        return upstream

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        if upstream is not None and upstream.kind in (POWER, MAGNITUDE):
            wanted = 2.0 if upstream.kind == POWER else 1.0
            if self.power != wanted:
                raise ValueError(f"{self.name}: the step before produces {upstream.kind}, but power={self.power:g}; "
                                 f"set power: {wanted:g} (the exponent of the input)")
        self.check_upstream(upstream)
        sr = self.config["sr"] if upstream is None or upstream.sr is None else upstream.sr
        return SignalInfo(WAVEFORM, sr=sr)

    def example_input(self, *leading: int, length: int = 16, seed: int = 0) -> Tensor:
        """``|X| ** power`` of the complex example of :meth:`ISTFT.example_input`."""
        spec = self.istft.example_input(*leading, length=length, seed=seed).abs()
        return spec if self.power == 1.0 else spec**self.power


@repeated_region
def _compiled_griffin_lim_iteration(
    module: GriffinLim, magnitude: Tensor, cos: Tensor, sin: Tensor, previous_real: Tensor, previous_imag: Tensor,
    envelope: Tensor, batch: Batch, dtype: torch.dtype,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """:meth:`GriffinLim.iterate` as a region ``torch.compile`` compiles once (outputs contiguous, no aliases)."""
    cos, sin, real, imag = module.iterate(magnitude, cos, sin, previous_real, previous_imag, envelope, batch, dtype)
    contiguous = torch.contiguous_format  # the strides of every call's arguments alike: one compiled body
    real, imag = real.clone(memory_format=contiguous), imag.clone(memory_format=contiguous)
    return cos.contiguous(), sin.contiguous(), real, imag


class InverseMel(SpectrogramStep):
    """Linear power spectrogram from a mel power spectrogram: ``argmin_{S >= 0} ||mel_basis @ S - M||``.

    The non-negative least-squares problem of ``librosa.feature.inverse.mel_to_stft`` (for
    ``power=1``: what is returned is the power spectrogram itself), solved for the whole batch at
    once on the device: start from the pseudo-inverse solution clipped at 0 (``pinv``, a fixed
    kernel), then ``n_iter`` accelerated projected-gradient steps (FISTA) with the diagonal step
    ``1 / (|mel_basis.T @ mel_basis| @ 1)`` (from the kernel ``curvature``; recomputed from a trained
    basis). No scipy at forward time.

    Parameters
    ----------
    sr, n_fft, n_mels, fmin, fmax, htk, norm
        The mel filterbank, as the ``mel_scale`` step (the one that made ``M``).
    n_iter : int
        Projected-gradient iterations (default 500; 0: the clipped pseudo-inverse). The error falls
        geometrically: on the benchmark's HTK filterbank (n_fft 1024, 64 mels, ``norm=None``) 200
        iterations leave 2.2x librosa's error, 500 leave 0.02x.
    trainable : bool
        Make ``mel_basis`` an ``nn.Parameter`` (the pseudo-inverse and the steps stay fixed).

    Shape
    -----
    ``(..., n_mels, frames)`` → ``(..., n_fft // 2 + 1, frames)``.

    Examples
    --------
    >>> from nnaudio_plugins.spectral import MelScale
    >>> mel = MelScale(sr=16000, n_fft=512, n_mels=40)
    >>> power = torch.rand(2, 257, 10)
    >>> approx = InverseMel(sr=16000, n_fft=512, n_mels=40)(mel(power))
    >>> approx.shape, bool((approx >= 0).all())
    (torch.Size([2, 257, 10]), True)
    """

    name = "inverse_mel"
    input_kinds = frozenset({POWER})
    params = (
        SR_PARAM,
        Param("n_fft", 2048, "FFT length of the linear spectrogram (n_fft // 2 + 1 rows out)", type="int", low=1),
        N_MELS_PARAM,
        FMIN_PARAM,
        FMAX_PARAM,
        HTK_PARAM,
        mel_norm_param("norm", "slaney"),
        Param("n_iter", 500, "projected-gradient iterations after the clipped pseudo-inverse", type="int", low=0,
              high=100000),
        TRAINABLE_PARAM,
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        check_mel_range(config)
        sizes = {"n_mels": config["n_mels"], "n_fft": config["n_fft"]}
        check_memory(6 * 8 * config["n_mels"] * (config["n_fft"] // 2 + 1), "mel filterbank and pseudo-inverse", sizes)
        return config

    def setup(self) -> None:
        c = self.config
        self.n_bins: int = c["n_fft"] // 2 + 1
        self.fmax: float = check_mel_range(dict(c))
        self._basis64 = mel_filterbank(sr=c["sr"], n_fft=c["n_fft"], n_mels=c["n_mels"], fmin=c["fmin"], fmax=self.fmax,
                                       htk=c["htk"], norm=filter_norm(c["norm"]))
        self.n_iter: int = c["n_iter"]
        self.learns_basis: bool = bool(c["trainable"])

    def build_kernels(self) -> dict[str, Any]:
        curvature = np.abs(self._basis64.T @ self._basis64).sum(axis=1)[:, None]  # the steps are its inverse
        return {"mel_basis": self._basis64, "pinv": constant(np.linalg.pinv(self._basis64)),
                "curvature": constant(curvature)}

    def expected_rows(self) -> int:
        return self.config["n_mels"]

    def rows_hint(self) -> str:
        return f"n_mels={self.config['n_mels']}: set n_mels to the mel step's"

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        dtype = x.dtype
        basis, pinv, curvature = self.mel_basis, self.pinv, self.curvature
        if is_half(dtype):  # the solve needs float32's range and precision
            x, basis, pinv, curvature = x.float(), basis.float(), pinv.float(), curvature.float()
        if self.learns_basis:  # a trained basis may have any sign: Gershgorin's bound |B^T B| 1 still majorises
            curvature = torch.matmul(basis.transpose(0, 1), basis).abs().sum(dim=1, keepdim=True)
        step = torch.where(curvature > 0, 1.0 / curvature.clamp(min=1e-30), torch.zeros_like(curvature))
        start = apply_filterbank(pinv, x)
        return nnls_projected_gradient(basis, x, start, step, self.n_iter).to(dtype)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        c = self.config
        frequencies = np.arange(self.n_bins) * c["sr"] / c["n_fft"]
        sr = c["sr"] if upstream is None or upstream.sr is None else upstream.sr
        return self.passthrough_info(upstream, POWER, sr=sr, frequencies=frequencies)


class MFCCToMel(SpectrogramStep):
    """Mel power spectrogram from MFCCs: ``ref * 10 ** (idct(mfcc) / 10)`` (``librosa.feature.inverse.mfcc_to_mel``).

    The coefficients are un-liftered (divided by the liftering weights), zero-padded to ``n_mels``
    and inverted with the type-II DCT's inverse (the kernel ``idct_basis`` ``(n_mels, n_mfcc)``),
    giving decibels, which are turned back into power relative to ``ref``. The ``top_db`` floor of
    the forward MFCC is not invertible.

    Parameters
    ----------
    n_mfcc : int
        Number of input coefficients (rows), ``<= n_mels`` (default 20).
    n_mels : int
        Number of mel bands out (default 128).
    dct_type : int
        Only 2.
    norm : {"ortho", None}
        The forward DCT's normalisation (default ``"ortho"``).
    ref : float
        The forward ``power_to_db``'s reference power (default 1.0).
    lifter : float
        The forward liftering coefficient (0: none).
    trainable : bool
        Make ``idct_basis`` an ``nn.Parameter``.

    Shape
    -----
    ``(..., n_mfcc, frames)`` → ``(..., n_mels, frames)``.

    Examples
    --------
    >>> mel_db = 10 * torch.log10(torch.rand(2, 40, 5) + 0.1)
    >>> coefficients = torch.from_numpy(dct_matrix(40, 40)).float() @ mel_db
    >>> power = MFCCToMel(n_mfcc=40, n_mels=40)(coefficients)
    >>> bool(torch.allclose(10 * torch.log10(power), mel_db, atol=1e-4))
    True
    """

    name = "mfcc_to_mel"
    input_kinds = frozenset({FEATURES})
    params = (
        Param("n_mfcc", 20, "number of input coefficients, <= n_mels", type="int", low=1),
        N_MELS_PARAM,
        DCT_TYPE_PARAM,
        DCT_NORM_PARAM,
        # bounded so that ref * 10 ** (dB / 10) and its gradient stay finite in float32
        Param("ref", 1.0, "reference power of 0 dB (the forward power_to_db's ref)", type="float", low=0,
              low_open=True, high=1e30),
        LIFTER_PARAM,
        TRAINABLE_PARAM,
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        if config["n_mfcc"] > config["n_mels"]:
            raise ParameterError("n_mfcc", config["n_mfcc"], f"expected 1 <= n_mfcc <= n_mels = {config['n_mels']}")
        sizes = {"n_mels": config["n_mels"]}
        check_memory(3 * 8 * config["n_mels"] ** 2, "inverse DCT matrix", sizes)
        return config

    def setup(self) -> None:
        self.log_ref: float = float(np.log10(self.config["ref"]))

    def build_kernels(self) -> dict[str, Any]:
        c = self.config
        full = dct_matrix(c["n_mels"], c["n_mels"], norm=c["norm"])  # (n_mels coefficients, n_mels bands)
        inverse = np.linalg.inv(full)[:, : c["n_mfcc"]]
        return {"idct_basis": inverse / lifter_weights(c["n_mfcc"], c["lifter"])[None, :]}

    def expected_rows(self) -> int:
        return self.config["n_mfcc"]

    def rows_hint(self) -> str:
        return f"n_mfcc={self.config['n_mfcc']}: set n_mfcc to the MFCC's"

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        db = apply_filterbank(self.idct_basis, x)
        # the largest finite power of the dtype instead of inf (the decibels of a huge input)
        largest = math.log10(dtype_max(db.dtype)) - 0.001
        return torch.pow(10.0, (db * 0.1 + self.log_ref).clamp(max=largest))

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        upstream = self.check_upstream(upstream)
        base = upstream if upstream is not None else SignalInfo(FEATURES, axes=("coefficient", "frames"))
        return base.with_(kind=POWER, frequencies=None, axes=("freq", "frames"))


@hookimpl
def nnaudio_register_transforms(register):
    register(ISTFT)
    register(GriffinLim)
    register(InverseMel)
    register(MFCCToMel)
