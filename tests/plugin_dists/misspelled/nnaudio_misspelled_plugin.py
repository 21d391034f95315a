"""A plugin that misspells the hook name: an error, not silence."""

from nnaudio_core import hookimpl


@hookimpl
def nnaudio_register_transform(register):  # missing the final "s"
    raise AssertionError("never called")
