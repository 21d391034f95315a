"""YAML/dict specs → validated steps → a :class:`~nnaudio_core.Pipeline` on a device.

A spec::

    device: auto          # auto | cpu | cuda | cuda:1 | mps
    dtype: float32        # float32 | float64 | float16 | bfloat16
    check_input: false    # raise on NaN/Inf input
    channels: mono        # audio files: mono (mix) | keep (the `nnaudio` command reads this)
    input: waveform       # what the first step takes: waveform (default) or a spectrogram kind
    pipeline:
      - stft: {n_fft: 2048, hop_length: 512, output_format: Magnitude}
      - amplitude_to_db: {top_db: 80}

Specs are read as UTF-8 with ``yaml.safe_load`` semantics only (no Python tags) and name
registered transforms, never Python import paths. A file is at most :data:`MAX_SPEC_BYTES`, nests
at most :data:`MAX_DEPTH` levels, expands (YAML aliases included) to at most :data:`MAX_VALUES`
values and has no duplicate keys. Every error is a :class:`~nnaudio_core.errors.SpecError` whose
message starts with the spec path of the problem (``pipeline[0].stft.n_ftt``) and, where it
helps, a did-you-mean and the valid choices. :func:`spec_errors` lists every error of a spec
instead of raising the first.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import difflib
import importlib.resources
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from . import budget
from .errors import ParameterError, PluginError, SpecError, UnknownTransformError, did_you_mean, short_repr
from .kinds import ALL_KINDS, WAVEFORM
from .pipeline import Pipeline, input_info
from .registry import REGISTRY

TOP_LEVEL_KEYS = ("device", "dtype", "check_input", "channels", "input", "pipeline", "name", "description")
CHANNEL_MODES = ("mono", "keep")
DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16}
#: Kinds a spec's ``input`` may name (what the first step is given).
INPUT_KINDS = ALL_KINDS
#: Largest spec file read, in bytes.
MAX_SPEC_BYTES = 1 << 20
#: Deepest nesting of mappings and lists in a spec.
MAX_DEPTH = 64
#: Most values a spec may hold once YAML aliases are expanded (a string counts one per 100 characters).
MAX_VALUES = 100_000
#: Longest error message quoted from a transform's own check.
MAX_MESSAGE = 1000
#: Dtypes every transform runs in; others are checked with a tiny forward when a spec is built.
FULL_PRECISION = ("float32", "float64")
#: Samples of the tiny forward that checks a half-precision spec (at least the first step's minimum).
PROBE_LENGTH = 4096
#: Longest probe input; a first step that needs more is not probed.
MAX_PROBE_LENGTH = 1 << 18
SpecLike = str | os.PathLike | Mapping[str, Any]
_DEFAULT = object()

Report = Callable[[SpecError], None]


def _raise(error: SpecError) -> None:
    raise error


def bundled_specs() -> list[str]:
    """Names of the specs shipped inside the package (without ``.yaml``).

    Examples
    --------
    >>> "stft" in bundled_specs()
    True
    """
    folder = importlib.resources.files("nnaudio_core") / "specs"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


# ------------------------------------------------------------------------------------------------
# loading
# ------------------------------------------------------------------------------------------------
def load_spec(spec: SpecLike) -> tuple[dict[str, Any], str]:
    """Read a spec into a plain dict without validating its contents.

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

    Raises
    ------
    SpecError
        For a file that cannot be read, is not UTF-8, is malformed YAML, has duplicate keys, or is
        larger, deeper or (through YAML aliases) more expanded than the limits in this module.
    """
    if isinstance(spec, Mapping):
        _check_limits(spec, "<dict>")
        return copy.deepcopy(dict(spec)), "<dict>"
    if not isinstance(spec, (str, os.PathLike)):
        raise SpecError("", f"a spec is a bundled spec name, a YAML file path or a dict, got {type(spec).__name__}")
    text_spec = os.fspath(spec)
    if isinstance(text_spec, bytes):
        text_spec = os.fsdecode(text_spec)
    bare = os.path.basename(text_spec) == text_spec
    stem = text_spec
    for ending in (".yaml", ".yml"):
        if text_spec.endswith(ending):
            stem = text_spec[: -len(ending)]
    if bare and stem in bundled_specs():
        resource = importlib.resources.files("nnaudio_core") / "specs" / f"{stem}.yaml"
        label = f"<bundled {stem}.yaml>"
        return _parse_yaml(_decode(resource.read_bytes(), label), label), f"{stem}.yaml"
    path = Path(text_spec)
    if not path.is_file():
        raise SpecError(
            "",
            f"{short_repr(text_spec)} is neither a bundled spec nor a file{did_you_mean(stem[:200], bundled_specs())}; "
            f"bundled specs: {', '.join(bundled_specs())}",
        )
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecError(source, f"the file has {size} bytes; a spec is at most {MAX_SPEC_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(source, f"cannot read the file: {exc.strerror or exc}") from None
    return _parse_yaml(_decode(raw, source), source), source


def _decode(raw: bytes, source: str) -> str:
    """UTF-8 text of a spec file (a UTF-8 byte-order mark is allowed), or a SpecError saying why not."""
    advice = "specs are UTF-8 text: save the file as UTF-8"
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                      (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if raw.startswith(bom):
            raise SpecError(source, f"the file is {name} text (it starts with a {name} byte-order mark); {advice}")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    if b"\x00" in raw:
        at = raw.index(b"\x00")
        line = raw[:at].count(b"\n") + 1
        raise SpecError(source, f"the file is not UTF-8 text: it has a NUL byte at offset {at} (line {line}), "
                                f"as UTF-16 or UTF-32 text has; {advice}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            source,
            f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start} (line {line}) is "
            f"not valid UTF-8 (Latin-1 or another 8-bit encoding?); {advice}",
        ) from None


class _LimitError(Exception):
    """A spec over one of the limits (raised inside the loader, reported as a SpecError)."""

    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.mark = mark


class _SpecLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (same tags, same types) that stops composing past :data:`MAX_DEPTH` levels.

    PyYAML composes nested nodes recursively, so deep nesting would end in a ``RecursionError``;
    this loader refuses it first.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self._depth >= MAX_DEPTH:
            raise _LimitError(f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    loader = _SpecLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_duplicate_keys(node, source)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(where, f"malformed YAML (line {mark.line + 1 if mark else '?'}, column "
                               f"{mark.column + 1 if mark else '?'}): {problem}") from None
    except _LimitError as exc:
        mark = exc.mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        raise SpecError(where, f"{exc}; a spec nests at most {MAX_DEPTH} levels") from None
    except RecursionError:  # e.g. a long chain of YAML merge keys
        raise SpecError(source, f"nested too deeply; a spec nests at most {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    _check_limits(data, source)
    if not isinstance(data, dict):
        raise SpecError(source, f"a spec must be a mapping with a 'pipeline' list, got {type(data).__name__}")
    return data


def _check_duplicate_keys(root: Any, source: str) -> None:
    """Raise a SpecError naming the first key written twice in one mapping, with its spec path."""
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:  # an aliased node is checked once
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend((child, f"{path}[{i}]") for i, child in reversed(list(enumerate(node.value))))
        elif isinstance(node, MappingNode):
            keys: dict[tuple[str, str], Any] = {}
            children = []
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    label = _key(key_node.value)
                    here = f"{path}.{label}" if path else label
                    token = (key_node.tag, key_node.value)
                    if token in keys:
                        first, again = keys[token].start_mark, key_node.start_mark
                        raise SpecError(
                            here,
                            f"duplicate key {short_repr(key_node.value)} (line {first.line + 1}, column "
                            f"{first.column + 1} and line {again.line + 1}, column {again.column + 1} of {source}); "
                            "a key may appear once in a mapping",
                        )
                    keys[token] = key_node
                    children.append((value_node, here))
                else:
                    children.append((value_node, path))
            stack.extend(reversed(children))


def _check_limits(data: Any, source: str) -> None:
    """Raise a SpecError when ``data`` nests deeper than MAX_DEPTH, expands past MAX_VALUES or is recursive.

    Shared sub-structures (YAML aliases) are measured once and counted at every use, so the walk is
    linear in the distinct containers however large the expansion.
    """
    memo: dict[int, tuple[int, int]] = {}  # id -> (expanded values, depth)
    on_path: set[int] = set()

    def children(value: Any) -> list[Any]:
        if isinstance(value, Mapping):
            return [item for pair in value.items() for item in pair]
        return list(value)

    def weight(value: Any) -> int:
        return 1 + len(value) // 100 if isinstance(value, (str, bytes)) else 1

    def container(value: Any) -> bool:
        return isinstance(value, (Mapping, list, tuple, set, frozenset))

    if not container(data):
        return
    stack: list[list[Any]] = [[data, children(data), 0, 1, 0]]  # value, children, next index, values, depth
    on_path.add(id(data))
    while stack:
        frame = stack[-1]
        if frame[2] < len(frame[1]):
            child = frame[1][frame[2]]
            frame[2] += 1
            if not container(child):
                frame[3] += weight(child)
                frame[4] = max(frame[4], 1)
            elif id(child) in on_path:
                raise SpecError(source, "the spec contains itself (a recursive YAML alias or a self-referencing dict)")
            elif id(child) in memo:
                values, depth = memo[id(child)]
                frame[3] += values
                frame[4] = max(frame[4], depth)
            else:
                if len(stack) >= MAX_DEPTH:
                    raise SpecError(source, f"nested deeper than {MAX_DEPTH} levels; a spec nests at most "
                                            f"{MAX_DEPTH} levels")
                on_path.add(id(child))
                stack.append([child, children(child), 0, 1, 0])
            if frame[3] > MAX_VALUES:
                raise _too_many(source)
            continue
        stack.pop()
        on_path.discard(id(frame[0]))
        memo[id(frame[0])] = (frame[3], frame[4] + 1)
        if stack:
            stack[-1][3] += frame[3]
            stack[-1][4] = max(stack[-1][4], frame[4] + 1)
            if stack[-1][3] > MAX_VALUES:
                raise _too_many(source)


def _too_many(source: str) -> SpecError:
    return SpecError(source, f"the spec expands to more than {MAX_VALUES} values (YAML aliases are counted at "
                             "every use); refusing it")


def _key(name: Any) -> str:
    """A key as it appears in a spec path: as written when short, else a clipped repr."""
    text = name if isinstance(name, str) else short_repr(name, 80)
    if not text.strip() or any(c in text for c in ":.[]"):  # blank, or would read as path syntax
        return repr(text)
    return text if len(text) <= 80 and text.isprintable() else short_repr(text, 80)


def _message(exc: BaseException) -> str:
    """``str(exc)`` clipped to :data:`MAX_MESSAGE` characters (the type name when it cannot be shown)."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a plugin's exception whose __str__ fails
        text = ""
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


