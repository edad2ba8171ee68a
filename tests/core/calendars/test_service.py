"""The calendar services on the database (SQLite, and PostgreSQL with RLS when configured)."""

import datetime as dt
import uuid

import pytest

from core.calendars import (
    business_calendar,
    business_calendars,
    calendar_coverage,
    calendar_data_gaps,
    calendar_days,
    festival_occurrences,
    festivals_on,
    list_festivals,
    list_overrides,
    load_schedule,
    parse_schedule,
    remove_festival,
    remove_loaded_schedule,
    remove_override,
    remove_platform_override,
    set_business_hours,
    set_calendar_settings,
    set_festival,
    set_override,
    set_platform_override,
)
from core.context import Actor
from core.db import json_value, tenant_tx
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.tables import AuditLog, CalendarFestival, CalendarOverride, CalendarPlatformDay, Store
from tenants.roles import BUILTIN_ROLES
from tenants.service import create_store, get_tenant

D = dt.date
H = dt.timedelta(hours=1)
PLATFORM = Actor(kind="platform", id="admin")
SCHEDULE_2027 = """{
  "year": 2027, "region": "CN", "reference": "test schedule (not the official one)",
  "days": [
    {"date": "2027-01-01", "workday": false, "name_zh": "元旦", "name_en": "New Year's Day"},
    {"date": "2027-02-05", "workday": false, "name_zh": "春节", "name_en": "Spring Festival"},
    {"date": "2027-02-06", "workday": false, "name_zh": "春节", "name_en": "Spring Festival"},
    {"date": "2027-02-07", "workday": true, "name_zh": "春节", "name_en": "Spring Festival"},
    {"date": "2027-02-08", "workday": false, "name_zh": "春节", "name_en": "Spring Festival"}
  ]
}"""


def actor(role: str) -> Actor:
    return Actor(kind="staff", id=f"{role}-1", role=role, permissions=BUILTIN_ROLES[role][1])


async def audit_actions(tenant) -> list[str]:
    async with tenant_tx(tenant.id, write=False):
        rows = await AuditLog.select(AuditLog.action).order_by(AuditLog.at)
    return [r["action"] for r in rows]


async def override_count(tenant) -> int:
    async with tenant_tx(tenant.id, write=False):
        return await CalendarOverride.count()


@pytest.fixture
async def loaded_2027(db):
    """2027 loaded by the operator for this test, removed afterwards (platform rows are shared
    by the session's tests)."""
    result = await load_schedule(PLATFORM, SCHEDULE_2027)
    yield result
    await remove_loaded_schedule(PLATFORM, 2027)


async def test_permission_is_given_to_owner_and_hq_manager():
    assert "calendar:manage" in BUILTIN_ROLES["hq_manager"][1]
    assert actor("hq_manager").can("calendar:manage")
    for role in ("store_manager", "cashier", "service_agent", "integration"):
        assert not actor(role).can("calendar:manage"), role


async def test_2026_and_2027_days_through_the_service(tenant, owner, store):
    cal = await business_calendar(tenant, owner, store)
    assert [cal.is_workday(D(2026, 2, n)) for n in (13, 14, 15, 23, 24, 28)] == [
        True,
        True,
        False,
        False,
        True,
        True,
    ]
    assert all(not cal.is_workday(D(2026, 2, n)) for n in range(15, 24))
    sunday = cal.day(D(2027, 2, 7))
    assert (sunday.workday, sunday.source) == (False, "estimated")


async def test_a_loaded_schedule_decides_2027(tenant, owner, loaded_2027):
    assert (loaded_2027.year, loaded_2027.off_days, loaded_2027.workdays) == (2027, 4, 1)
    cal = await business_calendar(tenant, owner)
    sunday = cal.day(D(2027, 2, 7))
    assert (sunday.workday, sunday.source, sunday.records[0].kind) == (
        True,
        "loaded",
        "makeup_workday",
    )
    assert cal.day(D(2027, 2, 8)).records[0].code == "spring_festival"
    rows = await CalendarPlatformDay.select().where(CalendarPlatformDay.year == 2027)
    assert sorted((r["day"], r["workday"], r["kind"], r["loaded_by"]) for r in rows)[0] == (
        D(2027, 1, 1),
        False,
        "new_year",
        "admin",
    )
    # Loading again replaces, never duplicates.
    again = await load_schedule(PLATFORM, parse_schedule(SCHEDULE_2027))
    assert again.replaced == 5
    assert await CalendarPlatformDay.count().where(CalendarPlatformDay.year == 2027) == 5


