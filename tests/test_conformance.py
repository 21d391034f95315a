"""Every registered transform and every bundled spec step passes nnaudio_core.testing.check_transform.

A transform registered without an entry in ``TINY`` fails here: a new plugin cannot skip the suite.
"""

from __future__ import annotations

import pytest

from nnaudio_core import ParameterError, available_transforms, build_transform, bundled_specs, get_transform
from nnaudio_core.testing import CheckOptions, check_module, check_transform, plugin_registered

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
}

def _skip(name: str) -> tuple[str, ...]:
    return ()  # every property runs on every transform

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
    options = CheckOptions(input_length=TINY_LENGTH[cls.core_dims], gradcheck=gradcheck)
    check_transform(cls, options=options, skip=_skip(name), **params)


# ------------------------------------------------------------------------------------------------
# bundled specs
# ------------------------------------------------------------------------------------------------
#: Bundled specs are full size (n_fft 2048, 84 CQT bins from 32.7 Hz): short inputs, and no
#: gradcheck (thousands of evaluations of a full-size transform); every other property runs.
SPEC_OPTIONS = {1: CheckOptions(input_length=4096, gradcheck=False), 2: CheckOptions(input_length=6, gradcheck=False)}


def _spec_steps() -> list:
    cases = []
    for spec in bundled_specs():
        for index, step in enumerate(build_transform(spec, device="cpu")):
            cases.append(pytest.param(spec, index, id=f"{spec}[{index}]-{step.name}"))
    return cases


@pytest.mark.parametrize(("spec", "index"), _spec_steps())
def test_bundled_spec_step_conforms(spec, index):
    step = build_transform(spec, device="cpu")[index]
    check_module(step, options=SPEC_OPTIONS[step.core_dims], skip=_skip(step.name))


def test_a_registered_transform_without_tiny_params_fails_the_suite():
    from test_testing_suite import Smooth, _plugin

    with plugin_registered(_plugin(Smooth), "conformance_new_plugin"):
        missing = [case for case in _cases() if case.id == "suite_smooth-MISSING"]
        assert len(missing) == 1
        with pytest.raises(pytest.fail.Exception, match="suite_smooth is registered but has no TINY params"):
            test_registered_transform_conforms(*missing[0].values)
