"""Deployment beyond the per-transform properties: inductor, whole pipelines, precision edge cases.

The conformance suite (test_conformance.py) holds every transform to the deployment properties of
``nnaudio_core.testing.deploy`` with the ``aot_eager`` compile backend; here each transform also
compiles with inductor (what users run), every bundled spec scripts, exports and runs under
autocast as one pipeline, and the precision cases of issue 11 are pinned.
"""

from __future__ import annotations

import io
import math

import pytest
import torch
from test_conformance import KNOWN_GAPS, TINY, TINY_LENGTH

from nnaudio_core import available_transforms, build_transform, bundled_specs, get_transform
from nnaudio_core.testing import PROPERTIES, CheckOptions


#: Transforms whose inductor compile is too slow for the suite (issue 11), with the measurement; their
#: graph capture (dynamo + AOT autograd, fullgraph) still runs for every configuration in test_conformance.
INDUCTOR_TOO_SLOW: dict[str, str] = {}


@pytest.mark.parametrize("name", sorted(TINY))
def test_inductor_compiles_every_transform(name):
    if name not in available_transforms():
        pytest.skip(f"{name} is not registered")
    if name in INDUCTOR_TOO_SLOW:
        pytest.skip(f"{name}: {INDUCTOR_TOO_SLOW[name]}")
    cls = get_transform(name)
    params = {k: v for k, v in TINY[name][0].items() if k != "gradcheck"}
    PROPERTIES["torch.compile"](cls, params, CheckOptions(input_length=TINY_LENGTH[cls.core_dims]))


def _spec_input(pipe, spec: str) -> torch.Tensor:
    first = pipe[0]
    length = 4096 if first.core_dims == 1 else 6
    return first.example_input(2, length=length, seed=5)


@pytest.mark.parametrize("spec", bundled_specs())
def test_every_bundled_spec_scripts_as_one_pipeline(spec):
    pipe = build_transform(spec, device="cpu")
    scripted = torch.jit.script(pipe)
    for leading in ((3,), (1, 2)):
        x = pipe[0].example_input(*leading, length=5000 if pipe[0].core_dims == 1 else 9, seed=6)
        with torch.no_grad():
            expected, actual = pipe(x), scripted(x)
        if expected.is_complex():
            expected, actual = torch.view_as_real(expected), torch.view_as_real(actual)
        torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5 * float(expected.abs().max()))


@pytest.mark.parametrize("spec", bundled_specs())
def test_every_bundled_spec_runs_under_bfloat16_autocast(spec):
    pipe = build_transform(spec, device="cpu")
    x = _spec_input(pipe, spec).requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = pipe(x)
    values = torch.view_as_real(out) if out.is_complex() else out
    assert torch.isfinite(values).all()
    (grad,) = torch.autograd.grad(values.float().square().mean(), x)
    assert torch.isfinite(grad).all()


def _exportable(spec: str) -> bool:
    names = {step.name for step in build_transform(spec, device="cpu")}
    return not any(name in names and "torch.export" in gaps for (name, _), gaps in KNOWN_GAPS.items())


@pytest.mark.parametrize("spec", [s for s in bundled_specs() if _exportable(s)])
def test_bundled_spec_exports_with_dynamic_batch_and_time(spec):
    from torch.export import Dim

    pipe = build_transform(spec, device="cpu")
    first = pipe[0]
    # a waveform spec's time is samples; a spectrogram spec's (e.g. mel_to_audio) is frames
    low, lengths = (8192, (20000, 8192, 12345)) if first.core_dims == 1 else (16, (40, 16, 27))
    x = first.example_input(2, length=2 * low, seed=7)
    shapes = {"x": {0: Dim("batch", min=1, max=64), x.dim() - 1: Dim("time", min=low, max=2**22)}}
    program = torch.export.export(pipe, (x,), dynamic_shapes=shapes)
    for batch, length in zip((3, 1, 5), lengths, strict=True):
        sample = first.example_input(batch, length=length, seed=length)
        with torch.no_grad():
            torch.testing.assert_close(program.module()(sample), pipe(sample), rtol=1e-5, atol=1e-4)


def test_full_scale_sine_through_the_float16_conv_path_is_finite():
    # |X| of a full-scale 1 kHz tone is ~512: it fits in float16, but re^2 + im^2 does not
    t = torch.arange(22050) / 22050
    sine = torch.sin(2 * math.pi * 1000 * t)
    stft = get_transform("stft")(n_fft=2048, output_format="Magnitude", backend="conv")
    magnitude = stft.to(torch.float16)(sine.half())
    assert torch.isfinite(magnitude).all()
    reference = get_transform("stft")(n_fft=2048, output_format="Magnitude", backend="conv")(sine)
    assert float((magnitude.float() - reference).abs().max()) <= 5e-3 * float(reference.abs().max())
    mfcc = get_transform("mfcc")(sr=22050, backend="conv").to(torch.float16)
    assert torch.isfinite(mfcc(sine.half())).all()


def test_float16_zeros_through_power_to_db_are_the_floor_not_minus_infinity():
    db = get_transform("power_to_db")(top_db=80.0).to(torch.float16)
    out = db(torch.zeros(2, 16, 8, dtype=torch.float16))
    assert torch.isfinite(out).all() and out.dtype == torch.float16


def test_a_saved_conv_stft_does_not_carry_its_frozen_kernels():
    stft = get_transform("stft")(n_fft=2048, backend="conv")
    frozen = sum(b.numel() * b.element_size() for b in stft.buffers())
    buffer = io.BytesIO()
    torch.save(stft, buffer)
    assert frozen > 10_000_000 and buffer.tell() < 20_000  # 16.8 MB of kernels before
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    x = torch.randn(4000)
    torch.testing.assert_close(loaded(x), stft(x))


#: Iterative transforms whose loop body torch.compile compiles once (functional.capture.repeated_region),
#: with a configuration and the number of region calls it makes (one per iteration).
ITERATED_REGIONS = {
    "griffin_lim": ({"n_fft": 16, "hop_length": 4, "n_iter": 6}, 6),
    "inverse_mel": ({"sr": 8000, "n_fft": 32, "n_mels": 8, "n_iter": 7}, 7),
    "icqt": ({"sr": 8000, "fmin": 300.0, "n_bins": 12, "bins_per_octave": 6, "hop_length": 32, "n_iter": 4}, 4),
    "griffin_lim_cqt": ({"sr": 8000, "fmin": 300.0, "n_bins": 12, "bins_per_octave": 6, "hop_length": 32,
                         "n_iter": 5, "icqt_iter": 0}, 5),
}


@pytest.mark.skipif(not hasattr(torch.compiler, "nested_compile_region"), reason="torch < 2.8: loops unroll")
@pytest.mark.parametrize("name", sorted(ITERATED_REGIONS))
def test_compile_traces_one_iteration_and_reuses_it(name):
    """Unrolled, 200 NNLS steps and 32 Griffin-Lim iterations took inductor over 5 minutes (issue 11)."""
    params, calls = ITERATED_REGIONS[name]
    module = get_transform(name)(**params)
    x = module.example_input(2, length=12, seed=3)
    graphs = []

    def record(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    with torch.no_grad():
        expected = module(x)
        got = torch.compile(module, backend=record, fullgraph=True)(x)
    assert len(graphs) == 1
    invocations = [n for n in graphs[0].graph.nodes if n.target is torch.ops.higher_order.invoke_subgraph]
    assert len(invocations) == calls
    assert len({n.args[1] for n in invocations}) == 1  # one traced body, called at every iteration
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6 * float(expected.abs().max()))
