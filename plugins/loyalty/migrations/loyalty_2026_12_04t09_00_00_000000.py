"""``loyalty_coupon.source_key``: the key of the offer that gave a coupon away (``care:…``, a
care campaign's gift; ``''`` for a coupon bought with points). Its unique index (next
migration: raw DDL runs before a migration's columns are added) makes a gift once per key."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-12-04T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "loyalty_coupon.source_key"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="loyalty", description=DESCRIPTION)
    column = Varchar(length=200, default="")
    manager.add_column(
        table_class_name="LoyaltyCoupon",
        tablename="loyalty_coupon",
        column_name="source_key",
        db_column_name="source_key",
        column_class_name="Varchar",
        column_class=Varchar,
        params=column._meta.params,
    )
    return manager
