"""Complaint KPIs for reports and 绩效考核 (``register_kpis``; definitions in
:mod:`plugins.complaints.stats`). Per staff member: the complaints naming them among the staff
involved, those they resolved as handler, their resolve SLA hit rate and median resolve time
as handler, and the praise naming them. Rates in % with one decimal, times in hours (null:
nothing to measure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from core import KpiDefinition, TenantInfo
from plugins.complaints import stats

__all__ = ["kpis"]

Window = tuple[dt.datetime, dt.datetime]


def _scope(tenant: TenantInfo, store: UUID | None) -> stats.Scope:
    return stats.Scope(tenant.id, store)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


async def _period(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> Any:
    [figures] = await stats.period_figures(
        _scope(tenant, store), [(start, end)], dt.datetime.now(dt.UTC)
    )
    return figures


async def _handlers(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> Any:
    return await stats.counts_by(
        "c.handler_id", [], _scope(tenant, store), [(start, end)], dt.datetime.now(dt.UTC)
    )


async def received(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> int:
    return int((await _period(tenant, start, end, store)).counts.received)


async def received_per_staff(
    tenant: TenantInfo, start: Any, end: Any, store: UUID | None
) -> dict[UUID, int]:
    return await stats.received_by_staff(_scope(tenant, store), (start, end))


async def resolved(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> int:
    found = await stats.resolved_by(_scope(tenant, store), (start, end), None)
    return sum(found.values())


async def resolved_per_staff(
    tenant: TenantInfo, start: Any, end: Any, store: UUID | None
) -> dict[UUID, int]:
    found = await stats.resolved_by(_scope(tenant, store), (start, end), "c.handler_id")
    return {_uuid(k): v for k, v in found.items()}


def _rate(name: str) -> Callable[..., Awaitable[float | None]]:
    async def compute(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> Any:
        return getattr((await _period(tenant, start, end, store)).counts, name)

    return compute


def _rate_per_staff(name: str) -> Callable[..., Awaitable[dict[UUID, Any]]]:
    async def compute(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> Any:
        by = await _handlers(tenant, start, end, store)
        return {_uuid(k): getattr(c, name) for k, c in by.items()}

    return compute


async def median_resolve(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> Any:
    return (await _period(tenant, start, end, store)).median_resolve_hours


async def median_ack(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> Any:
    return (await _period(tenant, start, end, store)).median_ack_hours


async def median_resolve_per_staff(
    tenant: TenantInfo, start: Any, end: Any, store: UUID | None
) -> dict[UUID, float | None]:
    found = await stats.medians_by("c.handler_id", [], _scope(tenant, store), [(start, end)])
    return {_uuid(k): v for (k, metric), v in found.items() if metric == "resolve"}


async def praise(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> int:
    found = await stats.praise_counts(_scope(tenant, store), [(start, end)])
    return found.get(0, 0)


async def praise_per_staff(
    tenant: TenantInfo, start: Any, end: Any, store: UUID | None
) -> dict[UUID, int]:
    return await stats.praise_counts(_scope(tenant, store), [(start, end)], by_staff=True)


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def kpis() -> list[KpiDefinition]:
    return [
        KpiDefinition(
            "complaints_received",
            "Complaints received in the period (per staff member: naming them as involved)",
            received,
            by_staff=received_per_staff,
            better="lower",
            label=_label("收到投诉", "Complaints received"),
        ),
        KpiDefinition(
            "complaints_resolved",
            "Complaints resolved in the period (per staff member: as handler)",
            resolved,
            by_staff=resolved_per_staff,
            label=_label("已处理投诉", "Complaints resolved"),
        ),
        KpiDefinition(
            "complaint_sla_hit_rate",
            "% of the period's complaints resolved within their SLA (of those decided)",
            _rate("resolve_hit_rate"),
            by_staff=_rate_per_staff("resolve_hit_rate"),
            label=_label("投诉处理及时率", "Resolve SLA hit rate"),
            accumulates=False,
        ),
        KpiDefinition(
            "complaint_ack_hit_rate",
            "% of the period's complaints acknowledged within their SLA (of those decided)",
            _rate("ack_hit_rate"),
            by_staff=_rate_per_staff("ack_hit_rate"),
            label=_label("投诉受理及时率", "Acknowledge SLA hit rate"),
            accumulates=False,
        ),
        KpiDefinition(
            "complaint_median_resolve_hours",
            "Median clock hours from received to resolved of the period's complaints",
            median_resolve,
            by_staff=median_resolve_per_staff,
            better="lower",
            label=_label("处理时长中位数（小时）", "Median hours to resolve"),
            accumulates=False,
        ),
        KpiDefinition(
            "complaint_median_ack_hours",
            "Median clock hours from received to acknowledged of the period's complaints",
            median_ack,
            better="lower",
            label=_label("受理时长中位数（小时）", "Median hours to acknowledge"),
            accumulates=False,
        ),
        KpiDefinition(
            "complaint_reopen_rate",
            "% of the period's resolved complaints that were reopened",
            _rate("reopen_rate"),
            better="lower",
            label=_label("投诉重开率", "Reopen rate"),
            accumulates=False,
        ),
        KpiDefinition(
            "praise_received",
            "Praise (表扬) received in the period (per staff member: naming them)",
            praise,
            by_staff=praise_per_staff,
            label=_label("顾客表扬", "Praise received"),
        ),
    ]
