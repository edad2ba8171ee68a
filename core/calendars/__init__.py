"""Calendars (CORE-13): business hours, holidays and make-up working days, the lunar calendar,
festivals, business-time arithmetic and birthdays — for complaint SLAs, care campaigns and
loyalty, computed here rather than by each plugin.

The usual path: ``cal = await business_calendar(tenant, actor, store_id)`` once, then
``cal.add(received_at, timedelta(hours=24), pauses)``, ``cal.elapsed(a, b, pauses)``,
``cal.next_open(now)``, ``cal.is_open(now)``, ``cal.day(date)``, ``cal.add_workdays(date, 3)``
as often as needed (synchronous, cached). See NOTES-calendar.md for the data sources.
"""

from core.calendars.birthdays import birthday_in_year, is_birthday, next_birthday
from core.calendars.days import CalendarDay, HolidayRecord
from core.calendars.engine import BusinessCalendar, NeverOpen
from core.calendars.festival_service import (
    FestivalInput,
    FestivalView,
    festival_calendar,
    festival_occurrences,
    festivals_on,
    list_festivals,
    remove_festival,
    set_festival,
)
from core.calendars.festivals import BUILTIN_FESTIVALS, FestivalCalendar, FestivalOccurrence
from core.calendars.hours import BusinessHours, parse_business_hours
from core.calendars.lunar import (
    LunarDate,
    from_lunar,
    leap_month,
    lunar_month_days,
    lunar_year_end,
    solar_term_date,
    to_lunar,
)
from core.calendars.platform import (
    PlatformOverrideInput,
    ScheduleFile,
    ScheduleLoaded,
    YearCoverage,
    calendar_coverage,
    calendar_data_gaps,
    export_schedule,
    load_schedule,
    parse_schedule,
    remove_loaded_schedule,
    remove_platform_override,
    set_platform_override,
)
from core.calendars.service import (
    CalendarSettingsInput,
    DayView,
    OverrideInput,
    OverrideView,
    StoreHours,
    business_calendar,
    business_calendars,
    calendar_days,
    list_overrides,
    remove_override,
    set_business_hours,
    set_calendar_settings,
    set_override,
)

__all__ = [
    "BUILTIN_FESTIVALS",
    "BusinessCalendar",
    "BusinessHours",
    "CalendarDay",
    "CalendarSettingsInput",
    "DayView",
    "FestivalCalendar",
    "FestivalInput",
    "FestivalOccurrence",
    "FestivalView",
    "HolidayRecord",
    "LunarDate",
    "NeverOpen",
    "OverrideInput",
    "OverrideView",
    "PlatformOverrideInput",
    "ScheduleFile",
    "ScheduleLoaded",
    "StoreHours",
    "YearCoverage",
    "birthday_in_year",
    "business_calendar",
    "business_calendars",
    "calendar_coverage",
    "calendar_data_gaps",
    "calendar_days",
    "export_schedule",
    "festival_calendar",
    "festival_occurrences",
    "festivals_on",
    "from_lunar",
    "is_birthday",
    "leap_month",
    "list_festivals",
    "list_overrides",
    "load_schedule",
    "lunar_month_days",
    "lunar_year_end",
    "next_birthday",
    "parse_business_hours",
    "parse_schedule",
    "remove_festival",
    "remove_loaded_schedule",
    "remove_override",
    "remove_platform_override",
    "set_business_hours",
    "set_calendar_settings",
    "set_festival",
    "set_override",
    "set_platform_override",
    "solar_term_date",
    "to_lunar",
]
