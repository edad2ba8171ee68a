"""Business-time arithmetic for one store (or a tenant): open intervals, due dates, elapsed
business time, next opening — in the store's timezone and DST-safe.

A store is open at an instant when the local wall-clock time falls in one of the periods of
that local date (or in the overnight part of the previous date's). So on the day clocks go
back an hour, a period covering 02:00-03:00 counts that hour twice (it happens twice); on the
day they go forward, the skipped hour does not exist and counts nothing. Durations are real
elapsed time.

Instants are returned in UTC (``.astimezone(calendar.tz)`` to show them): an aware datetime in
the repeated hour of a DST change compares unequal to any other zone's (PEP 495).
Everything is computed on integer microseconds since the epoch; a local date's open intervals
are computed once and cached in the calendar object, the timezone's offset transitions once a
year per zone (module cache), so thousands of due dates cost little after the first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from core.calendars.days import CalendarDay, DayResolver
from core.calendars.hours import Minutes, Schedule
from core.errors import ValidationFailed

__all__ = ["BusinessCalendar", "NeverOpen"]

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
EPOCH_ORDINAL = EPOCH.date().toordinal()
US = 1_000_000
DAY_S = 86_400
# A store that does not open within ten years is treated as never opening.
HORIZON_DAYS = 3_660
Interval = tuple[int, int]


class NeverOpen(ValidationFailed):
    """The store does not open again (no hours, or closed for longer than ten years)."""

    code = "never_open"


def _us(at: dt.datetime, field: str) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationFailed(
            "a timezone-aware datetime is required", field=field, code="naive_datetime"
        )
    return (at - EPOCH) // dt.timedelta(microseconds=1)


def _offset(tz: ZoneInfo, t: int) -> int:
    offset = dt.datetime.fromtimestamp(t, tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@lru_cache(maxsize=1024)
def _transitions(tz: ZoneInfo, year: int) -> tuple[tuple[int, int], ...]:
    """``(instant, offset after)`` of every UTC-offset change in UTC ``year`` (seconds).

    Sampled daily, then bisected to the second: real zones never change twice in a day.
    """
    start = int((dt.datetime(year, 1, 1, tzinfo=dt.UTC) - EPOCH).total_seconds())
    end = start + (366 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 365) * DAY_S
    out: list[tuple[int, int]] = []
    t, offset = start, _offset(tz, start)
    while t < end:
        n = min(t + DAY_S, end)
        following = _offset(tz, n)
        if following != offset:
            lo, hi = t, n
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(tz, mid) == offset:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, following))
            offset = following
        t = n
    return tuple(out)


def _year_of(t: int) -> int:
    return dt.date.fromordinal(EPOCH_ORDINAL + t // DAY_S).year


def _segments(tz: ZoneInfo, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """``(start, end, offset)``: [lo, hi) cut where the offset changes (seconds)."""
    out: list[tuple[int, int, int]] = []
    cursor, offset = lo, _offset(tz, lo)
    for year in range(_year_of(lo), _year_of(hi) + 1):
        for t, following in _transitions(tz, year):
            if lo < t < hi:
                out.append((cursor, t, offset))
                cursor, offset = t, following
    out.append((cursor, hi, offset))
    return out


def _merge(pieces: list[Interval]) -> list[Interval]:
    pieces.sort()
    out: list[Interval] = []
    for start, end in pieces:
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _subtract(intervals: list[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """``intervals`` minus ``holes`` (both sorted and disjoint)."""
    if not holes:
        return intervals
    out: list[Interval] = []
    j = 0
    for start, end in intervals:
        cursor = start
        while j < len(holes) and holes[j][1] <= cursor:
            j += 1
        k = j
        while k < len(holes) and holes[k][0] < end:
            if holes[k][0] > cursor:
                out.append((cursor, holes[k][0]))
            cursor = max(cursor, holes[k][1])
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


class BusinessCalendar:
    """The calendar of one store (or of a tenant, ``store_id`` None): its days (working day,
    holidays, closures) and its open hours. Build it with
    :func:`core.calendars.business_calendar`; every method is synchronous and pure.

    ``policy`` is the resolved holiday policy: ``open`` keeps the weekly hours on statutory
    holidays (or the schedule's ``holiday`` hours), ``closed`` closes on them and opens on
    make-up working days.
    """

    def __init__(
        self,
        timezone: str | ZoneInfo,
        schedule: Schedule,
        days: DayResolver,
        *,
        policy: Literal["open", "closed"],
        store_id: UUID | None = None,
    ) -> None:
        self.tz = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        self.schedule = schedule
        self.days = days
        self.policy = policy
        self.store_id = store_id
        self._pieces: dict[int, tuple[Interval, ...]] = {}

    # Days -----------------------------------------------------------------------------

    def day(self, day: dt.date) -> CalendarDay:
        """Working-day status, holiday records and closure of a local date."""
        return self.days.day(day)

    def is_workday(self, day: dt.date) -> bool:
        """A working day: not a holiday, not a weekend unless a make-up working day."""
        return self.days.day(day).workday

    def next_workday(self, day: dt.date, *, include: bool = False) -> dt.date:
        """The first working day after ``day`` (or ``day`` itself when ``include``)."""
        current = day if include else day + dt.timedelta(days=1)
        for _ in range(HORIZON_DAYS):
            if self.is_workday(current):
                return current
            current += dt.timedelta(days=1)
        raise NeverOpen("no working day within ten years", field="day")

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``day`` (``n = 0``: ``day`` if it is one, else the
        next). Revisit plans use it to land on working days."""
        if n < 0:
            raise ValidationFailed("n must not be negative", field="n", code="invalid")
        current = self.next_workday(day, include=True) if n == 0 else day
        for _ in range(n):
            current = self.next_workday(current)
        return current

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``start`` … ``end`` inclusive."""
        count, current = 0, start
        while current <= end:
            count += self.is_workday(current)
            current += dt.timedelta(days=1)
        return count

    def hours_on(self, day: dt.date) -> Minutes:
        """The periods (minutes after local midnight; an end past 1440 runs into the next day)
        that apply on ``day``: closures close, holidays follow the policy, a make-up working
        day on a weekday the store is normally closed keeps ``makeup_day``'s hours when the
        policy is ``closed``."""
        info = self.days.day(day)
        if info.closed:
            return ()
        own = self.schedule.week[day.weekday()]
        if info.holiday:
            if self.policy == "closed":
                return ()
            return self.schedule.holiday if self.schedule.holiday is not None else own
        if info.workday and info.weekend and not own and self.policy == "closed":
            return self.schedule.week[self.schedule.makeup_weekday]
        return own

    def opening_hours(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open intervals of local date ``day`` (UTC datetimes)."""
        return [(self._at(s), self._at(e)) for s, e in _merge(list(self._day_pieces(day)))]

    # Instants -------------------------------------------------------------------------

    @staticmethod
    def _at(us: int) -> dt.datetime:
        # UTC, not the store's zone: an aware datetime in the repeated hour of a DST change
        # (fold=1) compares unequal to every datetime of another zone (PEP 495).
        return EPOCH + dt.timedelta(microseconds=us)

    def _local_ordinal(self, us: int) -> int:
        """The ordinal of the local (wall-clock) date of an instant."""
        t = us // US
        return EPOCH_ORDINAL + (t + _offset(self.tz, t)) // DAY_S

    def _day_pieces(self, day: dt.date) -> tuple[Interval, ...]:
        cached = self._pieces.get(day.toordinal())
        return cached if cached is not None else self._compute_pieces(day.toordinal())

    def _compute_pieces(self, ordinal: int) -> tuple[Interval, ...]:
        """The instants whose wall-clock time falls in local date ``ordinal``'s periods."""
        pieces: list[Interval] = []
        periods = self.hours_on(dt.date.fromordinal(ordinal))
        if periods:
            base = (ordinal - EPOCH_ORDINAL) * DAY_S  # wall-clock seconds at local midnight
            # Offsets lie within -12 h … +14 h: these instants hold every wall time of the day
            # and of the night after it.
            segments = _segments(self.tz, base - 15 * 3600, base + 2 * DAY_S + 13 * 3600)
            for start, end in periods:
                a, b = base + start * 60, base + end * 60
                for t0, t1, offset in segments:
                    lo, hi = max(t0, a - offset), min(t1, b - offset)
                    if lo < hi:
                        pieces.append((lo * US, hi * US))
        result = tuple(pieces)
        self._pieces[ordinal] = result
        return result

    def _open(self, lo: int, hi: int) -> list[Interval]:
        """Merged open intervals clipped to [lo, hi) (microseconds)."""
        # A date's pieces have wall-clock times in [date, date + 2 days): the dates from two
        # before lo's (one more for a clock turned back over midnight) to hi's hold them all.
        get, compute = self._pieces.get, self._compute_pieces
        pieces: list[Interval] = []
        for ordinal in range(self._local_ordinal(lo) - 2, self._local_ordinal(hi) + 1):
            found = get(ordinal)
            pieces.extend(found if found is not None else compute(ordinal))
        pieces.sort()
        out: list[Interval] = []
        for start, end in pieces:
            # Clipping each piece, then merging, is the clipped union.
            if end <= lo or start >= hi:
                continue
            if start < lo:
                start = lo
            if end > hi:
                end = hi
            if out and start <= out[-1][1]:
                if end > out[-1][1]:
                    out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        return out

    def _windows(self, t: int) -> Iterator[tuple[int, int]]:
        """[t, …) in windows of 2, 4, 8 … 32 days up to the ten-year horizon: a due date a
        day or two away costs a short scan, a long closure a few long ones."""
        days, end = 2, t + HORIZON_DAYS * DAY_S * US
        while t < end:
            hi = min(t + days * DAY_S * US, end)
            yield t, hi
            t, days = hi, min(days * 2, 32)

    @staticmethod
    def _holes(pauses: Iterable[tuple[dt.datetime, dt.datetime]]) -> list[Interval]:
        holes = [(_us(a, "pauses"), _us(b, "pauses")) for a, b in pauses]
        return _merge([h for h in holes if h[0] < h[1]])

    def is_open(self, at: dt.datetime) -> bool:
        """Whether the store is open at instant ``at``."""
        t = _us(at, "at")
        # Only the pieces of the local date and the one before can hold an instant.
        local = self._local_ordinal(t)
        for ordinal in (local - 1, local):
            found = self._pieces.get(ordinal)
            if found is None:
                found = self._compute_pieces(ordinal)
            if any(s <= t < e for s, e in found):
                return True
        return False

    def next_open(self, at: dt.datetime) -> dt.datetime | None:
        """``at`` when open then, else the next opening; ``None`` if it never opens again."""
        t = _us(at, "at")
        if self.schedule.never_open:
            return None
        for lo, hi in self._windows(t):
            found = self._open(lo, hi)
            if found:
                return self._at(found[0][0])
        return None

    def add(
        self,
        start: dt.datetime,
        duration: dt.timedelta,
        pauses: Iterable[tuple[dt.datetime, dt.datetime]] = (),
    ) -> dt.datetime:
        """The earliest instant by which ``duration`` of business time has passed since
        ``start`` (skipping closed hours and the ``pauses`` intervals): an SLA's due time.

        Raises :class:`NeverOpen` when the store does not open long enough within ten years.
        """
        t = _us(start, "start")
        remaining = duration // dt.timedelta(microseconds=1)
        if remaining < 0:
            raise ValidationFailed("duration must not be negative", field="duration")
        if remaining == 0:
            return self._at(t)
        if self.schedule.never_open:
            raise NeverOpen("the store has no opening hours", field="business_hours")
        holes = self._holes(pauses)
        for lo, hi in self._windows(t):
            for a, b in _subtract(self._open(lo, hi), holes):
                if b - a >= remaining:
                    return self._at(a + remaining)
                remaining -= b - a
        raise NeverOpen("the store does not open within ten years", field="business_hours")

    def elapsed(
        self,
        start: dt.datetime,
        end: dt.datetime,
        pauses: Iterable[tuple[dt.datetime, dt.datetime]] = (),
    ) -> dt.timedelta:
        """Business time between ``start`` and ``end``, minus the ``pauses`` intervals (e.g.
        while a complaint waits for the customer). Zero when ``end`` is not after ``start``."""
        lo, hi = _us(start, "start"), _us(end, "end")
        if hi <= lo:
            return dt.timedelta(0)
        total = sum(b - a for a, b in _subtract(self._open(lo, hi), self._holes(pauses)))
        return dt.timedelta(microseconds=total)

    def intervals(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open intervals between two instants, clipped (UTC datetimes)."""
        lo, hi = _us(start, "start"), _us(end, "end")
        if (hi - lo) > 400 * DAY_S * US:
            raise ValidationFailed("at most 400 days at once", field="end", code="too_long")
        return [(self._at(a), self._at(b)) for a, b in self._open(lo, hi)] if hi > lo else []
