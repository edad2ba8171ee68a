"""KPI targets (目标) for a store or the chain and a month or a week, and their progress: the
value so far, the share reached, the projection at the current pace, and whether the target is
at risk (projected to miss) — the monthly targets seed 004 asks for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from core.auditing import audit
from core.context import Actor, TenantInfo
from core.db import fetch, is_unique_violation, tenant_tx
from core.errors import NotFound, ValidationFailed
from core.kpis.catalogue import KpiEntry, kpi_catalogue, kpi_entry
from core.kpis.figures import visible_stores
from core.lookups import store_facts
from core.tables import KpiTarget

if TYPE_CHECKING:
    from core.plugins.runtime import PluginRuntime

__all__ = [
    "TargetProgress",
    "period_window",
    "remove_target",
    "set_target",
    "target_progress",
]

Period = Literal["month", "week"]
Status = Literal["upcoming", "on_track", "at_risk", "met", "missed"]
MAX_TARGET = Decimal("1e15")
_PLACES = Decimal("0.0001")


def period_window(period: str, start: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """The period's bounds, midnight to midnight in ``timezone`` (the store's, or the
    tenant's for the chain)."""
    if period == "week":
        end = start + dt.timedelta(days=7)
    else:
        end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    zone = ZoneInfo(timezone)
    return dt.datetime.combine(start, dt.time(), zone), dt.datetime.combine(end, dt.time(), zone)


def _check_start(period: str, start: dt.date) -> None:
    if period not in ("month", "week"):
        raise ValidationFailed("period is month or week", field="period", code="invalid_period")
    if period == "month" and start.day != 1:
        raise ValidationFailed(
            "a month starts on its first day", field="period_start", code="invalid_period_start"
        )
    if period == "week" and start.isoweekday() != 1:
        raise ValidationFailed(
            "a week starts on a Monday", field="period_start", code="invalid_period_start"
        )
    if not dt.date(2000, 1, 1) <= start <= dt.date(2100, 12, 1):
        raise ValidationFailed(
            "period_start is out of range", field="period_start", code="out_of_range"
        )


