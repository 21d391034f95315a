"""Spectrogram-in steps (mel_scale, power_to_db, amplitude_to_db, dct), chains and bundled specs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import torch
from nnaudio_plugins.mel import MFCC, MelSpectrogram
from nnaudio_plugins.spectral import DCT, AmplitudeToDB, MelScale, PowerToDB
from nnaudio_plugins.stft import STFT
from signals import chirp, noise_bursts, notes

from nnaudio_core import SpecError, build_transform, bundled_specs, get_transform
from nnaudio_core.errors import ParameterError
from nnaudio_core.functional.spectral import amplitude_to_db, power_to_db

librosa = pytest.importorskip("librosa")

SR = 22050


def _batch(seconds: float = 1.0) -> torch.Tensor:
    clips = [0.5 * chirp(seconds, SR, f1=8000.0), 0.3 * notes(seconds, SR), 0.05 * noise_bursts(seconds, SR)]
    return torch.from_numpy(np.stack(clips).astype(np.float32))


X = _batch()


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def chain(**over):
    """stft → mel_scale → power_to_db → dct spec with mfcc-equivalent settings."""
    s = {"n_fft": 1024, "hop": 256, "n_mels": 64, "n_mfcc": 20, "htk": False, "norm": "slaney", "fmin": 0.0,
         "fmax": None, "top_db": 80.0, "lifter": 0.0, "dct_norm": "ortho"} | over
    return {
        "device": "cpu",
        "pipeline": [
            {"stft": {"n_fft": s["n_fft"], "hop_length": s["hop"], "output_format": "Power"}},
            {"mel_scale": {"sr": SR, "n_fft": s["n_fft"], "n_mels": s["n_mels"], "htk": s["htk"], "norm": s["norm"],
                           "fmin": s["fmin"], "fmax": s["fmax"]}},
            {"power_to_db": {"top_db": s["top_db"]}},
            {"dct": {"n_bands": s["n_mels"], "n_coefficients": s["n_mfcc"], "lifter": s["lifter"],
                     "norm": s["dct_norm"]}},
        ],
    }, MFCC(sr=SR, n_fft=s["n_fft"], hop_length=s["hop"], n_mels=s["n_mels"], n_mfcc=s["n_mfcc"], htk=s["htk"],
            mel_norm=s["norm"], fmin=s["fmin"], fmax=s["fmax"], top_db=s["top_db"], lifter=s["lifter"],
            norm=s["dct_norm"])


# ------------------------------------------------------------------------------------------------
# the chain equals mfcc
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "over",
    [{}, {"htk": True, "norm": None, "lifter": 22.0, "n_mfcc": 13}, {"top_db": None, "dct_norm": None, "fmin": 50.0,
                                                                     "fmax": 8000.0}],
)
def test_chain_equals_mfcc(over):
    spec, mfcc = chain(**over)
    pipe = build_transform(spec)
    assert pipe.output_kind == "features"
    with torch.no_grad():
        a, b = pipe(X), mfcc(X)
        a3, b3 = pipe(X.reshape(1, 3, -1)), mfcc(X.reshape(1, 3, -1))  # channels share a floor in both
    assert a.shape == b.shape
    assert rel(a, b) <= 1e-5
    assert rel(a3, b3) <= 1e-5


def test_bundled_chain_spec_equals_bundled_mfcc_spec():
    assert {"mel", "mfcc", "mfcc_chain"} <= set(bundled_specs())
    chain_pipe = build_transform("mfcc_chain", device="cpu")
    mfcc_pipe = build_transform("mfcc", device="cpu")
    assert [s.name for s in chain_pipe] == ["stft", "mel_scale", "power_to_db", "dct"]
    with torch.no_grad():
        assert rel(chain_pipe(X), mfcc_pipe(X)) <= 1e-5
        mel_pipe = build_transform("mel", device="cpu")
        assert rel(mel_pipe(X), MelSpectrogram()(X)) <= 1e-7


def test_bundled_mfcc_spec_matches_librosa():
    with torch.no_grad():
        ours = build_transform("mfcc", device="cpu")(X).numpy()
    for i, y in enumerate(X.numpy()):
        ref = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20, pad_mode="reflect")
        assert float(np.linalg.norm(ours[i] - ref) / np.linalg.norm(ref)) <= 1e-4


def test_registry_names_and_aliases():
    assert get_transform("melspectrogram") is MelSpectrogram
    assert get_transform("mel") is MelSpectrogram
    for name, cls in (("mfcc", MFCC), ("mel_scale", MelScale), ("power_to_db", PowerToDB),
                      ("amplitude_to_db", AmplitudeToDB), ("dct", DCT)):
        assert get_transform(name) is cls


def test_config_round_trip():
    layer = MFCC(sr=16000, n_fft=512, hop_length=160, n_mels=40, n_mfcc=13, lifter=22.0, mel_norm=None, htk=True)
    rebuilt = build_transform({"mfcc": layer.get_config()}, device="cpu")
    x = torch.randn(2, 8000)
    with torch.no_grad():
        assert torch.equal(rebuilt(x), layer(x))
    pipe = build_transform(chain()[0])
    again = build_transform(pipe.get_config())
    with torch.no_grad():
        assert torch.equal(again(X), pipe(X))


# ------------------------------------------------------------------------------------------------
# the steps one by one
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "power"), [("Power", 2.0), ("Magnitude", 1.0)])
def test_mel_scale_after_stft_equals_mel(fmt, power):
    stft = STFT(n_fft=1024, hop_length=256, output_format=fmt)
    step = MelScale(sr=SR, n_fft=1024, n_mels=48, norm=1)
    assert step.output_kind(stft.output_kind()) == stft.output_kind()
    mel = MelSpectrogram(sr=SR, n_fft=1024, hop_length=256, n_mels=48, power=power)
    with torch.no_grad():
        assert rel(step(stft(X)), mel(X)) <= 1e-6


def test_mel_scale_trainable_gets_gradients():
    step = MelScale(n_fft=256, n_mels=16, trainable=True)
    assert step.trainable_kernels == ("mel_basis",)
    step(torch.rand(2, 129, 5)).sum().backward()
    assert float(step.mel_basis.grad.abs().sum()) > 0


def test_power_to_db_matches_librosa_per_example():
    power = torch.from_numpy(np.abs(librosa.stft(X.numpy(), n_fft=512)) ** 2)  # (3, 257, frames)
    for kwargs in ({}, {"ref": 1e-2, "amin": 1e-6, "top_db": 40.0}, {"top_db": None}, {"ref": "max"}):
        ours = PowerToDB(**kwargs)(power)
        lib = dict(kwargs)
        if lib.get("ref") == "max":
            lib["ref"] = np.max
        for i in range(3):
            ref = librosa.power_to_db(power[i].numpy(), **lib)
            assert float(np.max(np.abs(ours[i].numpy() - ref))) <= 1e-3  # dB, float32
    assert PowerToDB().output_kind("power") == "decibels"


def test_amplitude_to_db_matches_librosa_per_example():
    mag = torch.from_numpy(np.abs(librosa.stft(X.numpy(), n_fft=512)))
    for kwargs in ({}, {"ref": 0.5, "top_db": 50.0}, {"ref": "max"}):
        ours = AmplitudeToDB(**kwargs)(mag)
        lib = dict(kwargs)
        if lib.get("ref") == "max":
            lib["ref"] = np.max
        for i in range(3):
            ref = librosa.amplitude_to_db(mag[i].numpy(), **lib)
            assert float(np.max(np.abs(ours[i].numpy() - ref))) <= 1e-3


def test_top_db_floor_is_per_example():
    loud = torch.full((1, 4, 3), 1.0)
    quiet = torch.full((1, 4, 3), 1e-6)
    quiet[0, 0, 0] = 1e-4
    batch = torch.cat([loud, quiet])  # (2, 4, 3): examples 40 dB apart
    out = PowerToDB(top_db=10.0)(batch)
    # quiet example keeps its own range: peak -40 dB, floor -50 dB (a batch floor would give -10 dB)
    assert float(out[1].max()) == pytest.approx(-40.0, abs=1e-4)
    assert float(out[1].min()) == pytest.approx(-50.0, abs=1e-4)
    assert torch.equal(out[1], PowerToDB(top_db=10.0)(quiet[0]))
    # functional form, and the 4-D case: channels of one example share the floor
    four = torch.stack([batch, batch * 1e-3])  # (2 examples, 2 channels, 4, 3)
    db4 = power_to_db(four, top_db=10.0)
    assert float(db4[0, 1].min()) == pytest.approx(-10.0, abs=1e-4)  # floored against channel 0's 0 dB peak
    assert float(db4[1, 1].min()) == pytest.approx(-40.0, abs=1e-4)  # its own example peak is -30 dB
    from_amplitude = amplitude_to_db(batch.sqrt(), top_db=10.0)
    assert torch.allclose(from_amplitude, power_to_db(batch, top_db=10.0, amin=1e-10), atol=1e-4)


@pytest.mark.parametrize("norm", ["ortho", None])
def test_dct_matches_scipy_and_librosa_lifter(norm):
    db = PowerToDB()(torch.from_numpy(librosa.feature.melspectrogram(y=X.numpy(), sr=SR, n_mels=40)))
    ours = DCT(n_bands=40, n_coefficients=13, norm=norm)(db)
    ref = scipy.fft.dct(db.numpy().astype(np.float64), type=2, norm=norm, axis=-2)[:, :13]
    assert float(np.linalg.norm(ours.numpy() - ref) / np.linalg.norm(ref)) <= 1e-6
    liftered = DCT(n_bands=40, n_coefficients=13, norm=norm, lifter=22.0)(db)
    lib = librosa.feature.mfcc(S=db.numpy(), n_mfcc=13, norm=norm, lifter=22)
    assert float(np.linalg.norm(liftered.numpy() - lib) / np.linalg.norm(lib)) <= 1e-6


# ------------------------------------------------------------------------------------------------
# chains that do not fit, bad parameters, bad input
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("steps", "fragment"),
    [
        ([{"stft": {"output_format": "Magnitude"}}, {"power_to_db": {}}], "power_to_db takes power input"),
        ([{"stft": {"output_format": "Power"}}, {"amplitude_to_db": {}}], "amplitude_to_db takes magnitude input"),
        ([{"stft": {"output_format": "Power"}}, {"dct": {"n_bands": 1025}}], "dct takes decibels input"),
        ([{"stft": {"output_format": "Complex"}}, {"mel_scale": {}}], "mel_scale takes magnitude or power input"),
        ([{"mel_scale": {}}], "produces waveform"),
        ([{"mfcc": {}}, {"power_to_db": {}}], "produces features"),
    ],
)
def test_ill_fitting_chains_are_rejected(steps, fragment):
    with pytest.raises(SpecError, match=fragment):
        build_transform({"pipeline": steps, "device": "cpu"})


def test_mel_then_power_to_db_fits():
    pipe = build_transform({"pipeline": [{"mel": {"n_mels": 32}}, {"power_to_db": {}}], "device": "cpu"})
    assert pipe.output_kind == "decibels"
    with pytest.raises(SpecError, match="power_to_db takes power input"):
        build_transform({"pipeline": [{"mel": {"power": 1.0}}, {"power_to_db": {}}], "device": "cpu"})


@pytest.mark.parametrize(
    ("cls", "kwargs", "parameter", "fragment"),
    [
        (MelScale, {"fmax": 11026.0}, "fmax", "sr / 2 = 11025"),
        (MelScale, {"fmin": 9000.0, "fmax": 8000.0}, "fmin", "fmin < fmax = 8000"),
        (MelScale, {"n_mels": 0}, "n_mels", ">= 1"),
        (MelScale, {"norm": "peak"}, "norm", "'slaney'"),
        (PowerToDB, {"top_db": -3.0}, "top_db", ">= 0"),
        (AmplitudeToDB, {"amin": -1.0}, "amin", "> 0"),
        (PowerToDB, {"ref": "mean"}, "ref", "'max'"),
        (DCT, {"n_bands": 12, "n_coefficients": 13}, "n_coefficients", "n_coefficients <= n_bands = 12"),
        (DCT, {"norm": "backward"}, "norm", "'ortho'"),
        (DCT, {"lifter": -1.0}, "lifter", ">= 0"),
    ],
)
def test_bad_step_parameters(cls, kwargs, parameter, fragment):
    with pytest.raises(ParameterError, match=fragment) as info:
        cls(**kwargs)
    assert info.value.parameter == parameter


def test_bad_spec_parameters_name_the_spec_path():
    with pytest.raises(SpecError, match=r"pipeline\[1\]\.mel_scale\.fmax"):
        build_transform({"pipeline": [{"stft": {"output_format": "Power"}}, {"mel_scale": {"fmax": 20000.0}}]})


def test_wrong_number_of_frequency_rows_is_explained():
    with pytest.raises(ValueError, match=r"has 513 frequency rows.*n_fft=2048"):
        MelScale(n_fft=2048)(torch.rand(513, 4))
    with pytest.raises(ValueError, match=r"has 64 frequency rows.*n_bands=128"):
        DCT(n_bands=128)(torch.rand(2, 64, 4))
    with pytest.raises(ValueError, match="dims"):
        PowerToDB()(torch.rand(5))
