"""What a pipeline's output means for the app: the one place it reads transform metadata.

Every transform describes its output through the documented contract,
:meth:`nnaudio_core.KernelTransform.output_info` (a :class:`nnaudio_core.SignalInfo`: kind, sample
rate, hop, frequency of each row); :func:`output_axes` reads it from the pipeline, and everything
else in the app (the commands, extraction, pictures) asks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class OutputAxes:
    """The time and frequency layout of a pipeline's output.

    Attributes
    ----------
    sample_rate : float or None
        Rate the pipeline expects its input at (``None``: any, files keep their own).
    hop_length : int or None
        Input samples between output frames, or ``None`` when unknown.
    frequencies : numpy.ndarray or None
        Centre frequency in Hz of each output row (float64, 1-D), or ``None`` when the rows are not
        frequencies.
    kind : str
        What the output values are (``"magnitude"``, ``"power"``, ``"features"``, ...).
    """

    sample_rate: float | None
    hop_length: int | None
    frequencies: np.ndarray | None
    kind: str


def output_axes(pipeline: Any) -> OutputAxes:
    """Read a built pipeline's input rate, hop, row frequencies and output kind from its steps.

    Parameters
    ----------
    pipeline : Pipeline
        From :func:`nnaudio_core.build_transform` (its steps' ``config`` have the defaults filled in).

    Returns
    -------
    OutputAxes

    Examples
    --------
    >>> from nnaudio_core import build_transform
    >>> axes = output_axes(build_transform({"stft": {"n_fft": 512, "hop_length": 128}}, device="cpu"))
    >>> axes.sample_rate, axes.hop_length, axes.frequencies.shape, axes.kind
    (22050.0, 128, (257,), 'complex')
    """
    info = pipeline.output_info()
    frequencies = None if info.frequencies is None else np.array(info.frequencies, dtype=np.float64)
    return OutputAxes(None if info.sr is None else float(info.sr), info.hop_length, frequencies, info.kind)
