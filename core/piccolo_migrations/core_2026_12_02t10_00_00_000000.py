"""Idempotency records (one per tenant, scope and client key: the generic idempotent create),
closed stores, staff work contacts and invalidated credentials, notices to staff.

Declared column by column, so piccolo's migration state knows them; the keys are the next
migration's (piccolo runs a migration's raw DDL before its tables and columns)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4

ID = "2026-12-02T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency_record; store.closed_at; staff contacts, credentials_changed_at; message.staff_id"

NEW_TABLES = {
    ("IdempotencyRecord", "idempotency_record"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("scope", Varchar(length=64, default="")),
        ("key", Varchar(length=128, default="")),
        ("request_hash", Varchar(length=64, default="")),
        ("result_id", UUID(default=UUID4())),
        ("created_at", Timestamptz(default=TimestamptzNow())),
    ],
}
NEW_COLUMNS = {
    ("Store", "store"): [("closed_at", Timestamptz(null=True, default=None))],
    ("Staff", "staff"): [
        ("email_enc", Text(null=True, default=None, secret=True)),
        ("phone_enc", Text(null=True, default=None, secret=True)),
        ("credentials_changed_at", Timestamptz(null=True, default=None)),
    ],
    ("Message", "message"): [("staff_id", UUID(null=True, default=None))],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    for class_name, tablename in NEW_TABLES:
        manager.add_table(class_name=class_name, tablename=tablename)
    for (class_name, tablename), columns in [*NEW_TABLES.items(), *NEW_COLUMNS.items()]:
        for name, column in columns:
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=type(column).__name__,
                column_class=type(column),
                params=column._meta.params,
            )
    return manager
