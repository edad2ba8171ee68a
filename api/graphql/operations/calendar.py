"""Calendars (CORE-13): ``businessCalendar(storeId, from, to)``, ``calendarOverrides``,
``calendarFestivals``; ``calendarOverrideSet``, ``calendarOverrideRemove``,
``calendarFestivalSet``, ``calendarFestivalRemove``, ``calendarSettingsSet``. Reading needs no
permission beyond a credential; every write needs ``calendar:manage`` (owners and HQ)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any, cast
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.operations._common import arg, uuid_of
from core.calendars import DayView, FestivalView, HolidayRecord, OverrideView, to_lunar
from core.graphql import (
    Connection,
    Node,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    decode_cursor,
    input_data,
    to_global_id,
)

__all__ = ["CALENDAR_NODES", "CalendarMutation", "CalendarQuery"]


@strawberry.enum(description="What makes a day special.")
class HolidayKind(Enum):
    STATUTORY = "statutory"
    MAKEUP_WORKDAY = "makeup_workday"
    OVERRIDE = "override"
    LOCAL = "local"
    CLOSURE = "closure"


@strawberry.enum(description="Where a day's status comes from.")
class HolidaySource(Enum):
    OFFICIAL = "official"
    LOADED = "loaded"
    ESTIMATED = "estimated"
    OVERRIDE = "override"
    WEEKLY = "weekly"


@strawberry.enum(description="What a calendar override does to its days.")
class CalendarOverrideKind(Enum):
    DAY_OFF = "day_off"
    WORKDAY = "workday"
    LOCAL = "local"
    CLOSURE = "closure"


@strawberry.type(description="A holiday, make-up working day (调休), override or closure.")
class CalendarHoliday:
    code: str = strawberry.field(description="Stable code (`spring_festival`, `day_off` …).")
    name: str = strawberry.field(description="Name in the tenant's language.")
    name_zh: str = strawberry.field(description="Chinese name.")
    name_en: str = strawberry.field(description="English name.")
    kind: HolidayKind = strawberry.field(description="What it is.")
    source: HolidaySource = strawberry.field(
        description="Official data, a schedule the platform loaded, an override, or an "
        "estimate (a year without official data yet)."
    )
    workday: bool = strawberry.field(description="Whether it makes the day a working day.")


@strawberry.type(description="A date of the lunar calendar (农历).")
class LunarDay:
    year: int = strawberry.field(description="Lunar year (it starts at 春节).")
    month: int = strawberry.field(description="Lunar month, 1–12.")
    day: int = strawberry.field(description="Day of the lunar month, 1–30.")
    leap: bool = strawberry.field(description="True in a leap month (闰月).")
    label: str = strawberry.field(description="As people write it: `正月初一`, `闰四月十五`.")


@strawberry.type(description="A festival falling on a day.")
class CalendarFestivalDay:
    code: str = strawberry.field(description="Festival code (`mid_autumn`, a tenant's own …).")
    name: str = strawberry.field(description="Name in the tenant's language.")
    builtin: bool = strawberry.field(description="A built-in festival, not the tenant's own.")


@strawberry.type(description="An opening period of a day.")
class OpeningPeriod:
    opens: dt.datetime = strawberry.field(description="When it opens (with offset).")
    closes: dt.datetime = strawberry.field(description="When it closes.")


@strawberry.type(description="One day of a store's (or the chain's) calendar.")
class CalendarDay:
    date: dt.date = strawberry.field(description="The local date.")
    workday: bool = strawberry.field(description="A working day (调休 counted).")
    closed: bool = strawberry.field(description="The store is closed all day.")
    source: HolidaySource = strawberry.field(description="Where the day's status comes from.")
    holiday: CalendarHoliday | None = strawberry.field(
        description="The holiday or make-up working day, if the day has one."
    )
    records: list[CalendarHoliday] = strawberry.field(
        description="Everything that applies to the day (holidays, overrides, closures)."
    )
    opening_hours: list[OpeningPeriod] = strawberry.field(description="When the store is open.")
    lunar: LunarDay | None = strawberry.field(description="The lunar date.")
    festivals: list[CalendarFestivalDay] = strawberry.field(description="Festivals that day.")


@strawberry.type(description="A change to the tenant's calendar (a day off, a closure …).")
class CalendarOverride(Node):
    kind: CalendarOverrideKind = strawberry.field(description="What it does.")
    start_date: dt.date = strawberry.field(description="First day.")
    end_date: dt.date = strawberry.field(description="Last day (inclusive).")
    store_id: strawberry.ID | None = strawberry.field(
        description="The store it applies to; null: every store."
    )
    name_zh: str = strawberry.field(description="Chinese name (a local holiday's).")
    name_en: str = strawberry.field(description="English name.")
    note: str = strawberry.field(description="Why.")
    updated_at: dt.datetime = strawberry.field(description="Last change.")


@strawberry.type(description="A festival: built-in, or the tenant's own (a store anniversary).")
class CalendarFestival:
    code: str = strawberry.field(description="Stable code.")
    name_zh: str = strawberry.field(description="Chinese name.")
    name_en: str = strawberry.field(description="English name.")
    rule: JSON = strawberry.field(
        description='When it falls: `{"kind": "lunar", "month": 8, "day": 15}`, fixed, monthly, '
        "nth_weekday, solar_term or lunar_year_end."
    )
    builtin: bool = strawberry.field(description="Built in (not editable).")
    festival_id: strawberry.ID | None = strawberry.field(
        description="The tenant festival's global ID (null for built-in ones)."
    )
    store_id: strawberry.ID | None = strawberry.field(description="Its store, if only one.")


def _holiday(record: HolidayRecord, locale: str) -> CalendarHoliday:
    return CalendarHoliday(
        code=record.code,
        name=record.name_en if locale == "en" and record.name_en else record.name_zh,
        name_zh=record.name_zh,
        name_en=record.name_en,
        kind=HolidayKind(record.kind),
        source=HolidaySource(record.source),
        workday=record.workday,
    )


def _day(view: DayView, locale: str) -> CalendarDay:
    try:
        lunar = to_lunar(view.date)
        lunar_day: LunarDay | None = LunarDay(
            year=lunar.year, month=lunar.month, day=lunar.day, leap=lunar.leap, label=lunar.label
        )
    except Exception:  # a date outside the lunar tables (years before 1) shows none
        lunar_day = None
    records = [_holiday(r, locale) for r in view.records]
    named = (HolidayKind.STATUTORY, HolidayKind.MAKEUP_WORKDAY, HolidayKind.LOCAL)
    deciding = next((r for r in records if r.kind in named), None)
    return CalendarDay(
        date=view.date,
        workday=view.workday,
        closed=view.closed,
        source=HolidaySource(view.source),
        holiday=deciding or (records[0] if records else None),
        records=records,
        opening_hours=[OpeningPeriod(opens=a, closes=b) for a, b in view.opening_hours],
        lunar=lunar_day,
        festivals=[
            CalendarFestivalDay(
                code=f.code,
                name=f.name_en if locale == "en" and f.name_en else f.name_zh,
                builtin=f.builtin,
            )
            for f in view.festivals
        ],
    )


def _override(view: OverrideView) -> CalendarOverride:
    return CalendarOverride(
        id=to_global_id("CalendarOverride", view.id),
        kind=CalendarOverrideKind(view.kind),
        start_date=view.start_date,
        end_date=view.end_date,
        store_id=to_global_id("Store", view.store_id) if view.store_id else None,
        name_zh=view.name_zh,
        name_en=view.name_en,
        note=view.note,
        updated_at=view.updated_at,
    )


def _festival(view: FestivalView) -> CalendarFestival:
    return CalendarFestival(
        code=view.code,
        name_zh=view.name_zh,
        name_en=view.name_en,
        rule=cast(JSON, view.rule),
        builtin=view.builtin,
        festival_id=to_global_id("CalendarFestival", view.id) if view.id else None,
        store_id=to_global_id("Store", view.store_id) if view.store_id else None,
    )


# --- inputs and payloads -------------------------------------------------------------------


@strawberry.input(description="Which overrides `calendarOverrides` lists.")
class CalendarOverrideFilterInput:
    store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Those applying to this store (and chain-wide)."
    )
    from_: dt.date | None = strawberry.field(
        default=strawberry.UNSET, name="from", description="Touching this day or later."
    )
    to: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="Touching this day or earlier."
    )


@strawberry.input(description="A change to the calendar over a span of days.")
class CalendarOverrideSetInput:
    kind: CalendarOverrideKind = strawberry.field(description="What it does to the days.")
    start_date: dt.date = strawberry.field(description="First day.")
    end_date: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="Last day (inclusive); default: the first."
    )
    store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="One store; omitted: every store."
    )
    name_zh: str | None = strawberry.field(default=strawberry.UNSET, description="Chinese name.")
    name_en: str | None = strawberry.field(default=strawberry.UNSET, description="English name.")
    note: str | None = strawberry.field(default=strawberry.UNSET, description="Why.")
    id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="An existing override to change."
    )


@strawberry.type(description="Result of `calendarOverrideSet`.")
class CalendarOverrideSetPayload:
    override: CalendarOverride | None = strawberry.field(description="The override as saved.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="The override to remove.")
class CalendarOverrideRemoveInput:
    id: strawberry.ID = strawberry.field(description="The override.")


@strawberry.type(description="Result of `calendarOverrideRemove`.")
class CalendarOverrideRemovePayload:
    removed_id: strawberry.ID | None = strawberry.field(description="The removed override.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="A tenant festival (a store anniversary, 会员日).")
class CalendarFestivalSetInput:
    code: str = strawberry.field(description="Stable code (letters, digits, `_`), new or its own.")
    name_zh: str = strawberry.field(description="Chinese name.")
    rule: JSON = strawberry.field(
        description='When it falls, e.g. `{"kind": "monthly", "day": 18}` (会员日).'
    )
    name_en: str | None = strawberry.field(default=strawberry.UNSET, description="English name.")
    store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Only this store (its anniversary)."
    )
    valid_from: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="First day it counts."
    )
    valid_until: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="Last day it counts."
    )
    id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="An existing festival to change."
    )


@strawberry.type(description="Result of `calendarFestivalSet`.")
class CalendarFestivalSetPayload:
    festival: CalendarFestival | None = strawberry.field(description="The festival as saved.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="The tenant festival to remove.")
class CalendarFestivalRemoveInput:
    id: strawberry.ID = strawberry.field(description="The festival.")


@strawberry.type(description="Result of `calendarFestivalRemove`.")
class CalendarFestivalRemovePayload:
    removed_id: strawberry.ID | None = strawberry.field(description="The removed festival.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.enum(description="Which public holidays a tenant follows.")
class HolidayRegion(Enum):
    CN = "CN"
    NONE = "none"


@strawberry.enum(description="Whether stores open on public holidays.")
class HolidayPolicy(Enum):
    AUTO = "auto"
    OPEN = "open"
    CLOSED = "closed"


@strawberry.enum(description="When a 29 February birthday falls in a common year.")
class LeapDayBirthday(Enum):
    FEB28 = "feb28"
    MAR1 = "mar1"


@strawberry.enum(description="When a lunar leap-month (闰月) birthday falls.")
class LunarLeapBirthday(Enum):
    REGULAR = "regular"
    LEAP = "leap"


@strawberry.input(description="The tenant's calendar settings; only the fields given change.")
class CalendarSettingsSetInput:
    holiday_region: HolidayRegion | None = strawberry.field(
        default=strawberry.UNSET, description="`CN`: mainland China's holidays; `NONE`."
    )
    holiday_policy: HolidayPolicy | None = strawberry.field(
        default=strawberry.UNSET,
        description="Default for stores: `AUTO` (open when the store has weekend hours).",
    )
    leap_day_birthday: LeapDayBirthday | None = strawberry.field(
        default=strawberry.UNSET, description="29 February birthdays in common years."
    )
    lunar_leap_birthday: LunarLeapBirthday | None = strawberry.field(
        default=strawberry.UNSET, description="Lunar leap-month birthdays."
    )


@strawberry.type(description="The tenant's calendar settings.")
class CalendarSettings:
    holiday_region: HolidayRegion = strawberry.field(description="Public holidays followed.")
    holiday_policy: HolidayPolicy = strawberry.field(description="Stores on holidays.")
    leap_day_birthday: LeapDayBirthday = strawberry.field(description="29 February birthdays.")
    lunar_leap_birthday: LunarLeapBirthday = strawberry.field(description="Leap-month birthdays.")


@strawberry.type(description="Result of `calendarSettingsSet`.")
class CalendarSettingsSetPayload:
    settings: CalendarSettings | None = strawberry.field(description="The settings now.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


# --- resolvers ---------------------------------------------------------------------------------


@strawberry.type
class CalendarQuery:
    @strawberry.field(
        description="A store's calendar (or the chain's, without `storeId`) for `from` … `to` "
        "(at most 366 days): working days and 调休, holidays with their source, opening hours, "
        "lunar dates and festivals."
    )
    async def business_calendar(
        self,
        info: Info,
        from_: Annotated[dt.date, strawberry.argument(name="from", description="First day.")],
        to: Annotated[dt.date, arg("Last day (inclusive).")],
        store_id: Annotated[strawberry.ID | None, arg("The store; omitted: the chain.")] = None,
    ) -> list[CalendarDay]:
        from core.calendars import calendar_days

        tenant, actor = context_of(info).caller()
        store = uuid_of(store_id, "Store", "storeId") if store_id else None
        views = await calendar_days(tenant, actor, from_, to, store_id=store)
        return [_day(v, tenant.locale) for v in views]

    @strawberry.field(description="The tenant's calendar overrides, by first day.")
    async def calendar_overrides(
        self,
        info: Info,
        first: Annotated[int, arg("Page size, 1–100.")] = 50,
        after: Annotated[str | None, arg("Cursor of the last override seen.")] = None,
        filter: Annotated[CalendarOverrideFilterInput | None, arg("Criteria.")] = None,
    ) -> Connection[CalendarOverride]:
        from core.calendars import list_overrides

        tenant, actor = context_of(info).caller()
        check_first(first)
        criteria = input_data(filter) if filter else {}
        views = await list_overrides(
            tenant,
            actor,
            start=criteria.get("from_"),
            end=criteria.get("to"),
            store_id=criteria.get("store_id"),
        )
        cursor = decode_cursor(after)
        if cursor is not None:
            ids = [str(v.id) for v in views]
            views = views[ids.index(cursor) + 1 :] if cursor in ids else []
        items = [_override(v) for v in views[: first + 1]]
        return connection(items, lambda o: str(_uid(o.id)), first)

    @strawberry.field(description="Built-in festivals and the tenant's own.")
    async def calendar_festivals(self, info: Info) -> list[CalendarFestival]:
        from core.calendars import list_festivals

        tenant, actor = context_of(info).caller()
        return [_festival(v) for v in await list_festivals(tenant, actor)]


def _uid(global_id: str) -> UUID:
    from core.graphql import parse_global_id

    parsed = parse_global_id(global_id)
    assert parsed is not None
    return parsed[1]


@strawberry.type
class CalendarMutation:
    @strawberry.mutation(description="Set a day off, a working day, a local holiday or a closure.")
    async def calendar_override_set(
        self, info: Info, input: Annotated[CalendarOverrideSetInput, arg("The override.")]
    ) -> CalendarOverrideSetPayload:
        from core.calendars import set_override

        tenant, actor = context_of(info).caller()

        async def run() -> OverrideView:
            return await set_override(tenant, actor, input_data(input, id="CalendarOverride"))

        view, errors = await attempt(run)
        return CalendarOverrideSetPayload(override=_override(view) if view else None, errors=errors)

    @strawberry.mutation(description="Remove a calendar override.")
    async def calendar_override_remove(
        self, info: Info, input: Annotated[CalendarOverrideRemoveInput, arg("The override.")]
    ) -> CalendarOverrideRemovePayload:
        from core.calendars import remove_override

        tenant, actor = context_of(info).caller()

        async def run() -> bool:
            await remove_override(tenant, actor, input_data(input, id="CalendarOverride")["id"])
            return True

        ok, errors = await attempt(run)
        return CalendarOverrideRemovePayload(removed_id=input.id if ok else None, errors=errors)

    @strawberry.mutation(description="Add or change a tenant festival (a store anniversary).")
    async def calendar_festival_set(
        self, info: Info, input: Annotated[CalendarFestivalSetInput, arg("The festival.")]
    ) -> CalendarFestivalSetPayload:
        from core.calendars import set_festival

        tenant, actor = context_of(info).caller()

        async def run() -> FestivalView:
            return await set_festival(tenant, actor, input_data(input, id="CalendarFestival"))

        view, errors = await attempt(run)
        return CalendarFestivalSetPayload(festival=_festival(view) if view else None, errors=errors)

    @strawberry.mutation(description="Remove a tenant festival.")
    async def calendar_festival_remove(
        self, info: Info, input: Annotated[CalendarFestivalRemoveInput, arg("The festival.")]
    ) -> CalendarFestivalRemovePayload:
        from core.calendars import remove_festival

        tenant, actor = context_of(info).caller()

        async def run() -> bool:
            await remove_festival(tenant, actor, input_data(input, id="CalendarFestival")["id"])
            return True

        ok, errors = await attempt(run)
        return CalendarFestivalRemovePayload(removed_id=input.id if ok else None, errors=errors)

    @strawberry.mutation(description="Change the tenant's calendar settings (audited).")
    async def calendar_settings_set(
        self, info: Info, input: Annotated[CalendarSettingsSetInput, arg("The changes.")]
    ) -> CalendarSettingsSetPayload:
        from core.calendars import set_calendar_settings
        from tenants.service import forget_tenant_everywhere

        tenant, actor = context_of(info).caller()

        async def run() -> Any:
            updated = await set_calendar_settings(tenant, actor, input_data(input))
            await forget_tenant_everywhere(tenant)  # every process: they keep tenants long
            return updated

        updated, errors = await attempt(run)
        if updated is None:
            return CalendarSettingsSetPayload(settings=None, errors=errors)
        policy = updated.calendar
        return CalendarSettingsSetPayload(
            settings=CalendarSettings(
                holiday_region=HolidayRegion(policy.holiday_region),
                holiday_policy=HolidayPolicy(policy.holiday_policy),
                leap_day_birthday=LeapDayBirthday(policy.leap_day_birthday),
                lunar_leap_birthday=LunarLeapBirthday(policy.lunar_leap_birthday),
            ),
            errors=[],
        )


async def _load_override(info: Info, uid: UUID) -> CalendarOverride | None:
    from core.calendars import list_overrides

    tenant, actor = context_of(info).caller()
    found = [v for v in await list_overrides(tenant, actor) if v.id == uid]
    return _override(found[0]) if found else None


CALENDAR_NODES: dict[str, Any] = {"CalendarOverride": _load_override}
