"""What a pipeline's output means, as far as the app can tell: the one place it reads transforms.

Transforms have no documented output-metadata API yet, so the app relies on conventions of the
bundled ones: the first step's ``sr`` (in its ``config``) is the rate it expects, its
``hop_length`` (attribute, else ``config``) the samples between frames, and the last step exposing
``frequencies`` names the centre frequency of each output row, unless a later step turned the rows
into features (MFCC). :func:`output_axes` is the only function that reads them; everything else in
the app (the commands, extraction, pictures) asks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..transform import FEATURES, WAVEFORM


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
    first = pipeline[0]
    config = getattr(first, "config", {})
    rate = config.get("sr")
    hop = getattr(first, "hop_length", config.get("hop_length"))
    kinds_in, kind = [], WAVEFORM
    for step in pipeline:
        kinds_in.append(kind)
        kind = step.output_kind(kind)
    frequencies = None
    for step, step_in in zip(reversed(list(pipeline)), reversed(kinds_in), strict=True):
        if step.output_kind(step_in) == FEATURES and step_in != FEATURES:
            break  # this step made coefficients: the rows are no longer frequencies
        found = getattr(step, "frequencies", None)
        if found is not None:
            frequencies = np.asarray(found, dtype=np.float64).reshape(-1)
            break
    return OutputAxes(None if rate is None else float(rate), hop, frequencies, kind)
