"""The ``pcen`` step: per-channel energy normalisation (``librosa.pcen``), optionally learnable (LEAF).

Registered through the ``nnaudio.transforms`` entry point ``pcen = "nnaudio_plugins.pcen"``.

A spectrogram step, typically after ``mel``::

    pipeline:
      - mel: {sr: 22050, n_fft: 2048, hop_length: 512, n_mels: 128, power: 1.0}
      - pcen: {sr: 22050, hop_length: 512}

The smoother runs as a blocked scan (:func:`nnaudio_core.functional.pcen.linear_recurrence`), not
a loop over frames, so it is fast on a GPU and exports with a dynamic number of frames.

Compatibility with librosa 0.11
-------------------------------
``librosa.pcen(S, sr, hop_length, gain, bias, power, time_constant, eps, b, max_size)`` with its
defaults; ``ref``, ``axis``, ``max_axis``, ``zi`` and ``return_zf`` are not parameters (time is the
last axis, frequency the one before). librosa's initial filter state is
``scipy.signal.lfilter_zi([b], [1, b - 1])``, unscaled: the smoother starts from ``M[-1] = 1``
whatever the scale of ``S`` (``initial_state="librosa"``, the default). ``initial_state=
"first_frame"`` starts from ``M[-1] = S[..., 0]`` (``lfilter_zi(...) * S[..., 0]``, the steady
state of the first frame, as LEAF's PCEN), which does not depend on the input's scale.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from nnaudio_plugins.declarations import SR_PARAM
from torch import Tensor

from nnaudio_core import hookimpl
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.pcen import pcen
from nnaudio_core.kinds import FEATURES, MAGNITUDE, POWER, SignalInfo
from nnaudio_core.params import Param
from nnaudio_core.transform import TRAINABLE_PARAM, Batch, SpectrogramStep

INITIAL_STATES = ("librosa", "first_frame")


def smoothing_coefficient(sr: float, hop_length: int, time_constant: float) -> float:
    """librosa's ``b`` for a time constant: ``(sqrt(1 + 4 T ** 2) - 1) / (2 T ** 2)``, ``T = time_constant * sr / hop``.

    Examples
    --------
    >>> round(smoothing_coefficient(22050, 512, 0.4), 6)
    0.056389
    """
    frames = time_constant * sr / float(hop_length)
    return float((math.sqrt(1 + 4 * frames**2) - 1) / (2 * frames**2))


def _log(value: float) -> float:
    return math.log(value) if value > 0 else -math.inf


def _logit(s: float) -> float:
    if s <= 0:
        return -math.inf
    if s >= 1:
        return math.inf
    return math.log(s) - math.log1p(-s)


class PCEN(SpectrogramStep):
    """Per-channel energy normalisation: ``(S / (eps + M) ** gain + bias) ** power - bias ** power``.

    ``M[t] = (1 - s) M[t - 1] + s R[t]`` is ``R`` (the input ``S``, or its maximum over
    ``max_size`` neighbouring rows) smoothed along the frames, with ``s = b``, or else librosa's
    ``(sqrt(1 + 4 T ** 2) - 1) / (2 T ** 2)`` for ``T = time_constant * sr / hop_length`` frames.
    Equal to ``librosa.pcen`` with the same arguments (``initial_state="librosa"``).

    The four parameters are stored reparameterised as kernels of shape ``(K, 1)`` (``K = n_bands``
    when given, else 1 for all rows): ``log_gain``, ``log_bias``, ``log_power`` and
    ``logit_smooth`` (``gain = exp(log_gain)``, ..., ``s = sigmoid(logit_smooth)``). With
    ``trainable=True`` they are ``nn.Parameter`` s, so any value the optimiser reaches is a valid
    PCEN (``gain, bias, power > 0``, ``0 < s < 1``): the learnable PCEN of LEAF, per channel
    with ``n_bands``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz of the audio (default 22050).
    hop_length : int
        Samples between frames of the input (default 512).
    gain : float
        Gain ``>= 0`` (default 0.98); ``> 0`` when trainable.
    bias : float
        Bias ``>= 0`` (default 2); ``> 0`` when trainable.
    power : float
        Compression exponent ``>= 0`` (default 0.5; 0: ``log1p``); ``> 0`` when trainable.
    time_constant : float
        Smoother time constant in seconds, ``> 0`` (default 0.4).
    eps : float
        Floor added to ``M``, ``> 0`` (default 1e-6).
    b : float, optional
        The smoothing coefficient ``s`` in ``[0, 1]`` itself (default None: from ``time_constant``);
        ``0 < b < 1`` when trainable.
    max_size : int
        Rows of the frequency max filter applied before smoothing (default 1: none).
    initial_state : {"librosa", "first_frame"}
        ``M[-1] = 1`` (librosa's ``lfilter_zi``) or ``M[-1] = R[..., 0]``.
    n_bands : int, optional
        Number of rows; the parameters are then per row (default None: any rows, shared parameters).
    trainable : bool
        Make the four parameters ``nn.Parameter`` s.

    Shape
    -----
    ``(..., freq, frames)``, unchanged.

    Examples
    --------
    >>> step = PCEN(sr=16000, hop_length=160)
    >>> step(torch.rand(2, 40, 100)).shape
    torch.Size([2, 40, 100])
    >>> learnable = PCEN(sr=16000, hop_length=160, n_bands=40, trainable=True)
    >>> [tuple(p.shape) for p in learnable.parameters()]
    [(40, 1), (40, 1), (40, 1), (40, 1)]
    """

    name = "pcen"
    input_kinds = frozenset({MAGNITUDE, POWER})
    params = (
        SR_PARAM,
        Param("hop_length", 512, "samples between frames of the input spectrogram", type="int", low=1),
        Param("gain", 0.98, "gain exponent of the normalisation (> 0 when trainable)", type="float", low=0, high=1e3),
        Param("bias", 2.0, "bias of the compression (> 0 when trainable)", type="float", low=0, high=1e6),
        Param("power", 0.5, "compression exponent (0: log1p; > 0 when trainable)", type="float", low=0, high=1e3),
        Param("time_constant", 0.4, "time constant of the smoother in seconds", type="float", low=0, low_open=True,
              high=1e6),
        Param("eps", 1e-6, "floor added to the smoothed spectrogram", type="float", low=0, low_open=True, high=1e6),
        Param("b", None, "smoothing coefficient in [0, 1] (None: from time_constant, sr and hop_length)",
              type="float", low=0, high=1, optional=True),
        Param("max_size", 1, "rows of the frequency max filter before smoothing (1: none)", type="int", low=1,
              high=10_000),
        Param("initial_state", "librosa", "smoother state before the first frame: 'librosa' (M = 1, "
              "lfilter_zi) or 'first_frame' (M = the first frame)", type="str", choices=INITIAL_STATES),
        Param("n_bands", None, "number of input rows; the parameters are per row (None: any rows, shared)",
              type="int", low=1, high=100_000, optional=True),
        TRAINABLE_PARAM,
    )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        s = config["b"] if config["b"] is not None else smoothing_coefficient(
            config["sr"], config["hop_length"], config["time_constant"])
        if config["trainable"]:
            for key in ("gain", "bias", "power"):
                if not config[key] > 0:
                    raise ParameterError(key, config[key], f"expected {key} > 0 with trainable=True (it is learnt "
                                         f"as log({key}))")
            if not 0 < s < 1:
                what = "b" if config["b"] is not None else "time_constant"
                raise ParameterError(what, config[what], f"the smoothing coefficient {s:g} must be in (0, 1) with "
                                     "trainable=True (it is learnt as logit(s))")
        return config

    def setup(self) -> None:
        c = self.config
        self.smooth: float = c["b"] if c["b"] is not None else smoothing_coefficient(
            c["sr"], c["hop_length"], c["time_constant"])
        self.eps: float = float(c["eps"])
        self.max_size: int = int(c["max_size"])
        self.first_frame: bool = c["initial_state"] == "first_frame"
        trainable = bool(c["trainable"])
        self.power_zero: bool = not trainable and c["power"] == 0
        self.bias_zero: bool = not trainable and c["bias"] == 0 and not self.power_zero
        self.n_channels: int = 1 if c["n_bands"] is None else int(c["n_bands"])

    def build_kernels(self) -> dict[str, np.ndarray]:
        c = self.config
        values = {"log_gain": _log(c["gain"]), "log_bias": _log(c["bias"]), "log_power": _log(c["power"]),
                  "logit_smooth": _logit(self.smooth)}
        return {name: np.full((self.n_channels, 1), value, dtype=np.float64) for name, value in values.items()}

    def expected_rows(self) -> int | None:
        return self.config["n_bands"]

    def rows_hint(self) -> str:
        return f"n_bands={self.config['n_bands']}: set n_bands to the number of rows (n_mels), or None for any"

    def compute(self, x: Tensor, batch: Batch) -> Tensor:
        return pcen(x, self.log_gain, self.log_bias, self.log_power, self.logit_smooth, self.eps, self.max_size,
                    self.first_frame, self.power_zero, self.bias_zero)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        c = self.config
        if upstream is not None:
            for key, theirs in (("sr", upstream.sr), ("hop_length", upstream.hop_length)):
                if theirs is not None and not math.isclose(float(theirs), float(c[key]), rel_tol=1e-9):
                    raise ValueError(f"pcen: built for {key}={c[key]!r}, but the step before has {key}={theirs!r}; "
                                     f"set the pcen step's {key} to {theirs!r} (its time constant is in seconds)")
        return self.passthrough_info(upstream, FEATURES)


@hookimpl
def nnaudio_register_transforms(register):
    register(PCEN)
