"""Inverse CQT benchmark: icqt and griffin_lim_cqt against librosa.icqt and librosa.griffinlim_cqt.

Accuracy: round-trip SNR on the shipped recording (4 s, band-limited to [2 fmin, f_top / 2], faded
over 0.1 s) for the well-sampled configuration (22.05 kHz, 144 bins, 24 per octave, hop 128) and
the seed configuration (44.1 kHz, 168 bins from 55 Hz, hop 512); spectral convergence of Griffin-Lim
(84 bins, hop 512, 32 iterations). Speed: medians of interleaved repeats, peers side by side.

    python benchmarks/bench_icqt.py [--repeats 3] [--threads 2]

writes ``benchmarks/results/icqt.md`` (and ``icqt.json``).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from common import interleaved, load_note, machine, markdown_table, setup_threads, write_result  # noqa: E402
from test_icqt import SEED, WELL, recording, snr  # noqa: E402

from nnaudio_core import get_transform  # noqa: E402


def _interior(y: np.ndarray, x: np.ndarray, margin: int) -> float:
    return snr(y[margin:-margin], x[margin:-margin])


def accuracy() -> tuple[list[list[str]], list[list[str]]]:
    import librosa

    rows = []
    for label, cfg in (("well-sampled: 22.05 kHz, 144 bins (24/oct) from 32.7 Hz, hop 128", WELL),
                       ("seed: 44.1 kHz, 168 bins (24/oct) from 55 Hz, hop 512", SEED)):
        x = recording(**{k: cfg[k] for k in ("sr", "fmin", "n_bins", "bins_per_octave")})
        margin = cfg["sr"] // 2
        lib_c = librosa.cqt(x, sr=cfg["sr"], hop_length=cfg["hop_length"], fmin=cfg["fmin"], n_bins=cfg["n_bins"],
                            bins_per_octave=cfg["bins_per_octave"])
        lib_y = librosa.icqt(lib_c, sr=cfg["sr"], hop_length=cfg["hop_length"], fmin=cfg["fmin"],
                             bins_per_octave=cfg["bins_per_octave"], length=len(x))
        rows.append([label, "librosa.cqt → librosa.icqt", f"{snr(lib_y, x):.1f}", f"{_interior(lib_y, x, margin):.1f}"])
        for forward in ("cqt2019", "cqt1992"):
            C = get_transform(forward)(**cfg, output_format="Complex")(torch.tensor(x, dtype=torch.float32))
            for n_iter in (0, 3, 10, 50):
                if forward == "cqt1992" and n_iter not in (0, 10):
                    continue
                y = get_transform("icqt")(**cfg, n_iter=n_iter)(C, length=len(x)).numpy()
                what = "one-shot" if n_iter == 0 else f"n_iter={n_iter}"
                rows.append([label, f"{forward} → icqt {what}", f"{snr(y, x):.1f}", f"{_interior(y, x, margin):.1f}"])
    gl_rows = []
    import soundfile

    from nnaudio_core.app.audio_io import example_audio
    with example_audio() as path:
        y, _ = soundfile.read(str(path))
    kw = dict(sr=22050, fmin=32.70, n_bins=84, bins_per_octave=12, hop_length=512)
    lib_m = np.abs(librosa.cqt(y, sr=22050, hop_length=512, fmin=32.70, n_bins=84, bins_per_octave=12))
    lib_y = librosa.griffinlim_cqt(lib_m, sr=22050, hop_length=512, fmin=32.70, bins_per_octave=12, n_iter=32,
                                   random_state=0, length=len(y))
    lib_r = np.abs(librosa.cqt(lib_y, sr=22050, hop_length=512, fmin=32.70, n_bins=84, bins_per_octave=12))
    reference = np.linalg.norm(lib_r - lib_m) / np.linalg.norm(lib_m)
    gl_rows.append(["librosa.griffinlim_cqt (pad_mode constant)", f"{reference:.3f}", "1.00"])
    for pad in ("constant", "reflect"):
        cqt = get_transform("cqt2019")(**kw, pad_mode=pad)
        m = cqt(torch.tensor(y, dtype=torch.float32))
        for icqt_iter in (0, 1):
            gl = get_transform("griffin_lim_cqt")(**kw, pad_mode=pad, n_iter=32, icqt_iter=icqt_iter)
            sc = float((cqt(gl(m, length=len(y))) - m).norm() / m.norm())
            gl_rows.append([f"griffin_lim_cqt, pad_mode {pad}, icqt_iter={icqt_iter}", f"{sc:.3f}",
                            f"{sc / reference:.2f}"])
    return rows, gl_rows


def speed(repeats: int) -> tuple[list[str], dict[str, float]]:
    import librosa
    import soundfile

    from nnaudio_core.app.audio_io import example_audio

    with example_audio() as path:
        y, _ = soundfile.read(str(path))
    y = y.astype(np.float32)
    sections, timings = [], {}
    cfg = WELL
    lib_c = librosa.cqt(y, sr=cfg["sr"], hop_length=cfg["hop_length"], fmin=cfg["fmin"], n_bins=cfg["n_bins"],
                        bins_per_octave=cfg["bins_per_octave"])
    C = get_transform("cqt2019")(**cfg, output_format="Complex")(torch.from_numpy(y))
    one = get_transform("icqt")(**cfg)
    ten = get_transform("icqt")(**cfg, n_iter=10)
    with torch.no_grad():
        t = interleaved({
            "icqt one-shot": lambda: one(C),
            "icqt n_iter=10": lambda: ten(C),
            "librosa.icqt": lambda: librosa.icqt(lib_c, sr=cfg["sr"], hop_length=cfg["hop_length"], fmin=cfg["fmin"],
                                                 bins_per_octave=cfg["bins_per_octave"]),
        }, repeats=repeats, burst=1)
    rows = [[k, f"{1000 * v:.1f} ms"] for k, v in t.items()]
    rows.append(["librosa.icqt / icqt one-shot", f"{t['librosa.icqt'] / t['icqt one-shot']:.1f}x"])
    sections.append("icqt, 4 s recording, well-sampled configuration (144 bins, hop 128):")
    sections.append(markdown_table(["", "time"], rows))
    timings.update({f"{k} (144 bins, hop 128)": 1000 * v for k, v in t.items()})
    kw = dict(sr=22050, fmin=32.70, n_bins=84, bins_per_octave=12, hop_length=512)
    lib_m = np.abs(librosa.cqt(y, sr=22050, hop_length=512, fmin=32.70, n_bins=84, bins_per_octave=12))
    m = get_transform("cqt2019")(**kw, pad_mode="constant")(torch.from_numpy(y))
    gl0 = get_transform("griffin_lim_cqt")(**kw, pad_mode="constant", n_iter=32, icqt_iter=0)
    gl1 = get_transform("griffin_lim_cqt")(**kw, pad_mode="constant", n_iter=32)
    with torch.no_grad():
        t = interleaved({
            "griffin_lim_cqt icqt_iter=0": lambda: gl0(m),
            "griffin_lim_cqt icqt_iter=1 (default)": lambda: gl1(m),
            "librosa.griffinlim_cqt": lambda: librosa.griffinlim_cqt(lib_m, sr=22050, hop_length=512, fmin=32.70,
                                                                     bins_per_octave=12, n_iter=32, random_state=0),
        }, repeats=max(1, repeats // 2), burst=1)
    rows = [[k, f"{1000 * v:.0f} ms"] for k, v in t.items()]
    rows.append(["librosa / griffin_lim_cqt icqt_iter=0", f"{t['librosa.griffinlim_cqt'] / t['griffin_lim_cqt icqt_iter=0']:.1f}x"])
    sections.append("Griffin-Lim, 4 s recording, 84 bins, hop 512, 32 iterations:")
    sections.append(markdown_table(["", "time"], rows))
    timings.update({f"{k} (84 bins, 32 iterations)": 1000 * v for k, v in t.items()})
    return sections, timings


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved timing rounds (default 5)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    parser.add_argument("--no-accuracy", action="store_true", help="skip the accuracy tables")
    parser.add_argument("--no-speed", action="store_true", help="skip the timings (accuracy tables only)")
    args = parser.parse_args(argv)
    setup_threads(args.threads)
    warnings.filterwarnings("ignore")
    parts = ["### Inverse CQT (icqt, griffin_lim_cqt)",
             f"Measured on {machine()}; medians of interleaved repeats; {load_note()}. Compare the ratios: "
             "absolute times are noisy."]
    if not args.no_accuracy:
        rows, gl_rows = accuracy()
        parts.append("Round-trip SNR in dB (whole clip; interior: without the first and last 0.5 s):")
        parts.append(markdown_table(["configuration", "path", "SNR", "interior SNR"], rows))
        parts.append("Griffin-Lim spectral convergence `|| |CQT(y)| - M || / ||M||` (each library's own CQT), "
                     "4 s recording, 84 bins from 32.7 Hz, hop 512, 32 iterations, momentum 0.99:")
        parts.append(markdown_table(["method", "spectral convergence", "vs librosa"], gl_rows))
    timings: dict[str, float] = {}
    if not args.no_speed:
        sections, timings = speed(args.repeats)
        parts += sections
    text = "\n\n".join(parts)
    print(text)
    write_result("icqt", text, title="inverse CQT, 4 s recording", timings_ms=timings)
    return text


if __name__ == "__main__":
    main()
