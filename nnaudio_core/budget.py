"""The memory budget: configurations whose kernels would not fit are refused before anything is allocated.

A transform estimates the bytes its kernels (and the plans building them) need from its parameters
alone, in :meth:`~nnaudio_core.KernelTransform.validate_config`, and calls :func:`check_memory`. Over
the budget, a :class:`MemoryBudgetError` (a ``ValueError``) names the parameters and the size, where
numpy would otherwise raise ``MemoryError`` or drive the machine out of memory.

The budget is 4 GiB unless set:

* the environment variable ``NNAUDIO_MEMORY_BUDGET`` (bytes, or a number with a unit: ``512MiB``,
  ``16GiB``, ``2GB``; ``0`` or ``none`` switches the check off);
* :func:`memory_budget` as a context manager (``with memory_budget("16GiB"): ...``);
* ``build_transform(spec, memory_budget="16GiB")``.

Examples
--------
>>> parse_size("1.5GiB")
1610612736
>>> with memory_budget("1MiB"):
...     check_memory(512 * 1024, "kernels", {"n_fft": 256})
>>> with memory_budget("1MiB"):
...     check_memory(2**30, "Fourier kernels", {"n_fft": 2**20})
Traceback (most recent call last):
...
nnaudio_core.budget.MemoryBudgetError: n_fft=1048576: the Fourier kernels would need 1.0 GiB, more than ...
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = ["BUDGET_ENV", "DEFAULT_BUDGET", "MemoryBudgetError", "check_memory", "current_budget", "memory_budget",
           "parse_size"]

BUDGET_ENV = "NNAUDIO_MEMORY_BUDGET"
DEFAULT_BUDGET = 4 * 2**30
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6, "mib": 2**20,
          "g": 10**9, "gb": 10**9, "gib": 2**30, "t": 10**12, "tb": 10**12, "tib": 2**40}
_local = threading.local()


class MemoryBudgetError(ValueError):
    """A configuration whose kernels would need more memory than the budget."""


def parse_size(value: int | float | str | None) -> int | None:
    """Bytes from ``1024``, ``"512MiB"``, ``"2GB"``...; ``None``, ``0`` or ``"none"``: no limit."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"memory budget {value!r} is not allowed; expected a size >= 0 in bytes")
        return int(value) or None
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-zA-Z]*)\s*", str(value))
    if str(value).strip().lower() in ("none", "off"):
        return None
    if match is None or match.group(2).lower() not in _UNITS:
        raise ValueError(f"memory budget {value!r} is not a size; expected bytes or a number with a unit such as "
                         "512MiB, 16GiB or 2GB (0 or none: no limit)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()]) or None


def current_budget() -> int | None:
    """The budget in bytes now in force (``None``: no limit)."""
    stack = getattr(_local, "stack", None)
    if stack:
        return stack[-1]
    env = os.environ.get(BUDGET_ENV)
    return DEFAULT_BUDGET if env is None or not env.strip() else parse_size(env)


@contextmanager
def memory_budget(limit: int | float | str | None) -> Iterator[int | None]:
    """Use ``limit`` (bytes or ``"16GiB"``; ``None``: no limit) as the budget inside a ``with`` block."""
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    stack.append(parse_size(limit))
    try:
        yield stack[-1]
    finally:
        stack.pop()


def format_size(nbytes: float) -> str:
    """``1536`` → ``'1.5 KiB'``."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}" if nbytes < 1e4 * size else f"{nbytes / size:.3g} {unit}"
    return f"{int(nbytes)} bytes"


def check_memory(nbytes: float, what: str, parameters: Mapping[str, Any]) -> None:
    """Raise :class:`MemoryBudgetError` when ``what`` would need more than the budget.

    Parameters
    ----------
    nbytes : float
        Estimated bytes (a Python number: it may be astronomically large).
    what : str
        What needs them (``"Fourier kernels"``).
    parameters : mapping
        The parameters that decide the size, named in the message.
    """
    budget = current_budget()
    if budget is None or nbytes <= budget:
        return
    named = ", ".join(f"{k}={v!r}" for k, v in parameters.items())
    raise MemoryBudgetError(
        f"{named}: the {what} would need {format_size(nbytes)}, more than the memory budget of "
        f"{format_size(budget)}; use smaller values, or raise the budget ({BUDGET_ENV}=..., "
        "nnaudio_core.memory_budget(...))"
    )
