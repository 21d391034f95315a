"""``nnaudio_core.Spectrogram`` against nnAudio 0.3.4: numbers, layouts, arguments and errors.

Parity is the relative L2 error of magnitudes (``signals.rel_err``) on the same float32 inputs
(a chirp, harmonic notes and gated noise; 1 s at 22.05 kHz unless said otherwise). Figures
measured with nnAudio 0.3.4 and torch 2.13 (CPU) are in the comments; the assertions allow 1e-3
(1e-2 against nnAudio's multirate CQT2010v2, which is itself 0.3-1 % from its full-rate CQT).

Where nnAudio 0.3.4 is wrong, the test shows what nnAudio does (its exception, warning, NaN or
scale factor) and checks this library against the correct value instead: the float64 definition
in ``cqt_reference.py``, or nnAudio's own full-rate ``CQT1992v2``.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import math
import subprocess
import sys
import warnings

import librosa
import numpy as np
import pytest
import scipy.fft
import scipy.signal
import torch
from cqt_reference import reference_cqt
from signals import chirp, noise_bursts, notes, rel_err

from nnaudio_core import Spectrogram, features, get_transform
from nnaudio_core.errors import ParameterError

with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from nnAudio import features as nn_features  # nnaudio==0.3.4, a test dependency

SR = 22050
CLASSES = ("STFT", "MelSpectrogram", "MFCC", "CQT1992v2", "CQT2010v2", "CQT1992")


def nn(name: str, **kwargs):
    """An nnAudio layer, its construction messages (printed to stdout) silenced."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(nn_features, name)(**kwargs)


def ours(name: str, **kwargs):
    return getattr(Spectrogram, name)(**kwargs, **({} if name == "CQT1992" else {"verbose": False}))


def batch(duration: float = 1.0, sr: int = SR) -> torch.Tensor:
    """(3, len) float32: chirp, notes, noise bursts."""
    return torch.tensor(np.stack([chirp(duration, sr), notes(duration, sr), noise_bursts(duration, sr)]),
                        dtype=torch.float32)


@pytest.fixture(scope="module")
def clips() -> torch.Tensor:
    return batch(1.0)


@pytest.fixture(scope="module")
def clips2() -> torch.Tensor:
    return batch(2.0)


def np64(x: torch.Tensor) -> np.ndarray:
    return x.detach().numpy().astype(np.float64)


