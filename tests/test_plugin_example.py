"""The plugin written in docs/plugins.md: the doc's code is this file, and it works as documented."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nnaudio_core import SignalInfo, SpecError, build_transform, get_transform, kinds
from nnaudio_core.registry import REGISTRY
from nnaudio_core.testing import check_transform, plugin_registered

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "plugin_example"))
import linear_bands  # noqa: E402


def test_the_doc_shows_this_plugin_verbatim():
    doc = (HERE.parent / "docs" / "plugins.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n# linear_bands\.py\n(.*?)```", doc, flags=re.S)
    assert blocks, "docs/plugins.md lost its `# linear_bands.py` example"
    assert blocks[0] == (HERE / "plugin_example" / "linear_bands.py").read_text(encoding="utf-8")


@pytest.fixture
def plugin():
    REGISTRY.register_plugin(linear_bands, name="linear_bands_example")
    yield
    REGISTRY.unregister_plugin("linear_bands_example")


def test_the_example_plugin_works_in_a_spec(plugin):
    spec = {"pipeline": [{"stft": {"n_fft": 512, "hop_length": 128, "output_format": "Power"}},
                         {"linear_bands": {"n_fft": 512, "n_bands": 8, "fmax": 8000.0}},
                         {"power_to_db": {"top_db": 80}}]}
    pipe = build_transform(spec, device="cpu")
    x = torch.randn(2, 3, 8000)
    out = pipe(x)
    assert out.shape == (2, 3, 8, 1 + 8000 // 128)
    power = get_transform("stft")(n_fft=512, hop_length=128, output_format="Power")(x[1, 2])
    bands = get_transform("linear_bands")(n_fft=512, n_bands=8, fmax=8000.0)
    freqs = np.arange(257) * 22050 / 512
    first = (freqs >= 0) & (freqs < 1000)
    torch.testing.assert_close(bands(power)[0], power[torch.from_numpy(first)].mean(0))
    info = pipe.output_info()
    assert info.kind == kinds.DECIBELS and info.rows == 8 and info.frequencies[0] == 500.0
    wrong = dict(spec, pipeline=[spec["pipeline"][0], {"linear_bands": {"n_fft": 1024}}])
    with pytest.raises(SpecError, match=r"pipeline\[1\]\.linear_bands: .*257 frequency rows.*513 rows"):
        build_transform(wrong)
    with pytest.raises(SpecError, match=r"pipeline\[1\]\.linear_bands\.fmax: 20000\.0 is not allowed"):
        build_transform(dict(spec, pipeline=[spec["pipeline"][0], {"linear_bands": {"fmax": 20000.0}}]))
    assert bands.output_info(SignalInfo(kinds.MAGNITUDE, axes=("freq", "frames"))).kind == kinds.MAGNITUDE


def test_the_example_plugin_passes_the_conformance_suite_as_documented():
    with plugin_registered(linear_bands, name="linear_bands"):
        check_transform(linear_bands.LinearBands, n_fft=64, n_bands=4)
