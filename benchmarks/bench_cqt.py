"""Constant-Q benchmark: nnaudio-core cqt2019 / cqt1992 vs librosa.cqt and nnAudio 0.3.4.

Workloads (2 torch threads, medians of interleaved repeats, ratios from the same run):

* 4 clips x 10 s at 22.05 kHz, 84 bins from 32.70 Hz, 12 per octave, hop 512;
* the seed configuration: 4 clips x 10 s at 44.1 kHz, 168 bins from 55 Hz, 24 per octave, hop 512.

Also times construction for the seed configuration and measures accuracy (relative L2 error of the
complex output) against the float64 reference of the definition (``tests/cqt_reference.py``) and
against librosa.cqt on 2 s test signals.

Run: ``python benchmarks/bench_cqt.py`` (needs the ``bench`` extra: librosa, nnAudio); writes
``benchmarks/results/cqt.md`` (+ ``cqt.json``) and prints the tables.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from common import construction_ms, interleaved, machine, markdown_table, setup_threads, workload, write_result

from nnaudio_core import get_transform

CONFIGS = {
    "84 bins, 22.05 kHz": dict(sr=22050, fmin=32.70, n_bins=84, bins_per_octave=12),
    "seed: 168 bins, 44.1 kHz": dict(sr=44100, fmin=55.0, n_bins=168, bins_per_octave=24),
}
HOP = 512



def kernel_megabytes(module: torch.nn.Module) -> float:
    """Megabytes of every tensor the module holds (parameters and buffers, saved or not)."""
    tensors = {id(t): t for t in [*module.parameters(), *module.buffers()]}
    return sum(t.numel() * t.element_size() for t in tensors.values()) / 1e6


def time_config(label: str, cfg: dict, repeats: int) -> tuple[str, dict[str, float], list[list[str]]]:
    """Time every implementation on one configuration; return its table, timings and target checks."""
    import librosa
    from nnAudio import features as nnaudio_features

    audio = workload(sr=cfg["sr"])
    x = torch.from_numpy(audio)
    ours2019 = get_transform("cqt2019")(hop_length=HOP, **cfg)
    ours1992 = get_transform("cqt1992")(hop_length=HOP, **cfg)
    nn2010 = nnaudio_features.CQT2010v2(hop_length=HOP, verbose=False, **cfg)
    nn1992 = nnaudio_features.CQT1992v2(hop_length=HOP, verbose=False, **cfg)
    with torch.inference_mode():
        t = interleaved({
            "nnaudio-core cqt2019": lambda: ours2019(x),
            "nnaudio-core cqt1992 (auto: fft)": lambda: ours1992(x),
            "librosa.cqt": lambda: librosa.cqt(audio, hop_length=HOP, tuning=0.0, **cfg),
            "nnAudio 0.3.4 CQT2010v2": lambda: nn2010(x),
            "nnAudio 0.3.4 CQT1992v2": lambda: nn1992(x),
        }, repeats=repeats)
    rows = [[name, f"{1000 * sec:.1f}", f"{t['librosa.cqt'] / sec:.2f}x"] for name, sec in t.items()]
    table = f"#### {label}\n\n" + markdown_table(["implementation", "time (ms)", "speed-up over librosa"], rows)
    ours_multirate, ours_full = t["nnaudio-core cqt2019"], t["nnaudio-core cqt1992 (auto: fft)"]
    checks = [
        [f"cqt2019 speed-up over librosa.cqt ({label})", f"{t['librosa.cqt'] / ours_multirate:.1f}x", ">= 3x"],
        [f"cqt2019 speed-up over nnAudio CQT2010v2 ({label})",
         f"{t['nnAudio 0.3.4 CQT2010v2'] / ours_multirate:.1f}x", ">= 5x"],
        [f"cqt1992 (fft) speed-up over nnAudio CQT1992v2 ({label})",
         f"{t['nnAudio 0.3.4 CQT1992v2'] / ours_full:.1f}x", ">= 3x"],
    ]
    return table, {f"{name} [{label}]": 1000 * sec for name, sec in t.items()}, checks


def speed(repeats: int) -> tuple[list[str], dict[str, float], list[list[str]]]:
    sections, timings, checks = [], {}, []
    for label, cfg in CONFIGS.items():
        table, t, c = time_config(label, cfg, repeats)
        sections.append(table)
        timings.update(t)
        checks += c
    CQT1992, CQT2019 = get_transform("cqt1992"), get_transform("cqt2019")
    seed = CONFIGS["seed: 168 bins, 44.1 kHz"]
    build = {
        "nnaudio-core cqt2019 (seed)": construction_ms(lambda: CQT2019(hop_length=HOP, **seed)),
        "nnaudio-core cqt1992, auto: fft (seed)": construction_ms(lambda: CQT1992(hop_length=HOP, **seed)),
        "nnaudio-core cqt1992, backend='conv' (seed)": construction_ms(
            lambda: CQT1992(hop_length=HOP, backend="conv", **seed)),
    }
    from nnAudio import features as nnaudio_features

    build["nnAudio 0.3.4 CQT2010v2 (seed)"] = construction_ms(
        lambda: nnaudio_features.CQT2010v2(hop_length=HOP, verbose=False, **seed), 3)
    build["nnAudio 0.3.4 CQT1992v2 (seed)"] = construction_ms(
        lambda: nnaudio_features.CQT1992v2(hop_length=HOP, verbose=False, **seed), 3)
    sizes = {
        "nnaudio-core cqt2019": kernel_megabytes(CQT2019(hop_length=HOP, **seed)),
        "nnaudio-core cqt1992 (auto: fft)": kernel_megabytes(CQT1992(hop_length=HOP, **seed)),
        "nnaudio-core cqt1992 (conv)": kernel_megabytes(CQT1992(hop_length=HOP, backend="conv", **seed)),
        "nnAudio 0.3.4 CQT2010v2": kernel_megabytes(nnaudio_features.CQT2010v2(hop_length=HOP, verbose=False, **seed)),
        "nnAudio 0.3.4 CQT1992v2": kernel_megabytes(nnaudio_features.CQT1992v2(hop_length=HOP, verbose=False, **seed)),
    }
    sections.append(markdown_table(["construction", "time (ms)"], [[k, f"{v:.1f}"] for k, v in build.items()]))
    sections.append(markdown_table(["kernels held, seed configuration (float32)", "size (MB)"],
                                   [[k, f"{v:.2f}"] for k, v in sizes.items()]))
    checks += [
        ["construction cqt2019 (seed)", f"{build['nnaudio-core cqt2019 (seed)']:.0f} ms", "< 100 ms"],
        ["construction cqt1992 auto (seed)", f"{build['nnaudio-core cqt1992, auto: fft (seed)']:.0f} ms", "< 100 ms"],
    ]
    return sections, timings, checks


def accuracy() -> list[list[str]]:
    """Relative L2 error of the complex output: vs the float64 definition, and vs librosa.cqt."""
    import librosa

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from cqt_reference import reference_cqt, rel_err
    from signals import chirp, noise_bursts, notes

    CQT1992, CQT2019 = get_transform("cqt1992"), get_transform("cqt2019")
    rows = []
    for label, cfg in CONFIGS.items():
        signals = {"chirp": chirp, "notes": notes, "noise": noise_bursts}
        clips = np.stack([fn(2.0, sr=cfg["sr"]) for fn in signals.values()])
        x = torch.from_numpy(clips.astype(np.float32))
        for pad_mode in ("reflect", "constant"):
            ref = reference_cqt(clips, hop_length=HOP, pad_mode=pad_mode, **cfg)
            common = dict(hop_length=HOP, output_format="Complex", pad_mode=pad_mode, **cfg)
            outs = {
                "cqt1992 conv": CQT1992(backend="conv", **common),
                "cqt1992 fft": CQT1992(backend="fft", **common),
                "cqt2019": CQT2019(**common),
            }
            for name, cqt in outs.items():
                out = cqt(x).numpy()
                errs = [rel_err(out[i], ref[i]) for i in range(len(signals))]
                rows.append([label, pad_mode, f"{name} vs definition", *[f"{e:.1e}" for e in errs]])
            lib = librosa.cqt(clips, hop_length=HOP, pad_mode=pad_mode, tuning=0.0, scale=True, **cfg)
            ours = outs["cqt2019"](x).numpy()
            rows.append([label, pad_mode, "cqt2019 vs librosa.cqt",
                         *[f"{rel_err(ours[i], lib[i]):.1e}" for i in range(3)]])
            rows.append([label, pad_mode, "definition vs librosa.cqt",
                         *[f"{rel_err(ref[i], lib[i]):.1e}" for i in range(3)]])
    return rows


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="interleaved timing rounds (default 9)")
    parser.add_argument("--no-accuracy", action="store_true", help="skip the accuracy table")
    args = parser.parse_args(argv)
    setup_threads(2)
    warnings.filterwarnings("ignore")
    sections, timings, checks = speed(args.repeats)
    parts = [
        "### Constant-Q transform (4 x 10 s clips, hop 512)",
        f"Measured on {machine()}; median of {args.repeats} interleaved repeats; librosa.cqt with tuning=0.",
        *sections,
        markdown_table(["target", "measured", "required"], checks),
    ]
    if not args.no_accuracy:
        parts.append("Accuracy on 2 s clips (chirp, notes, noise): relative L2 error of the complex output "
                     "(librosa: scale=True, same lengths and padding).")
        header = ["configuration", "pad_mode", "comparison", "chirp", "notes", "noise"]
        parts.append(markdown_table(header, accuracy()))
    text = "\n\n".join(parts)
    print(text)
    write_result("cqt", text, title="CQT, 4 x 10 s clips, hop 512", timings_ms=timings)
    return text


if __name__ == "__main__":
    main()
