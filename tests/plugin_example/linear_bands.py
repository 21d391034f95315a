"""linear_bands: average a power or magnitude spectrogram over equal-width frequency bands."""

import numpy as np
from torch import Tensor

from nnaudio_core import SpectrogramStep, hookimpl, kinds
from nnaudio_core.errors import ParameterError
from nnaudio_core.params import Param
from nnaudio_core.transform import TRAINABLE_PARAM, Batch


class LinearBands(SpectrogramStep):
    """Mean of the STFT bins in ``n_bands`` equal-width bands between ``fmin`` and ``fmax``."""

    name = "linear_bands"
    input_kinds = frozenset({kinds.POWER, kinds.MAGNITUDE})
    params = (
        Param("sr", 22050.0, "sample rate in Hz", type="float", low=0, low_open=True),
        Param("n_fft", 2048, "FFT length of the input (n_fft // 2 + 1 rows)", type="int", low=2),
        Param("n_bands", 16, "number of bands", type="int", low=1),
        Param("fmin", 0.0, "lower edge of the first band in Hz", type="float", low=0),
        Param("fmax", None, "upper edge of the last band in Hz (None: sr / 2)", type="float", optional=True),
        TRAINABLE_PARAM,
    )

    def validate_config(self, config):
        if config["fmax"] is None:
            config["fmax"] = config["sr"] / 2
        if not config["fmin"] < config["fmax"] <= config["sr"] / 2:
            raise ParameterError("fmax", config["fmax"], f"expected fmin < fmax <= sr / 2 = {config['sr'] / 2:g}")
        return config                                  # always return the config

    def setup(self):
        c = self.config
        self.edges = np.linspace(c["fmin"], c["fmax"], c["n_bands"] + 1)
        self.bin_hz = np.arange(c["n_fft"] // 2 + 1) * c["sr"] / c["n_fft"]

    def build_kernels(self):                           # float64 numpy arrays by name
        inside = (self.bin_hz >= self.edges[:-1, None]) & (self.bin_hz < self.edges[1:, None])
        weights = inside / np.maximum(inside.sum(axis=1, keepdims=True), 1)
        return {"weights": weights}                    # (n_bands, n_fft // 2 + 1)

    def expected_rows(self):                           # checked on every input and in specs
        return self.config["n_fft"] // 2 + 1

    def compute(self, x: Tensor, batch: Batch) -> Tensor:  # (N, freq, frames); TorchScript: annotate
        return self.weights @ x

    def output_info(self, upstream=None):              # what comes out, for specs, the CLI, plots
        kind = kinds.POWER if upstream is None else upstream.kind
        centres = (self.edges[:-1] + self.edges[1:]) / 2
        return self.passthrough_info(upstream, kind, frequencies=centres)


@hookimpl
def nnaudio_register_transforms(register):
    register(LinearBands)
