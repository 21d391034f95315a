"""The files ``nnaudio extract`` writes: outputs, settings, manifest and report, each whole or not at all.

Outputs and the settings file are written to a hidden temporary name (``.song.npy.<pid>.part``) and
renamed with :func:`os.replace` only when complete, so an existing file is always a whole one.
Temporaries of runs no longer alive are removed by :func:`remove_stale_parts`. The manifest is
appended one whole line at a time; :meth:`Manifest.load` repairs a line cut short by a kill.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

MANIFEST_NAME = "manifest.jsonl"
SETTINGS_NAME = "nnaudio-extract.json"
PART_SUFFIX = ".part"


def part_path(path: Path) -> Path:
    """The hidden temporary name this process writes ``path`` under before renaming it.

    Examples
    --------
    >>> part_path(Path("out/song.npy")).name == f".song.npy.{os.getpid()}.part"
    True
    """
    return path.with_name(f".{path.name}.{os.getpid()}{PART_SUFFIX}")


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write; renamed to ``path`` when the block completes, removed if it fails."""
    tmp = part_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file renamed into place when complete."""
    with _replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_npy_atomic(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` via a temporary file renamed into place when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _replacing(path) as tmp, open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)


def remove_stale_parts(output_dir: Path) -> int:
    """Delete temporary files left by extract runs that are no longer alive; return how many."""
    removed = 0
    for part in output_dir.rglob(f".*{PART_SUFFIX}"):
        pid_text = part.name[: -len(PART_SUFFIX)].rsplit(".", 1)[-1]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            part.unlink(missing_ok=True)
            removed += 1
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, from before (cannot be in use yet)
    if os.name != "posix":
        return True  # no safe liveness probe: leave the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_settings(path: Path) -> dict[str, Any]:
    """The settings a previous run recorded in ``path``.

    Raises
    ------
    OSError, ValueError
        When the file cannot be read or parsed.
    """
    return json.loads(path.read_text(encoding="utf-8"))


def write_settings(path: Path, settings: dict[str, Any]) -> None:
    """Record the settings of this run (indented JSON, written atomically)."""
    atomic_write_text(path, json.dumps(settings, indent=2) + "\n")


def write_report(path: str | os.PathLike, report: dict[str, Any]) -> None:
    """Write a run's report (summary, timings and failures) as indented JSON."""
    Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


class Manifest:
    """The JSON-lines record of finished outputs, kept consistent with the files on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}

    def load(self, output_dir: Path, *, fresh: bool = False) -> None:
        """Read the manifest, dropping cut-short lines and entries whose output is gone.

        With ``fresh=True`` the old entries are discarded (and the file emptied).
        """
        dirty = fresh and self.path.exists()
        if self.path.exists() and not fresh:
            dirty = self._read(output_dir) or dirty
        if dirty:
            self.rewrite()

    def _read(self, output_dir: Path) -> bool:
        """Keep the entries whose output exists; whether the file needs rewriting."""
        dirty = False
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
                key = entry["output"]
            except (ValueError, KeyError, TypeError):
                dirty = True  # a line cut short by a kill
                continue
            if (output_dir / key).exists():
                dirty = dirty or key in self.entries
                self.entries[key] = entry
            else:
                dirty = True
        return dirty

    def rewrite(self) -> None:
        """Replace the file with the current entries."""
        text = "".join(json.dumps(e) + "\n" for e in self.entries.values())
        atomic_write_text(self.path, text)

    def add(self, entry: dict[str, Any]) -> None:
        """Append one entry (one ``write`` of a whole line, flushed)."""
        self.entries[entry["output"]] = entry
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A tensor as the numpy array written to ``.npy`` (bfloat16, which numpy lacks, becomes float32).

    Examples
    --------
    >>> to_numpy(torch.ones(2, dtype=torch.bfloat16)).dtype
    dtype('float32')
    """
    if tensor.dtype == torch.bfloat16:
        tensor = tensor.float()
    return tensor.detach().cpu().numpy()
