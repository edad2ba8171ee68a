"""Installed plugins: discovery through entry points, manifest checks, quarantine (PLUG-1, PLUG-5).

A plugin that fails to import, has a bad manifest, needs another core version, misses a
dependency or implements an unknown hook is *quarantined* with a reason; the others load and the
server starts. ``MENDIAN_STRICT_PLUGINS=1`` makes any quarantine fatal (for CI).
"""

from __future__ import annotations

import importlib
import logging
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from core import hookspecs
from core.plugins.manifest import ManifestError, PluginManifest

__all__ = [
    "ENTRY_POINT_GROUP",
    "LoadedPlugin",
    "PluginRegistry",
    "Quarantined",
    "StrictPluginError",
]

ENTRY_POINT_GROUP = "mendian.plugins"
log = logging.getLogger("mendian.plugins")


class StrictPluginError(RuntimeError):
    """A plugin was quarantined while ``MENDIAN_STRICT_PLUGINS=1``."""


@dataclass(frozen=True)
class Quarantined:
    id: str
    reason: str
    source: str = ""


@dataclass
class LoadedPlugin:
    manifest: PluginManifest
    module: ModuleType
    source: str = ""

    @property
    def id(self) -> str:
        return self.manifest.id


@dataclass
class PluginRegistry:
    """A pluggy manager plus what was loaded and what was quarantined. One per app (tests make
    their own; there is no module-global manager)."""

    core_version: str
    strict: bool = False
    pm: pluggy.PluginManager = field(default_factory=lambda: pluggy.PluginManager("mendian"))
    plugins: dict[str, LoadedPlugin] = field(default_factory=dict)
    quarantined: dict[str, Quarantined] = field(default_factory=dict)
    _collected: dict[str, list[tuple[str, Any]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.pm.add_hookspecs(hookspecs)

    # -- loading ---------------------------------------------------------------------------

    def _quarantine(self, plugin_id: str, reason: str, source: str = "") -> None:
        log.error("plugin %s quarantined: %s", plugin_id, reason)
        self.quarantined[plugin_id] = Quarantined(plugin_id, reason, source)
        if self.strict:
            raise StrictPluginError(f"plugin {plugin_id} quarantined: {reason}")

    def discover(self) -> PluginRegistry:
        """Load every plugin of the ``mendian.plugins`` entry-point group."""
        found = [(ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)]
        return self.load(found)

    def load(self, modules: Iterable[tuple[str, str | ModuleType]]) -> PluginRegistry:
        """Load ``(entry-point name, module path or module)`` pairs, then wire them together."""
        self._collected.clear()
        candidates: dict[str, LoadedPlugin] = {}
        for name, target in modules:
            source = target if isinstance(target, str) else target.__name__
            try:
                module = importlib.import_module(target) if isinstance(target, str) else target
            except Exception as exc:
                self._quarantine(name, f"import failed: {type(exc).__name__}: {exc}", source)
                log.debug("%s", traceback.format_exc())
                continue
            manifest = getattr(module, "manifest", None)
            if not isinstance(manifest, PluginManifest):
                self._quarantine(name, "module has no `manifest = PluginManifest(...)`", source)
                continue
            try:
                manifest.validate(self.core_version)
                if manifest.id != name:
                    raise ManifestError(
                        f"entry point name {name!r} differs from manifest id {manifest.id!r}"
                    )
                if manifest.id in candidates or manifest.id in self.plugins:
                    raise ManifestError(f"plugin id {manifest.id!r} is installed twice")
                if manifest.piccolo_app:
                    importlib.import_module(manifest.piccolo_app)
            except Exception as exc:
                self._quarantine(name, f"bad manifest: {exc}", source)
                continue
            candidates[manifest.id] = LoadedPlugin(manifest, module, source)
        self._resolve(candidates)
        return self

    def _resolve(self, candidates: dict[str, LoadedPlugin]) -> None:
        # Dependencies: a plugin whose dependency is missing or quarantined is quarantined too.
        changed = True
        while changed:
            changed = False
            for pid, plugin in list(candidates.items()):
                missing = [
                    d
                    for d in plugin.manifest.depends
                    if d not in candidates and d not in self.plugins
                ]
                if missing:
                    del candidates[pid]
                    self._quarantine(
                        pid, f"missing dependency: {', '.join(missing)}", plugin.source
                    )
                    changed = True
        # Plugins' own hookspecs first, so that others may implement them.
        for plugin in candidates.values():
            if plugin.manifest.hookspecs is not None:
                self.pm.add_hookspecs(plugin.manifest.hookspecs)
        for pid in self.dependency_order(candidates):
            plugin = candidates[pid]
            try:
                self.pm.register(plugin.module, name=pid)
            except Exception as exc:  # pluggy.PluginValidationError: bad hook signature
                self._quarantine(pid, f"invalid hook implementation: {exc}", plugin.source)
                continue
            # Pluggy accepts implementations of hooks nobody specified; we do not (PLUG-5),
            # except those marked ``@hookimpl(optionalhook=True)``: a plugin reacting to another
            # plugin's event when that plugin is installed, without depending on it.
            unknown = sorted(
                caller.name
                for caller in self.pm.get_hookcallers(plugin.module) or []
                if not caller.has_spec()
                and any(
                    not impl.optionalhook
                    for impl in caller.get_hookimpls()
                    if impl.plugin is plugin.module
                )
            )
            if unknown:
                self.pm.unregister(name=pid)
                self._quarantine(
                    pid, f"implements unknown hooks: {', '.join(sorted(unknown))}", plugin.source
                )
                continue
            self.plugins[pid] = plugin

    def dependency_order(self, plugins: dict[str, LoadedPlugin] | None = None) -> list[str]:
        """Plugin ids with every plugin after the plugins it depends on (optional ones too)."""
        plugins = self.plugins if plugins is None else plugins
        order: list[str] = []
        visiting: set[str] = set()

        def visit(pid: str) -> None:
            if pid in order or pid not in plugins:
                return
            if pid in visiting:
                raise ManifestError(f"dependency cycle through {pid!r}")
            visiting.add(pid)
            manifest = plugins[pid].manifest
            for dep in (*manifest.depends, *manifest.optional_depends):
                visit(dep)
            visiting.discard(pid)
            order.append(pid)

        for pid in sorted(plugins):
            visit(pid)
        return order

    # -- queries ---------------------------------------------------------------------------

    def manifest(self, plugin_id: str) -> PluginManifest:
        return self.plugins[plugin_id].manifest

    def dependents(self, plugin_id: str) -> list[str]:
        return sorted(p for p, lp in self.plugins.items() if plugin_id in lp.manifest.depends)

    def dependency_closure(self, plugin_id: str) -> list[str]:
        """``plugin_id`` and everything it depends on, dependencies first."""
        needed: list[str] = []

        def visit(pid: str) -> None:
            for dep in self.plugins[pid].manifest.depends:
                visit(dep)
            if pid not in needed:
                needed.append(pid)

        visit(plugin_id)
        return needed

    def piccolo_apps(self) -> list[str]:
        apps = [self.plugins[p].manifest.piccolo_app for p in self.dependency_order()]
        return [a for a in apps if a]

    def permissions(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for plugin in self.plugins.values():
            merged.update(plugin.manifest.permissions)
        # through collect_all like every registration hook (cached; seen by the hook meta-test)
        for _plugin_id, result in self.collect_all("register_permissions"):
            merged.update(result or {})
        return merged

    def collect_all(self, hook_name: str) -> list[tuple[str, Any]]:
        """``(plugin id, result)`` of a registration hook (``register_*``) from every installed
        plugin, in dependency order. Registration hooks take no arguments and are called once
        per registry; what they return is owned by the plugin and used only where it is
        enabled (:meth:`collect_for`)."""
        cached = self._collected.get(hook_name)
        if cached is None:
            order = {pid: i for i, pid in enumerate(self.dependency_order())}
            found: list[tuple[str, Any]] = []
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                name = self.pm.get_name(impl.plugin)
                if name is not None:
                    found.append((name, impl.function()))
            cached = self._collected[hook_name] = sorted(
                found, key=lambda item: order.get(item[0], len(order))
            )
        return cached

    def collect_for(self, hook_name: str, enabled: frozenset[str]) -> list[tuple[str, Any]]:
        """:meth:`collect_all` restricted to the ``enabled`` plugins."""
        return [(pid, value) for pid, value in self.collect_all(hook_name) if pid in enabled]

    def hookimpl_plugins(self, hook_name: str) -> list[str]:
        caller = getattr(self.pm.hook, hook_name, None)
        if caller is None:
            return []
        names = {self.pm.get_name(impl.plugin) for impl in caller.get_hookimpls()}
        return [n for n in names if n is not None]
