"""Calendar figures (CORE-13): what an SLA job or a campaign run pays per question.

Wire as ``mendian bench calendar`` (see NOTES-calendar.md); needs a migrated database.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Callable

from core.context import Actor

__all__ = ["bench_calendar"]

HOURS = {
    "mon": ["09:00-12:00", "13:00-18:00"],
    "tue": ["09:00-12:00", "13:00-18:00"],
    "wed": ["09:00-12:00", "13:00-18:00"],
    "thu": ["09:00-12:00", "13:00-18:00"],
    "fri": ["09:00-12:00", "13:00-21:00"],
    "sat": ["10:00-22:00"],
    "sun": ["18:00-02:00"],
}


async def bench_calendar(
    report: Callable[[str], None], *, stores: int = 50, questions: int = 10_000
) -> None:
    """Load ``stores`` store calendars at once, then ask ``questions`` due dates, elapsed
    times, openings, festivals and lunar birthdays; prints µs per question."""
    from core.calendars import (
        business_calendars,
        festival_calendar,
        next_birthday,
        set_business_hours,
    )
    from tenants.service import create_store, create_tenant

    owner = Actor(kind="system", id="bench")
    tenant = await create_tenant({"slug": f"bench-cal-{uuid.uuid4().hex[:8]}", "name": "Bench"})
    store_ids = []
    for i in range(stores):
        row = await create_store(tenant, owner, {"code": f"B{i:03d}", "name": f"Store {i}"})
        store_ids.append(row["id"])
        await set_business_hours(tenant, owner, row["id"], HOURS)

    started = time.perf_counter()
    calendars = await business_calendars(tenant, owner, store_ids)
    report(
        f"load {stores} store calendars (2 queries): {(time.perf_counter() - started) * 1e3:.1f} ms"
    )

    rnd = random.Random(7)  # noqa: S311 - reproducible benchmark data, not a secret
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    starts = [base + dt.timedelta(minutes=rnd.randrange(2 * 365 * 1440)) for _ in range(questions)]
    cals = [calendars[store_ids[rnd.randrange(stores)]] for _ in range(questions)]
    sla = dt.timedelta(hours=24)

    def timed(label: str, fn: Callable[[int], object], n: int = questions) -> None:
        t0 = time.perf_counter()
        for i in range(n):
            fn(i)
        report(f"{label}: {(time.perf_counter() - t0) / n * 1e6:.1f} µs each ({n})")

    t0 = time.perf_counter()
    calendars[store_ids[0]].add(starts[0], sla)
    report(
        f"first due date (cold: year tables, zone transitions): {(time.perf_counter() - t0) * 1e3:.1f} ms"
    )
    timed("due date, 24 h business time (add)", lambda i: cals[i].add(starts[i], sla))
    timed("due date again (days cached)", lambda i: cals[i].add(starts[i], sla))
    pauses = [(s + dt.timedelta(hours=2), s + dt.timedelta(hours=5)) for s in starts]
    timed(
        "elapsed over 3 days with a pause",
        lambda i: cals[i].elapsed(starts[i], starts[i] + dt.timedelta(days=3), [pauses[i]]),
    )
    timed("next_open", lambda i: cals[i].next_open(starts[i]))
    timed("is_open", lambda i: cals[i].is_open(starts[i]))
    festivals = await festival_calendar(tenant, owner)
    days = [s.date() for s in starts]
    timed("festivals on a day", lambda i: festivals.on(days[i]))
    births = [
        dt.date(1950, 1, 1) + dt.timedelta(days=rnd.randrange(60 * 365)) for _ in range(questions)
    ]
    timed(
        "next lunar birthday",
        lambda i: next_birthday(births[i], on_or_after=days[i], calendar="lunar"),
    )
