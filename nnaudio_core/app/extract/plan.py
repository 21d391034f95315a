"""What ``nnaudio extract`` has to do: inputs, their output names, what a rerun skips, manifest entries.

Nothing here transforms audio. :func:`plan_extract` lists the inputs, checks the output folder was
made with the same settings, tidies it (temporaries of dead runs, the manifest) and splits the
inputs into those still to do and those already done.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..audio_io import AUDIO_EXTENSIONS, find_audio_files, import_optional
from . import store


class ExtractError(Exception):
    """The extraction cannot start (bad folders, or an output folder made with other settings)."""


@dataclass(frozen=True)
class Job:
    """One input file and where its output goes."""

    source: Path
    input_rel: str
    output: Path
    output_rel: str


@dataclass
class Plan:
    """The work of one run.

    Attributes
    ----------
    todo : list of Job
        Inputs to decode and transform, in order.
    clashes : list of dict
        ``{"input", "reason"}`` for inputs whose output name is not unique (reported as failed).
    skipped : int
        Inputs whose output already exists.
    manifest : Manifest
        The output folder's manifest, reconciled with the outputs on disk.
    """

    todo: list[Job]
    clashes: list[dict[str, str]]
    skipped: int
    manifest: store.Manifest
    files: int = field(init=False)

    def __post_init__(self) -> None:
        self.files = len(self.todo) + len(self.clashes) + self.skipped


def plan_jobs(input_dir: Path, output_dir: Path) -> tuple[list[Job], list[dict[str, str]]]:
    """Map every audio file under ``input_dir`` to its output path.

    ``a/b/song.wav`` → ``a/b/song.npy``; when two inputs would share an output (``song.wav`` and
    ``song.flac``), both keep their extension (``song.wav.npy``, ``song.flac.npy``).

    Returns
    -------
    (jobs, clashes)
        The jobs, and ``{"input", "reason"}`` records for files whose output name nothing could
        make unique.
    """
    sources = find_audio_files(input_dir)
    rels = [s.relative_to(input_dir) for s in sources]
    jobs, clashes = [], []
    for source, rel, out in zip(sources, rels, output_names(rels), strict=True):
        if isinstance(out, str):
            clashes.append({"input": rel.as_posix(), "reason": out})
        else:
            jobs.append(Job(source, rel.as_posix(), output_dir / out, out.as_posix()))
    return jobs, clashes


def output_names(rels: list[Path]) -> list[Path | str]:
    """The ``.npy`` name of each relative input path, or (a string) why it has none.

    ``a/song.wav`` → ``a/song.npy``; when two inputs would share an output, both keep their
    extension (``song.wav.npy``, ``song.flac.npy``); a name still shared is a reason.

    Examples
    --------
    >>> [str(n) for n in output_names([Path("a/x.wav"), Path("a/x.flac"), Path("b/x.wav")])]
    ['a/x.wav.npy', 'a/x.flac.npy', 'b/x.npy']
    """
    plain = [r.with_suffix(".npy") for r in rels]
    counts: dict[Path, int] = defaultdict(int)
    for p in plain:
        counts[p] += 1
    chosen = [p if counts[p] == 1 else r.with_name(r.name + ".npy") for p, r in zip(plain, rels, strict=True)]
    owners: dict[Path, list[int]] = defaultdict(list)
    for index, out in enumerate(chosen):
        owners[out].append(index)
    names: list[Path | str] = []
    for index, out in enumerate(chosen):
        others = [rels[i].as_posix() for i in owners[out] if i != index]
        names.append(f"output name {out.as_posix()} is also that of {', '.join(others)}" if others else out)
    return names


def plan_extract(pipeline: Any, input_dir: Path, output_dir: Path, *, spec: str, channels: str,
                 sample_rate: float | None, overwrite: bool) -> Plan:
    """List the work and get ``output_dir`` ready for it (created, checked, tidied).

    Raises
    ------
    ExtractError
        If ``input_dir`` holds no audio files, or ``output_dir`` was made with other settings.
    """
    jobs, clashes = plan_jobs(input_dir, output_dir)
    if not jobs and not clashes:
        raise ExtractError(f"no audio files under {input_dir} (looked for {', '.join(sorted(AUDIO_EXTENSIONS))})")
    output_dir.mkdir(parents=True, exist_ok=True)
    settings = extract_settings(pipeline, spec=spec, channels=channels, sample_rate=sample_rate)
    check_settings(output_dir / store.SETTINGS_NAME, settings, overwrite=overwrite)
    store.remove_stale_parts(output_dir)
    manifest = store.Manifest(output_dir / store.MANIFEST_NAME)
    manifest.load(output_dir, fresh=overwrite)
    todo, skipped = split_done(jobs, manifest, sample_rate=sample_rate, overwrite=overwrite)
    return Plan(todo, clashes, skipped, manifest)


def split_done(jobs: Iterable[Job], manifest: store.Manifest, *, sample_rate: float | None,
               overwrite: bool) -> tuple[list[Job], int]:
    """The jobs still to do, and how many are done; done ones missing from the manifest are added to it."""
    todo, skipped = [], 0
    for job in jobs:
        if overwrite or not job.output.exists():
            todo.append(job)
            continue
        skipped += 1
        if job.output_rel not in manifest.entries:
            manifest.add(rebuild_entry(job, sample_rate))
    return todo, skipped


# -- settings -------------------------------------------------------------------------------------
def extract_settings(pipeline: Any, *, spec: str, channels: str, sample_rate: float | None) -> dict[str, Any]:
    """What ``nnaudio-extract.json`` records: the spec label, pipeline config (without device), channels, rate."""
    config = pipeline.get_config()
    config.pop("device", None)  # the same features on any device
    return {"spec": spec, "pipeline": config, "channels": channels, "sample_rate": sample_rate}


def check_settings(path: Path, settings: dict[str, Any], *, overwrite: bool) -> None:
    """Refuse an output folder made with other settings; record them when it has none (or on overwrite).

    Raises
    ------
    ExtractError
        If ``path`` is unreadable, or records another pipeline, channel mode or sample rate.
    """
    if path.exists() and not overwrite:
        try:
            old = store.read_settings(path)
        except (OSError, ValueError) as exc:
            raise ExtractError(f"{path} is unreadable ({exc}); delete it or pass --overwrite") from None
        differs = [k for k in ("pipeline", "channels", "sample_rate") if old.get(k) != settings[k]]
        if differs:
            raise ExtractError(
                f"{path.parent} holds outputs made with a different {' and '.join(differs)} "
                f"(spec {old.get('spec')!r}); use another output folder, or pass --overwrite to recompute every file"
            )
        return
    store.write_settings(path, settings)


# -- manifest entries -----------------------------------------------------------------------------
def manifest_entry(job: Job, shape: Iterable[int], dtype: Any, meta: dict[str, Any]) -> dict[str, Any]:
    """The manifest line of one output: ``input``, ``output``, ``shape``, ``dtype`` and the audio ``meta``.

    Examples
    --------
    >>> job = Job(Path("in/a.wav"), "a.wav", Path("out/a.npy"), "a.npy")
    >>> manifest_entry(job, (2, 3), "torch.float32", {"duration": 1.0})
    {'input': 'a.wav', 'output': 'a.npy', 'shape': [2, 3], 'dtype': 'float32', 'duration': 1.0}
    """
    return {"input": job.input_rel, "output": job.output_rel, "shape": [int(n) for n in shape],
            "dtype": str(dtype).replace("torch.", ""), **meta}


def rebuild_entry(job: Job, sample_rate: float | None) -> dict[str, Any]:
    """A manifest entry for an output that exists but was not recorded (killed between the two)."""
    array = np.load(job.output, mmap_mode="r")
    meta: dict[str, Any] = {"sample_rate": sample_rate, "source_sample_rate": None, "channels": None, "duration": None}
    try:
        (soundfile,) = import_optional("soundfile")
        info = soundfile.info(str(job.source))
        meta.update(source_sample_rate=int(info.samplerate), channels=int(info.channels),
                    duration=info.frames / info.samplerate)
        meta["sample_rate"] = sample_rate if sample_rate is not None else float(info.samplerate)
    except Exception:  # the input may have gone; the output stays valid
        pass
    return manifest_entry(job, array.shape, array.dtype, meta)
