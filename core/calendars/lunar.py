"""The Chinese lunisolar calendar (农历): conversion both ways, leap months, labels, solar terms.

Backed by ``tyme4py`` (6tail's successor to ``lunar-python``), asked once per lunar year for
its months (first day, length, leap flag) and cached: a conversion is then a bisect, not a
library call (tyme4py takes ~1.7 ms per direct conversion, the table ~1 µs).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.errors import ValidationFailed

__all__ = [
    "SOLAR_TERMS",
    "LunarDate",
    "from_lunar",
    "leap_month",
    "lunar_month_days",
    "lunar_year_end",
    "solar_term_date",
    "to_lunar",
]

MIN_YEAR = 2
MAX_YEAR = 9998
MONTH_NAMES = (
    "正月",
    "二月",
    "三月",
    "四月",
    "五月",
    "六月",
    "七月",
    "八月",
    "九月",
    "十月",
    "冬月",
    "腊月",
)
_TENS = ("初", "十", "廿", "三")
_UNITS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")
# The 24 solar terms (节气) in tyme4py's order (冬至 first).
SOLAR_TERMS = (
    "冬至",
    "小寒",
    "大寒",
    "立春",
    "雨水",
    "惊蛰",
    "春分",
    "清明",
    "谷雨",
    "立夏",
    "小满",
    "芒种",
    "夏至",
    "小暑",
    "大暑",
    "立秋",
    "处暑",
    "白露",
    "秋分",
    "寒露",
    "霜降",
    "立冬",
    "小雪",
    "大雪",
)


def day_label(day: int) -> str:
    """初一 … 初十, 十一 … 十九, 二十, 廿一 … 廿九, 三十."""
    if day == 10:
        return "初十"
    if day == 20:
        return "二十"
    if day == 30:
        return "三十"
    return _TENS[(day - 1) // 10] + _UNITS[(day - 1) % 10]


@dataclass(frozen=True, slots=True)
class LunarDate:
    """A lunar date: ``year`` is the lunar year (it starts at 春节), ``leap`` marks 闰月."""

    year: int
    month: int
    day: int
    leap: bool = False

    @property
    def month_label(self) -> str:
        """``正月`` … ``冬月``, ``腊月``; ``闰四月`` for a leap month."""
        return ("闰" if self.leap else "") + MONTH_NAMES[self.month - 1]

    @property
    def label(self) -> str:
        """``正月初一``, ``闰四月十五``, ``腊月三十``."""
        return self.month_label + day_label(self.day)

    def to_solar(self) -> dt.date:
        """The Gregorian date of this lunar date."""
        return from_lunar(self.year, self.month, self.day, leap=self.leap)


@dataclass(frozen=True, slots=True)
class _Month:
    month: int
    leap: bool
    first: int  # proleptic Gregorian ordinal of day 1
    days: int


@dataclass(frozen=True, slots=True)
class _Year:
    year: int
    months: tuple[_Month, ...]
    firsts: tuple[int, ...]
    leap_month: int | None

    @property
    def first(self) -> int:
        return self.firsts[0]

    @property
    def end(self) -> int:
        """Ordinal of the year's last day (除夕)."""
        last = self.months[-1]
        return last.first + last.days - 1


def _ordinal(solar_day: Any) -> int:
    """A tyme4py ``SolarDay`` as a proleptic Gregorian ordinal."""
    return dt.date(solar_day.get_year(), solar_day.get_month(), solar_day.get_day()).toordinal()


@lru_cache(maxsize=512)
def _year(year: int) -> _Year:
    from tyme4py.lunar import LunarYear

    months = tuple(
        _Month(
            month=m.get_month(),
            leap=m.is_leap(),
            first=_ordinal(m.get_first_julian_day().get_solar_day()),
            days=m.get_day_count(),
        )
        for m in LunarYear.from_year(year).get_months()
    )
    leap = next((m.month for m in months if m.leap), None)
    return _Year(year, months, tuple(m.first for m in months), leap)


def _check_year(year: int, field: str = "year") -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(
            f"lunar year must be between {MIN_YEAR} and {MAX_YEAR}",
            field=field,
            code="out_of_range",
        )


def to_lunar(day: dt.date) -> LunarDate:
    """The lunar date of a Gregorian date (years 3 … 9998; outside: :class:`ValidationFailed`).

    Example: ``to_lunar(date(2026, 2, 16))`` is ``LunarDate(2025, 12, 29)``, ``腊月廿九``.
    """
    if not MIN_YEAR < day.year <= MAX_YEAR:
        raise ValidationFailed(
            "date outside the supported lunar calendar range", field="date", code="out_of_range"
        )
    ordinal = day.toordinal()
    table = _year(day.year)
    if ordinal < table.first:
        table = _year(day.year - 1)
    month = table.months[bisect_right(table.firsts, ordinal) - 1]
    return LunarDate(table.year, month.month, ordinal - month.first + 1, month.leap)


def _month(year: int, month: int, leap: bool) -> _Month:
    _check_year(year)
    if not 1 <= month <= 12:
        raise ValidationFailed("lunar month must be 1 … 12", field="month", code="out_of_range")
    for m in _year(year).months:
        if m.month == month and m.leap == leap:
            return m
    raise ValidationFailed(
        f"lunar year {year} has no leap month {month}", field="leap", code="no_leap_month"
    )


def from_lunar(year: int, month: int, day: int, *, leap: bool = False) -> dt.date:
    """The Gregorian date of a lunar date. A day or leap month the year does not have is a
    :class:`ValidationFailed` (``field`` = ``day`` or ``leap``).

    Example: ``from_lunar(2025, 6, 15, leap=True)`` (闰六月十五) is 8 August 2025.
    """
    m = _month(year, month, leap)
    if not 1 <= day <= m.days:
        raise ValidationFailed(
            f"{LunarDate(year, month, 1, leap).month_label} of {year} has {m.days} days",
            field="day",
            code="out_of_range",
        )
    return dt.date.fromordinal(m.first + day - 1)


def lunar_month_days(year: int, month: int, *, leap: bool = False) -> int:
    """29 or 30: the length of a lunar month."""
    return _month(year, month, leap).days


def leap_month(year: int) -> int | None:
    """The leap month (闰月) of a lunar year, or ``None``."""
    _check_year(year)
    return _year(year).leap_month


def lunar_year_end(year: int) -> dt.date:
    """除夕: the last day of lunar year ``year`` (腊月廿九 or 腊月三十), in Gregorian ``year + 1``
    (除夕 of lunar year 2025 is 16 February 2026)."""
    _check_year(year)
    return dt.date.fromordinal(_year(year).end)


@lru_cache(maxsize=4096)
def solar_term_date(year: int, name: str) -> dt.date:
    """The day in Gregorian ``year`` of a solar term (``清明`` → 5 April 2026), in China
    Standard Time as the almanac counts it."""
    from tyme4py.solar import SolarTerm

    if name not in SOLAR_TERMS:
        raise ValidationFailed(f"unknown solar term {name!r}", field="term", code="invalid")
    _check_year(year)
    # tyme4py numbers the terms from 冬至 of the previous December: 冬至 of "year" may be the
    # previous year's; the term in December of ``year`` is then next year's first.
    for y in (year, year + 1):
        day = SolarTerm.from_name(y, name).get_julian_day().get_solar_day()
        if day.get_year() == year:
            return dt.date(day.get_year(), day.get_month(), day.get_day())
    raise ValidationFailed(
        f"no {name} in {year}", field="term", code="out_of_range"
    )  # pragma: no cover - every term occurs once a year
