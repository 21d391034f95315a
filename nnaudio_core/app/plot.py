"""Spectrogram pictures for ``nnaudio run``: log-magnitude (dB) images with time and frequency axes.

matplotlib is imported lazily (the figure API only, no pyplot, so no GUI backend is touched); it
comes with the ``cli`` extra: ``pip install "nnaudio-core[cli]"``.

The frequency axis is read from the pipeline by :func:`nnaudio_core.app.metadata.output_axes`: the
last step exposing ``frequencies`` (the centre frequency of each output bin in Hz, as ``stft``, mel
and CQT transforms do) labels the rows. A geometric (constant-Q) set of frequencies is labelled with
note names and Hz, any other in Hz (round values for evenly spaced rows, as an STFT's; round values
spread over the rows for mel bands, dense at low frequencies); a pipeline ending in features (MFCC)
or without ``frequencies`` is labelled by bin.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..kinds import COMPLEX, DECIBELS, FEATURES, MAGNITUDE, PHASE, POWER
from .audio_io import import_optional
from .metadata import output_axes

NOTE_NAMES = ("C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B")
AMIN = 1e-10  # floor before taking the log, as librosa's amplitude_to_db


@dataclass(frozen=True)
class Axes:
    """What the rows and columns of a spectrogram mean.

    Attributes
    ----------
    frequencies : numpy.ndarray or None
        Centre frequency of each row in Hz, or ``None`` when the rows are not frequencies.
    seconds_per_frame : float or None
        Time between columns, or ``None`` when unknown.
    kind : str
        What the values are (``"magnitude"``, ``"power"``, ``"decibels"``, ...).
    """

    frequencies: np.ndarray | None
    seconds_per_frame: float | None
    kind: str


def pipeline_axes(pipeline: Any, *, sample_rate: float | None, n_rows: int) -> Axes:
    """Work out the axes of a pipeline's output from :func:`~nnaudio_core.app.metadata.output_axes`.

    Parameters
    ----------
    pipeline : Pipeline
        The pipeline that produced the spectrogram.
    sample_rate : float or None
        Rate of the audio it was given.
    n_rows : int
        Number of rows (the second-to-last dimension) of the output; frequencies of another count
        are not used.
    """
    found = output_axes(pipeline)
    frequencies = found.frequencies if found.frequencies is not None and len(found.frequencies) == n_rows else None
    hop = found.hop_length
    seconds = float(hop) / float(sample_rate) if hop and sample_rate else None
    return Axes(frequencies, seconds, found.kind)


def to_decibels(values: np.ndarray, kind: str, *, top_db: float = 80.0) -> tuple[np.ndarray, str]:
    """Values to plot and their colour-bar label: magnitudes and powers in dB (max − ``top_db`` floor).

    Complex values are plotted as magnitude in dB; decibels, phases and features as they are.
    """
    if kind in (COMPLEX, MAGNITUDE) or np.iscomplexobj(values):
        db = 20.0 * np.log10(np.maximum(np.abs(values), AMIN))
    elif kind == POWER:
        db = 10.0 * np.log10(np.maximum(values, AMIN))
    elif kind == DECIBELS:
        return values.astype(np.float64), "dB"
    elif kind == PHASE:
        return values.astype(np.float64), "phase (rad)"
    else:
        return values.astype(np.float64), kind
    return np.maximum(db, db.max() - top_db), "dB"


def note_name(frequency: float) -> str:
    """Nearest equal-tempered note (A4 = 440 Hz), e.g. ``note_name(261.6) == "C4"``."""
    midi = int(round(69 + 12 * math.log2(frequency / 440.0)))
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def is_geometric(frequencies: np.ndarray, *, rtol: float = 1e-3) -> bool:
    """Whether the frequencies are positive with a constant ratio between neighbours (constant-Q)."""
    if len(frequencies) < 3 or np.any(frequencies <= 0):
        return False
    ratios = frequencies[1:] / frequencies[:-1]
    return bool(ratios[0] > 1 + rtol and np.allclose(ratios, ratios[0], rtol=rtol, atol=0))


def frequency_ticks(frequencies: np.ndarray, *, max_ticks: int = 8) -> tuple[np.ndarray, list[str], str]:
    """Row positions, labels and axis name for the frequency axis.

    Constant-Q frequencies get a tick on each C (every octave, thinned to ``max_ticks``) labelled
    with its note name and Hz; evenly spaced frequencies (an STFT's) get round Hz values evenly
    spaced; other monotonic frequencies (mel bands: linear, then logarithmic) get values of one
    significant digit spread evenly over the rows, so the low rows are labelled as well as the high.
    """
    order = np.arange(len(frequencies), dtype=np.float64)
    fmin, fmax = float(frequencies.min()), float(frequencies.max())
    increasing = bool(frequencies[-1] >= frequencies[0])
    f_sorted, rows = (frequencies, order) if increasing else (frequencies[::-1], order[::-1])
    if is_geometric(f_sorted):
        first_c = math.ceil(math.log2(fmin / 16.351597831287414) - 1e-9)
        last_c = math.floor(math.log2(fmax / 16.351597831287414) + 1e-9)
        octaves = list(range(first_c, last_c + 1))
        step = max(1, math.ceil(len(octaves) / max_ticks))
        values = np.array([16.351597831287414 * 2.0**o for o in octaves[::step]])
        positions = np.interp(np.log(values), np.log(f_sorted), rows)
        labels = [f"{note_name(v)} ({v:.0f} Hz)" if v < 1000 else f"{note_name(v)} ({v / 1000:.1f} kHz)"
                  for v in values]
        return positions, labels, "note"
    if is_linear(f_sorted):
        values = _round_ticks(fmin, fmax, max_ticks)
        positions = np.interp(values, f_sorted, rows)
        kilo = fmax >= 2000
        labels = [f"{v / 1000:g}k" if kilo and v else f"{v:g}" for v in values]
        return positions, labels, "frequency (Hz)"
    values = _spread_ticks(f_sorted, max_ticks)
    positions = np.interp(values, f_sorted, rows)
    labels = [f"{v / 1000:g}k" if v >= 1000 else f"{v:g}" for v in values]
    return positions, labels, "frequency (Hz)"


def is_linear(frequencies: np.ndarray, *, rtol: float = 1e-3) -> bool:
    """Whether the frequencies are evenly spaced (an STFT's bins)."""
    if len(frequencies) < 3:
        return True
    steps = np.diff(frequencies)
    return bool(np.allclose(steps, steps[0], rtol=rtol, atol=1e-9 * max(abs(float(steps[0])), 1e-300)))


def _spread_ticks(f_sorted: np.ndarray, max_ticks: int) -> np.ndarray:
    """Round frequencies (one significant digit) near rows spread evenly over an increasing axis."""
    n = len(f_sorted)
    targets = np.interp(np.linspace(0, n - 1, max_ticks), np.arange(n), f_sorted)
    values: list[float] = []
    for target in targets:
        value = _one_digit(float(target))
        if f_sorted[0] <= value <= f_sorted[-1] and (not values or value > values[-1]):
            values.append(value)
    return np.array(values)


def _one_digit(value: float) -> float:
    """``value`` rounded to one significant digit (``483.2`` → ``500``, ``25.8`` → ``30``)."""
    if value <= 0:
        return 0.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    return round(value / magnitude) * magnitude


def _round_ticks(low: float, high: float, max_ticks: int) -> np.ndarray:
    """Round numbers (1, 2, 2.5, 5 × 10^k apart) within ``[low, high]``."""
    span = max(high - low, 1e-9)
    raw = span / max_ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(low / step) * step
    return np.arange(start, high + step * 1e-6, step)


def plot_spectrogram(
    values: np.ndarray,
    path: str | os.PathLike,
    *,
    axes: Axes,
    title: str,
    channel_names: Sequence[str] | None = None,
    top_db: float = 80.0,
    dpi: int = 100,
) -> None:
    """Save a spectrogram image (PNG, or any format matplotlib infers from ``path``).

    Parameters
    ----------
    values : numpy.ndarray
        ``(rows, frames)`` or ``(channels, rows, frames)``.
    path : str or path
        Output file.
    axes : Axes
        From :func:`pipeline_axes`.
    title : str
        Figure title (name the spec).
    channel_names : sequence of str, optional
        Subplot labels for multi-channel input.
    top_db : float
        Dynamic range shown for magnitudes and powers.
    dpi : int
        Resolution of the saved image.

    Raises
    ------
    ValueError
        If ``values`` is not 2-D or 3-D.
    MissingExtraError
        If matplotlib is not installed.
    """
    if values.ndim == 2:
        values = values[None]
    if values.ndim != 3:
        raise ValueError(
            f"cannot draw an output of shape {values.shape}: expected (rows, frames) or (channels, rows, frames)"
        )
    (figure_module,) = import_optional("matplotlib.figure", purpose="plotting")
    image, unit = to_decibels(values, axes.kind, top_db=top_db)
    n_channels, n_rows, n_frames = image.shape
    fig = figure_module.Figure(figsize=(10, 1.2 + 3.4 * n_channels), dpi=dpi, layout="constrained")
    subplots = fig.subplots(n_channels, 1, squeeze=False, sharex=True)[:, 0]
    if axes.seconds_per_frame:
        extent = (-0.5 * axes.seconds_per_frame, (n_frames - 0.5) * axes.seconds_per_frame, -0.5, n_rows - 0.5)
        xlabel = "time (s)"
    else:
        extent, xlabel = (-0.5, n_frames - 0.5, -0.5, n_rows - 0.5), "frame"
    low, high = float(np.nanmin(image)), float(np.nanmax(image))
    cmap = "twilight" if axes.kind == PHASE else "magma"
    for index, ax in enumerate(subplots):
        mappable = ax.imshow(image[index], origin="lower", aspect="auto", extent=extent, cmap=cmap,
                             vmin=low, vmax=high, interpolation="nearest")
        if axes.frequencies is not None:
            positions, labels, ylabel = frequency_ticks(axes.frequencies)
            ax.set_yticks(positions, labels)
        else:
            ylabel = "coefficient" if axes.kind == FEATURES else "bin"
            ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(ylabel)
        if channel_names is not None and n_channels > 1:
            ax.set_title(channel_names[index], fontsize="medium", loc="left")
    subplots[-1].set_xlabel(xlabel)
    fig.colorbar(mappable, ax=list(subplots), label=unit, format="%+.0f" if unit == "dB" else None)
    fig.suptitle(title)
    fig.savefig(os.fspath(path))


def plot_waveform(
    samples: np.ndarray,
    path: str | os.PathLike,
    *,
    sample_rate: float | None,
    title: str,
    channel_names: Sequence[str] | None = None,
    dpi: int = 100,
) -> None:
    """Save a waveform picture (PNG, or any format matplotlib infers from ``path``): amplitude over time.

    Parameters
    ----------
    samples : numpy.ndarray
        ``(time,)`` or ``(channels, time)``.
    path : str or path
        Output file.
    sample_rate : float, optional
        Samples per second (``None``: the x axis counts samples).
    title : str
        Figure title.
    channel_names : sequence of str, optional
        Subplot labels for multi-channel output.
    dpi : int
        Resolution of the saved image.

    Raises
    ------
    ValueError
        If ``samples`` is not 1-D or 2-D.
    """
    values = samples[None] if samples.ndim == 1 else samples
    if values.ndim != 2:
        raise ValueError(f"cannot draw a waveform of shape {samples.shape}: expected (time,) or (channels, time)")
    (figure_module,) = import_optional("matplotlib.figure", purpose="plotting")
    n_channels, n_samples = values.shape
    fig = figure_module.Figure(figsize=(10, 1.2 + 2.0 * n_channels), dpi=dpi, layout="constrained")
    subplots = fig.subplots(n_channels, 1, squeeze=False, sharex=True)[:, 0]
    t = np.arange(n_samples) / sample_rate if sample_rate else np.arange(n_samples)
    for index, ax in enumerate(subplots):
        ax.plot(t, values[index], linewidth=0.5, color="C0")
        ax.set_ylabel("amplitude")
        if channel_names is not None and n_channels > 1:
            ax.set_title(channel_names[index], fontsize="medium", loc="left")
    subplots[-1].set_xlabel("time (s)" if sample_rate else "sample")
    fig.suptitle(title)
    fig.savefig(os.fspath(path))
