"""The store manager's daily register and the operations manager's report.

``register``: seed 003's 店长每天仔细翻阅顾客投诉登记本 — every complaint and suggestion a store
received on a day (midnight to midnight in the store's timezone, from the core's business
calendar), with the register's fields, what needs action at the store that day (overdue,
waiting for the customer, due that day — whenever received), and the day's praise (to read out
at the store meeting) and damaged goods.

``report``: seed 003's 每周向营运经理汇报 — for a store or (HQ) the chain over whole local
days: the main complaints by category and channel, how they were handled (resolution type),
the SLA hit rates, median times, reopen rate, the praise, the products flagged for their
supplier and the same figures for the previous equal periods (the trend).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from core import (
    Actor,
    TenantInfo,
    ValidationFailed,
    business_calendar,
    fetch,
    tenant_tx,
)
from plugins.complaints import stats
from plugins.complaints.damage import damage_rows
from plugins.complaints.praise import praise_rows
from plugins.complaints.records import COLUMNS, decoded, scope_sql
from plugins.complaints.settings import ComplaintsSettings

__all__ = ["MAX_DAYS", "MAX_PERIODS", "Register", "Report", "register", "report", "scope_of"]

MAX_DAYS = 366
MAX_PERIODS = 12
MAX_ROWS = 500  # a store's day; the rest is in `complaints(filter:)`
PRAISE_LISTED = 100


def scope_of(tenant: TenantInfo, actor: Actor, store_id: UUID | None) -> stats.Scope:
    """What ``actor`` may count: a store or the chain, within their stores."""
    sql, args = scope_sql(actor)
    praise_sql, praise_args = scope_sql(actor, "p", hq=False)
    return stats.Scope(tenant.id, store_id, sql, tuple(args), praise_sql, tuple(praise_args))


async def _zone(tenant: TenantInfo, actor: Actor, store_id: UUID | None) -> tuple[ZoneInfo, Any]:
    """The store's timezone and calendar (the tenant's for the chain); a store the actor
    does not see is ``not_found`` on ``store_id``."""
    calendar = await business_calendar(tenant, actor, store_id)
    return calendar.tz, calendar


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


@dataclass(frozen=True)
class Attention:
    """A complaint needing action on the register's day, and why."""

    row: dict[str, Any]
    reasons: tuple[str, ...]  # overdue, waiting, due_today


@dataclass(frozen=True)
class Register:
    store_id: UUID
    day: dt.date
    timezone: str
    workday: bool
    start: dt.datetime
    end: dt.datetime
    complaints: list[dict[str, Any]]
    attention: list[Attention]
    praise: list[dict[str, Any]]
    damages: list[dict[str, Any]]
    flagged: list[stats.Flagged]


def _reasons(row: dict[str, Any], end: dt.datetime, now: dt.datetime) -> tuple[str, ...]:
    out = []
    open_ = row["state"] in ("received", "acknowledged", "in_progress")
    unacked = row["acknowledged_at"] is None and row["state"] != "waiting"
    due = [
        d
        for d, pending in ((row["ack_due_at"], unacked), (row["resolve_due_at"], open_))
        if pending and d is not None
    ]
    if any(d <= now for d in due):
        out.append("overdue")
    if row["state"] == "waiting":
        out.append("waiting")
    if any(now < d < end for d in due):
        out.append("due_today")
    return tuple(out)


