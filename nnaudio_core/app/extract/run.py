"""The ``nnaudio extract`` run: decode workers feed the main thread, which transforms in batches and writes.

:class:`DecodePool` decodes jobs on a thread pool with a bounded number in flight;
:class:`BatchWriter` gathers the decoded clips, runs the pipeline once per shape and writes each
output with its manifest entry; :func:`transform_all` is the loop between them, and
:func:`run_extract` plans, runs and reports.
"""

from __future__ import annotations

import os
import queue
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch

from ..audio_io import AudioError, import_optional, read_audio
from ..metadata import output_axes
from . import store
from .plan import ExtractError, Job, manifest_entry, plan_extract
from .report import ExtractReport


@dataclass
class Decoded:
    """What a decode worker hands to the transform loop."""

    job: Job
    tensor: torch.Tensor | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def decode_job(job: Job, *, sample_rate: float | None, channels: str, dtype: torch.dtype) -> Decoded:
    """Read, mix and resample one input into a CPU tensor of ``dtype``; errors are returned, not raised."""
    start = time.perf_counter()
    try:
        audio = read_audio(job.source, sample_rate=sample_rate, channels=channels)
        tensor = torch.from_numpy(audio.samples).to(dtype)
        if not bool(torch.isfinite(tensor).all()):
            peak = float(abs(audio.samples).max())
            return Decoded(job, error=f"samples up to {peak:.3g} overflow {dtype} (largest finite value "
                                      f"{torch.finfo(dtype).max:.3g})", seconds=time.perf_counter() - start)
        peak = float(abs(audio.samples).max()) if audio.samples.size else 0.0
        if peak > saturation_peak(dtype):
            return Decoded(job, error=f"non-finite output: input samples up to {peak:.3g} would overflow the "
                                      f"spectrogram's {dtype} values (samples beyond {saturation_peak(dtype):.3g}; "
                                      "rescale the audio)", seconds=time.perf_counter() - start)
        meta = {"sample_rate": audio.sample_rate, "source_sample_rate": audio.source_sample_rate,
                "channels": audio.source_channels, "duration": audio.duration}
        return Decoded(job, tensor, meta, seconds=time.perf_counter() - start)
    except AudioError as exc:
        return Decoded(job, error=exc.reason, seconds=time.perf_counter() - start)
    except Exception as exc:  # report, never kill the run
        return Decoded(job, error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - start)


