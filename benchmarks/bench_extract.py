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
worker per CPU). Ray's cost is split into its *start-up* (seconds until the first result: starting
Ray, each worker importing torch and building the pipeline) and its *steady* cost per file after
that; the *overhead per file* is that steady cost minus the local engine's (with as many threads as
Ray has CPUs).

Writes markdown tables to stdout and to ``benchmarks/results/extract.md``.

Usage::

    python benchmarks/bench_extract.py [--spec mel] [--files 200] [--seconds 10] [--workers 1 2 4]
                                       [--batch-size 8] [--format flac] [--repeat 3] [--data bench-out/extract-audio]
                                       [--engines local ray] [--ray-cpus 2]
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


def overhead_table(rows: list[dict], *, files: int, workers: int) -> str:
    """Ray's fixed cost (until its first result) and steady per-file cost, next to the local engine's."""
    local = [r for r in rows if r["engine"] == "local" and r["workers"] == workers]
    ray = [r for r in rows if r["engine"] == "ray"]
    if not local or not ray:
        return ""
    local_ms = 1000 * local[0]["wall"] / local[0]["written"]
    lines = [
        f"### Ray's overhead ({files} clips, {workers} CPUs)",
        "",
        "| engine | batch | start-up until the first result (s) | steady per file (ms) | steady files/s |",
        "|---|---:|---:|---:|---:|",
        f"| local, {workers} workers | {local[0]['batch_size']} | – | {local_ms:.1f} | {1000 / local_ms:.1f} |",
    ]
    for r in ray:
        steady = (r["wall"] - r["startup"]) / max(1, r["written"] - 1)
        lines.append(f"| ray, {r['workers']} workers | {r['batch_size']} | {r['startup']:.2f} | {1000 * steady:.1f} "
                     f"| {1 / steady:.1f} |")
    steady = (ray[0]["wall"] - ray[0]["startup"]) / max(1, ray[0]["written"] - 1)
    lines += ["", f"Ray adds **{1000 * steady - local_ms:.1f} ms per file** to the local engine's {local_ms:.1f} ms "
              f"once running, after a start-up of {ray[0]['startup']:.1f} s (a local Ray instance, its workers each "
              "importing torch and building the pipeline, the first batches). *steady per file*: (wall − start-up) "
              "/ (files − 1) for Ray, wall / files for the local engine. The first result comes back when a worker "
              "finishes its first block (up to 4 batches) while the others work on theirs, so up to a block per "
              "worker is done inside the start-up window and the steady cost is somewhat higher than this figure: "
              "at most (wall − start-up) / (files − blocks done early)."]
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
    if len(engines) > 1:
        text += "\n" + overhead_table(rows, files=args.files, workers=args.ray_cpus)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
