"""Synthesize the example recording shipped as ``nnaudio_core/data/example.flac``.

Four seconds (two bars at 120 bpm) of a small tune at 22050 Hz, mono, 16-bit FLAC: a melody of
notes with decaying harmonics, a bass line, and drums (a pitch-dropping kick, a noise snare, short
hi-hats). Everything is computed from fixed numbers and one seeded random generator, so the samples
are the same on every run. ``nnaudio run SPEC`` uses the file when given no audio.

Usage::

    python scripts/make_example_audio.py [--out nnaudio_core/data/example.flac] [--check]

``--check`` verifies that the committed file holds exactly the samples this script makes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

SR = 22050
BPM = 120.0
BEAT = 60.0 / BPM  # seconds
BARS = 2
DURATION = BARS * 4 * BEAT  # 4 s
SEED = 20240611
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "nnaudio_core" / "data" / "example.flac"

# (start beat, length in beats, MIDI note): an A-minor phrase in eighth and quarter notes.
MELODY = [
    (0.0, 0.5, 69), (0.5, 0.5, 72), (1.0, 0.5, 76), (1.5, 0.5, 74), (2.0, 1.0, 72), (3.0, 0.5, 71),
    (3.5, 0.5, 72), (4.0, 0.5, 74), (4.5, 0.5, 76), (5.0, 0.5, 77), (5.5, 0.5, 79), (6.0, 1.5, 81),
]
BASS = [(0.0, 1.0, 45), (1.0, 1.0, 45), (2.0, 1.0, 41), (3.0, 1.0, 43), (4.0, 1.0, 48), (5.0, 1.0, 43),
        (6.0, 1.0, 45), (7.0, 1.0, 40)]
KICKS = [0.0, 2.0, 2.5, 4.0, 6.0]
SNARES = [1.0, 3.0, 5.0, 7.0]


def midi_to_hz(note: float) -> float:
    """Equal-tempered frequency of a MIDI note (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((note - 69) / 12)


def envelope(n: int, *, attack: float, decay: float) -> np.ndarray:
    """A linear attack of ``attack`` seconds then an exponential decay with time constant ``decay``."""
    t = np.arange(n) / SR
    return np.minimum(t / attack, 1.0) * np.exp(-t / decay)


def tone(note: float, seconds: float, *, harmonics: int, rolloff: float, decay: float) -> np.ndarray:
    """A note with ``harmonics`` partials of amplitude ``rolloff ** k``, below Nyquist only."""
    n = int(round(seconds * SR))
    t = np.arange(n) / SR
    f0 = midi_to_hz(note)
    wave = np.zeros(n)
    for k in range(1, harmonics + 1):
        if k * f0 < 0.45 * SR:
            wave += rolloff ** (k - 1) * np.sin(2 * np.pi * k * f0 * t + 0.3 * k)
    release = np.minimum(1.0, (n - np.arange(n)) / (0.01 * SR))  # 10 ms fade out: no clicks
    return wave * envelope(n, attack=0.008, decay=decay) * release


def kick(rng: np.random.Generator) -> np.ndarray:
    """A sine dropping from 150 Hz to 45 Hz with a click."""
    n = int(0.35 * SR)
    t = np.arange(n) / SR
    freq = 45.0 + 105.0 * np.exp(-t / 0.04)
    phase = 2 * np.pi * np.cumsum(freq) / SR
    click = rng.standard_normal(n) * np.exp(-t / 0.002) * 0.3
    return (np.sin(phase) + click) * np.exp(-t / 0.12)


def snare(rng: np.random.Generator) -> np.ndarray:
    """Noise brightened by a first difference plus a 190 Hz body."""
    n = int(0.25 * SR)
    t = np.arange(n) / SR
    noise = np.diff(rng.standard_normal(n + 1)) * 0.5
    return (noise * np.exp(-t / 0.06) + 0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.05))


def hihat(rng: np.random.Generator) -> np.ndarray:
    """A short burst of high-passed (second-difference) noise."""
    n = int(0.06 * SR)
    t = np.arange(n) / SR
    noise = np.diff(rng.standard_normal(n + 2), n=2) * 0.25
    return noise * np.exp(-t / 0.015)


def reverb(track: np.ndarray, rng: np.random.Generator, *, seconds: float = 0.4, mix: float = 0.12) -> np.ndarray:
    """``track`` plus a faint room: convolution with exponentially decaying noise (via FFT)."""
    n = int(seconds * SR)
    impulse = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.08 * SR))
    impulse /= np.sqrt(np.sum(impulse**2))
    size = 1 << int(np.ceil(np.log2(len(track) + n)))
    wet = np.fft.irfft(np.fft.rfft(track, size) * np.fft.rfft(impulse, size), size)[: len(track)]
    return track + mix * wet


def place(track: np.ndarray, sound: np.ndarray, beat: float, gain: float) -> None:
    """Add ``sound`` into ``track`` starting at ``beat`` (cut at the end of the track)."""
    start = int(round(beat * BEAT * SR))
    end = min(len(track), start + len(sound))
    track[start:end] += gain * sound[: end - start]


def synthesize() -> np.ndarray:
    """The example tune as float64 samples in [-1, 1), shape ``(4 * 22050,)``."""
    rng = np.random.default_rng(SEED)
    mix = np.zeros(int(round(DURATION * SR)))
    for beat, length, note in MELODY:
        place(mix, tone(note, length * BEAT, harmonics=8, rolloff=0.6, decay=0.35), beat, 0.30)
    for beat, length, note in BASS:
        place(mix, tone(note, length * BEAT, harmonics=4, rolloff=0.45, decay=0.5), beat, 0.35)
    for beat in KICKS:
        place(mix, kick(rng), beat, 0.55)
    for beat in SNARES:
        place(mix, snare(rng), beat, 0.18)
    for i in range(BARS * 8):
        place(mix, hihat(rng), i * 0.5, 0.10 if i % 2 else 0.15)
    mix = reverb(mix, rng)
    mix *= 0.89 / np.max(np.abs(mix))  # peak at -1 dBFS
    return mix


def quantize(samples: np.ndarray) -> np.ndarray:
    """Round to 16-bit PCM, as stored in the FLAC file."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="verify the existing file instead of writing it")
    args = parser.parse_args(argv)
    import soundfile

    pcm = quantize(synthesize())
    if args.check:
        stored, rate = soundfile.read(args.out, dtype="int16")
        same = rate == SR and stored.shape == pcm.shape and np.array_equal(stored, pcm)
        print(f"{args.out}: {'matches' if same else 'DIFFERS from'} the synthesized samples")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(args.out, pcm, SR, format="FLAC", subtype="PCM_16")
    print(f"wrote {args.out}: {len(pcm) / SR:.1f} s at {SR} Hz, {args.out.stat().st_size / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
