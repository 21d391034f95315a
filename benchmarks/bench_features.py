"""Gammatonegram, CFP and PCEN benchmark: nnaudio-core against nnAudio 0.3.4 and librosa.pcen.

Workloads (torch threads as ``--threads``, medians of interleaved repeats, ratios from the same run),
4 clips x 10 s:

* ``gammatonegram`` (22.05 kHz, n_fft 2048, hop 512, 64 bands) against nnAudio's ``Gammatonegram``;
* ``cfp`` with ``output_format="all"`` (16 kHz, nnAudio's defaults: 8000-point frames, hop 320) against
  nnAudio's ``Combined_Frequency_Periodicity`` (which returns the same four representations);
* ``pcen`` (128-band mel magnitude of the 4 clips at 22.05 kHz, hop 512) against ``librosa.pcen`` on
  the same array; the frozen step (shared parameters) and the learnable one (per-band parameters).

Also measures accuracy on the shipped recording (``nnaudio_core/data/example.flac``): the largest
absolute difference relative to the reference's largest value.

Run: ``python benchmarks/bench_features.py`` (needs the ``bench`` extra: librosa, nnAudio); writes
``benchmarks/results/features.md`` (+ ``features.json``) and prints the tables.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import scipy.signal
import scipy.signal.windows
import torch
from common import interleaved, load_note, machine, markdown_table, setup_threads, workload, write_result

from nnaudio_core import get_transform

EXAMPLE = Path(__file__).resolve().parent.parent / "nnaudio_core" / "data" / "example.flac"


def _nnaudio():
    # nnAudio 0.3.4's CFP calls scipy.signal.blackmanharris, which current scipy has only in scipy.signal.windows
    if not hasattr(scipy.signal, "blackmanharris"):
        scipy.signal.blackmanharris = scipy.signal.windows.blackmanharris
    from nnAudio import features

    return features


def _rel_frames(a, b, skip: int) -> float:
    """:func:`_rel` per frame (last axis), leaving out the ``skip`` worst frames."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    per_frame = np.abs(a - b).reshape(-1, a.shape[-1]).max(axis=0) / np.abs(b).max()
    return float(np.sort(per_frame)[-1 - skip])


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / np.abs(b).max())


def speed(repeats: int) -> tuple[str, dict[str, float], list[list[str]]]:
    import librosa

    nn = _nnaudio()
    audio = workload(sr=22050)
    audio16 = workload(sr=16000)
    x, x16 = torch.from_numpy(audio), torch.from_numpy(audio16)
    ours_g = get_transform("gammatonegram")(sr=22050)
    with contextlib.redirect_stdout(io.StringIO()):
        theirs_g = nn.Gammatonegram(sr=22050, verbose=False)
    ours_c = get_transform("cfp")(output_format="all")
    theirs_c = nn.Combined_Frequency_Periodicity()
    mel = librosa.feature.melspectrogram(y=audio, sr=22050, n_fft=2048, hop_length=512, n_mels=128, power=1.0)
    mel = mel.astype(np.float32)
    mel_t = torch.from_numpy(mel)
    ours_p = get_transform("pcen")(sr=22050, hop_length=512)
    ours_pt = get_transform("pcen")(sr=22050, hop_length=512, n_bands=128, trainable=True)
    families = [
        {"nnaudio-core gammatonegram": lambda: ours_g(x), "nnAudio 0.3.4 Gammatonegram": lambda: theirs_g(x)},
        {"nnaudio-core cfp (all four)": lambda: ours_c(x16),
         "nnAudio 0.3.4 Combined_Frequency_Periodicity": lambda: theirs_c(x16)},
        {"nnaudio-core pcen": lambda: ours_p(mel_t),
         "nnaudio-core pcen (learnable, per band)": lambda: ours_pt(mel_t),
         "librosa.pcen": lambda: librosa.pcen(mel, sr=22050, hop_length=512)},
    ]
    t: dict[str, float] = {}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # one interleaved run per family: the peers of one comparison side by side, and a 2-second nnAudio CFP
        # call never sits between two millisecond PCEN calls (its freed buffers and busy threads skew them)
        for candidates in families:
            t.update(interleaved(candidates, repeats=repeats))
    pairs = [
        ("nnaudio-core gammatonegram", "nnAudio 0.3.4 Gammatonegram", ">= 3x"),
        ("nnaudio-core cfp (all four)", "nnAudio 0.3.4 Combined_Frequency_Periodicity", "(none)"),
        ("nnaudio-core pcen", "librosa.pcen", ">= 1x"),
        ("nnaudio-core pcen (learnable, per band)", "librosa.pcen", "(none)"),
    ]
    rows, checks = [], []
    for ours, ref, target in pairs:
        rows.append([ours, f"{1000 * t[ours]:.1f}", ref, f"{1000 * t[ref]:.1f}", f"{t[ref] / t[ours]:.2f}x"])
        checks.append([f"{ours} vs {ref}", f"{t[ref] / t[ours]:.2f}x", target])
    table = markdown_table(["nnaudio-core", "time (ms)", "reference", "time (ms)", "speed-up"], rows)
    return table, {name: 1000 * sec for name, sec in t.items()}, checks