def _amount(value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("target must be a number", field="target", code="invalid") from None
    if not number.is_finite() or number < 0 or number > MAX_TARGET:
        raise ValidationFailed(
            "target must be between 0 and 10^15", field="target", code="out_of_range"
        )
    return number


async def _timezone(tenant: TenantInfo, store_id: UUID | None) -> str:
    if store_id is None:
        return tenant.timezone
    stores = await store_facts(tenant, [store_id])
    if store_id not in stores:
        raise ValidationFailed("unknown store", field="store_id", code="unknown_store")
    return stores[store_id].timezone


def _row(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "target": Decimal(str(r["target"]))}


async def set_target(
    tenant: TenantInfo,
    actor: Actor,
    *,
    kpi: str,
    period: str,
    period_start: dt.date,
    target: Any,
    store_id: UUID | None = None,
    runtime: PluginRuntime | None,
) -> dict[str, Any]:
    """Set (or change) the target of a KPI for a store or the chain and a period (audited).
    The KPI must have a number as its value; a store-scoped caller targets its own stores."""
    actor.require("kpis:write")
    _check_start(period, period_start)
    amount = _amount(target)
    if store_id is not None:
        visible_stores(actor, store_id)
    elif actor.store_ids is not None:
        raise ValidationFailed(
            "a store-scoped caller sets its stores' targets", field="store_id", code="unknown_store"
        )
    timezone = await _timezone(tenant, store_id)
    entry = await kpi_entry(tenant, runtime, kpi, store_id)
    start, end = period_window(period, period_start, timezone)
    async with tenant_tx(tenant.id, write=False):
        sample = await entry.definition.compute(tenant, start, end, store_id)
    if sample is not None and not isinstance(sample, (int, float, Decimal)):
        raise ValidationFailed(
            f"{kpi} is not a number: it cannot have a target", field="kpi", code="not_targetable"
        )
    where = "store_id IS NULL" if store_id is None else "store_id = {}"
    scope = [] if store_id is None else [store_id]
    now = dt.datetime.now(dt.UTC)
    for attempt in range(2):  # two first setters race: the loser updates the winner's row
        try:
            async with tenant_tx(tenant.id):
                found = await fetch(
                    f"SELECT id FROM kpi_target WHERE tenant_id = {{}} AND kpi = {{}} AND "
                    f"period = {{}} AND period_start = {{}} AND {where}",
                    tenant.id,
                    kpi,
                    period,
                    period_start,
                    *scope,
                )
                if found:
                    target_id = UUID(str(found[0]["id"]))
                    await KpiTarget.update(
                        {
                            KpiTarget.target: str(amount),
                            KpiTarget.updated_at: now,
                            KpiTarget.set_by: actor.id[:64],
                        }
                    ).where(KpiTarget.id == target_id)
                else:
                    target_id = uuid4()
                    await KpiTarget.insert(
                        KpiTarget(
                            id=target_id,
                            tenant_id=tenant.id,
                            kpi=kpi,
                            store_id=store_id,
                            period=period,
                            period_start=period_start,
                            target=str(amount),
                            set_by=actor.id[:64],
                            created_at=now,
                            updated_at=now,
                        )
                    )
                await audit(
                    actor,
                    "kpi_target.set",
                    subject_type="kpi_target",
                    subject_id=target_id,
                    details={
                        "kpi": kpi,
                        "store_id": str(store_id) if store_id else None,
                        "period": period,
                        "period_start": period_start.isoformat(),
                        "target": str(amount),
                    },
                )
                row = await KpiTarget.select().where(KpiTarget.id == target_id).first()
            assert row is not None
            return _row(dict(row))
        except Exception as exc:
            if attempt or not is_unique_violation(exc):
                raise
    raise AssertionError("unreachable")


async def remove_target(tenant: TenantInfo, actor: Actor, target_id: UUID) -> None:
    """Remove a target (audited); another store's, or a missing one, is ``not_found``."""
    actor.require("kpis:write")
    async with tenant_tx(tenant.id):
        row = await KpiTarget.select().where(KpiTarget.id == target_id).first()
        if row is None or (row["store_id"] is not None and not actor.sees_store(row["store_id"])):
            raise NotFound("KPI target not found", field="id")
        if row["store_id"] is None and actor.store_ids is not None:
            raise NotFound("KPI target not found", field="id")
        await KpiTarget.delete().where(KpiTarget.id == target_id)
        await audit(actor, "kpi_target.remove", subject_type="kpi_target", subject_id=target_id)


@dataclass(frozen=True)
class TargetProgress:
    """Where a target stands at ``now``: ``value`` so far, ``progress`` (value / target),
    ``elapsed`` (share of the period gone), ``projected`` (the period's value at the current
    pace, or the value itself for a rate or a score) and ``status``."""

    target: dict[str, Any]
    label: str
    value: Decimal | None
    progress: Decimal | None
    elapsed: Decimal
    projected: Decimal | None
    status: Status

    @property
    def at_risk(self) -> bool:
        return self.status in ("at_risk", "missed")


def _status(
    entry: KpiEntry, target: Decimal, projected: Decimal | None, elapsed: Decimal
) -> Status:
    if elapsed <= 0:
        return "upcoming"
    lower = entry.definition.better == "lower"
    good = projected is not None and (projected <= target if lower else projected >= target)
    if elapsed >= 1:
        return "met" if good else "missed"
    return "on_track" if good else "at_risk"


async def progress_of(
    tenant: TenantInfo, entry: KpiEntry, row: dict[str, Any], now: dt.datetime, timezone: str
) -> TargetProgress:
    """The progress of one target at ``now``."""
    start, end = period_window(row["period"], row["period_start"], timezone)
    elapsed = max(Decimal(0), min(Decimal(1), Decimal((now - start) / (end - start))))
    target = Decimal(str(row["target"]))
    value: Decimal | None = None
    if elapsed > 0:
        async with tenant_tx(tenant.id, write=False):
            raw = await entry.definition.compute(tenant, start, min(now, end), row["store_id"])
        value = None if raw is None else Decimal(str(raw))
    projected = value
    if value is not None and entry.definition.accumulates and 0 < elapsed < 1:
        projected = (value / elapsed).quantize(_PLACES, ROUND_HALF_UP)
    return TargetProgress(
        target=_row(row),
        label=entry.label(tenant.locale),
        value=value,
        progress=(value / target).quantize(_PLACES, ROUND_HALF_UP)
        if value is not None and target
        else None,
        elapsed=elapsed.quantize(_PLACES, ROUND_HALF_UP),
        projected=projected,
        status=_status(entry, target, projected, elapsed),
    )


async def target_progress(
    tenant: TenantInfo,
    actor: Actor,
    period_from: dt.datetime,
    period_to: dt.datetime,
    store_id: UUID | None = None,
    *,
    runtime: PluginRuntime | None,
    now: dt.datetime | None = None,
) -> list[TargetProgress]:
    """The targets of the store (or, without one, of the chain — or a store-scoped caller's
    stores) whose period overlaps ``[period_from, period_to)``, with their progress."""
    actor.require("kpis:read")
    stores = visible_stores(actor, store_id)
    now = now or dt.datetime.now(dt.UTC)
    if stores is None:
        where, scope = "store_id IS NULL", []
    else:
        where = f"store_id IN ({', '.join('{}' for _ in stores)})"
        scope = list(stores)
    # Periods are at most a month; a window a day wider on both sides covers every timezone
    # (targets start between 2000 and 2100: the dates are clamped there, far from overflow).
    first, last = dt.date(2000, 1, 1), dt.date(2101, 1, 1)
    lo = min(max(period_from.date(), first), last) - dt.timedelta(days=32)
    hi = min(max(period_to.date(), first), last) + dt.timedelta(days=1)
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT * FROM kpi_target WHERE tenant_id = {{}} AND {where} AND period_start >= {{}} "
            "AND period_start < {} ORDER BY period_start, kpi",
            tenant.id,
            *scope,
            lo,
            hi,
        )
    zones = {s: f.timezone for s, f in (await store_facts(tenant, list(stores or []))).items()}
    catalogues: dict[UUID | None, dict[str, KpiEntry]] = {}
    out = []
    for r in rows:
        row = {**r, "store_id": UUID(str(r["store_id"])) if r["store_id"] else None}
        if isinstance(row["period_start"], str):
            row["period_start"] = dt.date.fromisoformat(row["period_start"])
        timezone = (
            zones.get(row["store_id"], tenant.timezone) if row["store_id"] else tenant.timezone
        )
        start, end = period_window(row["period"], row["period_start"], timezone)
        if end <= period_from or start >= period_to:
            continue
        if row["store_id"] not in catalogues:
            catalogues[row["store_id"]] = await kpi_catalogue(tenant, runtime, row["store_id"])
        entry = catalogues[row["store_id"]].get(row["kpi"])
        if entry is None:  # its module was disabled since: the target waits
            continue
        out.append(await progress_of(tenant, entry, row, now, timezone))
    return out
