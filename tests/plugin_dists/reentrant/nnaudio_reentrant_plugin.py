"""A plugin extending another third-party plugin's transform, looked up while this one is loaded.

Its entry point ``aaa_reentrant`` sorts before the example plugin's ``example``, so the lookup loads
that plugin on demand (the built-ins are always loaded first).
"""
from nnaudio_core import get_transform, hookimpl

PreEmphasis = get_transform("example_preemphasis")


class StrongPreEmphasis(PreEmphasis):
    name = "reentrant_strong_preemphasis"


@hookimpl
def nnaudio_register_transforms(register):
    register(StrongPreEmphasis)
