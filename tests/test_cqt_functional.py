"""Constant-Q transforms (functional layer) against the float64 reference of the definition.

Targets: cqt1992 (conv and fft paths) within 1e-4 relative L2 of the reference, cqt2019 within
1e-3; any hop length, clips shorter than the longest kernel, partial octaves, batches, centred or
not, every padding mode.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cqt_reference import extend, reference_cqt, rel_err
from signals import chirp, noise_bursts, notes

from nnaudio_core.functional.cqt1992 import cqt1992_conv, cqt1992_fft, cqt1992_fft_plan
from nnaudio_core.functional.cqt2019 import cqt2019, cqt2019_plan
from nnaudio_core.functional.cqt_common import extend_signal
from nnaudio_core.kernels.cqt import cqt_conv_kernels, cqt_kernels

SEED = dict(sr=44100, fmin=55.0, n_bins=168, bins_per_octave=24)
SMALL = dict(sr=22050, fmin=32.70, n_bins=84, bins_per_octave=12)
SIGNALS = {"chirp": chirp, "notes": notes, "noise": noise_bursts}


def _f32(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _complex(out) -> np.ndarray:
    re, im = out
    return re.double().numpy() + 1j * im.double().numpy()


def conv_args(hop, **cfg):
    """``cqt1992_conv``'s arguments after ``x``: float32 rows, no scale, hop and the n = 0 column."""
    rows, center_index, _ = cqt_conv_kernels(**cfg)
    return _f32(rows)[:, None], None, hop, center_index


def run_conv(x, *, hop, center=True, pad_mode="reflect", **cfg):
    return _complex(cqt1992_conv(_f32(x), *conv_args(hop, **cfg), center, pad_mode))


def fft_args(hop, **cfg):
    """``cqt1992_fft``'s arguments after ``x``: the plan's tensors, no scale, the schedule."""
    plan = cqt1992_fft_plan(hop_length=hop, **cfg)
    return (
        [torch.from_numpy(v) for v in plan.fft_kernels],
        [torch.from_numpy(b) for b in plan.fft_bins],
        [_f32(w) for w in plan.conv_kernels],
        None,
        plan.schedule,
    )


def run_fft(x, *, hop, center=True, pad_mode="reflect", **cfg):
    return _complex(cqt1992_fft(_f32(x), *fft_args(hop, **cfg), center, pad_mode))


def multirate_args(hop, **cfg):
    """``cqt2019``'s arguments after ``x``: the plan's float32 tensors, no scale, the schedule."""
    plan = cqt2019_plan(hop_length=hop, **cfg)
    return [_f32(w) for w in plan.kernels], _f32(plan.lowpass), None, plan.schedule


def run_2019(x, *, hop, center=True, pad_mode="reflect", **cfg):
    return _complex(cqt2019(_f32(x), *multirate_args(hop, **cfg), center, pad_mode))


_REFERENCES: dict = {}


def reference(x, *, hop, center=True, pad_mode="reflect", **cfg):
    """The float64 reference (memoised: several tests share inputs)."""
    key = (hash(np.asarray(x).tobytes()), np.shape(x), hop, center, pad_mode, tuple(sorted(cfg.items())))
    if key not in _REFERENCES:
        _REFERENCES[key] = reference_cqt(
            x, hop_length=hop, center=center, pad_mode=pad_mode, normalization_type="convolutional", **cfg
        )
    return _REFERENCES[key]


@pytest.fixture(scope="module")
def seed_cases():
    """Seed configuration, 2 s of each test signal (batch of 3), and the reference at hop 512."""
    x = np.stack([fn(2.0, sr=44100) for fn in SIGNALS.values()])
    return x, reference(x, hop=512, **SEED)


@pytest.mark.parametrize("runner, tol", [(run_conv, 1e-4), (run_fft, 1e-4), (run_2019, 1e-3)])
def test_seed_configuration_matches_reference(seed_cases, runner, tol):
    x, ref = seed_cases
    out = runner(x, hop=512, **SEED)
    for i, name in enumerate(SIGNALS):
        err = rel_err(out[i], ref[i])
        assert err <= tol, f"{runner.__name__} on {name}: {err:.2e}"
    # the measured figures are far below the targets; keep them from drifting up unnoticed
    assert rel_err(out, ref) <= tol / 20


@pytest.mark.parametrize("runner, tol", [(run_conv, 1e-4), (run_fft, 1e-4), (run_2019, 1e-3)])
def test_84_bins_at_22050(runner, tol):
    x = np.stack([fn(1.5, sr=22050) for fn in SIGNALS.values()])
    ref = reference(x, hop=512, **SMALL)
    out = runner(x, hop=512, **SMALL)
    errs = [rel_err(out[i], ref[i]) for i in range(3)]
    assert max(errs) <= tol / 20, errs


