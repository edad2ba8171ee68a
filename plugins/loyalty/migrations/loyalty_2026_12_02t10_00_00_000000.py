"""Redemptions that pay for a sale reference it (a refund of the sale returns the points)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID

ID = "2026-12-02T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "loyalty_entry.purchase_id"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="loyalty", description=DESCRIPTION)
    column = UUID(null=True, default=None)
    manager.add_column(
        table_class_name="LoyaltyEntry",
        tablename="loyalty_entry",
        column_name="purchase_id",
        db_column_name="purchase_id",
        column_class_name="UUID",
        column_class=UUID,
        params=column._meta.params,
    )
    return manager
