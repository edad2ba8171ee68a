"""``mendian bench …``: measurements printed as figures (never timed tests)."""

from __future__ import annotations

import datetime as dt
import statistics
import time
import types
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from core import __version__, hookimpl
from core.context import Actor, TenantInfo
from core.plugins import PluginManifest, PluginRegistry, PluginRuntime, set_runtime

__all__ = ["bench_plugins"]


def _module(plugin_id: str) -> types.ModuleType:
    module = types.ModuleType(f"bench_{plugin_id}")
    module.manifest = PluginManifest(id=plugin_id, name=plugin_id, version="1.0")  # type: ignore[attr-defined]

    def on_tenant_created(tenant: TenantInfo) -> None:
        return None

    module.on_tenant_created = hookimpl(on_tenant_created)  # type: ignore[attr-defined]
    return module


async def _per_call(fn: Callable[[], Awaitable[Any]], n: int) -> float:
    for _ in range(min(n // 10, 200)):
        await fn()
    started = time.perf_counter()
    for _ in range(n):
        await fn()
    return (time.perf_counter() - started) / n * 1e6


async def bench_plugins(
    report: Callable[[str], None], *, calls: int = 2000, messages: int = 10_000
) -> None:
    from core.messaging import BUILTIN_CHANNELS, ChannelSet, MessageRequest, enqueue_many
    from tenants.modules import enable_module
    from tenants.service import create_tenant

    registry = PluginRegistry(core_version=__version__).load(
        [(f"b{i}", _module(f"b{i}")) for i in range(5)]
    )
    runtime = PluginRuntime(registry)
    set_runtime(runtime)
    actor = Actor(kind="system", id="bench")
    tenant = await create_tenant({"slug": f"bench-{uuid.uuid4().hex[:8]}", "name": "bench"})
    for i in range(3):
        await enable_module(tenant, actor, runtime, f"b{i}")
    direct = registry.pm.hook.on_tenant_created

    async def pluggy_all() -> None:
        direct(tenant=tenant)

    async def dispatch() -> None:
        await runtime.notify(tenant, "on_tenant_created", tenant=tenant)

    async def collect() -> None:
        runtime.caller("on_tenant_created", await runtime.enabled(tenant.id))(tenant=tenant)

    base = await _per_call(pluggy_all, calls)
    cached = await _per_call(collect, calls)
    isolated = await _per_call(dispatch, calls)
    runtime.use_cache = False
    uncached = await _per_call(collect, calls // 4)
    runtime.use_cache = True
    report(f"hook dispatch, 5 installed / 3 enabled plugins, {calls} calls:")
    report(f"  plain pluggy call (all plugins, no tenant)     {base:8.1f} µs/call")
    report(f"  per-tenant subset caller, enabled set cached   {cached:8.1f} µs/call")
    report(f"  per-tenant, enabled set read from the database {uncached:8.1f} µs/call")
    report(f"  isolated notify (per plugin, timeout, cached)  {isolated:8.1f} µs/call")

    from core.consent import set_consent
    from core.customers import create_customer

    customers = []
    for i in range(200):
        c = await create_customer(tenant, actor, {"name": f"c{i}", "phone": f"139{i:08d}"})
        await set_consent(
            tenant, actor, {"customer_id": str(c.id), "purpose": "marketing", "granted": True}
        )
        customers.append(c.id)
    runs = []
    for attempt in range(3):
        requests = [
            MessageRequest(
                customer_id=customers[i % len(customers)],
                channel="log",
                template_key="generic",
                idempotency_key=f"bench:{attempt}:{i}",
                source="bench",
                transactional=True,
                context={"subject": "s", "text": "hello"},
            )
            for i in range(messages)
        ]
        started = time.perf_counter()
        result = await enqueue_many(
            tenant,
            requests,
            ChannelSet(BUILTIN_CHANNELS),
            now=dt.datetime(2026, 11, 23, 4, tzinfo=dt.UTC),
        )
        runs.append(result.queued / (time.perf_counter() - started))
    report(
        f"message outbox: {messages} messages per enqueue_many (consent, cap, quiet hours, rendering):"
    )
    report(
        f"  {statistics.median(runs):,.0f} messages/s (median of 3; runs {', '.join(f'{r:,.0f}' for r in runs)})"
    )
