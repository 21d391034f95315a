"""An example third-party nnaudio plugin, discovered through its entry point like any other.

It adds a waveform → waveform pre-emphasis filter (a KernelTransform with a 2-tap kernel) and
extends the built-in STFT by subclassing it under a new name. The STFT class is looked up in the
registry *while this plugin is being loaded* (its entry point ``example`` sorts before ``stft``), the
documented way to extend a built-in.
"""

import numpy as np
import torch.nn.functional as F

from nnaudio_core import ConvTransform, Param, SignalInfo, available_transforms, get_transform, hookimpl
from nnaudio_core.kinds import WAVEFORM
from nnaudio_core.transform import TRAINABLE_PARAM


class PreEmphasis(ConvTransform):
    """First-order pre-emphasis ``y[n] = x[n] - coefficient * x[n - 1]``."""

    name = "example_preemphasis"
    params = (Param("coefficient", 0.97, "pre-emphasis coefficient", type="float", low=0, high=1), TRAINABLE_PARAM)

    def build_kernels(self):
        return {"taps": np.array([[[-self.config["coefficient"], 1.0]]])}

    def pad(self, x):
        return F.pad(x.unsqueeze(1), (1, 0))

    def analyse(self, x):
        return F.conv1d(x, self.taps).squeeze(1)

    def output_info(self, upstream=None):
        self.check_upstream(upstream)
        return upstream if upstream is not None else SignalInfo(WAVEFORM)


STFT = get_transform("stft")
assert "mel" in available_transforms()  # listing while loading works too


class PowerSTFT(STFT):
    """The built-in STFT returning power by default: a subclass under a new name is a new transform."""

    name = "example_power_stft"

    def validate_config(self, config):
        config = super().validate_config(config)
        if "output_format" not in self._given:
            config["output_format"] = "Power"
        return config


@hookimpl
def nnaudio_register_transforms(register):
    register(PreEmphasis, aliases=("example_pre",))
    register(PowerSTFT)
