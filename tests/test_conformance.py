"""Every registered transform and every bundled spec step passes nnaudio_core.testing.check_transform.

A transform registered without an entry in ``TINY`` fails here: a new plugin cannot skip the suite.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from nnaudio_core import ParameterError, available_transforms, build_transform, bundled_specs, get_transform
from nnaudio_core.testing import CheckOptions, check_module, check_transform, plugin_registered

#: (major, minor) of the installed torch
TORCH_VERSION = tuple(int(part) for part in torch.__version__.split(".")[:2])

#: Tiny configurations per registered transform; the first of each list also runs gradcheck
#: unless marked ``gradcheck=False`` (a top_db floor or ref="max" takes a maximum: not smooth).
TINY: dict[str, list[dict]] = {
    "stft": [
        {"n_fft": 64, "hop_length": 16},
        {"n_fft": 32, "win_length": 24, "hop_length": 8, "output_format": "Magnitude", "pad_mode": "constant"},
        {"n_fft": 32, "hop_length": 8, "freq_scale": "log", "fmin": 200.0, "fmax": 3000.0, "sr": 8000.0,
         "output_format": "Power", "center": False},
    ],
    "mel": [{"sr": 8000, "n_fft": 128, "hop_length": 32, "n_mels": 16}],
    "mfcc": [
        {"sr": 8000, "n_fft": 128, "hop_length": 32, "n_mels": 16, "n_mfcc": 8, "top_db": None},
        {"sr": 8000, "n_fft": 64, "hop_length": 32, "n_mels": 12, "n_mfcc": 6, "gradcheck": False},
    ],
    "mel_scale": [{"sr": 8000, "n_fft": 32, "n_mels": 8}],
    "power_to_db": [{"top_db": None}, {"top_db": 40.0, "ref": "max", "gradcheck": False}],
    "amplitude_to_db": [{"top_db": None}, {"top_db": 40.0, "ref": "max", "gradcheck": False}],
    "dct": [{"n_bands": 8, "n_coefficients": 4}, {"n_bands": 6, "n_coefficients": 6, "lifter": 3.0}],
    "cqt1992": [{"sr": 8000, "fmin": 300.0, "n_bins": 12, "bins_per_octave": 6, "hop_length": 32}],
    "cqt2019": [
        {"sr": 8000, "fmin": 300.0, "n_bins": 12, "bins_per_octave": 6, "hop_length": 32},
        {"sr": 8000, "fmin": 250.0, "n_bins": 18, "bins_per_octave": 6, "hop_length": 24, "center": False},
    ],
    "vqt": [
        {"sr": 8000, "fmin": 300.0, "n_bins": 12, "bins_per_octave": 6, "hop_length": 32},
        {"sr": 8000, "fmin": 250.0, "n_bins": 17, "bins_per_octave": 6, "hop_length": 24, "gamma": 20.0,
         "center": False, "lengths": "nnaudio"},
    ],
    "chroma": [
        {"sr": 8000, "n_fft": 64},
        {"source": "cqt", "n_bins": 30, "bins_per_octave": 12, "fmin": 100.0, "norm": 2.0, "threshold": None},
    ],
    "chroma_stft": [{"sr": 8000, "n_fft": 64, "hop_length": 16, "n_chroma": 12}],
    "chroma_cqt": [{"sr": 8000, "fmin": 130.0, "n_octaves": 2, "bins_per_octave": 12, "hop_length": 32}],
    "gammatonegram": [{"sr": 8000, "n_fft": 64, "hop_length": 16, "n_bins": 8}],
    "gammatone_scale": [{"sr": 8000, "n_fft": 32, "n_bins": 6, "fmin": 50.0, "width": 1.5}],
    "cfp": [
        # g[0] = 0.5, not 0.24: x ** 0.24 near silent bins amplifies onnxruntime's DFT rounding to ~1e-4
        {"fs": 8000.0, "fr": 50.0, "window_size": 101, "hop_length": 32, "fc": 200.0, "tc": 1 / 2000, "NumPerOct": 6,
         "g": [0.5, 0.6, 1.0]},
        # n_fft = fs / fr = 128, a power of two: onnxruntime's DFT of other lengths rounds 40-200x worse than
        # torch.fft (5.5e-6 relative at 160, 3.1e-5 at 1000; docs/deployment.md), and x ** 0.3 of near-zero
        # bins amplified that to 8.7e-4 at n_fft 160
        {"fs": 8000.0, "fr": 62.5, "window_size": 160, "hop_length": 40, "fc": 200.0, "tc": 1 / 2000, "NumPerOct": 4,
         "g": [0.3, 0.5, 0.8, 0.5], "output_format": "all", "gradcheck": False},
    ],
    "pcen": [
        {"sr": 8000, "hop_length": 32, "time_constant": 0.02, "n_bands": 6},
        {"sr": 8000, "hop_length": 32, "max_size": 3, "initial_state": "first_frame", "gain": 0.8, "bias": 0.5},
    ],
    "griffin_lim": [
        {"n_fft": 16, "hop_length": 4, "n_iter": 2},
        {"n_fft": 16, "hop_length": 4, "n_iter": 3, "power": 2.0, "init": "zeros", "center": False,
         "pad_mode": "constant", "gradcheck": False},
    ],
    "inverse_mel": [{"sr": 8000, "n_fft": 32, "n_mels": 8, "n_iter": 5}],
    "mfcc_to_mel": [{"n_mfcc": 6, "n_mels": 8}, {"n_mfcc": 4, "n_mels": 6, "norm": None, "lifter": 3.0, "ref": 2.0}],
    "istft": [
        {"n_fft": 16, "hop_length": 4},
        {"n_fft": 16, "win_length": 12, "hop_length": 5, "window": "hamming", "center": False, "freq_bins": 7},
    ],
    "icqt": [
        {"sr": 8000, "fmin": 300.0, "n_bins": 12, "bins_per_octave": 6, "hop_length": 32, "n_iter": 2},
        {"sr": 8000, "fmin": 250.0, "n_bins": 18, "bins_per_octave": 6, "hop_length": 24, "center": False,
         "pad_mode": "constant"},
    ],
    "griffin_lim_cqt": [
        {"sr": 8000, "fmin": 300.0, "n_bins": 12, "bins_per_octave": 6, "hop_length": 32, "n_iter": 2,
         "gradcheck": False},  # the phase of the rebuilt CQT is not smooth at zero
        {"sr": 8000, "fmin": 250.0, "n_bins": 18, "bins_per_octave": 6, "hop_length": 24, "n_iter": 1,
         "init": "zeros", "icqt_iter": 0, "momentum": 0.0, "gradcheck": False},
    ],
}

#: Deployment properties a transform does not have yet (issue 11), each with the reason; the test
#: below checks that they still fail, so a fix shows up as a failure until its entry is removed.
#: Keys: (transform name, backend in use or None for any).
KNOWN_GAPS: dict[tuple[str, str | None], dict[str, str]] = {}
if TORCH_VERSION < (2, 10):  # seen on torch 2.9.1; torch 2.13 exports it
    # torch.onnx's exporter traces with backed_size_oblivious=True, under which transposing the smoother's
    # (N, C, 1) initial state guards the dynamic batch size != 1 (torch.export alone exports it)
    KNOWN_GAPS[("pcen", None)] = {"onnx": "torch < 2.10: ONNX export guards the dynamic batch size != 1"}


#: The slow deployment properties (seconds each). They check the trainable twin of a frozen
#: configuration themselves, and backend "auto" is one of the explicit backends, so in this matrix
#: they run on the frozen explicit-backend variants only (every path is still covered).
HEAVY = ("torch.compile", "torch.export", "onnx")


def _skip(name: str, params: dict | None = None) -> tuple[str, ...]:
    backend = None
    skip: dict[str, str] = {}
    if params is not None:
        transform = get_transform(name)(**params)
        backend = transform.backend if "backend" in transform.config else None
        if params.get("trainable") or params.get("backend") == "auto":
            skip.update(dict.fromkeys(HEAVY, "covered by the frozen explicit-backend variant"))
    skip.update({**KNOWN_GAPS.get((name, None), {}), **KNOWN_GAPS.get((name, backend), {})})
    return tuple(skip)

#: Input length (samples, or frames for spectrogram steps) of the tiny configurations.
TINY_LENGTH = {1: 512, 2: 8}


def _variants(cls: type) -> list[dict]:
    """Each backend the class declares and trainable off/on, where the combination is valid."""
    declared = {p.name: p for p in cls.params}
    backends = list(declared["backend"].choices) if "backend" in declared else [None]
    trainables = [False, True] if "trainable" in declared else [None]
    return [
        {k: v for k, v in (("backend", b), ("trainable", t)) if v is not None} for b in backends for t in trainables
    ]


def _cases() -> list:
    cases = []
    for name in available_transforms():
        if name not in TINY:
            cases.append(pytest.param(name, None, True, id=f"{name}-MISSING"))
            continue
        cls = get_transform(name)
        for index, config in enumerate(TINY[name]):
            params = {k: v for k, v in config.items() if k != "gradcheck"}
            gradcheck = config.get("gradcheck", True)
            for variant in _variants(cls):
                try:
                    cls(**params, **variant)
                except ParameterError:
                    continue  # e.g. backend="fft" with trainable=True, or with a log frequency scale
                label = "-".join(f"{k}={v}" for k, v in variant.items())
                cases.append(pytest.param(name, {**params, **variant}, gradcheck, id=f"{name}[{index}]-{label}"))
    return cases


def test_every_registered_transform_has_tiny_params():
    missing = sorted(set(available_transforms()) - set(TINY))
    assert not missing, f"registered transforms without a TINY entry in {__file__}: {missing}"


@pytest.mark.parametrize(("name", "params", "gradcheck"), _cases())
def test_registered_transform_conforms(name, params, gradcheck):
    if params is None:
        pytest.fail(f"{name} is registered but has no TINY params in test_conformance.py; add a tiny configuration")
    cls = get_transform(name)
    # aot_eager: the same graph capture as inductor without code generation (inductor runs in test_deploy.py)
    options = CheckOptions(input_length=TINY_LENGTH[cls.core_dims], gradcheck=gradcheck, compile_backend="aot_eager")
    check_transform(cls, options=options, skip=_skip(name, params), **params)


# ------------------------------------------------------------------------------------------------
# bundled specs
# ------------------------------------------------------------------------------------------------
#: Bundled specs are full size (n_fft 2048, 84 CQT bins from 32.7 Hz): short inputs, and no
#: gradcheck (thousands of evaluations of a full-size transform); every other property runs.
SPEC_OPTIONS = {
    1: CheckOptions(input_length=4096, gradcheck=False, compile_backend="aot_eager"),
    2: CheckOptions(input_length=6, gradcheck=False, compile_backend="aot_eager"),
}


def _spec_steps() -> list:
    cases = []
    for spec in bundled_specs():
        for index, step in enumerate(build_transform(spec, device="cpu")):
            cases.append(pytest.param(spec, index, id=f"{spec}[{index}]-{step.name}"))
    return cases


#: Full-size iterative solvers amplify the float32 rounding differences between a batched and a single
#: irfft / matmul (1e-7) over their iterations (32 Griffin-Lim steps, 200 projected-gradient steps):
#: their bundled steps are compared at these tolerances (the tiny configurations above keep 1e-5).
ITERATIVE_RTOL = {"griffin_lim": 3e-3, "inverse_mel": 2e-4}
#: Properties a full-size bundled step cannot have, with the reason (the tiny configurations have them).
BUNDLED_GAPS = {
    "griffin_lim": {"half precision": "32 iterations amplify the float16 rounding of the input magnitudes "
                                      "(1e-3) to several percent of the output"},
}


@pytest.mark.parametrize(("spec", "index"), _spec_steps())
def test_bundled_spec_step_conforms(spec, index):
    step = build_transform(spec, device="cpu")[index]
    options = SPEC_OPTIONS[step.core_dims]
    if step.name in ITERATIVE_RTOL:
        options = dataclasses.replace(options, rtol=ITERATIVE_RTOL[step.name])
    # the slow deployment properties of whole bundled specs run in test_deploy.py
    skip = _skip(step.name, step.get_config()) + HEAVY + tuple(BUNDLED_GAPS.get(step.name, {}))
    check_module(step, options=options, skip=skip)


def test_a_registered_transform_without_tiny_params_fails_the_suite():
    from test_testing_suite import Smooth, _plugin

    with plugin_registered(_plugin(Smooth), "conformance_new_plugin"):
        missing = [case for case in _cases() if case.id == "suite_smooth-MISSING"]
        assert len(missing) == 1
        with pytest.raises(pytest.fail.Exception, match="suite_smooth is registered but has no TINY params"):
            test_registered_transform_conforms(*missing[0].values)


@pytest.mark.parametrize(("key", "prop"), [(key, prop) for key, gaps in KNOWN_GAPS.items() for prop in gaps],
                         ids=lambda v: "-".join(str(p) for p in v) if isinstance(v, tuple) else str(v))
def test_known_gaps_still_fail(key, prop):
    """A known gap that starts passing must leave KNOWN_GAPS (so the suite then holds the transform to it)."""
    from nnaudio_core.testing import PROPERTIES

    name, backend = key
    params = {k: v for k, v in TINY[name][0].items() if k != "gradcheck"}
    if backend is not None:
        params["backend"] = backend
    cls = get_transform(name)
    options = CheckOptions(input_length=TINY_LENGTH[cls.core_dims], compile_backend="aot_eager")
    with pytest.raises(AssertionError, match=prop):
        PROPERTIES[prop](cls, params, options)

