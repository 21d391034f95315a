"""The transform registry: pluggy plugins discovered through the ``nnaudio.transforms`` entry points.

Every transform, built-in or third-party, arrives the same way: an entry point in the group
``nnaudio.transforms`` names a module (or object) implementing the ``nnaudio_register_transforms``
hook, which calls ``register(cls, aliases=...)``. Plugins are loaded lazily, on the first lookup,
each in its own ``try``: a broken plugin becomes a :class:`PluginWarning` naming it, its
distribution and the error, and the others still load. With ``NNAUDIO_STRICT_PLUGINS=1`` the
warning is an error instead.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect
import os
import sys
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError, UnknownTransformError, did_you_mean
from .params import to_plain
from .transform import KernelTransform

HOOK_NAME = "nnaudio_register_transforms"
STRICT_ENV = "NNAUDIO_STRICT_PLUGINS"


class PluginWarning(UserWarning):
    """A plugin failed to load or register and was skipped."""


class TransformConflictError(PluginError):
    """Two plugins registered the same transform name."""


@dataclass(frozen=True)
class TransformEntry:
    """A registered transform and where it came from."""

    name: str
    cls: type[KernelTransform]
    aliases: tuple[str, ...]
    plugin: str
    distribution: str | None = None
    version: str | None = None

    @property
    def source(self) -> str:
        """``"plugin (distribution version)"``, for messages and listings."""
        if self.distribution:
            return f"plugin {self.plugin!r} (distribution {self.distribution} {self.version or '?'})"
        return f"plugin {self.plugin!r}"


@dataclass(frozen=True)
class ParamInfo:
    """One parameter of a transform, as :func:`describe_transform` reports it."""

    name: str
    default: Any
    doc: str
    allowed: str


@dataclass(frozen=True)
class TransformInfo:
    """What :func:`describe_transform` returns: enough to use a transform without its source."""

    name: str
    aliases: tuple[str, ...]
    summary: str
    doc: str
    params: tuple[ParamInfo, ...]
    input_kinds: tuple[str, ...]
    plugin: str
    distribution: str | None
    version: str | None
    cls: type[KernelTransform] = field(repr=False)

    def __str__(self) -> str:
        lines = [f"{self.name}: {self.summary}"]
        if self.aliases:
            lines.append(f"  aliases: {', '.join(self.aliases)}")
        provider = f"{self.distribution} {self.version}" if self.distribution else "(no distribution)"
        where = f"{self.cls.__module__}.{self.cls.__qualname__}"
        lines.append(f"  provided by: {provider}, plugin {self.plugin!r}, class {where}")
        lines.append(f"  input: {', '.join(self.input_kinds)}")
        lines.append("  parameters:")
        width = max((len(p.name) for p in self.params), default=0)
        for p in self.params:
            lines.append(f"    {p.name:<{width}}  = {to_plain(p.default)!r}")
            lines.append(f"    {'':<{width}}    {p.doc}")
            lines.append(f"    {'':<{width}}    allowed: {p.allowed}")
        return "\n".join(lines)


class Registry:
    """Loads plugins and maps transform names (and aliases) to classes.

    Most code uses the module-level functions (:func:`get_transform` and friends), which share one
    registry. Tests can make their own or call :meth:`reset`.
    """

    def __init__(self, *, group: str = hookspecs.ENTRY_POINT_GROUP) -> None:
        self.group = group
        self._lock = threading.RLock()
        self._loaded = False
        self._pending: list[Any] | None = None  # entry points not yet loaded, while loading
        self._deferred: list[Any] = []  # entry points whose module was mid-import when reached
        self._failures: list[tuple[str, BaseException]] = []
        self._entries: dict[str, TransformEntry] = {}
        self._lookup: dict[str, str] = {}  # name or alias -> canonical name
        self._manager = self._new_manager()

    @staticmethod
    def _new_manager() -> pluggy.PluginManager:
        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        return manager

    # -- loading ---------------------------------------------------------------------------------
    def ensure_loaded(self) -> None:
        """Load every entry-point plugin once (in strict mode, until loading succeeds).

        Re-entrant: a plugin may call :func:`get_transform` or :func:`available_transforms` while it
        is being imported (to subclass a built-in); the lookup then loads the plugins still pending.
        """
        with self._lock:
            if self._loaded or self._pending is not None:
                return  # loaded, or loading further up this thread's stack
            # the built-ins first, so a third-party plugin can never shadow them; then by name
            self._pending = sorted(importlib.metadata.entry_points(group=self.group),
                                   key=lambda e: (_distribution_name(e) != BUILTIN_DISTRIBUTION, e.name))
            self._failures = []
            try:
                self._load_pending()
            finally:
                self._pending = None
            failures, self._failures = self._failures, []
            self._loaded = True
            self._report(failures)

    def load_entry_points(self) -> None:
        """Load the plugins declared in the entry-point group now (see :meth:`ensure_loaded`)."""
        self._loaded = False
        self.ensure_loaded()

    def _load_pending(self, until: str | None = None) -> None:
        """Load pending entry points, each in its own try, until ``until`` is registered (or all)."""
        while self._pending:
            if until is not None and until in self._lookup:
                return
            ep = self._pending.pop(0)
            if _is_being_imported(ep):
                # Its module is importing right now and asked the registry for a transform (a plugin
                # imported directly, not by the registry): register it once that import is done.
                self._deferred.append(ep)
                continue
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else None
            version = dist.version if dist is not None else None
            if self._manager.has_plugin(ep.name):
                continue  # the same distribution seen twice on sys.path, or registered by hand
            try:
                plugin = ep.load()
                self.register_plugin(plugin, name=ep.name, distribution=dist_name, version=version)
            except (Exception, SystemExit, KeyboardInterrupt) as exc:
                # A plugin calling sys.exit or raising KeyboardInterrupt while it loads is a broken
                # plugin like any other: it must not take the built-ins down.
                where = f"from distribution {dist_name} {version}" if dist_name else "(no distribution)"
                self._failures.append((
                    f"nnaudio plugin {ep.name!r} ({ep.value}) {where} failed to load and was skipped: "
                    f"{type(exc).__name__}: {_describe(exc)}",
                    exc,
                ))

    def _report(self, failures: list[tuple[str, BaseException]]) -> None:
        """Warn about each failed plugin, or raise them together in strict mode."""
        if failures and os.environ.get(STRICT_ENV, "") not in ("", "0"):
            self._loaded = False  # strict mode: the next lookup tries again
            message = "; ".join(m for m, _ in failures)
            raise PluginError(f"{message} ({STRICT_ENV} is set)") from failures[0][1]
        for message, _ in failures:
            warnings.warn(message, PluginWarning, stacklevel=4)

    def _during_load(self, until: str | None = None) -> None:
        """Load what a lookup may need: entry points still pending (while a plugin asks), up to
        ``until``, and deferred ones whose module has finished importing since."""
        if self._pending:
            self._load_pending(until)
        ready = [ep for ep in self._deferred if not _is_being_imported(ep)]
        if ready and self._pending is None:
            self._deferred = [ep for ep in self._deferred if ep not in ready]
            self._pending, self._failures = ready, []
            try:
                self._load_pending()
            finally:
                self._pending = None
            failures, self._failures = self._failures, []
            self._report(failures)

    def register_plugin(
        self, plugin: Any, *, name: str, distribution: str | None = None, version: str | None = None
    ) -> list[str]:
        """Register a plugin object (module, class or instance) and the transforms it registers.

        The plugin's registrations are all-or-nothing: if its hook raises, nothing it registered is
        kept. Returns the canonical names it added.

        Raises
        ------
        PluginError
            If the plugin misspells the hook, forgets ``@hookimpl``, or its hook fails.
        TransformConflictError
            If it registers a name (or alias) another plugin already holds.
        """
        with self._lock:
            registered_name = self._manager.get_name(plugin)
            if registered_name is not None:  # already in (its entry point loaded it): nothing to add
                return [e.name for e in self._entries.values() if e.plugin == registered_name]
            _check_hook_names(plugin, name)
            try:
                self._manager.register(plugin, name=name)
            except ValueError as exc:
                raise PluginError(f"plugin {name!r} is already registered") from exc
            try:
                self._manager.check_pending()
            except pluggy.PluginValidationError as exc:
                self._manager.unregister(name=name)
                raise PluginError(f"plugin {name!r} implements a hook nnaudio does not define: {exc}") from exc
            staged: list[TransformEntry] = []

            def register(cls: type, *, aliases: tuple[str, ...] | list[str] = ()) -> None:
                staged.append(self._make_entry(cls, tuple(aliases), name, distribution, version, staged))

            impls = [i for i in self._manager.hook.nnaudio_register_transforms.get_hookimpls() if i.plugin_name == name]
            try:
                for impl in impls:
                    impl.function(register=register)
            except BaseException:
                self._manager.unregister(name=name)
                raise
            for entry in staged:
                self._entries[entry.name] = entry
                for key in (entry.name, *entry.aliases):
                    self._lookup[key] = entry.name
            return [e.name for e in staged]

    def plugin_name(self, plugin: Any) -> str | None:
        """The name ``plugin`` (the very object) is registered under, or ``None``."""
        with self._lock:
            return self._manager.get_name(plugin)

    def plugin(self, name: str) -> Any | None:
        """The plugin object registered under ``name``, or ``None``."""
        with self._lock:
            return self._manager.get_plugin(name)

    def unregister_plugin(self, name: str) -> None:
        """Remove a plugin and every transform it registered."""
        with self._lock:
            if self._manager.has_plugin(name):
                self._manager.unregister(name=name)
            for canonical in [k for k, e in self._entries.items() if e.plugin == name]:
                entry = self._entries.pop(canonical)
                for key in (entry.name, *entry.aliases):
                    self._lookup.pop(key, None)

    def reset(self) -> None:
        """Forget every plugin; the next lookup loads the entry points again."""
        with self._lock:
            self._manager = self._new_manager()
            self._entries.clear()
            self._lookup.clear()
            self._loaded = False
            self._pending = None
            self._deferred = []

    def _make_entry(
        self,
        cls: type,
        aliases: tuple[str, ...],
        plugin: str,
        distribution: str | None,
        version: str | None,
        staged: list[TransformEntry],
    ) -> TransformEntry:
        if not (isinstance(cls, type) and issubclass(cls, KernelTransform)):
            raise PluginError(f"plugin {plugin!r} registered {cls!r}, which is not a KernelTransform subclass")
        tname = cls.__dict__.get("name", "")
        if not isinstance(tname, str) or not tname:
            inherited = f" (it inherits name {cls.name!r}; a subclass needs its own)" if cls.name else ""
            raise PluginError(
                f"plugin {plugin!r} registered {cls.__qualname__} without a `name` class attribute{inherited}"
            )
        for key in (tname, *aliases):
            if key != key.lower() or not key.replace("_", "").isalnum():
                raise PluginError(f"plugin {plugin!r}: transform name {key!r} must be lower case letters, digits and _")
            holder = self._lookup.get(key)
            if holder is not None:
                other = self._entries[holder]
                raise TransformConflictError(
                    f"transform name {key!r} is registered twice: by {other.source} for {other.cls.__qualname__} "
                    f"and by plugin {plugin!r}"
                    f"{f' (distribution {distribution} {version})' if distribution else ''} for {cls.__qualname__}"
                )
            if any(key in (e.name, *e.aliases) for e in staged):
                raise TransformConflictError(f"plugin {plugin!r} registers the transform name {key!r} twice")
        return TransformEntry(tname, cls, aliases, plugin, distribution, version)

    # -- lookup ----------------------------------------------------------------------------------
    def entry(self, name: str) -> TransformEntry:
        """Return the entry for a name or alias (case-insensitive)."""
        self.ensure_loaded()
        key = str(name).lower()
        with self._lock:
            if key not in self._lookup:
                self._during_load(until=key)
        if key not in self._lookup:
            known = sorted(self._lookup)
            raise UnknownTransformError(
                f"unknown transform {name!r}{did_you_mean(key, known)}; available transforms: "
                f"{', '.join(self.names()) or '(none: is nnaudio-core installed with its entry points?)'}"
            )
        return self._entries[self._lookup[key]]

    def names(self) -> list[str]:
        """Canonical names of all registered transforms, sorted."""
        self.ensure_loaded()
        with self._lock:
            self._during_load()
        return sorted(self._entries)

    def entries(self) -> list[TransformEntry]:
        """All registered transforms, sorted by name."""
        self.ensure_loaded()
        with self._lock:
            self._during_load()
        return [self._entries[n] for n in sorted(self._entries)]


BUILTIN_DISTRIBUTION = "nnaudio-core"


def _distribution_name(ep: Any) -> str | None:
    dist = getattr(ep, "dist", None)
    return None if dist is None else dist.metadata["Name"]


def _describe(exc: BaseException) -> str:
    """``str(exc)``, or a stand-in when the exception's own ``__str__`` fails."""
    try:
        return str(exc)
    except Exception as inner:  # noqa: BLE001 (any failure of a plugin's __str__)
        return f"<the exception's message could not be shown: {type(inner).__name__}>"


