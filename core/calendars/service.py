"""Tenant-facing calendar services: a store's calendar, its days, business hours, the
tenant's overrides and calendar settings. Reads need no permission (a calendar is what every
staff member and job may know); writes need ``calendar:manage`` and are audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import UNSET, Meta, UnsetType

from core.auditing import audit
from core.calendars.days import CalendarDay, DayResolver, HolidayRecord, OverrideRecord
from core.calendars.engine import BusinessCalendar
from core.calendars.festivals import FestivalOccurrence
from core.calendars.hours import BusinessHours, Schedule, parse_business_hours
from core.calendars.lunar import to_lunar
from core.calendars.platform import platform_snapshot
from core.context import Actor, CalendarPolicy, TenantInfo
from core.db import is_unique_violation, json_text, json_value, tenant_tx
from core.errors import NotFound, ValidationFailed
from core.tables import CalendarOverride, Store, Tenant
from core.validation import convert

__all__ = [
    "CalendarSettingsInput",
    "DayView",
    "OverrideInput",
    "OverrideView",
    "StoreHours",
    "business_calendar",
    "business_calendars",
    "calendar_days",
    "list_overrides",
    "remove_override",
    "set_business_hours",
    "set_calendar_settings",
    "set_override",
]

log = logging.getLogger("mendian.calendars")
MAX_OVERRIDE_DAYS = 3660
MAX_VIEW_DAYS = 366
Name = Annotated[str, Meta(max_length=100)]


class OverrideInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change to the tenant's calendar over ``start_date`` … ``end_date`` (inclusive; one
    day when ``end_date`` is omitted). ``kind``: ``day_off``, ``workday``, ``local`` (a local
    holiday, a day off with a name) or ``closure`` (the store — or, without ``store_id``,
    every store — is closed; the day stays a working day). Setting the same span, scope and
    kind again changes that override; ``id`` changes a given one."""

    kind: Literal["day_off", "workday", "local", "closure"]
    start_date: dt.date
    end_date: dt.date | None = None
    store_id: UUID | None = None
    name_zh: Name = ""
    name_en: Name = ""
    note: Annotated[str, Meta(max_length=500)] = ""
    id: UUID | None = None


class OverrideView(msgspec.Struct, kw_only=True):
    """A tenant override as returned to callers."""

    id: UUID
    kind: str
    start_date: dt.date
    end_date: dt.date
    store_id: UUID | None
    name_zh: str
    name_en: str
    note: str
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class StoreHours:
    """A store's calendar settings after :func:`set_business_hours`."""

    store_id: UUID
    timezone: str
    timezone_override: str | None
    business_hours: BusinessHours | None
    holiday_policy: Literal["open", "closed"]


@dataclasses.dataclass(frozen=True)
class DayView:
    """Everything about one local date of a store's (or the tenant's) calendar."""

    date: dt.date
    workday: bool
    holiday: bool
    closed: bool
    source: str
    records: tuple[HolidayRecord, ...]
    opening_hours: tuple[tuple[dt.datetime, dt.datetime], ...]
    lunar: str
    festivals: tuple[FestivalOccurrence, ...]


class CalendarSettingsInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a tenant's calendar settings (see :class:`core.context.CalendarPolicy`)."""

    holiday_region: Literal["CN", "none"] | UnsetType = UNSET
    holiday_policy: Literal["auto", "open", "closed"] | UnsetType = UNSET
    leap_day_birthday: Literal["feb28", "mar1"] | UnsetType = UNSET
    lunar_leap_birthday: Literal["regular", "leap"] | UnsetType = UNSET


def _columns(values: dict[Any, Any]) -> dict[str, Any]:
    """``{Table.column: value}`` → ``{name: value}`` (a row's keyword arguments)."""
    return {c._meta.name: v for c, v in values.items()}