async def register(
    tenant: TenantInfo,
    actor: Actor,
    settings: ComplaintsSettings,
    store_id: UUID,
    day: dt.date,
    *,
    now: dt.datetime | None = None,
) -> Register:
    """The store's register for ``day`` (local), as ``actor`` may see it."""
    actor.require("complaints:read")
    now = now or dt.datetime.now(dt.UTC)
    zone, calendar = await _zone(tenant, actor, store_id)
    start, end = _midnight(day, zone), _midnight(day + dt.timedelta(days=1), zone)
    scope, scope_args = scope_sql(actor)
    # Needs action: open (or waiting) at the store, overdue by the day's end or due within it.
    attention_at = min(end, max(now, start))
    async with tenant_tx(tenant.id, write=False):
        received = await fetch(
            f"SELECT {COLUMNS} FROM complaints_complaint c WHERE c.tenant_id = {{}} "
            "AND c.store_id = {} AND c.received_at >= {} AND c.received_at < {}"
            f"{scope} ORDER BY c.received_at, c.id LIMIT {MAX_ROWS}",
            tenant.id,
            store_id,
            start,
            end,
            *scope_args,
        )
        pending = await fetch(
            f"SELECT {COLUMNS} FROM complaints_complaint c WHERE c.tenant_id = {{}} "
            "AND c.store_id = {} AND c.received_at < {} AND (c.state = 'waiting' OR "
            "(c.state IN ('received', 'acknowledged', 'in_progress') AND "
            "((c.acknowledged_at IS NULL AND c.ack_due_at < {}) OR c.resolve_due_at < {})))"
            f"{scope} ORDER BY c.received_at, c.id LIMIT {MAX_ROWS}",
            tenant.id,
            store_id,
            end,
            end,
            end,
            *scope_args,
        )
        flagged = await stats.flagged_skus(
            scope_of(tenant, actor, store_id), end, settings.sku_flag_days, settings.sku_flag_count
        )
    attention = []
    for row in pending:
        reasons = _reasons(row, end, attention_at)
        if reasons:
            attention.append(Attention(decoded(tenant, row), reasons))
    return Register(
        store_id=store_id,
        day=day,
        timezone=zone.key,
        workday=calendar.is_workday(day),
        start=start,
        end=end,
        complaints=[decoded(tenant, r) for r in received],
        attention=attention,
        praise=list(
            reversed(await praise_rows(tenant, actor, store_id=store_id, start=start, end=end))
        ),
        damages=list(
            reversed(await damage_rows(tenant, actor, store_id=store_id, start=start, end=end))
        ),
        flagged=flagged,
    )


@dataclass(frozen=True)
class Report:
    store_id: UUID | None
    first_day: dt.date
    last_day: dt.date
    timezone: str
    start: dt.datetime
    end: dt.datetime
    breakdowns: list[stats.Breakdown]
    periods: list[stats.PeriodFigures]  # this period first, then the earlier ones
    praise: list[dict[str, Any]]
    flagged: list[stats.Flagged]

    @property
    def current(self) -> stats.PeriodFigures:
        return self.periods[0]


def check_days(first: dt.date, last: dt.date, periods: int) -> None:
    if last < first:
        raise ValidationFailed("`to` is on or after `from`", field="to", code="invalid_period")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"at most {MAX_DAYS} days", field="to", code="invalid_period")
    if not 0 <= periods <= MAX_PERIODS:
        raise ValidationFailed(
            f"0 to {MAX_PERIODS} earlier periods", field="periods", code="out_of_range"
        )


async def report(
    tenant: TenantInfo,
    actor: Actor,
    settings: ComplaintsSettings,
    store_id: UUID | None,
    first: dt.date,
    last: dt.date,
    *,
    periods: int = 4,
    now: dt.datetime | None = None,
) -> Report:
    """The figures of the local days ``first`` to ``last`` (inclusive) at ``store_id`` (None:
    the chain, for a chain-wide actor; a store-scoped one names a store), and of the
    ``periods`` equal periods before them."""
    actor.require("complaints:read")
    check_days(first, last, periods)
    if store_id is None and actor.store_ids is not None:
        raise ValidationFailed("name one of your stores", field="store_id", code="store_required")
    now = now or dt.datetime.now(dt.UTC)
    zone, _calendar = await _zone(tenant, actor, store_id)
    days = (last - first).days + 1
    spans = [
        (
            _midnight(first - dt.timedelta(days=days * k), zone),
            _midnight(last + dt.timedelta(days=1 - days * k), zone),
        )
        for k in range(periods + 1)
    ]
    scope = scope_of(tenant, actor, store_id)
    async with tenant_tx(tenant.id, write=False):
        figures = await stats.period_figures(scope, spans, now, business_of=tenant)
        breakdowns = await stats.breakdowns(scope, spans[0])
        flagged = await stats.flagged_skus(
            scope, spans[0][1], settings.sku_flag_days, settings.sku_flag_count
        )
    praise = await praise_rows(
        tenant, actor, store_id=store_id, start=spans[0][0], end=spans[0][1], limit=PRAISE_LISTED
    )
    return Report(
        store_id=store_id,
        first_day=first,
        last_day=last,
        timezone=zone.key,
        start=spans[0][0],
        end=spans[0][1],
        breakdowns=breakdowns,
        periods=figures,
        praise=praise,
        flagged=flagged,
    )
