"""The deployment properties of :func:`~nnaudio_core.testing.check_transform`.

Every transform must survive the ways models ship: TorchScript (script and trace),
``torch.compile(fullgraph=True)``, ``torch.export`` with a dynamic batch and time, ONNX through
``torch.onnx.export(dynamo=True)`` and onnxruntime, float16/bfloat16 modules, autocast, whole-module
``torch.save``/``torch.load(weights_only=True)`` and DDP-ready kernels. Each property compares the
deployed module with the eager one on inputs of *other* shapes than the one it was built or
traced with, so a shape baked in as a constant fails.

Properties
----------
torchscript
    ``torch.jit.script`` of the frozen and the trainable transform agrees with eager (1e-5 of the
    output scale) on core, batched and multichannel inputs of new lengths.
trace
    ``torch.jit.trace`` on a ``(batch, channels, *core)`` input agrees with eager on other batch
    sizes, channel counts and lengths of the same rank.
torch.compile
    ``torch._dynamo.explain`` finds one graph and no break; ``torch.compile(fullgraph=True)``
    agrees with eager (1e-4) at the example shape and at a new length.
torch.export
    ``torch.export.export`` with dynamic batch and time (``Dim``) runs at new shapes (1e-5). The
    time dimension starts at half the example length for waveforms, at 2 frames for spectrogram
    steps (or the step's ``min_frames`` when it declares one).
onnx
    ``torch.onnx.export(dynamo=True)`` with dynamic batch and time; onnxruntime's CPU output
    agrees with eager (1e-4) at a new shape. Complex outputs come out as real ``(..., 2)``
    (real, imaginary) arrays. Transforms that take complex input are exempt (ONNX has no
    complex inputs). Needs ``onnx``, ``onnxscript`` and ``onnxruntime`` (the ``deploy`` extra).
half precision
    ``.to(float16)`` and ``.to(bfloat16)`` run on inputs of that dtype (complex inputs stay
    complex64: there is no complex bfloat16); real outputs keep the dtype and agree with float32 within 5e-3 (float16) and 3e-2 (bfloat16) of the output scale;
    complex outputs are complex64.
autocast
    Under ``torch.autocast("cpu", dtype=torch.bfloat16)`` outputs and input gradients are finite.
serialisation
    ``torch.save(transform)`` and ``torch.load(..., weights_only=True)`` give an equal transform,
    and the file holds the trainable parameters but not the frozen kernels (rebuilt from the
    configuration).
distributed kernels
    Every parameter and buffer has standard contiguous strides (DDP's buffer broadcast and
    gradient buckets need them; numpy's ``a[:, None, :]`` has a zero stride there).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from ..kinds import COMPLEX
from ..transform import KernelTransform
from . import (
    CheckOptions,
    Factory,
    _assert_close,
    _example,
    _property,
    _scale,
    _spec_buildable,
    _trainable_params,
    cast_like_input,
)

__all__ = [
    "check_autocast",
    "check_distributed_kernels",
    "check_half_precision",
    "check_onnx",
    "check_serialisation",
    "check_torch_compile",
    "check_torch_export",
    "check_torchscript",
    "check_trace",
]

#: Relative tolerance of half-precision outputs against float32, per dtype.
HALF_RTOL = {torch.float16: 5e-3, torch.bfloat16: 3e-2}


def _instances(factory: Factory, params: Mapping[str, Any]) -> list[tuple[str, KernelTransform]]:
    """The transform as configured and, when it declares ``trainable``, its trainable twin."""
    out = [("as configured", factory(**params))]
    trainable = _trainable_params(factory, params)
    if trainable is not None and trainable != dict(params):
        out.append(("trainable", factory(**trainable)))
    return out


def _length(transform: KernelTransform, options: CheckOptions) -> int:
    x = _example(transform, options=options)
    return int(x.shape[-1])


def _new_shapes(transform: KernelTransform, options: CheckOptions) -> list[Tensor]:
    """Inputs of shapes no example had: core, batched and multichannel, each of a new length."""
    length = _length(transform, options)
    core = transform.core_dims
    longer = length + max(3, length // 3) if core == 1 else length + 3
    shorter = max(length - max(5, length // 5), 4) if core == 1 else max(length - 2, 2)
    return [
        _example(transform, options=options, length=longer, seed=11),
        _example(transform, 1, options=options, length=shorter, seed=12),
        _example(transform, 4, 1, options=options, length=longer + 1, seed=13),
    ]


def _close(prop: str, what: str, actual: Tensor, expected: Tensor, rtol: float) -> None:
    if actual.is_complex() != expected.is_complex():
        raise AssertionError(f"{prop}: {what}: dtype {actual.dtype} differs from eager's {expected.dtype}")
    if actual.is_complex():
        actual, expected = torch.view_as_real(actual), torch.view_as_real(expected)
    _assert_close(prop, what, actual.to(expected.dtype), expected, rtol)


def _shape(x: Tensor) -> str:
    return "x".join(str(d) for d in x.shape)


@_property("torchscript")
def check_torchscript(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """``torch.jit.script`` works and agrees with eager on new shapes, frozen and trainable."""
    prop = "torchscript"
    for label, transform in _instances(factory, params):
        try:
            scripted = torch.jit.script(transform)
        except Exception as exc:
            raise AssertionError(f"{prop}: torch.jit.script fails on the {label} transform: {exc}") from exc
        for x in _new_shapes(transform, options):
            with torch.no_grad():
                _close(prop, f"{label}, input {_shape(x)}", scripted(x), transform(x), max(options.rtol, 1e-5))


@_property("trace")
def check_trace(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """``torch.jit.trace`` on a (batch, channels, *core) input generalises to other sizes of that rank."""
    prop = "trace"
    for label, transform in _instances(factory, params):
        length = _length(transform, options)
        example = _example(transform, 2, 3, options=options)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            try:
                traced = torch.jit.trace(transform, example, check_trace=False)
            except Exception as exc:
                raise AssertionError(f"{prop}: torch.jit.trace fails on the {label} transform: {exc}") from exc
            grow = 3 if transform.core_dims == 2 else max(3, length // 3)
            for x in (_example(transform, 3, 1, options=options, length=length + grow, seed=21),
                      _example(transform, 1, 2, options=options, length=length, seed=22)):
                _close(prop, f"{label}, traced on {_shape(example)}, run on {_shape(x)}", traced(x), transform(x),
                       max(options.rtol, 1e-5))


@_property("torch.compile")
def check_torch_compile(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """One graph, no break, and ``torch.compile(fullgraph=True)`` agrees with eager."""
    prop = "torch.compile"
    for label, transform in _instances(factory, params):
        x = _example(transform, 2, options=options)
        torch._dynamo.reset()
        explanation = torch._dynamo.explain(transform)(x)
        if explanation.graph_break_count or explanation.graph_count != 1:
            reasons = "; ".join(str(b.reason) for b in explanation.break_reasons[:3])
            raise AssertionError(
                f"{prop}: the {label} transform compiles into {explanation.graph_count} graphs with "
                f"{explanation.graph_break_count} breaks (expected 1 graph, 0 breaks): {reasons}"
            )
        torch._dynamo.reset()
        compiled = torch.compile(transform, fullgraph=True, backend=options.compile_backend)
        length = _length(transform, options)
        grow = 3 if transform.core_dims == 2 else max(3, length // 3)
        for sample in (x, _example(transform, 3, options=options, length=length + grow, seed=31)):
            with torch.no_grad():
                _close(prop, f"{label}, input {_shape(sample)}", compiled(sample), transform(sample),
                       max(options.rtol, 1e-4))
        torch._dynamo.reset()


def _dynamic_shapes(transform: KernelTransform, x: Tensor) -> dict[str, dict[int, Any]]:
    from torch.export import Dim

    length = int(x.shape[-1])
    # a spectrogram step that needs more than 2 frames (e.g. reflect padding inside) says so in min_frames
    low = max(2, length // 2) if transform.core_dims == 1 else max(2, int(getattr(transform, "min_frames", 2)))
    if transform.core_dims == 1:
        # torch.export specialises a dimension that can be 1, so the range starts where there are 2 frames
        while low < length:
            frames = transform.frame_count(low)
            if frames is None or frames >= 2:
                break
            low += 1
    return {"x": {0: Dim("batch", min=1, max=1024), x.dim() - 1: Dim("time", min=low, max=2**22)}}


@_property("torch.export")
def check_torch_export(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """``torch.export`` with a dynamic batch and time runs at new shapes."""
    prop = "torch.export"
    for label, transform in _instances(factory, params):
        x = _example(transform, 2, options=options)
        try:
            program = torch.export.export(transform, (x,), dynamic_shapes=_dynamic_shapes(transform, x))
        except Exception as exc:
            first = str(exc).strip().splitlines()[:4]
            raise AssertionError(f"{prop}: torch.export with dynamic batch and time fails on the {label} "
                                 f"transform: {' '.join(first)}") from exc
        module = program.module()
        length = _length(transform, options)
        grow = 3 if transform.core_dims == 2 else max(3, length // 3)
        for sample in (_example(transform, 5, options=options, length=length + grow, seed=41),
                       _example(transform, 1, options=options, length=length, seed=42)):
            with torch.no_grad():
                _close(prop, f"{label}, input {_shape(sample)}", module(sample), transform(sample),
                       max(options.rtol, 1e-5))


def _onnx_runtime() -> Any:
    try:
        import onnxruntime
        import onnxscript  # noqa: F401  (torch.onnx's dynamo exporter needs it)
    except ImportError as exc:
        raise AssertionError(
            "onnx: onnxruntime and onnxscript are needed to check ONNX export; install the deploy extra "
            "(pip install 'nnaudio-core[deploy]') or skip the property with skip=('onnx',)"
        ) from exc
    return onnxruntime


@_property("onnx")
def check_onnx(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """ONNX export (dynamo) with dynamic batch and time; onnxruntime agrees with eager at a new shape."""
    prop = "onnx"
    probe = factory(**params)
    if COMPLEX in probe.input_kinds:
        return  # ONNX has no complex inputs (see the module docstring)
    onnxruntime = _onnx_runtime()
    for label, transform in _instances(factory, params):
        x = _example(transform, 2, options=options)
        buffer = io.BytesIO()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                program = torch.onnx.export(transform, (x,), dynamo=True, dynamic_shapes=_dynamic_shapes(transform, x),
                                            verbose=False)
            program.save(buffer)
        except Exception as exc:
            first = str(exc).strip().splitlines()[:6]
            raise AssertionError(f"{prop}: ONNX export fails on the {label} transform: {' '.join(first)}") from exc
        length = _length(transform, options)
        grow = 5 if transform.core_dims == 2 else max(5, length // 3)
        sample = _example(transform, 3, options=options, length=length + grow, seed=51)
        try:
            session = onnxruntime.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
            (out,) = session.run(None, {session.get_inputs()[0].name: sample.numpy()})
        except Exception as exc:  # onnxruntime's own errors (Fail, InvalidGraph, ...) are not AssertionErrors
            first = " ".join(str(exc).strip().splitlines()[:6])
            raise AssertionError(f"{prop}: onnxruntime fails on the exported {label} transform at input "
                                 f"{_shape(sample)}: {type(exc).__name__}: {first}") from exc
        with torch.no_grad():
            expected = transform(sample)
        if expected.is_complex():
            expected = torch.view_as_real(expected)
        _close(prop, f"{label}, onnxruntime on input {_shape(sample)}", torch.from_numpy(out), expected,
               max(options.rtol, 1e-4))


@_property("half precision")
def check_half_precision(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """float16 and bfloat16 modules run on inputs of their dtype and agree with float32."""
    prop = "half precision"
    reference = factory(**params)
    x = _example(reference, 2, options=options)
    with torch.no_grad():
        expected = reference(x)
    for dtype, rtol in HALF_RTOL.items():
        half = factory(**params).to(dtype)
        try:
            with torch.no_grad():
                out = half(cast_like_input(x, dtype))
        except Exception as exc:
            raise AssertionError(f"{prop}: the transform in {dtype} fails: {type(exc).__name__}: {exc}") from exc
        if expected.is_complex():
            if out.dtype not in (torch.complex32, torch.complex64):
                raise AssertionError(f"{prop}: a complex output in {dtype} is {out.dtype}; expected complex64")
            _close(prop, f"{dtype} output", out.to(torch.complex64), expected, rtol)
            continue
        if out.dtype != dtype:
            raise AssertionError(f"{prop}: the {dtype} transform returns {out.dtype}; expected {dtype}")
        finite = torch.isfinite(expected)
        if not bool(torch.isfinite(out)[finite].all()):
            raise AssertionError(f"{prop}: the {dtype} output is not finite where the float32 output is")
        scale = _scale(expected)
        error = float((out.float() - expected).abs().max()) if out.numel() else 0.0
        if not error <= rtol * scale + 1e-30:
            raise AssertionError(f"{prop}: {dtype} output differs from float32 by {error:.3g} > {rtol:g} x {scale:.3g}")


@_property("autocast")
def check_autocast(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """Under CPU autocast to bfloat16, finite outputs and finite input gradients."""
    prop = "autocast"
    for label, transform in _instances(factory, params):
        x = _example(transform, 2, options=options).detach().clone().requires_grad_(True)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = transform(x)
        values = torch.view_as_real(out) if out.is_complex() else out
        if not bool(torch.isfinite(values).all()):
            raise AssertionError(f"{prop}: the {label} transform gives non-finite output under autocast")
        loss = values.float().square().mean()
        if loss.requires_grad:
            (grad,) = torch.autograd.grad(loss, x)
            grad = torch.view_as_real(grad) if grad.is_complex() else grad
            if not bool(torch.isfinite(grad).all()):
                raise AssertionError(f"{prop}: the {label} transform gives non-finite input gradients under autocast")


@_property("serialisation")
def check_serialisation(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """Whole-module ``torch.save`` loads with ``weights_only=True``, small and equal."""
    prop = "serialisation"
    for label, transform in _instances(factory, params):
        buffer = io.BytesIO()
        try:
            with _spec_buildable(type(transform)):  # saved and loaded by registered name
                torch.save(transform, buffer)
                size = buffer.tell()
                buffer.seek(0)
                loaded = torch.load(buffer, weights_only=True)
        except Exception as exc:
            raise AssertionError(f"{prop}: torch.load(weights_only=True) of the saved {label} transform fails: "
                                 f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
        if type(loaded) is not type(transform):
            raise AssertionError(f"{prop}: loading gave a {type(loaded).__name__}, not a {type(transform).__name__}")
        x = _example(transform, 2, options=options)
        with torch.no_grad():
            _close(prop, f"{label}, output after torch.load", loaded(x), transform(x), options.rtol)
        parameter_bytes = sum(p.numel() * p.element_size() for p in transform.parameters())
        frozen_bytes = sum(b.numel() * b.element_size() for b in transform.buffers())
        allowed = parameter_bytes + 64 * 1024 + 0.1 * frozen_bytes
        if size > allowed:
            raise AssertionError(
                f"{prop}: the saved {label} transform takes {size} bytes, more than its parameters "
                f"({parameter_bytes} bytes) and 64 KiB: frozen kernels ({frozen_bytes} bytes) should not be saved"
            )


@_property("distributed kernels")
def check_distributed_kernels(factory: Factory, params: Mapping[str, Any], options: CheckOptions) -> None:
    """Every kernel has standard contiguous strides (what DDP's buffer broadcast and buckets need)."""
    prop = "distributed kernels"
    for label, transform in _instances(factory, params):
        for kind, named in (("parameter", transform.named_parameters()), ("buffer", transform.named_buffers())):
            for name, tensor in named:
                expected = _standard_strides(tuple(tensor.shape))
                if tuple(tensor.stride()) != expected:
                    raise AssertionError(
                        f"{prop}: {label} {kind} {name!r} of shape {tuple(tensor.shape)} has strides "
                        f"{tuple(tensor.stride())}, not the standard {expected}; build it with "
                        "tensor.clone(memory_format=torch.contiguous_format)"
                    )


def _standard_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))
