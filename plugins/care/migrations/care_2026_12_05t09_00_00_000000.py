"""``care_target.store_id`` (the customer's home store at the snapshot: figures per store),
``care_target.keyed_by`` (a row a customer merge moved: the merged-away customer whose id its
message's idempotency key carries) and
``care_run.zones`` (the timezones whose customers a festival or birthday run has snapshotted:
a run grows zone by zone as the day begins in each store's timezone; empty: everyone)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Text

ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "care_target.store_id, care_target.keyed_by, care_run.zones"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="care", description=DESCRIPTION)
    for name in ("store_id", "keyed_by"):
        column = UUID(null=True, default=None)
        manager.add_column(
            table_class_name="TargetRow",
            tablename="care_target",
            column_name=name,
            db_column_name=name,
            column_class_name="UUID",
            column_class=UUID,
            params=column._meta.params,
        )
    zones = Text(default="")
    manager.add_column(
        table_class_name="RunRow",
        tablename="care_run",
        column_name="zones",
        db_column_name="zones",
        column_class_name="Text",
        column_class=Text,
        params=zones._meta.params,
    )
    return manager
