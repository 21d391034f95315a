"""The ``mel`` and ``mfcc`` transforms: accuracy against librosa, per-example top_db, training, bad input."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch
from nnaudio_plugins.mel import MFCC, MelSpectrogram
from nnaudio_plugins.stft import STFT
from signals import chirp, noise_bursts, notes, rel_err

from nnaudio_core.errors import ParameterError

librosa = pytest.importorskip("librosa")

SR = 22050


SECONDS = 1.5
SIGNALS = {
    "chirp": (0.5 * chirp(SECONDS, SR)).astype(np.float32),
    "notes": (0.3 * notes(SECONDS, SR)).astype(np.float32),
    "noise": (0.1 * noise_bursts(SECONDS, SR)).astype(np.float32),
}
BATCH = np.stack(list(SIGNALS.values()))  # (3, time)


def _librosa_kwargs(kw: dict, norm_key: str) -> dict:
    """Our keyword arguments → librosa's (norm=1 means Slaney here)."""
    out = {"n_fft": 2048, "hop_length": 512, "pad_mode": "reflect"} | kw
    out.pop("backend", None)
    if out.get(norm_key, 1) == 1:
        out[norm_key] = "slaney"
    elif out[norm_key] == "l1":
        out[norm_key] = 1  # librosa's norm=1 is the L1 norm
    return out


MEL_CONFIGS = [
    {},
    {"htk": True, "norm": None},
    {"n_mels": 40, "norm": "l1"},
    {"n_fft": 1024, "hop_length": 256, "n_mels": 64, "fmin": 30.0, "fmax": 8000.0, "norm": 2},
    {"power": 1.0, "pad_mode": "constant"},
    {"power": 1.5, "center": False, "win_length": 1536, "window": "hamming"},
]


@pytest.mark.parametrize("backend", ["fft", "conv"])
@pytest.mark.parametrize("config", MEL_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_mel_matches_librosa(config, backend):
    layer = MelSpectrogram(sr=SR, backend=backend, **config)
    assert layer.backend == backend
    with torch.no_grad():
        ours = layer(torch.from_numpy(BATCH)).numpy()
    lkw = _librosa_kwargs(config, "norm")
    for i, y in enumerate(BATCH):
        ref = librosa.feature.melspectrogram(y=y, sr=SR, **lkw)
        assert ours[i].shape == ref.shape
        assert rel_err(ours[i], ref) <= 1e-5, (i, rel_err(ours[i], ref))


MFCC_CONFIGS = [
    {},
    {"n_mfcc": 13, "n_mels": 40, "lifter": 22.0, "htk": True, "mel_norm": None},
    # no top_db floor: amin=1e-7 keeps the comparison above the float32 rounding noise of both STFTs
    {"norm": None, "top_db": None, "amin": 1e-7, "n_fft": 1024, "hop_length": 256, "fmin": 20.0, "fmax": 8000.0},
    {"ref": 1e-3, "amin": 1e-8, "top_db": 60.0, "pad_mode": "constant"},
]


@pytest.mark.parametrize("backend", ["fft", "conv"])
@pytest.mark.parametrize("config", MFCC_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_mfcc_matches_librosa(config, backend):
    layer = MFCC(sr=SR, backend=backend, **config)
    with torch.no_grad():
        ours = layer(torch.from_numpy(BATCH)).numpy()
    lkw = _librosa_kwargs(config, "mel_norm")
    db = {k: lkw.pop(k) for k in ("ref", "amin", "top_db") if k in lkw}
    for i, y in enumerate(BATCH):
        if db:  # librosa.feature.mfcc does not forward power_to_db's arguments: go through S=
            mel_kw = {k: v for k, v in lkw.items() if k not in ("n_mfcc", "norm", "lifter", "mel_norm")}
            mel = librosa.feature.melspectrogram(y=y, sr=SR, norm=lkw["mel_norm"], **mel_kw)
            ref = librosa.feature.mfcc(S=librosa.power_to_db(mel, **db), n_mfcc=lkw.get("n_mfcc", 20),
                                       norm=lkw.get("norm", "ortho"), lifter=lkw.get("lifter", 0))
        else:
            ref = librosa.feature.mfcc(y=y, sr=SR, **lkw)
        assert ours[i].shape == ref.shape
        assert rel_err(ours[i], ref) <= 1e-4, (i, rel_err(ours[i], ref))


def test_mfcc_ref_max_matches_librosa_np_max():
    layer = MFCC(sr=SR, ref="max", n_mels=64)
    with torch.no_grad():
        ours = layer(torch.from_numpy(BATCH)).numpy()
    for i, y in enumerate(BATCH):
        mel = librosa.feature.melspectrogram(y=y, sr=SR, n_mels=64, pad_mode="reflect")
        ref = librosa.feature.mfcc(S=librosa.power_to_db(mel, ref=np.max))
        assert rel_err(ours[i], ref) <= 1e-4


def test_top_db_is_per_example_not_per_batch():
    """torchaudio #994: a loud clip must not move the floor of a quiet clip in the same batch."""
    loud = SIGNALS["notes"]
    quiet = SIGNALS["chirp"] * 1e-4  # 80 dB lower: a batch-wide floor would flatten it completely
    layer = MFCC(sr=SR, top_db=80.0)
    with torch.no_grad():
        together = layer(torch.from_numpy(np.stack([loud, quiet])))
        alone = [layer(torch.from_numpy(s)) for s in (loud, quiet)]
    for i in range(2):
        assert torch.allclose(together[i], alone[i], rtol=1e-6, atol=1e-5)
    # and the quiet clip is not clipped flat: its coefficients still vary over time
    assert float(together[1][1:].std()) > 1.0
    # the batch-wide convention would have differed (so this test can fail)
    mel = layer.mel(torch.from_numpy(np.stack([loud, quiet])))
    db = 10 * torch.log10(mel.clamp(min=1e-10))
    batch_floor = torch.maximum(db, db.max() - 80.0)
    assert not torch.allclose(torch.matmul(layer.dct_basis, batch_floor)[1], together[1], atol=1e-2)


def test_channels_of_one_example_share_the_top_db_floor_like_librosa():
    stereo = np.stack([SIGNALS["notes"], SIGNALS["chirp"] * 1e-3])  # (channels, time)
    layer = MFCC(sr=SR, top_db=60.0)
    with torch.no_grad():
        ours = layer(torch.from_numpy(stereo)[None])[0]  # (1, 2, time) → (2, n_mfcc, frames)
    ref = librosa.power_to_db(librosa.feature.melspectrogram(y=stereo, sr=SR, pad_mode="reflect"), top_db=60.0)
    ref = librosa.feature.mfcc(S=ref)
    assert rel_err(ours.numpy(), ref) <= 1e-4


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((4000,), (40, 8)), ((3, 4000), (3, 40, 8)), ((2, 3, 4000), (2, 3, 40, 8))],
)
def test_shapes(shape, expected):
    mel = MelSpectrogram(sr=16000, n_fft=512, hop_length=512, n_mels=40)
    assert mel(torch.randn(shape)).shape == expected
    mfcc = MFCC(sr=16000, n_fft=512, hop_length=512, n_mels=40, n_mfcc=13)
    assert mfcc(torch.randn(shape)).shape == expected[:-2] + (13, 8)


