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

from typing import Any, Optional

import numpy as np
import torch
from nnaudio_plugins.declarations import (
    DCT_NORM_PARAM,
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
from nnaudio_core.functional.dtypes import is_half
from nnaudio_core.functional.istft import (
    griffin_lim_phases,
    istft_conv,
    istft_fft,
    nnls_projected_gradient,
)
from nnaudio_core.kernels.dct import dct_matrix, lifter_weights
from nnaudio_core.kernels.fourier import fourier_bins, inverse_fourier_kernels, nola_problem, stft_window
from nnaudio_core.kernels.mel import mel_filterbank, mel_frequencies
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

    def synthesise(self, x: Tensor, length: Optional[int]) -> Tensor:
        """The waveform ``(N, samples)`` of the folded complex spectrogram ``x`` ``(N, freq_bins, frames)``."""
        if hasattr(self, "window"):
            y = istft_fft(x, self.window, self.n_fft, self.hop_length, self.center, length)
            return y.to(self.window.dtype)
        kernels = self.inverse_fourier
        real, imag = x.real, x.imag
        if is_half(kernels.dtype):  # complex input is complex64: the sum runs in float32
            kernels = kernels.float()
        else:
            real, imag = real.to(kernels.dtype), imag.to(kernels.dtype)
        y = istft_conv(real, imag, kernels, self.window_square.to(kernels.dtype), self.hop_length, self.center, length)
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


@hookimpl
def nnaudio_register_transforms(register):
    register(ISTFT)
