"""Praise keeps a caller's sealed contact; a damaged-goods record links the complaint it came
with (issue 13 items 6 and 7)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Text

ID = "2026-12-02T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "complaints_praise contact, complaints_damage.complaint_id"

COLUMNS = [
    ("PraiseRow", "complaints_praise", "contact_name", Text(default="")),
    ("PraiseRow", "complaints_praise", "contact_phone", Text(default="")),
    ("DamageRow", "complaints_damage", "complaint_id", UUID(null=True, default=None)),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="complaints", description=DESCRIPTION)
    for class_name, tablename, name, column in COLUMNS:
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
