"""Shared benchmark helpers: interleaved timing (ratios measured side by side), tables, workloads.

Benchmarks are scripts, not tests: this machine is noisy, so every comparison runs its candidates
in interleaved rounds within one process and reports medians and ratios of medians.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).parent / "results"


def setup_threads(threads: int = 2) -> None:
    """Pin torch (and hence the comparison) to ``threads`` intra-op threads."""
    torch.set_num_threads(threads)


def workload(*, clips: int = 4, seconds: float = 10.0, sr: int = 22050, seed: int = 0) -> np.ndarray:
    """``clips`` x ``seconds`` of music-like float32 audio (harmonic notes plus noise), deterministic."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out = np.empty((clips, n), dtype=np.float32)
    for c in range(clips):
        f0 = 55.0 * 2 ** (rng.integers(0, 48) / 12)
        tone = sum(0.5**h * np.sin(2 * np.pi * f0 * (h + 1) * t * (1 + 0.01 * np.sin(2 * np.pi * 0.3 * t)))
                   for h in range(8) if f0 * (h + 1) < sr / 2)
        out[c] = (tone + 0.05 * rng.standard_normal(n)).astype(np.float32)
    return out


def interleaved_timings(
    candidates: dict[str, Callable[[], object]],
    *,
    repeats: int = 7,
    burst: int = 1,
    settle: float = 0.2,
    warmup_seconds: float = 2.0,
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall seconds per candidate, timed in interleaved rounds: ``(steady, single)``.

    Each round gives every candidate one turn of ``burst`` back-to-back calls; *single* is the first
    call of a turn, *steady* the last (equal when ``burst == 1``). Round ``r`` starts with candidate
    ``r mod n``, so no candidate always follows the same one.

    Two things on a small shared machine skew side-by-side timings, and both are taken out:

    * the first seconds of a process run slower (allocator and page warm-up): every candidate is
      called in turn until ``warmup_seconds`` have passed;
    * a thread pool keeps spinning for a while after its work (numpy's OpenBLAS after librosa, torch's
      OpenMP threads), taking cores from whatever runs next on 2 CPUs: before each turn the process
      sleeps ``settle`` seconds (untimed) so that every candidate starts on quiet cores.
    """
    deadline = time.perf_counter() + warmup_seconds
    while True:
        for fn in candidates.values():
            fn()
        if time.perf_counter() >= deadline:
            break
    steady: dict[str, list[float]] = {name: [] for name in candidates}
    single: dict[str, list[float]] = {name: [] for name in candidates}
    names = list(candidates)
    for round_ in range(repeats):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            fn = candidates[name]
            time.sleep(settle)
            for call in range(burst):
                start = time.perf_counter()
                fn()
                elapsed = time.perf_counter() - start
                if call == 0:
                    single[name].append(elapsed)
            steady[name].append(elapsed)
    med = statistics.median
    return {k: med(v) for k, v in steady.items()}, {k: med(v) for k, v in single.items()}


def interleaved(candidates: dict[str, Callable[[], object]], *, repeats: int = 7, burst: int = 3) -> dict[str, float]:
    """Steady median wall seconds per candidate (see :func:`interleaved_timings`)."""
    return interleaved_timings(candidates, repeats=repeats, burst=burst)[0]


def construction_ms(factory: Callable[[], object], repeats: int = 7) -> float:
    """Median milliseconds to call ``factory`` (a constructor), over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        factory()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def machine() -> str:
    """One line describing where the numbers were measured."""
    return (f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
            f"torch {torch.__version__}, Python {platform.python_version()}")


def load_note() -> str:
    """The 1-minute load average now, as a clause for a results header (call it before timing)."""
    return f"1-minute load average {os.getloadavg()[0]:.1f} before the run ({os.cpu_count()} cores)"


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_result(name: str, text: str, *, title: str = "", timings_ms: dict[str, float] | None = None) -> Path:
    """Write ``results/<name>.md`` and, for the plot, ``results/<name>.json`` (see report.py)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(text.rstrip() + "\n")
    if timings_ms is not None:
        payload = {"title": title or name, "timings_ms": {k: round(v, 3) for k, v in timings_ms.items()}}
        (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=1) + "\n")
    return path
