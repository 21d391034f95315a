"""Audio files for the ``nnaudio`` command: decode, mix down, resample to a spec's sample rate.

The library itself never reads files (its runtime dependencies are torch, numpy, scipy, pluggy and
pyyaml); this module imports :mod:`soundfile` lazily, so ``import nnaudio_core`` works without it.
Install the command-line extra for it: ``pip install "nnaudio-core[cli]"``.

What :func:`read_audio` does, in order, all in float64:

1. decode with ``soundfile.read(path, dtype="float64", always_2d=True)``;
2. ``channels="mono"``: average the channels (``samples.mean(axis=1)``) → ``(time,)``;
   ``channels="keep"``: transpose → ``(channels, time)``;
3. when the file's rate differs from the requested one, ``scipy.signal.resample_poly(x, up, down,
   axis=-1)`` with the exact rational ratio ``up / down = target / source`` in lowest terms (default
   window and padding).

The caller then casts to the transform's dtype. Doing the same three steps gives the same numbers.
"""

from __future__ import annotations

import importlib
import importlib.resources
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import numpy as np

#: The optional dependency group holding soundfile, matplotlib and tqdm.
CLI_EXTRA = "cli"
INSTALL_HINT = 'pip install "nnaudio-core[cli]"'

#: File name endings read as audio by ``nnaudio extract`` (whatever libsndfile can decode).
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc", ".au", ".snd", ".w64",
     ".rf64", ".caf"}
)
CHANNEL_MODES = ("mono", "keep")

#: Lowest sample rate a file may declare: below it the header is taken as corrupt (a 1 Hz header
#: would make resampling to 22050 Hz ask for 22050 times the file's samples).
MIN_SOURCE_RATE = 100.0
#: Largest resampled signal, in bytes of float64 (channels x samples), and largest polyphase filter
#: (``20 * max(up, down) + 1`` taps) :func:`resample` builds; beyond them the file is refused.
MAX_RESAMPLED_BYTES = 4 * 2**30
MAX_RESAMPLE_TAPS = 2**24


class MissingExtraError(ImportError):
    """Optional packages needed by a command are not installed.

    Attributes
    ----------
    modules : tuple of str
        The import names that failed, e.g. ``("soundfile", "tqdm")``.
    details : tuple of str
        One ``"module: reason"`` line per failure.
    """

    def __init__(self, modules: Sequence[str], details: Sequence[str], *, purpose: str = "this") -> None:
        self.modules = tuple(modules)
        self.details = tuple(details)
        super().__init__(
            f"{purpose} needs {', '.join(self.modules)} from the optional '{CLI_EXTRA}' extra, which "
            f"{'is' if len(self.modules) == 1 else 'are'} not available; install it with: {INSTALL_HINT}"
        )


def import_optional(*names: str, purpose: str = "this") -> list[ModuleType]:
    """Import optional modules, or raise one :class:`MissingExtraError` naming all that failed.

    A module that is installed but fails to import (soundfile without its libsndfile, say) counts as
    missing, with the reason in ``details``.

    Parameters
    ----------
    *names : str
        Import names, e.g. ``"soundfile"``.
    purpose : str
        What needs them, for the message (``"nnaudio run"``).

    Returns
    -------
    list of module
        The modules, in the order asked.
    """
    modules, missing, details = [], [], []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except (ImportError, OSError) as exc:  # OSError: a wheel whose shared library is missing
            missing.append(name)
            details.append(f"{name}: {type(exc).__name__}: {exc}")
    if missing:
        raise MissingExtraError(missing, details, purpose=purpose)
    return modules


