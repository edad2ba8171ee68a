"""Runs event delivery in the background: soon after each commit that emitted events (a kick),
and in a periodic sweep that finds what a crash between commit and kick left undelivered."""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

from core.context import TenantInfo
from core.db import tenant_tx
from core.plugins.delivery import deliver_pending
from core.plugins.runtime import PluginRuntime
from core.tables import EventOutbox, Tenant

__all__ = ["EventDispatcher"]

log = logging.getLogger("mendian.events")


class EventDispatcher:
    def __init__(self, runtime: PluginRuntime, *, sweep_seconds: float = 30.0) -> None:
        self.runtime = runtime
        self.sweep_seconds = sweep_seconds
        self._pending: set[UUID] = set()
        self._wake = asyncio.Event()

    def kick(self, tenant_id: UUID) -> None:
        """Called after a commit that emitted events (from the request's task)."""
        self._pending.add(tenant_id)
        self._wake.set()

    async def deliver(self, tenant_id: UUID) -> None:
        row = await Tenant.select().where(Tenant.id == tenant_id).first()
        if row is None or row["status"] != "active":
            return
        tenant = TenantInfo.from_row(dict(row))
        # Again while full pages make progress; a stuck backlog waits for its retry times.
        while True:
            stats = await deliver_pending(self.runtime, tenant)
            if stats.events < 500 or not (stats.delivered or stats.dispatched):
                return

    async def sweep_all_tenants(self) -> None:
        """Queue every tenant with undelivered events (crosses tenants on purpose: recovery)."""
        for row in await Tenant.select(Tenant.id).where(Tenant.status == "active"):
            async with tenant_tx(row["id"], write=False):
                if await EventOutbox.exists().where(EventOutbox.dispatched_at.is_null()):
                    self._pending.add(row["id"])

    async def run(self) -> None:
        """Deliver until cancelled."""
        await self.sweep_all_tenants()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.sweep_seconds)
            except TimeoutError:
                await self.sweep_all_tenants()
            self._wake.clear()
            while self._pending:
                tenant_id = self._pending.pop()
                try:
                    await self.deliver(tenant_id)
                except Exception:  # keep delivering the other tenants; the sweep retries
                    log.exception("event delivery failed for tenant %s", tenant_id)
