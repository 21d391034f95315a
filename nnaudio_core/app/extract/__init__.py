"""``nnaudio extract``: every audio file under a folder → one ``.npy`` spectrogram each, resumable.

How it runs
-----------
* **Plan.** Audio files under ``INPUT_DIR`` (by extension, hidden names skipped) map to
  ``OUTPUT_DIR/<same relative path>.npy``: ``a/b/song.wav`` → ``a/b/song.npy``. When two inputs
  would share an output (``song.wav`` and ``song.flac``), both keep their extension instead
  (``song.wav.npy``, ``song.flac.npy``).
* **Resume.** An input whose output already exists is skipped. Outputs are written to a hidden
  temporary name (``.song.npy.<pid>.part``) and renamed with :func:`os.replace` only when complete,
  so an existing output is always a whole one: rerunning after Ctrl-C, a crash or ``kill -9`` loses
  nothing and redoes nothing. ``OUTPUT_DIR/nnaudio-extract.json`` records the spec and options;
  a rerun with different ones stops with an error instead of mixing two kinds of output (pass
  ``overwrite=True`` to recompute everything).
* **Manifest.** ``OUTPUT_DIR/manifest.jsonl`` gets one JSON line per output: ``input``, ``output``
  (relative to their folders), ``shape``, ``dtype``, ``sample_rate`` (the rate transformed at),
  ``source_sample_rate``, ``channels`` (of the file) and ``duration`` (seconds). On start it is
  reconciled with the outputs on disk (entries for vanished outputs dropped, missing entries for
  existing outputs rebuilt, a line cut short by a kill dropped).
* **Parallel decoding, batched transform.** A thread pool of ``workers`` decodes, mixes and
  resamples files (libsndfile and scipy release the GIL) ahead of the transform, holding at most
  ``max(2 * batch_size, 2 * workers)`` files in flight. The main thread takes decoded clips as they
  finish; once ``batch_size`` are ready it stacks clips of equal shape (channels × samples) into one
  tensor and runs the pipeline once per shape, so a folder of equal-length clips is transformed in
  full batches and clips of other lengths one call each. The time the main thread spends waiting for
  a decoded clip is reported as *transform idle*.
* **Failures.** A missing, empty, corrupt or undecodable file, or one the transform rejects (too
  short, say), is reported with its reason and skipped; the others go on. Failed files have no
  output, so a rerun tries them again.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..audio_io import AUDIO_EXTENSIONS, AudioError, find_audio_files, import_optional, read_audio
from ..metadata import output_axes

MANIFEST_NAME = "manifest.jsonl"
SETTINGS_NAME = "nnaudio-extract.json"
PART_SUFFIX = ".part"
#: Testing hook: when set to N, the process kills itself with SIGKILL right after its N-th output.
KILL_AFTER_ENV = "NNAUDIO_EXTRACT_KILL_AFTER"


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
class Decoded:
    """What a decode worker hands to the transform loop."""

    job: Job
    tensor: torch.Tensor | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


@dataclass
class ExtractReport:
    """The outcome and timings of one :func:`run_extract` call (all times in seconds).

    ``decode`` is summed over the workers (it can exceed ``wall``); ``idle`` is the time the
    transform loop waited for decoded audio.
    """

    spec: str
    input_dir: str
    output_dir: str
    files: int = 0
    written: int = 0
    skipped: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    interrupted: bool = False
    workers: int = 1
    batch_size: int = 1
    device: str = "cpu"
    batches: int = 0
    audio_seconds: float = 0.0
    wall: float = 0.0
    decode: float = 0.0
    transform: float = 0.0
    write: float = 0.0
    idle: float = 0.0

    @property
    def files_per_second(self) -> float:
        """Outputs written per second of wall time."""
        return self.written / self.wall if self.wall > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, with ``files_per_second`` added."""
        return {**asdict(self), "files_per_second": self.files_per_second}

    def summary(self) -> str:
        """A few human-readable lines."""
        done = f"{self.written} written, {self.skipped} already done, {len(self.failed)} failed"
        lines = [
            f"{'interrupted' if self.interrupted else 'done'}: {self.files} audio files under {self.input_dir} "
            f"→ {self.output_dir}: {done}",
            f"{self.wall:.2f} s wall, {self.files_per_second:.1f} files/s ({self.audio_seconds:.0f} s of audio) "
            f"on {self.device}, batch size {self.batch_size}, {self.workers} decode workers",
            f"time: decoding {self.decode:.2f} s (summed over workers), transform {self.transform:.2f} s "
            f"in {self.batches} calls, writing {self.write:.2f} s, "
            f"transform idle waiting for decoding {self.idle:.2f} s",
        ]
        if self.interrupted:
            lines.append("rerun the same command to resume: finished outputs are kept and skipped")
        return "\n".join(lines)