def _is_being_imported(ep: Any) -> bool:
    """Whether the module an entry point names is in the middle of its own import."""
    module = sys.modules.get(ep.value.partition(":")[0].strip())
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _check_hook_names(plugin: Any, plugin_name: str) -> None:
    """Turn a misspelled or unmarked hook into an error instead of silence."""
    marker = f"{hookspecs.PROJECT}_impl"
    for attr in dir(plugin):
        if attr.startswith("__"):
            continue
        value = getattr(plugin, attr, None)
        if not callable(value):
            continue
        marked = hasattr(value, marker)
        if attr == HOOK_NAME and not marked:
            raise PluginError(
                f"plugin {plugin_name!r} defines {HOOK_NAME} without the @nnaudio_core.hookimpl decorator"
            )
        if attr != HOOK_NAME and (marked or difflib.SequenceMatcher(None, attr, HOOK_NAME).ratio() >= 0.85):
            raise PluginError(
                f"plugin {plugin_name!r} defines {attr!r}, which is not an nnaudio hook "
                f"(did you mean {HOOK_NAME!r}?); the only hook is {HOOK_NAME}(register)"
            )


#: The registry behind the module-level functions.
REGISTRY = Registry()


def available_transforms() -> list[str]:
    """Names of every registered transform (aliases not included), sorted.

    Examples
    --------
    >>> "stft" in available_transforms()
    True
    """
    return REGISTRY.names()


def get_transform(name: str) -> type[KernelTransform]:
    """Return the transform class registered under ``name`` or one of its aliases.

    Raises
    ------
    UnknownTransformError
        With a did-you-mean and the list of available transforms.

    Examples
    --------
    >>> get_transform("stft").name
    'stft'
    """
    return REGISTRY.entry(name).cls


def describe_transform(name: str) -> TransformInfo:
    """Describe a transform: parameters, defaults, docs, and the distribution that provides it.

    Examples
    --------
    >>> info = describe_transform("stft")
    >>> [p.name for p in info.params][:2]
    ['n_fft', 'win_length']
    """
    entry = REGISTRY.entry(name)
    doc = inspect.getdoc(entry.cls) or ""
    return TransformInfo(
        name=entry.name,
        aliases=entry.aliases,
        summary=doc.splitlines()[0] if doc else "",
        doc=doc,
        params=tuple(ParamInfo(p.name, p.default, p.doc, p.allowed()) for p in entry.cls.params),
        input_kinds=tuple(sorted(entry.cls.input_kinds)),
        plugin=entry.plugin,
        distribution=entry.distribution,
        version=entry.version,
        cls=entry.cls,
    )
