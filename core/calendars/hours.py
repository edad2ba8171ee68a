"""A store's weekly business hours (营业时间): the stored model and its validation.

Stored in ``store.business_hours`` as JSON, e.g.::

    {"mon": ["09:00-12:00", "13:00-18:00"], "fri": ["10:00-24:00"], "sat": ["18:00-02:00"],
     "holiday_policy": "open"}

A period is ``HH:MM-HH:MM``; ``24:00`` may end one; an end before the start crosses midnight
(``18:00-02:00`` belongs to the day it starts on). A day without periods is closed. ``{}``
means *not configured*: the store is then treated as open around the clock (business time =
clock time). Periods of the week may not overlap, counting the overnight ones into the next
day (Sunday's into Monday).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from core.errors import MendianError, ValidationFailed

__all__ = ["WEEKDAYS", "BusinessHours", "Schedule", "parse_business_hours"]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 1440
_TIME = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")
MAX_PERIODS = 8


class BusinessHours(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """The weekly schedule of a store (validated: build it with :func:`parse_business_hours`).

    ``holiday``: the periods on statutory holidays when the store opens on them (``None``: the
    weekday's own). ``holiday_policy``: ``open`` keeps the weekly hours on statutory holidays,
    ``closed`` closes on them and opens on make-up working days; ``None`` takes the tenant's
    (``auto``: open when the week has Saturday or Sunday hours). ``makeup_day``: with the
    ``closed`` policy, a make-up working day on which the store is normally closed keeps this
    weekday's hours (Monday's by default).
    """

    mon: tuple[str, ...] = ()
    tue: tuple[str, ...] = ()
    wed: tuple[str, ...] = ()
    thu: tuple[str, ...] = ()
    fri: tuple[str, ...] = ()
    sat: tuple[str, ...] = ()
    sun: tuple[str, ...] = ()
    holiday: tuple[str, ...] | None = None
    holiday_policy: Literal["open", "closed"] | None = None
    makeup_day: Weekday = "mon"

    def day(self, weekday: int) -> tuple[str, ...]:
        """The periods of ``weekday`` (0 = Monday)."""
        value: tuple[str, ...] = getattr(self, WEEKDAYS[weekday])
        return value

    def as_json(self) -> dict[str, Any]:
        """The stored form (defaults omitted, lists for JSON)."""
        out: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(self))
        return out


Minutes = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Schedule:
    """Business hours in minutes: per weekday ``(start, end)`` with ``end`` up to 2 * 1440
    for a period that crosses midnight; ``None`` for a store open around the clock."""

    week: tuple[Minutes, ...]
    holiday: Minutes | None
    policy: Literal["open", "closed"] | None
    makeup_weekday: int

    @classmethod
    def from_hours(cls, hours: BusinessHours | None) -> Schedule:
        if hours is None:
            return ALWAYS_OPEN
        return cls(
            week=tuple(_minutes(hours.day(i)) for i in range(7)),
            holiday=_minutes(hours.holiday) if hours.holiday is not None else None,
            policy=hours.holiday_policy,
            makeup_weekday=WEEKDAYS.index(hours.makeup_day),
        )

    @property
    def has_weekend_hours(self) -> bool:
        return bool(self.week[5] or self.week[6])

    @property
    def never_open(self) -> bool:
        return not any(self.week) and not self.holiday


ALWAYS_OPEN = Schedule(
    week=tuple(((0, DAY),) for _ in range(7)), holiday=None, policy="open", makeup_weekday=0
)


def _time(text: str) -> int | None:
    match = _TIME.match(text)
    if not match:
        return None
    hh, mm = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), "00")
    return int(hh) * 60 + int(mm)


def _period(text: str) -> tuple[int, int]:
    start, end = (_time(p.strip()) for p in text.split("-", 1)) if "-" in text else (None, None)
    if start is None or end is None or start == DAY:
        raise ValueError("a period is HH:MM-HH:MM (00:00 … 23:59, 24:00 may end one)")
    if start == end:
        raise ValueError("a period must not start and end at the same time")
    return (start, end) if end > start else (start, end + DAY)


def _minutes(periods: tuple[str, ...]) -> Minutes:
    return tuple(sorted(_period(p) for p in periods))


def _text(value: Any) -> str:
    """A period given as ``"09:00-12:00"`` or ``{"start": "09:00", "end": "12:00"}``."""
    if isinstance(value, dict) and set(value) == {"start", "end"}:
        return f"{value['start']}-{value['end']}"
    if isinstance(value, str):
        return value.replace(" ", "")
    raise ValueError("a period is a string HH:MM-HH:MM or {start, end}")


def parse_business_hours(raw: Any, *, field: str = "business_hours") -> BusinessHours | None:
    """Validate business hours given as JSON-like data; ``{}``/``None`` is *not configured*.

    Errors are :class:`ValidationFailed` naming the period at fault, e.g. field
    ``business_hours.mon[1]`` with code ``overlap`` or ``invalid_time``; every error found is in
    ``errors``.
    """
    if raw is None or raw == {}:
        return None
    if isinstance(raw, BusinessHours):
        raw = raw.as_json()
    if not isinstance(raw, dict):
        raise ValidationFailed("business hours must be an object", field=field, code="invalid")
    errors: list[MendianError] = []
    clean: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in (*WEEKDAYS, "holiday"):
            clean[key] = value  # the struct checks the rest (policy, makeup_day, unknown keys)
            continue
        if value is None and key == "holiday":
            continue
        if not isinstance(value, (list, tuple)) or len(value) > MAX_PERIODS:
            errors.append(
                ValidationFailed(f"a list of at most {MAX_PERIODS} periods", field=f"{field}.{key}")
            )
            continue
        texts: list[str] = []
        for i, item in enumerate(value):
            try:
                text = _text(item)
                _period(text)
                texts.append(text)
            except ValueError as exc:
                errors.append(
                    ValidationFailed(str(exc), field=f"{field}.{key}[{i}]", code="invalid_time")
                )
        clean[key] = texts
    if errors:
        raise ValidationFailed(
            errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors
        )
    try:
        hours = msgspec.convert(clean, BusinessHours)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = re.search(r"at `\$\.?([^`]*)`", text)
        sub = match.group(1) if match else ""
        unknown = re.search(r"unknown field `([^`]*)`", text)
        name = sub or (unknown.group(1) if unknown else "")
        raise ValidationFailed(
            text.split(" - at ")[0], field=f"{field}.{name}" if name else field, code="invalid"
        ) from None
    _check_overlaps(hours, field)
    return hours


def _check_overlaps(hours: BusinessHours, field: str) -> None:
    """Periods may not overlap, the overnight ones included (Sunday's night runs into Monday);
    holiday periods are checked as a day repeating itself."""
    errors: list[MendianError] = []
    week: list[tuple[int, int, str]] = []
    for d, name in enumerate(WEEKDAYS):
        for i, text in enumerate(hours.day(d)):
            start, end = _period(text)
            week.append((d * DAY + start, d * DAY + end, f"{field}.{name}[{i}]"))
    errors += _overlaps(week, 7 * DAY)
    if hours.holiday:
        day = [(*_period(t), f"{field}.holiday[{i}]") for i, t in enumerate(hours.holiday)]
        errors += _overlaps(day, DAY)
    if errors:
        raise ValidationFailed(
            errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors
        )


def _overlaps(spans: list[tuple[int, int, str]], cycle: int) -> list[MendianError]:
    # Unroll the cycle once so that the last day's overnight period meets the first day's.
    pieces = sorted(
        [(s, e, name) for s, e, name in spans] + [(s + cycle, e + cycle, n) for s, e, n in spans]
    )
    errors: list[MendianError] = []
    if not pieces:
        return errors
    seen: set[str] = set()
    reach, reach_name = pieces[0][1], pieces[0][2]
    for start, end, name in pieces[1:]:
        if start < reach and name != reach_name and name not in seen:
            seen.add(name)
            errors.append(
                ValidationFailed(
                    f"overlaps {reach_name.rsplit('.', 1)[-1]}", field=name, code="overlap"
                )
            )
        if end > reach:
            reach, reach_name = end, name
    return errors
