"""Recurring personal dates: a customer's next birthday, solar or lunar (农历生日).

``birthday`` is always the Gregorian date of birth; ``calendar`` says which calendar the
customer keeps it by. A lunar birthday recurs on the same lunar month and day: a 30th in a
29-day month falls on the 29th; a birthday in a leap month (闰月) falls in the regular month of
that number, or — when the tenant's ``lunar_leap_birthday`` is ``leap`` — in the leap month in
the years that have it. A 29 February birthday falls on 28 February or 1 March in common
years (``leap_day_birthday``).
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from typing import Literal

from core.calendars.lunar import (
    MAX_YEAR,
    MIN_YEAR,
    LunarDate,
    from_lunar,
    leap_month,
    lunar_month_days,
)
from core.calendars.lunar import to_lunar as _to_lunar
from core.context import CalendarPolicy
from core.errors import ValidationFailed

__all__ = ["birth_dates_celebrated_on", "birthday_in_year", "is_birthday", "next_birthday"]

BirthdayCalendar = Literal["solar", "lunar"]
_DEFAULT = CalendarPolicy()


def _solar(birthday: dt.date, year: int, policy: CalendarPolicy) -> dt.date:
    if (birthday.month, birthday.day) == (2, 29) and not _cal.isleap(year):
        return dt.date(year, 3, 1) if policy.leap_day_birthday == "mar1" else dt.date(year, 2, 28)
    return birthday.replace(year=year)


def _lunar(born: LunarDate, lunar_year: int, policy: CalendarPolicy) -> dt.date | None:
    if not MIN_YEAR <= lunar_year <= MAX_YEAR:
        return None
    leap = (
        born.leap and policy.lunar_leap_birthday == "leap" and leap_month(lunar_year) == born.month
    )
    day = min(born.day, lunar_month_days(lunar_year, born.month, leap=leap))
    return from_lunar(lunar_year, born.month, day, leap=leap)


def birthday_in_year(
    birthday: dt.date,
    year: int,
    *,
    calendar: BirthdayCalendar = "solar",
    policy: CalendarPolicy = _DEFAULT,
) -> dt.date | None:
    """The birthday in ``year`` (a Gregorian year for ``solar``, a lunar year for ``lunar``);
    ``None`` outside the lunar tables."""
    if calendar == "lunar":
        return _lunar(_to_lunar(birthday), year, policy)
    return _solar(birthday, year, policy)


def next_birthday(
    birthday: dt.date,
    *,
    on_or_after: dt.date,
    calendar: BirthdayCalendar = "solar",
    policy: CalendarPolicy = _DEFAULT,
) -> dt.date | None:
    """The first birthday on or after ``on_or_after`` (the day of birth itself counts when it
    is later): what campaigns and loyalty ask. Pass ``policy=tenant.calendar``.

    ``None`` only when the lunar tables end first (after the year 9998).
    """
    since = max(on_or_after, birthday)
    if calendar == "solar":
        for year in (since.year, since.year + 1):
            if year > dt.MAXYEAR:
                return None
            day = _solar(birthday, year, policy)
            if day >= since:
                return day
        return None  # pragma: no cover - the next year always has one
    # A lunar year straddles two Gregorian years: the previous lunar year's birthday may still
    # lie ahead in January, this one's may already have passed.
    born = _to_lunar(birthday)
    for lunar_year in (since.year - 1, since.year, since.year + 1):
        found = _lunar(born, lunar_year, policy)
        if found is not None and found >= since:
            return found
    return None


def is_birthday(
    birthday: dt.date,
    day: dt.date,
    *,
    calendar: BirthdayCalendar = "solar",
    policy: CalendarPolicy = _DEFAULT,
) -> bool:
    """Whether ``day`` is a birthday (not the day of birth itself)."""
    if day <= birthday:
        return False
    return next_birthday(birthday, on_or_after=day, calendar=calendar, policy=policy) == day


EARLIEST_BIRTH = dt.date(1900, 1, 1)  # what customer validation accepts


def birth_dates_celebrated_on(
    day: dt.date, *, calendar: BirthdayCalendar = "solar", policy: CalendarPolicy = _DEFAULT
) -> list[dt.date]:
    """Every date of birth (1900 … the day before ``day``) whose birthday, kept by
    ``calendar``, falls on ``day`` — at most a few hundred dates, so "whose birthday is on
    ``day``" is an indexable ``birthday IN (…)`` rather than a conversion per customer.

    Example: on 2027-02-28 (a common year, policy ``feb28``) the solar list holds every
    28 February and every 29 February from 1900 on; a lunar list holds the births of every
    lunar year on that lunar month and day (and on the 30th when that month has 29 days).
    """
    found: set[dt.date] = set()
    if calendar == "solar":
        for year in range(EARLIEST_BIRTH.year, day.year + 1):
            for month, mday in ((day.month, day.day), (2, 29)):
                try:
                    found.add(dt.date(year, month, mday))
                except ValueError:
                    continue
    else:
        target = _to_lunar(day)
        days = (target.day, 30) if target.day == 29 else (target.day,)
        for year in range(EARLIEST_BIRTH.year - 1, day.year + 1):
            for leap in (False, True):
                for mday in days:
                    try:
                        found.add(from_lunar(year, target.month, mday, leap=leap))
                    except ValidationFailed:
                        continue  # no such leap month, or a 29-day month
    return sorted(
        d
        for d in found
        if EARLIEST_BIRTH <= d < day and is_birthday(d, day, calendar=calendar, policy=policy)
    )
