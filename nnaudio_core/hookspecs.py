"""The plugin hook: one function, ``nnaudio_register_transforms(register)``.

A plugin module (or any object) implements it with :data:`hookimpl` and calls ``register`` once per
transform class::

    from nnaudio_core import KernelTransform, hookimpl

    @hookimpl
    def nnaudio_register_transforms(register):
        register(MyTransform, aliases=("my_alias",))
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

PROJECT = "nnaudio"
ENTRY_POINT_GROUP = "nnaudio.transforms"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def nnaudio_register_transforms(register: Callable[..., None]) -> None:
    """Register transform classes by calling ``register(cls, *, aliases=())`` for each.

    Parameters
    ----------
    register : callable
        ``register(cls, *, aliases=())``: ``cls`` is a :class:`~nnaudio_core.KernelTransform`
        subclass with a unique ``name``; ``aliases`` are extra names for the same class.
    """
