"""Calendars (CORE-13): tenant overrides and festivals, the platform's loaded holiday schedules.

The database keys are ``PRIMARY KEY (tenant_id, id)`` for the tenant-owned tables (written by
the migration; piccolo knows ``id`` as the primary key column, which is all its queries need).
"""

from piccolo.columns import JSON, UUID, Boolean, Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import PlatformTable, TenantScoped


class CalendarOverride(TenantScoped, Table, tablename="calendar_override"):
    """A tenant's change to its calendar over ``start_date``…``end_date`` (inclusive): a day
    off, a working day, a local holiday, or a store closure. ``store_id`` null: every store."""

    id = UUID(primary_key=True)
    store_id = UUID(null=True, default=None)
    start_date = Date()
    end_date = Date()
    kind = Varchar(length=16)
    name_zh = Varchar(length=100, default="")
    name_en = Varchar(length=100, default="")
    note = Text(default="")
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CalendarFestival(TenantScoped, Table, tablename="calendar_festival"):
    """A festival a tenant adds to the built-in ones (store anniversary, 会员日 …): a rule
    (JSON, see :mod:`core.calendars.festivals`), optionally for one store and a validity span."""

    id = UUID(primary_key=True)
    code = Varchar(length=64)
    name_zh = Varchar(length=100)
    name_en = Varchar(length=100, default="")
    rule = JSON(default="{}")
    store_id = UUID(null=True, default=None)
    valid_from = Date(null=True, default=None)
    valid_until = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CalendarPlatformDay(PlatformTable, Table, tablename="calendar_platform_day"):
    """A day of a holiday schedule the platform operator loaded (``layer = 'loaded'``: the
    year's official schedule before the library ships it) or a platform-wide override
    (``layer = 'override'``). Platform-level: no tenant, read by every tenant's calendar."""

    id = UUID(primary_key=True)
    region = Varchar(length=8, default="CN")
    layer = Varchar(length=16)
    day = Date()
    year = Integer()
    workday = Boolean()
    kind = Varchar(length=16)
    name_zh = Varchar(length=100, default="")
    name_en = Varchar(length=100, default="")
    reference = Text(default="")
    loaded_by = Varchar(length=64, default="")
    request_id = Varchar(length=64, default="")
    loaded_at = Timestamptz(default=TimestamptzNow())
