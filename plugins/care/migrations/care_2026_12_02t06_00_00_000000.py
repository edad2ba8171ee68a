"""The care tables, declared column by column so that piccolo's migration state knows every
column (``mendian migrate --check`` compares it with ``tables.py``)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4

ID = "2026-12-02T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "care tables"

TABLES = {
    ("CampaignRow", "care_campaign"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("name", Varchar(length=200, default='')),
        ("kind", Varchar(length=24, default='')),
        ("state", Varchar(length=16, default='draft')),
        ("segment_id", UUID(null=True, default=None)),
        ("channel", Varchar(length=32, default='log')),
        ("message", Text(default='')),
        ("settings", Text(default='{}')),
        ("control_pct", SmallInt(default=0)),
        ("variants", Text(default='[]')),
        ("window_days", SmallInt(default=14)),
        ("approval", Varchar(length=16, default='')),
        ("approved_by", Varchar(length=64, default='')),
        ("approved_at", Timestamptz(null=True, default=None)),
        ("created_by", Varchar(length=64, default='')),
        ("created_at", Timestamptz(default=TimestamptzNow())),
        ("updated_at", Timestamptz(default=TimestamptzNow())),
    ],
    ("RunRow", "care_run"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("campaign_id", UUID(default=UUID4())),
        ("occurrence", Varchar(length=64, default='')),
        ("trigger", Varchar(length=16, default='manual')),
        ("status", Varchar(length=16, default='fanning')),
        ("targeted", Integer(default=0)),
        ("started_at", Timestamptz(default=TimestamptzNow())),
        ("finished_at", Timestamptz(null=True, default=None)),
    ],
    ("TargetRow", "care_target"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("run_id", UUID(default=UUID4())),
        ("campaign_id", UUID(default=UUID4())),
        ("occurrence", Varchar(length=64, default='')),
        ("customer_id", UUID(default=UUID4())),
        ("chunk", Integer(default=0)),
        ("grp", Varchar(length=16, default='treatment')),
        ("variant", Varchar(length=32, default='')),
        ("status", Varchar(length=16, default='pending')),
        ("reason", Varchar(length=64, default='')),
        ("created_at", Timestamptz(default=TimestamptzNow())),
        ("handled_at", Timestamptz(null=True, default=None)),
    ],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="care", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename)
        for name, column in columns:
            manager.add_column(
                table_class_name=class_name, tablename=tablename, column_name=name,
                db_column_name=name, column_class_name=type(column).__name__,
                column_class=type(column), params=column._meta.params,
            )
    return manager
