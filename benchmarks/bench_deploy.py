"""Compile benchmark: first-call (compiling) time and compiled vs eager speed of the bundled specs.

For each bundled spec, a fresh process (so no in-memory compile cache, and the on-disk inductor
caches pointed at an empty directory) builds the pipeline on the CPU and measures:

* ``compile s``: the first call of ``torch.compile(pipeline, fullgraph=True)`` (inductor) on
  4 clips x 10 s, which traces and generates code;
* ``new length s``: the first call at another clip length (torch.compile then recompiles with a
  dynamic time dimension, once);
* ``eager ms`` / ``compiled ms``: medians of interleaved steady calls on the 4 x 10 s batch, and
  their ratio (> 1: the compiled module is faster).

Run: ``python benchmarks/bench_deploy.py [--specs stft mel ...] [--timeout 900]`` (default: every
bundled spec); writes
``benchmarks/results/deploy.md`` (+ ``deploy.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import load_note, machine, markdown_table, setup_threads, write_result

#: Frames of the spectrogram input of a spec that starts from one (e.g. ``mel_to_audio``, ``pcen``): 10 s and
#: 7.3 s at 22.05 kHz and hop 512, as the waveform specs' clips.
FRAMES = (431, 315)
HERE = Path(__file__).parent


def child(spec: str, repeats: int) -> dict[str, float]:
    import torch
    from common import interleaved, workload

    from nnaudio_core import build_transform

    setup_threads(2)
    pipe = build_transform(spec, device="cpu")
    first_step = pipe[0]
    if first_step.core_dims == 1:  # a waveform spec: 4 clips of music-like audio at its sample rate
        sr = int(first_step.config.get("sr") or first_step.config.get("fs") or 22050)
        x = torch.from_numpy(workload(sr=sr))
        other = torch.from_numpy(workload(sr=sr, seconds=7.3, seed=1))
    else:  # a spectrogram spec: its first step's example input (the spectrogram of noise), 4 clips
        x = first_step.example_input(4, length=FRAMES[0], seed=0)
        other = first_step.example_input(4, length=FRAMES[1], seed=1)
    compiled = torch.compile(pipe, fullgraph=True)
    with torch.no_grad():
        start = time.perf_counter()
        compiled(x)
        first = time.perf_counter() - start
        start = time.perf_counter()
        compiled(other)
        second = time.perf_counter() - start
        error = float((compiled(x) - pipe(x)).abs().max() / pipe(x).abs().max())
        steady = interleaved({"eager": lambda: pipe(x), "compiled": lambda: compiled(x)}, repeats=repeats)
    return {"compile_s": first, "new_length_s": second, "eager_ms": 1000 * steady["eager"],
            "compiled_ms": 1000 * steady["compiled"], "rel_error": error}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", nargs="*", default=None, help="bundled spec names (default: all of them)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per spec (compile included)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeats)))
        return
    load = load_note()
    results: dict[str, dict[str, float] | str] = {}
    from nnaudio_core import bundled_specs

    for spec in args.specs or bundled_specs():
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache, "TORCHINDUCTOR_FX_GRAPH_CACHE": "0",
                   "TORCHINDUCTOR_AUTOGRAD_CACHE": "0"}
            try:
                done = subprocess.run([sys.executable, __file__, "--child", spec, "--repeats", str(args.repeats)],
                                      capture_output=True, text=True, timeout=args.timeout, env=env, cwd=HERE,
                                      check=False)
                lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
                results[spec] = json.loads(lines[-1]) if lines else f"failed: {done.stderr.strip()[-300:]}"
            except subprocess.TimeoutExpired:
                results[spec] = f"not done after {args.timeout:.0f} s"
        print(spec, results[spec], flush=True)
    rows = []
    for spec, r in results.items():
        if isinstance(r, str):
            rows.append([spec, r, "", "", "", "", ""])
        else:
            rows.append([spec, f"{r['compile_s']:.1f}", f"{r['new_length_s']:.1f}", f"{r['eager_ms']:.1f}",
                         f"{r['compiled_ms']:.1f}", f"{r['eager_ms'] / r['compiled_ms']:.2f}", f"{r['rel_error']:.1e}"])
    setup_threads(2)
    text = "\n".join([
        "### torch.compile (inductor, fullgraph) on the bundled specs",
        "",
        f"Measured on {machine()}; {load}; each spec in a fresh process with empty inductor caches; "
        "4 clips x 10 s at the spec's sample rate (a spec that starts from a spectrogram: 4 x 431 frames of its "
        "first step's example input; the new length 7.3 s or 315 frames); medians of interleaved repeats. The "
        "target of issue 11 is a first (compiling) call under 60 s on this 2-core machine.",
        "",
        markdown_table(["spec", "compile s", "new length s", "eager ms", "compiled ms", "eager / compiled",
                        "max rel. error"], rows),
        "",
        "Reproduce: `python benchmarks/bench_deploy.py`.",
    ])
    timings: dict[str, float] = {}
    for spec, r in results.items():
        if not isinstance(r, str):
            timings[f"nnaudio-core {spec}, eager"] = r["eager_ms"]
            timings[f"nnaudio-core {spec}, compiled"] = r["compiled_ms"]
    write_result("deploy", text, title="bundled specs, eager vs torch.compile (4 x 10 s)", timings_ms=timings)
    print(text)


if __name__ == "__main__":
    main()