def test_output_kinds_and_children():
    assert MelSpectrogram().output_kind() == "power"
    assert MelSpectrogram(power=1.0).output_kind() == "magnitude"
    assert MelSpectrogram(power=1.5).output_kind() == "features"
    assert MFCC().output_kind() == "features"
    mel = MelSpectrogram(power=2.0)
    # |X|^2 formed without a square root, and the conv path stays real-valued (no complex tensor)
    assert isinstance(mel.stft, STFT) and mel.stft.output_format == "Power"
    assert MelSpectrogram(power=1.0).stft.output_format == "Magnitude"
    assert mel.mel_basis.shape == (128, 1025)


def test_double_precision_rebuilds_kernels():
    mel = MelSpectrogram(sr=SR, n_fft=512, hop_length=128, n_mels=40).double()
    y = BATCH[2].astype(np.float64)
    ours = mel(torch.from_numpy(y)).numpy()
    spec = np.abs(librosa.stft(y, n_fft=512, hop_length=128, pad_mode="reflect")) ** 2
    basis = librosa.filters.mel(sr=SR, n_fft=512, n_mels=40, dtype=np.float64)
    assert rel_err(ours, basis @ spec) <= 1e-12


# ------------------------------------------------------------------------------------------------
# training
# ------------------------------------------------------------------------------------------------
def test_trainable_kernels_are_parameters_and_get_gradients():
    layer = MFCC(sr=16000, n_fft=256, hop_length=128, n_mels=24, n_mfcc=12, trainable=True)
    assert layer.mel.mel_scale.trainable_kernels == ("mel_basis",)
    assert layer.mel.stft.trainable_kernels == ("fourier",)
    assert layer.dct.trainable_kernels == ("dct_basis",)
    assert layer.mel.stft.backend == "conv" and layer.backend == "conv" and not layer.frozen
    assert {n for n, _ in layer.named_parameters()} == {"mel.mel_scale.mel_basis", "mel.stft.fourier",
                                                          "dct.dct_basis"}
    layer(torch.randn(2, 4000)).square().mean().backward()
    assert float(layer.mel.mel_basis.grad.abs().sum()) > 0
    assert float(layer.mel.stft.fourier.grad.abs().sum()) > 0
    # a trainable filterbank is applied whole: weights outside the triangles learn too
    outside = layer.mel.mel_basis.detach() == 0
    assert layer.mel.mel_scale.blocks is None and bool((layer.mel.mel_basis.grad[outside] != 0).any())
    frozen = MelSpectrogram()
    assert frozen.frozen and list(frozen.parameters()) == []
    assert frozen.backend == "fft" and len(frozen.mel_scale.blocks) > 1
    parts = MFCC(trainable_filters=True)
    assert {n for n, _ in parts.named_parameters()} == {"mel.mel_scale.mel_basis"} and parts.backend == "fft"
    assert {n for n, _ in MelSpectrogram(trainable=True, trainable_stft=False).named_parameters()} == {
        "mel_scale.mel_basis"}


