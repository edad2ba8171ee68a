"""A gift coupon once per offer key: unique ``(tenant_id, source_key)`` where a key is set."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-04T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "loyalty_coupon source key index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="loyalty", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_loyalty_coupon_source ON loyalty_coupon "
            "(tenant_id, source_key) WHERE source_key <> ''"
        )

    manager.add_raw(run)
    return manager
