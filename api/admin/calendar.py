"""The platform's holiday data (CORE-13): ``/admin/calendar/…``. The operator loads a year's
official schedule (国务院办公厅 notice) before the library ships it, sets platform-wide days, and
checks which years have official, loaded or only estimated data."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, delete, get, post, put
from litestar.params import FromPath, Parameter
from msgspec import Meta

from api.admin._http import error_responses, platform_actor

__all__ = [
    "calendar_coverage_get",
    "calendar_day_remove",
    "calendar_day_set",
    "calendar_schedule_load",
    "calendar_schedule_remove",
]


class Coverage(msgspec.Struct):
    year: int
    source: Literal["official", "loaded", "estimated"]
    library: str
    loaded_days: int
    reference: str
    message: str


class ScheduleLoadedBody(msgspec.Struct):
    year: int
    region: str
    off_days: int
    workdays: int
    replaced: int


class DayOverride(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    workday: bool
    name_zh: Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]
    name_en: Annotated[str, Meta(max_length=100, pattern=r"^[^\x00]*$")] = ""


@post(
    "/calendar/schedules",
    operation_id="adminCalendarScheduleLoad",
    summary="Load a year's official holiday schedule",
    description=(
        "Body: the schedule as JSON (`{year, region, reference, days: [{date, workday, name_zh, "
        "name_en}]}`) or CSV (`date,workday,name_zh,name_en`), by `Content-Type`. Lists every "
        "off day and every make-up working day (a Saturday or Sunday); replaces a schedule "
        "loaded before for that year. Every process uses it within a minute."
    ),
    responses=error_responses(400),
    status_code=201,
)
async def calendar_schedule_load(request: Request[Any, Any, Any]) -> ScheduleLoadedBody:
    """``POST /admin/calendar/schedules``."""
    from core.calendars import load_schedule, parse_schedule

    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    schedule = parse_schedule(body, fmt="csv" if kind in ("text/csv", "text/plain") else "json")
    loaded = await load_schedule(platform_actor(), schedule)
    return msgspec.convert(loaded, ScheduleLoadedBody, from_attributes=True)


@delete(
    "/calendar/schedules/{year:int}",
    operation_id="adminCalendarScheduleRemove",
    summary="Remove a loaded schedule",
    description="The year falls back to the library's data (or an estimate). 404 if none.",
    responses=error_responses(404),
)
async def calendar_schedule_remove(year: FromPath[int]) -> None:
    """``DELETE /admin/calendar/schedules/{year}``."""
    from core.calendars import remove_loaded_schedule
    from core.errors import NotFound

    # a year a date cannot have is not loaded either (and would overflow the column)
    if not 1 <= year <= 9999 or not await remove_loaded_schedule(platform_actor(), year):
        raise NotFound("no schedule loaded for this year", field="year")


@put(
    "/calendar/days/{day:date}",
    operation_id="adminCalendarDaySet",
    summary="Set one day for every tenant",
    description="A platform-wide day off or working day (e.g. a day the State Council adds).",
    responses=error_responses(400),
)
async def calendar_day_set(day: FromPath[dt.date], data: DayOverride) -> None:
    """``PUT /admin/calendar/days/{date}``."""
    from core.calendars import set_platform_override

    await set_platform_override(platform_actor(), {"date": day, **msgspec.structs.asdict(data)})


@delete(
    "/calendar/days/{day:date}",
    operation_id="adminCalendarDayRemove",
    summary="Remove a platform-wide day",
    description="The day goes back to the schedule's status.",
    responses=error_responses(404),
)
async def calendar_day_remove(day: FromPath[dt.date]) -> None:
    """``DELETE /admin/calendar/days/{date}``."""
    from core.calendars import remove_platform_override

    await remove_platform_override(platform_actor(), day)


@get(
    "/calendar/coverage",
    operation_id="adminCalendarCoverage",
    summary="Where each year's holiday data comes from",
    description="`official` (the library), `loaded` (a schedule loaded here) or `estimated`.",
    responses=error_responses(400),
)
async def calendar_coverage_get(
    years: Annotated[
        list[int] | None, Parameter(description="Years; default: this year and the next two.")
    ] = None,
) -> list[Coverage]:
    """``GET /admin/calendar/coverage?years=2026&years=2027``."""
    from core.calendars import calendar_coverage
    from core.errors import ValidationFailed

    wanted = years or [dt.date.today().year + i for i in range(3)]
    if len(wanted) > 50 or any(not 1900 <= y <= 2200 for y in wanted):
        raise ValidationFailed("years between 1900 and 2200, at most 50", field="years")
    return [
        Coverage(
            year=c.year,
            source=c.source,
            library=c.library,
            loaded_days=c.loaded_days,
            reference=c.reference,
            message=c.message,
        )
        for c in await calendar_coverage(wanted)
    ]
