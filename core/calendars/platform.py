"""The platform operator's holiday data: loading a year's official schedule before the library
ships it, platform-wide overrides, and which years have data.

Rows live in ``calendar_platform_day``; every tenant's calendar reads them through one
in-process snapshot (refreshed every :data:`SNAPSHOT_SECONDS`, at once after a write in this
process), so building a calendar costs no query for them.

The schedule file (JSON or CSV) lists the year's off days and make-up working days::

    {"year": 2027, "region": "CN", "reference": "国办发明电(2026)N号",
     "days": [{"date": "2027-01-01", "workday": false, "name_zh": "元旦",
               "name_en": "New Year's Day"}, …]}

    date,workday,name_zh,name_en
    2027-01-01,false,元旦,New Year's Day

Every day of the year not listed is a plain day (Monday to Friday working, weekends off).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, Literal
from uuid import uuid4

import msgspec
from msgspec import Meta

from core.calendars.days import _NAMES, PlatformDay, PlatformSnapshot, official_years
from core.context import Actor
from core.db import get_database, platform_tx
from core.errors import Forbidden, MendianError, NotFound, ValidationFailed
from core.tables import CalendarPlatformDay
from core.validation import convert

__all__ = [
    "PlatformOverrideInput",
    "ScheduleDay",
    "ScheduleFile",
    "ScheduleLoaded",
    "YearCoverage",
    "calendar_coverage",
    "calendar_data_gaps",
    "export_schedule",
    "forget_platform_snapshot",
    "load_schedule",
    "parse_schedule",
    "platform_snapshot",
    "remove_loaded_schedule",
    "remove_platform_override",
    "set_platform_override",
]

log = logging.getLogger("mendian.calendars")
SNAPSHOT_SECONDS = 60.0
Name = Annotated[str, Meta(max_length=100)]
Region = Literal["CN"]
_CODES = {zh: code for code, zh, _en in _NAMES.values()}
_TRUE = {"true", "1", "yes", "y", "班", "上班", "workday"}
_FALSE = {"false", "0", "no", "n", "休", "休息", "off"}


class ScheduleDay(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A day of a schedule file: an off day (``workday`` false) or a make-up working day."""

    date: dt.date
    workday: bool
    name_zh: Annotated[str, Meta(min_length=1, max_length=100)]
    name_en: Name = ""
    code: Annotated[str, Meta(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")] | None = None


class ScheduleFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A year's official schedule (国务院办公厅 notice) as the operator loads it."""

    year: Annotated[int, Meta(ge=1900, le=2200)]
    days: Annotated[list[ScheduleDay], Meta(min_length=1, max_length=366)]
    region: Region = "CN"
    reference: Annotated[str, Meta(max_length=500)] = ""


@dataclass(frozen=True)
class ScheduleLoaded:
    """What :func:`load_schedule` stored."""

    year: int
    region: str
    off_days: int
    workdays: int
    replaced: int


@dataclass(frozen=True)
class YearCoverage:
    """Where a year's holiday data comes from. ``source``: ``official`` (the library),
    ``loaded`` (an operator's file) or ``estimated`` (no data: weekends and the statutory days
    the law fixes; make-up working days unknown)."""

    year: int
    region: str
    source: Literal["official", "loaded", "estimated"]
    library: str
    loaded_days: int = 0
    loaded_at: dt.datetime | None = None
    reference: str = ""

    @property
    def message(self) -> str:
        if self.source == "estimated":
            return (
                f"no official holiday schedule for {self.year} ({self.library} has none and "
                "none was loaded): weekends and statutory days only, no make-up working days"
            )
        if self.source == "loaded":
            return f"{self.year}: schedule loaded by the operator ({self.loaded_days} days)"
        return f"{self.year}: official schedule from {self.library}"


class PlatformOverrideInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A platform-wide change to one day (every tenant of the region)."""

    date: dt.date
    workday: bool
    name_zh: Annotated[str, Meta(min_length=1, max_length=100)]
    name_en: Name = ""
    region: Region = "CN"


def library_version() -> str:
    """``chinese-calendar <version>``, the library the official data comes from."""
    try:
        return f"chinese-calendar {version('chinese-calendar')}"
    except PackageNotFoundError:  # pragma: no cover - a dependency
        return "chinese-calendar"


def _require_platform(actor: Actor) -> None:
    if actor.kind not in ("platform", "system"):
        raise Forbidden("platform operators only", code="forbidden")


# (database, expiry, snapshot): a process has one database, a test session several.
_snapshot: tuple[object, float, PlatformSnapshot] | None = None


def forget_platform_snapshot() -> None:
    """Drop the cached snapshot (after a write; tests)."""
    global _snapshot
    _snapshot = None


async def platform_snapshot(*, fresh: bool = False) -> PlatformSnapshot:
    """Every platform row, at most :data:`SNAPSHOT_SECONDS` old (``fresh``: read now). Other
    processes see a write within that time."""
    global _snapshot
    database = get_database()
    if (
        not fresh
        and _snapshot is not None
        and _snapshot[0] is database
        and _snapshot[1] > time.monotonic()
    ):
        return _snapshot[2]
    rows = await CalendarPlatformDay.select(
        CalendarPlatformDay.region,
        CalendarPlatformDay.layer,
        CalendarPlatformDay.day,
        CalendarPlatformDay.workday,
        CalendarPlatformDay.kind,
        CalendarPlatformDay.name_zh,
        CalendarPlatformDay.name_en,
    )
    snap = PlatformSnapshot.of(
        PlatformDay(
            day=r["day"],
            layer=r["layer"],
            workday=bool(r["workday"]),
            kind=r["kind"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            region=r["region"],
        )
        for r in rows
    )
    _snapshot = (database, time.monotonic() + SNAPSHOT_SECONDS, snap)
    return snap


def _flag(text: str, row: int) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationFailed(
        "workday must be true or false", field=f"days[{row}].workday", code="invalid"
    )


def parse_schedule(
    text: str | bytes, *, fmt: Literal["json", "csv"] | None = None, year: int | None = None
) -> ScheduleFile:
    """Read a schedule file (JSON, or CSV with a ``date,workday,name_zh,name_en[,code]``
    header; ``year`` defaults to the dates'). :class:`ValidationFailed` names the row."""
    raw = text.decode("utf-8-sig") if isinstance(text, bytes) else text.lstrip("\ufeff")
    kind = fmt or ("json" if raw.lstrip().startswith("{") else "csv")
    if kind == "json":
        try:
            data = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise ValidationFailed(f"not JSON: {exc}", field="file", code="invalid") from None
        return _checked(convert(data, ScheduleFile))
    reader = csv.DictReader(io.StringIO(raw))
    missing = {"date", "workday", "name_zh"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationFailed(
            f"CSV header needs {', '.join(sorted(missing))}", field="file", code="invalid"
        )
    days: list[dict[str, Any]] = []
    for i, row in enumerate(reader):
        days.append(
            {
                "date": (row.get("date") or "").strip(),
                "workday": _flag(row.get("workday") or "", i),
                "name_zh": (row.get("name_zh") or "").strip(),
                "name_en": (row.get("name_en") or "").strip(),
                **({"code": row["code"].strip()} if (row.get("code") or "").strip() else {}),
            }
        )
    if year is None and days:
        try:
            year = dt.date.fromisoformat(days[0]["date"]).year
        except ValueError:
            raise ValidationFailed(
                "not a date (YYYY-MM-DD)", field="days[0].date", code="invalid"
            ) from None
    return _checked(convert({"year": year, "days": days}, ScheduleFile))


def _checked(schedule: ScheduleFile) -> ScheduleFile:
    errors: list[MendianError] = []
    seen: set[dt.date] = set()
    for i, day in enumerate(schedule.days):
        where = f"days[{i}]"
        if day.date.year != schedule.year:
            errors.append(
                ValidationFailed(
                    f"{day.date} is not in {schedule.year}",
                    field=f"{where}.date",
                    code="wrong_year",
                )
            )
        if day.date in seen:
            errors.append(
                ValidationFailed(
                    f"{day.date} is listed twice", field=f"{where}.date", code="duplicate"
                )
            )
        seen.add(day.date)
        if day.workday and day.date.weekday() < 5:
            errors.append(
                ValidationFailed(
                    f"{day.date} is a weekday: only a weekend day can be a make-up working day",
                    field=f"{where}.workday",
                    code="not_weekend",
                )
            )
    if errors:
        raise ValidationFailed(
            errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors
        )
    return schedule


async def load_schedule(
    actor: Actor, schedule: ScheduleFile | dict[str, Any] | str | bytes
) -> ScheduleLoaded:
    """Store a year's official schedule for every tenant (platform operator only), replacing
    a schedule loaded before for that year. From then on the year is ``source = "loaded"``,
    even once the library ships it (remove it with :func:`remove_loaded_schedule`)."""
    _require_platform(actor)
    if isinstance(schedule, (str, bytes)):
        schedule = parse_schedule(schedule)
    data = _checked(convert(schedule, ScheduleFile))
    async with platform_tx():
        replaced = await CalendarPlatformDay.count().where(
            (CalendarPlatformDay.region == data.region)
            & (CalendarPlatformDay.layer == "loaded")
            & (CalendarPlatformDay.year == data.year)
        )
        await CalendarPlatformDay.delete().where(
            (CalendarPlatformDay.region == data.region)
            & (CalendarPlatformDay.layer == "loaded")
            & (CalendarPlatformDay.year == data.year)
        )
        now = dt.datetime.now(dt.UTC)
        await CalendarPlatformDay.insert(
            *(
                CalendarPlatformDay(
                    id=uuid4(),
                    region=data.region,
                    layer="loaded",
                    day=d.date,
                    year=data.year,
                    workday=d.workday,
                    kind=d.code or _CODES.get(d.name_zh, "holiday"),
                    name_zh=d.name_zh,
                    name_en=d.name_en,
                    reference=data.reference,
                    loaded_by=actor.id,
                    request_id=actor.request_id,
                    loaded_at=now,
                )
                for d in sorted(data.days, key=lambda d: d.date)
            )
        )
    forget_platform_snapshot()
    result = ScheduleLoaded(
        year=data.year,
        region=data.region,
        off_days=sum(not d.workday for d in data.days),
        workdays=sum(d.workday for d in data.days),
        replaced=replaced,
    )
    log.info(
        "holiday schedule loaded: region=%s year=%s off=%s workdays=%s replaced=%s by=%s",
        data.region,
        data.year,
        result.off_days,
        result.workdays,
        replaced,
        actor.id,
    )
    return result


async def remove_loaded_schedule(actor: Actor, year: int, *, region: str = "CN") -> int:
    """Drop a loaded schedule (the library's data, or the estimate, applies again); the number
    of days removed (0 when none was loaded)."""
    _require_platform(actor)
    async with platform_tx():
        where = (
            (CalendarPlatformDay.region == region)
            & (CalendarPlatformDay.layer == "loaded")
            & (CalendarPlatformDay.year == year)
        )
        removed: int = await CalendarPlatformDay.count().where(where)
        await CalendarPlatformDay.delete().where(where)
    forget_platform_snapshot()
    log.info("holiday schedule removed: region=%s year=%s by=%s", region, year, actor.id)
    return removed


async def set_platform_override(
    actor: Actor, data: PlatformOverrideInput | dict[str, Any]
) -> PlatformDay:
    """Make one day off or working for every tenant of the region (platform operator only);
    setting a day again replaces it."""
    _require_platform(actor)
    payload = convert(data, PlatformOverrideInput)
    async with platform_tx():
        await CalendarPlatformDay.delete().where(
            (CalendarPlatformDay.region == payload.region)
            & (CalendarPlatformDay.layer == "override")
            & (CalendarPlatformDay.day == payload.date)
        )
        await CalendarPlatformDay.insert(
            CalendarPlatformDay(
                id=uuid4(),
                region=payload.region,
                layer="override",
                day=payload.date,
                year=payload.date.year,
                workday=payload.workday,
                kind="workday" if payload.workday else "day_off",
                name_zh=payload.name_zh,
                name_en=payload.name_en,
                loaded_by=actor.id,
                request_id=actor.request_id,
                loaded_at=dt.datetime.now(dt.UTC),
            )
        )
    forget_platform_snapshot()
    log.info(
        "platform calendar override: %s workday=%s by=%s", payload.date, payload.workday, actor.id
    )
    return PlatformDay(
        day=payload.date,
        layer="override",
        workday=payload.workday,
        kind="workday" if payload.workday else "day_off",
        name_zh=payload.name_zh,
        name_en=payload.name_en,
        region=payload.region,
    )


async def remove_platform_override(actor: Actor, day: dt.date, *, region: str = "CN") -> None:
    """Remove a platform override; :class:`NotFound` when the day has none."""
    _require_platform(actor)
    async with platform_tx():
        where = (
            (CalendarPlatformDay.region == region)
            & (CalendarPlatformDay.layer == "override")
            & (CalendarPlatformDay.day == day)
        )
        if not await CalendarPlatformDay.exists().where(where):
            raise NotFound("no platform override on that day", field="date")
        await CalendarPlatformDay.delete().where(where)
    forget_platform_snapshot()


async def calendar_coverage(years: Iterable[int], *, region: str = "CN") -> list[YearCoverage]:
    """Where each year's holiday data comes from."""
    rows = await CalendarPlatformDay.select(
        CalendarPlatformDay.year, CalendarPlatformDay.loaded_at, CalendarPlatformDay.reference
    ).where((CalendarPlatformDay.region == region) & (CalendarPlatformDay.layer == "loaded"))
    loaded: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        loaded.setdefault(r["year"], []).append(r)
    library = library_version()
    out: list[YearCoverage] = []
    for year in sorted(set(years)):
        if year in loaded:
            days = loaded[year]
            out.append(
                YearCoverage(
                    year,
                    region,
                    "loaded",
                    library,
                    loaded_days=len(days),
                    loaded_at=max(d["loaded_at"] for d in days),
                    reference=days[0]["reference"],
                )
            )
        else:
            source: Literal["official", "estimated"] = (
                "official" if year in official_years() else "estimated"
            )
            out.append(YearCoverage(year, region, source, library))
    return out


async def calendar_data_gaps(
    *, days: int = 60, today: dt.date | None = None, region: str = "CN"
) -> list[YearCoverage]:
    """The years touching today … today + ``days`` without an official or loaded schedule
    (for ``mendian plugins doctor`` / ``mendian calendar check``); empty when all is well, and
    for region ``none`` (no holiday data wanted)."""
    if not 0 <= days <= 3660:
        raise ValidationFailed("days must be 0 … 3660", field="days", code="invalid")
    if region == "none":
        return []
    start = today or dt.datetime.now(dt.UTC).date()
    end = start + dt.timedelta(days=days)
    coverage = await calendar_coverage(range(start.year, end.year + 1), region=region)
    return [c for c in coverage if c.source == "estimated"]


def export_schedule(year: int) -> ScheduleFile:
    """A year of the library's official data as a schedule file (the format's example; a base
    for correcting a year). :class:`NotFound` for a year the library does not hold."""
    import chinese_calendar

    from core.calendars.days import _names

    if year not in official_years():
        raise NotFound(f"{library_version()} has no schedule for {year}", field="year")
    days: list[ScheduleDay] = []
    for table, workday in ((chinese_calendar.holidays, False), (chinese_calendar.workdays, True)):
        for day, english in table.items():
            if day.year == year:
                code, zh, en = _names(english)
                days.append(
                    ScheduleDay(date=day, workday=workday, name_zh=zh, name_en=en, code=code)
                )
    days.sort(key=lambda d: d.date)
    return ScheduleFile(year=year, days=days, reference=library_version())
