"""Per-tenant dispatch (PLUG-4) with fault isolation (PLUG-5).

A hook reaches only the plugins enabled for the tenant (and store). The enabled set is read from
``tenant_module`` and cached per tenant; pluggy subset callers are cached per enabled set, so a
handful of callers serve thousands of tenants. Enablement changes invalidate the tenant's entry
locally and, with Redis, in every worker (pub/sub on ``mendian:plugins:invalidate``).

Event and lifecycle hooks are called plugin by plugin: a raising or slow (timeout) plugin is
logged with its id, recorded in ``plugin_problem``, and never stops the core operation or the
other plugins; ``failure_threshold`` consecutive failures suspend it for that tenant only, for
``cooldown``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pluggy import HookCaller

from core.context import TenantInfo
from core.db import current_tenant, json_value, tenant_tx
from core.errors import ValidationFailed
from core.plugins.registry import PluginRegistry
from core.tables import PluginProblem, TenantModule

__all__ = ["ModuleState", "PluginRuntime", "current_runtime", "get_runtime", "set_runtime"]

log = logging.getLogger("mendian.plugins")
INVALIDATE_CHANNEL = "mendian:plugins:invalidate"


@dataclass(frozen=True)
class ModuleState:
    plugin_id: str
    enabled: bool
    settings: dict[str, Any]
    store_ids: frozenset[UUID] | None
    failure_count: int
    suspended_until: dt.datetime | None

    def active(self, store_id: UUID | None, now: dt.datetime) -> bool:
        if not self.enabled or (self.suspended_until is not None and self.suspended_until > now):
            return False
        return store_id is None or self.store_ids is None or store_id in self.store_ids


class PluginRuntime:
    def __init__(
        self,
        registry: PluginRegistry,
        *,
        hook_timeout: float = 5.0,
        failure_threshold: int = 5,
        cooldown: dt.timedelta = dt.timedelta(minutes=10),
        cache_seconds: float = 30.0,
    ) -> None:
        self.registry = registry
        self.hook_timeout = hook_timeout
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.cache_seconds = cache_seconds
        self._states: dict[UUID, tuple[float, dict[str, ModuleState]]] = {}
        self._callers: dict[tuple[str, frozenset[str]], HookCaller] = {}
        self.use_cache = True

    # -- enabled sets ----------------------------------------------------------------------

    async def states(self, tenant_id: UUID) -> dict[str, ModuleState]:
        hit = self._states.get(tenant_id)
        if self.use_cache and hit is not None and hit[0] > time.monotonic():
            return hit[1]
        async with tenant_tx(tenant_id, write=False):
            rows = await TenantModule.select()
        states = {
            r["plugin_id"]: ModuleState(
                plugin_id=r["plugin_id"],
                enabled=bool(r["enabled"]) and r["plugin_id"] in self.registry.plugins,
                settings=dict(json_value(r["settings"], {})),
                store_ids=None
                if r["store_ids"] in (None, "null")
                else frozenset(UUID(s) for s in json_value(r["store_ids"], [])),
                failure_count=r["failure_count"],
                suspended_until=r["suspended_until"],
            )
            for r in rows
        }
        self._states[tenant_id] = (time.monotonic() + self.cache_seconds, states)
        return states

    async def enabled(self, tenant_id: UUID, store_id: UUID | None = None) -> frozenset[str]:
        now = dt.datetime.now(dt.UTC)
        return frozenset(
            p for p, s in (await self.states(tenant_id)).items() if s.active(store_id, now)
        )

    async def settings(self, tenant_id: UUID, plugin_id: str) -> dict[str, Any]:
        state = (await self.states(tenant_id)).get(plugin_id)
        manifest = self.registry.manifest(plugin_id)
        return manifest.default_settings() | (state.settings if state else {})

    def invalidate(self, tenant_id: UUID | None = None) -> None:
        if tenant_id is None:
            self._states.clear()
        else:
            self._states.pop(tenant_id, None)

    async def publish_invalidation(self, tenant_id: UUID) -> None:
        """Forget the tenant's enabled set here and in every other worker."""
        from core.redis import get_redis

        self.invalidate(tenant_id)
        client = get_redis()
        if client is not None:
            await client.publish(INVALIDATE_CHANNEL, str(tenant_id))

    async def listen_for_invalidations(self) -> None:
        """Run for the life of the process (a background task) when Redis is configured."""
        from core.redis import get_redis

        client = get_redis()
        if client is None:
            return
        pubsub = client.pubsub()
        await pubsub.subscribe(INVALIDATE_CHANNEL)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self.invalidate(UUID(str(message["data"])))
        finally:
            await pubsub.aclose()

    # -- dispatch --------------------------------------------------------------------------

    def caller(self, hook_name: str, enabled: frozenset[str]) -> HookCaller:
        """A pluggy caller reaching only ``enabled`` plugins, cached per enabled set."""
        key = (hook_name, enabled)
        caller = self._callers.get(key)
        if caller is None:
            hook: HookCaller = getattr(self.registry.pm.hook, hook_name)
            others = [
                m
                for pid, lp in self.registry.plugins.items()
                if pid not in enabled
                for m in [lp.module]
            ]
            caller = (
                self.registry.pm.subset_hook_caller(hook_name, remove_plugins=others)
                if others
                else hook
            )
            self._callers[key] = caller
        return caller

    def implementations(
        self, hook_name: str, enabled: frozenset[str]
    ) -> list[tuple[str, Callable[..., Any]]]:
        """``(plugin id, function)`` of the enabled plugins implementing ``hook_name``."""
        caller = self.caller(hook_name, enabled)
        out = []
        for impl in caller.get_hookimpls():
            name = self.registry.pm.get_name(impl.plugin)
            if name is not None:
                out.append((name, impl.function))
        return out

    async def collect(
        self, tenant: TenantInfo, hook_name: str, /, store_id: UUID | None = None, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Results of a collect hook from the tenant's enabled plugins; a failing plugin is skipped."""
        results = []
        for plugin_id, fn in self.implementations(
            hook_name, await self.enabled(tenant.id, store_id)
        ):
            try:
                value = fn(**kwargs)
                if inspect.isawaitable(value):
                    value = await asyncio.wait_for(value, self.hook_timeout)
                results.append((plugin_id, value))
            except Exception as exc:
                await self.record_failure(tenant, plugin_id, hook_name, exc)
        return results

    async def validate(
        self, tenant: TenantInfo, hook_name: str, /, store_id: UUID | None = None, **kwargs: Any
    ) -> None:
        """Run a validate hook: a ``ValidationFailed`` vetoes; any other failure is isolated."""
        for plugin_id, fn in self.implementations(
            hook_name, await self.enabled(tenant.id, store_id)
        ):
            try:
                value = fn(**kwargs)
                if inspect.isawaitable(value):
                    await asyncio.wait_for(value, self.hook_timeout)
            except ValidationFailed:
                raise
            except Exception as exc:
                await self.record_failure(tenant, plugin_id, hook_name, exc)

    async def call_isolated(
        self,
        tenant: TenantInfo,
        plugin_id: str,
        hook_name: str,
        fn: Callable[..., Any],
        /,
        **kwargs: Any,
    ) -> bool:
        """Call one plugin's hook with a timeout; failures are recorded, never raised."""
        try:
            value = fn(**kwargs)
            if inspect.isawaitable(value):
                await asyncio.wait_for(value, self.hook_timeout)
        except Exception as exc:
            await self.record_failure(tenant, plugin_id, hook_name, exc)
            return False
        await self.record_success(tenant, plugin_id)
        return True

    async def notify(
        self,
        tenant: TenantInfo,
        hook_name: str,
        /,
        store_id: UUID | None = None,
        plugins: frozenset[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, bool]:
        """Notify every enabled plugin (or ``plugins``) separately: ``{plugin id: succeeded}``."""
        enabled = plugins if plugins is not None else await self.enabled(tenant.id, store_id)
        return {
            plugin_id: await self.call_isolated(tenant, plugin_id, hook_name, fn, **kwargs)
            for plugin_id, fn in self.implementations(hook_name, enabled)
        }

    # -- problems and suspension -----------------------------------------------------------

    async def record_failure(
        self,
        tenant: TenantInfo,
        plugin_id: str,
        hook: str,
        exc: BaseException,
        event_id: UUID | None = None,
    ) -> None:
        kind = "timeout" if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) else "error"
        message = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning(
            "plugin %s failed in %s for tenant %s: %s", plugin_id, hook, tenant.slug, message
        )
        if current_tenant.get() is not None:
            return  # inside the caller's transaction: it rolls back; the caller records
        now = dt.datetime.now(dt.UTC)
        async with tenant_tx(tenant.id):
            await PluginProblem.insert(
                PluginProblem(
                    plugin_id=plugin_id, hook=hook, kind=kind, message=message, event_id=event_id
                )
            )
            row = (
                await TenantModule.select(TenantModule.id, TenantModule.failure_count)
                .where(TenantModule.plugin_id == plugin_id)
                .first()
            )
            if row is not None:
                count = row["failure_count"] + 1
                values: dict[Any, Any] = {TenantModule.failure_count: count}
                if count >= self.failure_threshold:
                    values[TenantModule.suspended_until] = now + self.cooldown
                    values[TenantModule.failure_count] = 0
                    log.error(
                        "plugin %s suspended for tenant %s until %s",
                        plugin_id,
                        tenant.slug,
                        now + self.cooldown,
                    )
                await TenantModule.update(values).where(TenantModule.id == row["id"])
        self.invalidate(tenant.id)

    async def record_success(self, tenant: TenantInfo, plugin_id: str) -> None:
        state = (await self.states(tenant.id)).get(plugin_id)
        if state is not None and state.failure_count and current_tenant.get() is None:
            async with tenant_tx(tenant.id):
                await TenantModule.update({TenantModule.failure_count: 0}).where(
                    TenantModule.plugin_id == plugin_id
                )
            self.invalidate(tenant.id)


_runtime: PluginRuntime | None = None


def set_runtime(runtime: PluginRuntime | None) -> None:
    global _runtime
    _runtime = runtime


def current_runtime() -> PluginRuntime | None:
    """The runtime, or None where plugins are not loaded (some CLI commands, unit tests)."""
    return _runtime


def get_runtime() -> PluginRuntime:
    if _runtime is None:
        raise RuntimeError("plugins are not loaded: call core.plugins.load_runtime() first")
    return _runtime
