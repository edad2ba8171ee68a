"""Working days and holidays without a database: the layers of core.calendars.days."""

import datetime as dt
import uuid

from core.calendars.days import (
    DayResolver,
    OverrideRecord,
    PlatformDay,
    PlatformSnapshot,
    official_years,
)

D = dt.date


def cn(*rows: PlatformDay, overrides=(), store_id=None) -> DayResolver:
    return DayResolver("CN", PlatformSnapshot.of(rows), overrides, store_id)


def test_library_years():
    years = official_years()
    assert years.start == 2004
    assert 2026 in years
    assert 2027 not in years


def test_spring_festival_2026_off_days_and_makeup_workdays():
    r = cn()
    assert r.day(D(2026, 2, 14)).workday is True  # Saturday, 调休上班
    assert r.day(D(2026, 2, 14)).makeup_workday is True
    assert r.day(D(2026, 2, 28)).workday is True  # Saturday, 调休上班
    for n in range(15, 24):
        day = r.day(D(2026, 2, n))
        assert (day.workday, day.holiday, day.source) == (False, True, "official"), n
        assert [(x.code, x.name_zh, x.kind) for x in day.records] == [
            ("spring_festival", "春节", "statutory")
        ]
    assert r.day(D(2026, 2, 13)).workday is True
    assert r.day(D(2026, 2, 24)).workday is True
    makeup = r.day(D(2026, 2, 14)).records[0]
    assert (makeup.kind, makeup.workday, makeup.source) == ("makeup_workday", True, "official")


def test_plain_days_of_an_official_year():
    r = cn()
    monday = r.day(D(2026, 3, 2))
    assert (monday.workday, monday.source, monday.records) == (True, "official", ())
    sunday = r.day(D(2026, 3, 1))
    assert (sunday.workday, sunday.holiday, sunday.source) == (False, False, "official")


def test_2027_is_estimated_until_loaded():
    r = cn()
    sunday = r.day(D(2027, 2, 7))
    assert (sunday.workday, sunday.source) == (False, "estimated")
    # The law fixes 除夕 + 初一…初三 (5-8 February 2027) off; nobody knows the 调休 yet.
    assert [r.day(D(2027, 2, n)).workday for n in range(4, 10)] == [
        True,
        False,
        False,
        False,
        False,
        True,
    ]
    assert r.day(D(2027, 2, 7)).records[0].source == "estimated"
    assert r.day(D(2027, 10, 1)).holiday is True
    assert r.day(D(2027, 10, 4)).workday is True
    assert r.day(D(2027, 3, 3)).source == "estimated"


def test_a_loaded_year_replaces_the_estimate():
    rows = [
        PlatformDay(D(2027, 2, n), "loaded", False, "spring_festival", "春节", "Spring Festival")
        for n in range(5, 13)
    ]
    rows.append(PlatformDay(D(2027, 2, 20), "loaded", True, "spring_festival", "春节", ""))
    r = cn(*rows)
    sunday = r.day(D(2027, 2, 7))
    assert (sunday.workday, sunday.source, sunday.records[0].kind) == (False, "loaded", "statutory")
    assert r.day(D(2027, 2, 20)).workday is True
    assert r.day(D(2027, 2, 20)).records[0].kind == "makeup_workday"
    assert r.day(D(2027, 2, 13)).workday is False  # a Saturday not in the file: a weekend
    assert r.day(D(2027, 10, 1)).source == "loaded"
    assert r.day(D(2027, 10, 1)).workday is True  # not in this (partial) file


def test_platform_override_beats_the_official_day():
    r = cn(PlatformDay(D(2026, 2, 14), "override", False, "day_off", "特别休息日", "Special"))
    day = r.day(D(2026, 2, 14))
    assert (day.workday, day.source) == (False, "override")
    assert [x.kind for x in day.records] == ["makeup_workday", "override"]


def test_tenant_and_store_overrides():
    store = uuid.uuid4()
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    overrides = [
        OverrideRecord(uuid.uuid4(), "workday", D(2027, 2, 7), D(2027, 2, 7), updated_at=t0),
        OverrideRecord(
            uuid.uuid4(), "local", D(2026, 4, 20), D(2026, 4, 20), None, "三月三", "Sanyuesan", t0
        ),
        OverrideRecord(
            uuid.uuid4(), "closure", D(2026, 3, 1), D(2026, 3, 31), store, "装修", "", t0
        ),
        OverrideRecord(uuid.uuid4(), "day_off", D(2026, 5, 6), D(2026, 5, 6), store, updated_at=t0),
        OverrideRecord(uuid.uuid4(), "workday", D(2026, 5, 6), D(2026, 5, 6), updated_at=t0),
    ]
    tenant_level = cn(overrides=overrides)
    at_store = cn(overrides=overrides, store_id=store)
    assert (tenant_level.day(D(2027, 2, 7)).workday, tenant_level.day(D(2027, 2, 7)).source) == (
        True,
        "override",
    )
    local = tenant_level.day(D(2026, 4, 20))
    assert (local.workday, local.holiday, local.records[-1].name_zh) == (False, True, "三月三")
    # The closure is the store's only: the day stays a working day, the store is closed.
    closed = at_store.day(D(2026, 3, 10))
    assert (closed.workday, closed.closed, closed.records[-1].kind) == (True, True, "closure")
    assert tenant_level.day(D(2026, 3, 10)).closed is False
    # A store's override beats the tenant's for that store.
    assert at_store.day(D(2026, 5, 6)).workday is False
    assert tenant_level.day(D(2026, 5, 6)).workday is True


def test_the_latest_override_of_a_level_wins():
    early = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    late = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    overrides = [
        OverrideRecord(uuid.uuid4(), "day_off", D(2026, 7, 1), D(2026, 7, 31), updated_at=late),
        OverrideRecord(uuid.uuid4(), "workday", D(2026, 7, 10), D(2026, 7, 10), updated_at=early),
    ]
    assert cn(overrides=overrides).day(D(2026, 7, 10)).workday is False


def test_region_none_has_weekends_only():
    r = DayResolver("none", PlatformSnapshot())
    day = r.day(D(2026, 10, 1))
    assert (day.workday, day.source, day.records) == (True, "weekly", ())
    assert r.day(D(2026, 10, 3)).workday is False


def test_no_year_raises():
    r = cn()
    for day in (
        D(1, 1, 1),
        D(1, 12, 31),
        D(2, 2, 2),
        D(1999, 5, 1),
        D(9998, 1, 1),
        D(9999, 12, 31),
    ):
        info = r.day(day)
        assert info.source == "estimated"


def test_the_library_year_exports_as_a_schedule_file():
    import msgspec
    import pytest

    from core.calendars import export_schedule, parse_schedule
    from core.errors import NotFound

    schedule = export_schedule(2026)
    assert schedule.year == 2026
    assert [(d.date, d.workday) for d in schedule.days if d.workday] == [
        (D(2026, 1, 4), True),
        (D(2026, 2, 14), True),
        (D(2026, 2, 28), True),
        (D(2026, 5, 9), True),
        (D(2026, 9, 20), True),
        (D(2026, 10, 10), True),
    ]
    assert sum(not d.workday for d in schedule.days) == 33
    assert parse_schedule(msgspec.json.encode(schedule)) == schedule
    with pytest.raises(NotFound) as err:
        export_schedule(2027)
    assert err.value.field == "year"
