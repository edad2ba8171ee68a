"""Business-time arithmetic against a brute-force oracle that walks minute by minute.

The oracle knows nothing of intervals, offsets or transitions: for every UTC minute it asks
``zoneinfo`` for the local wall-clock time and applies the day rules (documented in
NOTES-calendar.md) to that local date and the one before (overnight periods). Random schedules
(lunch breaks, overnight shifts, 24:00 ends, holiday hours), random overrides and closures,
both holiday policies, mainland holidays (2026, checked against chinese-calendar directly) or
none, and zones with DST (Berlin, New York, Lord Howe's 30-minute change, Santiago's change at
midnight) around their transitions.
"""

import datetime as dt
import random
import uuid
from zoneinfo import ZoneInfo

import chinese_calendar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.calendars import BusinessCalendar, NeverOpen, parse_business_hours
from core.calendars.days import DayResolver, OverrideRecord, PlatformSnapshot
from core.calendars.hours import WEEKDAYS, Schedule
from core.errors import ValidationFailed

ZONES = [
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
]
# Days around 2026's DST changes of those zones (and the Spring Festival).
INTERESTING = [
    dt.date(2026, 3, 8),
    dt.date(2026, 3, 29),
    dt.date(2026, 4, 5),
    dt.date(2026, 9, 6),
    dt.date(2026, 10, 4),
    dt.date(2026, 10, 25),
    dt.date(2026, 11, 1),
    dt.date(2026, 2, 13),
    dt.date(2026, 9, 30),
]
WINDOW_MIN = 3 * 1440
QUERIES = 6
STORE = uuid.uuid4()
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def day_periods(points: list[int], overnight: int) -> list[str]:
    """0 to 2 periods from quarter-hour marks; with ``overnight`` (1 … 12, half hours) the last
    period ends after midnight instead, when it can."""
    marks = sorted(set(points))
    marks = marks[: len(marks) // 2 * 2]
    periods = [(marks[i] * 15, marks[i + 1] * 15) for i in range(0, len(marks), 2)]
    if periods and overnight and periods[-1][1] < 1440 and overnight * 30 < periods[-1][0]:
        periods[-1] = (periods[-1][0], overnight * 30 + 1440)
    return [f"{hhmm(s)}-{hhmm(e - 1440 if e > 1440 else e)}" for s, e in periods]


# Strategies built once (building them per draw costs more than the whole test).
DAY = st.tuples(st.lists(st.integers(0, 96), max_size=4), st.integers(0, 12))
OVERRIDE = st.tuples(
    st.sampled_from(["day_off", "workday", "local", "closure"]),
    st.integers(-1, 4),
    st.integers(0, 2),
    st.booleans(),
    st.integers(0, 3),
)
CASE = st.tuples(
    st.lists(DAY, min_size=8, max_size=8),
    st.sampled_from(WEEKDAYS),
    st.booleans(),
    st.sampled_from(ZONES),
    st.one_of(st.sampled_from(INTERESTING), st.dates(dt.date(2026, 1, 2), dt.date(2026, 12, 25))),
    st.integers(0, 2),
    st.sampled_from(["CN", "none"]),
    st.sampled_from(["open", "closed"]),
    st.lists(OVERRIDE, max_size=4),
    st.integers(-48, 48),
    st.integers(0, 2**32 - 1),
)


def build(case):
    days, makeup, with_holiday, tz, start, back, region, policy, raw_overrides, shift, seed = case
    raw = {name: day_periods(*days[i]) for i, name in enumerate(WEEKDAYS)}
    raw = {name: periods for name, periods in raw.items() if periods}
    if with_holiday:
        raw["holiday"] = day_periods(*days[7])
    raw["makeup_day"] = makeup
    try:
        hours = parse_business_hours(raw)
    except ValidationFailed:  # overlapping days: a week without hours
        hours = parse_business_hours({"makeup_day": makeup})
    start = start - dt.timedelta(days=back)
    overrides = [
        OverrideRecord(
            id=uuid.UUID(int=i + 1),
            kind=kind,
            start_date=start + dt.timedelta(days=offset),
            end_date=start + dt.timedelta(days=offset + length),
            store_id=STORE if own else None,
            updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=later),
        )
        for i, (kind, offset, length, own, later) in enumerate(raw_overrides)
    ]
    origin = int((dt.datetime.combine(start, dt.time(), dt.UTC) - EPOCH).total_seconds() // 60)
    origin += 15 * shift
    # The queries come from a seed: drawing them one by one costs hypothesis more than the
    # checks (the seed is in the falsifying example, so a failure still reproduces).
    rnd = random.Random(seed)
    queries = []
    for _ in range(QUERIES):
        a, b = sorted((rnd.randrange(WINDOW_MIN), rnd.randrange(WINDOW_MIN + 1)))
        pauses = []
        for _ in range(rnd.randrange(3)):
            p = rnd.randrange(WINDOW_MIN)
            pauses.append((p, min(WINDOW_MIN, p + rnd.randrange(601))))
        queries.append((a, b, pauses, rnd.random()))
    return hours, tz, region, policy, overrides, origin, queries


class Oracle:
    """Minute-by-minute truth, from the rules alone."""

    def __init__(self, hours, tz, region, policy, overrides):
        self.schedule = Schedule.from_hours(hours)
        self.tz = ZoneInfo(tz)
        self.region = region
        self.policy = policy
        tenant = sorted((o for o in overrides if o.store_id is None), key=lambda o: o.updated_at)
        store = sorted((o for o in overrides if o.store_id == STORE), key=lambda o: o.updated_at)
        self.overrides = tenant + store
        self._hours = {}

    def hours(self, day):
        if day not in self._hours:
            self._hours[day] = self._compute(day)
        return self._hours[day]

    def _compute(self, day):
        if self.region == "CN":
            workday = chinese_calendar.is_workday(day)
            off_record = day in chinese_calendar.holidays
        else:
            workday, off_record = day.weekday() < 5, False
        closed = False
        for o in self.overrides:
            if not o.start_date <= day <= o.end_date:
                continue
            if o.kind == "closure":
                closed = True
            else:
                workday = o.kind == "workday"
                off_record = off_record or not workday
        if closed:
            return ()
        holiday = not workday and off_record
        own = self.schedule.week[day.weekday()]
        if holiday:
            if self.policy == "closed":
                return ()
            return self.schedule.holiday if self.schedule.holiday is not None else own
        if workday and day.weekday() >= 5 and not own and self.policy == "closed":
            return self.schedule.week[self.schedule.makeup_weekday]
        return own

    def open_at(self, minute):
        local = dt.datetime.fromtimestamp(minute * 60, self.tz)
        m = local.hour * 60 + local.minute
        today, yesterday = self.hours(local.date()), self.hours(local.date() - dt.timedelta(days=1))
        return any(s <= m < e for s, e in today) or any(s <= m + 1440 < e for s, e in yesterday)


def instant(minute):
    return EPOCH + dt.timedelta(minutes=minute)


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(CASE.map(build))
def test_business_time_matches_the_minute_counter(case):
    hours, tz, region, policy, overrides, origin, queries = case
    oracle = Oracle(hours, tz, region, policy, overrides)
    days = DayResolver(region, PlatformSnapshot(), overrides, STORE)
    cal = BusinessCalendar(tz, Schedule.from_hours(hours), days, policy=policy, store_id=STORE)
    # Every boundary (periods at 15-minute steps, these zones' offsets and transitions) falls
    # on a UTC quarter hour and ``origin`` is one, so each quarter is open or closed as a whole:
    # ask the oracle once per quarter, then count minute by minute (a, b and pauses are
    # arbitrary minutes).
    quarters = [oracle.open_at(origin + 15 * k) for k in range(WINDOW_MIN // 15)]
    opened = [quarters[i // 15] for i in range(WINDOW_MIN)]
    for query in queries:
        check(cal, opened, origin, *query)


def check(cal, opened, origin, a, b, pauses, fraction):
    paused = [False] * WINDOW_MIN
    for p, q in pauses:
        for i in range(p, q):
            paused[i] = True
    counts = [opened[i] and not paused[i] for i in range(WINDOW_MIN)]
    pause_args = [(instant(origin + p), instant(origin + q)) for p, q in pauses]
    at = instant(origin + a)

    assert cal.elapsed(at, instant(origin + b), pause_args) == dt.timedelta(
        minutes=sum(counts[a:b])
    )
    assert cal.is_open(at) is opened[a]
    following = next((i for i in range(a, WINDOW_MIN) if opened[i]), None)
    found = cal.next_open(at)
    if following is not None:
        assert found == instant(origin + following)
    else:
        assert found is None or found >= instant(origin + WINDOW_MIN)
    # add: the end of the n-th counted minute after a
    available = sum(counts[a:])
    n = int(fraction * available)
    if n == 0:
        assert cal.add(at, dt.timedelta(0), pause_args) == at
        return
    seen = 0
    for i in range(a, WINDOW_MIN):
        seen += counts[i]
        if seen == n:
            break
    assert cal.add(at, dt.timedelta(minutes=n), pause_args) == instant(origin + i + 1)
    try:
        beyond = cal.add(at, dt.timedelta(minutes=available + 1), pause_args)
    except NeverOpen:
        return
    assert beyond > instant(origin + WINDOW_MIN - 1)
