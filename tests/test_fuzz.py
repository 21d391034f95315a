"""Fuzzing in the suite (issue 10): hypothesis over every registered transform's parameters, inputs and specs.

Each generated case either raises a ``ValueError``/``TypeError`` naming the parameter (or starting
with the spec path), or gives a finite output of the documented shape; no other exception, nothing
slower than the time limit, no allocation beyond the memory limit (``nnaudio_core.testing.limits``).

Profiles (docs/fuzzing.md): the default (CI) profile is bounded and derandomized (the same cases
every run, no example database); ``NNAUDIO_FUZZ=long`` runs thousands of random cases per property
and keeps failures in ``.hypothesis/`` to replay them.

Known findings are tracked twice: as ``KNOWN`` patterns, so that the properties keep running over
everything else while a fix is pending, and as explicit ``xfail(strict=True)`` regression examples
below, which turn red when the fix lands (then delete the example's ``xfail`` and its ``KNOWN`` entry).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from test_conformance import TINY as CONFORMANCE_TINY

from nnaudio_core import available_transforms, get_transform
from nnaudio_core.kinds import COMPLEX
from nnaudio_core.testing import (
    CheckOptions,
    FuzzCase,
    check_fuzz_inputs,
    check_parameters,
    check_spec,
    fuzz_input_cases,
    fuzz_parameters,
    parameter_cases,
    run_input_case,
    spec_structures,
)

LONG = os.environ.get("NNAUDIO_FUZZ", "").lower() == "long"
#: Examples per property and transform: bounded in CI, thousands with NNAUDIO_FUZZ=long.
EXAMPLES = int(os.environ.get("NNAUDIO_FUZZ_EXAMPLES", 2000 if LONG else 25))
SPEC_EXAMPLES = int(os.environ.get("NNAUDIO_FUZZ_EXAMPLES", 4000 if LONG else 60))
#: Per-case limits: wall time (s) and new address space (bytes) for construction and forward.
SECONDS = 20.0 if LONG else 10.0
#: Transforms allowed longer per case. griffin_lim_cqt at its defaults (84 bins from 32.7 Hz, 32
#: iterations, each a CQT and a refined inverse CQT) checks a forward, then a forward and backward
#: through all 32 iterations: 6-8 s here alone, over 40 s beside another test process.
SLOWER = {"griffin_lim_cqt": 60.0}
MEMORY = 2 * 2**30

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the per-case time limit is testing.limits (a hard alarm, not hypothesis' soft deadline)
    derandomize=not LONG,
    database=DirectoryBasedExampleDatabase(".hypothesis/examples") if LONG else None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    print_blob=True,
)

#: Tiny valid configurations: tests/test_conformance.py's first TINY entries, with these overrides.
TINY: dict[str, dict[str, Any]] = {
    **{name: {k: v for k, v in configs[0].items() if k != "gradcheck"} for name, configs in CONFORMANCE_TINY.items()},
    "stft": {"n_fft": 64, "hop_length": 16},
    "mel": {"sr": 8000, "n_fft": 128, "hop_length": 32, "n_mels": 16},
    "mfcc": {"sr": 8000, "n_fft": 128, "hop_length": 32, "n_mels": 16, "n_mfcc": 8, "top_db": None},
    "mel_scale": {"sr": 8000, "n_fft": 32, "n_mels": 8},
    "power_to_db": {"top_db": None},
    "amplitude_to_db": {"top_db": 40.0, "ref": "max"},
    "dct": {"n_bands": 8, "n_coefficients": 4},
    "cqt1992": {"sr": 8000, "fmin": 300.0, "n_bins": 12, "bins_per_octave": 6, "hop_length": 32},
    "cqt2019": {"sr": 8000, "fmin": 300.0, "n_bins": 12, "bins_per_octave": 6, "hop_length": 32},
}
OPTIONS = {1: CheckOptions(input_length=512), 2: CheckOptions(input_length=8)}
NAMES = available_transforms()

# ------------------------------------------------------------------------------------------------
# known findings (issue 10): (transform regex, message regex, what); each has a regression below
# ------------------------------------------------------------------------------------------------
KNOWN: list[tuple[str, str, str]] = []


#: NNAUDIO_FUZZ_COUNTS=<file>: append "test\tcases\tknown findings" per property run (the report's table).
_COUNTS: dict[str, list[int]] = {}


def _count(key: str, known: bool = False) -> None:
    counts = _COUNTS.setdefault(key, [0, 0])
    counts[0] += 1
    counts[1] += known


def _write_counts(key: str) -> None:
    path = os.environ.get("NNAUDIO_FUZZ_COUNTS")
    cases, known = _COUNTS.pop(key, [0, 0])
    if path:
        with open(path, "a") as out:
            out.write(f"{key}\t{cases}\t{known}\n")


def _known(transform: str, message: str) -> str | None:
    for name, pattern, what in KNOWN:
        if re.fullmatch(name, transform) and re.search(pattern, message, flags=re.S):
            return what
    return None


def _run(transform: str, check: Any, *args: Any, key: str = "", **kwargs: Any) -> Any:
    """Run ``check``; a failure matching a KNOWN finding is recorded (hypothesis event) and skipped."""
    try:
        result = check(*args, **kwargs)
        _count(key)
        return result
    except AssertionError as exc:
        what = _known(transform, str(exc))
        _count(key, known=what is not None)
        if what is None:
            raise
        event(f"known finding: {what}")
        note(str(exc)[:500])
        assume(False)


def _crashes(name: str, params: dict[str, Any]) -> str | None:
    """Cases that kill the interpreter today (cannot run in-process): their regression runs in a subprocess."""
    if name == "cqt2019" and isinstance(params.get("hop_length"), (int, np.integer)) and params["hop_length"] >= 2**31:
        return "cqt2019 hop_length >= 2**31: segmentation fault in backward"
    return None


def _xfail(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"issue 10: {reason}")


# ------------------------------------------------------------------------------------------------
# parameters (construction)
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["valid", "invalid", "extreme"])
@pytest.mark.parametrize("name", NAMES)
def test_fuzz_parameters(name, mode):
    cls = get_transform(name)

    @FUZZ
    @given(parameter_cases(cls, mode=mode))
    def run(case):
        crash = _crashes(name, case.params)
        if crash:
            _count(f"parameters {name} {mode}", known=True)
            event(f"known finding (skipped, kills the process): {crash}")
            assume(False)
        _run(name, check_parameters, cls, case, input_length=1024, seconds=SLOWER.get(name, SECONDS), memory=MEMORY,
             key=f"parameters {name} {mode}")

    run()
    _write_counts(f"parameters {name} {mode}")


def test_fuzz_parameters_is_a_plain_function_too():
    assert fuzz_parameters(get_transform("dct"), examples=5, mode="invalid") == 5


PARAMETER_FINDINGS = [
    # (transform, params, what it raises or gives today)
    ("cqt1992", {"n_bins": 2**64}, "OverflowError"),
    ("cqt1992", {"sr": 1e308}, "ValueError: Maximum allowed dimension exceeded (names no parameter)"),
    ("cqt1992", {"fmin": 5e-324}, "OverflowError: cannot convert float infinity to integer"),
    ("cqt1992", {"bins_per_octave": 2**32 + 1}, "MemoryError (2.49 PiB)"),
    ("cqt1992", {"bins_per_octave": 2**62}, "OverflowError"),
    ("cqt1992", {"bins_per_octave": 2**63, "lengths": "nnaudio"}, "ZeroDivisionError: float division by zero"),
    ("cqt2019", {"n_bins": 2**31 - 1, "bins_per_octave": 1}, "OverflowError"),
    ("cqt2019", {"filter_scale": 1e200}, "ValueError: Maximum allowed dimension exceeded (names no parameter)"),
    ("dct", {"n_bands": 2**31}, "MemoryError (16 GiB)"),
    ("dct", {"n_bands": 2**63}, "TypeError from torch.rand"),
    ("dct", {"lifter": 5e-324}, "NaN output"),
    ("dct", {"lifter": 2.2e-311}, "NaN output"),
    ("mel", {"n_mels": 2**63}, "IndexError"),
    ("mel", {"n_mels": 2**32 + 1}, "MemoryError (32 GiB)"),
    ("mel", {"n_fft": 2**31 - 1}, "MemoryError (8 GiB)"),
    ("mel", {"power": 1e308}, "NaN output"),
    ("mel", {"power": 0.5}, "NaN input gradients at silence"),
    ("mel", {"n_fft": 249}, "2 frames for 1024 samples, documented 3"),
    ("mel_scale", {"n_mels": 2**63}, "IndexError"),
    ("mel_scale", {"n_fft": 2**63}, "ValueError: array is too big (names no parameter)"),
    ("mel_scale", {"n_fft": 2**64}, "ValueError: zero-size array to reduction operation (names no parameter)"),
    ("mel_scale", {"sr": 1.7976931348623157e308, "n_fft": 1, "n_mels": 1}, "NaN output"),
    ("mel_scale", {"norm": np.int64(1), "n_fft": 64, "n_mels": 8}, "get_config() keeps np.int64: not YAML"),
    ("mfcc", {"n_fft": 10**30}, "ValueError: Maximum allowed size exceeded (names no parameter)"),
    ("mfcc", {"n_fft": 1}, "2 frames for 1024 samples, documented 3"),
    ("pcen", {"bias": 0.0}, "inf input gradients at silence (x ** power at 0)"),
    ("power_to_db", {"amin": 1e308}, "RuntimeError: value cannot be converted to type float"),
    ("power_to_db", {"amin": 1e-300}, "inf input gradients at silence (amin underflows in float32)"),
    ("power_to_db", {"ref": np.float32(2.5)}, "get_config() keeps np.float32: not YAML"),
    ("amplitude_to_db", {"amin": 1e308}, "RuntimeError: value cannot be converted to type float"),
    ("cqt1992", {"norm": np.int64(2), "sr": 8000, "fmin": 300.0, "n_bins": 12, "bins_per_octave": 6},
     "get_config() keeps np.int64: not YAML"),
    ("stft", {"n_fft": 2**31}, "MemoryError (8 GiB)"),
    ("stft", {"n_fft": 2**63}, "ValueError: array is too big (names no parameter)"),
    ("stft", {"freq_scale": "linear", "freq_bins": 2**31 - 1}, "MemoryError (16 GiB)"),
    ("stft", {"n_fft": 5}, "2048 frames for 2048 samples, documented 2049"),
    ("stft", {"n_fft": 1, "win_length": 1, "hop_length": 1, "freq_scale": "linear", "freq_bins": 2**63},
     "RuntimeError from conv1d: a kernel of 0 rows"),
    ("stft", {"n_fft": 2**63, "win_length": 1, "freq_bins": 1, "hop_length": 1},
     "ValueError: negative dimensions are not allowed (names no parameter)"),
]


@pytest.mark.parametrize(
    ("name", "params"),
    [pytest.param(n, p, id=f"{n}-{'-'.join(f'{k}={v!r}' for k, v in p.items())}"[:80])
     for n, p, _what in PARAMETER_FINDINGS],
)
def test_parameter_finding(name, params):
    check_parameters(get_transform(name), FuzzCase(params), input_length=2048, seconds=SECONDS, memory=MEMORY)


def test_cqt2019_huge_hop_does_not_crash_the_process():
    """hop_length=2**31 used to segfault in backward; it is now refused (hop_length <= 2**30)."""
    code = (
        "import torch\n"
        "from nnaudio_core import get_transform\n"
        "from nnaudio_core.testing import FuzzCase, check_parameters\n"
        "params = dict(n_bins=1, bins_per_octave=1, filter_scale=0.25, pad_mode='constant', hop_length=2**31)\n"
        "check_parameters(get_transform('cqt2019'), FuzzCase(params), input_length=1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-500:]}"


@pytest.mark.parametrize("name", ["stft", "mel", "cqt2019"])
def test_numpy_bool_is_a_bool(name):
    assert get_transform(name)(center=np.True_).config["center"] is True


# ------------------------------------------------------------------------------------------------
# inputs (forward)
# ------------------------------------------------------------------------------------------------
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64, torch.int64, torch.int16,
          torch.bool]


@st.composite
def inputs(draw: Any, core_dims: int, rows: int, complex_input: bool = False) -> tuple[str, torch.Tensor, str]:
    """A random input for a transform of ``core_dims`` (``rows`` frequency rows) and its expectation.

    ``complex_input``: the transform takes complex spectrograms only (an inverse transform), so real
    floating inputs are the wrong kind instead of complex ones.
    """
    leading = draw(st.lists(st.integers(0, 3), max_size=3))
    core = [draw(st.integers(0, 1100))] if core_dims == 1 else [rows, draw(st.integers(0, 20))]
    if core_dims == 2 and draw(st.integers(0, 9)) == 0:
        core[0] = draw(st.integers(0, 40))
    dtype = draw(st.sampled_from(DTYPES))
    values = draw(st.sampled_from(["randn", "zeros", "ones", "1e4", "1e30", "nan", "inf"]))
    layout = draw(st.sampled_from(["contiguous", "strided", "transposed", "expanded"]))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    shape = leading + core
    if layout == "strided":
        full = shape[:-1] + [2 * shape[-1]]
    else:
        full = shape
    x = torch.randn(full, generator=generator, dtype=torch.float64)
    if core_dims == 2:
        x = x.abs() + 0.01
    x = {"zeros": x * 0, "ones": x * 0 + 1, "1e4": x * 1e4, "1e30": x * 1e30}.get(values, x)
    if values in ("nan", "inf") and x.numel():
        x.view(-1)[x.numel() // 2] = float(values)
    if layout == "strided":
        x = x[..., ::2]
    elif layout == "transposed" and len(leading) >= 2:
        x = x.transpose(0, 1).contiguous().transpose(0, 1)
    elif layout == "expanded" and leading and leading[0] > 0:
        x = x[:1].expand(*x.shape)
    x = x.to(dtype) if dtype != torch.bool else x > 0.5
    dims = len(shape)
    wrong_kind = dtype.is_floating_point if complex_input else dtype.is_complex
    if dtype in (torch.int64, torch.int16, torch.bool) or wrong_kind or x.numel() == 0:
        expect = "error"
    elif not core_dims <= dims <= core_dims + 2:
        expect = "error"
    elif values in ("nan", "inf"):
        expect = "any"
    elif values == "1e30" or (values == "1e4" and dtype in (torch.float16, torch.bfloat16)):
        expect = "no-nan" if dtype not in (torch.float16, torch.bfloat16) else "any"
    else:
        expect = "finite"
    what = f"{values} {layout} values"
    return what, x, expect


@pytest.mark.parametrize("name", NAMES)
def test_fuzz_inputs(name):
    cls = get_transform(name)
    transform = cls(**TINY[name])
    rows = transform.example_input(length=4).shape[-2] if cls.core_dims == 2 else 0

    @FUZZ
    @given(inputs(cls.core_dims, rows, COMPLEX in cls.input_kinds and len(cls.input_kinds) == 1))
    def run(case):
        what, x, expect = case
        x_dtype = x.dtype
        target = transform
        if x_dtype in (torch.float64, torch.float16, torch.bfloat16) and transform.kernel_dtype is not None:
            target = _converted(transform, x_dtype)  # a transform in the input's dtype
            if target is None:
                _count(f"inputs {name}")
                return
        reference = target if "strided" in what or "transposed" in what or "expanded" in what else None
        if x_dtype in (torch.float16, torch.bfloat16) or expect != "finite":
            reference = None
        _run(name, run_input_case, "fuzz inputs", target, what, x, expect, reference, key=f"inputs {name}")

    run()
    _write_counts(f"inputs {name}")


_CONVERTED: dict[tuple[int, torch.dtype], Any] = {}


def _converted(transform: Any, dtype: torch.dtype) -> Any:
    import copy

    key = (id(transform), dtype)
    if key not in _CONVERTED:
        try:
            _CONVERTED[key] = copy.deepcopy(transform).to(dtype)
        except ValueError:
            _CONVERTED[key] = None
    return _CONVERTED[key]


@pytest.mark.parametrize("name", NAMES)
def test_the_conformance_property_holds(name):
    cls = get_transform(name)
    check_fuzz_inputs(cls, TINY[name], OPTIONS[cls.core_dims])


INPUT_FINDINGS = [
    # (transform, input case of testing.fuzz_input_cases or "zeros after .to(<dtype>)", what happens today)
    *[(n, "a complex64 input", "not refused: RuntimeError, NotImplementedError or a silent output") for n in NAMES
      if COMPLEX not in get_transform(n).input_kinds],  # an inverse transform takes complex input
    ("mel", "values of magnitude 1e+30", "all output NaN"),
    ("mfcc", "values of magnitude 1e+30", "all output NaN"),
    ("power_to_db", "zeros after .to(float16)", "all -inf (amin 1e-10 underflows in float16)"),
    ("stft", "zeros after .to(float16)", "RuntimeError: MKL FFT doesn't support Half"),
    ("stft", "zeros after .to(bfloat16)", "RuntimeError"),
    ("mel", "zeros after .to(float16)", "RuntimeError: MKL FFT doesn't support Half"),
    ("mfcc", "zeros after .to(bfloat16)", "RuntimeError: MKL FFT doesn't support BFloat16"),
    ("mfcc", "zeros after .to(float16)", "RuntimeError (fft path); NaN and inf on the conv path"),
    ("cqt1992", "zeros after .to(float16)", "RuntimeError: Unsupported dtype Half"),
]


@pytest.mark.parametrize(
    ("name", "case"),
    [pytest.param(n, c, id=f"{n}-{c}") for n, c, _what in INPUT_FINDINGS],
)
def test_input_finding(name, case):
    cls = get_transform(name)
    transform = cls(**TINY[name])
    options = OPTIONS[cls.core_dims]
    if case.startswith("zeros after .to("):
        dtype = getattr(torch, case[len("zeros after .to("):-1])
        try:
            converted = transform.to(dtype)
        except ValueError:
            return
        x = torch.zeros(2, *converted.example_input(length=options.input_length).shape, dtype=dtype)
        run_input_case("fuzz inputs", converted, case, x, "finite")
        return
    (what, x, expect), = [c for c in fuzz_input_cases(transform, options) if c[0] == case]
    run_input_case("fuzz inputs", transform, what, x, expect)


# ------------------------------------------------------------------------------------------------
# specs
# ------------------------------------------------------------------------------------------------
@settings(FUZZ, max_examples=SPEC_EXAMPLES)
@given(spec_structures())
def test_fuzz_specs(spec):
    _run("spec", check_spec, spec, seconds=SECONDS, memory=MEMORY, key="specs")


def test_fuzz_specs_count():
    _write_counts("specs")  # runs after test_fuzz_specs (file order)


SPEC_FINDINGS = [
    ({"pipeline": [{"stft": {}}], "dtype": [None]}, "TypeError: unhashable type: 'list'"),
    ({"": None, "x": {}}, "SpecError for the empty key '' has no path"),
    ({"pipeline": [{"stft": {"n_fft": 2**31}}]}, "MemoryError"),
]


@pytest.mark.parametrize(("spec", "what"), [pytest.param(s, w, id=w[:40]) for s, w in SPEC_FINDINGS])
def test_spec_finding(spec, what):
    check_spec(spec, seconds=SECONDS, memory=MEMORY)
