"""Quick start: run the bundled ``stft`` spec on a synthesized signal and print what came out.

Run with ``python -m nnaudio_core.app.quickstart``.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from .. import available_transforms, build_transform
from .metadata import output_axes


def synthesize(sr: int = 22050, seconds: float = 3.0) -> torch.Tensor:
    """A short arpeggio of harmonic notes (float32, shape (time,))."""
    t = np.arange(int(sr * seconds)) / sr
    out = np.zeros_like(t)
    for i, midi in enumerate([57, 61, 64, 69, 73, 76]):
        f = 440.0 * 2 ** ((midi - 69) / 12)
        start = i * len(t) // 6
        env = np.exp(-4 * (t[start:] - t[start]))
        out[start:] += env * sum(0.5**h * np.sin(2 * np.pi * f * (h + 1) * t[start:]) for h in range(5))
    return torch.from_numpy(out.astype(np.float32))


def main() -> None:
    start = time.perf_counter()
    pipeline = build_transform("stft")
    x = synthesize().to(pipeline.device)
    spectrogram = pipeline(x)
    elapsed = time.perf_counter() - start
    step = pipeline[0]
    peak_bin = int(spectrogram.mean(-1).argmax())
    print(f"transforms available: {', '.join(available_transforms())}")
    print(f"spec 'stft' → {step!r}")
    print(f"input {tuple(x.shape)} → spectrogram {tuple(spectrogram.shape)} ({pipeline.output_kind}) "
          f"on {pipeline.device}, {elapsed * 1000:.0f} ms including construction")
    print(f"strongest frequency: {output_axes(pipeline).frequencies[peak_bin]:.0f} Hz")


if __name__ == "__main__":
    main()
