"""The plugin framework: manifests, discovery, per-tenant dispatch, durable event delivery."""

from core.plugins.manifest import ManifestError, PluginManifest
from core.plugins.registry import (
    ENTRY_POINT_GROUP,
    LoadedPlugin,
    PluginRegistry,
    Quarantined,
    StrictPluginError,
)
from core.plugins.runtime import (
    ModuleState,
    PluginRuntime,
    current_runtime,
    get_runtime,
    set_runtime,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "LoadedPlugin",
    "ManifestError",
    "ModuleState",
    "PluginManifest",
    "PluginRegistry",
    "PluginRuntime",
    "Quarantined",
    "StrictPluginError",
    "current_runtime",
    "get_runtime",
    "load_runtime",
    "set_runtime",
]


def load_runtime(*, strict: bool | None = None) -> PluginRuntime:
    """Discover the installed plugins (entry points) and make them the process's runtime."""
    from core import __version__
    from core.config import get_settings

    registry = PluginRegistry(
        core_version=__version__, strict=get_settings().strict_plugins if strict is None else strict
    ).discover()
    runtime = PluginRuntime(registry)
    set_runtime(runtime)
    return runtime