@pytest.mark.parametrize("hop", [500, 441, 100, 333])
@pytest.mark.parametrize("runner, tol", [(run_fft, 1e-4), (run_2019, 1e-3)])
def test_any_hop_length(hop, runner, tol):
    x = np.stack([chirp(1.0, sr=44100), noise_bursts(1.0, sr=44100)])
    ref = reference(x, hop=hop, **SEED)
    out = runner(x, hop=hop, **SEED)
    assert out.shape == (2, 168, 1 + 44100 // hop)
    assert rel_err(out, ref) <= tol / 10


def test_conv_path_odd_hop():
    x = notes(1.0, sr=22050)[None]
    ref = reference(x, hop=441, **SMALL)
    assert rel_err(run_conv(x, hop=441, **SMALL), ref) <= 1e-5


@pytest.mark.parametrize("pad_mode", ["reflect", "constant"])
@pytest.mark.parametrize("runner, tol", [(run_conv, 1e-4), (run_fft, 1e-4), (run_2019, 1e-3)])
def test_clip_shorter_than_longest_kernel(pad_mode, runner, tol):
    x = notes(0.25, sr=44100)[None]  # 11025 samples; the longest kernel has 27771
    ref = reference(x, hop=512, pad_mode=pad_mode, **SEED)
    out = runner(x, hop=512, pad_mode=pad_mode, **SEED)
    assert out.shape == ref.shape == (1, 168, 22)
    assert rel_err(out, ref) <= tol / 10


def test_tiny_clips():
    # 1-3 samples: reflect padding makes (nearly) constant signals whose CQT is only the kernels'
    # tiny DC leakage, so compare against the input scale rather than relative to the output
    for n in (1, 2, 3, 600):
        x = np.random.default_rng(n).standard_normal((1, n))
        ref = reference(x, hop=256, **SMALL)
        for runner, tol in [(run_conv, 1e-6), (run_fft, 1e-6), (run_2019, 1e-5)]:
            out = runner(x, hop=256, **SMALL)
            assert out.shape == ref.shape == (1, 84, 1 + n // 256)
            assert np.abs(out - ref).max() <= tol * np.abs(x).max(), (n, runner.__name__)
            if n == 600:
                assert rel_err(out, ref) <= 100 * tol, runner.__name__


@pytest.mark.parametrize("n_bins, bpo", [(100, 24), (7, 24), (50, 12)])
def test_partial_octaves(n_bins, bpo):
    cfg = dict(sr=22050, fmin=40.0, n_bins=n_bins, bins_per_octave=bpo)
    x = chirp(1.0, sr=22050)[None]
    ref = reference(x, hop=256, **cfg)
    assert rel_err(run_fft(x, hop=256, **cfg), ref) <= 1e-5
    assert rel_err(run_2019(x, hop=256, **cfg), ref) <= 1e-4


@pytest.mark.parametrize("pad_mode", ["constant", "reflect", "replicate", "circular"])
def test_padding_modes(pad_mode):
    x = noise_bursts(0.5, sr=22050)[None] + 0.5  # an offset makes the modes differ visibly
    ref = reference(x, hop=512, pad_mode=pad_mode, **SMALL)
    assert rel_err(run_fft(x, hop=512, pad_mode=pad_mode, **SMALL), ref) <= 1e-5
    assert rel_err(run_2019(x, hop=512, pad_mode=pad_mode, **SMALL), ref) <= 1e-4
    assert rel_err(run_conv(x, hop=512, pad_mode=pad_mode, **SMALL), ref) <= 1e-5


def test_uncentred_frames():
    x = chirp(2.0, sr=22050)[None]
    ref = reference(x, hop=300, center=False, **SMALL)
    width = cqt_kernels(**SMALL).kernels.shape[1]
    assert ref.shape[-1] == 1 + (len(x[0]) - width) // 300
    assert rel_err(run_conv(x, hop=300, center=False, **SMALL), ref) <= 1e-5
    assert rel_err(run_fft(x, hop=300, center=False, **SMALL), ref) <= 1e-5
    # the multirate filters need context outside the clip (taken from pad_mode): edge frames only
    assert rel_err(run_2019(x, hop=300, center=False, **SMALL), ref) <= 1e-3


def test_batch_rows_are_independent():
    x = np.stack([chirp(1.0, sr=22050), 10 * noise_bursts(1.0, sr=22050), np.zeros(22050)])
    args = multirate_args(512, **SMALL)
    batch = _complex(cqt2019(_f32(x), *args))
    for i in range(3):
        single = _complex(cqt2019(_f32(x[i : i + 1]), *args))
        np.testing.assert_allclose(batch[i], single[0], atol=1e-6 * max(1, np.abs(single).max()))
    assert np.all(batch[2] == 0)
    fargs = fft_args(512, **SMALL)
    fb = _complex(cqt1992_fft(_f32(x), *fargs))
    for i in range(2):
        single = _complex(cqt1992_fft(_f32(x[i : i + 1]), *fargs))[0]
        np.testing.assert_allclose(fb[i], single, atol=1e-6 * np.abs(fb[i]).max())


def test_scale_multiplies_each_bin():
    x = chirp(0.5, sr=22050)[None]
    kernels, lowpass, _, schedule = multirate_args(512, **SMALL)
    scale = torch.arange(1.0, 85.0)
    plain = _complex(cqt2019(_f32(x), kernels, lowpass, None, schedule))
    scaled = _complex(cqt2019(_f32(x), kernels, lowpass, scale, schedule, True, "reflect"))
    np.testing.assert_allclose(scaled, plain * np.arange(1.0, 85.0)[:, None], rtol=1e-6, atol=1e-9)


def test_float64_input_is_computed_in_float64():
    x = chirp(1.0, sr=22050)[None]
    ref = reference(x, hop=512, **SMALL)
    rows, c, _ = cqt_conv_kernels(**SMALL)
    out = _complex(cqt1992_conv(torch.from_numpy(x), torch.from_numpy(rows)[:, None], None, 512, c))
    assert rel_err(out, ref) < 1e-12


@pytest.mark.parametrize("left, right", [(5, 7), (0, 40), (100, 3), (250, 260), (0, -3)])
@pytest.mark.parametrize("pad_mode", ["constant", "reflect", "replicate", "circular"])
def test_extend_signal_matches_reference_extension(left, right, pad_mode):
    x = np.random.default_rng(3).standard_normal(37)
    out = extend_signal(torch.from_numpy(x)[None], left, right, pad_mode)[0].numpy()
    expected = extend(x, np.arange(-left, len(x) + right), pad_mode)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
@pytest.mark.parametrize("center, pad_mode", [(True, "reflect"), (False, "constant")])
def test_functions_script(center, pad_mode):
    """Every functional CQT scripts, schedule NamedTuple and all, and computes exactly what eager does."""
    x = _f32(chirp(1.0, sr=22050)[None])  # longer than the longest kernel (11687 samples): uncentred frames exist
    scale = torch.linspace(1.0, 2.0, 84)
    for fn, args in [(cqt2019, multirate_args(441, **SMALL)), (cqt1992_fft, fft_args(441, **SMALL)),
                     (cqt1992_conv, conv_args(441, **SMALL))]:
        scripted = torch.jit.script(fn)
        np.testing.assert_array_equal(_complex(scripted(x, *args)), _complex(fn(x, *args)))
        scaled = list(args)
        scaled[scaled.index(None)] = scale
        np.testing.assert_array_equal(_complex(scripted(x, *scaled, center, pad_mode)),
                                      _complex(fn(x, *scaled, center, pad_mode)))


@pytest.mark.parametrize("config", ["seed", "84 bins"])
def test_matches_librosa_cqt(config):
    """cqt2019 vs librosa.cqt (scale=True, librosa's lengths, constant padding, tuning 0).

    Measured: seed configuration (24 bins per octave) 0.7-1.1%, within the 2e-2 target; 84 bins at
    12 per octave 1.7-2.3% (noise bursts 2.3%). The gap is librosa's, not ours: the float64
    definition itself is as far from librosa (checked below to 1e-3). librosa multiplies the frame
    spectrum by the kernel spectrum without conjugating it (correlating with the time-reversed
    kernel: the window mirrored about n = 0; with librosa's fractional lengths the window's peak sits
    at n = -1, mirrored at n = +1), resamples between octaves and drops the smallest 1% of each kernel's spectrum;
    with 12 bins per octave the kernels are half as long and all three matter more. See docs/cqt.md.
    """
    librosa = pytest.importorskip("librosa")
    from nnaudio_core.kernels.cqt import cqt_frequencies, cqt_lengths

    cfg = SEED if config == "seed" else SMALL
    bound = 2e-2 if config == "seed" else 2.5e-2
    sr, n_bins, bpo = cfg["sr"], cfg["n_bins"], cfg["bins_per_octave"]
    lengths = cqt_lengths(cqt_frequencies(n_bins=n_bins, fmin=cfg["fmin"], bins_per_octave=bpo), sr=sr,
                          bins_per_octave=bpo)
    kernels, lowpass, _, schedule = multirate_args(512, **cfg)
    for name, fn in SIGNALS.items():
        x = fn(2.0, sr=sr)
        ours = _complex(cqt2019(_f32(x[None]), kernels, lowpass, _f32(np.sqrt(lengths)), schedule, True, "constant"))[0]
        theirs = librosa.cqt(x, sr=sr, hop_length=512, fmin=cfg["fmin"], n_bins=n_bins, bins_per_octave=bpo,
                             pad_mode="constant", tuning=0.0, scale=True)
        definition = reference(x, hop=512, pad_mode="constant", **cfg) * np.sqrt(lengths)[:, None]
        ours_vs_librosa, definition_vs_librosa = rel_err(ours, theirs), rel_err(definition, theirs)
        assert ours_vs_librosa <= bound, (name, ours_vs_librosa)
        assert abs(ours_vs_librosa - definition_vs_librosa) <= 1e-3, (name, ours_vs_librosa, definition_vs_librosa)
