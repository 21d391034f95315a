"""The examples of nnAudio's original README (``seed/nnAudio-README.md``), run against nnaudio-core.

Each example is the README's code with one change, the import line (``from nnaudio_core import
Spectrogram``); the WAV file and the training data are synthesized here. Where nnAudio 0.3.4 can
run the same code, its numbers are the reference.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import warnings
from pathlib import Path

import numpy as np
import torch
from cqt_reference import reference_cqt
from scipy.io import wavfile
from signals import chirp, notes, rel_err
from torch import nn

with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from nnAudio import features as nn_features  # nnaudio==0.3.4, a test dependency

ROOT = Path(__file__).resolve().parents[1]


def quiet(factory):
    """Build an nnAudio layer with its construction messages (stdout) silenced."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return factory()


# ------------------------------------------------------------------------------------------------
# "Standalone Usage"
# ------------------------------------------------------------------------------------------------
def test_standalone_usage(tmp_path):
    # a stereo 16-bit WAV: 440 Hz on the left, 1000 Hz on the right
    rate = 22050
    t = np.arange(int(1.5 * rate)) / rate
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 1000 * t)], axis=1)
    wavfile.write(tmp_path / "Bach.wav", rate, (stereo * 32767).astype(np.int16))

    # --- the README's code, with the import line changed -------------------------------------
    from nnaudio_core import Spectrogram

    sr, song = wavfile.read(tmp_path / "Bach.wav")  # Loading your audio
    x = song.mean(1)  # Converting Stereo  to Mono
    x = torch.tensor(x).float()  # casting the array into a PyTorch Tensor

    spec_layer = Spectrogram.STFT(n_fft=2048, freq_bins=None, hop_length=512,
                                  window='hann', freq_scale='linear', center=True, pad_mode='reflect',
                                  fmin=50, fmax=11025, sr=sr)  # Initializing the model

    spec = spec_layer(x)  # Feed-forward your waveform to get the spectrogram
    # -------------------------------------------------------------------------------------------

    # nnAudio 0.3's default output is "Complex": (batch of 1, freq_bins, frames, (real, imag))
    assert spec.shape == (1, 1025, 1 + len(x) // 512, 2)
    theirs = quiet(lambda: nn_features.STFT(n_fft=2048, freq_bins=None, hop_length=512, window='hann',
                                            freq_scale='linear', center=True, pad_mode='reflect', fmin=50,
                                            fmax=11025, sr=sr))(x)
    assert rel_err(spec.numpy(), theirs.numpy()) <= 1e-3  # 1e-7
    # the two tones are the two spectral peaks, on the linear 50 Hz - 11025 Hz axis
    magnitude = spec.square().sum(-1).sqrt()[0].mean(-1).numpy()
    freqs = np.array(spec_layer.bins2freq)
    step = (11025 - 50) / 1025
    np.testing.assert_allclose(freqs, 50 + step * np.arange(1025))
    assert abs(freqs[np.argmax(magnitude)] - 440) <= step  # the louder tone (left channel)
    above = freqs > 700
    assert abs(freqs[above][np.argmax(magnitude[above])] - 1000) <= step
    assert magnitude[above].max() > 100 * np.median(magnitude)


# ------------------------------------------------------------------------------------------------
# "Demonstration": Spectrogram.CQT2019
# ------------------------------------------------------------------------------------------------
def test_cqt2019_example():
    sr = 44100
    tone = np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    x = torch.tensor(np.stack([chirp(1.0, sr), notes(1.0, sr), tone]), dtype=torch.float32)

    # --- the README's code --------------------------------------------------------------------
    from nnaudio_core import Spectrogram

    CQT_layer = Spectrogram.CQT2019(sr=44100, n_bins=84 * 2, bins_per_octave=24, fmin=55)  # Defining the layer
    spec = CQT_layer(x)  # x is the audio clips with shape=(batch, len_audio)
    # -------------------------------------------------------------------------------------------

    assert spec.shape == (3, 168, 1 + sr // 512)
    assert int(spec[2].mean(-1).argmax()) == 72  # 55 Hz * 2 ** (72 / 24) = 440 Hz
    # the constant-Q transform's definition (float64, nnAudio's kernel lengths): 1.4e-05
    c = CQT_layer.transform.config
    expected = reference_cqt(x.double().numpy(), sr=sr, hop_length=512, fmin=55, n_bins=168, bins_per_octave=24,
                             lengths="nnaudio", pad_mode="reflect", norm=c["norm"], window=c["window"])
    assert rel_err(spec.numpy(), np.abs(expected)) <= 1e-3
    # nnAudio 0.3.4 has no CQT2019; its CQT2010v2 is the same transform, 0.3-0.5 % off on 2 s clips
    # (frames whose 27 000-sample lowest kernel lies inside the clip)
    x2 = torch.tensor(np.stack([chirp(2.0, sr), notes(2.0, sr)]), dtype=torch.float32)
    theirs = quiet(lambda: nn_features.CQT2010v2(sr=44100, n_bins=84 * 2, bins_per_octave=24, fmin=55))(x2)
    mine = CQT_layer(x2)
    edge = math.ceil(CQT_layer.transform.kernel_lengths[0] / 2 / 512) + 1
    for i in range(2):
        assert rel_err(mine[i, :, edge:-edge].numpy(), theirs[i, :, edge:-edge].numpy()) <= 1e-2


# ------------------------------------------------------------------------------------------------
# "On-the-fly audio processing" and "Using GPU"
# ------------------------------------------------------------------------------------------------
class Model(torch.nn.Module):
    """The README's model. Sizes are smaller (``k_out``, ``k2_out``) to keep the test fast, and the
    STFT asks for ``output_format="Magnitude"``: the README predates nnAudio 0.3, whose default
    output is "Complex" pairs, on which ``torch.log`` and ``Conv2d`` would fail."""

    def __init__(self, n_fft: int, freq_bins: int, regions: int, m: int, trainable: bool = True):
        super().__init__()
        from nnaudio_core import Spectrogram

        # Getting the spectrogram on the fly
        self.spec_layer = Spectrogram.STFT(sr=44100, n_fft=n_fft, freq_bins=freq_bins, fmin=50, fmax=6000,
                                           freq_scale='log', pad_mode='constant', center=True,
                                           output_format="Magnitude", trainable=trainable, verbose=False)
        self.n_bins = freq_bins

        # Creating CNN Layers
        self.CNN_freq_kernel_size = (128, 1)
        self.CNN_freq_kernel_stride = (2, 1)
        k_out = 8
        k2_out = 16
        self.CNN_freq = nn.Conv2d(1, k_out, kernel_size=self.CNN_freq_kernel_size, stride=self.CNN_freq_kernel_stride)
        self.CNN_time = nn.Conv2d(k_out, k2_out, kernel_size=(1, regions), stride=(1, 1))

        self.region_v = 1 + (self.n_bins - self.CNN_freq_kernel_size[0]) // self.CNN_freq_kernel_stride[0]
        self.linear = torch.nn.Linear(k2_out * self.region_v, m, bias=False)

    def forward(self, x):
        epsilon = 1e-6
        z = self.spec_layer(x)
        z = torch.log(z + epsilon)
        z2 = torch.relu(self.CNN_freq(z.unsqueeze(1)))
        z3 = torch.relu(self.CNN_time(z2))
        y = self.linear(torch.relu(torch.flatten(z3, 1)))
        return torch.sigmoid(y)


def tones(n: int, generator: torch.Generator, sr: int = 44100, length: int = 11025):
    """A batch of low (100-300 Hz, label 0) and high (1.5-3 kHz, label 1) tones in noise."""
    labels = torch.randint(0, 2, (n,), generator=generator)
    low = 100 + 200 * torch.rand(n, generator=generator)
    high = 1500 + 1500 * torch.rand(n, generator=generator)
    freq = torch.where(labels == 1, high, low)
    amplitude = 0.3 + 0.7 * torch.rand(n, 1, generator=generator)
    t = torch.arange(length) / sr
    x = amplitude * torch.sin(2 * math.pi * freq[:, None] * t) + 0.05 * torch.randn(n, length, generator=generator)
    return x, labels.float()[:, None]


def test_on_the_fly_model_trains_on_the_device():
    # "Using GPU", without torch.set_default_tensor_type (deprecated): move the model with .to(device)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    model = Model(n_fft=1024, freq_bins=160, regions=1 + 11025 // 256, m=1).to(device)
    spec_layer = model.spec_layer
    assert spec_layer.fourier.device.type == torch.device(device).type
    kernels_before = spec_layer.fourier.detach().clone()

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(20):
        x, y = tones(16, generator)
        loss = torch.nn.functional.binary_cross_entropy(model(x.to(device)), y.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])  # e.g. 0.69 -> 0.2
    assert not torch.equal(spec_layer.fourier.detach(), kernels_before)  # trainable kernels moved

    x, y = tones(64, generator)
    accuracy = ((model(x.to(device)) > 0.5).float().cpu() == y).float().mean()
    assert accuracy >= 0.9

    # the whole model, spectrogram layer included, also moves to float64
    model.to(torch.float64)
    assert spec_layer.fourier.dtype == torch.float64
    out = model(x.to(device, torch.float64))
    assert out.dtype == torch.float64 and torch.isfinite(out).all()


def test_frozen_spectrogram_layer_moves_and_rebuilds():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = Model(n_fft=1024, freq_bins=160, regions=1 + 11025 // 256, m=1, trainable=False).to(device)
    assert list(model.spec_layer.parameters()) == []  # frozen kernels are buffers
    assert model.spec_layer.fourier.device.type == torch.device(device).type
    x, _ = tones(4, torch.Generator().manual_seed(1))
    single = model.spec_layer(x.to(device)).cpu()
    model.to(torch.float64)
    double = model.spec_layer(x.to(device, torch.float64)).cpu()
    assert rel_err(single.numpy(), double.numpy()) <= 1e-5
    # nnAudio 0.3's default output layout, which the README's model cannot take as it stands
    from nnaudio_core import Spectrogram

    assert Spectrogram.STFT(n_fft=1024, verbose=False)(x).shape == (4, 513, 44, 2)


# ------------------------------------------------------------------------------------------------
# the README and the migration guide
# ------------------------------------------------------------------------------------------------
def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"no '## {title}' section"
    return match.group(1)


def test_readme_and_migration_guide_show_to_device():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = _section(readme, "Coming from nnAudio")
    assert "from nnaudio_core import Spectrogram" in section
    assert ".to(device)" in section
    assert "docs/migrating-from-nnaudio.md" in section
    assert "docs/migrating-from-nnaudio.md" in _section(readme, "Documentation")
    assert readme.index("## Coming from nnAudio") < readme.index("## Documentation")

    guide = (ROOT / "docs" / "migrating-from-nnaudio.md").read_text(encoding="utf-8")
    assert ".to(device)" in guide
    from nnaudio_core import Spectrogram

    for name in ("STFT", "MelSpectrogram", "MFCC", "CQT1992v2", "CQT2010v2", "CQT", "CQT2019", "CQT1992",
                 *Spectrogram.UNSUPPORTED):
        assert f"`{name}`" in guide, name
    # every constructor argument of every class appears in the guide's tables
    import inspect

    for name in ("STFT", "MelSpectrogram", "MFCC", "CQT1992v2", "CQT2010v2", "CQT1992"):
        for parameter in inspect.signature(getattr(Spectrogram, name)).parameters:
            if parameter != "kwargs":
                assert f"`{parameter}`" in guide, (name, parameter)


def test_migration_guide_first_example_runs():
    guide = (ROOT / "docs" / "migrating-from-nnaudio.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", guide, flags=re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/migrating-from-nnaudio.md", "exec"), namespace)  # noqa: S102
    assert namespace["spec"].shape == (4, 168, 87)
    assert namespace["spec"].device.type == torch.device(namespace["device"]).type


def test_the_bundled_cqt2019_spec_is_the_seed_configuration():
    from nnaudio_core import build_transform

    for name in ("cqt2019", "cqt2019.yaml"):
        (step,) = build_transform(name, device="cpu")
        c = step.config
        assert (step.name, c["sr"], c["n_bins"], c["bins_per_octave"], c["fmin"], c["hop_length"]) == (
            "cqt2019", 44100.0, 168, 24, 55.0, 512)
    (defaults,) = build_transform("cqt2019_c1", device="cpu")  # nnAudio's CQT2010v2 defaults keep a name
    assert (defaults.config["sr"], defaults.config["n_bins"], defaults.config["fmin"]) == (22050.0, 84, 32.70)
