"""Loyalty KPIs for reports (``register_kpis``); chain-wide (the ledger has no store)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from core import KpiDefinition, TenantInfo
from core.db import fetch

__all__ = ["kpis"]


async def _sum(tenant: TenantInfo, start: dt.datetime, end: dt.datetime, where: str) -> int:
    rows = await fetch(
        "SELECT COALESCE(SUM(points), 0) AS n FROM loyalty_entry WHERE tenant_id = {} "
        f"AND created_at >= {{}} AND created_at < {{}} AND ({where})",
        tenant.id,
        start,
        end,
    )
    return abs(int(rows[0]["n"]))


async def points_issued(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> int:
    """Spendable points credited: awards, positive adjustments and activated pending awards."""
    return await _sum(tenant, start, end, "kind IN ('earn', 'adjust', 'activate') AND points > 0")


async def points_redeemed(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> int:
    return await _sum(tenant, start, end, "kind = 'redeem'")


async def points_reversed(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> int:
    return await _sum(tenant, start, end, "kind = 'reverse' OR (kind = 'adjust' AND points < 0)")


async def points_expired(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> int:
    return await _sum(tenant, start, end, "kind = 'expire'")


async def points_pending(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> int:
    """Points earned but still inside their return window now (not yet spendable)."""
    rows = await fetch(
        "SELECT COALESCE(SUM(pending), 0) AS n FROM loyalty_account WHERE tenant_id = {}",
        tenant.id,
    )
    return int(rows[0]["n"])


async def members_per_tier(
    tenant: TenantInfo, start: Any, end: Any, store: UUID | None
) -> dict[str, int]:
    """Members per tier code now (``""``: no tier reached)."""
    rows = await fetch(
        "SELECT tier, COUNT(*) AS n FROM loyalty_account WHERE tenant_id = {} GROUP BY tier",
        tenant.id,
    )
    return {str(r["tier"]): int(r["n"]) for r in sorted(rows, key=lambda r: str(r["tier"]))}


async def liability(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> int:
    """Points outstanding now (what customers could still spend)."""
    rows = await fetch(
        "SELECT COALESCE(SUM(points), 0) AS n FROM loyalty_account WHERE tenant_id = {}", tenant.id
    )
    return int(rows[0]["n"])


async def members(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> int:
    """Customers with a loyalty account (they earned or were credited at least once)."""
    rows = await fetch("SELECT COUNT(*) AS n FROM loyalty_account WHERE tenant_id = {}", tenant.id)
    return int(rows[0]["n"])


def kpis() -> list[KpiDefinition]:
    return [
        KpiDefinition("points_issued", "Points earned or credited in the period", points_issued),
        KpiDefinition("points_redeemed", "Points spent in the period", points_redeemed),
        KpiDefinition(
            "points_reversed", "Points taken back (refunds, corrections)", points_reversed
        ),
        KpiDefinition("points_expired", "Points lapsed in the period", points_expired),
        KpiDefinition("liability", "Points outstanding now", liability),
        KpiDefinition("points_pending", "Points pending now (return window)", points_pending),
        KpiDefinition("members", "Customers with a loyalty account", members),
        KpiDefinition("members_per_tier", "Members per tier now", members_per_tier),
    ]