# ------------------------------------------------------------------------------------------------
# the top level
# ------------------------------------------------------------------------------------------------
def normalise_spec(data: Mapping[str, Any], *, report: Report = _raise) -> dict[str, Any]:
    """Check the top level of a spec and return it with every key present.

    A mapping without ``pipeline`` whose single key is a transform name is read as a one-step
    pipeline: ``{"stft": {"n_fft": 512}}``.

    Parameters
    ----------
    data : mapping
        The spec, as :func:`load_spec` returns it.
    report : callable, optional
        Called with each :class:`SpecError`; the default raises it. When it returns, the value in
        error is replaced by its default (``pipeline`` by an empty list) and checking goes on.
    """
    data = dict(data)
    if "pipeline" not in data and len(data) == 1:
        (key,) = data
        if key not in TOP_LEVEL_KEYS:
            data = {"pipeline": [data]}
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            report(SpecError(
                _key(key),
                f"unknown top-level key{did_you_mean(_key(key), TOP_LEVEL_KEYS)}; "
                f"valid keys: {', '.join(TOP_LEVEL_KEYS)}",
            ))
    steps = data.get("pipeline")
    if "pipeline" not in data:
        report(SpecError("pipeline", "missing: a spec needs a 'pipeline' list of steps"))
        steps = []
    elif not isinstance(steps, list) or not steps:
        report(SpecError("pipeline", "must be a non-empty list of steps like `- stft: {n_fft: 2048}`, got "
                                     f"{short_repr(steps)}"))
        steps = []
    dtype = _checked_dtype(data.get("dtype", "float32"), report)
    check = data.get("check_input", False)
    if not isinstance(check, bool):
        report(SpecError("check_input", f"{short_repr(check)} is not allowed; expected true or false"))
        check = False
    channels = data.get("channels", "mono")
    if not (isinstance(channels, str) and channels in CHANNEL_MODES):
        hint = did_you_mean(channels, CHANNEL_MODES) if isinstance(channels, str) else ""
        report(SpecError(
            "channels",
            f"{short_repr(channels)} is not allowed{hint}; expected mono (mix audio files to one channel) or keep "
            "(transform each channel)",
        ))
        channels = "mono"
    kind = data.get("input", WAVEFORM)
    if not (isinstance(kind, str) and kind in INPUT_KINDS):
        hint = did_you_mean(kind, INPUT_KINDS) if isinstance(kind, str) else ""
        report(SpecError("input", f"{short_repr(kind)} is not a kind{hint}; expected one of {', '.join(INPUT_KINDS)} "
                                  "(what the first step is given; default waveform)"))
        kind = WAVEFORM
    device = data.get("device", "auto")
    try:
        _parse_device(device)
    except SpecError as exc:
        report(exc)
        device = "auto"
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            report(SpecError(key, f"{short_repr(data[key])} is not allowed; expected a string"))
            data.pop(key)
    return {
        "device": device,
        "dtype": dtype,
        "check_input": check,
        "channels": channels,
        "input": kind,
        "pipeline": steps,
        **{k: data[k] for k in ("name", "description") if k in data},
    }


