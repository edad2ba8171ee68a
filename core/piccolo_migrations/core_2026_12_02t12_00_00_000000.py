"""Calendars (CORE-13): calendar_override, calendar_festival (tenant-owned, PRIMARY KEY
(tenant_id, id)), calendar_platform_day (platform), and customer.birthday_calendar.

The tables are recorded in piccolo's migration state with ``add_table``/``add_column`` (so the
state matches ``core.tables`` and ``piccolo migrations new --auto`` finds nothing to do), but
created by the raw DDL below: piccolo cannot express a composite primary key or a partial
unique index. ``_StateOnly`` therefore records those operations without running them.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import (
    JSON,
    UUID,
    Boolean,
    Date,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

ID = "2026-12-02T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "calendars: overrides, festivals, platform days; customer.birthday_calendar"

TABLES = {
    ("CalendarOverride", "calendar_override"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("store_id", UUID(null=True, default=None)),
        ("start_date", Date(default=DateNow())),
        ("end_date", Date(default=DateNow())),
        ("kind", Varchar(length=16, default="")),
        ("name_zh", Varchar(length=100, default="")),
        ("name_en", Varchar(length=100, default="")),
        ("note", Text(default="")),
        ("created_by", Varchar(length=64, default="")),
        ("created_at", Timestamptz(default=TimestamptzNow())),
        ("updated_at", Timestamptz(default=TimestamptzNow())),
    ],
    ("CalendarFestival", "calendar_festival"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("code", Varchar(length=64, default="")),
        ("name_zh", Varchar(length=100, default="")),
        ("name_en", Varchar(length=100, default="")),
        ("rule", JSON(default="{}")),
        ("store_id", UUID(null=True, default=None)),
        ("valid_from", Date(null=True, default=None)),
        ("valid_until", Date(null=True, default=None)),
        ("created_at", Timestamptz(default=TimestamptzNow())),
        ("updated_at", Timestamptz(default=TimestamptzNow())),
    ],
    ("CalendarPlatformDay", "calendar_platform_day"): [
        ("id", UUID(primary_key=True, default=UUID4())),
        ("region", Varchar(length=8, default="CN")),
        ("layer", Varchar(length=16, default="")),
        ("day", Date(default=DateNow())),
        ("year", Integer(default=0)),
        ("workday", Boolean(default=False)),
        ("kind", Varchar(length=16, default="")),
        ("name_zh", Varchar(length=100, default="")),
        ("name_en", Varchar(length=100, default="")),
        ("reference", Text(default="")),
        ("loaded_by", Varchar(length=64, default="")),
        ("request_id", Varchar(length=64, default="")),
        ("loaded_at", Timestamptz(default=TimestamptzNow())),
    ],
}
NEW_COLUMNS = [
    ("Customer", "customer", "birthday_calendar", Varchar(length=8, default="solar")),
]

DDL = [
    """CREATE TABLE IF NOT EXISTS calendar_override (
        tenant_id UUID NOT NULL, id UUID NOT NULL, store_id UUID NULL,
        start_date DATE NOT NULL, end_date DATE NOT NULL, kind VARCHAR(16) NOT NULL,
        name_zh VARCHAR(100) NOT NULL DEFAULT '', name_en VARCHAR(100) NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '', created_by VARCHAR(64) NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (tenant_id, id))""",
    # One override per (scope, span, kind): setting it again changes it (NULL store_id is
    # "every store", and NULLs are distinct in unique indexes, hence two partial indexes).
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_calendar_override_tenant ON calendar_override (tenant_id, start_date, end_date, kind) WHERE store_id IS NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_calendar_override_store ON calendar_override (tenant_id, store_id, start_date, end_date, kind) WHERE store_id IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS calendar_festival (
        tenant_id UUID NOT NULL, id UUID NOT NULL, code VARCHAR(64) NOT NULL,
        name_zh VARCHAR(100) NOT NULL, name_en VARCHAR(100) NOT NULL DEFAULT '',
        rule JSON NOT NULL, store_id UUID NULL, valid_from DATE NULL, valid_until DATE NULL,
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (tenant_id, id))""",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_calendar_festival_code ON calendar_festival (tenant_id, code)",
    """CREATE TABLE IF NOT EXISTS calendar_platform_day (
        id UUID NOT NULL PRIMARY KEY, region VARCHAR(8) NOT NULL DEFAULT 'CN', layer VARCHAR(16) NOT NULL,
        day DATE NOT NULL, year INTEGER NOT NULL, workday BOOLEAN NOT NULL,
        kind VARCHAR(16) NOT NULL, name_zh VARCHAR(100) NOT NULL DEFAULT '',
        name_en VARCHAR(100) NOT NULL DEFAULT '', reference TEXT NOT NULL DEFAULT '',
        loaded_by VARCHAR(64) NOT NULL DEFAULT '', request_id VARCHAR(64) NOT NULL DEFAULT '',
        loaded_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_calendar_platform_day ON calendar_platform_day (region, layer, day)",
    "CREATE INDEX IF NOT EXISTS ix_calendar_platform_day_year ON calendar_platform_day (region, year)",
    "ALTER TABLE customer ADD COLUMN birthday_calendar VARCHAR(8) NOT NULL DEFAULT 'solar'",
]
BACKWARDS = [
    "DROP TABLE IF EXISTS calendar_override",
    "DROP TABLE IF EXISTS calendar_festival",
    "DROP TABLE IF EXISTS calendar_platform_day",
    "ALTER TABLE customer DROP COLUMN birthday_calendar",
]


async def grant_calendar_manage(engine):
    """Existing tenants' built-in ``hq_manager`` role gets ``calendar:manage`` (a tenant's roles
    are copied from ``tenants.roles`` when it is created; new tenants get it from there).
    Runs in the migration's transaction; on PostgreSQL each tenant is set for RLS."""
    import json

    tenants = await engine.run_querystring(QueryString("SELECT id FROM tenant")) or []
    for tenant in tenants:
        if isinstance(engine, PostgresEngine):
            await engine.run_querystring(
                QueryString("SELECT set_config('app.tenant_id', {}, true)", str(tenant["id"]))
            )
        roles = await engine.run_querystring(
            QueryString(
                "SELECT id, permissions FROM role WHERE tenant_id = {} AND code = 'hq_manager'",
                tenant["id"],
            )
        ) or []
        for role in roles:
            raw = role["permissions"]
            permissions = json.loads(raw) if isinstance(raw, (str, bytes)) else list(raw or [])
            if "calendar:manage" in permissions or "*" in permissions:
                continue
            await engine.run_querystring(
                QueryString(
                    "UPDATE role SET permissions = {} WHERE tenant_id = {} AND id = {}",
                    json.dumps(sorted({*permissions, "calendar:manage"})),
                    tenant["id"],
                    role["id"],
                )
            )


class _StateOnly(MigrationManager):
    """Records ``add_table``/``add_column`` in the migration state; the raw DDL does the work."""

    async def _run_add_tables(self, backwards=False):
        return None

    async def _run_add_columns(self, backwards=False):
        return None


async def forwards():
    manager = _StateOnly(migration_id=ID, app_name="core", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename)
        for name, column in columns:
            manager.add_column(
                table_class_name=class_name, tablename=tablename, column_name=name,
                db_column_name=name, column_class_name=type(column).__name__,
                column_class=type(column), params=column._meta.params,
            )
    for class_name, tablename, name, column in NEW_COLUMNS:
        manager.add_column(
            table_class_name=class_name, tablename=tablename, column_name=name,
            db_column_name=name, column_class_name=type(column).__name__,
            column_class=type(column), params=column._meta.params,
        )

    async def run():
        engine = engine_finder()
        for sql in DDL:
            await engine.run_ddl(sql)
        await grant_calendar_manage(engine)

    async def run_backwards():
        engine = engine_finder()
        for sql in BACKWARDS:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
