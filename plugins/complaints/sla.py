"""SLA policies and due times.

A complaint gets its policy at intake (the first of ``settings.sla`` that matches its kind,
category, channel and severity; else the tenant's defaults), and two due times: acknowledge by
``received_at + acknowledge`` and resolve by ``cycle_started_at + resolve`` — in the store's
business time (its hours, holidays and 调休, overrides: :func:`core.business_calendars`) or in
clock time, always without the time spent waiting for the customer. A reopened complaint starts
a new resolve cycle. A store that never opens (no hours at all) falls back to clock time rather
than a complaint that can never be due.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from core import (
    Actor,
    BusinessCalendar,
    NeverOpen,
    NotFound,
    TenantInfo,
    business_calendars,
    json_value,
)
from plugins.complaints.settings import ComplaintsSettings

__all__ = [
    "Deadlines",
    "Policy",
    "calendars_for",
    "calendars_known",
    "deadlines",
    "deadlines_of",
    "pauses_of",
    "policy_for",
]

Pause = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Policy:
    acknowledge: dt.timedelta
    resolve: dt.timedelta
    business_time: bool

    @property
    def acknowledge_minutes(self) -> int:
        return int(self.acknowledge.total_seconds() // 60)

    @property
    def resolve_minutes(self) -> int:
        return int(self.resolve.total_seconds() // 60)


def _matches(value: str | None, wanted: str, *, prefix: bool = False) -> bool:
    if value is None:
        return True
    return wanted == value or (prefix and wanted.startswith(value + "."))


def policy_for(
    settings: ComplaintsSettings, *, kind: str, category: str, channel: str, severity: str
) -> Policy:
    for p in settings.sla:
        if (
            _matches(p.kind, kind)
            and _matches(p.category, category, prefix=True)
            and _matches(p.channel, channel)
            and _matches(p.severity, severity)
        ):
            return Policy(
                dt.timedelta(hours=p.acknowledge_hours),
                dt.timedelta(hours=p.resolve_hours),
                p.business_time,
            )
    return Policy(
        dt.timedelta(hours=settings.acknowledge_hours),
        dt.timedelta(hours=settings.resolve_hours),
        settings.business_time,
    )


def pauses_of(raw: Any, waiting_since: dt.datetime | None = None) -> list[Pause]:
    """The stored ``pauses`` JSON as intervals; an open wait counts as paused until far ahead
    (a waiting complaint is never due)."""
    found: list[Pause] = [
        (dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b)) for a, b in json_value(raw, [])
    ]
    if waiting_since is not None:
        found.append((waiting_since, waiting_since + dt.timedelta(days=3650)))
    return found


async def calendars_for(
    tenant: TenantInfo, store_ids: Iterable[UUID | None]
) -> dict[UUID | None, BusinessCalendar]:
    """The stores' business calendars in one batch (the system sees every store)."""
    return await business_calendars(tenant, Actor.system("complaints"), list(store_ids))


async def calendars_known(
    tenant: TenantInfo, store_ids: Iterable[UUID | None]
) -> dict[UUID | None, BusinessCalendar]:
    """:func:`calendars_for`, leaving out a store that is gone (a report over old complaints
    measures theirs in clock time rather than failing)."""
    wanted = list(dict.fromkeys(store_ids))
    try:
        return await calendars_for(tenant, wanted)
    except NotFound:
        found: dict[UUID | None, BusinessCalendar] = {}
        for store_id in wanted:
            with contextlib.suppress(NotFound):
                found.update(await calendars_for(tenant, [store_id]))
        return found


def _add(
    calendar: BusinessCalendar | None,
    start: dt.datetime,
    span: dt.timedelta,
    pauses: Sequence[Pause],
    business: bool,
) -> dt.datetime:
    if business and calendar is not None:
        try:
            return calendar.add(start, span, pauses)
        except NeverOpen:
            pass
    due = start + span
    for a, b in sorted(pauses):  # clock time: each pause that starts before the due time
        a = max(a, start)  # a wait before this cycle began (a reopened complaint's) is history
        if a < due:
            due += max(b, a) - a
    return due


@dataclass(frozen=True)
class Deadlines:
    ack_warn_at: dt.datetime | None
    ack_due_at: dt.datetime | None
    resolve_warn_at: dt.datetime | None
    resolve_due_at: dt.datetime | None

    def columns(self) -> dict[str, dt.datetime | None]:
        return {
            "ack_warn_at": self.ack_warn_at,
            "ack_due_at": self.ack_due_at,
            "resolve_warn_at": self.resolve_warn_at,
            "resolve_due_at": self.resolve_due_at,
        }


def deadlines(
    calendar: BusinessCalendar | None,
    *,
    received_at: dt.datetime,
    cycle_started_at: dt.datetime,
    business_time: bool,
    ack_minutes: int,
    resolve_minutes: int,
    pauses: Sequence[Pause],
    kind: str,
    warn_pct: int,
) -> Deadlines:
    """When the complaint escalates before breach (``warn_pct`` of each SLA, in the same
    time) and when it breaches. A suggestion is acknowledged, never due to resolve."""

    def at(start: dt.datetime, minutes: float) -> dt.datetime:
        return _add(calendar, start, dt.timedelta(minutes=minutes), pauses, business_time)

    ack = (at(received_at, ack_minutes * warn_pct / 100), at(received_at, ack_minutes))
    if kind == "suggestion":
        return Deadlines(ack[0], ack[1], None, None)
    return Deadlines(
        ack[0],
        ack[1],
        at(cycle_started_at, resolve_minutes * warn_pct / 100),
        at(cycle_started_at, resolve_minutes),
    )


def deadlines_of(
    calendar: BusinessCalendar | None, row: dict[str, Any], warn_pct: int, now: dt.datetime
) -> Deadlines:
    """A stored complaint's deadlines (after it resumed, was reopened or transferred)."""
    waiting = row.get("waiting_since")
    return deadlines(
        calendar,
        received_at=row["received_at"],
        cycle_started_at=row["cycle_started_at"],
        business_time=bool(row["business_time"]),
        ack_minutes=int(row["ack_minutes"]),
        resolve_minutes=int(row["resolve_minutes"]),
        pauses=pauses_of(row["pauses"], waiting),
        kind=row["kind"],
        warn_pct=warn_pct,
    )
