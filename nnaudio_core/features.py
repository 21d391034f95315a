"""nnAudio's newer module name for the same classes: ``from nnaudio_core import features``.

nnAudio 0.3 moved its layers from ``nnAudio.Spectrogram`` to ``nnAudio.features``; both names
work here and give the very same classes (those of :mod:`nnaudio_core.compat`).

Examples
--------
>>> from nnaudio_core import Spectrogram, features
>>> features.CQT2010v2 is Spectrogram.CQT2010v2
True
"""

from __future__ import annotations

from typing import Any

from .compat import (
    CFP,
    CQT,
    CQT1992,
    CQT2010,
    CQT2019,
    MFCC,
    STFT,
    STFTBase,
    VQT,
    Combined_Frequency_Periodicity,
    CQT1992v2,
    CQT2010v2,
    Gammatonegram,
    Griffin_Lim,
    MelSpectrogram,
    iSTFT,
)
from .compat._layout import missing_attribute

__all__ = ["CFP", "CQT", "CQT1992", "CQT1992v2", "CQT2010", "CQT2010v2", "CQT2019", "Griffin_Lim", "MFCC", "STFT", "STFTBase", "VQT",
           "Combined_Frequency_Periodicity", "Gammatonegram", "MelSpectrogram", "iSTFT"]


def __getattr__(name: str) -> Any:
    raise missing_attribute(__name__, name, __all__)
