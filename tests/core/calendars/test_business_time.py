"""Business-time arithmetic on calendars built without a database."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from core.calendars import BusinessCalendar, NeverOpen, parse_business_hours
from core.calendars.days import DayResolver, OverrideRecord, PlatformSnapshot
from core.calendars.hours import Schedule
from core.errors import ValidationFailed

D = dt.date
H = dt.timedelta(hours=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def calendar(hours, tz="Asia/Shanghai", *, region="CN", policy="closed", overrides=(), store=None):
    schedule = Schedule.from_hours(parse_business_hours(hours))
    days = DayResolver(region, PlatformSnapshot(), overrides, store)
    return BusinessCalendar(tz, schedule, days, policy=policy, store_id=store)


def at(*args, tz=SHANGHAI):
    return dt.datetime(*args, tzinfo=tz)


WEEKDAYS_9_TO_6 = {d: ["09:00-12:00", "13:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def test_lunch_break_is_not_business_time():
    cal = calendar(WEEKDAYS_9_TO_6)
    assert cal.add(at(2026, 3, 2, 11, 0), 2 * H) == at(2026, 3, 2, 14, 0)
    assert cal.elapsed(at(2026, 3, 2, 8, 0), at(2026, 3, 2, 20, 0)) == 8 * H
    assert cal.is_open(at(2026, 3, 2, 12, 30)) is False
    assert cal.next_open(at(2026, 3, 2, 12, 30)) == at(2026, 3, 2, 13, 0)
    assert cal.is_open(at(2026, 3, 2, 12, 0)) is False  # periods end exclusively
    assert cal.is_open(at(2026, 3, 2, 11, 59, 59)) is True


def test_24_hours_sla_over_spring_festival_2026():
    cal = calendar(WEEKDAYS_9_TO_6)  # an HQ desk: closed on holidays, works the 调休 Saturdays
    # Friday 13 Feb 17:00: 1 h that day, 8 h on Saturday 14 (make-up working day, Monday's
    # hours), nothing 15-23 Feb, 8 h on Tuesday 24, the last 7 h on Wednesday 25.
    due = cal.add(at(2026, 2, 13, 17, 0), 24 * H)
    assert due == at(2026, 2, 25, 17, 0)
    assert cal.elapsed(at(2026, 2, 13, 17, 0), due) == 24 * H
    assert cal.opening_hours(D(2026, 2, 14)) == [
        (at(2026, 2, 14, 9, 0), at(2026, 2, 14, 12, 0)),
        (at(2026, 2, 14, 13, 0), at(2026, 2, 14, 18, 0)),
    ]
    assert cal.opening_hours(D(2026, 2, 16)) == []
    assert cal.add_workdays(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert cal.add_workdays(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert cal.add_workdays(D(2026, 2, 15), 0) == D(2026, 2, 24)
    assert cal.workdays_between(D(2026, 2, 9), D(2026, 3, 1)) == 5 + 1 + 4 + 1


def test_a_seven_day_store_stays_open_on_holidays():
    week = {d: ["10:00-22:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    cal = calendar(week, policy="open")
    assert cal.is_open(at(2026, 2, 17, 12, 0)) is True  # 春节初一
    assert cal.elapsed(at(2026, 2, 15), at(2026, 2, 24)) == 9 * 12 * H
    special = calendar({**week, "holiday": ["12:00-18:00"]}, policy="open")
    assert special.opening_hours(D(2026, 2, 17)) == [
        (at(2026, 2, 17, 12, 0), at(2026, 2, 17, 18, 0))
    ]
    assert special.opening_hours(D(2026, 2, 14)) == [(at(2026, 2, 14, 10), at(2026, 2, 14, 22))]


def test_shift_crossing_midnight():
    cal = calendar({"fri": ["18:00-02:00"], "sat": ["18:00-02:00"]}, region="none", policy="open")
    assert cal.is_open(at(2026, 3, 7, 1, 30)) is True  # Saturday 01:30 is Friday's shift
    assert cal.is_open(at(2026, 3, 7, 2, 0)) is False
    assert cal.add(at(2026, 3, 6, 17, 0), 9 * H) == at(2026, 3, 7, 19, 0)
    assert cal.elapsed(at(2026, 3, 6, 0, 0), at(2026, 3, 9, 0, 0)) == 16 * H
    assert cal.next_open(at(2026, 3, 8, 3, 0)) == at(2026, 3, 13, 18, 0)
    assert cal.opening_hours(D(2026, 3, 6)) == [(at(2026, 3, 6, 18), at(2026, 3, 7, 2))]


def test_24_00_end_and_the_next_morning_join():
    cal = calendar({"mon": ["08:00-24:00"], "tue": ["00:00-06:00"]}, region="none")
    assert cal.intervals(at(2026, 3, 2), at(2026, 3, 4)) == [
        (at(2026, 3, 2, 8, 0), at(2026, 3, 3, 6, 0))
    ]
    assert cal.add(at(2026, 3, 2, 23, 0), 2 * H) == at(2026, 3, 3, 1, 0)


def test_berlin_store_across_the_spring_dst_change():
    # 29 March 2026: 02:00 CET → 03:00 CEST. A 00:00-24:00 Sunday lasts 23 hours.
    cal = calendar({"sun": ["00:00-24:00"], "mon": ["01:00-04:00"]}, "Europe/Berlin", region="none")
    assert cal.elapsed(at(2026, 3, 29, tz=BERLIN), at(2026, 3, 30, tz=BERLIN)) == 23 * H
    assert cal.add(at(2026, 3, 29, 1, 0, tz=BERLIN), 2 * H) == at(2026, 3, 29, 4, 0, tz=BERLIN)
    night = calendar({"sun": ["01:30-03:30"]}, "Europe/Berlin", region="none")
    # 02:00-03:00 does not exist that night: 01:30-02:00 CET and 03:00-03:30 CEST.
    assert night.elapsed(at(2026, 3, 28, tz=BERLIN), at(2026, 3, 30, tz=BERLIN)) == H
    assert night.add(at(2026, 3, 29, 1, 45, tz=BERLIN), 30 * dt.timedelta(minutes=1)) == at(
        2026, 3, 29, 3, 15, tz=BERLIN
    )
    assert night.opening_hours(D(2026, 3, 29)) == [
        (at(2026, 3, 29, 1, 30, tz=BERLIN), at(2026, 3, 29, 3, 30, tz=BERLIN))
    ]


def test_berlin_store_across_the_autumn_dst_change():
    # 25 October 2026: 03:00 CEST → 02:00 CET. The Sunday lasts 25 hours, 02:00-03:00 twice.
    cal = calendar({"sun": ["00:00-24:00"]}, "Europe/Berlin", region="none")
    assert cal.elapsed(at(2026, 10, 25, tz=BERLIN), at(2026, 10, 26, tz=BERLIN)) == 25 * H
    night = calendar({"sun": ["02:00-03:00"]}, "Europe/Berlin", region="none")
    assert night.elapsed(at(2026, 10, 24, tz=BERLIN), at(2026, 10, 27, tz=BERLIN)) == 2 * H
    first = dt.datetime(2026, 10, 25, 0, 0, tzinfo=dt.UTC)  # 02:00 CEST
    assert night.is_open(first)
    assert night.is_open(first + H)  # 02:00 CET, the second time round
    assert not night.is_open(first + 2 * H)  # 03:00 CET
    assert not night.is_open(first - H / 2)  # 01:30 CEST
    due = night.add(at(2026, 10, 24, tz=BERLIN), 90 * dt.timedelta(minutes=1))
    assert due == dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)  # 02:30 CET
    assert (due.astimezone(BERLIN).hour, due.astimezone(BERLIN).fold) == (2, 1)
    weekday = calendar({"mon": ["09:00-17:00"]}, "Europe/Berlin", region="none")
    assert weekday.add(at(2026, 10, 23, 12, tz=BERLIN), 8 * H) == at(2026, 10, 26, 17, tz=BERLIN)


def test_pauses_are_not_counted():
    cal = calendar(WEEKDAYS_9_TO_6)
    pauses = [
        (at(2026, 3, 2, 10, 0), at(2026, 3, 2, 14, 0)),
        (at(2026, 3, 3, 0), at(2026, 3, 3, 9, 30)),
    ]
    assert cal.elapsed(at(2026, 3, 2, 9, 0), at(2026, 3, 3, 10, 0), pauses) == 1 * H + 4 * H + H / 2
    assert cal.add(at(2026, 3, 2, 9, 0), 6 * H, pauses) == at(2026, 3, 3, 10, 30)


def test_closure_and_tenant_overrides():
    store = uuid.uuid4()
    overrides = [
        OverrideRecord(uuid.uuid4(), "closure", D(2026, 3, 2), D(2026, 3, 6), store),
        OverrideRecord(uuid.uuid4(), "workday", D(2026, 3, 7), D(2026, 3, 7)),
    ]
    cal = calendar(WEEKDAYS_9_TO_6, overrides=overrides, store=store)
    assert cal.opening_hours(D(2026, 3, 4)) == []
    assert cal.day(D(2026, 3, 4)).workday is True
    # Saturday made a working day: Monday's hours (the closed policy's makeup_day).
    assert cal.next_open(at(2026, 3, 2, 8, 0)) == at(2026, 3, 7, 9, 0)


def test_never_open_and_zero_durations():
    closed = calendar({"mon": []})
    with pytest.raises(NeverOpen) as err:
        closed.add(at(2026, 3, 2), H)
    assert (err.value.field, err.value.code) == ("business_hours", "never_open")
    assert closed.next_open(at(2026, 3, 2)) is None
    assert closed.elapsed(at(2026, 3, 2), at(2026, 3, 9)) == dt.timedelta(0)
    assert closed.add(at(2026, 3, 2, 8), dt.timedelta(0)) == at(2026, 3, 2, 8)
    with pytest.raises(ValidationFailed) as err:
        closed.add(at(2026, 3, 2), -H)
    assert err.value.field == "duration"


def test_not_configured_is_clock_time():
    cal = calendar({}, policy="open")
    start = at(2026, 2, 16, 10, 0)
    assert cal.add(start, 48 * H) == start + 48 * H
    assert cal.elapsed(start, start + 100 * H) == 100 * H


def test_naive_datetimes_are_refused():
    cal = calendar(WEEKDAYS_9_TO_6)
    with pytest.raises(ValidationFailed) as err:
        cal.is_open(dt.datetime(2026, 3, 2, 10))
    assert (err.value.field, err.value.code) == ("at", "naive_datetime")


def test_unknown_year_is_answered_not_raised():
    cal = calendar(WEEKDAYS_9_TO_6)
    # 2027: estimated. 7 Feb is a Sunday (and 正月初二): no business hours, no error.
    assert cal.day(D(2027, 2, 7)).source == "estimated"
    assert cal.opening_hours(D(2027, 2, 7)) == []
    assert cal.add(at(2027, 2, 4, 17, 0), 2 * H) == at(2027, 2, 9, 10, 0)
    assert cal.add(at(2090, 6, 1, 9), H) == at(2090, 6, 1, 10)