class DecodePool:
    """Decodes jobs on worker threads, at most ``window`` in flight, handing them back as they finish.

    Parameters
    ----------
    jobs : iterable of Job
        Submitted in order, as room frees up.
    decode : callable
        ``Job -> Decoded``, run on the worker threads.
    workers : int
        Threads.
    window : int
        Jobs submitted but not yet handed back, at most.

    Attributes
    ----------
    idle : float
        Seconds :meth:`next` spent waiting for a worker.
    """

    def __init__(self, jobs: Iterable[Job], decode: Callable[[Job], Decoded], *, workers: int, window: int) -> None:
        self._pending = iter(jobs)
        self._decode = decode
        self._window = window
        self._in_flight = 0
        self._exhausted = False
        self._done: queue.SimpleQueue[Future[Decoded]] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nnaudio-decode")
        self.idle = 0.0

    @property
    def drained(self) -> bool:
        """Whether every job has been submitted and handed back."""
        return self._exhausted and self._in_flight == 0

    def next(self) -> Decoded | None:
        """The next finished job (waiting for one if need be), or ``None`` when all are handed back."""
        self._refill()
        if self._in_flight == 0:
            return None
        wait_start = time.perf_counter()
        item = self._done.get().result()
        self.idle += time.perf_counter() - wait_start
        self._in_flight -= 1
        return item

    def _refill(self) -> None:
        while not self._exhausted and self._in_flight < self._window:
            job = next(self._pending, None)
            if job is None:
                self._exhausted = True
                break
            self._pool.submit(self._decode, job).add_done_callback(self._done.put)
            self._in_flight += 1

    def close(self) -> None:
        """Cancel what has not started and wait for the workers."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class BatchWriter:
    """Transforms decoded clips in batches of equal shape and writes each output; tallies ``report``.

    Parameters
    ----------
    pipeline : Pipeline
        Run on its device; results come back to the CPU.
    manifest : Manifest
        Gets one entry per written output.
    report : ExtractReport
        Counts, failures and timings are added to it.
    bar : tqdm.tqdm
        Advanced once per input, written to for failures.
    on_failure : callable, optional
        Called with ``(input, reason)`` for each failed file (default: a line on stderr).
    """

    def __init__(self, pipeline: Any, manifest: store.Manifest, report: ExtractReport, bar: Any,
                 on_failure: Callable[[str, str], None] | None = None) -> None:
        self.pipeline = pipeline
        self.manifest = manifest
        self.report = report
        self.bar = bar
        self.on_failure = on_failure
        self.ready: list[Decoded] = []

    def fail(self, input_rel: str, reason: str) -> None:
        """Record a failed input and say why."""
        self.report.failed.append({"input": input_rel, "reason": reason})
        if self.on_failure is not None:
            self.on_failure(input_rel, reason)
        else:
            self.bar.write(f"error: {input_rel}: {reason}", file=sys.stderr)
        self.bar.update(1)

    def take(self, item: Decoded) -> None:
        """Queue a decoded clip for the next :meth:`flush`, or record its decoding error."""
        self.report.decode += item.seconds
        if item.error is not None:
            self.fail(item.job.input_rel, item.error)
        else:
            self.ready.append(item)

    def flush(self) -> None:
        """Transform the queued clips, one call per shape, and write the outputs."""
        groups: dict[tuple[int, ...], list[Decoded]] = defaultdict(list)
        for item in self.ready:
            groups[tuple(item.tensor.shape)].append(item)
        self.ready = []
        for items in groups.values():
            for item, result in self._transform_group(items):
                if bool(torch.isfinite(result).all()):
                    self._write(item, result)
                else:
                    self.fail(item.job.input_rel, _non_finite_reason(item.tensor, result))
                item.tensor = None

    def _transform_group(self, items: list[Decoded]) -> list[tuple[Decoded, torch.Tensor]]:
        """One call for clips of one shape; when it fails, find the clips the transform rejects."""
        try:
            return list(zip(items, self._transform(items), strict=True))
        except Exception as exc:
            if len(items) == 1:
                self.fail(items[0].job.input_rel, _transform_reason(exc))
                return []
        results = []
        for item in items:  # the others go on
            try:
                results.append((item, self._transform([item])[0]))
            except Exception as exc:
                self.fail(item.job.input_rel, _transform_reason(exc))
        return results

    def _transform(self, items: list[Decoded]) -> torch.Tensor:
        start = time.perf_counter()
        with torch.inference_mode():
            out = self.pipeline(torch.stack([i.tensor for i in items]).to(self.pipeline.device))
            out = out.to("cpu")
        self.report.transform += time.perf_counter() - start
        self.report.batches += 1
        return out

    def _write(self, item: Decoded, result: torch.Tensor) -> None:
        start = time.perf_counter()
        array = store.to_numpy(result)
        store.write_npy_atomic(item.job.output, array)
        self.manifest.add(manifest_entry(item.job, array.shape, array.dtype, item.meta))
        self.report.write += time.perf_counter() - start
        self.report.written += 1
        self.report.audio_seconds += item.meta["duration"]
        self.bar.update(1)


def saturation_peak(dtype: torch.dtype) -> float:
    """Largest sample magnitude whose power spectrum stays finite in ``dtype``: ``sqrt(max) / 2 ** 20``.

    A frame of ``n`` samples of amplitude ``a`` has a power of up to ``(a n) ** 2``: with frames up
    to 2**20 samples this is the amplitude at which spectrogram values overflow (or, where a
    transform clamps them, saturate) in ``dtype`` (1.8e13 for float32; half precision pipelines
    compute their spectra in float32, so float32's limit applies to them).
    """
    if dtype in (torch.float16, torch.bfloat16):
        dtype = torch.float32
    return float(torch.finfo(dtype).max) ** 0.5 / 2.0**20


def _non_finite_reason(clip: torch.Tensor, result: torch.Tensor) -> str:
    """Why an output with inf/NaN is not written: how much of it, and how large the input was."""
    bad = int((~torch.isfinite(result)).sum())
    peak = float(clip.abs().max()) if clip.numel() else 0.0
    return (f"non-finite output ({bad} of {result.numel()} values are inf or NaN): input samples up to {peak:.3g} "
            "(the transform overflows; rescale the audio)")


def _transform_reason(exc: Exception) -> str:
    return f"the transform failed: {type(exc).__name__}: {exc}"


def transform_all(pool: DecodePool, writer: BatchWriter, batch_size: int) -> None:
    """Hand every decoded clip to ``writer``, flushing each ``batch_size`` clips and at the end."""
    while (item := pool.next()) is not None:
        writer.take(item)
        if writer.ready and (len(writer.ready) >= batch_size or pool.drained):
            writer.flush()


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

    See :mod:`nnaudio_core.app.extract` for the layout, resuming, manifest and batching.

    Parameters
    ----------
    pipeline : Pipeline
        From :func:`nnaudio_core.build_transform`; the sample rate it expects
        (:func:`~nnaudio_core.app.metadata.output_axes`) is the rate files are resampled to (files
        keep their own rate when it has none).
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
    workers = _check_options(input_dir, batch_size, workers)
    sample_rate = output_axes(pipeline).sample_rate
    report = ExtractReport(spec, str(input_dir), str(output_dir), workers=workers, batch_size=batch_size,
                           device=str(pipeline.device))
    plan = plan_extract(pipeline, input_dir, output_dir, spec=spec, channels=channels, sample_rate=sample_rate,
                        overwrite=overwrite)
    report.files, report.skipped = plan.files, plan.skipped
    bar = tqdm_module.tqdm(total=len(plan.todo) + len(plan.clashes), unit="file", file=sys.stderr,
                           dynamic_ncols=True, disable=None if progress is None else not progress, desc="extract")
    writer = BatchWriter(pipeline, plan.manifest, report, bar, on_failure)
    for clash in plan.clashes:
        writer.fail(clash["input"], clash["reason"])
    decode = partial(decode_job, sample_rate=sample_rate, channels=channels, dtype=pipeline.dtype)
    pool = DecodePool(plan.todo, decode, workers=workers, window=max(2 * batch_size, 2 * workers))
    try:
        transform_all(pool, writer, batch_size)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        pool.close()
        bar.close()
        report.idle = pool.idle
        report.wall = time.perf_counter() - started
    return report


def _check_options(input_dir: Path, batch_size: int, workers: int | None) -> int:
    """Validate the options; return the number of workers to use."""
    if not input_dir.is_dir():
        raise ExtractError(f"input folder {input_dir} does not exist or is not a folder")
    if batch_size < 1:
        raise ExtractError(f"batch size {batch_size} is not allowed; expected >= 1")
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise ExtractError(f"workers={workers} is not allowed; expected >= 1")
    return workers
