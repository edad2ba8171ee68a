"""``care_target.redeemed_at``: when the offer a target was granted (a loyalty coupon) was
used, as loyalty reports it (``loyalty.coupon_used``)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz

ID = "2026-12-04T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "care_target.redeemed_at"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="care", description=DESCRIPTION)
    column = Timestamptz(null=True, default=None)
    manager.add_column(
        table_class_name="TargetRow",
        tablename="care_target",
        column_name="redeemed_at",
        db_column_name="redeemed_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params=column._meta.params,
    )
    return manager