def test_trainable_mel_with_frozen_fft_stft():
    layer = MelSpectrogram(sr=16000, n_fft=256, hop_length=128, n_mels=24, trainable_filters=True)
    assert layer.backend == "fft" and layer.mel_scale.trainable_kernels == ("mel_basis",)
    layer(torch.randn(4000)).sum().backward()
    assert float(layer.mel_basis.grad.abs().sum()) > 0


def test_toy_training_lowers_the_loss():
    """Learn an HTK, unnormalised filterbank behind a Hamming STFT, starting from Slaney + Hann."""
    torch.manual_seed(0)
    args = dict(sr=16000, n_fft=128, hop_length=64, n_mels=16)
    target_layer = MelSpectrogram(htk=True, norm=None, window="hamming", **args)
    model = MelSpectrogram(trainable=True, **args)
    x = torch.randn(2, 1000)
    with torch.no_grad():
        target = torch.log1p(target_layer(x))
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(10):
        optimiser.zero_grad()
        loss = torch.nn.functional.mse_loss(torch.log1p(model(x)), target)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], (losses[0], losses[-1])
    for name, param in model.named_parameters():  # both kernels moved
        assert float((param.detach() - start[name]).abs().max()) > 1e-3, name


# ------------------------------------------------------------------------------------------------
# bad input: ParameterError at construction, before any kernel is built
# ------------------------------------------------------------------------------------------------
BAD = [
    (dict(fmax=12000.0), "fmax", "fmax <= sr / 2 = 11025"),
    (dict(fmin=8000.0, fmax=8000.0), "fmin", "fmin < fmax = 8000"),
    (dict(fmin=11025.0), "fmin", "fmin < fmax = 11025"),
    (dict(n_mels=0), "n_mels", "integer >= 1"),
    (dict(power=0.0), "power", "number > 0"),
    (dict(power=-2.0), "power", "number > 0"),
    (dict(norm="area"), "norm", "'slaney'"),
    (dict(backend="fft", trainable_stft=True), "backend", "trainable_stft=True"),
    (dict(backend="fft", trainable=True), "backend", "trainable=True"),
]
BAD_MFCC = [
    (dict(n_mfcc=41, n_mels=40), "n_mfcc", "n_mfcc <= n_mels = 40"),
    (dict(top_db=-1.0), "top_db", "number >= 0"),
    (dict(amin=0.0), "amin", "number > 0"),
    (dict(ref=0.0), "ref", "number > 0"),
    (dict(dct_type=3), "dct_type", "type-II"),
    (dict(lifter=-1.0), "lifter", "number >= 0"),
]


@pytest.fixture
def no_kernels(monkeypatch):
    """Make any kernel construction fail loudly, to prove errors come first."""

    def boom(*args, **kwargs):
        raise AssertionError("a kernel was built before the parameter check")

    monkeypatch.setattr("nnaudio_plugins.spectral.mel_filterbank", boom)
    monkeypatch.setattr(STFT, "build_kernels", boom)
    monkeypatch.setattr(MFCC, "build_kernels", boom)


@pytest.mark.parametrize(("kwargs", "parameter", "fragment"), BAD)
@pytest.mark.parametrize("cls", [MelSpectrogram, MFCC])
def test_bad_parameters_raise_before_kernels(no_kernels, cls, kwargs, parameter, fragment):
    if cls is MFCC and "norm" in kwargs:
        kwargs = {"mel_norm": kwargs["norm"]}
        parameter = "mel_norm"
    with pytest.raises(ParameterError, match=fragment) as info:
        cls(**kwargs)
    assert info.value.parameter == parameter
    assert isinstance(info.value, ValueError)
    assert f"{parameter}=" in str(info.value)


@pytest.mark.parametrize(("kwargs", "parameter", "fragment"), BAD_MFCC)
def test_bad_mfcc_parameters_raise_before_kernels(no_kernels, kwargs, parameter, fragment):
    with pytest.raises(ParameterError, match=fragment) as info:
        MFCC(**kwargs)
    assert info.value.parameter == parameter


