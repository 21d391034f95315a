"""``nnaudio extract --engine ray`` (issue 14): the local engine's results, on a local Ray instance (2 CPUs).

One Ray session is shared by the in-process tests (module fixture); the command-line tests run the
installed console script, which starts its own local instance or joins the fixture's with
``--address``. Outputs are compared with the local engine's on the same corpus (within 1e-5), and
the manifests and failure reports must be the same.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cli import finish, start, tone

sf = pytest.importorskip("soundfile")
pytest.importorskip("tqdm")

from nnaudio_core import build_transform  # noqa: E402
from nnaudio_core.app import cli  # noqa: E402
from nnaudio_core.app.extract import ExtractError, run_extract  # noqa: E402
from nnaudio_core.app.extract.ray_engine import MissingRayError, RayOptions, import_ray, run_extract_ray  # noqa: E402

SR = 22050
SPEC = {"pipeline": [{"mel": {"sr": SR, "n_fft": 512, "hop_length": 256, "n_mels": 32}}]}
TOL = {"rtol": 1e-5, "atol": 1e-5}

#: ``python -c`` program: the command, killed with SIGKILL (the driver, while Ray workers are running)
#: when it is about to record its output number ``KILL_AT`` in the manifest.
KILLED_DRIVER = """
import os, signal, sys
from nnaudio_core.app import cli
from nnaudio_core.app.extract import store

KILL_AT = int(sys.argv.pop(1))
add, added = store.Manifest.add, []

def add_then_die(self, entry):
    if len(added) + 1 == KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
    add(self, entry)
    added.append(entry)

