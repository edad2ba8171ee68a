"""Loyalty KPIs (``register_kpis``) and the weekly report's section
(``register_report_sections``); chain-wide (the ledger has no store)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from core import (
    KpiDefinition,
    ReportChart,
    ReportData,
    ReportFigure,
    ReportSection,
    ReportTable,
    TenantInfo,
    fetch,
)

__all__ = ["kpis", "report_sections"]


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


# --- the weekly report's section (register_report_sections) ---------------------------------


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


async def report_section(
    tenant: TenantInfo, store_id: UUID | None, start: dt.datetime, end: dt.datetime
) -> ReportData:
    """Points issued and redeemed this week against the previous one, an eight-week trend and
    members per tier now. Chain-wide figures: the ledger has no store (said in a note)."""
    week = dt.timedelta(days=7)
    before = start - week
    issued = await points_issued(tenant, start, end, None)
    redeemed = await points_redeemed(tenant, start, end, None)
    issued_before = await points_issued(tenant, before, start, None)
    redeemed_before = await points_redeemed(tenant, before, start, None)
    weeks = [start - week * (7 - i) for i in range(8)]
    trend_issued = [await points_issued(tenant, w, w + week, None) for w in weeks]
    trend_redeemed = [await points_redeemed(tenant, w, w + week, None) for w in weeks]
    tiers = await members_per_tier(tenant, start, end, None)
    tier_chart = ReportChart(
        "tiers",
        _label("各等级会员", "Members per tier"),
        "bar",
        [tier or "—" for tier in tiers],
        {"members": [float(n) for n in tiers.values()]},
        series_labels={"members": _label("会员", "Members")},
    )
    return ReportData(
        figures=[
            ReportFigure(
                "points_issued", _label("发放积分", "Points issued"), issued, issued_before
            ),
            ReportFigure(
                "points_redeemed", _label("兑换积分", "Points redeemed"), redeemed, redeemed_before
            ),
            ReportFigure("members", _label("会员总数", "Members"), sum(tiers.values())),
            ReportFigure(
                "liability",
                _label("未使用积分", "Points outstanding"),
                await liability(tenant, start, end, None),
                better="lower",
            ),
        ],
        charts=[
            ReportChart(
                "points_trend",
                _label("积分发放与兑换（近 8 周）", "Points issued and redeemed, 8 weeks"),
                "line",
                [f"{w.month}/{w.day}" for w in weeks],
                {
                    "issued": [float(v) for v in trend_issued],
                    "redeemed": [float(v) for v in trend_redeemed],
                },
                series_labels={
                    "issued": _label("发放", "Issued"),
                    "redeemed": _label("兑换", "Redeemed"),
                },
            ),
            *([tier_chart] if tiers else []),  # no member yet: no empty chart
        ],
        tables=[
            ReportTable(
                "tiers",
                _label("各等级会员", "Members per tier"),
                [_label("等级", "Tier"), _label("会员数", "Members")],
                [[tier or "—", n] for tier, n in tiers.items()],
                formats=["text", "number"],
            )
        ],
        notes=["积分为全连锁数据 / points are chain-wide"] if store_id else [],
    )


def report_sections() -> list[ReportSection]:
    return [
        ReportSection(
            key="points",
            title=_label("会员积分", "Loyalty points"),
            compute=report_section,
            order=40,
        )
    ]
