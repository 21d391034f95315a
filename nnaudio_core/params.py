"""Declared transform parameters.

A transform lists its parameters once, as :class:`Param` objects. The same declaration validates
keyword arguments, validates spec values (with the spec path in the error), documents the transform
(``describe_transform``) and serialises it back (``get_config``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ParameterError, did_you_mean

_MISSING = object()


@dataclass(frozen=True)
class Param:
    """One declared parameter of a transform.

    Parameters
    ----------
    name : str
        Keyword name.
    default : object
        Default value (must itself be valid).
    doc : str
        One-line description.
    type : str
        ``"int"``, ``"float"``, ``"bool"``, ``"str"``, ``"window"`` or ``"any"``.
    choices : tuple of str, optional
        For ``"str"`` parameters: the allowed values (matched case-insensitively and returned in
        the spelling given here).
    optional : bool
        Whether ``None`` is allowed.
    low, high : float, optional
        Inclusive bounds for numbers (``low_open``/``high_open`` make them exclusive).
    check : callable, optional
        ``check(value)`` returns ``None`` when allowed, else what is allowed.
    allowed_text : str, optional
        What is allowed, in words, for ``describe_transform`` (when a ``check`` decides it).
    """

    name: str
    default: Any
    doc: str
    type: str = "any"
    choices: tuple[Any, ...] | None = None
    optional: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)
    #: Words for what is allowed when ``type``, ``choices`` and the bounds do not say it (an ``"any"``
    #: parameter with a ``check``).
    allowed_text: str | None = None

    # -- description -------------------------------------------------------------------------
    def allowed(self) -> str:
        """Describe in words what values are allowed."""
        if self.allowed_text is not None:
            text = self.allowed_text
        elif self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.type == "window":
            text = "a scipy.signal.get_window spec: a name like 'hann' or a list like ['kaiser', 8.0]"
        else:
            text = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string"}.get(
                self.type, "any value"
            )
            if self.low is not None or self.high is not None:
                parts = []
                show = (lambda b: str(int(b))) if self.type == "int" else (lambda b: f"{b:g}")
                if self.low is not None:
                    parts.append(f"{'>' if self.low_open else '>='} {show(self.low)}")
                if self.high is not None:
                    parts.append(f"{'<' if self.high_open else '<='} {show(self.high)}")
                text += " " + " and ".join(parts)
        if self.optional:
            text += ", or None"
        return text

    # -- validation ----------------------------------------------------------------------------
    def validate(self, value: Any, *, context: str = "") -> Any:
        """Return ``value`` normalised, or raise :class:`ParameterError`."""

        def fail(allowed: str | None = None) -> ParameterError:
            return ParameterError(self.name, value, f"expected {allowed or self.allowed()}", context=context)

        if value is None:
            if self.optional:
                return None
            raise fail()
        if self.type == "bool":
            numpy_bool = type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool")
            if isinstance(value, bool) or numpy_bool:
                return bool(value)
            raise fail()
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise fail()
            value = int(value)
        elif self.type == "float":
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise fail()
            value = float(value)
            if not math.isfinite(value):
                raise fail()
        elif self.type == "str":
            if not isinstance(value, str):
                raise fail()
            if self.choices is not None:
                for choice in self.choices:
                    if isinstance(choice, str) and choice.lower() == value.lower():
                        return choice
                raise ParameterError(
                    self.name, value, f"expected {self.allowed()}{did_you_mean(value, self.choices)}", context=context
                )
        elif self.type == "window":
            from .kernels.windows import validate_window

            try:
                value = validate_window(value)
            except ValueError as exc:
                raise fail(f"{self.allowed()} ({exc})") from None
        elif self.choices is not None and value not in self.choices:
            raise fail()
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
            too_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
            if too_low or too_high:
                raise fail()
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise fail(problem)
        return value


def resolve_params(
    declared: Sequence[Param], given: Mapping[str, Any], *, owner: str, context: str = ""
) -> dict[str, Any]:
    """Validate ``given`` against ``declared`` and fill in defaults.

    Raises
    ------
    TypeError
        For a keyword that is not declared (with a did-you-mean and the list of parameters).
    ParameterError
        For a value that is not allowed.
    """
    by_name = {p.name: p for p in declared}
    for key in given:
        if key not in by_name:
            raise TypeError(
                f"{context + ': ' if context else ''}{owner} got an unexpected parameter {key!r}"
                f"{did_you_mean(key, by_name)}; its parameters are: {', '.join(by_name)}"
            )
    return {p.name: p.validate(given.get(p.name, p.default), context=context) for p in declared}


def to_plain(value: Any) -> Any:
    """Convert a parameter value to plain YAML/JSON types (tuples become lists)."""
    if isinstance(value, (tuple, list)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    item = getattr(value, "item", None)  # numpy scalars (np.int64(4), np.float32(2.5)) and 0-d arrays
    if callable(item) and type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return to_plain(item())
    return value
