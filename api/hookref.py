"""The hook reference, generated from the hookspecs themselves (``mendian plugins hooks``): the
core's and those installed plugins publish. The README's table is this output; a test fails
when they differ."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

__all__ = ["HookDoc", "hook_reference", "hook_table"]

OFFERED = ("settings", "channels")


@dataclass(frozen=True)
class HookDoc:
    name: str
    kind: str
    arguments: tuple[str, ...]
    publisher: str
    summary: str


def _kind(name: str) -> str:
    if name.startswith("register_"):
        return "registration"
    if name in ("on_plugin_enabled", "on_plugin_disabled", "on_plugin_settings_changed"):
        return "lifecycle"
    if name == "on_tenant_created":
        return "lifecycle"
    if name.endswith("_validate"):
        return "validation"
    if name.startswith("customer_") and name.endswith("_data"):
        return "privacy"
    return "event"


def _docs(module: Any, publisher: str) -> list[HookDoc]:
    out = []
    for name, fn in inspect.getmembers(module):
        if not hasattr(fn, "mendian_spec"):
            continue
        doc = inspect.getdoc(fn) or ""
        summary = " ".join(doc.split("\n\n", 1)[0].split())
        args = tuple(p for p in inspect.signature(fn).parameters if p not in OFFERED)
        out.append(HookDoc(name, _kind(name), args, publisher, summary))
    return out


def hook_reference() -> list[HookDoc]:
    """Every hook: the core's, then each installed plugin's published ones, by kind and name."""
    from core import __version__, hookspecs
    from core.plugins import PluginRegistry

    order = ["registration", "lifecycle", "event", "validation", "privacy"]
    docs = _docs(hookspecs, "core")
    registry = PluginRegistry(core_version=__version__).discover()
    for plugin_id in registry.dependency_order():
        published = registry.plugins[plugin_id].manifest.hookspecs
        if published is not None:
            docs += _docs(published, plugin_id)
    return sorted(docs, key=lambda d: (d.publisher != "core", order.index(d.kind), d.name))


def hook_table() -> str:
    """The reference as a Markdown table."""
    lines = ["| hook | kind | arguments | published by | what |", "|---|---|---|---|---|"]
    for d in hook_reference():
        args = ", ".join(f"`{a}`" for a in d.arguments) or "—"
        lines.append(f"| `{d.name}` | {d.kind} | {args} | {d.publisher} | {d.summary} |")
    return "\n".join(lines) + "\n"
