"""A plugin registering an alias the built-ins hold ("cqt")."""
from nnaudio_core import get_transform, hookimpl


class Taken(get_transform("dct")):
    name = "hostile_taken"


@hookimpl
def nnaudio_register_transforms(register):
    register(Taken, aliases=("cqt",))
