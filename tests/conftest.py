"""Mendian's fixtures come from its pytest plugin, ``api.testing`` (the same one plugin authors
use). This file re-exports the helpers some tests import, and keeps the hook meta-test honest:
every hookspec — the core's and those plugins publish — must be *invoked* (an implementation
called) by some test, not just named. The check runs when the whole suite runs."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from api.testing import BACKENDS, PG_URL, REQUIRE, make_tenant

__all__ = ["BACKENDS", "INVOKED", "PG_URL", "REQUIRE", "make_tenant"]

INVOKED: set[str] = set()


def _record(hook_name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(**kwargs: Any) -> Any:
        INVOKED.add(hook_name)
        return fn(**kwargs)

    call.wants = getattr(fn, "wants", frozenset())  # type: ignore[attr-defined]
    return call


@pytest.fixture(autouse=True, scope="session")
def _trace_hook_calls() -> Any:
    """Record which hooks had an implementation called (per-tenant dispatch and the
    registration hooks gathered at startup)."""
    from core.plugins.registry import PluginRegistry
    from core.plugins.runtime import PluginRuntime

    implementations = PluginRuntime.implementations
    collect_all = PluginRegistry.collect_all

    def traced_implementations(
        self: PluginRuntime, hook_name: str, enabled: frozenset[str]
    ) -> list[tuple[str, Callable[..., Any]]]:
        return [
            (pid, _record(hook_name, fn)) for pid, fn in implementations(self, hook_name, enabled)
        ]

    def traced_collect_all(self: PluginRegistry, hook_name: str) -> list[tuple[str, Any]]:
        found = collect_all(self, hook_name)
        if found:
            INVOKED.add(hook_name)
        return found

    PluginRuntime.implementations = traced_implementations  # type: ignore[method-assign]
    PluginRegistry.collect_all = traced_collect_all  # type: ignore[method-assign]
    yield
    PluginRuntime.implementations = implementations  # type: ignore[method-assign]
    PluginRegistry.collect_all = collect_all  # type: ignore[method-assign]


def all_hookspecs() -> set[str]:
    """The core's hookspecs and every installed plugin's published ones."""
    from core import __version__, hookspecs
    from core.plugins import PluginRegistry

    names = {n for n, fn in inspect.getmembers(hookspecs) if hasattr(fn, "mendian_spec")}
    for loaded in PluginRegistry(core_version=__version__).discover().plugins.values():
        published = loaded.manifest.hookspecs
        if published is not None:
            names |= {n for n, fn in inspect.getmembers(published) if hasattr(fn, "mendian_spec")}
    return names


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    whole_suite = (
        not config.option.keyword
        and not config.option.markexpr
        and not getattr(config.option, "lf", False)
        and [str(a) for a in config.args] in (["tests"], [str(config.rootpath / "tests")], [])
        and session.testsfailed == 0
        and exitstatus == 0
    )
    if not whole_suite:
        return
    never = sorted(all_hookspecs() - INVOKED)
    if never:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"hook meta-test: these hooks are never invoked by any test: {never}", red=True
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
