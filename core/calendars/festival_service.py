"""A tenant's own festivals (store anniversary, 会员日 …) and the festival calendar that joins
them to the built-in ones."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID, uuid4

import msgspec
from msgspec import Meta

from core.auditing import audit
from core.calendars.festivals import (
    BUILTIN_CODES,
    BUILTIN_FESTIVALS,
    Festival,
    FestivalCalendar,
    FestivalOccurrence,
    parse_rule,
    rule_json,
)
from core.calendars.service import _columns
from core.context import Actor, TenantInfo
from core.db import is_unique_violation, json_text, json_value, tenant_tx
from core.errors import Conflict, NotFound, ValidationFailed
from core.tables import CalendarFestival, Store
from core.validation import convert

__all__ = [
    "FestivalInput",
    "FestivalView",
    "festival_calendar",
    "festival_occurrences",
    "festivals_on",
    "list_festivals",
    "remove_festival",
    "set_festival",
]

Code = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{1,63}$")]


class FestivalInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A tenant festival. ``rule``: ``{"kind": "fixed", "month": 6, "day": 18}``,
    ``{"kind": "monthly", "day": 18}``, ``{"kind": "lunar", "month": 8, "day": 15}``,
    ``{"kind": "nth_weekday", "month": 5, "weekday": 7, "n": 2}``,
    ``{"kind": "solar_term", "term": "冬至"}`` or ``{"kind": "lunar_year_end"}``.
    ``id`` changes an existing festival; otherwise ``code`` must be new."""

    code: Code
    name_zh: Annotated[str, Meta(min_length=1, max_length=100)]
    name_en: Annotated[str, Meta(max_length=100)] = ""
    rule: dict[str, Any]
    store_id: UUID | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    id: UUID | None = None


class FestivalView(msgspec.Struct, kw_only=True):
    """A festival, built-in (``id`` None) or the tenant's."""

    code: str
    name_zh: str
    name_en: str
    rule: dict[str, Any]
    builtin: bool
    id: UUID | None = None
    store_id: UUID | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