def _checked_dtype(dtype: Any, report: Report) -> str:
    """The dtype's name when it is one of :data:`DTYPES` (a ``torch.dtype`` is named), else reported."""
    dtype = _dtype_name(dtype)
    if isinstance(dtype, str) and dtype in DTYPES:
        return dtype
    hint = did_you_mean(dtype, DTYPES) if isinstance(dtype, str) else ""
    report(SpecError("dtype", f"{short_repr(dtype)} is not allowed{hint}; valid: {', '.join(DTYPES)}"))
    return "float32"


def _parse_device(device: Any, *, path: str = "device") -> torch.device | None:
    """``None`` for ``auto``, else the ``torch.device`` it names; a SpecError when it names none."""
    if isinstance(device, torch.device):
        return device
    if device is None or device == "auto":
        return None
    problem = SpecError(path, f"{short_repr(device)} is not a device; expected auto, cpu, cuda, cuda:N or mps")
    if not isinstance(device, str):
        raise problem
    try:
        return torch.device(device)
    except (RuntimeError, ValueError):
        raise problem from None


def resolve_device(device: Any, *, path: str = "device") -> torch.device:
    """Turn ``auto``/``cpu``/``cuda``/``cuda:N``/``mps`` into an available ``torch.device``."""
    parsed = _parse_device(device, path=path)
    if parsed is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
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
        raise SpecError(path, f"device {short_repr(str(device))} is not available on this machine; available: "
                              f"{', '.join(available)}")
    return parsed


