"""Exception types and the did-you-mean helper shared by the registry, the transforms and specs."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable

#: Longest quotation of a value in an error message (characters).
MAX_QUOTE = 200

_REPR = reprlib.Repr()
_REPR.maxlevel = 4
_REPR.maxstring = MAX_QUOTE
_REPR.maxother = MAX_QUOTE
_REPR.maxlong = 60
for _attr in ("maxtuple", "maxlist", "maxarray", "maxdict", "maxset", "maxfrozenset", "maxdeque"):
    setattr(_REPR, _attr, 12)


def short_repr(value: object, limit: int = MAX_QUOTE) -> str:
    """``repr(value)`` in at most ``limit`` characters, in time bounded whatever the value's size.

    Containers show their first items and ``...``; nesting deeper than four levels shows as
    ``[...]``; a recursive container shows as ``[...]`` instead of recursing; a repr that fails shows
    the type. Error messages quote values through this, so a value built from YAML aliases
    (a "billion laughs") cannot make a message huge.

    Examples
    --------
    >>> short_repr(list(range(1000)))
    '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...]'
    >>> len(short_repr("x" * 10_000))
    200
    """
    try:
        text = _REPR.repr(value)
    except Exception:  # a value whose __repr__ fails  # noqa: BLE001
        text = f"<{type(value).__name__} object>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


class ParameterError(ValueError):
    """A transform parameter has a value that is not allowed.

    Attributes
    ----------
    parameter : str
        Name of the offending parameter.
    value : object
        The value that was given.
    allowed : str
        Human-readable description of what is allowed.
    """

    def __init__(self, parameter: str, value: object, allowed: str, *, context: str = "") -> None:
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        prefix = f"{context}: " if context else ""
        super().__init__(f"{prefix}{parameter}={short_repr(value)} is not allowed; {allowed}")


class SpecError(ValueError):
    """A pipeline spec is malformed; the message starts with the spec path of the problem."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class PluginError(RuntimeError):
    """A plugin could not be loaded or registered, or two plugins conflict."""


class UnknownTransformError(KeyError):
    """No registered transform has the requested name."""

    def __str__(self) -> str:  # KeyError quotes its argument; show the message as written
        return str(self.args[0])


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close."""
    matches = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""
