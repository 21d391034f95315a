"""Regenerate docs/performance.md (tables and a plot) from the benchmark scripts.

Usage::

    python benchmarks/report.py            # run every benchmark, then write the page
    python benchmarks/report.py --no-run   # rebuild the page from benchmarks/results/

Each ``bench_*.py`` writes ``results/<name>.md`` (its tables) and ``results/<name>.json``
(``{"title": ..., "timings_ms": {implementation: milliseconds}}``) for the plot.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"
DOCS = HERE.parent / "docs"
ORDER = ["stft", "mel", "cqt", "vqt_chroma", "features", "inverse", "icqt", "deploy", "extract"]

INTRO = """# Performance

All figures on this page come from the scripts in `benchmarks/` and are regenerated with
`python benchmarks/report.py` (requires the `bench` extra). They are CPU figures from a 2-core
machine with `torch.set_num_threads(2)`; every comparison times its candidates in interleaved
rounds within one process and reports medians, so ratios are meaningful even when absolute times
drift. Each process first warms up for two seconds, and each candidate's turn starts after a short
untimed pause, so that the thread pool of the previous candidate (numpy's OpenBLAS after librosa,
torch's OpenMP) has stopped spinning: on two cores a spinning pool otherwise doubles the time of
whatever runs next. Accuracy figures are asserted by the test suite (`pytest`); the tables restate
them.
"""


def blas_line() -> str:
    """Which BLAS (and kernel) numpy used for the numpy-based peers (librosa, nnAudio's numpy parts)."""
    import os

    coretype = os.environ.get("OPENBLAS_CORETYPE")
    try:
        import numpy  # noqa: F401  (loads the BLAS threadpoolctl reports)
        from threadpoolctl import threadpool_info

        blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} kernels)"
                for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        blas = []
    forced = f"OPENBLAS_CORETYPE={coretype}" if coretype else "OPENBLAS_CORETYPE unset (kernels auto-detected)"
    return (f"numpy's BLAS for the peers when this page was written: {', '.join(blas) or 'unknown'}; {forced}. "
            "Each benchmark's own table names its machine.\n")


def run_all() -> None:
    for name in ORDER:
        script = HERE / f"bench_{name}.py"
        if script.exists():
            print(f"== {script.name}", flush=True)
            subprocess.run([sys.executable, str(script)], check=True, cwd=HERE.parent)


def plot(path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return False
    panels = []
    for name in ORDER:
        data_path = RESULTS / f"{name}.json"
        if data_path.exists():
            data = json.loads(data_path.read_text())
            if data.get("timings_ms"):
                panels.append(data)
    if not panels:
        return False
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 1.2 + 1.0 * sum(len(p["timings_ms"]) for p in panels) / 2))
    axes = [axes] if len(panels) == 1 else list(axes)
    for ax, data in zip(axes, panels, strict=True):
        labels = list(data["timings_ms"])
        values = [data["timings_ms"][k] for k in labels]
        colors = ["tab:blue" if k.startswith("nnaudio-core") else "tab:gray" for k in labels]
        ax.barh(labels, values, color=colors)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.invert_yaxis()
        ax.set_title(data["title"], fontsize=9)
        ax.tick_params(labelsize=8)
        for y, v in enumerate(values):
            ax.text(v, y, f" {v:.1f} ms", va="center", fontsize=7)
    axes[-1].set_xlabel("median time per call (ms, log scale; blue: nnaudio-core)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def write_page() -> Path:
    parts = [INTRO, blas_line()]
    if plot(DOCS / "performance.png"):
        parts.append("![benchmark times](performance.png)\n")
    for name in ORDER:
        md = RESULTS / f"{name}.md"
        if md.exists():
            parts.append(md.read_text().strip() + "\n")
    out = DOCS / "performance.md"
    out.write_text("\n".join(parts))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="only rebuild the page from existing results")
    args = parser.parse_args()
    if not args.no_run:
        run_all()
    print(f"wrote {write_page()}")


if __name__ == "__main__":
    main()
