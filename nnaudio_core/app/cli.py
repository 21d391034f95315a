"""The ``nnaudio`` command (also ``python -m nnaudio_core``).

Commands
--------
``nnaudio run SPEC [AUDIO ...]``
    Transform audio files (or the bundled example recording) and write ``.npy`` + PNG.
``nnaudio list``
    Registered transforms, their aliases and the distribution providing each.
``nnaudio describe NAME``
    Parameters, defaults and documentation of one transform.
``nnaudio extract SPEC INPUT_DIR OUTPUT_DIR [--engine ray]``
    A folder of audio files → a folder of ``.npy`` files, in parallel, resumable; on a Ray cluster
    with ``--engine ray`` (the ``ray`` extra).
``nnaudio validate SPEC``
    Check a spec and print the pipeline it builds.

Exit status: 0 success; 1 the command ran but something failed (a file, or ``validate`` found an
error); 2 it could not start (bad arguments, an invalid spec, a missing optional package);
130 interrupted; 141 its output was closed early (``nnaudio list | head -1``), quietly.

Options and positional arguments may come in any order (``nnaudio run mel --no-plot a.wav``).
``--help`` and ``--version`` answer without importing torch.

``run`` and ``extract`` need the ``cli`` extra (soundfile, matplotlib, tqdm), imported only when
used; ``list``, ``describe`` and ``validate`` need nothing beyond the library.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a C tool whose reader went away


# -- helpers ----------------------------------------------------------------------------------------
def _err(message: str) -> None:
    print(f"nnaudio: {message}", file=sys.stderr, flush=True)


def _show_warning(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    print(f"nnaudio: warning: {message}", file=sys.stderr, flush=True)


def _spec_name(label: str, data: dict[str, Any]) -> str:
    """A short name for a spec: its ``name`` key, else its file stem (``stft`` for ``stft.yaml``)."""
    name = data.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    base = os.path.basename(label)
    for ending in (".yaml", ".yml"):
        if base.endswith(ending):
            return base[: -len(ending)]
    return base


def _load_pipeline(spec: str, device: str | None) -> tuple[Any, str, dict[str, Any]]:
    """Build a spec's pipeline; return it with the spec's label and raw dict."""
    from ..spec import build_transform, load_spec

    data, label = load_spec(spec)
    return build_transform(data, device=device), label, data


def _channels(option: str | None, data: dict[str, Any]) -> str:
    """``--channels`` when given, else the spec's ``channels`` key (default ``mono``)."""
    from ..spec import normalise_spec

    return option or normalise_spec(data)["channels"]