async def test_gaps_and_coverage(db, loaded_2027):
    coverage = await calendar_coverage([2025, 2026, 2027, 2028])
    assert [(c.year, c.source) for c in coverage] == [
        (2025, "official"),
        (2026, "official"),
        (2027, "loaded"),
        (2028, "estimated"),
    ]
    assert coverage[2].loaded_days == 5
    assert coverage[0].library.startswith("chinese-calendar ")
    assert await calendar_data_gaps(days=60, today=D(2026, 12, 1)) == []
    gaps = await calendar_data_gaps(days=60, today=D(2027, 11, 15))
    assert [g.year for g in gaps] == [2028]
    assert "2028" in gaps[0].message


async def test_a_year_without_data_is_a_gap(db):
    gaps = await calendar_data_gaps(days=60, today=D(2026, 12, 1))
    assert [(g.year, g.source) for g in gaps] == [(2027, "estimated")]
    assert await calendar_data_gaps(days=10, today=D(2026, 6, 1)) == []


async def test_schedule_files_are_validated_and_nothing_is_written(db):
    bad = SCHEDULE_2027.replace('"2027-02-08", "workday": false', '"2028-02-08", "workday": false')
    with pytest.raises(ValidationFailed) as err:
        await load_schedule(PLATFORM, bad)
    assert (err.value.field, err.value.code) == ("days[4].date", "wrong_year")
    weekday_workday = SCHEDULE_2027.replace(
        '"2027-02-05", "workday": false', '"2027-02-05", "workday": true'
    )
    with pytest.raises(ValidationFailed) as err:
        await load_schedule(PLATFORM, weekday_workday)
    assert (err.value.field, err.value.code) == ("days[1].workday", "not_weekend")
    with pytest.raises(ValidationFailed) as err:
        parse_schedule("date,workday,name_zh\n2027-01-01,maybe,元旦\n")
    assert err.value.field == "days[0].workday"
    with pytest.raises(Forbidden):
        await load_schedule(actor("hq_manager"), SCHEDULE_2027)
    assert await CalendarPlatformDay.count().where(CalendarPlatformDay.year == 2027) == 0


async def test_csv_schedule(tenant, owner):
    text = (
        "\ufeffdate,workday,name_zh,name_en\n"
        "2031-01-01,休,元旦,New Year's Day\n"
        "2031-01-04,班,元旦,New Year's Day\n"
    )
    schedule = parse_schedule(text.encode())
    assert schedule.year == 2031
    assert [(d.date, d.workday) for d in schedule.days] == [
        (D(2031, 1, 1), False),
        (D(2031, 1, 4), True),
    ]
    await load_schedule(PLATFORM, schedule)
    try:
        cal = await business_calendar(tenant, owner)
        assert cal.day(D(2031, 1, 4)).workday is True
        assert cal.day(D(2031, 1, 4)).source == "loaded"
        assert cal.day(D(2031, 5, 1)).workday is True  # not in the file: a plain Thursday
    finally:
        assert await remove_loaded_schedule(PLATFORM, 2031) == 2
    cal = await business_calendar(tenant, owner)
    assert cal.day(D(2031, 5, 1)).source == "estimated"


async def test_platform_override(tenant, other_tenant, owner):
    await set_platform_override(
        PLATFORM, {"date": "2026-12-31", "workday": False, "name_zh": "特别休息日"}
    )
    try:
        for t in (tenant, other_tenant):
            day = (await business_calendar(t, owner)).day(D(2026, 12, 31))
            assert (day.workday, day.source, day.records[-1].name_zh) == (
                False,
                "override",
                "特别休息日",
            )
    finally:
        await remove_platform_override(PLATFORM, D(2026, 12, 31))
    assert (await business_calendar(tenant, owner)).day(D(2026, 12, 31)).workday is True
    with pytest.raises(NotFound):
        await remove_platform_override(PLATFORM, D(2026, 12, 31))


async def test_tenant_override_makes_2027_02_07_a_workday(tenant, owner):
    view = await set_override(
        tenant, owner, {"kind": "workday", "start_date": "2027-02-07", "name_zh": "盘点"}
    )
    assert (view.kind, view.start_date, view.end_date, view.store_id) == (
        "workday",
        D(2027, 2, 7),
        D(2027, 2, 7),
        None,
    )
    day = (await business_calendar(tenant, owner)).day(D(2027, 2, 7))
    assert (day.workday, day.source, day.records[-1].override_id) == (True, "override", view.id)
    assert await audit_actions(tenant) == ["tenant.create", "calendar.override_set"]


