"""``nnaudio extract`` on hostile files (issue 10): each is reported with an accurate reason and skipped.

In-process (:func:`~nnaudio_core.app.extract.run_extract`), on a small mel pipeline, so the file stays fast.
"""

from __future__ import annotations

import builtins
import os

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
pytest.importorskip("tqdm")

from nnaudio_core import build_transform  # noqa: E402
from nnaudio_core.app import audio_io  # noqa: E402
from nnaudio_core.app.audio_io import AudioError, os_error_reason, read_audio, resample, resample_problem  # noqa: E402
from nnaudio_core.app.extract import run_extract  # noqa: E402

SR = 22050
SPEC = {"pipeline": [{"mel": {"sr": SR, "n_fft": 512, "hop_length": 256, "n_mels": 32}}]}


@pytest.fixture(scope="module")
def pipeline():
    return build_transform(SPEC, device="cpu")


def _extract(pipeline, root, out):
    failures = {}
    report = run_extract(pipeline, root, out, workers=1, batch_size=4, progress=False,
                         on_failure=lambda name, reason: failures.setdefault(name, reason))
    return report, failures


def _good(path, seconds=0.3):
    t = np.arange(int(seconds * SR)) / SR
    sf.write(path, 0.5 * np.sin(2 * np.pi * 440 * t), SR)


def test_huge_finite_samples_are_reported_not_written_as_inf(pipeline, tmp_path):
    root, out = tmp_path / "in", tmp_path / "out"
    root.mkdir()
    _good(root / "good.wav")
    sf.write(root / "huge.wav", np.full(SR // 2, 1e30), SR, subtype="FLOAT")  # finite in the file
    sf.write(root / "overflow.wav", np.full(SR // 2, 1e300), SR, subtype="DOUBLE")  # inf as float32
    report, failures = _extract(pipeline, root, out)
    assert report.written == 1 and (out / "good.npy").exists()
    assert not (out / "huge.npy").exists() and not (out / "overflow.npy").exists()
    assert failures["huge.wav"].startswith("non-finite output"), failures
    assert "input samples up to 1e+30" in failures["huge.wav"]
    assert "samples up to 1e+300 overflow torch.float32" in failures["overflow.wav"]
    assert np.isfinite(np.load(out / "good.npy")).all()


def test_reasons_name_what_is_wrong(pipeline, tmp_path, monkeypatch):
    root, out = tmp_path / "in", tmp_path / "out"
    root.mkdir()
    _good(root / "good.wav")
    rng = np.random.default_rng(0)
    (root / "noise.mp3").write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    (root / "noise.wav").write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    _good(root / "locked.wav")
    os.chmod(root / "locked.wav", 0)
    real_open = builtins.open

    def open_as_a_user(file, *args, **kwargs):  # root reads 000 files: refuse as the kernel would a user
        if os.fspath(file).endswith("locked.wav"):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    if os.geteuid() == 0:
        monkeypatch.setattr(builtins, "open", open_as_a_user)
    report, failures = _extract(pipeline, root, out)
    assert report.written == 1
    assert failures["locked.wav"] == "cannot read: permission denied"
    for name in ("noise.mp3", "noise.wav"):
        assert failures[name].startswith("cannot decode"), failures
        assert "does not exist" not in failures[name] and "System error" not in failures[name], failures


def test_os_error_reasons():
    assert os_error_reason(PermissionError(13, "Permission denied")) == "cannot read: permission denied"
    assert os_error_reason(FileNotFoundError(2, "No such file or directory")) == "cannot read: does not exist"
    assert os_error_reason(IsADirectoryError(21, "Is a directory")) == "cannot read: is a folder, not a file"
    assert os_error_reason(OSError(5, "Input/output error")) == "cannot read: Input/output error"


def test_a_one_hertz_header_is_refused_before_resampling(pipeline, tmp_path):
    root, out = tmp_path / "in", tmp_path / "out"
    root.mkdir()
    _good(root / "good.wav")
    sf.write(root / "one_hz.wav", np.zeros(1000), 1, subtype="FLOAT")
    report, failures = _extract(pipeline, root, out)
    assert report.written == 1
    assert failures["one_hz.wav"] == (
        "sample rate 1 Hz in the file header is not allowed: expected >= 100 Hz (a corrupt header?)"
    )
    with pytest.raises(AudioError, match="sample rate 1 Hz"):
        read_audio(root / "one_hz.wav", sample_rate=None)


def test_resampling_limits_are_checked_before_allocating(monkeypatch):
    assert resample_problem(10**6, 2, 48000, 22050) is None
    # 10 hours at 100 Hz to 192 kHz: 55 GiB of float64
    assert "needs 51.5 GiB; at most 4 GiB is allowed" in resample_problem(3_600_000, 1, 100, 192000)
    # coprime rates: a filter of 20 * 1_999_993 taps
    assert "-tap filter" in resample_problem(100, 1, 1_999_993, 22050)
    monkeypatch.setattr(audio_io, "MAX_RESAMPLED_BYTES", 1000)
    with pytest.raises(ValueError, match="needs 15.6 KiB; at most 1000 bytes is allowed"):
        resample(np.zeros(1000), 22050, 44100)
