"""Working days and holidays: which days are off, and who says so.

Layers, lowest first; a higher one decides:

1. **official**: mainland China's schedule from ``chinese-calendar`` (2004 … its last year);
2. **loaded**: a year's schedule the platform operator loaded (replaces 1 for that year);
3. **estimated**: a year neither covers: weekends, plus the statutory days the law fixes
   (全国年节及纪念日放假办法 as amended in 2024: 元旦, 除夕 + 春节 初一…初三, 清明, 5/1-5/2, 端午,
   中秋, 10/1-10/3), without make-up working days (nobody knows them yet);
4. **override** (platform): a day the operator changes for every tenant;
5. **override** (tenant, then store): a day off, a working day, a local holiday; closures
   close a store without changing whether the day is a working day.

Within one tenant level the override set last wins. Nothing here raises for a year without
data: such a day is ``source = "estimated"``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal
from uuid import UUID

from core.calendars.lunar import MAX_YEAR, MIN_YEAR, from_lunar, lunar_year_end, solar_term_date

__all__ = [
    "CalendarDay",
    "DayResolver",
    "HolidayRecord",
    "OverrideRecord",
    "PlatformDay",
    "PlatformSnapshot",
    "official_years",
]

Source = Literal["official", "loaded", "estimated", "override", "weekly"]
Kind = Literal["statutory", "makeup_workday", "override", "local", "closure"]
OverrideKind = Literal["day_off", "workday", "local", "closure"]


@dataclass(frozen=True, slots=True)
class HolidayRecord:
    """Something that applies to a day: a statutory holiday, a make-up working day (调休),
    an override, a local holiday, a closure. ``workday`` is what it makes of the day."""

    date: dt.date
    code: str
    name_zh: str
    name_en: str
    kind: Kind
    source: Source
    workday: bool
    store_id: UUID | None = None
    override_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One date of a tenant's (or store's) calendar.

    ``workday``: a working day (not a holiday, not a weekend unless made a working day).
    ``source``: who decided ``workday`` (``official``, ``loaded``, ``estimated`` — the year has
    no data —, ``override``, or ``weekly`` for a tenant without holiday data by choice).
    ``closed``: the store is closed that day (a closure), whatever its hours.
    """

    date: dt.date
    workday: bool
    source: Source
    records: tuple[HolidayRecord, ...] = ()
    closed: bool = False

    @property
    def weekend(self) -> bool:
        return self.date.weekday() >= 5

    @property
    def holiday(self) -> bool:
        """A day off that is not just a weekend: a statutory or local holiday, a day off."""
        return not self.workday and any(not r.workday and r.kind != "closure" for r in self.records)

    @property
    def makeup_workday(self) -> bool:
        """A weekend day made a working day (调休上班)."""
        return self.workday and self.weekend


@dataclass(frozen=True, slots=True)
class PlatformDay:
    """A row of ``calendar_platform_day``."""

    day: dt.date
    layer: Literal["loaded", "override"]
    workday: bool
    kind: str
    name_zh: str
    name_en: str
    region: str = "CN"


@dataclass(frozen=True, slots=True)
class OverrideRecord:
    """A tenant override (a row of ``calendar_override``) as the resolver needs it."""

    id: UUID
    kind: OverrideKind
    start_date: dt.date
    end_date: dt.date
    store_id: UUID | None = None
    name_zh: str = ""
    name_en: str = ""
    updated_at: dt.datetime = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class PlatformSnapshot:
    """Every platform row, indexed; built by the service and shared while fresh."""

    days: tuple[PlatformDay, ...] = ()
    loaded: dict[tuple[str, int], dict[dt.date, PlatformDay]] = field(default_factory=dict)
    overrides: dict[tuple[str, dt.date], PlatformDay] = field(default_factory=dict)
    _years: dict[tuple[str, int], dict[dt.date, CalendarDay]] = field(default_factory=dict)

    @classmethod
    def of(cls, days: Iterable[PlatformDay]) -> PlatformSnapshot:
        rows = tuple(days)
        snap = cls(days=rows)
        for d in rows:
            if d.layer == "loaded":
                snap.loaded.setdefault((d.region, d.day.year), {})[d.day] = d
            else:
                snap.overrides[(d.region, d.day)] = d
        return snap

    def year(self, region: str, year: int) -> dict[dt.date, CalendarDay]:
        """The platform's days of ``year`` that differ from a plain week (cached)."""
        key = (region, year)
        cached = self._years.get(key)
        if cached is None:
            cached = dict(_base_year(region, year, self.loaded.get(key)))
            for (r, day), row in self.overrides.items():
                if r == region and day.year == year:
                    cached[day] = _apply_platform_override(cached.get(day), day, row)
            self._years[key] = cached
        return cached

    def source(self, region: str, year: int) -> Source:
        if region == "none":
            return "weekly"
        if (region, year) in self.loaded:
            return "loaded"
        return "official" if year in official_years() else "estimated"