async def test_set_override_again_changes_it(tenant, owner):
    first = await set_override(tenant, owner, {"kind": "local", "start_date": "2026-04-20"})
    second = await set_override(
        tenant, owner, {"kind": "local", "start_date": "2026-04-20", "name_zh": "三月三"}
    )
    assert second.id == first.id
    assert second.name_zh == "三月三"
    assert await override_count(tenant) == 1
    renamed = await set_override(
        tenant, owner, {"id": str(first.id), "kind": "day_off", "start_date": "2026-04-21"}
    )
    assert (renamed.id, renamed.kind, renamed.start_date) == (first.id, "day_off", D(2026, 4, 21))
    assert [o.id for o in await list_overrides(tenant, owner)] == [first.id]


async def test_store_closure_for_renovation(tenant, owner, store):
    await set_business_hours(
        tenant,
        owner,
        store,
        {d: ["10:00-22:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    other = uuid.UUID(str((await create_store(tenant, owner, {"code": "S2", "name": "Two"}))["id"]))
    await set_override(
        tenant,
        owner,
        {
            "kind": "closure",
            "start_date": "2026-03-01",
            "end_date": "2026-03-31",
            "store_id": str(store),
            "name_zh": "装修",
        },
    )
    calendars = await business_calendars(tenant, owner, [store, other, None])
    closed = calendars[store]
    assert closed.opening_hours(D(2026, 3, 15)) == []
    assert closed.day(D(2026, 3, 16)).workday is True
    assert closed.next_open(dt.datetime(2026, 3, 10, tzinfo=dt.UTC)) == dt.datetime(
        2026, 4, 1, 2, 0, tzinfo=dt.UTC
    )
    assert calendars[other].day(D(2026, 3, 15)).closed is False
    assert [o.store_id for o in await list_overrides(tenant, owner, store_id=other)] == []
    assert len(await list_overrides(tenant, owner, store_id=store, start=D(2026, 3, 31))) == 1
    assert await list_overrides(tenant, owner, start=D(2026, 4, 1)) == []


async def test_overrides_are_isolated(tenant, other_tenant, owner, store):
    view = await set_override(tenant, owner, {"kind": "day_off", "start_date": "2026-06-01"})
    assert await list_overrides(other_tenant, owner) == []
    assert (await business_calendar(other_tenant, owner)).day(D(2026, 6, 1)).workday is True
    assert (await business_calendar(tenant, owner)).day(D(2026, 6, 1)).workday is False
    with pytest.raises(NotFound) as err:
        await remove_override(other_tenant, owner, view.id)
    assert err.value.field == "id"
    with pytest.raises(NotFound):
        await set_override(
            other_tenant, owner, {"id": str(view.id), "kind": "workday", "start_date": "2026-06-01"}
        )
    with pytest.raises(NotFound) as err:
        await business_calendar(other_tenant, owner, store)
    assert err.value.field == "store_id"
    with pytest.raises(NotFound) as err:
        await set_override(
            other_tenant,
            owner,
            {"kind": "closure", "start_date": "2026-06-01", "store_id": str(store)},
        )
    assert err.value.field == "store_id"
    assert await override_count(other_tenant) == 0
    assert await override_count(tenant) == 1
    await remove_override(tenant, owner, view.id)
    assert await override_count(tenant) == 0
    assert (await audit_actions(tenant))[-1] == "calendar.override_remove"


async def test_override_validation_writes_nothing(tenant, owner):
    for data, field in [
        ({"kind": "holiday", "start_date": "2026-06-01"}, "kind"),
        ({"kind": "day_off", "start_date": "2026-06-02", "end_date": "2026-06-01"}, "end_date"),
        ({"kind": "day_off", "start_date": "2026-06-01", "end_date": "2040-06-01"}, "end_date"),
        ({"kind": "day_off", "start_date": "June 1"}, "start_date"),
        ({"kind": "day_off", "start_date": "2026-06-01", "name_zh": "x" * 101}, "name_zh"),
    ]:
        with pytest.raises(ValidationFailed) as err:
            await set_override(tenant, owner, data)
        assert err.value.field == field, data
    with pytest.raises(Forbidden):
        await set_override(
            tenant, actor("store_manager"), {"kind": "day_off", "start_date": "2026-06-01"}
        )
    assert await override_count(tenant) == 0
    assert await audit_actions(tenant) == ["tenant.create"]


async def test_business_hours_are_validated_and_stored(tenant, owner, store):
    result = await set_business_hours(
        tenant,
        owner,
        store,
        {"mon": ["09:00-12:00", "13:00-18:00"], "fri": ["18:00-02:00"], "holiday_policy": "open"},
        timezone="Europe/Berlin",
    )
    assert (result.timezone, result.timezone_override, result.holiday_policy) == (
        "Europe/Berlin",
        "Europe/Berlin",
        "open",
    )
    async with tenant_tx(tenant.id, write=False):
        row = (
            await Store.select(Store.business_hours, Store.timezone)
            .where(Store.id == store)
            .first()
        )
    assert row["timezone"] == "Europe/Berlin"
    assert json_value(row["business_hours"], None) == {
        "mon": ["09:00-12:00", "13:00-18:00"],
        "fri": ["18:00-02:00"],
        "holiday_policy": "open",
    }
    cal = await business_calendar(tenant, owner, store)
    assert cal.tz.key == "Europe/Berlin"
    assert cal.is_open(dt.datetime(2026, 3, 2, 12, 30, tzinfo=cal.tz)) is False
    assert cal.is_open(dt.datetime(2026, 3, 7, 1, 30, tzinfo=cal.tz)) is True
    # Invalid hours: a typed error naming the period, nothing written.
    with pytest.raises(ValidationFailed) as err:
        await set_business_hours(tenant, owner, store, {"mon": ["09:00-12:00", "11:00-13:00"]})
    assert (err.value.field, err.value.code) == ("business_hours.mon[1]", "overlap")
    with pytest.raises(ValidationFailed) as err:
        await set_business_hours(tenant, owner, store, {"tue": ["9-5"]})
    assert (err.value.field, err.value.code) == ("business_hours.tue[0]", "invalid_time")
    with pytest.raises(ValidationFailed) as err:
        await set_business_hours(tenant, owner, store, {}, timezone="Mars/Base")
    assert err.value.field == "timezone"
    with pytest.raises(Forbidden):
        await set_business_hours(tenant, actor("cashier"), store, {})
    async with tenant_tx(tenant.id, write=False):
        after = (
            await Store.select(Store.business_hours, Store.timezone)
            .where(Store.id == store)
            .first()
        )
    assert after == row
    assert (await audit_actions(tenant)).count("store.business_hours") == 1
    # Back to the tenant's timezone and "not configured".
    cleared = await set_business_hours(tenant, owner, store, {}, timezone=None)
    assert (cleared.timezone, cleared.business_hours) == ("Asia/Shanghai", None)


async def test_store_creation_validates_business_hours(tenant, owner):
    with pytest.raises(ValidationFailed) as err:
        await create_store(
            tenant,
            owner,
            {"code": "BAD", "name": "Bad", "business_hours": {"mon": ["25:00-26:00"]}},
        )
    assert err.value.field == "business_hours.mon[0]"
    row = await create_store(
        tenant, owner, {"code": "OK", "name": "Ok", "business_hours": {"sat": ["10:00-24:00"]}}
    )
    cal = await business_calendar(tenant, owner, row["id"])
    assert cal.policy == "open"  # weekend hours: open on holidays by default
    async with tenant_tx(tenant.id, write=False):
        assert await Store.count().where(Store.code == "BAD") == 0


async def test_tenant_settings(tenant, owner, store):
    updated = await set_calendar_settings(
        tenant, owner, {"holiday_region": "none", "leap_day_birthday": "mar1"}
    )
    assert (updated.calendar.holiday_region, updated.calendar.leap_day_birthday) == ("none", "mar1")
    reloaded = await get_tenant(tenant.id)
    assert reloaded.calendar == updated.calendar
    cal = await business_calendar(reloaded, owner, store)
    assert (cal.day(D(2026, 2, 16)).workday, cal.day(D(2026, 2, 16)).source) == (True, "weekly")
    assert cal.day(D(2026, 2, 14)).workday is False
    assert await calendar_data_gaps(days=60, today=D(2026, 12, 1), region="none") == []
    with pytest.raises(ValidationFailed) as err:
        await set_calendar_settings(reloaded, owner, {"holiday_policy": "never"})
    assert err.value.field == "holiday_policy"
    with pytest.raises(Forbidden):
        await set_calendar_settings(reloaded, actor("store_manager"), {"holiday_region": "CN"})
    assert (await get_tenant(tenant.id)).calendar == updated.calendar
    assert (await audit_actions(tenant))[-1] == "calendar.settings"
    # The holiday policy default applies to stores without their own.
    closed = await set_calendar_settings(
        reloaded, owner, {"holiday_region": "CN", "holiday_policy": "closed"}
    )
    await set_business_hours(closed, owner, store, {"sun": ["10:00-18:00"]})
    assert (await business_calendar(closed, owner, store)).opening_hours(D(2026, 2, 22)) == []


async def test_festivals(tenant, other_tenant, owner, store):
    member = await set_festival(
        tenant,
        owner,
        {
            "code": "member_day",
            "name_zh": "会员日",
            "name_en": "Member day",
            "rule": {"kind": "monthly", "day": 18},
        },
    )
    anniversary = await set_festival(
        tenant,
        owner,
        {
            "code": "store_anniversary",
            "name_zh": "店庆",
            "rule": {"kind": "fixed", "month": 9, "day": 25},
            "store_id": str(store),
        },
    )
    assert (member.builtin, member.rule) == (False, {"kind": "monthly", "day": 18})
    on = await festivals_on(tenant, owner, D(2026, 9, 25), store_id=store)
    assert [(f.code, f.builtin) for f in on] == [("mid_autumn", True), ("store_anniversary", False)]
    assert [f.code for f in await festivals_on(tenant, owner, D(2026, 9, 25))] == ["mid_autumn"]
    assert await festival_occurrences(
        tenant, owner, "member_day", D(2026, 1, 1), D(2026, 3, 31)
    ) == [
        D(2026, 1, 18),
        D(2026, 2, 18),
        D(2026, 3, 18),
    ]
    assert await festival_occurrences(
        tenant, owner, "new_years_eve", D(2026, 1, 1), D(2026, 12, 31)
    ) == [D(2026, 2, 16)]
    codes = [f.code for f in await list_festivals(tenant, owner)]
    assert codes[-2:] == ["member_day", "store_anniversary"] and len(codes) == 19
    with pytest.raises(Conflict) as err:
        await set_festival(
            tenant,
            owner,
            {"code": "mid_autumn", "name_zh": "x", "rule": {"kind": "monthly", "day": 1}},
        )
    assert err.value.field == "code"
    with pytest.raises(Conflict):
        await set_festival(
            tenant,
            owner,
            {"code": "member_day", "name_zh": "x", "rule": {"kind": "monthly", "day": 1}},
        )
    with pytest.raises(ValidationFailed) as err:
        await set_festival(
            tenant,
            owner,
            {"code": "bad", "name_zh": "x", "rule": {"kind": "lunar", "month": 13, "day": 1}},
        )
    assert err.value.field == "rule.month"
    # Isolation: the other tenant sees only the built-in ones and cannot touch ours.
    assert [f.code for f in await festivals_on(other_tenant, owner, D(2026, 10, 18))] == [
        "double_ninth"
    ]
    with pytest.raises(ValidationFailed):
        await festival_occurrences(other_tenant, owner, "member_day", D(2026, 1, 1), D(2026, 3, 31))
    with pytest.raises(NotFound):
        await remove_festival(other_tenant, owner, member.id)
    with pytest.raises(NotFound):
        await set_festival(
            other_tenant,
            owner,
            {
                "id": str(member.id),
                "code": "x1",
                "name_zh": "x",
                "rule": {"kind": "monthly", "day": 1},
            },
        )
    async with tenant_tx(other_tenant.id, write=False):
        assert await CalendarFestival.count() == 0
    changed = await set_festival(
        tenant,
        owner,
        {
            "id": str(member.id),
            "code": "member_day",
            "name_zh": "会员日",
            "rule": {"kind": "monthly", "day": 8},
        },
    )
    assert changed.rule == {"kind": "monthly", "day": 8}
    await remove_festival(tenant, owner, anniversary.id)
    async with tenant_tx(tenant.id, write=False):
        assert await CalendarFestival.count() == 1
    actions = await audit_actions(tenant)
    assert actions.count("calendar.festival_set") == 3 and actions[-1] == "calendar.festival_remove"


async def test_calendar_days_view(tenant, owner, store):
    await set_business_hours(tenant, owner, store, {"mon": ["09:00-18:00"], "tue": ["09:00-18:00"]})
    days = await calendar_days(tenant, owner, D(2026, 2, 15), D(2026, 2, 17), store_id=store)
    assert [(d.date, d.workday, d.holiday, d.lunar) for d in days] == [
        (D(2026, 2, 15), False, True, "腊月廿八"),
        (D(2026, 2, 16), False, True, "腊月廿九"),
        (D(2026, 2, 17), False, True, "正月初一"),
    ]
    assert [f.code for f in days[1].festivals] == ["new_years_eve"]
    assert days[1].opening_hours == ()  # holiday, and weekday-only hours: closed policy
    with pytest.raises(ValidationFailed) as err:
        await calendar_days(tenant, owner, D(2026, 1, 1), D(2027, 6, 1))
    assert err.value.code == "too_long"
