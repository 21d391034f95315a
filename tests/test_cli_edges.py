"""The ``nnaudio`` command's rough edges (issue 10, "Command line"): argument order, output names,
option ranges, start-up without torch, Ctrl-C and closed pipes, plain-text ``describe``, the mel
picture's axis, the README's nnAudio block and what git ignores.

Subprocesses are started together and then finished (see ``test_cli.start``) to keep the file fast.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from test_cli import finish  # the shared subprocess helper

from nnaudio_core import build_transform
from nnaudio_core.app import cli
from nnaudio_core.app.plot import frequency_ticks, pipeline_axes

ROOT = Path(__file__).resolve().parents[1]
SR = 22050
HELP_COMMANDS = (["--help"], ["--version"], *([name, "--help"] for name in ("run", "list", "describe", "extract",
                                                                                 "validate")))
TORCH_IMPORTED = re.compile(r"^import time:.*\|\s+torch(\.|$)", re.M)


def _command() -> list[str]:
    script = shutil.which("nnaudio", path=str(Path(sys.executable).parent)) or shutil.which("nnaudio")
    return [script] if script else [sys.executable, "-m", "nnaudio_core"]


NNAUDIO = _command()


def start(*args: str | os.PathLike, env: dict[str, str] | None = None, module: bool = False,
          cwd: Path | None = None, stdout: int = subprocess.PIPE) -> subprocess.Popen:
    argv = [sys.executable, "-m", "nnaudio_core"] if module else NNAUDIO
    return subprocess.Popen([*argv, *map(str, args)], stdout=stdout, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, cwd=cwd)




def wav(path: Path, seconds: float = 0.3, freq: float = 440.0, seed: int = 0) -> Path:
    sf = pytest.importorskip("soundfile")
    t = np.arange(int(seconds * SR)) / SR
    noise = 0.05 * np.random.default_rng(seed).standard_normal(len(t))
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, 0.5 * np.sin(2 * np.pi * freq * t) + noise, SR, format="WAV" if path.suffix == ".wav" else "FLAC")
    return path


# -- arguments ----------------------------------------------------------------------------------------
def test_options_may_come_between_and_after_the_audio_files(tmp_path):
    a, b = wav(tmp_path / "a.wav"), wav(tmp_path / "b.wav", freq=660)
    args = cli.build_parser().parse_args(["run", "mel", "--no-plot", "--channels", "keep", str(a), "--out", "o",
                                          str(b), "--top-db", "60"])
    assert (args.spec, args.audio, args.out, args.channels, args.no_plot, args.top_db) == (
        "mel", [str(a), str(b)], "o", "keep", True, 60.0)
    extract = cli.build_parser().parse_args(["extract", "--workers", "2", "stft", "in", "--batch-size", "3", "out"])
    assert (extract.spec, extract.input_dir, extract.output_dir, extract.workers, extract.batch_size) == (
        "stft", "in", "out", 2, 3)
    assert cli.main(["run", "stft", "--no-plot", "--channels", "keep", str(a), "--device", "cpu", "--out",
                     str(tmp_path / "o")]) == 0
    assert np.load(tmp_path / "o" / "a-stft.npy").shape == (1, 1025, 1 + int(0.3 * SR) // 512)


def test_run_without_arguments_shows_audio_as_optional(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.build_parser().parse_args(["run"])
    err = capsys.readouterr().err
    assert raised.value.code == 2
    assert "SPEC [AUDIO ...]" in err
    assert "required: SPEC\n" in err and "AUDIO\n" not in err.split("required:")[1]
    assert cli.build_parser().parse_args(["run", "stft"]).audio == []


@pytest.mark.parametrize(("args", "allowed"), [
    (["run", "stft", "--top-db", "0"], "finite number of dB > 0"),
    (["run", "stft", "--top-db", "-10"], "finite number of dB > 0"),
    (["run", "stft", "--top-db", "nan"], "finite number of dB > 0"),
    (["run", "stft", "--top-db", "loud"], "finite number of dB > 0"),
    (["extract", "stft", "in", "out", "--batch-size", "0"], "integer >= 1"),
    (["extract", "stft", "in", "out", "--workers", "-2"], "integer >= 1"),
    (["extract", "stft", "in", "out", "--workers", "two"], "integer >= 1"),
])
def test_nonsense_option_values_are_refused_with_the_allowed_range(args, allowed, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    option = next(a for a in args if a.startswith("--"))
    assert f"argument {option}: " in err and allowed in err and args[-1] in err


# -- output names -------------------------------------------------------------------------------------
def test_run_outputs_are_named_as_extract_names_them_and_never_overwrite(tmp_path, capsys):
    inputs = [wav(tmp_path / "a" / "clip.wav"), wav(tmp_path / "b" / "clip.wav", freq=550, seed=1),
              wav(tmp_path / "a" / "clip.flac", freq=880, seed=2)]
    out = tmp_path / "out"
    assert cli.main(["run", "stft", *map(str, inputs), str(inputs[0]), "--no-plot", "--out", str(out),
                     "--device", "cpu"]) == 0
    stdout = capsys.readouterr().out
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.npy"))
    assert written == ["a/clip.flac-stft.npy", "a/clip.wav-stft.npy", "b/clip-stft.npy"]
    arrays = [np.load(out / name) for name in ("a/clip.wav-stft.npy", "b/clip-stft.npy", "a/clip.flac-stft.npy")]
    assert all(not np.array_equal(arrays[i], arrays[j]) for i, j in ((0, 1), (0, 2), (1, 2)))
    assert stdout.count("wrote") == 3  # the repeated file is done once


def test_run_output_names_follow_the_extract_rule(tmp_path):
    from nnaudio_core.app.extract import plan_jobs

    rels = ["x/song.wav", "x/song.flac", "x/other.ogg", "y.wav"]
    for rel in rels:
        (tmp_path / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / rel).write_bytes(b"")
    jobs, _ = plan_jobs(tmp_path / "in", tmp_path / "o")
    extract_names = {job.input_rel: job.output_rel for job in jobs}
    outputs, clashes = cli.run_outputs([tmp_path / "in" / rel for rel in rels], tmp_path / "o", "stft")
    assert clashes == []
    assert {path.relative_to(tmp_path / "in").as_posix(): stem.relative_to(tmp_path / "o").as_posix()
            for path, stem in outputs} == {rel: name[: -len(".npy")] + "-stft" for rel, name in extract_names.items()}
    one_folder, _ = cli.run_outputs([tmp_path / "in" / "x" / "song.wav"], tmp_path / "o", "mel")
    assert one_folder[0][1] == tmp_path / "o" / "song-mel"


# -- start-up, Ctrl-C, pipes ------------------------------------------------------------------------------
def test_help_and_version_answer_without_importing_torch(capsys):
    procs = [start(*args, env={"PYTHONPROFILEIMPORTTIME": "1"}) for args in HELP_COMMANDS]
    profiles = [finish(proc) for proc in procs]
    timings = []  # then one at a time, with nothing else of ours running
    for args in HELP_COMMANDS:
        began = time.perf_counter()
        finish(start(*args))
        timings.append(time.perf_counter() - began)
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    torch_seconds = time.perf_counter() - began
    for args, result in zip(HELP_COMMANDS, profiles, strict=True):
        assert result.returncode == 0, (args, result.stderr)
        assert ("nnaudio-core 0.1.0" if args == ["--version"] else "usage: nnaudio") in result.stdout
        assert "import time:" in result.stderr  # the profile ran, so its silence about torch means something
        assert not TORCH_IMPORTED.search(result.stderr), f"{args} imported torch"
    with capsys.disabled():
        print(f"\n[nnaudio --help & co: {min(timings):.3f}-{max(timings):.3f} s; import torch: {torch_seconds:.3f} s]")
    assert max(timings) < torch_seconds  # the measured gap is ~30x; only a gross regression fails here


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32", reason="needs POSIX SIGINT")
@pytest.mark.parametrize("module", [False, True], ids=["script", "python-m"])
def test_ctrl_c_while_torch_is_imported_exits_130_without_a_traceback(module, tmp_path):
    """SIGINT is sent when the import profile reports the first torch submodule: mid-import of torch."""
    args = ["list"] if not module else ["run", "stft", "--no-plot", "--out", tmp_path]
    for _ in range(3):  # a start-up that finished before the signal could be sent is retried
        proc = start(*args, module=module, env={"PYTHONPROFILEIMPORTTIME": "1"})
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if TORCH_IMPORTED.search(line):
                proc.send_signal(signal.SIGINT)
                break
        result = finish(proc)
        if proc.returncode != 0:
            break
    messages = "".join(line for line in [*seen, *result.stderr.splitlines(True)]
                       if not line.startswith("import time:"))
    assert result.returncode == 130, messages
    assert "Traceback" not in messages and "KeyboardInterrupt" not in messages
    assert messages.strip() == "nnaudio: interrupted"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_output_into_a_closed_pipe_exits_quietly():
    closed = [start(*args) for args in (["list"], ["--help"])]
    for proc in closed:
        proc.stdout.close()  # the reader is gone before anything is written: every write fails
    listing = start("list")
    head = subprocess.Popen(["head", "-1"], stdin=listing.stdout, stdout=subprocess.PIPE, text=True)
    listing.stdout.close()
    first_line, _ = head.communicate(timeout=180)
    listing_err = listing.stderr.read()
    listing.wait(timeout=180)
    assert first_line.split()[:2] == ["transform", "aliases"]
    assert listing.returncode in (0, 141) and listing_err == ""
    for proc in closed:
        err = proc.stderr.read()
        proc.wait(timeout=180)
        assert proc.returncode in (0, 141), (proc.args, err)
        assert err == "", (proc.args, err)  # no traceback, no "Exception ignored ... BrokenPipeError"
    assert closed[0].returncode == 141


# -- describe -------------------------------------------------------------------------------------------
def test_describe_prints_plain_text_and_what_each_parameter_allows(capsys):
    from nnaudio_core import describe_transform

    for name in ("mel", "cqt2019", "amplitude_to_db"):
        assert cli.main(["describe", name]) == 0
        out = capsys.readouterr().out
        assert "`" not in out, re.findall(r".*`.*", out)[:3]
        assert not re.search(r":[a-z]+:", out.replace("::", ""))  # no :class: or :func: roles
        info = describe_transform(name)
        params = out.split("  parameters:\n")[1].split("\ndocumentation:")[0]
        assert params.count("allowed: ") == len(info.params) >= 3
    assert cli.main(["list"]) == 0
    assert "`" not in capsys.readouterr().out
    assert cli.plain_text("see :meth:`the hook <nnaudio_core.hookspecs.hook>` and `x`") == "see the hook and x"


# -- the mel picture --------------------------------------------------------------------------------------
def test_mel_picture_rows_are_labelled_in_hz_over_the_whole_axis():
    pipeline = build_transform("mel", device="cpu")
    info = pipeline.output_info()
    axes = pipeline_axes(pipeline, sample_rate=SR, n_rows=128)
    np.testing.assert_allclose(axes.frequencies, info.frequencies)
    positions, labels, name = frequency_ticks(axes.frequencies)
    assert name == "frequency (Hz)"
    hertz = [float(label[:-1]) * 1000 if label.endswith("k") else float(label) for label in labels]
    np.testing.assert_allclose(np.interp(positions, np.arange(128), axes.frequencies), hertz, rtol=1e-6)
    assert positions[0] < 128 / 8 and positions[-1] > 128 * 7 / 8  # both ends labelled, not only the top
    assert np.diff(positions).max() < 128 / 3  # no half-axis without a label
    assert hertz == sorted(hertz) and len(set(labels)) == len(labels) >= 5


# -- README and .gitignore --------------------------------------------------------------------------------
def _nnaudio_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Coming from nnAudio\n(.*?)(?=^## )", readme, flags=re.M | re.S).group(1)
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


def test_readme_nnaudio_block_runs_on_nnaudio_core_and_on_nnaudio_0_3_4():
    code = _nnaudio_block()
    assert "from nnaudio_core import Spectrogram" in code and "# was: from nnAudio import Spectrogram" in code
    ours: dict = {}
    exec(compile(code, "README.md", "exec"), ours)  # noqa: S102
    assert ours["spec"].shape == (4, 168, 87)
    nn_audio = pytest.importorskip("nnAudio")
    assert getattr(nn_audio, "__version__", "0.3.4") == "0.3.4"
    theirs: dict = {}
    original = code.replace("from nnaudio_core import Spectrogram", "from nnAudio import Spectrogram")
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(original, "README.md (nnAudio 0.3.4)", "exec"), theirs)  # noqa: S102
    assert theirs["spec"].shape == ours["spec"].shape
    assert type(theirs["cqt_layer"]).__module__.startswith("nnAudio")
    with torch.inference_mode():
        mine = ours["cqt_layer"](theirs["x"].to(ours["device"])).cpu()
    inner = slice(20, -20)  # away from the clip edges, where the two differ most (docs/migrating-from-nnaudio.md)
    error = torch.linalg.norm(mine[..., inner] - theirs["spec"].cpu()[..., inner]) / torch.linalg.norm(mine[..., inner])
    assert float(error) < 0.05


def test_readme_main_job_outputs_are_ignored_by_git(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["example-cqt2019.npy", "example-cqt2019.png", "docs/example-cqt2019.png", "docs/example-stft.png"]
    result = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.split() == ["example-cqt2019.npy", "example-cqt2019.png"], result.stderr