# ------------------------------------------------------------------------------------------------
# the steps
# ------------------------------------------------------------------------------------------------
def build_steps(steps: list[Any], *, input_kind: str = WAVEFORM) -> list[Any]:
    """Validate the ``pipeline`` list and construct each transform, checking kinds and rows fit."""
    return _steps(steps, input_kind=input_kind, report=_raise)


def _steps(
    steps: list[Any],
    *,
    input_kind: str,
    report: Report,
    device: torch.device | None = None,
    dtype: str | None = None,
    keep: bool = True,
) -> list[Any]:
    """Check and construct the steps one after the other.

    Each problem goes to ``report``. A step that cannot be built leaves the next step's input
    unknown: its kind and rows are then not checked. A step built without some of its parameters
    (they were reported; unknown ones count) is not checked for rows, passes its output kind on
    unless a dropped parameter is a choice (such as ``output_format``) or unknown, and passes rows
    on only when it keeps the rows it is given; so a reported error does not cause another.
    With ``device`` and ``dtype`` each step is placed there and, for a half-precision ``dtype``, run
    once on a tiny input. With ``keep=False`` each step is freed once checked.
    """
    built = []
    kind: str | None = input_kind  # what the next step is given; None: unknown
    info = input_info(input_kind)
    probe = dtype is not None and dtype not in FULL_PRECISION
    x: torch.Tensor | None = None
    for index, step in enumerate(steps):
        where = f"pipeline[{index}]"
        transform, dropped, where = _step(step, where, report)
        exact = not dropped
        cls = type(transform) if transform is not None else None
        if transform is None:
            kind, info, x = None, None, None
            continue
        fits = kind is None or transform.accepts(kind)
        if not fits:
            before = "the step before produces" if index else "what comes before it, the spec's input, produces"
            hint = f" (set `input: {_first_kind(cls)}` for a spec that starts from it)" if not index else ""
            report(SpecError(where, f"{transform.name} takes {' or '.join(sorted(transform.input_kinds))} input, "
                                    f"but {before} {kind}{hint}"))
        upstream = info if fits and kind is not None else None
        if upstream is not None and not exact:
            upstream = upstream.with_(frequencies=None)  # its rows may depend on what was dropped
        try:
            out = transform.output_info(upstream)
        except ValueError as exc:
            report(SpecError(where, _message(exc)))
            try:
                out = transform.output_info(None)
            except ValueError:
                out = None
        if out is None or (not exact and any(p is None or p.choices is not None for p in dropped)):
            kind, info = None, None
        elif exact:
            kind, info = out.kind, out
        elif out.rows is None and upstream is not None and info is not None:  # it passes rows through
            kind, info = out.kind, out.with_(frequencies=info.frequencies)
        else:
            kind, info = out.kind, out.with_(frequencies=None)
        if device is not None and dtype is not None:
            transform = transform.to(device=device, dtype=DTYPES[dtype])
            if probe:
                x = _probe(transform, x, where, device, dtype, report)
        if keep:
            built.append(transform)
        del transform
    return built


