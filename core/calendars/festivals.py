"""Festivals (节日): the built-in ones and a tenant's own, as rules evaluated per year.

A rule is one of: a fixed yearly date, a day of every month, a lunar date, the n-th weekday of
a month, a solar term, or the last day of the lunar year (除夕). Rules are msgspec structs
tagged by ``kind``, so a tenant's rule is stored and accepted as JSON, e.g.
``{"kind": "monthly", "day": 18}`` (会员日) or ``{"kind": "lunar", "month": 8, "day": 15}``.

A day a month does not have is that month's last day: ``monthly`` 31 is the month's end,
``fixed`` 29 February is the 28th in common years, ``lunar`` 30 is the 29th in a short month.
Lunar rules fall in the regular (not the leap) month of that number.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from core.calendars.lunar import (
    MAX_YEAR,
    MIN_YEAR,
    SOLAR_TERMS,
    from_lunar,
    lunar_month_days,
    lunar_year_end,
    solar_term_date,
)
from core.errors import ValidationFailed

__all__ = [
    "BUILTIN_FESTIVALS",
    "Festival",
    "FestivalCalendar",
    "FestivalOccurrence",
    "FestivalRule",
    "Fixed",
    "LunarRule",
    "LunarYearEnd",
    "Monthly",
    "NthWeekday",
    "SolarTermRule",
]

Month = Annotated[int, Meta(ge=1, le=12)]
MonthDay = Annotated[int, Meta(ge=1, le=31)]
LunarDay = Annotated[int, Meta(ge=1, le=30)]
# The longest span asked of a festival calendar at once: a century of days.
MAX_SPAN_DAYS = 36_600


class Fixed(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="fixed", tag_field="kind"):
    """Every year on ``month``/``day`` (元旦 1/1, a store anniversary)."""

    month: Month
    day: MonthDay

    def __post_init__(self) -> None:
        if self.day > _cal.monthrange(2024, self.month)[1]:
            raise ValueError(f"month {self.month} has no day {self.day}")


class Monthly(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="monthly", tag_field="kind"
):
    """Every month on ``day`` (会员日 on the 18th)."""

    day: MonthDay


class LunarRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="lunar", tag_field="kind"
):
    """Every lunar year on lunar ``month``/``day`` (中秋 8/15)."""

    month: Month
    day: LunarDay


class NthWeekday(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="nth_weekday", tag_field="kind"
):
    """The ``n``-th ``weekday`` (1 = Monday … 7 = Sunday, ISO) of ``month``; ``n = -1`` is the
    last one (母亲节: the 2nd Sunday of May)."""

    month: Month
    weekday: Annotated[int, Meta(ge=1, le=7)]
    n: Annotated[int, Meta(ge=-1, le=5)]

    def __post_init__(self) -> None:
        if self.n == 0:
            raise ValueError("n must be 1 … 5 or -1 (the last)")


class SolarTermRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="solar_term", tag_field="kind"
):
    """The day of a solar term (清明, 冬至 …)."""

    term: str

    def __post_init__(self) -> None:
        if self.term not in SOLAR_TERMS:
            raise ValueError(f"term must be one of {', '.join(SOLAR_TERMS)}")


class LunarYearEnd(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="lunar_year_end", tag_field="kind"
):
    """The last day of the lunar year (除夕: 腊月廿九 or 腊月三十)."""


FestivalRule = Fixed | Monthly | LunarRule | NthWeekday | SolarTermRule | LunarYearEnd


@dataclass(frozen=True, slots=True)
class Festival:
    """A festival: a stable ``code``, names, a rule; a tenant's may be limited to one store
    and to a validity span (``valid_from``/``valid_until`` inclusive)."""

    code: str
    name_zh: str
    name_en: str
    rule: FestivalRule
    builtin: bool = True
    id: UUID | None = None
    store_id: UUID | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


@dataclass(frozen=True, slots=True)
class FestivalOccurrence:
    """A festival falling on ``date``."""

    code: str
    name_zh: str
    name_en: str
    date: dt.date
    builtin: bool = True
    store_id: UUID | None = None


BUILTIN_FESTIVALS: tuple[Festival, ...] = (
    Festival("new_year", "元旦", "New Year's Day", Fixed(1, 1)),
    Festival("valentines_day", "情人节", "Valentine's Day", Fixed(2, 14)),
    Festival("womens_day", "妇女节", "International Women's Day", Fixed(3, 8)),
    Festival("labour_day", "劳动节", "Labour Day", Fixed(5, 1)),
    Festival("childrens_day", "儿童节", "Children's Day", Fixed(6, 1)),
    Festival("national_day", "国庆节", "National Day", Fixed(10, 1)),
    Festival("mothers_day", "母亲节", "Mother's Day", NthWeekday(5, 7, 2)),
    Festival("fathers_day", "父亲节", "Father's Day", NthWeekday(6, 7, 3)),
    Festival("qingming", "清明节", "Qingming Festival", SolarTermRule("清明")),
    Festival("spring_festival", "春节", "Spring Festival", LunarRule(1, 1)),
    Festival("lantern_festival", "元宵节", "Lantern Festival", LunarRule(1, 15)),
    Festival("dragon_boat", "端午节", "Dragon Boat Festival", LunarRule(5, 5)),
    Festival("qixi", "七夕", "Qixi Festival", LunarRule(7, 7)),
    Festival("mid_autumn", "中秋节", "Mid-Autumn Festival", LunarRule(8, 15)),
    Festival("double_ninth", "重阳节", "Double Ninth Festival", LunarRule(9, 9)),
    Festival("laba", "腊八节", "Laba Festival", LunarRule(12, 8)),
    Festival("new_years_eve", "除夕", "Chinese New Year's Eve", LunarYearEnd()),
)
BUILTIN_CODES = frozenset(f.code for f in BUILTIN_FESTIVALS)


def _clamp(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, _cal.monthrange(year, month)[1]))


def _lunar(year: int, month: int, day: int) -> dt.date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    return from_lunar(year, month, min(day, lunar_month_days(year, month)))


def rule_dates(rule: FestivalRule, year: int) -> list[dt.date]:
    """Every date of Gregorian ``year`` the rule falls on (sorted). Never raises for a year the
    lunar tables do not cover: those give no lunar dates."""
    if isinstance(rule, Fixed):
        return [_clamp(year, rule.month, rule.day)]
    if isinstance(rule, Monthly):
        return [_clamp(year, m, rule.day) for m in range(1, 13)]
    if isinstance(rule, NthWeekday):
        weeks = _cal.Calendar().monthdatescalendar(year, rule.month)
        days = [d for w in weeks for d in w if d.month == rule.month]
        matching = [d for d in days if d.isoweekday() == rule.weekday]
        if rule.n == -1:
            return [matching[-1]]
        return [matching[rule.n - 1]] if rule.n <= len(matching) else []
    if isinstance(rule, SolarTermRule):
        if not MIN_YEAR <= year <= MAX_YEAR:
            return []
        return [solar_term_date(year, rule.term)]
    # A Gregorian year holds the end of the previous lunar year and most of this one.
    out: list[dt.date] = []
    for lunar_year in (year - 1, year):
        if not MIN_YEAR <= lunar_year <= MAX_YEAR:
            continue
        if isinstance(rule, LunarYearEnd):
            day: dt.date | None = lunar_year_end(lunar_year)
        else:
            day = _lunar(lunar_year, rule.month, rule.day)
        if day is not None and day.year == year:
            out.append(day)
    return sorted(out)


@lru_cache(maxsize=256)
def _builtin_year(year: int) -> dict[dt.date, tuple[FestivalOccurrence, ...]]:
    return _index(BUILTIN_FESTIVALS, year)


def _index(
    festivals: Iterable[Festival], year: int
) -> dict[dt.date, tuple[FestivalOccurrence, ...]]:
    out: dict[dt.date, list[FestivalOccurrence]] = {}
    for f in festivals:
        for day in rule_dates(f.rule, year):
            if (f.valid_from and day < f.valid_from) or (f.valid_until and day > f.valid_until):
                continue
            occurrence = FestivalOccurrence(
                f.code, f.name_zh, f.name_en, day, f.builtin, f.store_id
            )
            out.setdefault(day, []).append(occurrence)
    return {d: tuple(v) for d, v in out.items()}


class FestivalCalendar:
    """The built-in festivals plus a tenant's own (for one store, or tenant-wide), evaluated
    per year once and cached in the object. Build it with
    :func:`core.calendars.festival_calendar` (or directly from :class:`Festival` records)."""

    def __init__(self, festivals: Iterable[Festival] = ()) -> None:
        self.custom = tuple(festivals)
        self.codes = {f.code: f for f in (*BUILTIN_FESTIVALS, *self.custom)}
        self._years: dict[int, dict[dt.date, tuple[FestivalOccurrence, ...]]] = {}

    def _year(self, year: int) -> dict[dt.date, tuple[FestivalOccurrence, ...]]:
        cached = self._years.get(year)
        if cached is None:
            cached = dict(_builtin_year(year))
            for day, extra in _index(self.custom, year).items():
                cached[day] = cached.get(day, ()) + extra
            self._years[year] = cached
        return cached

    def on(self, day: dt.date) -> list[FestivalOccurrence]:
        """The festivals falling on ``day`` (built-in first, in their order)."""
        return list(self._year(day.year).get(day, ()))

    def between(
        self, start: dt.date, end: dt.date, codes: Iterable[str] | None = None
    ) -> list[FestivalOccurrence]:
        """Occurrences on ``start`` … ``end`` (inclusive), by date; only ``codes`` if given."""
        if end < start:
            raise ValidationFailed("end is before start", field="end", code="invalid")
        if (end - start).days > MAX_SPAN_DAYS:
            raise ValidationFailed("at most a century at once", field="end", code="too_long")
        wanted = set(codes) if codes is not None else None
        if wanted is not None and (unknown := wanted - set(self.codes)):
            raise ValidationFailed(
                f"unknown festival {sorted(unknown)[0]!r}", field="code", code="not_found"
            )
        out: list[FestivalOccurrence] = []
        for year in range(start.year, end.year + 1):
            for day, occurrences in sorted(self._year(year).items()):
                if start <= day <= end:
                    out.extend(o for o in occurrences if wanted is None or o.code in wanted)
        return out

    def occurrences(self, code: str, start: dt.date, end: dt.date) -> list[dt.date]:
        """The dates of festival ``code`` on ``start`` … ``end``."""
        return [o.date for o in self.between(start, end, [code])]

    def next(self, code: str, on_or_after: dt.date) -> dt.date | None:
        """The first date of ``code`` on or after ``on_or_after`` (within 10 years)."""
        end = min(on_or_after + dt.timedelta(days=3660), dt.date.max)
        found = self.occurrences(code, on_or_after, end)
        return found[0] if found else None


def parse_rule(raw: object) -> FestivalRule:
    """A rule from JSON-like input; :class:`ValidationFailed` on ``rule`` otherwise."""
    from core.validation import convert

    try:
        # A union of structs is a valid msgspec target but not a class, as convert's type says.
        return convert(raw, FestivalRule)  # type: ignore[arg-type]
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.message, field="rule" + (f".{exc.field}" if exc.field else ""), code=exc.code
        ) from None


def rule_json(rule: FestivalRule) -> dict[str, object]:
    """The stored form of a rule (``{"kind": …, …}``)."""
    out: dict[str, object] = msgspec.to_builtins(rule)
    return out
