"""``nnaudio extract --engine ray``: the same extraction as the local engine, scaled out with Ray Data.

The driver (the ``nnaudio`` process) plans exactly as the local engine does
(:func:`~nnaudio_core.app.extract.plan.plan_extract`: settings check, stale temporaries removed,
manifest reconciled, finished outputs skipped), then hands the jobs left to a Ray Data pipeline:

1. **list**: one row per ``batch_size`` jobs (absolute input and output paths, so that any node
   can reach them on a shared filesystem), a few such rows per block;
2. **decode** (:class:`DecodeGroup`, on CPU): :func:`~nnaudio_core.app.extract.run.decode_job`,
   the local engine's read, mix, resample and sample checks;
3. **batch + transform + write** (:class:`TransformWorker`, an actor pool; one GPU share each with
   ``num_gpus_per_worker``): each worker builds the pipeline once, from the driver's
   :meth:`~nnaudio_core.Pipeline.get_config`, then hands each batch of ``batch_size`` decoded rows
   to the local engine's :class:`~nnaudio_core.app.extract.run.BatchWriter` (one call per shape,
   non-finite outputs refused, each ``.npy`` written atomically);
4. the driver streams the workers' results back, appends the manifest entries (the manifest has one
   writer) and tallies the :class:`~nnaudio_core.app.extract.report.ExtractReport`.

On CPU the transform workers decode their own batches (steps 2 and 3 in one process: nothing
decoded is copied between processes); with GPU workers decoding runs in CPU tasks and the decoded
clips reach the GPU workers through Ray's object store. Each transform worker reserves one CPU.

Killing the driver at any moment loses nothing and corrupts nothing: an output exists only once
whole (the workers write temporaries renamed into place), and an output written by a worker whose
manifest line the driver never appended is recorded by the next run's reconciliation.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..audio_io import MissingExtraError, import_optional
from ..metadata import output_axes
from .plan import ExtractError, Job, plan_extract
from .report import ExtractReport
from .run import BatchWriter, Decoded, decode_job

RAY_EXTRA = "ray"
RAY_INSTALL_HINT = 'pip install "nnaudio-core[ray]"'
#: Batches of jobs per Ray Data block, at most (a block's decoded audio is held in memory at once).
GROUPS_PER_BLOCK = 4


class MissingRayError(MissingExtraError):
    """Ray (with Ray Data) is not installed, or does not import.

    Examples
    --------
    >>> str(MissingRayError(["ray: ModuleNotFoundError: No module named 'ray'"])).split(";")[1]
    ' install it with: pip install "nnaudio-core[ray]"'
    """

    def __init__(self, details: list[str]) -> None:
        self.modules = ("ray",)
        self.details = tuple(details)
        ImportError.__init__(
            self, f"--engine ray needs ray (with Ray Data) from the optional '{RAY_EXTRA}' extra, which is not "
                  f"available; install it with: {RAY_INSTALL_HINT}")


def import_ray() -> Any:
    """The ``ray`` module with ``ray.data`` imported, or :class:`MissingRayError`."""
    try:
        import ray
        import ray.data  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: a wheel whose shared library is missing
        raise MissingRayError([f"ray: {type(exc).__name__}: {exc}"]) from None
    return ray


@dataclass(frozen=True)
class RayOptions:
    """Where and how the Ray engine runs.

    Attributes
    ----------
    address : str, optional
        ``None``: start a local Ray instance (stopped at the end); ``"auto"``, ``"host:port"`` or
        ``"ray://host:10001"``: join that cluster. Ignored when Ray is already initialised in this
        process (that session is used, and left running).
    num_cpus : int, optional
        CPUs of the local instance (default: all of this machine's); only without ``address``.
    num_gpus_per_worker : float
        GPUs (or a fraction of one) each transform worker reserves; ``0``: transform on CPU.
    workers : int, optional
        Transform workers (actors), at most; default (and upper limit): one per cluster CPU, or with
        ``num_gpus_per_worker > 0`` one per GPU share (leaving a CPU for decoding).
    """

    address: str | None = None
    num_cpus: int | None = None
    num_gpus_per_worker: float = 0.0
    workers: int | None = None

    def check(self) -> None:
        """Raise :class:`ExtractError` for an option that is not allowed."""
        if self.num_cpus is not None and self.num_cpus < 1:
            raise ExtractError(f"num_cpus={self.num_cpus} is not allowed; expected an integer >= 1")
        if self.num_cpus is not None and self.address is not None:
            raise ExtractError(f"num_cpus applies to a local Ray instance, not to the cluster at {self.address!r} "
                               "(its nodes declare their own CPUs with `ray start --num-cpus`)")
        if not (self.num_gpus_per_worker >= 0 and np.isfinite(self.num_gpus_per_worker)):
            raise ExtractError(f"num_gpus_per_worker={self.num_gpus_per_worker} is not allowed; expected a "
                               "number >= 0 (a fraction such as 0.5 shares a GPU between workers)")
        if self.workers is not None and self.workers < 1:
            raise ExtractError(f"workers={self.workers} is not allowed; expected an integer >= 1")


# -- on the workers ---------------------------------------------------------------------------------
def _job_row(job: Job) -> dict[str, str]:
    return {"source": os.path.abspath(job.source), "input_rel": job.input_rel,
            "output": os.path.abspath(job.output), "output_rel": job.output_rel}


def _row_job(row: dict[str, Any]) -> Job:
    return Job(Path(row["source"]), str(row["input_rel"]), Path(row["output"]), str(row["output_rel"]))


def _dtype(name: str) -> torch.dtype:
    dtype = getattr(torch, name.replace("torch.", ""))
    assert isinstance(dtype, torch.dtype), name
    return dtype


class DecodeGroup:
    """Ray Data ``map`` function: a row of jobs (one batch's worth) → the row of their decoded clips.

    The decoded clips (:class:`~nnaudio_core.app.extract.run.Decoded`: job, samples as a tensor of
    the pipeline's dtype or the error, audio metadata, seconds) travel pickled in the ``decoded``
    column, bit for bit whatever the dtype.

    Parameters
    ----------
    sample_rate : float, optional
        Rate to resample to (``None``: the file's own).
    channels : {"mono", "keep"}
        Mix to mono (samples ``(time,)``) or keep channels (``(channels, time)``).
    dtype : str
        The pipeline's dtype, e.g. ``"float32"``.
    """

    def __init__(self, sample_rate: float | None, channels: str, dtype: str) -> None:
        self.sample_rate, self.channels, self.dtype = sample_rate, channels, dtype

    def __call__(self, group: dict[str, Any]) -> dict[str, Any]:
        dtype = _dtype(self.dtype)
        decoded = [decode_job(_row_job(row), sample_rate=self.sample_rate, channels=self.channels, dtype=dtype)
                   for row in json.loads(group["jobs"])]
        return {"decoded": pickle.dumps(decoded, protocol=pickle.HIGHEST_PROTOCOL)}


class _Entries:
    """Stands in for the manifest on a worker: keeps the entries for the driver to append."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def add(self, entry: dict[str, Any]) -> None:
        self.entries[entry["input"]] = entry


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def write(self, text: str, file: Any = None) -> None:
        pass


class TransformWorker:
    """Ray Data actor: builds the pipeline once, then transforms and writes each batch of decoded rows.

    Parameters
    ----------
    config : dict
        :meth:`~nnaudio_core.Pipeline.get_config` of the driver's pipeline (rebuilt here through the
        plugin registry, so the plugins must be installed on every node).
    device : str
        Where this worker runs the pipeline (``"cuda"`` when it was given a GPU share).
    decode : DecodeGroup, optional
        Given: the batches are rows of jobs, decoded here first (CPU workers); ``None``: they are
        rows already decoded by :class:`DecodeGroup` tasks (GPU workers).
    """

    def __init__(self, config: dict[str, Any], device: str, decode: DecodeGroup | None = None) -> None:
        from ...spec import build_transform

        self.pipeline = build_transform(config, device=device)
        self.decode = decode

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        report = ExtractReport("", "", "")
        entries = _Entries()
        failures: dict[str, str] = {}
        writer = BatchWriter(self.pipeline, entries, report, _NoBar(),  # type: ignore[arg-type]
                             on_failure=lambda name, reason: failures.setdefault(name, reason))
        if self.decode is not None:
            blobs = [self.decode({"jobs": jobs})["decoded"] for jobs in batch["jobs"]]
        else:
            blobs = list(batch["decoded"])
        items: list[Decoded] = [item for blob in blobs for item in pickle.loads(blob)]
        for item in items:
            writer.take(item)
        writer.flush()
        names = [item.job.input_rel for item in items]
        first = [1.0] + [0.0] * (len(items) - 1)  # the batch's timings ride on its first row
        return {"input_rel": names,
                "entry": [json.dumps(entries.entries[n]) if n in entries.entries else "" for n in names],
                "error": [failures.get(n, "" if n in entries.entries else "no output (lost by the worker)")
                          for n in names],
                "decode": [item.seconds for item in items],
                "transform": [f * report.transform for f in first], "write": [f * report.write for f in first],
                "batches": [int(f * report.batches) for f in first]}


# -- on the driver ----------------------------------------------------------------------------------
def connect(ray: Any, options: RayOptions) -> bool:
    """Start or join Ray as ``options`` say; whether this call started it (and so must stop it)."""
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
    if options.address is None:
        kwargs["num_cpus"] = options.num_cpus
    ray.init(address=options.address, **kwargs)
    return True


def transform_workers(ray: Any, options: RayOptions) -> int:
    """How many transform workers to start: what the cluster holds, at most ``options.workers``.

    CPU workers: one per cluster CPU. GPU workers: one per GPU share, each with a CPU, leaving at
    least one CPU to decode.
    """
    resources = ray.cluster_resources()
    cpus = int(resources.get("CPU", 0.0))
    if options.num_gpus_per_worker > 0:
        gpus = float(resources.get("GPU", 0.0))
        if gpus < options.num_gpus_per_worker:
            raise ExtractError(f"num_gpus_per_worker={options.num_gpus_per_worker:g} but the Ray cluster has "
                               f"{gpus:g} GPUs; pass 0 to transform on CPU")
        if cpus < 2:
            raise ExtractError(f"GPU workers need a CPU each and decoding at least one more, but the Ray cluster has "
                               f"{cpus} CPUs")
        most = min(int(gpus // options.num_gpus_per_worker), cpus - 1)
    else:
        most = max(1, cpus)
    return max(1, min(most, options.workers or most))


def build_dataset(ray: Any, jobs: list[Job], pipeline: Any, *, sample_rate: float | None, channels: str,
                  batch_size: int, workers: int, num_gpus_per_worker: float,
                  decode_in_tasks: bool | None = None) -> Any:
    """The Ray Data pipeline: rows of ``batch_size`` jobs → decoded → transformed and written → results.

    ``decode_in_tasks`` (default: when ``num_gpus_per_worker > 0``) decodes in CPU tasks ahead of
    the transform workers instead of in them; the cluster then needs a CPU beyond the workers' own.
    """
    data = ray.data
    context = data.DataContext.get_current()
    context.enable_progress_bars = False  # the driver shows its own bar, counting files
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    # one row per batch of jobs, a few rows per block: small blocks in memory, enough to keep every
    # worker busy; each row is one transform batch
    groups = [json.dumps([_job_row(job) for job in jobs[i : i + batch_size]]) for i in range(0, len(jobs), batch_size)]
    per_block = max(1, min(GROUPS_PER_BLOCK, -(-len(groups) // (2 * workers))))
    blocks = -(-len(groups) // per_block)
    dataset = data.from_items([{"jobs": g} for g in groups], override_num_blocks=blocks)
    decode = DecodeGroup(sample_rate, channels, str(pipeline.dtype).replace("torch.", ""))
    config = pipeline.get_config()
    device = "cuda" if num_gpus_per_worker > 0 else "cpu"
    resources: dict[str, Any] = {"num_gpus": num_gpus_per_worker} if num_gpus_per_worker > 0 else {}
    if decode_in_tasks if decode_in_tasks is not None else num_gpus_per_worker > 0:
        dataset = dataset.map(decode, num_cpus=1)  # decoding in CPU tasks, ahead of the (GPU) workers
        kwargs: dict[str, Any] = {"config": config, "device": device}
    else:  # each worker decodes its own batches: nothing decoded is copied between processes
        kwargs = {"config": config, "device": device, "decode": decode}
    return dataset.map_batches(TransformWorker, fn_constructor_kwargs=kwargs, batch_size=1, batch_format="numpy",
                               compute=data.ActorPoolStrategy(size=min(workers, blocks)), num_cpus=1, **resources)


def run_extract_ray(
    pipeline: Any,
    input_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    spec: str = "<spec>",
    batch_size: int = 8,
    channels: str = "mono",
    overwrite: bool = False,
    progress: bool | None = None,
    on_failure: Callable[[str, str], None] | None = None,
    options: RayOptions | None = None,
) -> ExtractReport:
    """:func:`~nnaudio_core.app.extract.run_extract` on a Ray cluster: the same outputs, manifest and report.

    See :mod:`nnaudio_core.app.extract.ray_engine` for the pipeline and :mod:`nnaudio_core.app.extract`
    for the layout, resuming, manifest and batching (clips of equal shape in a batch share a call).

    Parameters
    ----------
    pipeline : Pipeline
        The driver's pipeline: its settings and sample rate are the run's; each worker builds its
        own from :meth:`~nnaudio_core.Pipeline.get_config` (on ``cuda`` when given a GPU share, else CPU).
    input_dir, output_dir : str or path
        Folders every node can reach at the same path (a shared filesystem); ``output_dir`` is created.
    spec, batch_size, channels, overwrite, progress, on_failure
        As for :func:`~nnaudio_core.app.extract.run_extract`.
    options : RayOptions, optional
        Cluster address, local CPUs, GPUs per worker, number of workers (default: a local instance
        on every CPU).

    Returns
    -------
    ExtractReport
        ``workers`` is the number of transform workers; ``decode`` is summed over the workers;
        ``startup`` is the time until the first result; ``idle`` is 0 (not measured).

    Raises
    ------
    ExtractError
        As :func:`~nnaudio_core.app.extract.run_extract`, or for a Ray option that is not allowed.
    MissingRayError
        If ray is not installed (``pip install "nnaudio-core[ray]"``).
    MissingExtraError
        If soundfile or tqdm is not installed.

    Examples
    --------
    >>> from nnaudio_core import build_transform
    >>> report = run_extract_ray(build_transform("mel"), "clips", "features",
    ...                          options=RayOptions(num_cpus=2))  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
    """
    options = options or RayOptions()
    ray = import_ray()
    (tqdm_module,) = import_optional("tqdm", purpose="nnaudio extract")
    import_optional("soundfile", purpose="nnaudio extract")
    started = time.perf_counter()
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    if not input_dir.is_dir():
        raise ExtractError(f"input folder {input_dir} does not exist or is not a folder")
    if batch_size < 1:
        raise ExtractError(f"batch size {batch_size} is not allowed; expected >= 1")
    options.check()
    sample_rate = output_axes(pipeline).sample_rate
    report = ExtractReport(spec, str(input_dir), str(output_dir), batch_size=batch_size, engine="ray",
                           device="cuda" if options.num_gpus_per_worker > 0 else "cpu")
    plan = plan_extract(pipeline, input_dir, output_dir, spec=spec, channels=channels, sample_rate=sample_rate,
                        overwrite=overwrite)
    report.files, report.skipped = plan.files, plan.skipped
    bar = tqdm_module.tqdm(total=len(plan.todo) + len(plan.clashes), unit="file", file=sys.stderr,
                           dynamic_ncols=True, disable=None if progress is None else not progress, desc="extract")
    writer = BatchWriter(pipeline, plan.manifest, report, bar, on_failure)  # reports failures as the local one
    for clash in plan.clashes:
        writer.fail(clash["input"], clash["reason"])
    owned = False
    try:
        if plan.todo:
            owned = connect(ray, options)
            report.workers = transform_workers(ray, options)
            report.cluster_cpus = int(ray.cluster_resources().get("CPU", 0))
            dataset = build_dataset(ray, plan.todo, pipeline, sample_rate=sample_rate, channels=channels,
                                    batch_size=batch_size, workers=report.workers,
                                    num_gpus_per_worker=options.num_gpus_per_worker)
            for row in dataset.iter_rows():
                if not report.startup:
                    report.startup = time.perf_counter() - started
                _tally(row, plan.manifest, report, writer, bar)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        bar.close()
        if owned:
            ray.shutdown()
        report.wall = time.perf_counter() - started
    return report


def _tally(row: dict[str, Any], manifest: Any, report: ExtractReport, writer: BatchWriter, bar: Any) -> None:
    """Record one worker result on the driver: its manifest line, or its failure."""
    report.decode += float(row["decode"])
    report.transform += float(row["transform"])
    report.write += float(row["write"])
    report.batches += int(row["batches"])
    if row["entry"]:
        entry = json.loads(row["entry"])
        manifest.add(entry)
        report.written += 1
        report.audio_seconds += entry["duration"]
        bar.update(1)
    else:
        writer.fail(str(row["input_rel"]), str(row["error"]))
