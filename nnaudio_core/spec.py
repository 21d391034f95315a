"""YAML/dict specs → validated steps → a :class:`~nnaudio_core.Pipeline` on a device.

A spec::

    device: auto          # auto | cpu | cuda | cuda:1 | mps
    dtype: float32        # float32 | float64 | float16 | bfloat16
    check_input: false    # raise on NaN/Inf input
    channels: mono        # audio files: mono (mix) | keep (the `nnaudio` command reads this)
    pipeline:
      - stft: {n_fft: 2048, hop_length: 512, output_format: Magnitude}
      - amplitude_to_db: {top_db: 80}

Specs are read with ``yaml.safe_load`` only and name registered transforms, never Python import
paths. Every error is a :class:`~nnaudio_core.errors.SpecError` whose message starts with the spec
path of the problem (``pipeline[0].stft.n_ftt``) and, where it helps, a did-you-mean and the valid
choices.
"""

from __future__ import annotations

import copy
import importlib.resources
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import yaml

from . import budget
from .errors import ParameterError, SpecError, UnknownTransformError, did_you_mean
from .kinds import WAVEFORM
from .pipeline import Pipeline
from .registry import REGISTRY

TOP_LEVEL_KEYS = ("device", "dtype", "check_input", "channels", "pipeline", "name", "description")
CHANNEL_MODES = ("mono", "keep")
DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16}
SpecLike = str | os.PathLike | Mapping[str, Any]
_DEFAULT = object()


def bundled_specs() -> list[str]:
    """Names of the specs shipped inside the package (without ``.yaml``).

    Examples
    --------
    >>> "stft" in bundled_specs()
    True
    """
    folder = importlib.resources.files("nnaudio_core") / "specs"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_spec(spec: SpecLike) -> tuple[dict[str, Any], str]:
    """Read a spec into a plain dict without validating it.

    Parameters
    ----------
    spec : str, path or mapping
        A bundled spec name (``"stft"`` or ``"stft.yaml"``), a YAML file path, or a dict. A bare
        name resolves to the bundled spec first; write ``./name.yaml`` for a local file of the same
        name.

    Returns
    -------
    (dict, str)
        The spec and a label for messages (the file path or ``"<dict>"``).
    """
    if isinstance(spec, Mapping):
        return copy.deepcopy(dict(spec)), "<dict>"
    if not isinstance(spec, (str, os.PathLike)):
        raise SpecError("", f"a spec is a bundled spec name, a YAML file path or a dict, got {type(spec).__name__}")
    text_spec = os.fspath(spec)
    bare = os.path.basename(text_spec) == text_spec
    stem = text_spec
    for ending in (".yaml", ".yml"):
        if text_spec.endswith(ending):
            stem = text_spec[: -len(ending)]
    if bare and stem in bundled_specs():
        resource = importlib.resources.files("nnaudio_core") / "specs" / f"{stem}.yaml"
        return _parse_yaml(resource.read_text(encoding="utf-8"), f"<bundled {stem}.yaml>"), f"{stem}.yaml"
    path = Path(text_spec)
    if not path.is_file():
        raise SpecError(
            "",
            f"{text_spec!r} is neither a bundled spec nor a file{did_you_mean(stem, bundled_specs())}; "
            f"bundled specs: {', '.join(bundled_specs())}",
        )
    return _parse_yaml(path.read_text(encoding="utf-8"), str(path)), str(path)


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(where, f"malformed YAML (line {mark.line + 1 if mark else '?'}, column "
                               f"{mark.column + 1 if mark else '?'}): {problem}") from None
    if not isinstance(data, dict):
        raise SpecError(source, f"a spec must be a mapping with a 'pipeline' list, got {type(data).__name__}")
    return data