def test_too_short_input_names_the_problem():
    with pytest.raises(ValueError, match="too short"):
        MelSpectrogram(n_fft=2048)(torch.randn(100))
    with pytest.raises(ValueError, match="differs from the transform"):
        MFCC()(torch.randn(4096, dtype=torch.float64))


# ------------------------------------------------------------------------------------------------
# nnAudio 0.3.4 compatibility facts (documented in nnaudio_plugins.mel)
# ------------------------------------------------------------------------------------------------
def test_nnaudio_argument_names_all_exist_here():
    features = pytest.importorskip("nnAudio.features.mel")
    ours_mel = {p.name for p in MelSpectrogram.params}
    # nnAudio's per-part switches are named trainable_stft / trainable_filters here (the facade
    # nnaudio_core.Spectrogram keeps nnAudio's names)
    renamed = {"trainable_mel", "trainable_STFT"}
    theirs_mel = set(inspect.signature(features.MelSpectrogram).parameters) - {"verbose", "kwargs"} - renamed
    assert theirs_mel <= ours_mel and {"trainable_stft", "trainable_filters"} <= ours_mel
    defaults = {p.name: p.default for p in MelSpectrogram.params}
    for name, param in inspect.signature(features.MelSpectrogram).parameters.items():
        if name in theirs_mel:
            assert defaults[name] == param.default, name
    theirs_mfcc = set(inspect.signature(features.MFCC).parameters) - {"verbose", "kwargs"}
    assert theirs_mfcc <= {p.name for p in MFCC.params}


def test_nnaudio_mfcc_ignores_norm_and_matches_ours():
    features = pytest.importorskip("nnAudio.features.mel")
    args = dict(sr=SR, n_fft=512, hop_length=256, n_mels=40, n_mfcc=13)
    x = torch.from_numpy(BATCH[:2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ortho = features.MFCC(verbose=False, **args)(x)
        none = features.MFCC(verbose=False, norm=None, **args)(x)
    assert torch.equal(ortho, none)  # nnAudio always applies the orthonormal DCT
    with torch.no_grad():
        ours = MFCC(norm="ortho", mel_norm=1, **args)(x)
    assert rel_err(ours.numpy(), ortho.numpy()) <= 1e-5


# ------------------------------------------------------------------------------------------------
# the KernelTransform contract for composed transforms
# ------------------------------------------------------------------------------------------------
def test_frozen_kernels_are_not_saved_and_trainable_ones_are():
    assert MFCC().state_dict() == {}
    trained = MFCC(n_fft=256, hop_length=64, n_mels=24, n_mfcc=12, trainable=True)
    assert set(trained.state_dict()) == {"mel.mel_scale.mel_basis", "mel.stft.fourier", "dct.dct_basis"}
    with torch.no_grad():
        trained.mel.mel_basis.mul_(1.5)
    fresh = MFCC(n_fft=256, hop_length=64, n_mels=24, n_mfcc=12, trainable=True)
    fresh.load_state_dict(trained.state_dict())
    x = torch.randn(2, 2000)
    assert torch.equal(fresh(x), trained(x))


def test_pickle_deepcopy_and_double_rebuild_every_kernel_exactly():
    import copy
    import pickle

    from nnaudio_core.kernels import dct_matrix, mel_filterbank

    layer = MFCC(sr=16000, n_fft=512, hop_length=128, n_mels=40, n_mfcc=13)
    x = torch.randn(2, 4000)
    for clone in (pickle.loads(pickle.dumps(layer)), copy.deepcopy(layer)):
        assert torch.equal(clone(x), layer(x))
    double = copy.deepcopy(layer).double()
    assert double.dct_basis.dtype == double.mel.mel_basis.dtype == torch.float64
    exact_mel = mel_filterbank(sr=16000, n_fft=512, n_mels=40)
    assert np.array_equal(double.mel.mel_basis.numpy(), exact_mel)
    assert np.array_equal(double.dct_basis.numpy(), dct_matrix(40, 13))
    assert double(x.double()).dtype == torch.float64
    assert rel_err(double(x.double()).numpy(), layer(x).numpy()) <= 1e-5


def test_repr_signature_and_config():
    assert repr(MelSpectrogram(n_mels=64)).startswith("MelSpectrogram(\n  n_mels=64, backend in use='fft'")
    params = inspect.signature(MFCC).parameters
    assert list(params)[:6] == ["sr", "n_mfcc", "norm", "ref", "amin", "top_db"]
    assert params["mel_norm"].default == 1 and params["lifter"].default == 0.0
    config = MFCC(fmax=8000.0, mel_norm="l1").get_config()
    assert config["fmax"] == 8000.0 and config["mel_norm"] == "l1" and config["win_length"] is None