# chinese-calendar's holiday names (its Holiday enum values) → code, zh-CN, en.
_NAMES: dict[str, tuple[str, str, str]] = {
    "New Year's Day": ("new_year", "元旦", "New Year's Day"),
    "Spring Festival": ("spring_festival", "春节", "Spring Festival"),
    "Tomb-sweeping Day": ("qingming", "清明节", "Qingming Festival"),
    "Labour Day": ("labour_day", "劳动节", "Labour Day"),
    "Dragon Boat Festival": ("dragon_boat", "端午节", "Dragon Boat Festival"),
    "National Day": ("national_day", "国庆节", "National Day"),
    "Mid-autumn Festival": ("mid_autumn", "中秋节", "Mid-Autumn Festival"),
    "Anti-Fascist 70th Day": (
        "victory_day_70th",
        "抗战胜利70周年纪念日",
        "70th Anniversary of the Victory of the War of Resistance",
    ),
}


@lru_cache(maxsize=1)
def official_years() -> range:
    """The years ``chinese-calendar`` holds official schedules for (2004 … 2026 in 1.11.0)."""
    import chinese_calendar

    days = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return range(min(days).year, max(days).year + 1)


def _names(english: str) -> tuple[str, str, str]:
    import chinese_calendar

    if english in _NAMES:
        return _NAMES[english]
    holiday = chinese_calendar.Holiday(english)  # a name added by a newer release
    return (holiday.name, holiday.chinese, english)


@lru_cache(maxsize=64)
def _official_year(year: int) -> dict[dt.date, CalendarDay]:
    import chinese_calendar

    out: dict[dt.date, CalendarDay] = {}
    for table, workday in ((chinese_calendar.holidays, False), (chinese_calendar.workdays, True)):
        for day, english in table.items():
            if day.year != year:
                continue
            code, zh, en = _names(english)
            kind: Kind = "makeup_workday" if workday else "statutory"
            record = HolidayRecord(day, code, zh, en, kind, "official", workday)
            out[day] = CalendarDay(day, workday, "official", (record,))
    return out


def _statutory_by_law(year: int) -> list[tuple[dt.date, str, str, str]]:
    """The days the law gives off in ``year`` (the 2024 amendment's 13 days)."""
    out = [(dt.date(year, 1, 1), *_NAMES["New Year's Day"])]
    if MIN_YEAR < year <= MAX_YEAR:
        eve = lunar_year_end(year - 1)
        spring = [eve + dt.timedelta(days=i) for i in range(4)]
        out += [(d, *_NAMES["Spring Festival"]) for d in spring if d.year == year]
        out.append((solar_term_date(year, "清明"), *_NAMES["Tomb-sweeping Day"]))
        out.append((from_lunar(year, 5, 5), *_NAMES["Dragon Boat Festival"]))
        out.append((from_lunar(year, 8, 15), *_NAMES["Mid-autumn Festival"]))
    out += [(dt.date(year, 5, d), *_NAMES["Labour Day"]) for d in (1, 2)]
    out += [(dt.date(year, 10, d), *_NAMES["National Day"]) for d in (1, 2, 3)]
    return out