class AudioError(Exception):
    """An audio file could not be used; ``reason`` says why in a few words (without the path)."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class Audio:
    """Decoded audio, ready for a transform.

    Attributes
    ----------
    samples : numpy.ndarray, float64
        ``(time,)`` when mixed to mono, ``(channels, time)`` when channels are kept.
    sample_rate : float
        Rate of ``samples`` (the requested rate, or the file's when none was requested).
    source_sample_rate : int
        Rate stored in the file.
    source_channels : int
        Channels stored in the file.
    duration : float
        Length of the recording in seconds (file frames / file rate).
    """

    samples: np.ndarray
    sample_rate: float
    source_sample_rate: int
    source_channels: int
    duration: float


def rational_ratio(target_rate: float, source_rate: float) -> tuple[int, int]:
    """``(up, down)``: the exact ratio ``target_rate / source_rate`` in lowest terms.

    Rates are read as the decimals they print as, so ``22050.5`` is ``44101 / 2``.

    Examples
    --------
    >>> rational_ratio(22050, 44100)
    (1, 2)
    >>> rational_ratio(22050, 48000)
    (147, 320)
    """
    ratio = Fraction(repr(float(target_rate))) / Fraction(repr(float(source_rate)))
    return ratio.numerator, ratio.denominator


def resample_problem(frames: int, channels: int, source_rate: float, target_rate: float) -> str | None:
    """Why resampling ``frames`` x ``channels`` from ``source_rate`` to ``target_rate`` is refused, or ``None``.

    Refused: a source rate below :data:`MIN_SOURCE_RATE`, a result above :data:`MAX_RESAMPLED_BYTES`
    or a filter above :data:`MAX_RESAMPLE_TAPS` (both checked before anything is allocated).

    Examples
    --------
    >>> resample_problem(100, 1, 44100, 22050) is None
    True
    >>> resample_problem(100, 1, 1, 22050)
    'sample rate 1 Hz in the file header is not allowed: expected >= 100 Hz (a corrupt header?)'
    """
    source_rate, target_rate = float(source_rate), float(target_rate)
    if not source_rate >= MIN_SOURCE_RATE:
        return (f"sample rate {source_rate:g} Hz in the file header is not allowed: expected >= "
                f"{MIN_SOURCE_RATE:g} Hz (a corrupt header?)")
    if source_rate == target_rate:
        return None
    up, down = rational_ratio(target_rate, source_rate)
    taps = 20 * max(up, down) + 1
    if taps > MAX_RESAMPLE_TAPS:
        return (f"resampling {source_rate:g} Hz to {target_rate:g} Hz (ratio {up}/{down}) needs a {taps}-tap "
                f"filter; at most {MAX_RESAMPLE_TAPS} are allowed (a ratio with smaller terms is)")
    size = 8 * channels * -(-frames * up // down)
    if size > MAX_RESAMPLED_BYTES:
        return (f"resampling {frames} frames x {channels} channels from {source_rate:g} Hz to {target_rate:g} Hz "
                f"needs {_format_bytes(size)}; at most {_format_bytes(MAX_RESAMPLED_BYTES)} is allowed")
    return None


def _format_bytes(size: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{int(size)} bytes"


def resample(samples: np.ndarray, source_rate: float, target_rate: float) -> np.ndarray:
    """Resample along the last axis with :func:`scipy.signal.resample_poly` at the exact ratio.

    Returns ``samples`` unchanged when the rates are equal.

    Raises
    ------
    ValueError
        When :func:`resample_problem` refuses the rates or sizes.
    """
    samples = np.asarray(samples)
    channels = int(np.prod(samples.shape[:-1], dtype=np.int64)) if samples.ndim > 1 else 1
    problem = resample_problem(samples.shape[-1], channels, source_rate, target_rate)
    if problem:
        raise ValueError(problem)
    if float(source_rate) == float(target_rate):
        return samples
    from scipy.signal import resample_poly

    up, down = rational_ratio(target_rate, source_rate)
    return resample_poly(samples, up, down, axis=-1)


def read_audio(path: str | os.PathLike, *, sample_rate: float | None = None, channels: str = "mono") -> Audio:
    """Decode an audio file, mix or keep its channels, and resample it.

    Parameters
    ----------
    path : str or path
        WAV, FLAC, OGG/Vorbis, or any other format libsndfile reads.
    sample_rate : float, optional
        Rate to resample to; ``None`` keeps the file's rate.
    channels : {"mono", "keep"}
        ``"mono"`` averages the channels into ``(time,)``; ``"keep"`` returns ``(channels, time)``.

    Returns
    -------
    Audio

    Raises
    ------
    AudioError
        When the file is missing, unreadable, empty, not decodable, holds no samples, holds NaN/Inf,
        declares a sample rate below :data:`MIN_SOURCE_RATE`, or would resample beyond
        :data:`MAX_RESAMPLED_BYTES` / :data:`MAX_RESAMPLE_TAPS`; ``reason`` says which.
    MissingExtraError
        When soundfile is not installed.
    """
    if channels not in CHANNEL_MODES:
        raise ValueError(f"channels={channels!r} is not allowed; expected one of {', '.join(CHANNEL_MODES)}")
    (soundfile,) = import_optional("soundfile", purpose="reading audio")
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as probe:  # libsndfile reports unreadable files as "System error"
            probe.read(1)
    except OSError as exc:
        raise AudioError(path, os_error_reason(exc)) from None
    if size == 0:
        raise AudioError(path, "empty file (0 bytes)")
    try:
        data, source_rate = soundfile.read(os.fspath(path), dtype="float64", always_2d=True)
    except OSError as exc:
        raise AudioError(path, os_error_reason(exc)) from None
    except Exception as exc:  # soundfile raises LibsndfileError/RuntimeError/TypeError on bad data
        raise AudioError(path, f"cannot decode: {_decode_reason(exc, path)}") from None
    frames, n_channels = data.shape
    if frames == 0:
        raise AudioError(path, "no audio samples (0 frames)")
    if not np.isfinite(data).all():
        raise AudioError(path, "contains NaN or Inf samples")
    rate = float(source_rate) if sample_rate is None else float(sample_rate)
    problem = resample_problem(frames, 1 if channels == "mono" else n_channels, source_rate, rate)
    if problem:
        raise AudioError(path, problem)
    samples = data.mean(axis=1) if channels == "mono" else np.ascontiguousarray(data.T)
    samples = resample(samples, source_rate, rate)
    return Audio(samples, rate, int(source_rate), int(n_channels), frames / source_rate)


def os_error_reason(exc: OSError) -> str:
    """A few words for why a file could not be opened or read (without the path).

    Examples
    --------
    >>> os_error_reason(PermissionError(13, "Permission denied"))
    'cannot read: permission denied'
    >>> os_error_reason(FileNotFoundError(2, "No such file or directory"))
    'cannot read: does not exist'
    """
    if isinstance(exc, PermissionError):
        return "cannot read: permission denied"
    if isinstance(exc, FileNotFoundError):
        return "cannot read: does not exist"
    if isinstance(exc, IsADirectoryError):
        return "cannot read: is a folder, not a file"
    return f"cannot read: {exc.strerror or exc}"


#: libsndfile messages that blame the file system for data it cannot parse (the file was opened
#: and read just before, so they are wrong): an MPEG stream it cannot sync says the file "does not
#: exist", some formats say "System error".
_MISLEADING_DECODE_ERRORS = ("does not exist", "not a regular file", "system error")


def _decode_reason(exc: Exception, path: str | os.PathLike) -> str:
    """The useful part of a soundfile error (it repeats the path)."""
    text = str(exc) or type(exc).__name__
    for prefix in (f"Error opening {os.fspath(path)!r}: ", f"Error opening {str(path)!r}: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    if any(words in text.lower() for words in _MISLEADING_DECODE_ERRORS):
        return f"not audio in a format libsndfile reads, or corrupt ({Path(path).suffix or 'no'} extension)"
    return text


def is_audio_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` has one of :data:`AUDIO_EXTENSIONS` (case-insensitive)."""
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def find_audio_files(root: str | os.PathLike) -> list[Path]:
    """Audio files under ``root``, recursively, sorted; hidden files and folders (``.name``) are skipped."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder) / f for f in sorted(files) if not f.startswith(".") and is_audio_file(f))
    return found


@contextmanager
def example_audio() -> Iterator[Path]:
    """A filesystem path to the example recording shipped with the package.

    ``nnaudio_core/data/example.flac``: 4 s of a synthesized tune (melody with harmonics, bass line,
    drums) at 22050 Hz, made by ``scripts/make_example_audio.py``.

    Examples
    --------
    >>> with example_audio() as path:
    ...     path.name
    'example.flac'
    """
    resource = importlib.resources.files("nnaudio_core") / "data" / "example.flac"
    with importlib.resources.as_file(resource) as path:
        yield Path(path)
