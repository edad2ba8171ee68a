from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, BigInt, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4

ID = "2026-11-23T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "loyalty_account, loyalty_entry"

TABLES = {
    ("LoyaltyAccount", "loyalty_account"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("customer_id", UUID(default=UUID4())),
        ("points", BigInt(default=0)),
        ("growth", BigInt(default=0)),
        ("updated_at", Timestamptz(default=TimestamptzNow())),
    ],
    ("LoyaltyEntry", "loyalty_entry"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("customer_id", UUID(default=UUID4())),
        ("kind", Varchar(length=16, default="")),
        ("points", BigInt(default=0)),
        ("growth", BigInt(default=0)),
        ("source", Varchar(length=16, default="")),
        ("source_id", UUID(null=True, default=None)),
        ("idempotency_key", Varchar(length=100, null=True, default=None)),
        ("request_hash", Varchar(length=64, default="")),
        ("reversal_of", UUID(null=True, default=None)),
        ("actor", Varchar(length=64, default="")),
        ("reason", Varchar(length=500, default="")),
        ("created_at", Timestamptz(default=TimestamptzNow())),
    ],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="loyalty", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename)
        for name, column in columns:
            manager.add_column(
                table_class_name=class_name, tablename=tablename, column_name=name,
                db_column_name=name, column_class_name=type(column).__name__,
                column_class=type(column), params=column._meta.params,
            )
    return manager
