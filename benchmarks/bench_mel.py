"""mel and MFCC benchmark: nnaudio-core vs nnAudio 0.3.4, librosa and a plain torch baseline.

Workload (the STFT benchmark's): 4 clips x 10 s at 22.05 kHz (float32), n_fft 2048, hop 512, Hann,
centred with reflect padding; 128 mel bands, 20 MFCCs; ``torch.set_num_threads(2)``. All seven
candidates run in the same interleaved rounds in one process; medians and ratios of medians are
reported. Run: ``python benchmarks/bench_mel.py [--repeats N]`` (needs the ``bench`` extra); it
prints the tables and writes ``benchmarks/results/mel.md`` and ``mel.json``.

Two timings per candidate, from the same rounds (``common.interleaved_timings``). *Steady*: in its
turn a candidate runs three times back to back and the last call is timed (what a training or
extraction loop sees). *Single call*: the first call of its turn. Before every turn the process
pauses briefly so that the previous candidate's thread pool (numpy's OpenBLAS after librosa,
torch's OpenMP threads) has stopped spinning; on 2 CPUs a spinning pool otherwise doubles the next
candidate's time. The targets are checked on the steady figure; both are printed. Other load on the
machine skews the ratios (two-thread torch suffers more than single-threaded numpy): run it on an
idle machine.

Targets: mel >= 3x faster than nnAudio's MelSpectrogram and >= 2x faster than
``librosa.feature.melspectrogram``, and within 1.25x of ``torch.stft`` + a mel matrix product;
mfcc >= 3x faster than nnAudio's MFCC and >= 2x faster than ``librosa.feature.mfcc``.
"""

from __future__ import annotations

import argparse
import warnings

import torch
from common import interleaved_timings, machine, markdown_table, setup_threads, workload, write_result

from nnaudio_core import get_transform
from nnaudio_core.kernels import mel_filterbank

N_FFT, HOP, SR, N_MELS, N_MFCC = 2048, 512, 22050, 128, 20

OURS_MEL = "nnaudio-core mel"
OURS_MFCC = "nnaudio-core mfcc"
NN_MEL = "nnAudio 0.3.4 MelSpectrogram"
NN_MFCC = "nnAudio 0.3.4 MFCC"
LR_MEL = "librosa.feature.melspectrogram"
LR_MFCC = "librosa.feature.mfcc"
BASELINE = "torch.stft + mel matmul"


def main(repeats: int = 14) -> str:
    setup_threads(2)
    warnings.filterwarnings("ignore")
    import librosa
    from nnAudio import features as nnaudio_features

    audio = workload(sr=SR)
    x = torch.from_numpy(audio)
    stft_args = {"n_fft": N_FFT, "hop_length": HOP, "window": "hann", "center": True, "pad_mode": "reflect"}
    ours_mel = get_transform("mel")(sr=SR, n_mels=N_MELS, **stft_args)
    ours_mfcc = get_transform("mfcc")(sr=SR, n_mels=N_MELS, n_mfcc=N_MFCC, **stft_args)
    nn_mel = nnaudio_features.MelSpectrogram(sr=SR, n_mels=N_MELS, verbose=False, **stft_args)
    nn_mfcc = nnaudio_features.MFCC(sr=SR, n_mels=N_MELS, n_mfcc=N_MFCC, verbose=False, **stft_args)
    basis = torch.from_numpy(mel_filterbank(sr=SR, n_fft=N_FFT, n_mels=N_MELS)).float()
    window = torch.hann_window(N_FFT)

    def baseline() -> torch.Tensor:
        spec = torch.stft(x, N_FFT, HOP, window=window, center=True, pad_mode="reflect", return_complex=True)
        return torch.matmul(basis, spec.abs() ** 2)

    with torch.inference_mode():
        t, first = interleaved_timings({
            OURS_MEL: lambda: ours_mel(x),
            BASELINE: baseline,
            NN_MEL: lambda: nn_mel(x),
            LR_MEL: lambda: librosa.feature.melspectrogram(y=audio, sr=SR, n_mels=N_MELS, **stft_args),
            OURS_MFCC: lambda: ours_mfcc(x),
            NN_MFCC: lambda: nn_mfcc(x),
            LR_MFCC: lambda: librosa.feature.mfcc(y=audio, sr=SR, n_mfcc=N_MFCC, n_mels=N_MELS, **stft_args),
        }, repeats=repeats, burst=3)

    rows = []
    for name, sec in t.items():
        mfcc = "mfcc" in name.lower()
        ours, ours_first = (t[OURS_MFCC], first[OURS_MFCC]) if mfcc else (t[OURS_MEL], first[OURS_MEL])
        rows.append([name, f"{1000 * sec:.1f}", f"{sec / ours:.2f}x", f"{1000 * first[name]:.1f}",
                     f"{first[name] / ours_first:.2f}x"])
    checks = [
        ("mel speed-up over nnAudio MelSpectrogram", NN_MEL, OURS_MEL, 3.0),
        ("mel speed-up over librosa.feature.melspectrogram", LR_MEL, OURS_MEL, 2.0),
        ("mel time / (torch.stft + mel matmul) time", OURS_MEL, BASELINE, 1.25),
        ("mfcc speed-up over nnAudio MFCC", NN_MFCC, OURS_MFCC, 3.0),
        ("mfcc speed-up over librosa.feature.mfcc", LR_MFCC, OURS_MFCC, 2.0),
    ]
    check_rows = []
    for label, num, den, goal in checks:
        upper = label.startswith("mel time")
        value = t[num] / t[den]
        met = value <= goal if upper else value >= goal
        check_rows.append([label, f"{value:.2f}x", f"{'<=' if upper else '>='} {goal:g}x", "yes" if met else "no",
                           f"{first[num] / first[den]:.2f}x"])
    text = "\n\n".join([
        "### mel and MFCC (4 x 10 s at 22.05 kHz, n_fft 2048, hop 512, 128 mel bands, 20 MFCCs)",
        f"Measured on {machine()}; median of {repeats} interleaved rounds of all seven candidates (steady: "
        "last of 3 back-to-back calls per turn; single call: the first). librosa pads with reflection here "
        "(`pad_mode=\"reflect\"`) to compute the same numbers; `/ nnaudio-core` is the time relative to "
        "nnaudio-core's mel (or mfcc) in the same column.",
        markdown_table(["implementation", "steady (ms)", "steady / nnaudio-core", "single call (ms)",
                        "single call / nnaudio-core"], rows),
        markdown_table(["target", "steady", "required", "met (steady)", "single call"], check_rows),
    ])
    print(text)
    write_result("mel", text, title="mel (128) and MFCC (20), 4 x 10 s at 22.05 kHz, n_fft 2048, hop 512",
                 timings_ms={k: 1000 * v for k, v in t.items()})
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="mel and MFCC benchmark")
    parser.add_argument("--repeats", type=int, default=14, help="interleaved timed rounds (median reported)")
    main(parser.parse_args().repeats)
