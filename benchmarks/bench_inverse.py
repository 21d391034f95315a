"""Inverse transforms: speed and accuracy of istft, griffin_lim and inverse_mel against their peers.

Writes ``benchmarks/results/inverse.md`` (+ ``inverse.json``). Peers, measured side by side in one
process with interleaved rounds (``common.interleaved``): ``torch.istft``, nnAudio 0.3.4's
``iSTFT``, ``librosa.istft``; ``librosa.griffinlim`` and a torch.stft/istft implementation of
torchaudio's ``GriffinLim`` algorithm (torchaudio has no build for torch 2.13, so its algorithm is
written out here with the same calls); ``librosa.feature.inverse.mel_to_stft``.
``torch.set_num_threads(2)``; the machine is a shared 2-core box with other jobs running, so the
absolute times are noisy and only the ratios measured in one run mean something.

Run: ``python benchmarks/bench_inverse.py [--quick]``.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from importlib.resources import files
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import interleaved, load_note, machine, markdown_table, setup_threads, write_result  # noqa: E402

from nnaudio_core import get_transform  # noqa: E402

SR = 22050
N_FFT, HOP = 2048, 512


def recording(seconds: float) -> np.ndarray:
    y, _ = sf.read(str(files("nnaudio_core.data") / "example.flac"), dtype="float32")
    return np.resize(y, int(seconds * SR)).astype(np.float32)


def torch_griffin_lim(magnitude: torch.Tensor, window: torch.Tensor, n_iter: int, momentum: float) -> torch.Tensor:
    """torchaudio.functional.griffinlim's algorithm with torch.stft / torch.istft (the peer)."""
    angles = torch.polar(torch.ones_like(magnitude), 2 * np.pi * torch.rand(magnitude.shape))
    previous = torch.zeros_like(angles)
    for _ in range(n_iter):
        inverse = torch.istft(magnitude * angles, N_FFT, HOP, window=window)
        rebuilt = torch.stft(inverse, N_FFT, HOP, window=window, pad_mode="reflect", return_complex=True)
        angles = rebuilt - previous * (momentum / (1 + momentum))
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    return torch.istft(magnitude * angles, N_FFT, HOP, window=window)


def snr_db(x: np.ndarray, y: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(x.astype(np.float64) ** 2) / np.sum((x.astype(np.float64) - y) ** 2)))


def spectral_convergence(y: np.ndarray, magnitude: np.ndarray, n_fft: int, hop: int) -> float:
    rebuilt = np.abs(librosa.stft(np.asarray(y, np.float32), n_fft=n_fft, hop_length=hop))
    return float(np.linalg.norm(rebuilt - magnitude) / np.linalg.norm(magnitude))


def accuracy() -> str:
    stft, istft = get_transform("stft"), get_transform("istft")
    y = recording(4.0)
    rows = []
    for n_fft, hop, window in [(2048, 512, "hann"), (1024, 256, "hamming"), (1024, 441, "hann"), (512, 128, "blackman")]:
        row = [f"({n_fft}, {hop}, {window})"]
        spec = librosa.stft(y, n_fft=n_fft, hop_length=hop, window=window)
        ref = librosa.istft(spec, n_fft=n_fft, hop_length=hop, window=window)
        for backend in ("fft", "conv"):
            ours = istft(n_fft=n_fft, hop_length=hop, window=window, backend=backend)(torch.from_numpy(spec)).numpy()
            row.append(f"{np.linalg.norm(ours - ref) / np.linalg.norm(ref):.1e}")
        for dtype in (torch.float32, torch.float64):
            x = torch.from_numpy(y).to(dtype)
            a = stft(n_fft=n_fft, hop_length=hop, window=window).to(dtype)
            b = istft(n_fft=n_fft, hop_length=hop, window=window).to(dtype)
            row.append(f"{snr_db(x.numpy(), b(a(x), length=len(y)).numpy()):.1f}")
        rows.append(row)
    table = markdown_table(["(n_fft, hop, window)", "istft fft vs librosa.istft (rel. L2)", "istft conv vs librosa",
                            "round trip SNR float32 (dB)", "round trip SNR float64 (dB)"], rows)

    gl = get_transform("griffin_lim")
    gl_rows = []
    for offset in (0.0, 2.0):
        clip = np.asarray(sf.read(str(files("nnaudio_core.data") / "example.flac"), dtype="float32")[0])
        clip = clip[int(offset * SR): int((offset + 2.0) * SR)]
        magnitude = np.abs(librosa.stft(clip, n_fft=N_FFT, hop_length=HOP, pad_mode="constant"))
        for init in ("random", "zeros"):
            seeds = range(3) if init == "random" else range(1)
            ours = [spectral_convergence(gl(n_fft=N_FFT, hop_length=HOP, n_iter=32, momentum=0.99, init=init, seed=s,
                                            pad_mode="constant")(torch.from_numpy(magnitude), length=len(clip)).numpy(),
                                         magnitude, N_FFT, HOP) for s in seeds]
            theirs = [spectral_convergence(librosa.griffinlim(magnitude, n_iter=32, momentum=0.99, hop_length=HOP,
                                                              n_fft=N_FFT, length=len(clip), random_state=s,
                                                              init="random" if init == "random" else None),
                                           magnitude, N_FFT, HOP) for s in seeds]
            gl_rows.append([f"example.flac {offset:g}-{offset + 2:g} s", init, f"{np.mean(ours):.4f}",
                            f"{np.mean(theirs):.4f}", f"{np.mean(ours) / np.mean(theirs):.2f}"])
    gl_table = markdown_table(["clip (n_fft 2048, hop 512, 32 iterations, momentum 0.99)", "init",
                               "griffin_lim SC", "librosa.griffinlim SC", "ratio (target <= 1.1)"], gl_rows)

    mel_rows = []
    inverse_mel = get_transform("inverse_mel")
    clip = recording(2.0)
    for n_fft, n_mels, htk, norm in [(2048, 128, False, "slaney"), (1024, 64, True, None)]:
        power = np.abs(librosa.stft(clip, n_fft=n_fft, hop_length=HOP)) ** 2
        basis = librosa.filters.mel(sr=SR, n_fft=n_fft, n_mels=n_mels, htk=htk, norm=norm)
        mel = basis @ power
        ref = librosa.feature.inverse.mel_to_stft(mel, sr=SR, n_fft=n_fft, power=1.0, htk=htk, norm=norm)
        ours = inverse_mel(sr=SR, n_fft=n_fft, n_mels=n_mels, htk=htk, norm=norm)(torch.from_numpy(mel)).numpy()

        def error(estimate, basis=basis, mel=mel):
            return float(np.linalg.norm(basis @ estimate - mel) / np.linalg.norm(mel))

        mel_rows.append([f"n_fft {n_fft}, {n_mels} mels, htk={htk}, norm={norm}", f"{error(ours):.2e}",
                         f"{error(ref):.2e}", f"{error(ours) / error(ref):.3f}"])
    mel_table = markdown_table(["configuration (2 s of example.flac)", "inverse_mel (500 iterations, the default)",
                                "librosa mel_to_stft", "ratio (target <= 1.1)"], mel_rows)
    return (f"### istft accuracy (4 s of example.flac)\n\n{table}\n\n### Griffin-Lim spectral convergence "
            f"`|| |STFT(y)| - S ||_F / ||S||_F` (random: mean of 3 seeds)\n\n{gl_table}\n\n"
            f"### inverse_mel: `||mel_basis @ S_hat - M|| / ||M||`\n\n{mel_table}\n")


