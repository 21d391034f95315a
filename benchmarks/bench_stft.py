"""STFT benchmark: nnaudio-core vs torch.stft and nnAudio 0.3.4.

Workload: 4 clips x 10 s at 22.05 kHz, n_fft 2048, hop 512, magnitude output, 2 threads; medians of
interleaved repeats. Run: ``python benchmarks/bench_stft.py`` (needs the ``bench`` extra).
"""

from __future__ import annotations

import warnings

import torch
from common import construction_ms, interleaved, machine, markdown_table, setup_threads, workload, write_result

from nnaudio_core import get_transform

N_FFT, HOP, SR = 2048, 512, 22050



def main() -> str:
    setup_threads(2)
    warnings.filterwarnings("ignore")
    from nnAudio import features as nnaudio_features

    x = torch.from_numpy(workload(sr=SR))
    STFT = get_transform("stft")
    ours_auto = STFT(n_fft=N_FFT, hop_length=HOP, output_format="Magnitude")
    ours_conv = STFT(n_fft=N_FFT, hop_length=HOP, output_format="Magnitude", backend="conv")
    theirs = nnaudio_features.STFT(n_fft=N_FFT, hop_length=HOP, output_format="Magnitude", verbose=False)
    window = torch.hann_window(N_FFT)

    with torch.inference_mode():
        t = interleaved({
            "torch.stft().abs()": lambda: torch.stft(x, N_FFT, HOP, window=window, center=True, pad_mode="reflect",
                                                     return_complex=True).abs(),
            "nnaudio-core stft (auto: fft)": lambda: ours_auto(x),
            "nnaudio-core stft (conv)": lambda: ours_conv(x),
            "nnAudio 0.3.4 STFT": lambda: theirs(x),
        }, repeats=7)
    build = {
        "nnaudio-core STFT(n_fft=2048) (auto)": construction_ms(lambda: STFT(n_fft=N_FFT), 15),
        "nnaudio-core STFT(n_fft=2048, backend='conv')": construction_ms(lambda: STFT(n_fft=N_FFT, backend="conv"), 15),
        "nnAudio 0.3.4 STFT(n_fft=2048)": construction_ms(lambda: nnaudio_features.STFT(n_fft=N_FFT, verbose=False), 5),
    }
    base = t["torch.stft().abs()"]
    nn = t["nnAudio 0.3.4 STFT"]
    rows = [[name, f"{1000 * sec:.1f}", f"{sec / base:.2f}x", f"{nn / sec:.1f}x"] for name, sec in t.items()]
    checks = [
        ["auto within 1.25x of torch.stft().abs()", f"{t['nnaudio-core stft (auto: fft)'] / base:.2f}x", "<= 1.25x"],
        ["auto speed-up over nnAudio", f"{nn / t['nnaudio-core stft (auto: fft)']:.1f}x", ">= 5x"],
        ["conv speed-up over nnAudio", f"{nn / t['nnaudio-core stft (conv)']:.2f}x", ">= 1x"],
        ["construction STFT(n_fft=2048), auto", f"{build['nnaudio-core STFT(n_fft=2048) (auto)']:.1f} ms", "< 20 ms"],
    ]
    text = "\n\n".join([
        "### STFT (4 x 10 s at 22.05 kHz, n_fft 2048, hop 512, magnitude)",
        f"Measured on {machine()}; median of 7 interleaved repeats.",
        markdown_table(["implementation", "time (ms)", "vs torch.stft", "speed-up over nnAudio"], rows),
        markdown_table(["construction", "time (ms)"], [[k, f"{v:.1f}"] for k, v in build.items()]),
        markdown_table(["target", "measured", "required"], checks),
    ])
    print(text)
    write_result("stft", text, title="STFT, 4 x 10 s at 22.05 kHz, n_fft 2048, hop 512",
                 timings_ms={k: 1000 * v for k, v in t.items()})
    return text


if __name__ == "__main__":
    main()
