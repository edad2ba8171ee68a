"""Fixtures for the plugin framework: a fresh registry/runtime per test, test plugins as modules."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core import __version__
from core.plugins import PluginManifest, PluginRegistry, PluginRuntime, set_runtime


def plugin_module(
    plugin_id: str,
    *,
    depends: tuple[str, ...] = (),
    settings: Any = None,
    secret_settings: tuple[str, ...] = (),
    requires_core: str = ">=0.1",
    **hooks: Callable[..., Any],
) -> types.ModuleType:
    """A plugin as an in-memory module: a manifest plus hook implementations."""
    from core import hookimpl

    module = types.ModuleType(f"test_plugin_{plugin_id}")
    module.manifest = PluginManifest(  # type: ignore[attr-defined]
        id=plugin_id,
        name=plugin_id.title(),
        version="1.0.0",
        depends=depends,
        settings=settings,
        secret_settings=secret_settings,
        requires_core=requires_core,
    )
    for name, fn in hooks.items():
        fn.__name__ = name
        setattr(module, name, hookimpl(fn))
    return module


@pytest.fixture
def make_runtime(db: Any) -> Iterator[Callable[..., PluginRuntime]]:
    def make(*modules: types.ModuleType, discover: bool = False, **options: Any) -> PluginRuntime:
        registry = PluginRegistry(core_version=__version__)
        if discover:
            registry.discover()
        registry.load([(m.manifest.id, m) for m in modules])
        runtime = PluginRuntime(registry, **options)
        set_runtime(runtime)
        return runtime

    yield make
    set_runtime(None)