@lru_cache(maxsize=64)
def _estimated_year(year: int) -> dict[dt.date, CalendarDay]:
    out: dict[dt.date, CalendarDay] = {}
    for day, code, zh, en in _statutory_by_law(year):
        record = HolidayRecord(day, code, zh, en, "statutory", "estimated", False)
        out[day] = CalendarDay(day, False, "estimated", (record,))
    return out


def _loaded_year(rows: dict[dt.date, PlatformDay]) -> dict[dt.date, CalendarDay]:
    out: dict[dt.date, CalendarDay] = {}
    for day, row in rows.items():
        kind: Kind = "makeup_workday" if row.workday else "statutory"
        record = HolidayRecord(day, row.kind, row.name_zh, row.name_en, kind, "loaded", row.workday)
        out[day] = CalendarDay(day, row.workday, "loaded", (record,))
    return out


def _base_year(
    region: str, year: int, loaded: dict[dt.date, PlatformDay] | None
) -> dict[dt.date, CalendarDay]:
    if region == "none":
        return {}
    if loaded is not None:
        return _loaded_year(loaded)
    if year in official_years():
        return _official_year(year)
    return _estimated_year(year)


def _apply_platform_override(
    current: CalendarDay | None, day: dt.date, row: PlatformDay
) -> CalendarDay:
    record = HolidayRecord(
        day, row.kind, row.name_zh, row.name_en, "override", "override", row.workday
    )
    kept = current.records if current else ()
    return CalendarDay(day, row.workday, "override", (*kept, record))


class DayResolver:
    """Every layer for one tenant (and optionally one store); :meth:`day` for any date of
    years 1 … 9999, computed a year at a time and cached in the object."""

    def __init__(
        self,
        region: str,
        platform: PlatformSnapshot,
        overrides: Iterable[OverrideRecord] = (),
        store_id: UUID | None = None,
    ) -> None:
        self.region = region
        self.platform = platform
        self.store_id = store_id
        # Tenant-wide overrides first, then the store's; each in the order they were set, so
        # that the last applied (and so the one deciding) is the most specific, latest one.
        relevant = [o for o in overrides if o.store_id is None or o.store_id == store_id]
        relevant.sort(key=lambda o: (o.store_id is not None, o.updated_at, str(o.id)))
        self.overrides = tuple(relevant)
        self._years: dict[int, dict[dt.date, CalendarDay]] = {}

    def _year(self, year: int) -> dict[dt.date, CalendarDay]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        cached = dict(self.platform.year(self.region, year))
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        for o in self.overrides:
            if o.end_date < start or o.start_date > end:
                continue
            day = max(o.start_date, start)
            last = min(o.end_date, end)
            while True:
                cached[day] = self._apply(cached.get(day) or self._plain(day), o, day)
                if day >= last:
                    break
                day += dt.timedelta(days=1)
        self._years[year] = cached
        return cached

    def _plain(self, day: dt.date) -> CalendarDay:
        return CalendarDay(day, day.weekday() < 5, self.platform.source(self.region, day.year))

    @staticmethod
    def _apply(current: CalendarDay, o: OverrideRecord, day: dt.date) -> CalendarDay:
        kind: Kind = "override"
        if o.kind == "local":
            kind = "local"
        elif o.kind == "closure":
            kind = "closure"
        workday = current.workday if o.kind == "closure" else o.kind == "workday"
        record = HolidayRecord(
            day,
            o.kind,
            o.name_zh,
            o.name_en,
            kind,
            "override",
            workday,
            store_id=o.store_id,
            override_id=o.id,
        )
        if o.kind == "closure":
            return CalendarDay(
                day, current.workday, current.source, (*current.records, record), True
            )
        return CalendarDay(day, workday, "override", (*current.records, record), current.closed)

    def day(self, day: dt.date) -> CalendarDay:
        """The calendar day of ``day``."""
        found = self._year(day.year).get(day)
        return found if found is not None else self._plain(day)

    def is_workday(self, day: dt.date) -> bool:
        return self.day(day).workday
