"""Kinds of data flowing between transforms, and the metadata that travels with them.

A transform declares the kinds it accepts (``input_kinds``) and, through
:meth:`~nnaudio_core.KernelTransform.output_info`, what it produces: a :class:`SignalInfo` with the
kind, the sample rate, the hop between frames, the frequency of each row and the names of the
core axes. Specs use the kinds to reject chains that do not fit (``dct`` straight after an STFT);
the command line, the plots and the inverse transforms read the rest.

Kinds
-----
WAVEFORM
    Audio samples, core shape ``(time,)``.
COMPLEX
    A complex spectrogram ``X``, core shape ``(freq, frames)``.
MAGNITUDE
    ``|X|``.
POWER
    ``|X| ** 2``.
PHASE
    ``angle(X)`` in radians.
DECIBELS
    A magnitude or power spectrogram in dB.
FEATURES
    Real-valued coefficients that are not a spectrogram (MFCC, mel power raised to 1.5 ...).

Examples
--------
>>> from nnaudio_core import get_transform, kinds
>>> info = get_transform("stft")(n_fft=512, hop_length=128, sr=16000).output_info()
>>> info.kind == kinds.COMPLEX, info.hop_length, info.sr, info.axes
(True, 128, 16000.0, ('freq', 'frames'))
>>> float(info.frequencies[1])
31.25
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

WAVEFORM = "waveform"
COMPLEX = "complex"
MAGNITUDE = "magnitude"
POWER = "power"
PHASE = "phase"
DECIBELS = "decibels"
FEATURES = "features"

#: Every kind, in the order above.
ALL_KINDS = (WAVEFORM, COMPLEX, MAGNITUDE, POWER, PHASE, DECIBELS, FEATURES)
#: Kinds with a ``(freq, frames)`` core.
SPECTRAL_KINDS = frozenset(ALL_KINDS[1:])

__all__ = [
    "ALL_KINDS",
    "COMPLEX",
    "DECIBELS",
    "FEATURES",
    "MAGNITUDE",
    "PHASE",
    "POWER",
    "SPECTRAL_KINDS",
    "WAVEFORM",
    "SignalInfo",
]


@dataclass(frozen=True, eq=False)
class SignalInfo:
    """What a transform produces (or consumes): its kind and the meaning of its axes.

    Parameters
    ----------
    kind : str
        One of :data:`ALL_KINDS`.
    sr : float, optional
        Sample rate in Hz of the audio the data came from (``None``: unknown).
    hop_length : int, optional
        Samples of that audio between frames (``None`` for waveforms or when unknown).
    frequencies : numpy.ndarray, optional
        Frequency in Hz of each row, shape ``(rows,)``; ``None`` when the rows are not
        frequencies (MFCC coefficients) or for waveforms.
    axes : tuple of str
        Names of the core dimensions: ``("time",)`` for waveforms, ``("freq", "frames")`` for
        spectrograms, ``("coefficient", "frames")`` for features.

    Examples
    --------
    >>> SignalInfo(WAVEFORM, sr=22050.0).seconds_per_frame is None
    True
    >>> SignalInfo(POWER, sr=22050.0, hop_length=512, axes=("freq", "frames")).seconds_per_frame
    0.023219954648526078
    """

    kind: str
    sr: float | None = None
    hop_length: int | None = None
    frequencies: np.ndarray | None = None
    axes: tuple[str, ...] = ("time",)

    def __post_init__(self) -> None:
        if self.kind not in ALL_KINDS:
            raise ValueError(f"kind={self.kind!r} is not a kind; expected one of {', '.join(ALL_KINDS)}")
        if self.frequencies is not None:
            frequencies = np.asarray(self.frequencies, dtype=np.float64)
            frequencies.setflags(write=False)
            object.__setattr__(self, "frequencies", frequencies)

    @property
    def rows(self) -> int | None:
        """Number of frequency rows when known (``len(frequencies)``), else ``None``."""
        return None if self.frequencies is None else len(self.frequencies)

    @property
    def seconds_per_frame(self) -> float | None:
        """``hop_length / sr`` when both are known."""
        if self.sr is None or self.hop_length is None:
            return None
        return self.hop_length / self.sr

    def with_(self, **changes: Any) -> SignalInfo:
        """A copy with some fields changed, e.g. ``info.with_(kind=DECIBELS)``."""
        return replace(self, **changes)

    def __repr__(self) -> str:
        rows = "None" if self.frequencies is None else f"<{len(self.frequencies)} rows>"
        return (f"SignalInfo(kind={self.kind!r}, sr={self.sr!r}, hop_length={self.hop_length!r}, "
                f"frequencies={rows}, axes={self.axes!r})")
