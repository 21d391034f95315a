"""nnAudio 0.3's module ``nnAudio.Spectrogram``: the classes of :mod:`nnaudio_core.compat`.

Switching from nnAudio is one import line (``from nnaudio_core import Spectrogram``); the classes,
their arguments and layouts are described in :mod:`nnaudio_core.compat`. nnAudio classes this
library does not provide raise ``AttributeError`` naming the alternative.

Examples
--------
>>> from nnaudio_core import Spectrogram
>>> Spectrogram.CQT2019 is Spectrogram.CQT2010v2
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
    UNSUPPORTED,
    VQT,
    Combined_Frequency_Periodicity,
    CQT1992v2,
    CQT2010v2,
    Gammatonegram,
    Griffin_Lim,
    MelSpectrogram,
    iCQT,
    iSTFT,
)
from .compat._layout import missing_attribute

__all__ = ["CFP", "CQT", "CQT1992", "CQT1992v2", "CQT2010", "CQT2010v2", "CQT2019", "Griffin_Lim", "MFCC", "STFT", "STFTBase",
           "UNSUPPORTED", "VQT", "Combined_Frequency_Periodicity", "Gammatonegram", "MelSpectrogram", "iCQT", "iSTFT"]


def __getattr__(name: str) -> Any:
    raise missing_attribute(__name__, name, __all__)