def normalise_spec(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check the top level of a spec and return it with every key present.

    A mapping without ``pipeline`` whose single key is a transform name is read as a one-step
    pipeline: ``{"stft": {"n_fft": 512}}``.
    """
    data = dict(data)
    if "pipeline" not in data and len(data) == 1:
        (key,) = data
        if key not in TOP_LEVEL_KEYS:
            data = {"pipeline": [data]}
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise SpecError(
                str(key),
                f"unknown top-level key{did_you_mean(str(key), TOP_LEVEL_KEYS)}; "
                f"valid keys: {', '.join(TOP_LEVEL_KEYS)}",
            )
    if "pipeline" not in data:
        raise SpecError("pipeline", "missing: a spec needs a 'pipeline' list of steps")
    steps = data["pipeline"]
    if not isinstance(steps, list) or not steps:
        raise SpecError("pipeline", "must be a non-empty list of steps like `- stft: {n_fft: 2048}`")
    dtype = data.get("dtype", "float32")
    if dtype not in DTYPES:
        raise SpecError(
            "dtype", f"{dtype!r} is not allowed{did_you_mean(str(dtype), DTYPES)}; valid: {', '.join(DTYPES)}"
        )
    check = data.get("check_input", False)
    if not isinstance(check, bool):
        raise SpecError("check_input", f"{check!r} is not allowed; expected true or false")
    channels = data.get("channels", "mono")
    if channels not in CHANNEL_MODES:
        raise SpecError(
            "channels",
            f"{channels!r} is not allowed{did_you_mean(str(channels), CHANNEL_MODES)}; expected mono (mix audio files "
            "to one channel) or keep (transform each channel)",
        )
    return {
        "device": data.get("device", "auto"),
        "dtype": dtype,
        "check_input": check,
        "channels": channels,
        "pipeline": steps,
        **{k: data[k] for k in ("name", "description") if k in data},
    }


def resolve_device(device: Any, *, path: str = "device") -> torch.device:
    """Turn ``auto``/``cpu``/``cuda``/``cuda:N``/``mps`` into an available ``torch.device``."""
    if isinstance(device, torch.device):
        device = str(device)
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str):
        raise SpecError(path, f"{device!r} is not a device; expected auto, cpu, cuda, cuda:N or mps")
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise SpecError(path, f"{device!r} is not a device; expected auto, cpu, cuda, cuda:N or mps") from None
    available = ["cpu"]
    if torch.cuda.is_available():
        available += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        available.append("mps")
    ok = parsed.type == "cpu" or (
        parsed.type == "cuda" and torch.cuda.is_available() and (parsed.index or 0) < torch.cuda.device_count()
    ) or (parsed.type == "mps" and "mps" in available)
    if not ok:
        raise SpecError(path, f"device {device!r} is not available on this machine; available: {', '.join(available)}")
    return parsed


def build_steps(steps: list[Any]) -> list[Any]:
    """Validate the ``pipeline`` list and construct each transform, checking kinds fit."""
    built = []
    info = None
    for index, step in enumerate(steps):
        where = f"pipeline[{index}]"
        if not isinstance(step, dict) or len(step) != 1:
            raise SpecError(where, "each step is a mapping with one transform name, like `- stft: {n_fft: 2048}`")
        ((name, params),) = step.items()
        if not isinstance(name, str):
            raise SpecError(where, f"transform name {name!r} must be a string")
        if any(c in name for c in ".:/"):
            raise SpecError(
                f"{where}.{name}",
                "a spec names registered transforms, never a Python import path; "
                f"available transforms: {', '.join(REGISTRY.names())}",
            )
        try:
            entry = REGISTRY.entry(name)
        except UnknownTransformError as exc:
            raise SpecError(f"{where}.{name}", str(exc)) from None
        where = f"{where}.{name}"
        transform = _construct(entry.cls, entry.name, params, where)
        kind = WAVEFORM if info is None else info.kind
        if not transform.accepts(kind):
            raise SpecError(
                where,
                f"{entry.name} takes {' or '.join(sorted(transform.input_kinds))} input, but the step before "
                f"produces {kind}",
            )
        try:
            info = transform.output_info(info)
        except ValueError as exc:
            raise SpecError(where, str(exc)) from None
        built.append(transform)
    return built


def _construct(cls: type, name: str, params: Any, where: str) -> Any:
    """Build one step, turning every ``ValueError`` of the plugin into a :class:`SpecError` at ``where``."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise SpecError(where, f"parameters must be a mapping, got {type(params).__name__} {params!r}")
    declared = {p.name: p for p in cls.params}
    for key, value in params.items():
        if key not in declared:
            raise SpecError(
                f"{where}.{key}",
                f"unknown parameter{did_you_mean(str(key), declared)}; valid parameters of {name}: "
                f"{', '.join(declared)}",
            )
        try:
            declared[key].validate(value)
        except ParameterError as exc:
            raise SpecError(f"{where}.{key}", f"{value!r} is not allowed; {exc.allowed}") from None
    try:
        return cls(**params)
    except SpecError:
        raise
    except ParameterError as exc:
        raise SpecError(f"{where}.{exc.parameter}", f"{exc.value!r} is not allowed; {exc.allowed}") from None
    except ValueError as exc:  # a plugin's own check, raised as a plain ValueError
        raise SpecError(where, str(exc)) from exc


def build_transform(
    spec: SpecLike, *, device: Any = None, dtype: Any = None, memory_budget: int | str | None | object = _DEFAULT
) -> Pipeline:
    """Build a :class:`~nnaudio_core.Pipeline` from a spec, placed on its device and dtype.

    Parameters
    ----------
    spec : str, path or mapping
        A bundled spec name (``"stft"``, ``"cqt2019.yaml"``), a YAML file path, a spec dict, or a
        one-step dict such as ``{"stft": {"n_fft": 512}}``.
    device : str or torch.device, optional
        Overrides the spec's ``device`` (``auto`` = CUDA when available, else CPU).
    dtype : str or torch.dtype, optional
        Overrides the spec's ``dtype``.
    memory_budget : int or str, optional
        Bytes (or ``"16GiB"``; ``None``: no limit) the kernels of one step may need; default the
        budget in force (:mod:`nnaudio_core.budget`: 4 GiB or ``NNAUDIO_MEMORY_BUDGET``).

    Returns
    -------
    Pipeline
        An ``nn.Module``; call it on ``(time,)``, ``(batch, time)`` or ``(batch, channels, time)``.

    Raises
    ------
    SpecError
        With the spec path of the problem.

    Examples
    --------
    >>> spec = build_transform({"stft": {"n_fft": 512, "output_format": "Magnitude"}}, device="cpu")
    >>> spec(torch.randn(4096)).shape
    torch.Size([257, 33])
    """
    data, _source = load_spec(spec)
    data = normalise_spec(data)
    if dtype is not None:
        data["dtype"] = DTYPE_NAMES_BY_DTYPE.get(dtype, dtype)
        data = normalise_spec(data)
    target = resolve_device(device if device is not None else data["device"])
    if memory_budget is _DEFAULT:
        steps = build_steps(data["pipeline"])
    else:
        with budget.memory_budget(memory_budget):
            steps = build_steps(data["pipeline"])
    pipeline = Pipeline(steps)
    pipeline.check_input = data["check_input"]
    return pipeline.to(device=target, dtype=DTYPES[data["dtype"]])


DTYPE_NAMES_BY_DTYPE = {v: k for k, v in DTYPES.items()}