def stft_definition(x: torch.Tensor, *, n_fft=2048, win_length=None, freq_bins=None, hop_length=None,
                    window="hann", freq_scale="no", center=True, pad_mode="reflect", fmin=50, fmax=6000,
                    sr=SR) -> np.ndarray:
    """Complex STFT (batch, freq, frames) in float64, straight from nnAudio's documented definition:
    the periodic window centred in the frame, frequencies on the FFT grid ("no") or ``freq_bins``
    of them from ``fmin`` towards ``fmax``, linearly or geometrically spaced."""
    x = np64(x)
    win_length = win_length or n_fft
    hop = hop_length or win_length // 4
    w = scipy.signal.get_window(window, win_length, fftbins=True)
    left = (n_fft - win_length) // 2
    w = np.pad(w, (left, n_fft - win_length - left))
    if center:
        x = np.pad(x, [(0, 0), (n_fft // 2, n_fft // 2)], mode=pad_mode)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft, axis=-1)[:, ::hop]
    k = np.arange(freq_bins or n_fft // 2 + 1)
    if freq_scale == "no":
        hz = k * sr / n_fft
    elif freq_scale == "linear":
        hz = fmin + k * (fmax - fmin) / len(k)
    else:  # "log" and "log2"
        hz = fmin * (fmax / fmin) ** (k / len(k))
    basis = w[:, None] * np.exp(-2j * np.pi * np.outer(np.arange(n_fft), hz / sr))
    return np.swapaxes(frames @ basis, -1, -2)


def mel_definition(x: torch.Tensor, *, sr=SR, n_fft=2048, n_mels=128, hop_length=512, power=2.0, htk=False,
                   fmin=0.0, fmax=None, norm=1, **stft) -> np.ndarray:
    """Mel spectrogram in float64: librosa's filters (nnAudio's norm=1 is librosa's "slaney")."""
    basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk,
                                norm="slaney" if norm == 1 else norm, dtype=np.float64)
    spec = np.abs(stft_definition(x, n_fft=n_fft, hop_length=hop_length, sr=sr, **stft)) ** power
    return basis @ spec


def mfcc_definition(x: torch.Tensor, *, n_mfcc=20, ref=1.0, amin=1e-10, top_db=80.0, **mel) -> np.ndarray:
    """MFCCs in float64: decibels floored per example, then the orthonormal DCT-II."""
    db = np.stack([librosa.power_to_db(m, ref=ref, amin=amin, top_db=top_db) for m in mel_definition(x, **mel)])
    return scipy.fft.dct(db, type=2, norm="ortho", axis=-2)[:, :n_mfcc]


def cqt_definition(layer, x: torch.Tensor, normalization_type: str = "librosa") -> np.ndarray:
    """|CQT| from the float64 definition with nnAudio's kernel lengths and the layer's settings.

    nnAudio divides unnormalised kernels (``norm`` falsy) by their length ``l_k``; so does this.
    With ``center=False``, nnAudio's frame ``t`` has the kernels' ``n = 0`` on sample
    ``t * hop + fft_len // 2`` (its kernel array is ``fft_len = 2 ** ceil(log2(l_0))`` wide) and there
    are ``1 + (len - fft_len) // hop`` frames.
    """
    c = layer.transform.config
    x = np64(x)
    frames = None
    if not c["center"]:
        longest = float(layer.transform.kernel_lengths[0])
        fft_len = 2 ** math.ceil(math.log2(longest))
        frames = 1 + (x.shape[-1] - fft_len) // c["hop_length"]
        x = x[..., fft_len // 2 - math.ceil(longest / 2):]  # the reference puts n = 0 at t * hop + ceil(l_0 / 2)
    ref = reference_cqt(x, sr=c["sr"], hop_length=c["hop_length"], fmin=c["fmin"], n_bins=c["n_bins"],
                        bins_per_octave=c["bins_per_octave"], filter_scale=c["filter_scale"], norm=c["norm"],
                        window=c["window"], lengths="nnaudio", center=c["center"], pad_mode=c["pad_mode"],
                        normalization_type=normalization_type)
    if c["norm"] is None:
        ref = ref / layer.transform.kernel_lengths[:, None]
    return np.abs(ref if frames is None else ref[..., :frames])


def edge_frames(layer) -> int:
    """Frames at each end whose longest (lowest) kernel reaches outside the clip."""
    return math.ceil(layer.transform.kernel_lengths[0] / 2 / layer.transform.hop_length) + 1


def parity(label: str, actual, expected) -> float:
    """Relative L2 error, printed as ``PARITY label: value`` (``pytest -s ... | grep PARITY`` lists them)."""
    err = rel_err(np.asarray(actual), np.asarray(expected))
    print(f"PARITY {label}: {err:.2e}")
    return err


def label(config: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in config.items()) or "defaults"


def weighted_phase_err(mag: np.ndarray, unit_ours: np.ndarray, unit_theirs: np.ndarray) -> float:
    """Relative L2 error of ``mag * phasor``: phase differences weighted by the magnitude."""
    return rel_err(mag * unit_ours, mag * unit_theirs)


# ------------------------------------------------------------------------------------------------
# the compatibility module itself
# ------------------------------------------------------------------------------------------------
def test_import_names_and_thin_layers():
    from nnaudio_core import Spectrogram as S  # the one-line switch

    assert S.CQT is S.CQT1992v2  # nnAudio: CQT = CQT1992v2
    assert S.CQT2019 is S.CQT2010v2  # the seed README's name
    for name in (*CLASSES, "CQT", "CQT2019"):
        assert getattr(features, name) is getattr(S, name)  # nnAudio's newer module name
    plugins = {"STFT": "stft", "MelSpectrogram": "mel", "MFCC": "mfcc", "CQT1992v2": "cqt1992",
               "CQT1992": "cqt1992", "CQT2010v2": "cqt2019"}
    for name, transform in plugins.items():  # wrappers holding the registered transforms, not copies
        cls = getattr(S, name)
        assert cls.__module__.startswith("nnaudio_core.compat.")
        assert not issubclass(cls, get_transform(transform))
        layer = ours(name, **({"n_bins": 48} if name == "CQT1992" else {}))
        assert isinstance(layer.transform, get_transform(transform))
        assert type(layer.transform) is get_transform(transform)  # the plugin's own class, not a subclass
        assert [n for n, _ in layer.named_children()] == ["transform"]
        assert not hasattr(layer, "output_kind")  # nnAudio's layouts are not a registered kind


def _module_classes(module) -> set[str]:
    return {name for name, obj in vars(module).items()
            if inspect.isclass(obj) and issubclass(obj, torch.nn.Module) and not name.startswith("_")}


def test_the_facade_has_every_class_of_nnaudio_and_nnaudio2(monkeypatch):
    """The class list equals nnAudio 0.3.4's and nnAudio2 2.0.3's together (issue 13), plus the seed's CQT2019."""
    monkeypatch.setenv("NNAUDIO_DISABLE_CITATION_REMINDER", "1")
    import nnAudio2.features

    theirs = _module_classes(nn_features) | _module_classes(nnAudio2.features)
    assert {"iCQT", "iSTFT", "Griffin_Lim", "Gammatonegram", "CFP", "VQT"} <= theirs  # the list is not empty
    ours_listed = set(Spectrogram.__all__) - {"UNSUPPORTED", "CQT2019"}
    assert ours_listed == theirs
    assert _module_classes(Spectrogram) - {"CQT2019"} == theirs
    assert not Spectrogram.UNSUPPORTED  # nothing answers "not provided" any more


def test_import_stays_lazy():
    code = (
        "import sys, nnaudio_core\n"
        "assert 'nnaudio_core.Spectrogram' not in sys.modules\n"
        "assert not [m for m in sys.modules if m.startswith('nnaudio_plugins')]\n"
        "from nnaudio_core import Spectrogram\n"
        "import nnaudio_core.features\n"
        "assert not [m for m in sys.modules if m.startswith('nnaudio_plugins')]  # plugins load on construction\n"
        "layer = Spectrogram.STFT(verbose=False)\n"
        "print(Spectrogram.STFT.__module__, type(layer.transform).__module__,\n"
        "      nnaudio_core.features.STFT is Spectrogram.STFT)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["nnaudio_core.compat.stft", "nnaudio_plugins.stft", "True"]


@pytest.mark.parametrize("name", CLASSES)
def test_constructor_signature_is_nnaudios(name):
    """Same parameter names, order, kinds and defaults as nnAudio 0.3.4 (positional calls port unchanged)."""

    def params(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    assert params(getattr(Spectrogram, name)) == params(getattr(nn_features, name))


@pytest.mark.parametrize("name", CLASSES)
def test_forward_signature_is_nnaudios(name):
    def params(cls):
        return [(p.name, p.default) for p in inspect.signature(cls.forward).parameters.values()]

    assert params(getattr(Spectrogram, name)) == params(getattr(nn_features, name))


# ------------------------------------------------------------------------------------------------
# STFT
# ------------------------------------------------------------------------------------------------
STFT_CONFIGS = [
    {},  # 6.6e-07
    {"n_fft": 512, "hop_length": 100},  # 3.4e-07
    {"n_fft": 1000, "win_length": 800, "hop_length": 256, "window": "hamming"},  # 4.3e-07
    {"freq_scale": "linear", "fmin": 50, "fmax": 11025},  # 1.1e-07
    {"freq_scale": "log", "fmin": 50, "fmax": 6000, "freq_bins": 200},  # 7.5e-08
    {"freq_scale": "log2", "n_fft": 1024, "fmin": 30, "fmax": 8000, "freq_bins": 100},  # 7.0e-08
    {"center": False},  # 6.6e-07
    {"pad_mode": "constant", "window": "blackman"},
]


@pytest.mark.parametrize("config", STFT_CONFIGS, ids=label)
def test_stft_magnitude_matches_nnaudio(config, clips):
    theirs = nn("STFT", **config, output_format="Magnitude")(clips)
    mine = ours("STFT", **config, output_format="Magnitude")(clips)
    assert mine.shape == theirs.shape
    assert parity(f"STFT magnitude vs nnAudio [{label(config)}]", mine, theirs) <= 1e-3
    expected = np.abs(stft_definition(clips, **config))
    assert parity(f"STFT magnitude vs definition [{label(config)}]", mine, expected) <= 1e-3


def test_stft_layouts_and_output_format_override(clips):
    theirs, mine = nn("STFT"), ours("STFT")  # nnAudio 0.3 default: "Complex"
    complex_theirs, complex_mine = theirs(clips), mine(clips)
    assert complex_mine.shape == complex_theirs.shape == (3, 1025, 44, 2)
    assert complex_mine.dtype == torch.float32
    assert parity("STFT complex vs nnAudio [defaults]", complex_mine, complex_theirs) <= 1e-3  # 7.9e-07
    magnitude = mine(clips, output_format="Magnitude")
    assert magnitude.shape == (3, 1025, 44)
    assert torch.allclose(magnitude, complex_mine.square().sum(-1).sqrt(), rtol=1e-5, atol=1e-6)
    # "Phase" is the angle, (batch, freq, frames); compared as magnitude-weighted phasors (4.3e-07)
    phase_theirs, phase_mine = theirs(clips, output_format="Phase"), mine(clips, output_format="Phase")
    assert phase_mine.shape == phase_theirs.shape == (3, 1025, 44)
    mag = np64(magnitude)
    assert weighted_phase_err(mag, np.exp(1j * np64(phase_mine)), np.exp(1j * np64(phase_theirs))) <= 1e-5
    # a layer built for magnitudes still gives complex pairs on request
    assert ours("STFT", output_format="Magnitude")(clips, output_format="Complex").shape == (3, 1025, 44, 2)


@pytest.mark.parametrize("shape", [(SR,), (2, SR), (2, 1, SR)], ids=["len", "batch,len", "batch,1,len"])
def test_input_layouts_give_nnaudios_shapes(shape):
    x = torch.randn(shape)
    for name, kwargs in [("STFT", {}), ("MelSpectrogram", {}), ("MFCC", {}), ("CQT1992v2", {}),
                         ("CQT2010v2", {}), ("CQT1992", {"n_bins": 48})]:
        assert ours(name, **kwargs)(x).shape == nn(name, **kwargs)(x).shape, name


def test_multichannel_input_keeps_channels():
    """nnAudio rejects (batch, channels > 1, len); here each channel is transformed."""
    x = torch.randn(2, 3, 8000)
    with pytest.raises(RuntimeError):
        nn("STFT", n_fft=512)(x)
    layer = ours("STFT", n_fft=512, output_format="Magnitude")
    y = layer(x)
    assert y.shape == (2, 3, 257, 1 + 8000 // 128)
    assert torch.allclose(y[1, 2], layer(x[1, 2])[0])


def test_stft_invalid_freq_scale_raises_where_nnaudio_returns_garbage(clips):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # nnAudio prints a hint and builds uninitialised kernels
        garbage = nn_features.STFT(freq_scale="mel", verbose=False)(clips, output_format="Magnitude")
    assert "Please select the correct frequency scale" in out.getvalue()
    assert garbage.shape == (3, 1025, 44)  # whatever np.empty held; no error
    with pytest.raises(ParameterError, match=r"freq_scale='mel'.*'no', 'linear', 'log', 'log2'"):
        ours("STFT", freq_scale="mel")


def test_invalid_output_format_raises_where_nnaudio_returns_none(clips):
    assert nn("STFT")(clips, output_format="Power") is None
    assert nn("CQT1992v2")(clips, output_format="magnitude") is None
    with pytest.raises(ParameterError, match=r"output_format='magnitude'.*did you mean 'Magnitude'"):
        ours("CQT1992v2")(clips, output_format="magnitude")
    with pytest.raises(ParameterError, match="output_format='Power'"):
        ours("STFT", output_format="Power")
    with pytest.raises(ValueError, match="normalization_type"):
        nn("CQT1992v2")(clips, normalization_type="none")
    with pytest.raises(ParameterError, match=r"normalization_type='none'.*'librosa', 'convolutional', 'wrap'"):
        ours("CQT1992v2")(clips, normalization_type="none")


def test_istft_on_layers_without_an_inverse_is_refused():
    with pytest.raises(NotImplementedError, match="iSTFT=True.*Spectrogram.iSTFT"):
        ours("MelSpectrogram", iSTFT=True)
    with pytest.raises(NotImplementedError, match="iSTFT=True"):
        ours("MFCC", iSTFT=True)


# ------------------------------------------------------------------------------------------------
# iSTFT, STFT.inverse, Griffin_Lim
# ------------------------------------------------------------------------------------------------
INVERSE_CLASSES = ("iSTFT", "Griffin_Lim")


@pytest.mark.parametrize("name", INVERSE_CLASSES)
def test_inverse_signatures_are_nnaudios(name):
    def params(function):
        return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]

    assert params(getattr(Spectrogram, name)) == params(getattr(nn_features, name))
    assert params(getattr(Spectrogram, name).forward) == params(getattr(nn_features, name).forward)
    assert params(Spectrogram.STFT.inverse) == params(nn_features.STFT.inverse)[:1] + [
        ("X", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
        ("onesided", inspect.Parameter.POSITIONAL_OR_KEYWORD, True),
        ("length", inspect.Parameter.POSITIONAL_OR_KEYWORD, None),
        ("refresh_win", inspect.Parameter.POSITIONAL_OR_KEYWORD, None),
    ]


@pytest.mark.parametrize(("n_fft", "hop", "window"), [(1024, 256, "hann"), (512, 128, "hamming")])
def test_istft_matches_nnaudio(clips, n_fft, hop, window):
    spec = nn("STFT", n_fft=n_fft, hop_length=hop, window=window, iSTFT=True)(clips)  # (batch, freq, time, 2)
    length = clips.shape[-1]
    theirs = nn("iSTFT", n_fft=n_fft, hop_length=hop, window=window)
    mine = ours("iSTFT", n_fft=n_fft, hop_length=hop, window=window)
    assert mine.transform.name == "istft"
    ref = theirs(spec, onesided=True, length=length)
    assert (mine(spec, onesided=True, length=length) - ref).abs().max() <= 1e-3
    assert rel_err(np64(mine(spec, onesided=True, length=length)), np64(clips)) <= 1e-5
    # nnAudio's default onesided=False takes the two-sided spectrum (bins n_fft // 2 + 1 ... mirrored)
    two_sided = torch.cat([spec, torch.flip(spec[:, 1:-1], [1]) * torch.tensor([1.0, -1.0])], dim=1)
    assert (mine(two_sided, length=length) - theirs(two_sided, length=length)).abs().max() <= 1e-3
    # STFT(iSTFT=True).inverse
    stft_mine, stft_theirs = ours("STFT", n_fft=n_fft, hop_length=hop, window=window, iSTFT=True), nn(
        "STFT", n_fft=n_fft, hop_length=hop, window=window, iSTFT=True)
    assert (stft_mine.inverse(spec, length=length) - stft_theirs.inverse(spec, length=length)).abs().max() <= 1e-3
    with pytest.raises(ValueError, match="onesided=True"):
        mine(spec)  # one-sided input with nnAudio's default onesided=False


def test_istft_where_nnaudio_fails():
    x = torch.from_numpy(notes(0.5)).float()[None]
    # a window shorter than n_fft: nnAudio multiplies n_fft-sample frames by a win_length window and fails
    spec = ours("STFT", n_fft=512, win_length=400, hop_length=128)(x)
    with pytest.raises(RuntimeError, match="must match"):
        nn("iSTFT", n_fft=512, win_length=400, hop_length=128)(spec, onesided=True)
    ref = librosa.istft(torch.view_as_complex(spec).numpy(), n_fft=512, win_length=400, hop_length=128,
                        length=x.shape[-1])
    mine = ours("iSTFT", n_fft=512, win_length=400, hop_length=128)(spec, onesided=True, length=x.shape[-1])
    assert rel_err(mine.numpy(), ref) <= 1e-5
    # refresh_win=False: nnAudio keeps the first input's window-sum-square and fails on another length
    theirs = nn("iSTFT", n_fft=512, hop_length=128, refresh_win=False)
    theirs(spec, onesided=True)
    shorter = spec[:, :, :20]
    with pytest.raises(IndexError):
        theirs(shorter, onesided=True)
    mine = ours("iSTFT", n_fft=512, win_length=400, hop_length=128, refresh_win=False)
    mine(spec, onesided=True)
    ref = librosa.istft(torch.view_as_complex(shorter.contiguous()).numpy(), n_fft=512, win_length=400, hop_length=128)
    assert rel_err(mine(shorter, onesided=True).numpy(), ref) <= 1e-5
    # a length beyond the frames: nnAudio returns fewer samples; here zero-padded, as librosa
    length = x.shape[-1] + 1000
    assert nn("iSTFT", n_fft=512, hop_length=128)(ours("STFT", n_fft=512, hop_length=128)(x), onesided=True,
                                                   length=length).shape[-1] < length
    assert ours("iSTFT", n_fft=512, hop_length=128)(ours("STFT", n_fft=512, hop_length=128)(x), onesided=True,
                                                     length=length).shape[-1] == length
    with pytest.raises(ParameterError, match="freq_scale"):
        ours("iSTFT", freq_scale="log")


def test_griffin_lim_works_where_nnaudios_fails():
    x = torch.from_numpy(notes(1.0)).float()[None]
    magnitude = ours("STFT", n_fft=512, hop_length=128, output_format="Magnitude")(x)
    with pytest.raises(RuntimeError, match="complex"):  # nnAudio 0.3.4 calls torch.istft with real tensors
        nn("Griffin_Lim", n_fft=512, hop_length=128)(magnitude)
    layer = Spectrogram.Griffin_Lim(n_fft=512, n_iter=32, hop_length=128)
    assert layer.transform.name == "griffin_lim"
    y = layer(magnitude)
    rebuilt = ours("STFT", n_fft=512, hop_length=128, output_format="Magnitude")(y)
    frames = min(rebuilt.shape[-1], magnitude.shape[-1])
    convergence = float((rebuilt[..., :frames] - magnitude[..., :frames]).norm() / magnitude.norm())
    assert convergence < 0.25


def test_unknown_keyword_arguments_raise():
    with pytest.raises(TypeError, match=r"'n_ffts'.*did you mean 'n_fft'"):
        ours("MFCC", n_ffts=1024)
    with pytest.raises(TypeError, match="'freq_bins'"):  # nnAudio passes **kwargs to its STFT; only iSTFT fits
        ours("MelSpectrogram", freq_bins=100)
    with pytest.raises(TypeError):
        ours("STFT", n_mels=40)


def test_stft_float64_is_exact_and_trainable_kernels_are_parameters():
    x = torch.tensor(notes(0.5, SR))
    layer = ours("STFT", n_fft=512, hop_length=128, output_format="Magnitude").to(torch.float64)
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(x.numpy(), 256, mode="reflect"), 512)[::128]
    expected = np.abs(np.fft.rfft(frames * np.hanning(513)[:-1], axis=-1)).T
    assert rel_err(layer(x)[0].numpy(), expected) <= 1e-10
    trainable = ours("STFT", n_fft=512, trainable=True)
    assert trainable.transform.trainable_kernels == ("fourier",)
    assert isinstance(trainable.fourier, torch.nn.Parameter)
    assert trainable.fourier is trainable.transform.fourier
    assert [n for n, _ in trainable.named_parameters()] == ["transform.fourier"]


def test_trained_nnaudio_stft_kernels_convert_exactly():
    """The conversion docs/migrating-from-nnaudio.md gives for a trained nnAudio STFT checkpoint."""
    theirs = nn("STFT", n_fft=512, trainable=True, output_format="Complex")
    with torch.no_grad():  # "training"
        theirs.wsin.add_(0.01 * torch.randn_like(theirs.wsin))
        theirs.wcos.add_(0.01 * torch.randn_like(theirs.wcos))
    state = theirs.state_dict()
    stft = Spectrogram.STFT(n_fft=512, trainable=True, verbose=False)
    stft.load_state_dict({"transform.fourier": torch.cat([state["wcos"], -state["wsin"]])})
    x = torch.randn(2, 8000)
    assert parity("STFT converted trained kernels vs nnAudio", stft(x).detach(), theirs(x).detach()) <= 1e-6


# ------------------------------------------------------------------------------------------------
# mel and MFCC
# ------------------------------------------------------------------------------------------------
MEL_CONFIGS = [
    {},  # 8.5e-07
    {"n_mels": 40, "n_fft": 512, "hop_length": 128},  # 4.6e-07
    {"htk": True},  # 8.3e-07
    {"norm": None},  # 8.1e-07
    {"norm": None, "htk": True, "fmin": 100, "fmax": 8000},  # 9.4e-07
    {"power": 1.0, "win_length": 1024, "pad_mode": "constant"},
]


@pytest.mark.parametrize("config", MEL_CONFIGS, ids=label)
def test_melspectrogram_matches_nnaudio(config, clips):
    theirs = nn("MelSpectrogram", **config)(clips)
    mine = ours("MelSpectrogram", **config)(clips)
    assert mine.shape == theirs.shape
    assert parity(f"MelSpectrogram vs nnAudio [{label(config)}]", mine, theirs) <= 1e-3
    assert parity(f"MelSpectrogram vs definition [{label(config)}]", mine, mel_definition(clips, **config)) <= 1e-3


MFCC_CONFIGS = [
    {},  # 8.8e-07
    {"n_mfcc": 13, "n_mels": 40, "n_fft": 512, "hop_length": 128},  # 7.6e-07
    {"htk": True, "fmin": 20, "fmax": 8000},
    {"top_db": None},  # 1.5e-04: float32 log10 of the near-silent mel bins of the gated noise
    {"ref": 10.0, "amin": 1e-5, "top_db": 60.0},
]


@pytest.mark.parametrize("config", MFCC_CONFIGS, ids=label)
def test_mfcc_matches_nnaudio(config, clips):
    theirs = nn("MFCC", **config)(clips)
    mine = ours("MFCC", **config)(clips)
    assert mine.shape == theirs.shape
    assert parity(f"MFCC vs nnAudio [{label(config)}]", mine, theirs) <= 1e-3
    assert parity(f"MFCC vs definition [{label(config)}]", mine, mfcc_definition(clips, **config)) <= 1e-3


def test_mfcc_norm_is_honoured_where_nnaudio_ignores_it(clips):
    # nnAudio 0.3.4 always applies the orthonormal DCT: norm=None changes nothing there
    assert torch.equal(nn("MFCC", norm=None)(clips), nn("MFCC", norm="ortho")(clips))
    # here norm=None is scipy's unnormalised DCT-II: 2 * sqrt(N) (k = 0) and sqrt(2 N) times the orthonormal
    n_mels = 128
    ortho, plain = ours("MFCC")(clips), ours("MFCC", norm=None)(clips)
    scale = torch.full((20, 1), math.sqrt(2 * n_mels))
    scale[0] = 2 * math.sqrt(n_mels)
    assert torch.allclose(plain, ortho * scale, rtol=1e-5, atol=1e-3)


def test_mel_and_mfcc_trainable_flags():
    mel = ours("MelSpectrogram", n_fft=512, trainable_mel=True, trainable_STFT=True)
    assert isinstance(mel.mel_basis, torch.nn.Parameter)
    assert isinstance(mel.stft.fourier, torch.nn.Parameter)
    assert mel.transform.config["trainable_filters"] and mel.transform.config["trainable_stft"]
    only_mel = ours("MelSpectrogram", n_fft=512, trainable_mel=True)
    assert [n for n, _ in only_mel.named_parameters()] == ["transform.mel_scale.mel_basis"]
    mfcc = ours("MFCC", n_fft=512, trainable_mel=True)
    assert isinstance(mfcc.melspec_layer.mel_basis, torch.nn.Parameter)  # nnAudio's attribute path
    assert [n for n, _ in mfcc.named_parameters()] == ["transform.mel.mel_scale.mel_basis"]


# ------------------------------------------------------------------------------------------------
# CQT1992v2 (= CQT) and CQT1992
# ------------------------------------------------------------------------------------------------
CQT1992_CONFIGS = [
    {},  # vs nnAudio 1.2e-06, vs definition 1.2e-06
    {"fmin": 55, "n_bins": 60},  # 9.8e-07
    {"bins_per_octave": 24, "n_bins": 120},  # 1.6e-06
    {"filter_scale": 0.5},  # 7.7e-07
    {"fmin": 100, "n_bins": 48, "hop_length": 256},  # 7.6e-07
    {"norm": 2},  # 1.4e-06
    {"norm": None},  # 1.2e-06: nnAudio's 1 / l_k factor on unnormalised kernels
    {"window": "hamming", "fmax": 2000},  # 9.9e-07; n_bins from fmax
    {"pad_mode": "constant", "center": False},  # 1.2e-06; nnAudio's uncentred frame positions and count
    {"fmin": 55, "n_bins": 60, "hop_length": 256, "center": False},
]


@pytest.mark.parametrize("config", CQT1992_CONFIGS,
                         ids=label)
def test_cqt1992v2_matches_nnaudio_and_the_definition(config, clips):
    theirs = nn("CQT1992v2", **config)(clips)
    layer = ours("CQT1992v2", **config)
    mine = layer(clips)
    assert mine.shape == theirs.shape
    assert parity(f"CQT1992v2 vs nnAudio [{label(config)}]", mine, theirs) <= 1e-3
    assert parity(f"CQT1992v2 vs definition [{label(config)}]", mine, cqt_definition(layer, clips)) <= 1e-3


@pytest.mark.parametrize("normalization_type", ["librosa", "convolutional", "wrap"])
def test_cqt_normalization_type_and_layouts(normalization_type, clips):
    theirs, mine = nn("CQT1992v2"), ours("CQT")
    a = theirs(clips, normalization_type=normalization_type)
    b = mine(clips, normalization_type=normalization_type)
    assert parity(f"CQT vs nnAudio [normalization_type={normalization_type}]", b, a) <= 1e-3  # 6.7e-07
    assert parity(f"CQT vs definition [normalization_type={normalization_type}]", b,
                  cqt_definition(mine, clips, normalization_type)) <= 1e-3
    # "Complex": (batch, n_bins, frames, 2) real pairs; "Phase": (cos, sin) of the angle
    za = theirs(clips, output_format="Complex", normalization_type=normalization_type)
    zb = mine(clips, output_format="Complex", normalization_type=normalization_type)
    assert zb.shape == za.shape == (3, 84, 44, 2)
    assert parity(f"CQT complex vs nnAudio [normalization_type={normalization_type}]", zb, za) <= 1e-3  # 1.5e-06
    pa, pb = theirs(clips, output_format="Phase"), mine(clips, output_format="Phase")
    assert pb.shape == pa.shape == (3, 84, 44, 2)
    assert torch.allclose(pb.square().sum(-1), torch.ones(3, 84, 44), atol=1e-5)
    unit = lambda p: np64(p[..., 0]) + 1j * np64(p[..., 1])  # noqa: E731
    assert weighted_phase_err(np64(b), unit(pb), unit(pa)) <= 1e-5  # 8.7e-07


def test_cqt1992_frequency_domain_variant(clips):
    theirs, mine = nn("CQT1992", n_bins=48), ours("CQT1992", n_bins=48)
    a, b = theirs(clips), mine(clips)
    assert b.shape == a.shape == (3, 48, 44)
    # nnAudio's STFT-domain product keeps only positive frequencies of the kernels: 7.3e-05 from its CQT1992v2
    assert parity("CQT1992 vs nnAudio CQT1992 [n_bins=48]", b, a) <= 1e-3  # 7.3e-05
    assert parity("CQT1992 vs definition [n_bins=48]", b, cqt_definition(mine, clips)) <= 1e-3  # 1.2e-06
    za, zb = theirs(clips, output_format="Complex"), mine(clips, output_format="Complex")
    assert rel_err(zb.numpy(), za.numpy()) <= 1e-3  # 9.8e-05
    # nnAudio bug: CQT1992's "Phase" is the conjugate of its own "Complex" output (sin flipped);
    # here it is the phase of the Complex output, the same as CQT1992v2's.
    pa, pb = theirs(clips, output_format="Phase"), mine(clips, output_format="Phase")
    unit = lambda p: np64(p[..., 0]) + 1j * np64(p[..., 1])  # noqa: E731
    complex_theirs = np64(za[..., 0]) + 1j * np64(za[..., 1])
    mag = np.abs(complex_theirs)
    assert weighted_phase_err(mag, unit(pa), np.exp(-1j * np.angle(complex_theirs))) <= 1e-3
    assert weighted_phase_err(mag, unit(pb), np.exp(1j * np.angle(complex_theirs))) <= 1e-3
    # center=False: nnAudio's frame positions and count, as CQT1992v2
    uncentred = nn("CQT1992", n_bins=48, center=False)(clips)
    assert rel_err(ours("CQT1992", n_bins=48, center=False)(clips).numpy(), uncentred.numpy()) <= 1e-3
    with pytest.raises(ValueError, match="too short for center=False"):
        ours("CQT1992", n_bins=48, center=False)(clips[:, :1000])
    # trainable_CQT trains the kernels; there is no separate STFT stage to train
    assert isinstance(ours("CQT1992", n_bins=48, trainable_CQT=True).cqt_kernels, torch.nn.Parameter)
    with pytest.raises(NotImplementedError, match="trainable_CQT=True"):
        ours("CQT1992", n_bins=48, trainable_STFT=True)


def test_cqt1992_default_arguments_are_invalid_in_both():
    """nnAudio's CQT1992 defaults (fmin=220, 84 bins at 22.05 kHz) put the top bin above Nyquist."""
    with pytest.raises(ValueError, match="Nyquist"):
        nn("CQT1992")
    with pytest.raises(ParameterError, match="largest valid n_bins is 68"):
        ours("CQT1992")


def test_cqt_float64_rebuilds_nnaudio_factors_exactly():
    x = torch.tensor(notes(0.5, SR))
    layer = ours("CQT1992v2", norm=None, fmin=55, n_bins=48).to(torch.float64)
    assert layer(x).dtype == torch.float64
    # the fft path keeps single-precision kernel spectra (docs/cqt.md): ~1e-7, not 1e-15
    assert rel_err(layer(x).numpy(), cqt_definition(layer, x[None])) <= 1e-6
    wrap = layer(x, normalization_type="wrap").numpy()
    assert rel_err(wrap, cqt_definition(layer, x[None], "wrap")) <= 1e-6


# ------------------------------------------------------------------------------------------------
# CQT2010v2 (= CQT2019)
# ------------------------------------------------------------------------------------------------
CQT2010_CONFIGS = [
    (SR, {}),  # vs definition 8.6e-06
    (44100, {"n_bins": 168, "bins_per_octave": 24, "fmin": 55}),  # the seed README's; 1.4e-05
    (SR, {"fmin": 110, "n_bins": 60}),
    (SR, {"fmin": 55, "n_bins": 60}),  # early downsampling by 2 in nnAudio
    (SR, {"fmin": 110, "n_bins": 60, "bins_per_octave": 24, "filter_scale": 0.5}),  # early downsampling by 4
    (SR, {"fmin": 65.4, "n_bins": 72, "hop_length": 256}),
    (SR, {"basis_norm": 2}),
    (SR, {"basis_norm": None}),
    (SR, {"n_bins": 80, "earlydownsample": False, "pad_mode": "constant"}),
    (SR, {"fmin": 55, "fmax": 3000}),
]


@pytest.mark.parametrize(("sr", "config"), CQT2010_CONFIGS,
                         ids=lambda c: label(c) if isinstance(c, dict) else str(c))
def test_cqt2010v2_matches_the_full_rate_definition(sr, config):
    """The multirate result equals the full-rate CQT with nnAudio's lengths (nnAudio's own is 0.3-1 % off)."""
    x = batch(1.0, sr)
    layer = ours("CQT2010v2", sr=sr, **config)
    mine = layer(x)
    assert mine.shape == (3, layer.transform.n_bins, 1 + x.shape[-1] // layer.transform.hop_length)
    assert parity(f"CQT2010v2 vs definition [sr={sr},{label(config)}]", mine, cqt_definition(layer, x)) <= 1e-3
    full_rate = {k: v for k, v in config.items() if k not in ("earlydownsample", "basis_norm")}
    if "basis_norm" in config:
        full_rate["norm"] = config["basis_norm"]
    assert parity(f"CQT2010v2 vs nnAudio CQT1992v2 [sr={sr},{label(config)}]", mine,
                  nn("CQT1992v2", sr=sr, **full_rate)(x)) <= 1e-3


@pytest.mark.parametrize(("sr", "config"), [
    (SR, {}),  # 0.87 % (chirp), 0.50 % (notes), 0.85 % (noise)
    (44100, {"n_bins": 168, "bins_per_octave": 24, "fmin": 55}),  # 0.45 %, 0.29 %, 0.35 %
    (SR, {"fmin": 110, "n_bins": 60, "hop_length": 256}),
])
def test_cqt2010v2_is_close_to_nnaudios_multirate_output(sr, config):
    """Within 1e-2 of nnAudio's CQT2010v2 on frames whose longest kernel lies inside the 2 s clip."""
    x = batch(2.0, sr)
    theirs_layer = nn("CQT2010v2", sr=sr, **config)
    assert theirs_layer.downsample_factor == 1  # see the early-downsampling test for the other case
    layer = ours("CQT2010v2", sr=sr, **config)
    theirs, mine = theirs_layer(x), layer(x)
    assert mine.shape == theirs.shape
    inner = slice(edge_frames(layer), mine.shape[-1] - edge_frames(layer))
    for i in range(3):
        assert parity(f"CQT2010v2 vs nnAudio CQT2010v2, inner frames [sr={sr},{label(config)}] signal {i}",
                      mine[i, :, inner], theirs[i, :, inner]) <= 1e-2


def test_cqt2010v2_early_downsampling_scale_bug():
    """nnAudio bug: with early downsampling its output is scaled by the downsampling factor D.

    It multiplies by D and (``librosa`` normalisation) by ``sqrt(l_k)`` with ``l_k`` computed at the
    reduced rate (``sqrt(1 / D)`` too small): ``sqrt(D)`` too large overall, ``D`` with
    ``normalization_type="convolutional"``. Here early downsampling changes the speed, not the values.
    """
    x = batch(2.0)
    config = {"fmin": 55, "n_bins": 60}
    theirs_layer = nn("CQT2010v2", **config)
    assert theirs_layer.downsample_factor == 2
    layer = ours("CQT2010v2", **config)
    theirs, mine = theirs_layer(x), layer(x)
    inner = slice(edge_frames(layer), mine.shape[-1] - edge_frames(layer))
    a, b = theirs[..., inner].numpy(), mine[..., inner].numpy()
    assert rel_err(b, a) > 0.25  # 0.29
    assert rel_err(b, a / math.sqrt(2)) <= 1e-2  # nnAudio / sqrt(D): 0.3-0.4 %
    conv_theirs = theirs_layer(x, normalization_type="convolutional")[..., inner].numpy()
    conv_mine = layer(x, normalization_type="convolutional")[..., inner].numpy()
    assert rel_err(conv_mine, conv_theirs / 2) <= 1e-2
    # the correct value: nnAudio's own full-rate CQT1992v2, and the definition
    assert rel_err(mine.numpy(), nn("CQT1992v2", **config)(x).numpy()) <= 1e-3  # 6.0e-06
    assert rel_err(layer(x, normalization_type="convolutional").numpy(),
                   cqt_definition(layer, x, "convolutional")) <= 1e-3
    assert rel_err(ours("CQT2010v2", **config, earlydownsample=False)(x).numpy(), mine.numpy()) <= 1e-4


def test_cqt2010v2_basis_norm_2_bug():
    """nnAudio bug: CQT2010v2(basis_norm=2) L2-normalises the top-octave kernels once, so octave o
    below the top comes out 2 ** (-o / 2) times too small; here each kernel has unit L2 norm."""
    x = batch(2.0)
    theirs = nn("CQT2010v2", basis_norm=2)(x)
    mine = ours("CQT2010v2", basis_norm=2)(x)
    reference = nn("CQT1992v2", norm=2)(x)
    inner = slice(13, -13)
    ratio = np.median((theirs / reference)[1, :, inner].numpy().reshape(7, 12, -1), axis=(1, 2))  # the notes
    np.testing.assert_allclose(ratio, 2.0 ** (-np.arange(6, -1, -1) / 2), rtol=0.03)
    assert rel_err(mine.numpy(), reference.numpy()) <= 1e-3  # 9.6e-06


@pytest.mark.parametrize("hop_length", [500, 441, 100])
def test_cqt2010v2_any_hop_length(hop_length, clips):
    """nnAudio bug: hop lengths not divisible by 2 ** (octaves - 1) make its octaves' frame counts differ."""
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        nn("CQT2010v2", hop_length=hop_length)(clips)
    layer = ours("CQT2010v2", hop_length=hop_length)
    mine = layer(clips)
    assert mine.shape == (3, 84, 1 + SR // hop_length)
    assert rel_err(mine.numpy(), cqt_definition(layer, clips)) <= 1e-3


def test_cqt_clips_shorter_than_the_longest_kernel():
    """nnAudio bug: reflect padding of a clip shorter than half the longest kernel fails (CQT1992v2) or
    silently falls back to zeros (CQT2010v2); here the clip is reflected repeatedly, as defined."""
    x = batch(0.2)  # 4410 samples; the 32.7 Hz kernel is 11 395 samples long
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        nn("CQT1992v2")(x)
    with pytest.warns(UserWarning, match="padding with reflection mode"):
        short_theirs = nn("CQT2010v2")(x)
    for name in ("CQT1992v2", "CQT2010v2"):
        layer = ours(name)
        mine = layer(x)
        assert mine.shape == (3, 84, 9)
        assert rel_err(mine.numpy(), cqt_definition(layer, x)) <= 1e-3
    assert rel_err(short_theirs.numpy(), cqt_definition(layer, x)) > 0.1  # zero-padded instead


def test_cqt2010v2_arguments_nnaudio_ignores(clips):
    # norm: accepted and ignored by nnAudio; here only True, with a pointer to what does the job
    assert torch.equal(nn("CQT2010v2", norm=False)(clips), nn("CQT2010v2", norm=True)(clips))
    with pytest.raises(ParameterError, match=r"norm=False.*normalization_type='convolutional'"):
        ours("CQT2010v2", norm=False)
    # fmax: ignored by nnAudio's CQT2010v2 (84 bins regardless); here it sets n_bins, as in CQT1992v2
    assert nn("CQT2010v2", fmin=55, fmax=3000)(clips).shape[1] == 84
    assert ours("CQT2010v2", fmin=55, fmax=3000)(clips).shape[1] == nn("CQT1992v2", fmin=55, fmax=3000)(clips).shape[1]


def test_cqt_trainable_kernels():
    layer = ours("CQT1992v2", fmin=110, n_bins=36, trainable=True)
    assert layer.transform.trainable_kernels == ("cqt_kernels",)
    assert layer.cqt_kernels is layer.transform.cqt_kernels
    multirate = ours("CQT2010v2", trainable=True)
    names = multirate.transform.trainable_kernels
    assert names and all(n.startswith("cqt_kernels.") for n in names)
    assert [n for n, _ in multirate.named_parameters()] == [f"transform.{n}" for n in names]
    x = torch.randn(2, 8192)
    layer(x).sum().backward()
    assert torch.isfinite(layer.cqt_kernels.grad).all() and layer.cqt_kernels.grad.abs().sum() > 0


@pytest.mark.parametrize(("name", "kwargs"), [
    ("STFT", {"n_fft": 512, "trainable": True}),
    ("MelSpectrogram", {"n_fft": 512, "n_mels": 40, "trainable_mel": True, "trainable_STFT": True}),
    ("MFCC", {"n_fft": 512, "n_mels": 40, "trainable_STFT": True}),
    ("CQT1992v2", {"fmin": 110, "n_bins": 36, "trainable": True}),
    ("CQT2010v2", {"fmin": 110, "n_bins": 36, "trainable": True}),
    ("CQT1992", {"n_bins": 36, "trainable_CQT": True}),
])
def test_trained_state_dict_round_trip(name, kwargs):
    """Trained kernels live in the held transform (keys ``transform.*``) and load into a new layer."""
    x = torch.randn(2, 8192, generator=torch.Generator().manual_seed(3))
    trained = ours(name, **kwargs)
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(0.01 * torch.randn_like(p))
    state = trained.state_dict()
    assert state and all(key.startswith("transform.") for key in state)
    fresh = ours(name, **kwargs)
    assert not torch.equal(fresh(x), trained(x))
    fresh.load_state_dict(state)
    assert torch.equal(fresh(x), trained(x))


def test_cqt_rescale_buffer_is_rebuilt_exactly():
    layer = ours("CQT1992v2", norm=None, fmin=55, n_bins=48)
    lengths = layer.transform.kernel_lengths
    expected = np.stack([1 / lengths, lengths ** -1.5, 2 * lengths ** -1.5])
    assert layer.nnaudio_rescale.dtype == torch.float32
    assert "nnaudio_rescale" not in layer.state_dict()  # derived from the arguments, not saved
    exact = layer.double().nnaudio_rescale.numpy().copy()
    np.testing.assert_allclose(exact, expected, rtol=1e-14)  # float64 values, not a widened float32 copy
    assert not np.array_equal(exact, expected.astype(np.float32).astype(np.float64))
    assert np.array_equal(layer.float().double().nnaudio_rescale.numpy(), exact)


# ------------------------------------------------------------------------------------------------
# gradients, logging
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "kwargs"), [
    ("STFT", {"output_format": "Magnitude"}),
    ("MelSpectrogram", {}),
    ("MelSpectrogram", {"power": 1.0}),
    ("MFCC", {}),
    ("CQT1992v2", {}),
    ("CQT2010v2", {}),
])
def test_magnitude_gradient_is_finite_at_zero(name, kwargs):
    """nnAudio bug: sqrt at exact zeros (silence) gives NaN input gradients; here they are finite."""
    x = torch.cat([torch.zeros(1, 8192), torch.randn(1, 8192, generator=torch.Generator().manual_seed(1))], 1)
    x_theirs = x.clone().requires_grad_()
    nn(name, **kwargs)(x_theirs).sum().backward()
    assert torch.isnan(x_theirs.grad).any()
    x_mine = x.clone().requires_grad_()
    ours(name, **kwargs)(x_mine).sum().backward()
    assert torch.isfinite(x_mine.grad).all()
    assert x_mine.grad[0, 8192:].abs().sum() > 0


@pytest.mark.parametrize("name", CLASSES)
def test_verbose_logs_and_never_prints(name, caplog, capsys):
    kwargs = {"n_bins": 48} if name == "CQT1992" else {}
    verbose = {} if name == "CQT1992" else {"verbose": True}
    with caplog.at_level(logging.INFO, logger="nnaudio_core.Spectrogram"):
        getattr(Spectrogram, name)(**kwargs, **verbose)
    assert [r.name for r in caplog.records] == ["nnaudio_core.Spectrogram"]
    assert caplog.records[0].getMessage().startswith(f"{name}: ")
    assert capsys.readouterr().out == ""
    if name != "CQT1992":  # nnAudio's CQT1992 has no verbose argument (it always reports)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="nnaudio_core.Spectrogram"):
            getattr(Spectrogram, name)(verbose=False)
        assert caplog.records == []
