"""SLA due times on real calendar days (issue 13 item 4), the services called directly.

Every instant below is worked out by hand from the store's hours, in Asia/Shanghai wall-clock
time, and the arithmetic is written next to it: a complaint filed by phone on Saturday
2026-12-05 at 20:00, one hour before a store open 09:00-21:00 every day closes; the same in
clock time; a store with a lunch break; National Day 2026 with its make-up working day (调休);
waiting for the customer (the deadlines move by exactly the business time waited); a reopened
complaint's new resolve cycle; media and regulator complaints belong to HQ.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.plugins.complaints.sla_helpers import (
    DAILY_9_21,
    LUNCH_BREAK,
    SATURDAY_EVENING,
    WEEKDAYS_9_18,
    Clock,
    acknowledged,
    due_times,
    file_complaint,
    local,
    make_store,
    resolve,
    row_of,
)

pytestmark = pytest.mark.usefixtures("db")


def _settings(**changes):
    from plugins.complaints.settings import ComplaintsSettings

    return ComplaintsSettings(**changes)


async def test_a_phone_complaint_on_saturday_evening_is_due_in_the_stores_business_hours(
    tenant, owner
):
    store = await make_store(tenant, owner, "S1", DAILY_9_21)
    cid = await file_complaint(tenant, owner, _settings(), store, SATURDAY_EVENING)
    row = await row_of(tenant, cid)
    assert (row["business_time"], row["ack_minutes"], row["resolve_minutes"]) == (True, 1440, 4320)
    assert row["received_at"] == SATURDAY_EVENING
    assert due_times(row) == {
        # 18 h (75 % of 24): Sat 20-21 (1) + Sun 09-21 (12, 13) + Mon 09:00 + 5 → Mon 14:00
        "ack_warn_at": local("2026-12-07", "14:00"),
        # 24 h: 13 by Sunday's close + Mon 09:00 + 11 → Mon 20:00
        "ack_due_at": local("2026-12-07", "20:00"),
        # 54 h (75 % of 72): 1 + 12 * 4 (Sun-Wed) = 49 + Thu 09:00 + 5 → Thu 14:00
        "resolve_warn_at": local("2026-12-10", "14:00"),
        # 72 h: 1 + 12 * 5 (Sun-Thu) = 61 + Fri 09:00 + 11 → Fri 20:00
        "resolve_due_at": local("2026-12-11", "20:00"),
    }


async def test_a_clock_time_policy_counts_the_night_and_the_weekend(tenant, owner):
    from plugins.complaints.settings import SlaPolicy

    store = await make_store(tenant, owner, "S1", DAILY_9_21)
    settings = _settings(sla=[SlaPolicy(channel="phone", business_time=False)])
    cid = await file_complaint(tenant, owner, settings, store, SATURDAY_EVENING)
    row = await row_of(tenant, cid)
    assert row["business_time"] is False
    assert due_times(row) == {
        "ack_warn_at": local("2026-12-06", "14:00"),  # Sat 20:00 + 18 h
        "ack_due_at": local("2026-12-06", "20:00"),  # + 24 h
        "resolve_warn_at": local("2026-12-08", "02:00"),  # + 54 h
        "resolve_due_at": local("2026-12-08", "20:00"),  # + 72 h
    }
    # the policy matched the phone only: a letter at the same store keeps business time
    letter = await file_complaint(
        tenant, owner, settings, store, SATURDAY_EVENING, channel="letter"
    )
    assert due_times(await row_of(tenant, letter))["ack_due_at"] == local("2026-12-07", "20:00")


async def test_a_lunch_break_does_not_count(tenant, owner):
    store = await make_store(tenant, owner, "S2", LUNCH_BREAK)  # 09-12, 13-21: 11 h a day
    cid = await file_complaint(tenant, owner, _settings(), store, SATURDAY_EVENING)
    assert due_times(await row_of(tenant, cid)) == {
        # 18 h: 1 (Sat) + 11 (Sun) = 12, Mon 09-12 (3, 15) + 13:00 + 3 → Mon 16:00
        "ack_warn_at": local("2026-12-07", "16:00"),
        # 24 h: 1 + 11 + 11 = 23 by Monday's close + Tue 09:00 + 1 → Tue 10:00
        "ack_due_at": local("2026-12-08", "10:00"),
        # 54 h: 1 + 11 * 4 (Sun-Wed) = 45, Thu 09-12 (3, 48) + 13:00 + 6 → Thu 19:00
        "resolve_warn_at": local("2026-12-10", "19:00"),
        # 72 h: 1 + 11 * 6 (Sun-Fri) = 67, Sat 09-12 (3, 70) + 13:00 + 2 → Sat 15:00
        "resolve_due_at": local("2026-12-12", "15:00"),
    }
    # filed during the break, the clock starts at 13:00: 2 h to acknowledge → 15:00
    from plugins.complaints.settings import SlaPolicy

    quick = _settings(sla=[SlaPolicy(acknowledge_hours=2, resolve_hours=4)])
    at_lunch = await file_complaint(tenant, owner, quick, store, local("2026-12-07", "12:30"))
    row = await row_of(tenant, at_lunch)
    assert (row["ack_due_at"], row["resolve_due_at"]) == (
        local("2026-12-07", "15:00"),
        local("2026-12-07", "17:00"),
    )


async def test_national_day_closes_a_weekday_store_and_its_make_up_saturday_opens_it(tenant, owner):
    from core.calendars import business_calendar

    store = await make_store(tenant, owner, "S3", WEEKDAYS_9_18)  # Mon-Fri 9 h, closed holidays
    calendar = await business_calendar(tenant, owner, store)
    # the official 2026 schedule (chinese-calendar): 1-7 October off, Saturday 10 October worked
    assert [calendar.day(dt.date(2026, 10, d)).holiday for d in range(1, 8)] == [True] * 7
    assert calendar.day(dt.date(2026, 10, 10)).makeup_workday
    assert calendar.opening_hours(dt.date(2026, 10, 10)) == [
        (local("2026-10-10", "09:00"), local("2026-10-10", "18:00"))
    ]
    cid = await file_complaint(tenant, owner, _settings(), store, local("2026-09-30", "17:00"))
    assert due_times(await row_of(tenant, cid)) == {
        # 18 h: Wed 30 Sep 17-18 (1), 1-7 Oct closed, Thu 8 (9, 10), Fri 9 09:00 + 8 → 17:00
        "ack_warn_at": local("2026-10-09", "17:00"),
        # 24 h: 10 + Fri 9 (9, 19) + the make-up Saturday 10 Oct 09:00 + 5 → 14:00
        "ack_due_at": local("2026-10-10", "14:00"),
        # 54 h: 1 + 9 * 3 (8, 9, 10 Oct) = 28, Sun 11 closed, Mon 12 (37), Tue 13 (46),
        # Wed 14 09:00 + 8 → 17:00
        "resolve_warn_at": local("2026-10-14", "17:00"),
        # 72 h: 46 + Wed 14 (55) + Thu 15 (64) + Fri 16 09:00 + 8 → 17:00
        "resolve_due_at": local("2026-10-16", "17:00"),
    }


async def test_waiting_for_the_customer_moves_the_deadlines_by_the_business_time_waited(
    tenant, owner, monkeypatch
):
    from plugins.complaints import workflow

    settings = _settings()
    store = await make_store(tenant, owner, "S1", DAILY_9_21)
    cid = await file_complaint(tenant, owner, settings, store, SATURDAY_EVENING)
    before = due_times(await row_of(tenant, cid))
    clock = Clock(monkeypatch, local("2026-12-05", "20:30"))
    await workflow.acknowledge(tenant, owner, settings, cid)

    clock.set(local("2026-12-06", "20:00"))  # Sunday, an hour before closing
    await workflow.wait(tenant, owner, settings, cid)
    waiting = await row_of(tenant, cid)
    assert (waiting["state"], waiting["waiting_since"]) == ("waiting", local("2026-12-06", "20:00"))
    assert waiting["resolve_due_at"] > local("2036-01-01", "00:00")  # never due while waiting

    clock.set(local("2026-12-07", "10:00"))  # Monday: 14 h later, 2 of them business hours
    await workflow.resume(tenant, owner, settings, cid)
    resumed = await row_of(tenant, cid)
    assert (resumed["state"], resumed["waiting_since"]) == ("in_progress", None)
    assert due_times(resumed) == before | {
        # Sun 20-21 and Mon 09-10 waited: each deadline 2 business hours later
        "ack_warn_at": local("2026-12-07", "16:00"),
        "ack_due_at": local("2026-12-08", "10:00"),  # Mon 20:00 + 1 → 21:00, Tue 09 + 1
        "resolve_warn_at": local("2026-12-10", "16:00"),
        "resolve_due_at": local("2026-12-12", "10:00"),  # Fri 20:00 + 1 → 21:00, Sat 09 + 1
    }

    # a wait entirely outside business hours moves nothing
    clock.set(local("2026-12-07", "21:30"))
    await workflow.wait(tenant, owner, settings, cid)
    clock.set(local("2026-12-08", "08:30"))
    await workflow.resume(tenant, owner, settings, cid)
    again = await row_of(tenant, cid)
    assert due_times(again) == due_times(resumed)
    assert len(json.loads(again["pauses"])) == 2


async def test_a_reopened_complaint_gets_a_new_resolve_cycle(tenant, owner, monkeypatch):
    from plugins.complaints import workflow

    settings = _settings()
    store = await make_store(tenant, owner, "S1", DAILY_9_21)
    cid, clock = await acknowledged(tenant, owner, settings, store, monkeypatch)
    clock.set(local("2026-12-08", "11:00"))
    await resolve(tenant, owner, settings, cid)
    clock.set(local("2026-12-09", "10:00"))  # Wednesday
    await workflow.reopen(tenant, owner, settings, cid, note="顾客又来电")
    row = await row_of(tenant, cid)
    assert (row["state"], row["cycle"], row["resolved_at"]) == ("in_progress", 1, None)
    assert row["cycle_started_at"] == local("2026-12-09", "10:00")
    assert due_times(row) == {
        # acknowledging is not redone: its deadlines stay
        "ack_warn_at": local("2026-12-07", "14:00"),
        "ack_due_at": local("2026-12-07", "20:00"),
        # 54 h from Wed 10:00: 11 (Wed) + 12 * 3 (Thu-Sat) = 47, Sun 09:00 + 7 → Sun 16:00
        "resolve_warn_at": local("2026-12-13", "16:00"),
        # 72 h: 47 + Sun (59) + Mon (71) + Tue 09:00 + 1 → Tue 10:00
        "resolve_due_at": local("2026-12-15", "10:00"),
    }


@pytest.mark.parametrize("channel", ["media", "regulator"])
async def test_media_and_regulator_complaints_are_hqs(tenant, owner, channel):
    from core import Actor, NotFound
    from plugins.complaints.records import get_complaint

    settings = _settings()
    store = await make_store(tenant, owner, "S1", DAILY_9_21)
    hq = await file_complaint(tenant, owner, settings, store, SATURDAY_EVENING, channel=channel)
    by_phone = await file_complaint(tenant, owner, settings, store, SATURDAY_EVENING)
    assert (await row_of(tenant, hq))["hq_only"] is True
    assert (await row_of(tenant, by_phone))["hq_only"] is False
    manager = Actor(kind="staff", id="m", role="store_manager", store_ids=frozenset({store}))
    with pytest.raises(NotFound):
        await get_complaint(tenant, manager, hq)
    assert (await get_complaint(tenant, manager, by_phone))["id"] == by_phone


async def test_a_suggestion_is_acknowledged_but_never_due_to_resolve(tenant, owner):
    store = await make_store(tenant, owner, "S1", DAILY_9_21)
    cid = await file_complaint(
        tenant, owner, _settings(), store, SATURDAY_EVENING, kind="suggestion"
    )
    assert due_times(await row_of(tenant, cid)) == {
        "ack_warn_at": local("2026-12-07", "14:00"),
        "ack_due_at": local("2026-12-07", "20:00"),
        "resolve_warn_at": None,
        "resolve_due_at": None,
    }


async def test_in_clock_time_a_wait_before_reopening_does_not_move_the_new_cycle(
    tenant, owner, monkeypatch
):
    from plugins.complaints import workflow

    settings = _settings(business_time=False)
    store = await make_store(tenant, owner, "S1", DAILY_9_21)
    cid, clock = await acknowledged(tenant, owner, settings, store, monkeypatch)
    clock.set(local("2026-12-06", "09:00"))
    await workflow.wait(tenant, owner, settings, cid)
    clock.set(local("2026-12-06", "14:00"))
    await workflow.resume(tenant, owner, settings, cid)
    # cycle 0: Sat 20:00 + 72 h + the 5 h waited
    assert due_times(await row_of(tenant, cid))["resolve_due_at"] == local("2026-12-09", "01:00")
    clock.set(local("2026-12-07", "10:00"))
    await resolve(tenant, owner, settings, cid)
    clock.set(local("2026-12-08", "10:00"))
    await workflow.reopen(tenant, owner, settings, cid)
    row = await row_of(tenant, cid)
    # cycle 1 starts Tue 10:00; the wait in cycle 0 is history: + 54 h / + 72 h exactly
    assert (row["resolve_warn_at"], row["resolve_due_at"]) == (
        local("2026-12-10", "16:00"),
        local("2026-12-11", "10:00"),
    )