def _festival(row: dict[str, Any]) -> Festival:
    return Festival(
        code=row["code"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        rule=parse_rule(json_value(row["rule"], {})),
        builtin=False,
        id=row["id"],
        store_id=row["store_id"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
    )


def _view(f: Festival) -> FestivalView:
    return FestivalView(
        code=f.code,
        name_zh=f.name_zh,
        name_en=f.name_en,
        rule=rule_json(f.rule),
        builtin=f.builtin,
        id=f.id,
        store_id=f.store_id,
        valid_from=f.valid_from,
        valid_until=f.valid_until,
    )


async def _tenant_festivals(store_id: UUID | None, *, all_stores: bool = False) -> list[Festival]:
    query = CalendarFestival.select()
    if not all_stores:
        query = query.where(
            CalendarFestival.store_id.is_null()
            if store_id is None
            else CalendarFestival.store_id.is_null() | (CalendarFestival.store_id == store_id)
        )
    return [_festival(dict(r)) for r in await query.order_by(CalendarFestival.code)]


async def festival_calendar(
    tenant: TenantInfo, actor: Actor, store_id: UUID | None = None
) -> FestivalCalendar:
    """The built-in festivals plus the tenant's (tenant-wide, and the store's when
    ``store_id`` is given). Ask it ``on(day)``, ``between(start, end)``,
    ``occurrences(code, start, end)``, ``next(code, day)``."""
    async with tenant_tx(tenant.id, write=False):
        return FestivalCalendar(await _tenant_festivals(store_id))


async def festivals_on(
    tenant: TenantInfo, actor: Actor, day: dt.date, *, store_id: UUID | None = None
) -> list[FestivalOccurrence]:
    """The festivals on ``day`` (built-in and the tenant's)."""
    return (await festival_calendar(tenant, actor, store_id)).on(day)


async def festival_occurrences(
    tenant: TenantInfo,
    actor: Actor,
    code: str,
    start: dt.date,
    end: dt.date,
    *,
    store_id: UUID | None = None,
) -> list[dt.date]:
    """The dates of festival ``code`` on ``start`` … ``end``; an unknown code is
    :class:`ValidationFailed` (``code = not_found``)."""
    return (await festival_calendar(tenant, actor, store_id)).occurrences(code, start, end)


async def list_festivals(tenant: TenantInfo, actor: Actor) -> list[FestivalView]:
    """Built-in festivals, then the tenant's (every store's), by code."""
    async with tenant_tx(tenant.id, write=False):
        own = await _tenant_festivals(None, all_stores=True)
    return [_view(f) for f in BUILTIN_FESTIVALS] + [
        _view(f) for f in own if actor.sees_store(f.store_id)
    ]


async def set_festival(
    tenant: TenantInfo, actor: Actor, data: FestivalInput | dict[str, Any]
) -> FestivalView:
    """Create a tenant festival, or change one (``id``). Needs ``calendar:manage``; a code
    of a built-in festival or another of the tenant's is a :class:`Conflict` on ``code``."""
    actor.require("calendar:manage")
    payload = convert(data, FestivalInput)
    rule = parse_rule(payload.rule)
    if payload.code in BUILTIN_CODES:
        raise Conflict("a built-in festival has this code", field="code", code="duplicate")
    if payload.valid_from and payload.valid_until and payload.valid_until < payload.valid_from:
        raise ValidationFailed(
            "valid_until is before valid_from", field="valid_until", code="invalid"
        )
    now = dt.datetime.now(dt.UTC)
    values = {
        CalendarFestival.code: payload.code,
        CalendarFestival.name_zh: payload.name_zh,
        CalendarFestival.name_en: payload.name_en,
        CalendarFestival.rule: json_text(rule_json(rule)),
        CalendarFestival.store_id: payload.store_id,
        CalendarFestival.valid_from: payload.valid_from,
        CalendarFestival.valid_until: payload.valid_until,
        CalendarFestival.updated_at: now,
    }
    async with tenant_tx(tenant.id):
        if payload.store_id is not None and (
            not actor.sees_store(payload.store_id)
            or not await Store.exists().where(Store.id == payload.store_id)
        ):
            raise NotFound("store not found", field="store_id")
        festival_id = payload.id or uuid4()
        try:
            if payload.id is not None:
                row = (
                    await CalendarFestival.select(CalendarFestival.store_id)
                    .where(CalendarFestival.id == payload.id)
                    .first()
                )
                if row is None or not actor.sees_store(row["store_id"]):
                    raise NotFound("festival not found", field="id")
                await CalendarFestival.update(values).where(CalendarFestival.id == payload.id)
            else:
                await CalendarFestival.insert(
                    CalendarFestival(
                        id=festival_id,
                        created_at=now,
                        **_columns(values),
                    )
                )
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(
                    "a festival with this code already exists", field="code", code="duplicate"
                ) from None
            raise
        await audit(
            actor,
            "calendar.festival_set",
            subject_type="calendar_festival",
            subject_id=festival_id,
            details={"code": payload.code, "rule": rule_json(rule)},
        )
        stored = await CalendarFestival.select().where(CalendarFestival.id == festival_id).first()
        assert stored is not None
        return _view(_festival(dict(stored)))


async def remove_festival(tenant: TenantInfo, actor: Actor, festival_id: UUID) -> None:
    """Remove a tenant festival; a foreign or built-in id is :class:`NotFound`."""
    actor.require("calendar:manage")
    async with tenant_tx(tenant.id):
        row = await CalendarFestival.select().where(CalendarFestival.id == festival_id).first()
        if row is None or not actor.sees_store(row["store_id"]):
            raise NotFound("festival not found", field="id")
        await CalendarFestival.delete().where(CalendarFestival.id == festival_id)
        await audit(
            actor,
            "calendar.festival_remove",
            subject_type="calendar_festival",
            subject_id=festival_id,
            details={"code": row["code"]},
        )