# -- planning ---------------------------------------------------------------------------------------
def plan_jobs(input_dir: Path, output_dir: Path) -> tuple[list[Job], list[dict[str, str]]]:
    """Map every audio file under ``input_dir`` to its output path.

    Returns
    -------
    (jobs, clashes)
        The jobs, and ``{"input", "reason"}`` records for files whose output name nothing could
        make unique.
    """
    sources = find_audio_files(input_dir)
    rels = [s.relative_to(input_dir) for s in sources]
    plain = [r.with_suffix(".npy") for r in rels]
    counts: dict[Path, int] = defaultdict(int)
    for p in plain:
        counts[p] += 1
    chosen = [p if counts[p] == 1 else r.with_name(r.name + ".npy") for p, r in zip(plain, rels, strict=True)]
    owners: dict[Path, list[int]] = defaultdict(list)
    for index, out in enumerate(chosen):
        owners[out].append(index)
    jobs, clashes = [], []
    for index, (source, rel, out) in enumerate(zip(sources, rels, chosen, strict=True)):
        if len(owners[out]) > 1:
            others = ", ".join(rels[i].as_posix() for i in owners[out] if i != index)
            reason = f"output name {out.as_posix()} is also that of {others}"
            clashes.append({"input": rel.as_posix(), "reason": reason})
            continue
        jobs.append(Job(source, rel.as_posix(), output_dir / out, out.as_posix()))
    return jobs, clashes


# -- settings and manifest ------------------------------------------------------------------------
def _settings(pipeline: Any, *, spec: str, channels: str, sample_rate: float | None) -> dict[str, Any]:
    config = pipeline.get_config()
    config.pop("device", None)  # the same features on any device
    return {"spec": spec, "pipeline": config, "channels": channels, "sample_rate": sample_rate}


