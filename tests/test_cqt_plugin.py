"""The cqt1992 / cqt2019 transforms: arguments, outputs, backends, training and serialisation."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest
import torch
from cqt_reference import reference_cqt, rel_err
from signals import chirp, noise_bursts, notes

from nnaudio_core import ParameterError, build_transform, get_transform
from nnaudio_core.kernels.cqt import cqt_kernels

CQT1992 = get_transform("cqt1992")
CQT2019 = get_transform("cqt2019")
SEED = dict(sr=44100, fmin=55.0, n_bins=168, bins_per_octave=24)


def _x(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


@pytest.fixture(scope="module")
def clip():
    return np.stack([notes(1.0, sr=22050), chirp(1.0, sr=22050)])


def test_names_and_aliases():
    assert get_transform("cqt1992v2") is CQT1992
    assert get_transform("cqt") is CQT2019 and get_transform("cqt2010v2") is CQT2019


@pytest.mark.parametrize("normalization_type", ["librosa", "convolutional", "wrap"])
@pytest.mark.parametrize("make, tol", [
    (lambda **kw: CQT1992(backend="conv", **kw), 1e-5),
    (lambda **kw: CQT1992(backend="fft", **kw), 1e-5),
    (lambda **kw: CQT2019(**kw), 1e-4),
])
def test_complex_output_matches_reference(clip, normalization_type, make, tol):
    cqt = make(output_format="Complex", normalization_type=normalization_type, hop_length=256)
    ref = reference_cqt(clip, sr=22050, hop_length=256, fmin=32.70, n_bins=84, pad_mode="reflect",
                        normalization_type=normalization_type)
    out = cqt(_x(clip))
    assert out.dtype == torch.complex64 and out.shape == (2, 84, 1 + 22050 // 256)
    assert rel_err(out.numpy(), ref) <= tol


@pytest.mark.parametrize("cls", [CQT1992, CQT2019])
def test_output_formats_are_consistent(cls, clip):
    x = _x(clip)
    z = cls(output_format="Complex")(x)
    torch.testing.assert_close(cls(output_format="Magnitude")(x), z.abs(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(cls(output_format="Power")(x), z.abs() ** 2, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(cls(output_format="Phase")(x), z.angle(), rtol=1e-5, atol=1e-5)


def test_wrap_normalisation_reads_a_sinusoid_amplitude():
    cqt = CQT2019(sr=22050, fmin=55.0, n_bins=48, normalization_type="wrap")
    k = 30
    t = np.arange(22050) / 22050
    out = cqt(_x(0.7 * np.cos(2 * np.pi * cqt.frequencies[k] * t)))
    assert np.allclose(out[k, 10:-10].numpy(), 0.7, rtol=1e-3)


def test_nnaudio_lengths_reproduce_nnaudio_cqt1992v2(clip):
    nnaudio = pytest.importorskip("nnAudio.features")
    theirs = nnaudio.CQT1992v2(sr=22050, hop_length=512, fmin=32.70, n_bins=84, verbose=False)
    ours = CQT1992(lengths="nnaudio")
    with torch.no_grad():
        expected = theirs(_x(clip))
    assert rel_err(ours(_x(clip)).numpy(), expected.numpy()) < 1e-5
    assert rel_err(CQT2019(lengths="nnaudio")(_x(clip)).numpy(), expected.numpy()) < 1e-4


def test_backends_agree_and_auto_picks_fft_for_frozen_kernels(clip):
    x = _x(clip)
    for hop in (512, 441, 100):
        conv = CQT1992(hop_length=hop, backend="conv", output_format="Complex")(x)
        fft = CQT1992(hop_length=hop, backend="fft", output_format="Complex")(x)
        assert rel_err(conv.numpy(), fft.numpy()) < 1e-5
    assert CQT1992().backend == "fft" and CQT1992(trainable=True).backend == "conv"
    with pytest.raises(ParameterError, match="backend='fft'.*trainable=True"):
        CQT1992(backend="fft", trainable=True)


@pytest.mark.parametrize("cls", [CQT1992, CQT2019])
def test_fmax_sets_n_bins_like_nnaudio(cls):
    cqt = cls(fmin=32.70, fmax=4000.0, bins_per_octave=12, n_bins=10)  # n_bins is ignored when fmax is given
    assert cqt.n_bins == int(np.ceil(12 * np.log2(4000.0 / 32.70))) == 84
    assert cqt.get_config()["n_bins"] == 84
    assert cqt(torch.randn(4096)).shape[0] == 84


@pytest.mark.parametrize("cls", [CQT1992, CQT2019])
def test_invalid_arguments_name_what_is_allowed(cls):
    with pytest.raises(ParameterError, match=r"n_bins=102 .*11025 Hz.*largest valid n_bins is 101"):
        cls(sr=22050, fmin=32.70, n_bins=102)
    cls(sr=22050, fmin=32.70, n_bins=101)
    with pytest.raises(ParameterError, match="fmax=12000.0 .*sr / 2 = 11025"):
        cls(sr=22050, fmax=12000.0)
    with pytest.raises(ParameterError, match="fmin=20000.0"):
        cls(sr=22050, fmin=20000.0, n_bins=1)
    with pytest.raises(ParameterError, match="filter_scale"):
        cls(filter_scale=0.001)
    with pytest.raises(ParameterError, match="norm=-2 .*p-norm order > 0"):
        cls(norm=-2)
    with pytest.raises(ParameterError, match="normalization_type='slaney'.*'librosa', 'convolutional', 'wrap'"):
        cls(normalization_type="slaney")
    with pytest.raises(ParameterError, match="pad_mode='wrap'"):
        cls(pad_mode="wrap")


@pytest.mark.parametrize("cls", [CQT1992, CQT2019])
def test_uncentred_frames_and_short_input(cls):
    cqt = cls(center=False, output_format="Complex", normalization_type="convolutional", hop_length=300)
    x = chirp(1.2, sr=22050)
    ref = reference_cqt(x, sr=22050, hop_length=300, fmin=32.70, n_bins=84, center=False,
                        normalization_type="convolutional")
    out = cqt(_x(x))
    assert out.shape == ref.shape == (84, cqt.frame_count(len(x)))
    assert rel_err(out.numpy(), ref) < 1e-3
    with pytest.raises(ValueError, match=rf"11025 samples is too short for center=False.*at least {cqt.kernel_width}"):
        cqt(torch.randn(11025))


@pytest.mark.parametrize("cls", [CQT1992, CQT2019])
def test_short_clips_and_layouts(cls):
    cqt = cls(**SEED)
    x = torch.randn(2, 3, 5000)  # far shorter than the 27771-sample longest kernel
    out = cqt(x)
    assert out.shape == (2, 3, 168, 1 + 5000 // 512)
    torch.testing.assert_close(out[1, 2], cqt(x[1, 2]), rtol=1e-4, atol=1e-5)
    assert cqt(torch.randn(1)).shape == (168, 1)


def test_multirate_odd_hop_and_no_early_downsampling():
    x = np.stack([notes(1.0, sr=44100), noise_bursts(1.0, sr=44100)])
    ref = reference_cqt(x, hop_length=441, pad_mode="reflect", **SEED)
    for early in (True, False):
        out = CQT2019(hop_length=441, output_format="Complex", earlydownsample=early, **SEED)(_x(x))
        assert rel_err(out.numpy(), ref) < 1e-4


@pytest.mark.parametrize("make", [
    lambda: CQT1992(trainable=True, output_format="Magnitude", n_bins=36, fmin=110.0, hop_length=256),
    lambda: CQT2019(trainable=True, output_format="Magnitude", n_bins=36, fmin=110.0, hop_length=256),
])
def test_trainable_kernels_learn(make):
    torch.manual_seed(0)
    cqt = make()
    assert cqt.trainable_kernels and all(name.startswith("cqt_kernels") for name in cqt.trainable_kernels)
    assert "lowpass" not in dict(cqt.named_parameters())
    x = torch.randn(4, 8192)
    out = cqt(x)
    out.sum().backward()
    for name in cqt.trainable_kernels:
        grad = cqt.get_parameter(name).grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    # toy task: learn to reproduce a transform with kernels of another filter_scale
    target = type(cqt)(output_format="Magnitude", n_bins=36, fmin=110.0, hop_length=256, filter_scale=0.8)
    with torch.no_grad():
        goal = target(x)
    opt = torch.optim.Adam(cqt.parameters(), lr=1e-4)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(cqt(x), goal)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("cls", [CQT1992, CQT2019])
def test_state_dict_round_trip(cls):
    a = cls(trainable=True, n_bins=24, fmin=220.0)
    with torch.no_grad():
        for name in a.trainable_kernels:
            a.get_parameter(name).mul_(1.5)
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    assert set(a.state_dict()) == set(a.trainable_kernels)
    b = cls(trainable=True, n_bins=24, fmin=220.0)
    b.load_state_dict(torch.load(io.BytesIO(buffer.getvalue())))
    x = torch.randn(2, 6000)
    torch.testing.assert_close(a(x), b(x))
    assert cls().state_dict() == {}  # frozen kernels are rebuilt from the config


@pytest.mark.parametrize("cls", [CQT1992, CQT2019])
def test_config_round_trips_through_a_spec(cls, clip):
    cqt = cls(sr=22050, hop_length=300, fmin=40.0, n_bins=60, bins_per_octave=12, window=("kaiser", 8.0),
              output_format="Power", normalization_type="wrap", lengths="nnaudio", filter_scale=0.9, norm=2)
    config = cqt.get_config()
    rebuilt = build_transform({cls.name: config})[0]
    torch.testing.assert_close(rebuilt(_x(clip)), cqt(_x(clip)))
    assert rebuilt.get_config() == config


@pytest.mark.parametrize("spec", ["cqt1992", "cqt2019_c1"])
def test_bundled_specs(spec, clip):
    pipeline = build_transform(spec, device="cpu")
    out = pipeline(_x(clip))
    ref = reference_cqt(clip, sr=22050, hop_length=512, fmin=32.70, n_bins=84, pad_mode="reflect")
    assert rel_err(out.numpy(), np.abs(ref)) < 1e-4


def test_bundled_seed_spec(clip):
    # the seed configuration at 44.1 kHz (a 22.05 kHz clip read as 44.1 kHz audio)
    out = build_transform("cqt2019", device="cpu")(_x(clip))
    ref = reference_cqt(clip, sr=44100, hop_length=512, fmin=55.0, n_bins=168, bins_per_octave=24,
                        pad_mode="reflect")
    assert rel_err(out.numpy(), np.abs(ref)) < 1e-3


@pytest.mark.parametrize("cls, backend", [(CQT1992, "conv"), (CQT1992, "fft"), (CQT2019, None)])
def test_double_precision(cls, backend, clip):
    kw = {} if backend is None else {"backend": backend}
    cqt = copy.deepcopy(cls(output_format="Complex", **kw)).double()
    out = cqt(torch.from_numpy(clip))
    assert out.dtype == torch.complex128
    ref = reference_cqt(clip, sr=22050, hop_length=512, fmin=32.70, n_bins=84, pad_mode="reflect")
    # conv: exact to float64 rounding; fft: its spectra are computed in single precision; 2019: the filter
    limit = {"conv": 1e-12, "fft": 1e-6, None: 1e-4}[backend]
    assert rel_err(out.numpy(), ref) < limit
    if backend == "conv":
        kern, _, _ = cqt_kernels(sr=22050, fmin=32.70, n_bins=84)
        assert np.array_equal(cqt.cqt_kernels.numpy()[:, 0], np.concatenate([kern.real, -kern.imag]))


@pytest.mark.parametrize("cls", [CQT1992, CQT2019])
def test_forward_mutates_nothing(cls):
    cqt = cls(n_bins=48, fmin=65.0)
    before = {k: copy.copy(v) for k, v in vars(cqt).items() if not k.startswith("_modules")}
    buffers = {k: v.data_ptr() for k, v in cqt.named_buffers()}
    cqt(torch.randn(2, 5000))
    after = vars(cqt)
    for k, v in before.items():
        same = after[k] is v or (np.array_equal(after[k], v) if isinstance(v, np.ndarray) else after[k] == v)
        assert same, k
    assert buffers == {k: v.data_ptr() for k, v in cqt.named_buffers()}
