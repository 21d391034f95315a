"""Deterministic test signals: chirps, synthesized notes, noise bursts (no files, no downloads)."""

from __future__ import annotations

import numpy as np


def chirp(duration: float = 1.0, sr: int = 22050, f0: float = 40.0, f1: float | None = None) -> np.ndarray:
    """Exponential sine sweep from ``f0`` to ``f1`` (default 0.45 * sr), float64."""
    f1 = 0.45 * sr if f1 is None else f1
    t = np.arange(int(duration * sr)) / sr
    rate = np.log(f1 / f0) / duration
    return np.sin(2 * np.pi * f0 * (np.exp(rate * t) - 1) / rate)


def notes(duration: float = 1.0, sr: int = 22050, pitches: tuple[int, ...] = (45, 57, 64, 69, 76)) -> np.ndarray:
    """Consecutive MIDI notes with 6 decaying harmonics each, float64."""
    n = int(duration * sr)
    out = np.zeros(n)
    step = n // len(pitches)
    t = np.arange(step) / sr
    for i, midi in enumerate(pitches):
        f = 440.0 * 2 ** ((midi - 69) / 12)
        tone = sum((0.6**h) * np.sin(2 * np.pi * f * (h + 1) * t + h) for h in range(6) if f * (h + 1) < sr / 2)
        out[i * step : (i + 1) * step] = tone * np.exp(-3 * t)
    return out


def noise_bursts(duration: float = 1.0, sr: int = 22050, seed: int = 0) -> np.ndarray:
    """White noise gated on and off in 100 ms bursts, float64."""
    rng = np.random.default_rng(seed)
    n = int(duration * sr)
    gate = (np.arange(n) // int(0.1 * sr)) % 2 == 0
    return rng.standard_normal(n) * gate


SIGNALS = {"chirp": chirp, "notes": notes, "noise": noise_bursts}


def rel_err(actual, expected) -> float:
    """Relative L2 error ``||actual - expected|| / ||expected||`` (complex-aware, float64)."""
    a = np.asarray(actual, dtype=np.complex128)
    b = np.asarray(expected, dtype=np.complex128)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))