store.Manifest.add = add_then_die
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def ray_session():
    """A local Ray instance of 2 CPUs for the whole module; its GCS address."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def mixed_corpus(root: Path) -> list[str]:
    """wav and flac, 16/22.05/44.1 kHz, several lengths (two equal, batched together), one corrupt file."""
    files = {
        "one.wav": (1.0, SR, 220), "a/two.flac": (1.0, SR, 440), "a/three.wav": (0.7, 16000, 330),
        "a/b/four.flac": (0.5, 44100, 550), "b/five.wav": (1.3, SR, 660), "b/six.flac": (0.9, 16000, 770),
        "seven.wav": (1.0, SR, 880),
    }
    for i, (rel, (seconds, rate, freq)) in enumerate(files.items()):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / rel, tone(seconds, rate, freq, seed=i), rate)
    (root / "a" / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(range(40)))
    (root / "b" / "empty.flac").write_bytes(b"")
    return sorted(files)


def outputs(folder: Path) -> dict[str, np.ndarray]:
    return {p.relative_to(folder).as_posix(): np.load(p) for p in sorted(folder.rglob("*.npy"))}


def manifest(folder: Path) -> list[dict]:
    lines = (folder / "manifest.jsonl").read_text().splitlines()
    return sorted(map(json.loads, lines), key=lambda e: e["input"])


def assert_same_outputs(ray_out: Path, local_out: Path) -> None:
    got, want = outputs(ray_out), outputs(local_out)
    assert sorted(got) == sorted(want)
    for name, array in want.items():
        assert got[name].dtype == array.dtype and got[name].shape == array.shape, name
        np.testing.assert_allclose(got[name], array, **TOL, err_msg=name)
    assert manifest(ray_out) == manifest(local_out)


def collect(failures: dict[str, str]):
    return lambda name, reason: failures.setdefault(name, reason)


def test_ray_engine_gives_the_local_engines_outputs_manifest_and_failures(ray_session, tmp_path):
    root = tmp_path / "in"
    good = mixed_corpus(root)
    pipeline = build_transform(SPEC, device="cpu")
    local_failures, ray_failures = {}, {}
    local = run_extract(pipeline, root, tmp_path / "local", batch_size=3, workers=2, progress=False,
                        on_failure=collect(local_failures))
    report = run_extract_ray(pipeline, root, tmp_path / "ray", batch_size=3, progress=False,
                             on_failure=collect(ray_failures))
    assert (report.written, report.skipped, len(report.failed)) == (len(good), 0, 2) == (
        local.written, local.skipped, len(local.failed))
    assert ray_failures == local_failures
    assert ray_failures["a/corrupt.wav"].startswith("cannot decode")
    assert ray_failures["b/empty.flac"] == "empty file (0 bytes)"
    assert sorted(report.failed, key=str) == sorted(local.failed, key=str)
    assert_same_outputs(tmp_path / "ray", tmp_path / "local")
    assert (tmp_path / "ray" / "nnaudio-extract.json").read_text() == (
        tmp_path / "local" / "nnaudio-extract.json").read_text()
    assert report.engine == "ray" and report.batches >= 3 and report.audio_seconds == pytest.approx(local.audio_seconds)
    assert "7 written, 0 already done, 2 failed" in report.summary()
    assert not list((tmp_path / "ray").rglob("*.part"))

    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "ray").rglob("*.npy")}
    again = run_extract_ray(pipeline, root, tmp_path / "ray", batch_size=3, progress=False, on_failure=collect({}))
    assert (again.written, again.skipped, len(again.failed)) == (0, len(good), 2)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert manifest(tmp_path / "ray") == manifest(tmp_path / "local")


def test_ray_engine_keeps_channels_as_the_local_engine_does(ray_session, tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    sf.write(root / "stereo.flac", tone(0.8, 44100, 300, channels=2), 44100)
    sf.write(root / "also.wav", tone(0.8, 44100, 500, channels=2, seed=3), 44100)
    sf.write(root / "mono.wav", tone(0.6, SR, 700), SR)
    pipeline = build_transform(SPEC, device="cpu")
    run_extract(pipeline, root, tmp_path / "local", channels="keep", batch_size=4, progress=False)
    report = run_extract_ray(pipeline, root, tmp_path / "ray", channels="keep", batch_size=4, progress=False,
                             options=RayOptions(workers=1))
    assert report.written == 3 and report.workers == 1
    assert_same_outputs(tmp_path / "ray", tmp_path / "local")
    assert np.load(tmp_path / "ray" / "stereo.npy").shape[0] == 2


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_driver_killed_midway_resumes_to_the_local_engines_result(ray_session, tmp_path):
    root, out = tmp_path / "in", tmp_path / "out"
    inputs = [f"d{i % 3}/clip{i:02d}.{'wav' if i % 2 else 'flac'}" for i in range(16)]
    for i, rel in enumerate(inputs):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / rel, tone(0.4 + 0.05 * (i % 4), SR, 200 + 50 * i, seed=i), SR)
    # the driver starts its own local Ray instance and dies as it records its 2nd output
    command = ["extract", "stft", root, out, "--engine", "ray", "--no-progress"]
    killed = finish(start("2", *command, "--num-cpus", "2", "--batch-size", "1", program=KILLED_DRIVER))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    survivors = {p: p.stat().st_mtime_ns for p in out.rglob("*.npy")}
    assert len(survivors) >= 1 and len((out / "manifest.jsonl").read_text().splitlines()) == 1
    for path in survivors:  # whatever exists is whole
        assert np.load(path).shape[0] == 1025, path
    stale = out / "d1" / f".clip01.npy.{2**22 + 12345}.part"  # as left by a worker killed mid-write
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"partial")

    # the same command, joining a running cluster this time
    resumed = finish(start(*command, "--address", ray_session, "--batch-size", "3"))
    assert resumed.returncode == 0, resumed.stderr
    # workers of the killed driver may finish an output or two before Ray stops them: whole ones, kept
    counts = re.search(r"(\d+) written, (\d+) already done, 0 failed", resumed.stdout)
    assert counts, resumed.stdout
    written, done = map(int, counts.groups())
    assert written + done == len(inputs) and done >= len(survivors), resumed.stdout
    assert "files/s" in resumed.stdout
    assert {p: p.stat().st_mtime_ns for p in survivors} == survivors  # finished work is kept, not redone
    assert not list(out.rglob("*.part"))

    run_extract(build_transform("stft", device="cpu"), root, tmp_path / "local", progress=False)
    assert_same_outputs(out, tmp_path / "local")  # a manifest line per output, none twice


def test_missing_ray_extra_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if it were not installed
    with pytest.raises(MissingRayError, match=r'pip install "nnaudio-core\[ray\]"'):
        import_ray()
    root = tmp_path / "in"
    root.mkdir()
    sf.write(root / "a.wav", tone(0.3, SR, 440), SR)
    with pytest.raises(MissingRayError):
        run_extract_ray(build_transform(SPEC, device="cpu"), root, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_missing_ray_extra_through_the_command(tmp_path):
    stubs = tmp_path / "stubs" / "ray"
    stubs.mkdir(parents=True)
    (stubs / "__init__.py").write_text('raise ModuleNotFoundError("No module named \'ray\'", name="ray")\n')
    root = tmp_path / "in"
    root.mkdir()
    sf.write(root / "a.wav", tone(0.3, SR, 440), SR)
    result = finish(start("extract", "stft", root, tmp_path / "out", "--engine", "ray",
                          pythonpath=[tmp_path / "stubs"]))
    assert result.returncode == 2, result.stderr
    assert "--engine ray needs ray" in result.stderr and 'pip install "nnaudio-core[ray]"' in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("options", "message"), [
    (["--num-cpus", "2"], "--num-cpus is only for --engine ray"),
    (["--address", "auto", "--num-gpus-per-worker", "1"], "--address, --num-gpus-per-worker are only for --engine ray"),
    (["--engine", "ray", "--address", "auto", "--num-cpus", "2"], "--num-cpus sets the CPUs of a local Ray instance"),
    (["--engine", "ray", "--device", "cuda"], "--device cuda does not go with --engine ray"),
])
def test_options_that_do_not_go_with_the_engine_are_refused(tmp_path, capsys, options, message):
    root = tmp_path / "in"
    root.mkdir()
    assert cli.main(["extract", "stft", str(root), str(tmp_path / "out"), *options]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_ray_option_values_are_checked(capsys):
    assert cli.main(["extract", "stft", "in", "out", "--engine", "ray", "--num-gpus-per-worker", "0"]) == 2
    assert "expected a number of GPUs > 0" in capsys.readouterr().err
    for options, message in ((RayOptions(num_cpus=0), "num_cpus=0 is not allowed"),
                             (RayOptions(num_gpus_per_worker=-1), "expected a number >= 0"),
                             (RayOptions(workers=0), "workers=0 is not allowed")):
        with pytest.raises(ExtractError, match=message):
            options.check()


def test_decoding_in_separate_tasks_gives_the_same_outputs(ray_session, tmp_path):
    """The GPU workers' layout (decoding in CPU tasks ahead of the workers), here with a CPU worker."""
    import ray

    from nnaudio_core.app.extract.plan import plan_jobs
    from nnaudio_core.app.extract.ray_engine import build_dataset

    root = tmp_path / "in"
    mixed_corpus(root)
    pipeline = build_transform(SPEC, device="cpu")
    run_extract(pipeline, root, tmp_path / "local", batch_size=2, progress=False, on_failure=collect({}))
    jobs, _ = plan_jobs(root, tmp_path / "ray")
    dataset = build_dataset(ray, jobs, pipeline, sample_rate=SR, channels="mono", batch_size=2, workers=1,
                            num_gpus_per_worker=0, decode_in_tasks=True)
    rows = {row["input_rel"]: row for row in dataset.iter_rows()}
    assert sorted(rows) == sorted(job.input_rel for job in jobs)
    assert rows["a/corrupt.wav"]["error"].startswith("cannot decode") and not rows["a/corrupt.wav"]["entry"]
    local = {e["input"]: e for e in manifest(tmp_path / "local")}
    assert {name: json.loads(row["entry"]) for name, row in rows.items() if row["entry"]} == local
    for name, array in outputs(tmp_path / "local").items():
        np.testing.assert_allclose(np.load(tmp_path / "ray" / name), array, **TOL, err_msg=name)
