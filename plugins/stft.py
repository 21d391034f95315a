"""The ``stft`` transform: short-time Fourier transform with nnAudio's arguments.

Registered through the ``nnaudio.transforms`` entry point ``stft = "nnaudio_plugins.stft"``, exactly
as a third-party plugin would be.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from nnaudio_core import hookimpl
from nnaudio_core.budget import check_memory
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.capture import exporting
from nnaudio_core.functional.stft import OUTPUT_FORMATS, format_complex, format_pair, pad_frames, stft_conv, stft_fft
from nnaudio_core.kernels.fourier import FREQ_SCALES, fourier_bins, fourier_kernels, stft_window
from nnaudio_core.kernels.windows import window_problem
from nnaudio_core.kinds import COMPLEX, MAGNITUDE, PHASE, POWER, SignalInfo
from nnaudio_core.params import Param
from nnaudio_core.transform import BACKEND_PARAM, TRAINABLE_PARAM, Batch, ConvTransform, KernelTransform

OUTPUT_KINDS = {"Complex": COMPLEX, "Magnitude": MAGNITUDE, "Phase": PHASE, "Power": POWER}


class STFT(ConvTransform):
    """Short-time Fourier transform of a waveform, as a conv1d with (optionally trainable) kernels.

    Frame ``t`` is ``X[k, t] = sum_n x[t * hop_length + n - pad] * w[n] * exp(-2j pi f_k n / sr)``,
    ``pad = n_fft // 2`` when centred; librosa's ``stft`` for ``freq_scale="no"``.

    Parameters
    ----------
    n_fft : int
        Frame length in samples (default 2048).
    win_length : int, optional
        Window length, centred in the frame and zero-padded to ``n_fft`` (default ``n_fft``).
    freq_bins : int, optional
        Number of frequencies (default ``n_fft // 2 + 1``).
    hop_length : int, optional
        Samples between frames (default ``win_length // 4``).
    window : str or tuple
        Any :func:`scipy.signal.get_window` spec (periodic window).
    freq_scale : {"no", "linear", "log", "log2"}
        ``"no"``: the FFT grid from 0 Hz; the others: ``freq_bins`` frequencies from ``fmin``
        towards ``fmax`` spaced linearly or logarithmically (``"log"`` and ``"log2"`` are equal).
    center : bool
        Pad ``n_fft // 2`` on both sides so frame ``t`` is centred on sample ``t * hop_length``.
    pad_mode : {"reflect", "constant"}
        Padding used when ``center=True``.
    fmin, fmax : float
        Frequency range in Hz for the linear and log scales; ``fmax <= sr / 2``.
    sr : float
        Sample rate in Hz.
    trainable : bool
        Make the Fourier kernels an ``nn.Parameter``.
    output_format : {"Complex", "Magnitude", "Phase", "Power"}
        ``Complex``: a complex tensor; ``Magnitude``: ``|X|`` (zero gradient at ``X = 0``);
        ``Phase``: the angle; ``Power``: ``|X| ** 2``.
    backend : {"auto", "conv", "fft"}
        ``fft`` uses ``torch.stft`` and needs frozen kernels and ``freq_scale="no"``.

    Shape
    -----
    ``(time,)``, ``(batch, time)`` or ``(batch, channels, time)`` →
    ``(..., freq_bins, frames)`` with ``frames = 1 + (time + 2 * (n_fft // 2) - n_fft) // hop_length``
    when centred (``1 + time // hop_length`` for an even ``n_fft``; for an odd one the frame is one
    sample longer than the padding, as in librosa and torch.stft), else
    ``1 + (time - n_fft) // hop_length``.

    Examples
    --------
    >>> stft = STFT(n_fft=512, hop_length=128, output_format="Magnitude")
    >>> stft(torch.randn(2, 8000)).shape
    torch.Size([2, 257, 63])
    """

    name = "stft"
    fast_path = "fft"
    params = (
        Param("n_fft", 2048, "frame length in samples", type="int", low=1),
        Param("win_length", None, "window length (None: n_fft)", type="int", low=1, optional=True),
        Param("freq_bins", None, "number of frequency bins (None: n_fft // 2 + 1)", type="int", low=1, optional=True),
        Param("hop_length", None, "samples between frames (None: win_length // 4)", type="int", low=1, high=2**30,
              optional=True),
        Param("window", "hann", "analysis window, any scipy.signal.get_window spec", type="window"),
        Param("freq_scale", "no", "frequency spacing: the FFT grid ('no'), 'linear', 'log' or 'log2'", type="str",
              choices=FREQ_SCALES),
        Param("center", True, "centre frame t on sample t * hop_length by padding n_fft // 2", type="bool"),
        Param("pad_mode", "reflect", "padding when centred", type="str", choices=("reflect", "constant")),
        Param("fmin", 50.0, "lowest frequency in Hz for the linear and log scales", type="float", low=0),
        Param("fmax", 6000.0, "upper frequency in Hz for the linear and log scales (excluded)", type="float", low=0,
              low_open=True),
        Param("sr", 22050.0, "sample rate in Hz", type="float", low=1, high=1e7),
        TRAINABLE_PARAM,
        Param("output_format", "Complex", "what to return", type="str", choices=OUTPUT_FORMATS),
        BACKEND_PARAM,
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        n_fft = config["n_fft"]
        if config["win_length"] is None:
            config["win_length"] = n_fft
        if config["win_length"] > n_fft:
            raise ParameterError("win_length", config["win_length"], f"expected 1 <= win_length <= n_fft={n_fft}")
        if config["hop_length"] is None:
            if config["win_length"] < 4:
                raise ParameterError("hop_length", None, f"win_length={config['win_length']} < 4 gives a hop of 0; "
                                     "set hop_length >= 1")
            config["hop_length"] = config["win_length"] // 4
        if config["freq_scale"] == "no":
            if config["freq_bins"] is not None and config["freq_bins"] > n_fft // 2 + 1:
                raise ParameterError(
                    "freq_bins", config["freq_bins"],
                    f"with freq_scale='no' expected 1 <= freq_bins <= n_fft // 2 + 1 = {n_fft // 2 + 1}",
                )
        else:
            nyquist = config["sr"] / 2
            if config["fmax"] > nyquist:
                raise ParameterError("fmax", config["fmax"], f"expected fmax <= sr / 2 = {nyquist:g}")
            if config["fmin"] >= config["fmax"]:
                raise ParameterError("fmin", config["fmin"], f"expected fmin < fmax = {config['fmax']:g}")
            if config["freq_scale"] in ("log", "log2") and config["fmin"] <= 0:
                raise ParameterError("fmin", config["fmin"], "a log frequency scale needs fmin > 0")
        bins = config["freq_bins"] or n_fft // 2 + 1
        fast = config["freq_scale"] == "no" and config["backend"] != "conv" and not config["trainable"]
        size = {"n_fft": n_fft} if fast else {"n_fft": n_fft, "freq_bins": bins}
        check_memory(8 * n_fft * (2 if fast else 3 * bins), "window" if fast else "Fourier kernels", size)
        problem = window_problem(config["window"], config["win_length"])
        if problem:
            raise ParameterError("window", config["window"], f"a window usable for win_length={config['win_length']} "
                                 f"samples: {problem}")
        return config

    def setup(self) -> None:
        c = self.config
        self.n_fft: int = c["n_fft"]
        self.hop_length: int = c["hop_length"]
        self.center: bool = c["center"]
        self.pad_mode: str = c["pad_mode"]
        self.pad_amount: int = self.n_fft // 2 if self.center else 0
        self.output_format: str = c["output_format"]
        self.bins = fourier_bins(n_fft=self.n_fft, sr=c["sr"], freq_bins=c["freq_bins"], freq_scale=c["freq_scale"],
                                 fmin=c["fmin"], fmax=c["fmax"])
        self.freq_bins: int = len(self.bins)
        #: Analysis frequency of each bin in Hz, shape (freq_bins,).
        self.frequencies: np.ndarray = self.bins * c["sr"] / self.n_fft

    def fast_path_available(self) -> bool:
        return self.config["freq_scale"] == "no"

    def build_kernels(self) -> dict[str, np.ndarray]:
        window = stft_window(self.config["window"], win_length=self.config["win_length"], n_fft=self.n_fft)
        if self.backend == "fft":
            return {"window": window}
        real, imag = fourier_kernels(window, self.bins)
        return {"fourier": np.concatenate([real, imag])[:, None, :]}

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        self.check_upstream(upstream)
        return SignalInfo(OUTPUT_KINDS[self.output_format], sr=self.config["sr"], hop_length=self.hop_length,
                          frequencies=self.frequencies, axes=("freq", "frames"))

    def frame_count(self, length: int) -> int:
        """Frames for ``length`` samples: ``1 + (length + 2 * pad - n_fft) // hop_length`` (see Shape)."""
        return 1 + (length + 2 * self.pad_amount - self.n_fft) // self.hop_length

    @property
    def min_input_length(self) -> int:
        """Shortest input (samples) the configuration can transform."""
        if not self.center:
            return self.n_fft
        return self.pad_amount + 1 if self.pad_mode == "reflect" else 1

    def validate_input(self, x: Tensor) -> None:
        length = x.shape[-1]
        if length < self.min_input_length:
            hint = "use pad_mode='constant' or a smaller n_fft" if self.center else "use center=True or a smaller n_fft"
            raise ValueError(
                f"stft: input of {length} samples is too short for n_fft={self.n_fft}, center={self.center}, "
                f"pad_mode={self.pad_mode!r}: it needs at least {self.min_input_length} samples; {hint}"
            )

    def pad(self, x: Tensor) -> Tensor:
        return pad_frames(x, self.pad_amount, self.pad_mode)

    def inverse_transform(self) -> KernelTransform:
        """The ``istft`` with this STFT's parameters (frozen, on this STFT's device and dtype).

        Raises
        ------
        ValueError
            For a ``freq_scale`` other than ``"no"`` (only the FFT grid is invertible), or a window
            and hop that fail NOLA.
        """
        c = self.config
        if c["freq_scale"] != "no":
            raise ParameterError("freq_scale", c["freq_scale"], "'no' (the FFT grid) for an inverse STFT")
        from nnaudio_core.registry import get_transform

        params = {k: c[k] for k in ("n_fft", "win_length", "freq_bins", "hop_length", "window", "center", "sr")}
        inverse = get_transform("istft")(**params)
        tensors = [*self.parameters(), *self.buffers()]
        return inverse.to(device=tensors[0].device, dtype=tensors[0].dtype) if tensors else inverse

    @torch.jit.unused
    def inverse(self, X: Tensor, length: int | None = None) -> Tensor:  # noqa: N803 (the spectrogram)
        """The waveform whose STFT is ``X``: ``istft`` with this STFT's parameters (``librosa.istft``).

        Parameters
        ----------
        X : torch.Tensor
            Complex ``(..., freq_bins, frames)`` (this STFT's ``output_format="Complex"`` output).
        length : int, optional
            Samples to return (trimmed or zero-padded at the end).

        Returns
        -------
        torch.Tensor, shape (..., samples)

        Examples
        --------
        >>> stft = STFT(n_fft=512, hop_length=128)
        >>> x = torch.randn(8000)
        >>> bool((stft.inverse(stft(x), length=8000) - x).abs().max() < 1e-4)
        True
        """
        return self.inverse_transform()(X, length=length)

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        # each path has its own kernel: `window` on the fft path, `fourier` on the conv path (TorchScript
        # resolves hasattr when it compiles, so a scripted module holds only the path it uses)
        if hasattr(self, "window") and not exporting():
            spec = stft_fft(self.pad(x), self.window, self.n_fft, self.hop_length, self.freq_bins)
            return format_complex(spec, self.output_format, self.window.dtype)
        # ONNX has no complex tensors: while exporting, the same values from the real and imaginary parts
        real, imag = self.compute_parts(x, batch)
        return format_pair(real, imag, self.output_format)

    def compute_parts(self, x: Tensor, batch: Batch) -> tuple[Tensor, Tensor]:
        """The real and imaginary parts ``(N, freq_bins, frames)`` of the folded ``x`` ``(N, time)``'s STFT.

        Real tensors on either path (the fft path's complex result seen as its parts), in the
        kernels' dtype: what a real-valued pipeline such as Griffin-Lim iterates on.
        """
        padded = self.pad(x)
        if hasattr(self, "window"):
            spec = stft_fft(padded, self.window, self.n_fft, self.hop_length, self.freq_bins)
            parts = torch.view_as_real(spec).to(self.window.dtype)
            return parts[..., 0], parts[..., 1]
        return stft_conv(padded, self.fourier, self.hop_length)


@hookimpl
def nnaudio_register_transforms(register):
    register(STFT)
