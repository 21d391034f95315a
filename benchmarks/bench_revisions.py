"""Before/after: this checkout's transforms against another git revision's, timed side by side.

Usage::

    python benchmarks/bench_revisions.py --base 0920cf1            # the table on stdout
    python benchmarks/bench_revisions.py --base 0920cf1 --out benchmarks/results/revisions.md

The base revision is exported with ``git archive`` into a temporary folder; each round starts one
worker process per revision (``nnaudio_core`` and ``nnaudio_plugins`` imported from that tree,
2 torch threads) that times every case and prints its medians; rounds alternate which revision
goes first, and the table reports the median over rounds of each revision's time and their ratio
(after / before: below 1 is faster). Within a worker each case reports its fastest call (the
least disturbed by other work on a shared machine); across rounds the median is taken. Only the public API both revisions share is used:
``get_transform(name)(**params)`` and calling the transform.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (label, transform, params, clips x seconds at sr)
CASES = [
    ("stft magnitude, n_fft 2048", "stft", {"n_fft": 2048, "hop_length": 512, "output_format": "Magnitude"}, 22050),
    ("stft conv backend", "stft", {"n_fft": 2048, "hop_length": 512, "output_format": "Magnitude",
                                    "backend": "conv"}, 22050),
    ("mel, 128 bands", "mel", {"sr": 22050, "n_fft": 2048, "hop_length": 512}, 22050),
    ("mfcc, 20 coefficients", "mfcc", {"sr": 22050, "n_fft": 2048, "hop_length": 512}, 22050),
    ("cqt2019, 84 bins", "cqt2019", {"sr": 22050, "n_bins": 84, "hop_length": 512}, 22050),
    ("cqt2019, seed configuration", "cqt2019", {"sr": 44100, "n_bins": 168, "bins_per_octave": 24, "fmin": 55.0,
                                                "hop_length": 512}, 44100),
    ("cqt1992 fft, 84 bins", "cqt1992", {"sr": 22050, "n_bins": 84, "hop_length": 512}, 22050),
    ("cqt1992 conv, 84 bins", "cqt1992", {"sr": 22050, "n_bins": 84, "hop_length": 512, "backend": "conv"}, 22050),
]

WORKER = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, torch
torch.set_num_threads(2)
import nnaudio_core
from nnaudio_core import get_transform
assert nnaudio_core.__file__.startswith(sys.argv[1]), nnaudio_core.__file__
cases, repeats = json.loads(sys.argv[2]), int(sys.argv[3])
out = {}
for label, name, params, sr in cases:
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((4, 10 * sr)).astype(np.float32))
    layer = get_transform(name)(**params)
    with torch.no_grad():
        layer(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter(); layer(x); times.append(time.perf_counter() - start)
    out[label] = 1000 * min(times)
print(json.dumps(out))
"""


def export(revision: str, folder: Path) -> Path:
    """``git archive`` ``revision`` into ``folder`` with ``plugins/`` importable as ``nnaudio_plugins``."""
    archive = folder / "tree.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), revision], check=True)
    tree = folder / "tree"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return link_tree(tree, folder / "path-base")


def link_tree(tree: Path, path_dir: Path) -> Path:
    """A folder holding ``nnaudio_core`` and ``nnaudio_plugins`` links into ``tree`` (put first on sys.path)."""
    path_dir.mkdir(parents=True, exist_ok=True)
    for name, target in (("nnaudio_core", tree / "nnaudio_core"), ("nnaudio_plugins", tree / "plugins")):
        link = path_dir / name
        if not link.exists():
            link.symlink_to(target, target_is_directory=True)
    return path_dir


def run_worker(path_dir: Path, repeats: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(path_dir), json.dumps(CASES), str(repeats)],
        check=True, capture_output=True, text=True, cwd=path_dir, env=env,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision to compare with (e.g. a commit hash)")
    parser.add_argument("--rounds", type=int, default=6, help="worker pairs, alternating order (default 6)")
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per case in a worker (default 15)")
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = export(args.base, Path(tmp))
        head = link_tree(ROOT, Path(tmp) / "path-head")
        runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for round_ in range(args.rounds):
            order = [("before", base), ("after", head)]
            for which, path in order if round_ % 2 == 0 else order[::-1]:
                runs[which].append(run_worker(path, args.repeats))
    head_rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
    lines = [f"Before: `{args.base}`; after: `{head_rev}` (working tree). Median over {args.rounds} alternating "
             f"worker rounds of the fastest of {args.repeats} calls, in ms; 4 clips x 10 s, 2 torch threads.", "",
             "| case | before (ms) | after (ms) | after / before |", "|---|---|---|---|"]
    for label, *_ in CASES:
        before = statistics.median(r[label] for r in runs["before"])
        after = statistics.median(r[label] for r in runs["after"])
        lines.append(f"| {label} | {before:.1f} | {after:.1f} | {after / before:.2f} |")
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)
    return text


if __name__ == "__main__":
    main()
