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
* **Failures.** A missing, unreadable, empty, corrupt or undecodable file, one whose header claims an
  absurd sample rate (below 100 Hz, or a resampling beyond the size limits of
  :mod:`~nnaudio_core.app.audio_io`), one the transform rejects (too
  short, say) or turns into inf/NaN (samples of 1e30, say: nothing non-finite is written), is
  reported with its reason and skipped; the others go on. Failed files have no
  output, so a rerun tries them again.

Modules: :mod:`~nnaudio_core.app.extract.plan` (inputs, output names, what a rerun skips, manifest
entries), :mod:`~nnaudio_core.app.extract.store` (the files written, atomically),
:mod:`~nnaudio_core.app.extract.run` (decoding, batching, transforming, :func:`run_extract`) and
:mod:`~nnaudio_core.app.extract.report` (:class:`ExtractReport` and its summary).
"""

from .plan import ExtractError, Job, plan_jobs
from .report import ExtractReport
from .run import run_extract
from .store import Manifest, to_numpy, write_npy_atomic, write_report

__all__ = ["ExtractError", "ExtractReport", "Job", "Manifest", "plan_jobs", "run_extract", "to_numpy",
           "write_npy_atomic", "write_report"]
