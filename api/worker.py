"""``mendian worker``: event delivery, message sending and scheduled jobs.

With ``REDIS_URL`` the periodic work runs as SAQ jobs (``core.jobs``); the loops here also run
embedded in ``mendian serve`` on the default, in-process configuration. ``drain`` processes
everything due once and returns (used by tests, cron-style deployments and the benchmarks).
"""

from __future__ import annotations

import datetime as dt
import logging
import os

from core.context import TenantInfo
from core.messaging import channels_for, send_due
from core.plugins import PluginRuntime
from core.plugins.delivery import deliver_pending
from core.tables import Tenant

__all__ = ["drain", "drain_tenant"]

log = logging.getLogger("mendian.worker")


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=float(os.environ.get("MENDIAN_MESSAGE_LEASE_SECONDS", "60")))


async def active_tenants_all_tenants() -> list[TenantInfo]:
    """Every active tenant (crosses tenants on purpose: the worker serves them all)."""
    return [
        TenantInfo.from_row(dict(r)) for r in await Tenant.select().where(Tenant.status == "active")
    ]


async def drain_tenant(
    runtime: PluginRuntime, tenant: TenantInfo, *, batch: int = 200
) -> tuple[int, int]:
    """Deliver the tenant's events and send its due messages until nothing is left."""
    events = 0
    while (stats := await deliver_pending(runtime, tenant)).events:
        events += stats.dispatched
        if not stats.dispatched:
            break
    channels = await channels_for(tenant, runtime)
    sent = 0
    while (result := await send_due(tenant, channels, batch=batch, lease=_lease())).claimed:
        sent += result.sent
    return events, sent


async def drain(runtime: PluginRuntime, *, slug: str | None = None) -> tuple[int, int]:
    events = sent = 0
    for tenant in await active_tenants_all_tenants():
        if slug is None or tenant.slug == slug:
            e, s = await drain_tenant(runtime, tenant)
            events, sent = events + e, sent + s
    return events, sent
