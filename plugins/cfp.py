"""The ``cfp`` transform: the combined frequency and periodicity representation (nnAudio's CFP).

Registered through the ``nnaudio.transforms`` entry point ``cfp = "nnaudio_plugins.cfp"``.

Compatibility with nnAudio 0.3.4
--------------------------------
``Combined_Frequency_Periodicity(fr, fs, hop_length, window_size, fc, tc, g, NumPerOct)`` returns
the tuple ``(Z, tfrL0, tfrLF, tfrLQ)`` (combined, spectrum, frequency and periodicity
representations) without the first and the last frame; ``CFP`` returns ``Z`` with every frame. A
transform returns one tensor, so this one has ``output_format``: ``"Z"`` (default, as ``CFP``),
``"spectrum"``, ``"frequency"``, ``"periodicity"``, or ``"all"``: the four stacked on a last dim
in nnAudio's order, ``(..., bands, frames, 4)`` (like the ``(..., 2)`` of a complex pair). The facade classes
``Spectrogram.Combined_Frequency_Periodicity`` and ``Spectrogram.CFP`` return nnAudio's layouts.
The numbers are nnAudio's, including its quirks: the log-frequency maps' row 0 is zero, the
frequency axis steps by ``fs / (N - 2)`` rather than ``fs / N`` and a bin exactly on a triangle
corner weighs 0. nnAudio 0.3.4 calls ``scipy.signal.blackmanharris``, which current scipy only has
as ``scipy.signal.windows.blackmanharris``; this transform needs neither.
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
from nnaudio_core.functional.cfp import OUTPUTS, cfp
from nnaudio_core.kernels.cfp import cfp_axes, frequency_to_log, log_frequency_centres, quefrency_to_log
from nnaudio_core.kernels.windows import get_window
from nnaudio_core.kinds import FEATURES, SignalInfo
from nnaudio_core.params import Param
from nnaudio_core.transform import TRAINABLE_PARAM, Batch, constant

OUTPUT_FORMATS = (*OUTPUTS, "all")


def check_g(value: Any) -> str | None:
    """``g``: a list of at least two exponents ``>= 0`` (0: a logarithm)."""
    if isinstance(value, (list, tuple)) and len(value) >= 2 and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= 100
            for v in value):
        return None
    return "a list of at least 2 exponents between 0 and 100 (0: a logarithm), e.g. [0.24, 0.6, 1]"


class CFP(KernelTransform):
    """Combined frequency and periodicity representation of a waveform (Su and Yang 2015; nnAudio's).

    Frames of ``N = int(fs / fr)`` samples (the symmetric Blackman-Harris window of
    ``window_size`` samples centred in them, zero padding when centred) give ``|X| / ||h||``; then
    layers alternate ``Re DFT / sqrt(N)``, a rectified power ``g[i]`` and zeroing the first and the
    last ``round(fs * tc)`` (cepstrum) or ``round(fc / fr)`` (spectrum) bins
    (:func:`nnaudio_core.functional.cfp.cfp`). The spectrum, the last spectral layer and the last
    cepstral layer are mapped onto ``NumPerOct`` log-frequency bands per octave from ``fc`` to
    ``1 / tc`` (kernels ``freq_to_log`` and ``quef_to_log``, :mod:`nnaudio_core.kernels.cfp`);
    ``Z`` is the product of the two mapped layers.

    Parameters
    ----------
    fr : float
        Frequency resolution in Hz, ``N = int(fs / fr)`` (default 2).
    fs : float
        Sample rate in Hz (default 16000).
    hop_length : int
        Samples between frames (default 320).
    window_size : int
        Window length, ``<= N`` (default 2049).
    fc : float
        Lowest frequency in Hz (default 80).
    tc : float
        Inverse of the highest frequency, in seconds (default 1/1000: 1 kHz).
    g : list of float
        Exponents of the layers, at least 2 (default ``[0.24, 0.6, 1]``).
    NumPerOct : int
        Bands per octave (default 48).
    output_format : {"Z", "spectrum", "frequency", "periodicity", "all"}
        The representation returned, or all four stacked (default ``"Z"``).
    trainable : bool
        Make the window and the two log-frequency maps ``nn.Parameter`` s.

    Shape
    -----
    ``(time,)``, ``(batch, time)`` or ``(batch, channels, time)`` → ``(..., bands, frames)``
    (``"all"``: ``(..., bands, frames, 4)``, in the order Z, spectrum, frequency, periodicity),
    ``frames = 1 + time // hop_length``.

    Examples
    --------
    >>> layer = CFP(fs=8000, fr=20, window_size=301, hop_length=80, fc=100, tc=1 / 2000, NumPerOct=12)
    >>> layer(torch.randn(2, 8000)).shape
    torch.Size([2, 51, 101])
    >>> CFP(fs=8000, fr=20, window_size=301, hop_length=80, fc=100, tc=1 / 2000, NumPerOct=12,
    ...     output_format="all")(torch.randn(8000)).shape
    torch.Size([51, 101, 4])
    """

    name = "cfp"
    params = (
        Param("fr", 2.0, "frequency resolution in Hz (FFT length int(fs / fr))", type="float", low=0, low_open=True),
        Param("fs", 16000.0, "sample rate in Hz", type="float", low=1, high=1e7),
        Param("hop_length", 320, "samples between frames", type="int", low=1),
        Param("window_size", 2049, "length of the Blackman-Harris window (<= int(fs / fr))", type="int", low=1),
        Param("fc", 80.0, "lowest frequency in Hz", type="float", low=0, low_open=True),
        Param("tc", 1 / 1000, "inverse of the highest frequency, in seconds", type="float", low=0, low_open=True),
        Param("g", [0.24, 0.6, 1.0], "exponents of the layers (0: a logarithm)", type="any", check=check_g,
              allowed_text="a list of at least 2 exponents between 0 and 100"),
        Param("NumPerOct", 48, "log-frequency bands per octave", type="int", low=1, high=10_000),
        Param("output_format", "Z", "the representation returned: 'Z' (combined), 'spectrum', 'frequency', "
              "'periodicity', or 'all' (stacked on a last dim in that order)", type="str", choices=OUTPUT_FORMATS),
        TRAINABLE_PARAM,
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        fs, fr, fc, tc = config["fs"], config["fr"], config["fc"], config["tc"]
        n = int(fs / float(fr))
        if n < 4:
            raise ParameterError("fr", fr, f"expected fr <= fs / 4 = {fs / 4:g} (the FFT length int(fs / fr) >= 4)")
        check_memory(8 * 8 * n, "CFP frames", {"fs": fs, "fr": fr})
        if config["window_size"] > n:
            raise ParameterError("window_size", config["window_size"], f"expected window_size <= int(fs / fr) = {n}")
        if not 1.0 / tc > fc:
            raise ParameterError("tc", tc, f"expected 1 / tc > fc = {fc:g} Hz")
        if round(fs * tc) < 1 or round(fc / fr) < 1:
            what, value = ("tc", tc) if round(fs * tc) < 1 else ("fc", fc)
            raise ParameterError(what, value, "expected round(fs * tc) >= 1 and round(fc / fr) >= 1 (the bins zeroed "
                                 "at both ends of the cepstral and spectral layers)")
        _, f, q = cfp_axes(fr, fs, fc, tc)
        if len(f) > round(n / 2) or len(q) > round(n / 2):
            raise ParameterError("fr", fr, f"the bands up to 1 / tc = {1 / tc:g} Hz and down to fc = {fc:g} Hz need "
                                 f"more than the {round(n / 2)} bins of int(fs / fr) = {n}: lower fr, fc or raise tc")
        if len(log_frequency_centres(fc, tc, config["NumPerOct"])) < 3:
            raise ParameterError("NumPerOct", config["NumPerOct"], "expected at least 3 log-frequency centres between "
                                 "fc and 1 / tc: raise NumPerOct or widen the range")
        config["g"] = [float(v) for v in config["g"]]
        return config

    def setup(self) -> None:
        c = self.config
        self.n_fft: int = int(c["fs"] / float(c["fr"]))
        self.hop_length: int = int(c["hop_length"])
        self.g: list[float] = [float(v) for v in c["g"]]
        self.output: str = c["output_format"]
        self.centres = log_frequency_centres(c["fc"], c["tc"], c["NumPerOct"])

    def build_kernels(self) -> dict[str, Any]:
        c = self.config
        n, f, q = cfp_axes(c["fr"], c["fs"], c["fc"], c["tc"])
        window = np.zeros(n)
        start = (n - c["window_size"]) // 2  # centred in the frame, as torch.stft pads a short window
        window[start : start + c["window_size"]] = get_window("blackmanharris", c["window_size"], fftbins=False)
        masks = {}
        for name, cutoff in (("spectrum_mask", round(c["fc"] / c["fr"])), ("cepstrum_mask", round(c["fs"] * c["tc"]))):
            mask = np.ones(n)
            mask[:cutoff] = 0.0
            mask[n - cutoff:] = 0.0
            masks[name] = constant(mask)
        return {"window": window, "freq_to_log": frequency_to_log(f, self.centres, c["fr"]),
                "quef_to_log": quefrency_to_log(q, self.centres, c["fs"]), **masks}

    def frame_count(self, length: int) -> int:
        return 1 + length // self.hop_length

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        return cfp(x, self.window, self.freq_to_log, self.quef_to_log, self.spectrum_mask, self.cepstrum_mask,
                   self.n_fft, self.hop_length, self.g, self.output)

    @property
    def frequencies(self) -> np.ndarray:
        """Centre frequency in Hz of each band (row 0, always zero as in nnAudio, at ``fc``)."""
        return self.centres[:-1].copy()

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        self.check_upstream(upstream)
        axes = ("freq", "frames", "representation") if self.output == "all" else ("freq", "frames")
        return SignalInfo(FEATURES, sr=self.config["fs"], hop_length=self.hop_length,
                          frequencies=self.frequencies, axes=axes)


@hookimpl
def nnaudio_register_transforms(register):
    register(CFP)
