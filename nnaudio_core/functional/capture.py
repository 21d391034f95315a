"""What captures the code as a graph (export, compile, neither) and regions compiled once.

Paths that hold a complex intermediate, or whose size arithmetic makes the shape solver work
hard, take another (same-valued) form while a graph is captured; loops of identical steps
(Griffin-Lim iterations, projected-gradient steps) compile one step and reuse it. All functions
are TorchScript friendly: each is ``False`` or a no-op under ``torch.jit.script``.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import torch
from torch import Tensor

__all__ = ["capturing", "compiling", "exporting", "repeated_region", "reshape_symbolic"]

F = TypeVar("F", bound=Callable)


def exporting() -> bool:
    """Whether the code runs under ``torch.export`` (and so ``torch.onnx.export(dynamo=True)``).

    ONNX has no complex tensors: paths that hold a complex intermediate switch to real and
    imaginary parts while exporting (the same values). ``False`` in eager mode and TorchScript.

    Examples
    --------
    >>> exporting()
    False
    """
    if not torch.jit.is_scripting():
        if torch.compiler.is_exporting():
            return True
    return False


def capturing() -> bool:
    """Whether the code is being captured as a graph with symbolic shapes: ``torch.export`` or ``torch.compile``.

    Paths whose size arithmetic makes the shape solver work hard (slices with symbolic ends,
    reshapes of symbolic lengths, Python loops of shifted additions) take a branch-free form
    while capturing: the same values, a smaller graph and no guards to prove. For the inverse CQT
    this cut inductor's first compile of a tiny configuration from 37 s to 6 s and its
    dynamic-shape recompile from 66 s to 8 s. ``False`` in eager mode and TorchScript.

    Examples
    --------
    >>> capturing()
    False
    """
    if not torch.jit.is_scripting():
        if torch.compiler.is_exporting() or torch.compiler.is_compiling():
            return True
    return False


def compiling() -> bool:
    """Whether ``torch.compile`` (and not ``torch.export``) is tracing the code.

    The one case where :func:`repeated_region` pays: inductor compiles a marked step once
    instead of every unrolled copy. An exported program keeps plain (unrolled) steps, which every
    consumer of an export (ONNX included) reads. ``False`` in eager mode and TorchScript.

    Examples
    --------
    >>> compiling()
    False
    """
    if not torch.jit.is_scripting():
        if torch.compiler.is_compiling() and not torch.compiler.is_exporting():
            return True
    return False


def repeated_region(fn: F) -> F:
    """``fn`` marked as a region that ``torch.compile`` compiles once and reuses at every call.

    ``torch.compiler.nested_compile_region`` where torch has it (2.8 and later), else ``fn``
    itself (each call is then traced and compiled, as without the mark). Outside
    ``torch.compile`` the mark does nothing. Call the marked function only when
    :func:`compiling` (it does not script, and an export should keep plain steps); its outputs
    must not alias its inputs or each other (clone a view before returning it). The arguments
    that change from call to call must be tensors: a Python number that changes is a new region.

    Examples
    --------
    >>> double = repeated_region(lambda x: 2 * x)
    >>> double(torch.ones(2))
    tensor([2., 2.])
    """
    mark = getattr(torch.compiler, "nested_compile_region", None)
    return fn if mark is None else mark(fn)


def reshape_symbolic(x: Tensor, shape: list[int]) -> Tensor:
    """``x.reshape(shape)``, by a route that torch.export can follow for symbolic sizes.

    Merging or splitting dimensions whose sizes are symbolic (a dynamic batch, a block count of a
    dynamic length) makes torch 2.9's exporter guard on divisibilities it cannot prove, e.g.
    ``(n + 2) mod (9 n + 18) != 0``, and fail the export. While exporting, the tensor is made
    contiguous, flattened and reshaped to ``(-1, shape[-1])``, which need no such guard, and then
    split to ``shape``. Outside export (and under TorchScript) it is ``x.reshape(shape)``.
    ``shape[-1]`` must be given (not ``-1``).

    Examples
    --------
    >>> reshape_symbolic(torch.arange(6), [2, 3])
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    if not torch.jit.is_scripting():
        if exporting():
            return x.contiguous().reshape(-1).reshape(-1, shape[-1]).reshape(shape)
    return x.reshape(shape)
