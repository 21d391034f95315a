"""A plugin that claims the name of the built-in ``stft``."""

from nnaudio_plugins.stft import STFT

from nnaudio_core import hookimpl


class AnotherSTFT(STFT):
    name = "stft"


@hookimpl
def nnaudio_register_transforms(register):
    register(AnotherSTFT)