def _first_kind(cls: Any) -> str:
    return next((k for k in ALL_KINDS if k in cls.input_kinds), WAVEFORM)


def _step(step: Any, where: str, report: Report) -> tuple[Any, list[Any], str]:
    """One step → (transform or None, the parameters left out as invalid, its spec path).

    An unknown parameter counts as the declared one it is close to, or ``None`` when none is.
    """
    if not isinstance(step, dict) or len(step) != 1:
        report(SpecError(where, "each step is a mapping with one transform name, like `- stft: {n_fft: 2048}`, "
                                f"got {short_repr(step)}"))
        return None, [], where
    ((name, params),) = step.items()
    if not isinstance(name, str):
        report(SpecError(where, f"transform name {short_repr(name)} must be a string"))
        return None, [], where
    if any(c in name for c in ".:/"):
        report(SpecError(
            f"{where}.{_key(name)}",
            f"a spec names registered transforms, never a Python import path; available transforms: "
            f"{', '.join(REGISTRY.names())}",
        ))
        return None, [], where
    try:
        entry = REGISTRY.entry(name)
    except (UnknownTransformError, PluginError) as exc:
        report(SpecError(f"{where}.{_key(name)}", _message(exc)))
        return None, [], where
    where = f"{where}.{name}"
    if params is None:
        params = {}
    if not isinstance(params, dict):
        report(SpecError(where, f"parameters must be a mapping, got {type(params).__name__} {short_repr(params)}"))
        return None, [], where
    declared = {p.name: p for p in entry.cls.params}
    valid = {}
    dropped = []
    for key, value in params.items():
        if key not in declared:
            close = difflib.get_close_matches(_key(key), list(declared), n=1, cutoff=0.6)
            dropped.append(declared[close[0]] if close else None)  # what the typo may have meant
            report(SpecError(
                f"{where}.{_key(key)}",
                f"unknown parameter{did_you_mean(_key(key), declared)}; valid parameters of {entry.name}: "
                f"{', '.join(declared)}",
            ))
            continue
        try:
            declared[key].validate(value)
        except ParameterError as exc:
            report(SpecError(f"{where}.{key}", f"{short_repr(value)} is not allowed; {_clip(exc.allowed)}"))
            dropped.append(declared[key])
            continue
        except (TypeError, ValueError) as exc:
            report(SpecError(f"{where}.{key}", f"{short_repr(value)} is not allowed: {_message(exc)}"))
            dropped.append(declared[key])
            continue
        valid[key] = value
    return _construct(entry.cls, valid, where, report), dropped, where


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def _construct(cls: type, params: dict[str, Any], where: str, report: Report = _raise) -> Any:
    """Build one step, turning every ``ValueError`` of the plugin into a :class:`SpecError` at ``where``."""
    try:
        return cls(**params)
    except SpecError as exc:
        report(exc)
    except ParameterError as exc:
        report(SpecError(f"{where}.{exc.parameter}", f"{short_repr(exc.value)} is not allowed; {_clip(exc.allowed)}"))
    except ValueError as exc:  # a plugin's own check, raised as a plain ValueError
        problem = SpecError(where, _message(exc))
        problem.__cause__ = exc
        report(problem)
    except MemoryError:
        report(SpecError(where, "building this step ran out of memory; choose parameters with smaller kernels"))
    return None


def _probe_length(transform: Any) -> int:
    needs = [getattr(m, "min_input_length", None) for m in transform.modules()]
    return max([PROBE_LENGTH] + [n for n in needs if isinstance(n, int)])


