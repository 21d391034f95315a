"""Variable-Q and chroma benchmark: nnaudio-core vqt / chroma_stft / chroma_cqt vs librosa and nnAudio 0.3.4.

Workloads (2 torch threads, medians of interleaved repeats, ratios from the same run), 4 clips x 10 s
at 22.05 kHz, hop 512:

* VQT: 84 bins from 32.70 Hz, 12 per octave; nnaudio-core ``vqt`` with the ERB rule (``gamma=None``)
  against ``librosa.vqt(gamma=None)``, and ``vqt`` with ``gamma=10``, ``lengths="nnaudio"`` against
  nnAudio's ``VQT(gamma=10)`` (nnAudio has no ERB rule);
* ``chroma_stft`` (n_fft 2048) against ``librosa.feature.chroma_stft(tuning=0.0)``;
* ``chroma_cqt`` (7 octaves x 36 bins) against ``librosa.feature.chroma_cqt(tuning=0.0)``.

Also measures accuracy on 2 s test signals: vqt against the float64 definition (``tests/test_vqt.py``)
and librosa.vqt, the chromagrams against librosa (max abs difference).

Run: ``python benchmarks/bench_vqt_chroma.py`` (needs the ``bench`` extra: librosa, nnAudio); writes
``benchmarks/results/vqt_chroma.md`` (+ ``vqt_chroma.json``) and prints the tables.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from common import interleaved, machine, markdown_table, setup_threads, workload, write_result

from nnaudio_core import get_transform

HOP = 512
VQT_CFG = dict(sr=22050, fmin=32.70, n_bins=84, bins_per_octave=12)


def speed(repeats: int) -> tuple[list[str], dict[str, float], list[list[str]]]:
    import librosa
    from nnAudio import features as nnaudio_features

    audio = workload(sr=22050)
    x = torch.from_numpy(audio)
    vqt_erb = get_transform("vqt")(hop_length=HOP, **VQT_CFG)
    vqt_nn = get_transform("vqt")(hop_length=HOP, gamma=10.0, lengths="nnaudio", **VQT_CFG)
    nn_vqt = nnaudio_features.VQT(hop_length=HOP, gamma=10.0, verbose=False, **VQT_CFG)
    chroma_stft = get_transform("chroma_stft")(hop_length=HOP)
    chroma_cqt = get_transform("chroma_cqt")(hop_length=HOP)
    candidates = {
        "nnaudio-core vqt (gamma=None)": lambda: vqt_erb(x),
        "librosa.vqt (gamma=None)": lambda: librosa.vqt(audio, hop_length=HOP, gamma=None, **VQT_CFG),
        "nnaudio-core vqt (gamma=10, nnAudio lengths)": lambda: vqt_nn(x),
        "nnAudio 0.3.4 VQT (gamma=10)": lambda: nn_vqt(x),
        "nnaudio-core chroma_stft": lambda: chroma_stft(x),
        "librosa.feature.chroma_stft": lambda: librosa.feature.chroma_stft(y=audio, sr=22050, hop_length=HOP,
                                                                           tuning=0.0),
        "nnaudio-core chroma_cqt": lambda: chroma_cqt(x),
        "librosa.feature.chroma_cqt": lambda: librosa.feature.chroma_cqt(y=audio, sr=22050, hop_length=HOP,
                                                                         tuning=0.0),
    }
    with torch.inference_mode():
        t = interleaved(candidates, repeats=repeats)
    pairs = [
        ("nnaudio-core vqt (gamma=None)", "librosa.vqt (gamma=None)"),
        ("nnaudio-core vqt (gamma=10, nnAudio lengths)", "nnAudio 0.3.4 VQT (gamma=10)"),
        ("nnaudio-core chroma_stft", "librosa.feature.chroma_stft"),
        ("nnaudio-core chroma_cqt", "librosa.feature.chroma_cqt"),
    ]
    rows = []
    checks = []
    for ours, ref in pairs:
        rows.append([ours, f"{1000 * t[ours]:.1f}", ""])
        rows.append([ref, f"{1000 * t[ref]:.1f}", f"{t[ref] / t[ours]:.1f}x slower"])
        checks.append([f"{ours} speed-up over {ref}", f"{t[ref] / t[ours]:.1f}x", ">= 3x"])
    table = markdown_table(["implementation", "time (ms)", "vs nnaudio-core"], rows)
    return [table], {name: 1000 * sec for name, sec in t.items()}, checks


def accuracy() -> tuple[list[list[str]], list[list[str]]]:
    import librosa

    root = Path(__file__).resolve().parent.parent / "tests"
    sys.path.insert(0, str(root))
    from signals import chirp, noise_bursts, notes
    from test_vqt import reference_vqt

    from nnaudio_core import Spectrogram

    def rel(a, b):
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))

    signals = {"chirp": chirp, "notes": notes, "noise": noise_bursts}
    vqt_rows = []
    VQT = get_transform("vqt")
    for gamma in (None, 10.0):
        layer = VQT(hop_length=HOP, gamma=gamma, output_format="Complex", **VQT_CFG)
        errs = []
        for fn in signals.values():
            y = fn(2.0, sr=22050)
            ref = reference_vqt(y, hop_length=HOP, gamma=gamma, **VQT_CFG)
            errs.append(rel(layer(torch.from_numpy(y.astype(np.float32))).numpy(), ref))
        vqt_rows.append([f"vqt gamma={gamma}, 84 bins, 22.05 kHz", "vs float64 definition",
                         *[f"{e:.1e}" for e in errs]])
    for sr, fmin, label in ((44100, 55.0, "seed: 168 bins (24/oct), 44.1 kHz"), (22050, 32.70, "168 bins (24/oct), "
                                                                                               "22.05 kHz")):
        kw = dict(sr=sr, fmin=fmin, n_bins=168, bins_per_octave=24)
        for pad_mode in ("constant", "reflect"):
            layer = VQT(hop_length=HOP, output_format="Complex", pad_mode=pad_mode, **kw)
            errs = []
            for fn in signals.values():
                y = fn(2.0, sr=sr)
                ref = librosa.vqt(y, hop_length=HOP, gamma=None, pad_mode=pad_mode, **kw)
                errs.append(rel(layer(torch.from_numpy(y.astype(np.float32))).numpy(), ref))
            vqt_rows.append([f"vqt gamma=None, {label}, {pad_mode}", "vs librosa.vqt", *[f"{e:.1e}" for e in errs]])
    clips = torch.from_numpy(np.stack([fn(2.0, sr=22050) for fn in signals.values()]).astype(np.float32))
    for gamma in (5.0, 20.0):
        import contextlib
        import io

        from nnAudio import features as nnaudio_features

        with contextlib.redirect_stdout(io.StringIO()):
            theirs = nnaudio_features.VQT(gamma=gamma, verbose=False)(clips)
        ours = Spectrogram.VQT(gamma=gamma, verbose=False)(clips)
        errs = [rel(ours[i, :, 8:-8].numpy(), theirs[i, :, 8:-8].numpy()) for i in range(3)]
        vqt_rows.append([f"Spectrogram.VQT gamma={gamma} (magnitude, interior frames)", "vs nnAudio 0.3.4 VQT",
                         *[f"{e:.1e}" for e in errs]])
    chroma_rows = []
    cs, cc = get_transform("chroma_stft")(), get_transform("chroma_cqt")()
    for name, fn in signals.items():
        kw = {"f1": 3500.0} if name == "chirp" else {}
        y = fn(2.0, sr=22050, **kw)
        x = torch.from_numpy(y.astype(np.float32))
        a = np.abs(cs(x).numpy() - librosa.feature.chroma_stft(y=y, sr=22050, tuning=0.0)).max()
        b = np.abs(cc(x).numpy() - librosa.feature.chroma_cqt(y=y, sr=22050, tuning=0.0)).max()
        chroma_rows.append([name, f"{a:.1e}", f"{b:.1e}"])
    return vqt_rows, chroma_rows


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="interleaved timing rounds (default 9)")
    parser.add_argument("--no-accuracy", action="store_true", help="skip the accuracy tables")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2; use 1 when other "
                        "processes occupy the cores: two OpenMP threads then wait on each other)")
    args = parser.parse_args(argv)
    setup_threads(args.threads)
    warnings.filterwarnings("ignore")
    sections, timings, checks = speed(args.repeats)
    parts = [
        "### Variable-Q transform and chromagrams (4 x 10 s clips, 22.05 kHz, hop 512)",
        f"Measured on {machine()}; median of {args.repeats} interleaved repeats; librosa with tuning=0.",
        *sections,
        markdown_table(["target", "measured", "required"], checks),
    ]
    if not args.no_accuracy:
        vqt_rows, chroma_rows = accuracy()
        parts.append("VQT accuracy on 2 s clips: relative L2 error of the complex output (librosa: scale=True, "
                     "same padding; nnAudio: magnitudes).")
        parts.append(markdown_table(["configuration", "comparison", "chirp", "notes", "noise"], vqt_rows))
        parts.append("Chroma vs librosa (tuning=0.0) on 2 s clips: largest absolute difference (values in [0, 1]; "
                     "the chirp is kept below the top constant-Q bin, 3.5 kHz).")
        parts.append(markdown_table(["signal", "chroma_stft", "chroma_cqt"], chroma_rows))
    text = "\n\n".join(parts)
    print(text)
    write_result("vqt_chroma", text, title="VQT and chroma, 4 x 10 s clips, hop 512", timings_ms=timings)
    return text


if __name__ == "__main__":
    main()