def _synchronize(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _format_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


# -- run --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _RunTarget:
    """What ``nnaudio run`` applies to each file, and where it writes."""

    pipeline: Any
    name: str
    data: dict[str, Any]
    channels: str
    sample_rate: float | None
    out_dir: Path
    args: argparse.Namespace


def cmd_run(args: argparse.Namespace) -> int:
    """Transform audio files and write each spectrogram as .npy and PNG."""
    from .audio_io import import_optional

    import_optional("soundfile", *([] if args.no_plot else ["matplotlib"]), purpose="nnaudio run")
    from .audio_io import example_audio
    from .metadata import output_axes

    pipeline, label, data = _load_pipeline(args.spec, args.device)
    target = _RunTarget(pipeline, _spec_name(label, data), data, _channels(args.channels, data),
                        output_axes(pipeline).sample_rate, Path(args.out), args)
    target.out_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        paths = [Path(p) for p in args.audio] or [stack.enter_context(example_audio())]
        outputs, clashes = run_outputs(paths, target.out_dir, target.name)
        for path, reason in clashes:
            _err(f"error: {path}: {reason}")
        failed = len(clashes) + sum(not _run_file(path, stem, target) for path, stem in outputs)
    return EXIT_FAILED if failed else EXIT_OK


def run_outputs(paths: Sequence[Path], out_dir: Path, spec_name: str) -> tuple[list[tuple[Path, Path]],
                                                                               list[tuple[Path, str]]]:
    """Where ``nnaudio run`` writes each input: named as ``nnaudio extract`` names its outputs.

    Inputs are taken relative to the deepest folder holding them all, and that layout is mirrored
    under ``out_dir``; each output is ``<name>-<spec_name>`` plus ``.npy``/``.png``, where the name is
    the file's stem, or its whole name when two inputs in one folder share a stem. So ``a/clip.wav``,
    ``b/clip.wav`` and ``a/clip.flac`` give ``a/clip.wav-stft``, ``b/clip-stft`` and
    ``a/clip.flac-stft``: no output overwrites another. A file given twice is done once.

    Parameters
    ----------
    paths : sequence of Path
        The input files, in order.
    out_dir : Path
        The ``--out`` folder.
    spec_name : str
        The spec's short name (``stft``).

    Returns
    -------
    (outputs, clashes)
        ``(input, output path without suffix)`` pairs in input order, and ``(input, reason)`` for
        inputs whose output name nothing could make unique (reported as failed).

    Examples
    --------
    >>> outputs, _ = run_outputs([Path("a/clip.wav"), Path("b/clip.wav"), Path("a/clip.flac")], Path("o"), "stft")
    >>> [stem.relative_to("o").as_posix() for _, stem in outputs]
    ['a/clip.wav-stft', 'b/clip-stft', 'a/clip.flac-stft']
    """
    first: dict[Path, Path] = {}
    for path in paths:
        first.setdefault(path.resolve(), path)
    unique, absolute = list(first.values()), list(first)
    try:
        root = Path(os.path.commonpath([p.parent for p in absolute]))
    except ValueError:  # different drives: no common folder, keep only the names
        rels = [Path(p.name) for p in absolute]
    else:
        rels = [p.relative_to(root) for p in absolute]
    outputs, clashes = [], []
    for path, name in zip(unique, extract_names(rels), strict=True):
        if isinstance(name, str):
            clashes.append((path, name))
        else:
            outputs.append((path, out_dir / name.parent / f"{name.name[: -len('.npy')]}-{spec_name}"))
    return outputs, clashes


def extract_names(rels: Sequence[Path]) -> list[Path | str]:
    """The ``.npy`` name ``nnaudio extract`` gives each relative input path, or why it cannot.

    :func:`nnaudio_core.app.extract.plan.output_names`, the rule ``extract`` applies to a folder.
    """
    from .extract.plan import output_names

    return output_names(list(rels))


def _run_file(path: Path, stem: Path, target: _RunTarget) -> bool:
    """Transform one file, write ``stem`` + ``.npy``/``.png`` and say what was done; ``False`` when it failed."""
    import numpy as np
    import torch

    from .audio_io import AudioError, read_audio
    from .extract import to_numpy

    try:
        audio = read_audio(path, sample_rate=target.sample_rate, channels=target.channels)
    except AudioError as exc:
        _err(f"error: {path}: {exc.reason}")
        return False
    x = torch.from_numpy(audio.samples).to(target.pipeline.dtype).to(target.pipeline.device)
    try:
        y, elapsed = _timed_transform(target.pipeline, x)
    except Exception as exc:
        _err(f"error: {path}: the transform failed: {type(exc).__name__}: {exc}")
        return False
    array = to_numpy(y)
    stem.parent.mkdir(parents=True, exist_ok=True)
    waveform = target.pipeline.output_info().kind == "waveform"  # a spec ending in an inverse: audio out
    if waveform:
        import soundfile as sf

        rate = target.pipeline.output_info().sr or audio.sample_rate
        sf.write(_with_suffix(stem, ".wav"), array.T if array.ndim == 2 else array, int(round(rate)),
                 subtype="FLOAT")
    else:
        np.save(_with_suffix(stem, ".npy"), array, allow_pickle=False)
    print(f"{path if target.args.audio else path.name}: {_describe_audio(audio, target.channels)}")
    print(f"  {target.name}: shape {_format_shape(array.shape)} {array.dtype} on {target.pipeline.device}, "
          f"{elapsed * 1000:.1f} ms")
    written = [_with_suffix(stem, ".wav" if waveform else ".npy")]
    if waveform:
        if not target.args.no_plot:
            from .plot import plot_waveform

            names = [f"channel {i}" for i in range(array.shape[0])] if array.ndim == 2 else None
            plot_waveform(array, _with_suffix(stem, ".png"), sample_rate=target.pipeline.output_info().sr,
                          title=f"{target.name}: {path.name}", channel_names=names)
            written.append(_with_suffix(stem, ".png"))
    elif not target.args.no_plot:
        written.append(_plot(array, target.pipeline, audio, _with_suffix(stem, ".png"), name=target.name,
                             data=target.data, source=path.name, channels=target.channels,
                             top_db=target.args.top_db))
    print("  wrote " + ", ".join(str(p) for p in written if p is not None))
    return True


def _with_suffix(stem: Path, suffix: str) -> Path:
    """``stem`` + ``suffix``, keeping any dot in the stem (``clip.wav-stft`` → ``clip.wav-stft.npy``)."""
    return stem.with_name(stem.name + suffix)


def _timed_transform(pipeline: Any, x: Any) -> tuple[Any, float]:
    """The pipeline's output for the tensor ``x`` and the seconds it took on its device."""
    import torch

    _synchronize(pipeline.device)
    start = time.perf_counter()
    with torch.inference_mode():
        y = pipeline(x)
    _synchronize(pipeline.device)
    return y, time.perf_counter() - start


def _describe_audio(audio: Any, channels: str) -> str:
    """``"1.00 s at 22050 Hz, resampled from 16000 Hz, mono"``."""
    layout = "mono" if channels == "mono" else f"{audio.source_channels} channels"
    resampled = (f", resampled from {audio.source_sample_rate} Hz"
                 if audio.sample_rate != audio.source_sample_rate else "")
    return f"{audio.duration:.2f} s at {audio.sample_rate:g} Hz{resampled}, {layout}"


def _plot(array: Any, pipeline: Any, audio: Any, path: Path, *, name: str, data: dict[str, Any], source: str,
          channels: str, top_db: float) -> Path | None:
    from .plot import pipeline_axes, plot_spectrogram

    if array.ndim not in (2, 3):
        _err(f"warning: no picture for {source}: output of shape {array.shape} is not a spectrogram")
        return None
    axes = pipeline_axes(pipeline, sample_rate=audio.sample_rate, n_rows=array.shape[-2])
    description = data.get("description")
    title = f"{name}: {source}" + (f"\n{description}" if isinstance(description, str) else "")
    names = [f"channel {i}" for i in range(array.shape[0])] if channels == "keep" and array.ndim == 3 else None
    plot_spectrogram(array, path, axes=axes, title=title, channel_names=names, top_db=top_db)
    return path


# -- list / describe --------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    """Print every registered transform with its aliases and providing distribution."""
    import inspect

    from ..registry import REGISTRY

    rows = [("transform", "aliases", "provided by", "plugin", "summary")]
    for entry in REGISTRY.entries():
        doc = inspect.getdoc(entry.cls) or ""
        provider = f"{entry.distribution} {entry.version or '?'}" if entry.distribution else "(no distribution)"
        rows.append((entry.name, ", ".join(entry.aliases) or "-", provider, entry.plugin,
                     plain_text(doc.splitlines()[0]) if doc else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
    print(f"\n{len(rows) - 1} transforms; nnaudio describe NAME shows the parameters of one")
    return EXIT_OK


def cmd_describe(args: argparse.Namespace) -> int:
    """Print the parameters, defaults and documentation of one transform."""
    from ..registry import describe_transform

    info = describe_transform(args.name)
    print(plain_text(str(info)))
    body = plain_text("\n".join(info.doc.splitlines()[1:]).strip())
    if body:
        print("\ndocumentation:\n" + "\n".join(f"  {line}".rstrip() for line in body.splitlines()))
    return EXIT_OK


_ROLE = re.compile(r":(?:[A-Za-z]+:)+`([^`]+)`")  # :func:`~a.b.f`, :py:class:`C`
_LITERAL = re.compile(r"``(.+?)``|(?<![`\w])`([^`\n]+)`(?![`\w])")


def plain_text(text: str) -> str:
    """Docstring text (reStructuredText) as a terminal shows it best: no roles, no backticks.

    ``:class:`~a.b.C``` becomes ``C``, ``:func:`a.f``` ``a.f``, ``:meth:`text <target>``` ``text``;
    double-backtick literals and single-backtick interpreted text lose their backticks.

    Examples
    --------
    >>> plain_text("Mel: ``S ** power`` via :class:`~nnaudio_plugins.stft.STFT` and :func:`numpy.fft.rfft`.")
    'Mel: S ** power via STFT and numpy.fft.rfft.'
    """

    def role(match: re.Match[str]) -> str:
        target = match.group(1).strip()
        labelled = re.fullmatch(r"(.+?)\s*<[^<>]+>", target, flags=re.S)
        if labelled:
            return labelled.group(1)
        target = target.lstrip("!")
        return target[1:].rsplit(".", 1)[-1] if target.startswith("~") else target

    text = _ROLE.sub(role, text)
    return _LITERAL.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)


# -- validate ---------------------------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    """Check a spec and print the pipeline it builds, or every error with its spec path (one per line)."""
    import yaml

    from ..errors import SpecError
    from ..spec import build_transform, load_spec, normalise_spec, resolve_device, spec_errors
    from .metadata import output_axes

    label = args.spec
    try:
        data, label = load_spec(args.spec)
    except SpecError as exc:
        errors = [exc]
    else:
        spec = normalise_spec(data, report=lambda _error: None)  # spec_errors reports its errors
        try:  # built where the spec says when this machine has it, else on the CPU
            device = resolve_device(spec["device"])
        except SpecError:
            device = "cpu"
        errors = spec_errors(data, device=device)
        if not errors:
            try:
                device_note = _device_note(spec["device"], resolve_device, SpecError)
            except SpecError as exc:
                errors = [exc]
    if errors:
        count = f"{len(errors)} error{'s' if len(errors) > 1 else ''}"
        print(f"{label}: invalid spec ({count})", file=sys.stderr)
        for exc in errors:
            print("  " + " ".join(str(exc).split()), file=sys.stderr)
        return EXIT_FAILED
    pipeline = build_transform(data, device=device)
    sample_rate = output_axes(pipeline).sample_rate
    print(f"{label}: valid")
    if isinstance(spec.get("description"), str):
        print(f"  description: {spec['description']}")
    print(f"  device: {spec['device']} ({device_note})   dtype: {spec['dtype']}   check_input: "
          f"{str(spec['check_input']).lower()}   channels: {spec['channels']}")
    if pipeline.input_kind == "waveform":
        rate = f" at {sample_rate:g} Hz (pipeline[0].{pipeline[0].name}.sr)" if sample_rate else " at the file's rate"
        print(f"  input: waveform{rate}   output: {pipeline.output_kind}")
    else:
        print(f"  input: {pipeline.input_kind} (spec key `input`)   output: {pipeline.output_kind}")
    print("  " + repr(pipeline).replace("\n", "\n  "))
    resolved = yaml.safe_dump({"pipeline": pipeline.get_config()["pipeline"]}, sort_keys=False,
                              default_flow_style=None, width=100)
    print("  resolved parameters:\n" + "\n".join(f"    {line}" for line in resolved.splitlines()))
    return EXIT_OK


def _device_note(device: Any, resolve_device: Any, spec_error: type[Exception]) -> str:
    """``"cpu on this machine"``; a valid device this machine lacks is a note, not an error."""
    import torch

    try:
        return f"{resolve_device(device)} on this machine"
    except spec_error:
        try:
            parsed = torch.device(device) if isinstance(device, str) else None
        except (RuntimeError, ValueError):
            parsed = None
        if parsed is None or parsed.type not in ("cuda", "mps"):
            raise
        return "not available on this machine; pass --device cpu to run it here"


# -- extract ----------------------------------------------------------------------------------------
def cmd_extract(args: argparse.Namespace) -> int:
    """Transform every audio file under a folder into .npy files (parallel decoding, resumable)."""
    from .audio_io import import_optional

    import_optional("soundfile", "tqdm", purpose="nnaudio extract")
    from .extract import ExtractError, run_extract, write_report

    problem = _engine_problem(args)
    if problem:
        _err(f"error: {problem}")
        return EXIT_USAGE
    try:
        if args.engine == "ray":
            from .extract.ray_engine import RayOptions, import_ray, run_extract_ray

            import_ray()  # before building anything: a missing extra is the first thing to say
            pipeline, label, data = _load_pipeline(args.spec, "cpu")  # the workers build their own
            options = RayOptions(address=args.address, num_cpus=args.num_cpus,
                                 num_gpus_per_worker=args.num_gpus_per_worker or 0.0, workers=args.workers)
            report = run_extract_ray(pipeline, args.input_dir, args.output_dir, spec=label,
                                     batch_size=args.batch_size, channels=_channels(args.channels, data),
                                     overwrite=args.overwrite, progress=False if args.no_progress else None,
                                     options=options)
        else:
            pipeline, label, data = _load_pipeline(args.spec, args.device)
            report = run_extract(pipeline, args.input_dir, args.output_dir, spec=label, batch_size=args.batch_size,
                                 workers=args.workers, channels=_channels(args.channels, data),
                                 overwrite=args.overwrite, progress=False if args.no_progress else None)
    except ExtractError as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    print(report.summary())
    if report.failed:
        print(f"{len(report.failed)} files failed (reasons above); rerun to retry them")
    if args.report:
        write_report(args.report, report.to_dict())
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if report.failed else EXIT_OK


def _engine_problem(args: argparse.Namespace) -> str | None:
    """Why the options given do not go with the chosen ``--engine``, if they do not."""
    ray_only = [name for name, value in (("--address", args.address), ("--num-cpus", args.num_cpus),
                                         ("--num-gpus-per-worker", args.num_gpus_per_worker)) if value is not None]
    if args.engine != "ray":
        if ray_only:
            return f"{', '.join(ray_only)} {'is' if len(ray_only) == 1 else 'are'} only for --engine ray"
        return None
    if args.address is not None and args.num_cpus is not None:
        return ("--num-cpus sets the CPUs of a local Ray instance; a cluster joined with --address has its own "
                "(`ray start --num-cpus N` on each node)")
    if args.device not in (None, "cpu"):
        return (f"--device {args.device} does not go with --engine ray: the workers run on CPU, or on GPUs "
                "with --num-gpus-per-worker G")
    return None


# -- parser -----------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    """An argparse type: an integer >= 1 (batch sizes, worker counts)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer; expected an integer >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; expected an integer >= 1")
    return value


def _gpu_share(text: str) -> float:
    """An argparse type: GPUs per Ray worker, a finite number > 0 (0.5 shares one GPU between two workers)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; expected a number of GPUs > 0, "
                                         "e.g. 1 or 0.5") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not allowed; expected a number of GPUs > 0, e.g. 1 or 0.5")
    return value


def _positive_decibels(text: str) -> float:
    """An argparse type: a finite number of decibels > 0 (the picture's dynamic range)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; expected a finite number of dB > 0, "
                                         "e.g. 80") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not allowed; expected a finite number of dB > 0, e.g. 80")
    return value


class _CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: options may come before, between or after the positional arguments.

    ``nnaudio run mel --no-plot --channels keep a.wav --out o`` is parsed with
    :meth:`~argparse.ArgumentParser.parse_known_intermixed_args` (plain parsing would stop taking
    AUDIO files at the first option). The top-level parser cannot parse intermixed itself (it has
    subcommands), so each subcommand's parser does, when the top level hands it its arguments.
    """

    _intermixing = False

    def parse_known_args(self, args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixing:  # parse_known_intermixed_args calls back here for each of its passes
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``nnaudio`` command."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="nnaudio",
        description="Audio to spectrograms with nnaudio-core transforms.",
        epilog="SPEC is a bundled spec name (stft, ...) or a YAML file. `run` and `extract` need "
               'the cli extra: pip install "nnaudio-core[cli]".',
    )
    parser.add_argument("--version", action="version", version=f"nnaudio-core {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_CommandParser)

    device_help = "device to run on: cpu, cuda, cuda:N, mps, auto (default: the spec's device)"
    channels_help = ("mix files to mono, or keep their channels (outputs gain a leading channel axis); default: the "
                     "spec's `channels` key, else mono")

    run = commands.add_parser("run", help="transform audio files (or the bundled example) to .npy and PNG",
                              description=cmd_run.__doc__ + " With no AUDIO, the example recording shipped "
                              "with the package is used. Files are resampled to the spec's sample rate.")
    run.add_argument("spec", metavar="SPEC", help="bundled spec name or YAML file")
    run.add_argument("audio", metavar="AUDIO", nargs="*", default=[],
                     help="WAV/FLAC/OGG files (default: the bundled example)")
    run.add_argument("--out", "-o", default=".", metavar="DIR",
                     help="folder for <audio>-<spec>.npy and .png, named as `extract` names outputs: files "
                          "from several folders keep their layout, equal stems keep their extension "
                          "(default: current folder)")
    run.add_argument("--device", default=None, help=device_help)
    run.add_argument("--channels", choices=("mono", "keep"), default=None, help=channels_help)
    run.add_argument("--no-plot", action="store_true", help="write only the .npy (no matplotlib needed)")
    run.add_argument("--top-db", type=_positive_decibels, default=80.0, metavar="DB",
                     help="dynamic range of the picture in dB, a number > 0 (default 80)")
    run.set_defaults(handler=cmd_run)

    lister = commands.add_parser("list", help="registered transforms, aliases and providing distributions",
                                 description=cmd_list.__doc__)
    lister.set_defaults(handler=cmd_list)

    describe = commands.add_parser("describe", help="parameters, defaults and docs of a transform",
                                   description=cmd_describe.__doc__)
    describe.add_argument("name", metavar="NAME", help="transform name or alias (see `nnaudio list`)")
    describe.set_defaults(handler=cmd_describe)

    extract = commands.add_parser(
        "extract", help="every audio file under a folder to .npy files (parallel, resumable)",
        description=cmd_extract.__doc__ + " Outputs mirror the input folders; finished outputs are skipped on "
        "a rerun; OUTPUT_DIR/manifest.jsonl records each output. Exit status 1 when any file failed.")
    extract.add_argument("spec", metavar="SPEC", help="bundled spec name or YAML file")
    extract.add_argument("input_dir", metavar="INPUT_DIR", help="folder searched recursively for audio files")
    extract.add_argument("output_dir", metavar="OUTPUT_DIR", help="folder for the .npy files (created)")
    extract.add_argument("--batch-size", type=_positive_int, default=8, metavar="N",
                         help="decoded clips gathered per transform step, an integer >= 1; clips of equal "
                         "length share one call (default 8)")
    extract.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                         help="local engine: decoding threads; ray engine: transform workers, at most; an integer "
                         ">= 1 (default: number of CPUs; with GPU workers, one per GPU share)")
    extract.add_argument("--device", default=None, help=device_help + "; local engine only")
    extract.add_argument("--engine", choices=("local", "ray"), default="local",
                         help="local: threads in this process; ray: a Ray cluster (needs the ray extra: "
                         'pip install "nnaudio-core[ray]"); same outputs (default local)')
    extract.add_argument("--address", default=None, metavar="ADDR",
                         help="ray engine: join the cluster at ADDR (auto, HOST:PORT or ray://HOST:10001); "
                         "default: start a local Ray instance")
    extract.add_argument("--num-cpus", type=_positive_int, default=None, metavar="N",
                         help="ray engine: CPUs of the local Ray instance (default: all)")
    extract.add_argument("--num-gpus-per-worker", type=_gpu_share, default=None, metavar="G",
                         help="ray engine: transform on GPUs, G (e.g. 1 or 0.5) per worker (default: on CPU)")
    extract.add_argument("--channels", choices=("mono", "keep"), default=None, help=channels_help)
    extract.add_argument("--overwrite", action="store_true", help="recompute every file, even finished ones")
    extract.add_argument("--report", metavar="FILE", help="also write the summary and timings as JSON")
    extract.add_argument("--no-progress", action="store_true", help="no progress bar (default: shown on a terminal)")
    extract.set_defaults(handler=cmd_extract)

    validate = commands.add_parser(
        "validate", help="check a spec and print the pipeline it builds, or every error in it",
        description=cmd_validate.__doc__ + " Exit status 1 when the spec has errors.")
    validate.add_argument("spec", metavar="SPEC", help="bundled spec name or YAML file")
    validate.set_defaults(handler=cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nnaudio`` console script; returns the exit status.

    Nothing heavy is imported before the arguments are parsed, so ``--help`` and ``--version``
    answer without torch. Ctrl-C at any point after that (torch's import included) exits with 130
    and one line, and a closed output pipe (``nnaudio list | head -1``) with 141 and no message.
    """
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help, --version, a usage error: flush here, inside the handlers
            sys.stdout.flush()
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        status = _dispatch(args)
        sys.stdout.flush()  # a reader that went away shows up here, not as a warning at exit
        return status
    except BrokenPipeError:  # `nnaudio list | head -1`
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED


def _dispatch(args: argparse.Namespace) -> int:
    """Run the chosen command, turning the errors a user can cause into a message and an exit status."""
    from ..errors import PluginError, SpecError, UnknownTransformError
    from .audio_io import MissingExtraError

    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return args.handler(args)
    except MissingExtraError as exc:
        _err(str(exc))
        for detail in exc.details:
            print(f"  {detail}", file=sys.stderr)
        return EXIT_USAGE
    except (SpecError, UnknownTransformError, PluginError) as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    except BrokenPipeError:
        raise
    except OSError as exc:  # an output folder that cannot be written, a full disk
        where = f"{exc.filename}: " if exc.filename else ""
        _err(f"error: {where}{exc.strerror or exc}")
        return EXIT_FAILED
    finally:
        warnings.showwarning = previous


def _silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush at exit has nowhere to fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor (a replaced sys.stdout): nothing to flush into
        pass


if __name__ == "__main__":
    sys.exit(main())