def speed(repeats: int) -> tuple[str, dict[str, float]]:
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from nnAudio import features as nn_features
        nn_istft = nn_features.iSTFT(n_fft=N_FFT, hop_length=HOP, verbose=False)
    y = recording(10.0)
    batch = np.stack([y, np.roll(y, 1000)])
    spec = librosa.stft(batch, n_fft=N_FFT, hop_length=HOP)
    spec_t = torch.from_numpy(spec)
    pairs = torch.view_as_real(spec_t).contiguous()
    window = torch.hann_window(N_FFT)
    ours = get_transform("istft")(n_fft=N_FFT, hop_length=HOP)
    conv = get_transform("istft")(n_fft=N_FFT, hop_length=HOP, backend="conv")
    istft_times = interleaved({
        "istft (fft)": lambda: ours(spec_t),
        "istft (conv)": lambda: conv(spec_t),
        "torch.istft": lambda: torch.istft(spec_t, N_FFT, HOP, window=window),
        "nnAudio iSTFT": lambda: nn_istft(pairs, onesided=True),
        "librosa.istft": lambda: librosa.istft(spec, n_fft=N_FFT, hop_length=HOP),
    }, repeats=repeats, burst=1)
    magnitude = np.abs(spec[0])
    magnitude_t = torch.from_numpy(magnitude)
    gl = get_transform("griffin_lim")(n_fft=N_FFT, hop_length=HOP, n_iter=32)
    gl_times = interleaved({
        "griffin_lim": lambda: gl(magnitude_t),
        "torchaudio GriffinLim algorithm (torch.stft/istft)": lambda: torch_griffin_lim(magnitude_t, window, 32, 0.99),
        "librosa.griffinlim": lambda: librosa.griffinlim(magnitude, n_iter=32, hop_length=HOP, n_fft=N_FFT,
                                                         pad_mode="reflect"),
    }, repeats=max(3, repeats // 2), burst=1)
    rows = [[name, f"{1000 * t:.1f}", f"{t / istft_times['istft (fft)']:.2f}"] for name, t in istft_times.items()]
    rows += [[name, f"{1000 * t:.1f}", f"{t / gl_times['griffin_lim']:.2f}"] for name, t in gl_times.items()]
    table = markdown_table(["candidate", "median ms", "time / ours"], rows)
    text = (f"### Speed ({machine()})\n\nistft: 2 x 10 s complex STFT (n_fft 2048, hop 512); griffin_lim: one 10 s "
            f"magnitude, 32 iterations, momentum 0.99. Targets: istft <= 1.25x torch.istft and >= 3x faster than "
            f"nnAudio's iSTFT; griffin_lim <= 1.25x torchaudio's and >= 3x faster than librosa.\n\n{table}\n")
    timings = {**{k: 1000 * v for k, v in istft_times.items()}, **{k: 1000 * v for k, v in gl_times.items()}}
    return text, timings


def main(argv: list[str] | None = None) -> str:
    argv = sys.argv[1:] if argv is None else argv
    setup_threads(2)
    repeats = 3 if "--quick" in argv else 7
    load = load_note()
    speed_text, timings = speed(repeats)
    text = (f"# Inverse transforms\n\nMeasured with {load}; ratios are from one interleaved run.\n\n"
            + speed_text + "\n" + accuracy())
    write_result("inverse", text, title="inverse transforms", timings_ms=timings)
    return text


if __name__ == "__main__":
    print(main())
