"""Benchmark ``nnaudio extract``: throughput, and whether decoding keeps the transform busy.

Makes a folder of ``--files`` clips of ``--seconds`` each at 22.05 kHz (FLAC by default, seeded, cached
between runs), then runs the real command (``nnaudio extract SPEC IN OUT --report FILE``) once per
``--workers`` × ``--batch-size`` combination into a fresh output folder, and reads the timings the
command reports:

* **files/s**: outputs written per second of the command's extraction wall time;
* **decode**: seconds the decode threads spent decoding + resampling, summed over threads, and as a
  share of the wall time;
* **transform**: seconds in the pipeline (on the main thread), share of wall;
* **idle**: seconds the transform loop waited on the decode queue (time the transform had nothing to
  do), share of wall. Near zero means decoding keeps up.

With ``--engines local ray`` (the default when ray is installed) the same folder also goes through
``--engine ray`` (a local Ray instance of ``--ray-cpus`` CPUs started by the command, one transform
worker per CPU), and a second, smaller folder of ``--small-files`` clips through both engines gives
the cost of Ray as a line: *fixed* seconds (starting Ray and its workers: the intercept) plus *per
file* milliseconds (the slope between the two folder sizes), and the *overhead per file* Ray adds
to the local engine's slope.

Writes markdown tables to stdout and to ``benchmarks/results/extract.md``.

Usage::

    python benchmarks/bench_extract.py [--spec mel] [--files 200] [--seconds 10] [--workers 1 2 4]
                                       [--batch-size 8] [--format flac] [--repeat 3] [--data bench-out/extract-audio]
                                       [--engines local ray] [--ray-cpus 2] [--small-files 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SR = 22050


def make_dataset(folder: Path, *, files: int, seconds: float, fmt: str) -> Path:
    """Write ``files`` seeded music-like clips (tones with harmonics + noise), skipping existing ones."""
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    for i in range(files):
        path = folder / f"{i // 50:02d}" / f"clip{i:04d}.{fmt}"
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(i)
        f0 = 110.0 * 2 ** (rng.integers(0, 36) / 12)
        x = sum(0.5**k * np.sin(2 * np.pi * f0 * (k + 1) * t) for k in range(6))
        x = 0.3 * x * (0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * t)) + 0.02 * rng.standard_normal(n)
        soundfile.write(path, x.astype(np.float32), SR, subtype="PCM_16")
    return folder


def nnaudio_command() -> list[str]:
    script = shutil.which("nnaudio", path=str(Path(sys.executable).parent)) or shutil.which("nnaudio")
    return [script] if script else [sys.executable, "-m", "nnaudio_core"]


def run_once(spec: str, data: Path, *, workers: int | None, batch_size: int, device: str, engine: str = "local",
             ray_cpus: int = 2) -> dict:
    with tempfile.TemporaryDirectory(prefix="nnaudio-bench-") as tmp:
        report = Path(tmp) / "report.json"
        command = [*nnaudio_command(), "extract", spec, str(data), str(Path(tmp) / "out"),
                   "--batch-size", str(batch_size), "--report", str(report), "--no-progress"]
        if engine == "ray":
            command += ["--engine", "ray", "--num-cpus", str(ray_cpus)]
        else:
            command += ["--workers", str(workers), "--device", device]
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stderr}")
        result = json.loads(report.read_text())
    result["process_wall"] = elapsed
    return result


def table(rows: list[dict], *, spec: str, files: int, seconds: float, fmt: str, command: str) -> str:
    lines = [
        f"# `nnaudio extract` benchmark: {files} × {seconds:g} s clips at 22.05 kHz ({fmt}), spec `{spec}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"torch {_version('torch')}, soundfile {_version('soundfile')}, load average {_load()} at the end. "
        f"Command: `{command}`.",
        "",
        "| engine | workers | batch | files/s | wall (s) | process (s) | decode (s, % wall) | transform (s, % wall) "
        "| write (s) | transform idle (s, % wall) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        wall = r["wall"]
        share = {k: 100 * r[k] / wall for k in ("decode", "transform", "idle")}
        ray = r.get("engine") == "ray"
        workers = f"{r['workers']} transform" if ray else str(r["workers"])
        idle = "–" if ray else f"{r['idle']:.2f} ({share['idle']:.1f}%)"
        lines.append(
            f"| {r.get('engine', 'local')} | {workers} | {r['batch_size']} | {r['files_per_second']:.1f} | {wall:.2f} "
            f"| {r['process_wall']:.2f} "
            f"| {r['decode']:.2f} ({share['decode']:.0f}%) | {r['transform']:.2f} ({share['transform']:.0f}%) "
            f"| {r['write']:.2f} | {idle} |"
        )
    lines += [
        "",
        "Fastest of the repeated runs per row. *wall*: extraction time reported by the command (after imports); "
        "*process*: the whole subprocess. "
        "*decode* is summed over the decode threads (decoding + mixing + resampling, off the main thread), so "
        "it overlaps the transform. *transform idle*: time the transform loop waited on the decode queue, "
        "including the wait for the first batch. *ray* rows: `--engine ray --num-cpus 2` (a local Ray instance "
        "started by the command: its start-up is in *wall*); decode, transform and write are summed over the Ray "
        "workers, and idle is not measured.",
    ]
    return "\n".join(lines) + "\n"


def cost_line(small: dict, large: dict) -> tuple[float, float]:
    """(fixed seconds, seconds per file) of the line through two runs of different folder sizes."""
    per_file = (large["wall"] - small["wall"]) / (large["written"] - small["written"])
    return small["wall"] - per_file * small["written"], per_file


def overhead_table(runs: dict[str, tuple[dict, dict]], *, small: int, files: int) -> str:
    """Files/s at both sizes and the fixed + per-file cost of each engine; Ray's per-file overhead."""
    lines = [
        f"### Ray's overhead: {small} and {files} clips through each engine",
        "",
        f"| engine | files/s ({small} clips) | files/s ({files} clips) | fixed cost (s) | per file (ms) "
        "| steady files/s (1 / per file) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    slopes = {}
    for engine, (a, b) in runs.items():
        fixed, per_file = cost_line(a, b)
        slopes[engine] = per_file
        lines.append(f"| {engine} | {a['files_per_second']:.1f} | {b['files_per_second']:.1f} | {fixed:.2f} "
                     f"| {1000 * per_file:.2f} | {1 / per_file:.0f} |")
    if "local" in slopes and "ray" in slopes:
        extra = slopes["ray"] - slopes["local"]
        local_ms = 1000 * slopes["local"]
        lines += ["", f"Ray adds **{1000 * extra:.2f} ms per file** to the local engine's {local_ms:.2f} ms "
                  f"(same {files} clips, same CPUs), on top of a fixed {cost_line(*runs['ray'])[0]:.1f} s to start "
                  "a local Ray instance and its workers (each imports torch and builds the pipeline once). "
                  "Fixed cost and per-file cost: the line through the two folder sizes (wall time, fastest run of "
                  "each)."]
    return "\n".join(lines) + "\n"


def _has_ray() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except (AttributeError, OSError):  # not on Windows
        return "?"


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except Exception:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="mel", help="bundled spec or YAML file (default: mel)")
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--format", default="flac", choices=("flac", "wav", "ogg"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch-size", type=int, nargs="+", default=[8])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3, help="runs per combination; the fastest is reported")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-out" / "extract-audio",
                        help="folder for the generated clips (kept between runs)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "extract.md")
    parser.add_argument("--engines", nargs="+", choices=("local", "ray"), default=None,
                        help="engines to time (default: local, and ray when it is installed)")
    parser.add_argument("--ray-cpus", type=int, default=2, help="CPUs of the local Ray instance (default 2)")
    parser.add_argument("--small-files", type=int, default=20,
                        help="clips of the small folder giving the fixed and per-file costs (0: skip)")
    args = parser.parse_args(argv)
    engines = args.engines or (["local", "ray"] if _has_ray() else ["local"])

    data = args.data / f"{args.files}x{args.seconds:g}s-{args.format}"
    print(f"making {args.files} clips in {data} ...", file=sys.stderr)
    make_dataset(data, files=args.files, seconds=args.seconds, fmt=args.format)
    rows = []

    def fastest(folder: Path, engine: str, workers: int | None, batch: int) -> dict:
        print(f"extract: {engine} workers={workers} batch={batch} on {folder.name} ...", file=sys.stderr)
        runs = [run_once(args.spec, folder, workers=workers, batch_size=batch, device=args.device, engine=engine,
                         ray_cpus=args.ray_cpus) for _ in range(max(1, args.repeat))]
        return {**min(runs, key=lambda r: r["wall"]), "engine": engine}

    if "local" in engines:
        rows += [fastest(data, "local", workers, batch) for workers in args.workers for batch in args.batch_size]
    if "ray" in engines:
        rows += [fastest(data, "ray", None, batch) for batch in args.batch_size]
    command = "python benchmarks/bench_extract.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = table(rows, spec=args.spec, files=args.files, seconds=args.seconds, fmt=args.format, command=command.strip())
    if args.small_files and len(engines) > 1:
        small = args.data / f"{args.small_files}x{args.seconds:g}s-{args.format}"
        make_dataset(small, files=args.small_files, seconds=args.seconds, fmt=args.format)
        batch, workers = args.batch_size[0], args.ray_cpus  # the local engine with as many threads as Ray CPUs
        large = {r["engine"]: r for r in rows
                 if r["batch_size"] == batch and (r["engine"] == "ray" or r["workers"] == workers)}
        runs = {engine: (fastest(small, engine, workers if engine == "local" else None, batch), large[engine])
                for engine in engines if engine in large}
        text += "\n" + overhead_table(runs, small=args.small_files, files=args.files)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