def accuracy() -> list[list[str]]:
    import librosa
    import soundfile

    nn = _nnaudio()
    y, sr = soundfile.read(EXAMPLE, dtype="float32")
    x = torch.from_numpy(y)
    rows = []
    for kw in ({}, dict(n_fft=1024, hop_length=256, n_bins=32, fmin=50.0, fmax=8000.0), dict(power=1.0)):
        with contextlib.redirect_stdout(io.StringIO()):
            ref = nn.Gammatonegram(sr=sr, verbose=False, **kw)(x)[0].numpy()
        out = get_transform("gammatonegram")(sr=sr, **kw)(x).numpy()
        rows.append([f"gammatonegram {kw or 'defaults'}", "nnAudio 0.3.4 Gammatonegram", f"{_rel(out, ref):.1e}",
                     "1e-3"])
    y16 = librosa.resample(y, orig_sr=sr, target_sr=16000)
    x16 = torch.from_numpy(y16)[None]
    for kw in ({}, dict(g=[0.24, 0.6, 1.0, 0.5]), dict(g=[0.1, 0.0, 0.9])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            refs = nn.Combined_Frequency_Periodicity(**kw)(x16)
        every = get_transform("cfp")(output_format="all", **kw)(x16)[0][..., 1:-1, :]
        # g = 0 is nnAudio's log(relu(c) + 1e-8): where a coefficient sits at zero, float32 rounding picks
        # log(1e-8) or log(c) and the next DFT spreads it over the frame; a few frames (which ones depends on
        # the FFT's summation order) are ill-conditioned, so they are left out and counted (tests/test_features.py)
        skip = 4 if 0.0 in kw.get("g", ()) else 0
        errs = [_rel_frames(every[..., i].numpy(), r[0].numpy(), skip) for i, r in enumerate(refs)]
        label = f"cfp {kw or 'defaults'} (Z, tfrL0, tfrLF, tfrLQ)" + (f", all but the {skip} worst frames" if skip else "")
        rows.append([label, "nnAudio 0.3.4 Combined_Frequency_Periodicity", " / ".join(f"{e:.1e}" for e in errs),
                     "1e-3"])
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=2048, hop_length=512, n_mels=128, power=1.0)
    for kw, scale in (({}, 1.0), ({}, 2.0**31), (dict(max_size=3), 1.0), (dict(power=0.0, bias=0.0), 1.0)):
        S = (mel * scale).astype(np.float32)
        ref = librosa.pcen(S, sr=sr, hop_length=512, **kw)
        out = get_transform("pcen")(sr=sr, hop_length=512, **kw)(torch.from_numpy(S)).numpy()
        label = f"pcen {kw or 'defaults'}" + (" (mel x 2^31)" if scale != 1.0 else "")
        rows.append([label, "librosa.pcen", f"{_rel(out, ref):.1e}", "1e-4"])
    return rows


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="interleaved timing rounds (default 9)")
    parser.add_argument("--no-accuracy", action="store_true", help="skip the accuracy table")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2; use 1 when other "
                        "processes occupy the cores: two OpenMP threads then wait on each other)")
    args = parser.parse_args(argv)
    setup_threads(args.threads)
    warnings.filterwarnings("ignore")
    load = load_note()
    table, timings, checks = speed(args.repeats)
    parts = [
        "### Gammatonegram, CFP and PCEN (4 x 10 s clips)",
        f"Measured on {machine()}; median of {args.repeats} interleaved repeats "
        f"per comparison (peers side by side in one run); {load}. Absolute times are noisy, the ratios come from "
        "the same rounds.",
        table,
        markdown_table(["target", "measured", "required"], checks),
    ]
    if not args.no_accuracy:
        parts.append("Accuracy on the shipped recording (example.flac, 4 s; CFP at 16 kHz): largest absolute "
                     "difference relative to the reference's largest value.")
        parts.append(markdown_table(["configuration", "reference", "error", "target"], accuracy()))
    text = "\n\n".join(parts)
    print(text)
    write_result("features", text, title="Gammatonegram, CFP, PCEN, 4 x 10 s clips", timings_ms=timings)
    return text


if __name__ == "__main__":
    main()
