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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from cachetools import LRUCache, TLRUCache
from pluggy import HookCaller

from core.cache import LIVE_SECONDS, TENANT_ENTRIES, bounded, lru
from core.context import TenantInfo
from core.db import current_tenant, json_value, tenant_tx
from core.errors import ValidationFailed
from core.plugins.registry import PluginRegistry
from core.redis import INVALIDATE_CHANNEL  # noqa: F401 - defined there now, still importable here
from core.tables import PluginProblem, TenantModule

if TYPE_CHECKING:
    from core.messaging.channels import ChannelSet
    from core.segments import SegmentField

__all__ = ["ModuleState", "PluginRuntime", "current_runtime", "get_runtime", "set_runtime"]

log = logging.getLogger("mendian.plugins")


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
        max_cached_tenants: int = TENANT_ENTRIES,
    ) -> None:
        self.registry = registry
        self.hook_timeout = hook_timeout
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.cache_seconds = cache_seconds
        self.max_cached_tenants = max_cached_tenants
        # enabled sets are published when they change: long while that is heard
        self._states: TLRUCache[UUID, dict[str, ModuleState]] = bounded(
            cache_seconds, max_cached_tenants, live_seconds=LIVE_SECONDS
        )
        # a tenant's typed settings, valid while its enabled set is the one they came from
        self._settings: LRUCache[tuple[UUID, str], tuple[dict[str, ModuleState], Any]] = lru(
            max_cached_tenants
        )
        self._callers: dict[tuple[str, frozenset[str]], HookCaller] = {}
        self._impls: dict[tuple[str, frozenset[str]], list[tuple[str, Callable[..., Any]]]] = {}
        self._channels: dict[frozenset[str], ChannelSet] = {}
        self._segment_fields: dict[frozenset[str], Mapping[str, SegmentField]] = {}
        self.use_cache = True
        self._generation = 0

    # -- enabled sets ----------------------------------------------------------------------

    async def states(self, tenant_id: UUID) -> dict[str, ModuleState]:
        hit = self._states.get(tenant_id)
        if self.use_cache and hit is not None:
            return hit
        generation = self._generation
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
        if (
            generation == self._generation
        ):  # a read that began before an invalidation may predate it
            self._states[tenant_id] = states
        return states

    async def enabled(self, tenant_id: UUID, store_id: UUID | None = None) -> frozenset[str]:
        now = dt.datetime.now(dt.UTC)
        return frozenset(
            p for p, s in (await self.states(tenant_id)).items() if s.active(store_id, now)
        )

    async def settings(self, tenant_id: UUID, plugin_id: str) -> dict[str, Any]:
        """The tenant's stored settings of ``plugin_id`` over its defaults, as plain JSON."""
        state = (await self.states(tenant_id)).get(plugin_id)
        manifest = self.registry.manifest(plugin_id)
        return manifest.default_settings() | (state.settings if state else {})

    async def plugin_settings(self, tenant_id: UUID, plugin_id: str) -> Any:
        """The tenant's settings of ``plugin_id`` as its manifest's validated ``settings``
        struct (``None`` for a plugin without settings), converted once per cached enabled set:
        what hooks receive as ``settings`` and resolvers read through the request context."""
        states = await self.states(tenant_id)
        hit = self._settings.get((tenant_id, plugin_id))
        if hit is not None and hit[0] is states:
            return hit[1]
        state = states.get(plugin_id)
        value = self.registry.manifest(plugin_id).typed_settings(state.settings if state else {})
        self._settings[(tenant_id, plugin_id)] = (states, value)
        return value

    def invalidate(self, tenant_id: UUID | None = None) -> None:
        self._generation += 1
        if tenant_id is None:
            self._states.clear()
            self._settings.clear()
        else:
            self._states.pop(tenant_id, None)

    async def publish_invalidation(self, tenant_id: UUID) -> None:
        """Forget the tenant's enabled set here and in every other worker (over Redis; while it
        is away, the others' entries expire within ``cache_seconds``)."""
        from core.redis import publish_invalidation

        self.invalidate(tenant_id)
        await publish_invalidation("modules", str(tenant_id))

    async def listen_for_invalidations(self) -> None:
        """Run for the life of the process (a background task) when Redis is configured: every
        invalidation published on the channel (enabled sets, credentials) is applied here."""
        from core.redis import listen_for_invalidations, on_invalidation

        on_invalidation(
            "modules", lambda value: self.invalidate(None if value == "*" else UUID(value))
        )
        await listen_for_invalidations()

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
        """``(plugin id, function)`` of the enabled plugins implementing ``hook_name``.

        Each function takes keyword arguments and passes on only those its implementation
        declares (pluggy's rule: an implementation may accept a subset of the spec's
        arguments), so callers can always offer ``tenant``, ``settings`` and the rest.
        """
        key = (hook_name, enabled)
        found = self._impls.get(key)
        if found is None:
            found = []
            for impl in self.caller(hook_name, enabled).get_hookimpls():
                name = self.registry.pm.get_name(impl.plugin)
                if name is not None:
                    found.append((name, _accepting(impl.function, impl.argnames)))
            self._impls[key] = found
        return found

    async def offer(
        self, tenant: TenantInfo, plugin_id: str, kwargs: dict[str, Any], fn: Callable[..., Any]
    ) -> dict[str, Any]:
        """The hook's arguments plus what the runtime offers every tenant-scoped hook, computed
        only when the implementation declares it: ``settings`` (the plugin's own validated
        settings), ``channels`` (the tenant's message channels), ``modules`` (the ids of the
        tenant's enabled modules: a plugin can tell whether a partner it integrates with through
        hooks is there) and ``segment_fields``."""
        wants: frozenset[str] = getattr(fn, "wants", frozenset())
        extra: dict[str, Any] = {}
        if "settings" in wants and "settings" not in kwargs:
            extra["settings"] = await self.plugin_settings(tenant.id, plugin_id)
        if "channels" in wants and "channels" not in kwargs:
            extra["channels"] = await self.channels(tenant)
        if "modules" in wants and "modules" not in kwargs:
            extra["modules"] = await self.enabled(tenant.id)
        if "segment_fields" in wants and "segment_fields" not in kwargs:
            extra["segment_fields"] = await self.segment_fields(tenant)
        return {**kwargs, **extra} if extra else kwargs

    async def segment_fields(
        self, tenant: TenantInfo, store_id: UUID | None = None
    ) -> Mapping[str, SegmentField]:
        """The fields the tenant's segments may use: the core's plus the conditions of its
        enabled plugins (cached per enabled set; a condition belongs to its plugin)."""
        from core.segments import segment_fields

        enabled = await self.enabled(tenant.id, store_id)
        found = self._segment_fields.get(enabled)
        if found is None:
            found = self._segment_fields[enabled] = segment_fields(
                self.registry.collect_for("register_segment_conditions", enabled)
            )
        return found

    async def channels(self, tenant: TenantInfo, store_id: UUID | None = None) -> ChannelSet:
        """The built-in message channels plus those of the tenant's enabled plugins, with the
        default templates of the core and those plugins (cached per enabled set)."""
        enabled = await self.enabled(tenant.id, store_id)
        found = self._channels.get(enabled)
        if found is None:
            from core.messaging.channels import BUILTIN_CHANNELS, ChannelSet

            extra = [
                channel
                for _plugin_id, channels in self.registry.collect_for(
                    "register_message_channels", enabled
                )
                for channel in channels or []
            ]
            templates = [
                template
                for _plugin_id, defaults in self.registry.collect_for(
                    "register_message_templates", enabled
                )
                for template in defaults or []
            ]
            found = self._channels[enabled] = ChannelSet([*BUILTIN_CHANNELS, *extra], templates)
        return found

    async def collect(
        self, tenant: TenantInfo, hook_name: str, /, store_id: UUID | None = None, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Results of a collect hook from the tenant's enabled plugins; a failing plugin is skipped."""
        results = []
        for plugin_id, fn in self.implementations(
            hook_name, await self.enabled(tenant.id, store_id)
        ):
            try:
                value = fn(**await self.offer(tenant, plugin_id, kwargs, fn))
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
                value = fn(**await self.offer(tenant, plugin_id, kwargs, fn))
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
            value = fn(**await self.offer(tenant, plugin_id, kwargs, fn))
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
        await self.publish_invalidation(tenant.id)  # a suspension holds in every process

    async def record_success(self, tenant: TenantInfo, plugin_id: str) -> None:
        state = (await self.states(tenant.id)).get(plugin_id)
        if state is not None and state.failure_count and current_tenant.get() is None:
            async with tenant_tx(tenant.id):
                await TenantModule.update({TenantModule.failure_count: 0}).where(
                    TenantModule.plugin_id == plugin_id
                )
            await self.publish_invalidation(tenant.id)


def _accepting(fn: Callable[..., Any], argnames: tuple[str, ...]) -> Callable[..., Any]:
    """``fn`` called with only the keyword arguments it declares."""
    wanted = frozenset(argnames)

    def call(**kwargs: Any) -> Any:
        return fn(**{k: v for k, v in kwargs.items() if k in wanted})

    call.__wrapped__ = fn  # type: ignore[attr-defined]  # for introspection and tests
    call.wants = wanted  # type: ignore[attr-defined]  # which offered arguments to compute
    return call


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
