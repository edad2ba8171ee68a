"""Per staff member figures (绩效考核, CORE-14): each KPI with a staff dimension
(``KpiDefinition.by_staff``: the core's sales, sign-ups and tasks, and what plugins measure —
complaints handled, praise, the scores of the surveys a sale triggered), ranked by one of them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.context import Actor, TenantInfo
from core.db import fetch, tenant_tx
from core.errors import ValidationFailed
from core.kpis.catalogue import kpi_catalogue
from core.kpis.figures import check_period, visible_stores
from core.lookups import StaffFacts, staff_facts

if TYPE_CHECKING:
    from core.plugins.runtime import PluginRuntime

__all__ = ["StaffKpiRow", "staff_kpis"]


@dataclass(frozen=True)
class StaffKpiRow:
    """One staff member's figures (``{kpi key: value}``) and rank (1 = best)."""

    staff: StaffFacts
    rank: int
    values: dict[str, Any] = field(default_factory=dict)


def _one_store(actor: Actor, store_id: UUID | None) -> UUID | None:
    """The store figures are for: the one asked for, a one-store caller's own, or the chain."""
    stores = visible_stores(actor, store_id)
    if stores is not None and len(stores) > 1:
        raise ValidationFailed("name one of your stores", field="store_id", code="store_required")
    return stores[0] if stores else None


async def _members(tenant: TenantInfo, store_id: UUID | None) -> list[UUID]:
    """The active staff working in the store (those assigned to it), or every active member."""
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT id, store_ids FROM staff WHERE tenant_id = {} AND active = {}", tenant.id, True
        )
    ids = [UUID(str(r["id"])) for r in rows]
    if store_id is None:
        return ids
    facts = await staff_facts(tenant, ids)
    return [i for i in ids if store_id in facts[i].store_ids]


async def staff_kpis(
    tenant: TenantInfo,
    actor: Actor,
    period_from: dt.datetime,
    period_to: dt.datetime,
    store_id: UUID | None = None,
    *,
    runtime: PluginRuntime | None,
    rank_by: str = "core.net_sales",
) -> list[StaffKpiRow]:
    """Every staff member of the store (or the chain) with their figures for the period, best
    first by ``rank_by`` (a KPI with a staff dimension; ties by name). Members without a figure
    are listed last. A store-scoped caller sees only its store's staff."""
    actor.require("kpis:read")
    check_period(period_from, period_to)
    store = _one_store(actor, store_id)
    catalogue = await kpi_catalogue(tenant, runtime, store)
    ranked = catalogue.get(rank_by)
    if ranked is None or ranked.definition.by_staff is None:
        options = sorted(k for k, e in catalogue.items() if e.definition.by_staff)
        raise ValidationFailed(
            f"rank by one of {', '.join(options)}", field="rank_by", code="unknown_kpi"
        )
    values: dict[UUID, dict[str, Any]] = {}
    for key, entry in catalogue.items():
        if entry.definition.by_staff is None:
            continue
        async with tenant_tx(tenant.id, write=False):
            per_staff = await entry.definition.by_staff(tenant, period_from, period_to, store)
        for staff_id, value in per_staff.items():
            values.setdefault(staff_id, {})[key] = value
    members = set(await _members(tenant, store))
    facts = await staff_facts(tenant, members | set(values))
    if store is not None:  # a chain-wide member counts where they served
        facts = {k: f for k, f in facts.items() if k in members or k in values}
    higher = ranked.definition.better != "lower"

    def order(staff: StaffFacts) -> tuple[int, float, str]:
        value = values.get(staff.id, {}).get(rank_by)
        if value is None:
            return (1, 0.0, staff.name)
        number = float(value)
        return (0, -number if higher else number, staff.name)

    rows = sorted(facts.values(), key=order)
    return [
        StaffKpiRow(staff=s, rank=position, values=values.get(s.id, {}))
        for position, s in enumerate(rows, start=1)
    ]