def _check_settings(path: Path, settings: dict[str, Any], *, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ExtractError(f"{path} is unreadable ({exc}); delete it or pass --overwrite") from None
        differs = [k for k in ("pipeline", "channels", "sample_rate") if old.get(k) != settings[k]]
        if differs:
            raise ExtractError(
                f"{path.parent} holds outputs made with a different {' and '.join(differs)} "
                f"(spec {old.get('spec')!r}); use another output folder, or pass --overwrite to recompute every file"
            )
        return
    _atomic_write_text(path, json.dumps(settings, indent=2) + "\n")


class Manifest:
    """The JSON-lines record of finished outputs, kept consistent with the files on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}

    def load(self, output_dir: Path, *, fresh: bool = False) -> None:
        """Read the manifest, dropping cut-short lines and entries whose output is gone."""
        dirty = fresh and self.path.exists()
        if self.path.exists() and not fresh:
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
        if dirty:
            self.rewrite()

    def rewrite(self) -> None:
        """Replace the file with the current entries."""
        text = "".join(json.dumps(e) + "\n" for e in self.entries.values())
        _atomic_write_text(self.path, text)

    def add(self, entry: dict[str, Any]) -> None:
        """Append one entry (one ``write`` of a whole line, flushed)."""
        self.entries[entry["output"]] = entry
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def _entry(job: Job, shape: Iterable[int], dtype: Any, meta: dict[str, Any]) -> dict[str, Any]:
    return {"input": job.input_rel, "output": job.output_rel, "shape": [int(n) for n in shape],
            "dtype": str(dtype).replace("torch.", ""), **meta}


def _rebuild_entry(job: Job, sample_rate: float | None) -> dict[str, Any]:
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
    return _entry(job, array.shape, array.dtype, meta)


# -- files ------------------------------------------------------------------------------------------
def _part_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{PART_SUFFIX}")


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = _part_path(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_npy_atomic(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` via a temporary file renamed into place when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _part_path(path)
    try:
        with open(tmp, "wb") as f:
            np.save(f, array, allow_pickle=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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


# -- the run ----------------------------------------------------------------------------------------
def _decode(job: Job, sample_rate: float | None, channels: str, dtype: torch.dtype) -> Decoded:
    start = time.perf_counter()
    try:
        audio = read_audio(job.source, sample_rate=sample_rate, channels=channels)
        tensor = torch.from_numpy(audio.samples).to(dtype)
        meta = {"sample_rate": audio.sample_rate, "source_sample_rate": audio.source_sample_rate,
                "channels": audio.source_channels, "duration": audio.duration}
        return Decoded(job, tensor, meta, seconds=time.perf_counter() - start)
    except AudioError as exc:
        return Decoded(job, error=exc.reason, seconds=time.perf_counter() - start)
    except Exception as exc:  # report, never kill the run
        return Decoded(job, error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - start)


def run_extract(
    pipeline: Any,
    input_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    spec: str = "<spec>",
    batch_size: int = 8,
    workers: int | None = None,
    channels: str = "mono",
    overwrite: bool = False,
    progress: bool | None = None,
    on_failure: Callable[[str, str], None] | None = None,
) -> ExtractReport:
    """Transform every audio file under ``input_dir`` into a ``.npy`` under ``output_dir``.

    See the module docstring for the layout, resuming, manifest and batching.

    Parameters
    ----------
    pipeline : Pipeline
        From :func:`nnaudio_core.build_transform`; its first step's ``sr`` is the rate files are
        resampled to (files keep their own rate when it has none).
    input_dir, output_dir : str or path
        Folders; ``output_dir`` is created.
    spec : str
        Spec label recorded in ``nnaudio-extract.json``.
    batch_size : int
        Decoded clips gathered before running the transform (clips of equal shape share a call).
    workers : int, optional
        Decoding threads (default: the number of CPUs).
    channels : {"mono", "keep"}
        Mix files to mono (outputs ``(freq, frames)``) or keep channels (``(channels, freq, frames)``).
    overwrite : bool
        Recompute every file, even those with an output, and restart the manifest.
    progress : bool, optional
        Show a tqdm bar on stderr (``None``: only on a terminal).
    on_failure : callable, optional
        Called with ``(input, reason)`` for each failed file (default: print to stderr).

    Returns
    -------
    ExtractReport

    Raises
    ------
    ExtractError
        If ``input_dir`` is not a folder or holds no audio files, or ``output_dir`` was made with
        other settings.
    MissingExtraError
        If soundfile or tqdm is not installed.
    """
    (tqdm_module,) = import_optional("tqdm", purpose="nnaudio extract")
    import_optional("soundfile", purpose="nnaudio extract")
    started = time.perf_counter()
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    if not input_dir.is_dir():
        raise ExtractError(f"input folder {input_dir} does not exist or is not a folder")
    if batch_size < 1:
        raise ExtractError(f"batch size {batch_size} is not allowed; expected >= 1")
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise ExtractError(f"workers={workers} is not allowed; expected >= 1")
    device = pipeline.device
    dtype = pipeline.dtype
    sample_rate = output_axes(pipeline).sample_rate
    report = ExtractReport(spec, str(input_dir), str(output_dir), workers=workers, batch_size=batch_size,
                           device=str(device))
    jobs, clashes = plan_jobs(input_dir, output_dir)
    report.files = len(jobs) + len(clashes)
    if not report.files:
        raise ExtractError(f"no audio files under {input_dir} (looked for {', '.join(sorted(AUDIO_EXTENSIONS))})")
    output_dir.mkdir(parents=True, exist_ok=True)
    _check_settings(output_dir / SETTINGS_NAME, _settings(pipeline, spec=spec, channels=channels,
                                                          sample_rate=sample_rate), overwrite=overwrite)
    remove_stale_parts(output_dir)
    manifest = Manifest(output_dir / MANIFEST_NAME)
    manifest.load(output_dir, fresh=overwrite)
    todo = []
    for job in jobs:
        if overwrite or not job.output.exists():
            todo.append(job)
            continue
        report.skipped += 1
        if job.output_rel not in manifest.entries:
            manifest.add(_rebuild_entry(job, sample_rate))

    kill_after = int(os.environ.get(KILL_AFTER_ENV, "0") or 0)
    bar = tqdm_module.tqdm(total=len(todo) + len(clashes), unit="file", file=sys.stderr, dynamic_ncols=True,
                           disable=None if progress is None else not progress, desc="extract")

    def fail(input_rel: str, reason: str) -> None:
        report.failed.append({"input": input_rel, "reason": reason})
        if on_failure is not None:
            on_failure(input_rel, reason)
        else:
            bar.write(f"error: {input_rel}: {reason}", file=sys.stderr)
        bar.update(1)

    for clash in clashes:
        fail(clash["input"], clash["reason"])

    def finish(item: Decoded, result: torch.Tensor) -> None:
        start = time.perf_counter()
        array = to_numpy(result)
        write_npy_atomic(item.job.output, array)
        manifest.add(_entry(item.job, array.shape, array.dtype, item.meta))
        report.write += time.perf_counter() - start
        report.written += 1
        report.audio_seconds += item.meta["duration"]
        bar.update(1)
        if kill_after and report.written >= kill_after:
            os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))

    def transform(items: list[Decoded]) -> torch.Tensor:
        start = time.perf_counter()
        with torch.inference_mode():
            out = pipeline(torch.stack([i.tensor for i in items]).to(device))
            out = out.to("cpu")
        report.transform += time.perf_counter() - start
        report.batches += 1
        return out

    def flush(ready: list[Decoded]) -> None:
        groups: dict[tuple[int, ...], list[Decoded]] = defaultdict(list)
        for item in ready:
            groups[tuple(item.tensor.shape)].append(item)
        for items in groups.values():
            try:
                results = list(zip(items, transform(items), strict=True))
            except Exception as exc:
                results = []
                if len(items) == 1:
                    fail(items[0].job.input_rel, _transform_reason(exc))
                else:  # find the clips the transform rejects; the others go on
                    for item in items:
                        try:
                            results.append((item, transform([item])[0]))
                        except Exception as item_exc:
                            fail(item.job.input_rel, _transform_reason(item_exc))
            for item, result in results:
                finish(item, result)
                item.tensor = None

    window = max(2 * batch_size, 2 * workers)
    done: queue.SimpleQueue[Future[Decoded]] = queue.SimpleQueue()
    pending = iter(todo)
    in_flight = 0
    exhausted = False
    ready: list[Decoded] = []
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nnaudio-decode")
    try:
        while True:
            while not exhausted and in_flight < window:
                job = next(pending, None)
                if job is None:
                    exhausted = True
                    break
                future = pool.submit(_decode, job, sample_rate, channels, dtype)
                future.add_done_callback(done.put)
                in_flight += 1
            if in_flight == 0:
                break
            wait_start = time.perf_counter()
            item = done.get().result()
            report.idle += time.perf_counter() - wait_start
            in_flight -= 1
            report.decode += item.seconds
            if item.error is not None:
                fail(item.job.input_rel, item.error)
            else:
                ready.append(item)
            if ready and (len(ready) >= batch_size or (exhausted and in_flight == 0)):
                flush(ready)
                ready = []
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
        report.wall = time.perf_counter() - started
    return report


def _transform_reason(exc: Exception) -> str:
    return f"the transform failed: {type(exc).__name__}: {exc}"


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A CPU tensor as a numpy array (bfloat16, which numpy lacks, becomes float32)."""
    if tensor.dtype == torch.bfloat16:
        tensor = tensor.float()
    return tensor.detach().cpu().numpy()