def _override_view(row: dict[str, Any]) -> OverrideView:
    return OverrideView(
        id=row["id"],
        kind=row["kind"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        store_id=row["store_id"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        note=row["note"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _record(row: dict[str, Any]) -> OverrideRecord:
    return OverrideRecord(
        id=row["id"],
        kind=row["kind"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        store_id=row["store_id"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        updated_at=row["updated_at"],
    )


def stored_hours(raw: Any, store_id: UUID | None = None) -> BusinessHours | None:
    """Business hours as stored; hours stored before validation existed that do not parse
    count as not configured (logged), so that reading a calendar never fails on old data."""
    value = json_value(raw, {})
    try:
        return parse_business_hours(value)
    except ValidationFailed as exc:
        log.warning("store %s: stored business hours ignored (%s)", store_id, exc.message)
        return None


def _policy(schedule: Schedule, tenant: TenantInfo) -> Literal["open", "closed"]:
    if schedule.policy is not None:
        return schedule.policy
    if tenant.calendar.holiday_policy != "auto":
        return tenant.calendar.holiday_policy
    return "open" if schedule.has_weekend_hours else "closed"


async def _store_rows(store_ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
    ids = list(dict.fromkeys(store_ids))
    if not ids:
        return {}
    rows = await Store.select(Store.id, Store.timezone, Store.business_hours).where(
        Store.id.is_in(ids)
    )
    return {r["id"]: dict(r) for r in rows}


async def business_calendars(
    tenant: TenantInfo,
    actor: Actor,
    store_ids: Iterable[UUID | None],
    *,
    hours: BusinessHours | dict[str, Any] | None = None,
) -> dict[UUID | None, BusinessCalendar]:
    """Calendars of several stores in two queries (an SLA job's batch); ``None`` in
    ``store_ids`` is the tenant-level calendar (tenant timezone, ``hours`` or open around the
    clock). A store of another tenant, one a store-scoped caller does not work in, or none, is
    :class:`NotFound` on ``store_id``.

    ``hours`` replaces the stores' own hours (e.g. a complaint desk's service hours).
    """
    wanted = list(dict.fromkeys(store_ids))
    override_hours = parse_business_hours(hours) if hours is not None else None
    snapshot = await platform_snapshot()
    async with tenant_tx(tenant.id, write=False):
        stores = await _store_rows(s for s in wanted if s is not None)
        overrides = [dict(r) for r in await CalendarOverride.select()]
    # Another tenant's store, or another store than a store-scoped caller's: the same NotFound.
    missing = [s for s in wanted if s is not None and (s not in stores or not actor.sees_store(s))]
    if missing:
        raise NotFound("store not found", field="store_id")
    records = [_record(r) for r in overrides]
    out: dict[UUID | None, BusinessCalendar] = {}
    for store_id in wanted:
        row = stores.get(store_id) if store_id is not None else None
        own = stored_hours(row["business_hours"], store_id) if row else None
        schedule = Schedule.from_hours(override_hours if hours is not None else own)
        timezone = (row["timezone"] if row else None) or tenant.timezone
        resolver = DayResolver(tenant.calendar.holiday_region, snapshot, records, store_id)
        out[store_id] = BusinessCalendar(
            timezone, schedule, resolver, policy=_policy(schedule, tenant), store_id=store_id
        )
    return out


async def business_calendar(
    tenant: TenantInfo,
    actor: Actor,
    store_id: UUID | None = None,
    *,
    hours: BusinessHours | dict[str, Any] | None = None,
) -> BusinessCalendar:
    """The calendar of a store (its timezone, hours, holiday policy, the tenant's and the
    store's overrides), or of the tenant when ``store_id`` is None. Build it once, then ask it
    thousands of questions: ``add``, ``elapsed``, ``next_open``, ``is_open``, ``day`` …"""
    calendars = await business_calendars(tenant, actor, [store_id], hours=hours)
    return calendars[store_id]


async def calendar_days(
    tenant: TenantInfo,
    actor: Actor,
    start: dt.date,
    end: dt.date,
    *,
    store_id: UUID | None = None,
) -> list[DayView]:
    """``start`` … ``end`` (at most 366 days) of a store's or the tenant's calendar, with
    opening hours, lunar date and festivals: what ``businessCalendar`` shows."""
    from core.calendars.festival_service import festival_calendar

    if end < start:
        raise ValidationFailed("end is before start", field="end", code="invalid")
    if (end - start).days >= MAX_VIEW_DAYS:
        raise ValidationFailed(f"at most {MAX_VIEW_DAYS} days", field="end", code="too_long")
    calendar = await business_calendar(tenant, actor, store_id)
    festivals = await festival_calendar(tenant, actor, store_id)
    out: list[DayView] = []
    day = start
    while day <= end:
        info: CalendarDay = calendar.day(day)
        try:
            lunar = to_lunar(day).label
        except ValidationFailed:
            lunar = ""
        out.append(
            DayView(
                date=day,
                workday=info.workday,
                holiday=info.holiday,
                closed=info.closed,
                source=info.source,
                records=info.records,
                opening_hours=tuple(calendar.opening_hours(day)),
                lunar=lunar,
                festivals=tuple(festivals.on(day)),
            )
        )
        day += dt.timedelta(days=1)
    return out


async def _check_store(actor: Actor, store_id: UUID | None) -> None:
    if store_id is None:
        return
    if not actor.sees_store(store_id) or not await Store.exists().where(Store.id == store_id):
        raise NotFound("store not found", field="store_id")


async def set_override(
    tenant: TenantInfo, actor: Actor, data: OverrideInput | dict[str, Any]
) -> OverrideView:
    """Create or change an override (``calendarOverrideSet``). Needs ``calendar:manage``."""
    actor.require("calendar:manage")
    payload = convert(data, OverrideInput)
    end = payload.end_date or payload.start_date
    if end < payload.start_date:
        raise ValidationFailed("end_date is before start_date", field="end_date", code="invalid")
    if (end - payload.start_date).days >= MAX_OVERRIDE_DAYS:
        raise ValidationFailed(
            f"an override spans at most {MAX_OVERRIDE_DAYS} days", field="end_date", code="too_long"
        )
    now = dt.datetime.now(dt.UTC)
    values = {
        CalendarOverride.kind: payload.kind,
        CalendarOverride.start_date: payload.start_date,
        CalendarOverride.end_date: end,
        CalendarOverride.store_id: payload.store_id,
        CalendarOverride.name_zh: payload.name_zh,
        CalendarOverride.name_en: payload.name_en,
        CalendarOverride.note: payload.note,
        CalendarOverride.updated_at: now,
    }
    async with tenant_tx(tenant.id):
        await _check_store(actor, payload.store_id)
        if payload.id is not None:
            target = (
                await CalendarOverride.select(CalendarOverride.store_id)
                .where(CalendarOverride.id == payload.id)
                .first()
            )
            if target is None or not actor.sees_store(target["store_id"]):
                raise NotFound("override not found", field="id")
            override_id: UUID | None = payload.id
        else:
            same = CalendarOverride.select(CalendarOverride.id).where(
                (CalendarOverride.kind == payload.kind)
                & (CalendarOverride.start_date == payload.start_date)
                & (CalendarOverride.end_date == end),
                CalendarOverride.store_id.is_null()
                if payload.store_id is None
                else CalendarOverride.store_id == payload.store_id,
            )
            existing = await same.first()
            override_id = existing["id"] if existing else None
        try:
            if override_id is None:
                override_id = uuid4()
                await CalendarOverride.insert(
                    CalendarOverride(
                        id=override_id,
                        created_by=actor.id,
                        created_at=now,
                        **_columns(values),
                    )
                )
            else:
                await CalendarOverride.update(values).where(CalendarOverride.id == override_id)
        except Exception as exc:
            if is_unique_violation(exc):
                raise ValidationFailed(
                    "another override has this span, scope and kind",
                    field="start_date",
                    code="duplicate",
                ) from None
            raise
        row = await CalendarOverride.select().where(CalendarOverride.id == override_id).first()
        assert row is not None
        view = _override_view(dict(row))
        await audit(
            actor,
            "calendar.override_set",
            subject_type="calendar_override",
            subject_id=override_id,
            details={
                "kind": view.kind,
                "start_date": view.start_date.isoformat(),
                "end_date": view.end_date.isoformat(),
                "store_id": str(view.store_id) if view.store_id else None,
            },
        )
        return view


async def remove_override(tenant: TenantInfo, actor: Actor, override_id: UUID) -> None:
    """Remove an override (``calendarOverrideRemove``); a foreign id is :class:`NotFound`."""
    actor.require("calendar:manage")
    async with tenant_tx(tenant.id):
        row = await CalendarOverride.select().where(CalendarOverride.id == override_id).first()
        if row is None or not actor.sees_store(row["store_id"]):
            raise NotFound("override not found", field="id")
        await CalendarOverride.delete().where(CalendarOverride.id == override_id)
        await audit(
            actor,
            "calendar.override_remove",
            subject_type="calendar_override",
            subject_id=override_id,
            details={"kind": row["kind"], "start_date": row["start_date"].isoformat()},
        )


async def list_overrides(
    tenant: TenantInfo,
    actor: Actor,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    store_id: UUID | None = None,
) -> list[OverrideView]:
    """The tenant's overrides touching ``start`` … ``end`` (``calendarOverrides``), by start
    date; with ``store_id``, those that apply to that store (its own and tenant-wide)."""
    async with tenant_tx(tenant.id, write=False):
        query = CalendarOverride.select()
        if start is not None:
            query = query.where(CalendarOverride.end_date >= start)
        if end is not None:
            query = query.where(CalendarOverride.start_date <= end)
        if store_id is not None:
            query = query.where(
                CalendarOverride.store_id.is_null() | (CalendarOverride.store_id == store_id)
            )
        rows = await query.order_by(CalendarOverride.start_date).order_by(CalendarOverride.id)
    return [_override_view(dict(r)) for r in rows if actor.sees_store(r["store_id"])]


def _check_timezone(name: str) -> str:
    # "Asia" (a directory) or an over-long name raise OSError from the zoneinfo loader.
    try:
        if len(name) > 64 or "\x00" in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed(
            f"unknown timezone {name[:64]!r}", field="timezone", code="invalid_timezone"
        ) from None
    return name


async def set_business_hours(
    tenant: TenantInfo,
    actor: Actor,
    store_id: UUID,
    hours: BusinessHours | dict[str, Any] | None,
    *,
    timezone: str | UnsetType | None = UNSET,
) -> StoreHours:
    """Set a store's weekly hours (``{}``/``None``: not configured) and optionally its
    timezone (``None``: the tenant's). What ``storeUpdate`` calls. Needs ``calendar:manage``."""
    actor.require("calendar:manage")
    parsed = parse_business_hours(hours)
    changes: dict[Any, Any] = {Store.business_hours: json_text(parsed.as_json() if parsed else {})}
    if not isinstance(timezone, UnsetType):
        changes[Store.timezone] = _check_timezone(timezone) if timezone else None
    async with tenant_tx(tenant.id):
        await _check_store(actor, store_id)
        await Store.update(changes).where(Store.id == store_id)
        row = await Store.select(Store.timezone).where(Store.id == store_id).first()
        assert row is not None
        await audit(
            actor,
            "store.business_hours",
            subject_type="store",
            subject_id=store_id,
            details={
                "business_hours": parsed.as_json() if parsed else {},
                "timezone": row["timezone"],
            },
        )
    schedule = Schedule.from_hours(parsed)
    return StoreHours(
        store_id=store_id,
        timezone=row["timezone"] or tenant.timezone,
        timezone_override=row["timezone"],
        business_hours=parsed,
        holiday_policy=_policy(schedule, tenant),
    )


async def set_calendar_settings(
    tenant: TenantInfo, actor: Actor, data: CalendarSettingsInput | dict[str, Any]
) -> TenantInfo:
    """Change the tenant's calendar settings (holiday region, default holiday policy,
    birthday rules). Needs ``calendar:manage``; audited. Returns the tenant as it is now
    (tenant caches elsewhere expire within seconds)."""
    actor.require("calendar:manage")
    patch = convert(data, CalendarSettingsInput)
    changes = {
        f: getattr(patch, f) for f in patch.__struct_fields__ if getattr(patch, f) is not UNSET
    }
    async with tenant_tx(tenant.id):
        row = await Tenant.select(Tenant.settings).where(Tenant.id == tenant.id).first()
        if row is None:
            raise NotFound("tenant not found")
        settings = dict(json_value(row["settings"], {}))
        merged = {
            **msgspec.to_builtins(tenant.calendar),
            **(settings.get("calendar") or {}),
            **changes,
        }
        policy = CalendarPolicy.from_settings(merged)
        settings["calendar"] = msgspec.to_builtins(policy)
        await Tenant.update({Tenant.settings: json_text(settings)}).where(Tenant.id == tenant.id)
        await audit(
            actor, "calendar.settings", subject_type="tenant", subject_id=tenant.id, details=changes
        )
    return dataclasses.replace(tenant, calendar=policy)
