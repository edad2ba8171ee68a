"""The index a refund uses to find the redemptions that paid for its sale."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-02T10:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "loyalty_entry purchase index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="loyalty", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS ix_loyalty_entry_purchase ON loyalty_entry "
            "(tenant_id, purchase_id) WHERE purchase_id IS NOT NULL"
        )

    manager.add_raw(run)
    return manager
