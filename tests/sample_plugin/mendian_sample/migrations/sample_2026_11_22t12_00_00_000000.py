from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4

ID = "2026-11-22T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sample_visit"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sample", description=DESCRIPTION)
    manager.add_table(class_name="SampleVisit", tablename="sample_visit")
    for name, column in [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("purchase_id", UUID(default=UUID4())),
        ("customer_id", UUID(null=True, default=None)),
        ("note", Varchar(length=100, default="")),
        ("at", Timestamptz(default=TimestamptzNow())),
    ]:
        manager.add_column(
            table_class_name="SampleVisit", tablename="sample_visit", column_name=name, db_column_name=name,
            column_class_name=type(column).__name__, column_class=type(column), params=column._meta.params,
        )
    return manager
