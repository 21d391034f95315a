"""The outcome of one ``nnaudio extract`` run: counts, failures, timings, and the summary it prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ExtractReport:
    """The outcome and timings of one :func:`~nnaudio_core.app.extract.run_extract` call (all times in seconds).

    ``decode`` is summed over the workers (it can exceed ``wall``); ``idle`` is the time the
    transform loop waited for decoded audio. With ``engine="ray"``, ``workers`` counts the
    transform workers, ``cluster_cpus`` the CPUs of the Ray cluster, ``startup`` the seconds until
    the first result came back (starting Ray and its workers included), and ``idle`` is not measured.
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
    engine: str = "local"
    cluster_cpus: int = 0
    startup: float = 0.0

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
        if self.engine == "ray":
            where = (f"on Ray ({self.cluster_cpus} CPUs), {self.workers} transform workers on {self.device}, "
                     f"batch size {self.batch_size}")
            waits = f"(on the workers); {self.startup:.2f} s until the first result (starting Ray and its workers)"
        else:
            where = f"on {self.device}, batch size {self.batch_size}, {self.workers} decode workers"
            waits = f"transform idle waiting for decoding {self.idle:.2f} s"
        lines = [
            f"{'interrupted' if self.interrupted else 'done'}: {self.files} audio files under {self.input_dir} "
            f"→ {self.output_dir}: {done}",
            f"{self.wall:.2f} s wall, {self.files_per_second:.1f} files/s ({self.audio_seconds:.0f} s of audio) "
            + where,
            f"time: decoding {self.decode:.2f} s (summed over workers), transform {self.transform:.2f} s "
            f"in {self.batches} calls, writing {self.write:.2f} s, " + waits,
        ]
        if self.interrupted:
            lines.append("rerun the same command to resume: finished outputs are kept and skipped")
        return "\n".join(lines)
