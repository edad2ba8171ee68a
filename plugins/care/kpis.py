"""Care KPIs for reports (``register_kpis``): campaign messages queued, customers held out
(control groups) and runs completed in the period. Chain-wide: a campaign's target has no
store, so a store-scoped call answers null."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core import KpiDefinition, TenantInfo, fetch

__all__ = ["kpis"]


async def _targets(tenant: TenantInfo, start: Any, end: Any, status: str) -> int:
    rows = await fetch(
        "SELECT COUNT(*) AS n FROM care_target WHERE tenant_id = {} AND status = {} "
        "AND handled_at >= {} AND handled_at < {}",
        tenant.id,
        status,
        start,
        end,
    )
    return int(rows[0]["n"])


async def messages_queued(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> Any:
    return None if store is not None else await _targets(tenant, start, end, "queued")


async def held_out(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> Any:
    return None if store is not None else await _targets(tenant, start, end, "held")


async def runs_done(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> Any:
    if store is not None:
        return None
    rows = await fetch(
        "SELECT COUNT(*) AS n FROM care_run WHERE tenant_id = {} AND status = 'done' "
        "AND finished_at >= {} AND finished_at < {}",
        tenant.id,
        start,
        end,
    )
    return int(rows[0]["n"])


def kpis() -> list[KpiDefinition]:
    return [
        KpiDefinition(
            "messages_queued",
            "Care campaign messages handed to the messaging pipeline in the period",
            messages_queued,
            label={"zh-CN": "关怀消息", "en": "Care messages"},
        ),
        KpiDefinition(
            "held_out",
            "Customers held out in campaign control groups in the period",
            held_out,
            label={"zh-CN": "对照组客户", "en": "Held out (control)"},
        ),
        KpiDefinition(
            "runs_done",
            "Campaign runs completed in the period",
            runs_done,
            label={"zh-CN": "完成的活动", "en": "Campaign runs completed"},
        ),
    ]
