"""Exception types and the did-you-mean helper shared by the registry, the transforms and specs."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


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
        super().__init__(f"{prefix}{parameter}={value!r} is not allowed; {allowed}")


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