def _probe(transform: Any, x: torch.Tensor | None, where: str, device: torch.device, dtype: str,
           report: Report) -> torch.Tensor | None:
    """Run ``transform`` once in ``dtype`` (on the previous step's probe output, or its own example input).

    A ``RuntimeError`` (an operation without a kernel for this dtype, such as ``torch.stft`` in half
    precision on a CPU) is reported; an input the step refuses leaves the check inconclusive.
    Returns the output for the next step, or ``None``.
    """
    try:
        if x is None:
            length = _probe_length(transform)
            if transform.core_dims == 1 and length > MAX_PROBE_LENGTH:
                return None
            x = transform.example_input(1, length=length) if transform.core_dims == 1 else transform.example_input(1)
            x = x.to(device=device, dtype=DTYPES[dtype])
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return transform(x)
    except RuntimeError as exc:
        report(SpecError("dtype", f"{dtype} is not supported by {where} on {device} ({_clip(_message(exc))[:200]}); "
                                  f"dtypes every transform runs in: {', '.join(FULL_PRECISION)}"))
    except (ValueError, TypeError):
        pass
    return None


# ------------------------------------------------------------------------------------------------
# the entry points
# ------------------------------------------------------------------------------------------------
def _dtype_name(dtype: Any) -> Any:
    if isinstance(dtype, torch.dtype):
        return DTYPE_NAMES_BY_DTYPE.get(dtype, str(dtype).replace("torch.", ""))
    return dtype


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
        An ``nn.Module``; call it on ``(time,)``, ``(batch, time)`` or ``(batch, channels, time)``
        (spectrograms ``(freq, frames)`` for a spec whose ``input`` is a spectrogram kind).

    Raises
    ------
    SpecError
        The first problem, with its spec path (:func:`spec_errors` lists them all).

    Examples
    --------
    >>> spec = build_transform({"stft": {"n_fft": 512, "output_format": "Magnitude"}}, device="cpu")
    >>> spec(torch.randn(4096)).shape
    torch.Size([257, 33])
    """
    data, _source = load_spec(spec)
    data = normalise_spec(data)
    if dtype is not None:
        data["dtype"] = _checked_dtype(dtype, _raise)
    target = resolve_device(device if device is not None else data["device"])
    with contextlib.nullcontext() if memory_budget is _DEFAULT else budget.memory_budget(memory_budget):
        steps = _steps(data["pipeline"], input_kind=data["input"], report=_raise, device=target, dtype=data["dtype"])
    pipeline = Pipeline(steps, input_kind=data["input"])
    pipeline.check_input = data["check_input"]
    return pipeline.to(device=target, dtype=DTYPES[data["dtype"]])


def spec_errors(spec: SpecLike, *, device: Any = None, dtype: Any = None) -> list[SpecError]:
    """Every problem of a spec, in order, without keeping anything built (what ``nnaudio validate`` prints).

    The top-level keys are checked one by one, then the steps: each step's unknown parameters and
    wrong values, then the step is built with its valid parameters (to check relations between
    them), checked against what the step before produces, and freed. A step that cannot be built
    leaves the next one's input unknown, so an error is not reported twice. The first error is the
    one :func:`build_transform` raises.

    Parameters
    ----------
    spec : str, path or mapping
        As for :func:`build_transform`.
    device, dtype : optional
        As for :func:`build_transform`.

    Returns
    -------
    list of SpecError
        Empty when :func:`build_transform` would succeed.

    Examples
    --------
    >>> errors = spec_errors({"dtype": "float8", "chanels": "mono", "pipeline": [{"stft": {"hop_length": 0}}]})
    >>> [error.path for error in errors]
    ['chanels', 'dtype', 'pipeline[0].stft.hop_length']
    >>> print(errors[2])
    pipeline[0].stft.hop_length: 0 is not allowed; expected an integer >= 1 and <= 1073741824, or None
    """
    errors: list[SpecError] = []
    try:
        data, _source = load_spec(spec)
    except SpecError as exc:
        return [exc]
    data = normalise_spec(data, report=errors.append)
    if dtype is not None:
        data["dtype"] = _checked_dtype(dtype, errors.append)
    try:
        target = resolve_device(device if device is not None else data["device"])
    except SpecError as exc:
        errors.append(exc)
        target = torch.device("cpu")
    _steps(data["pipeline"], input_kind=data["input"], report=errors.append, device=target, dtype=data["dtype"],
           keep=False)
    return errors


DTYPE_NAMES_BY_DTYPE = {v: k for k, v in DTYPES.items()}
