from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T12:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "sample_visit unique index (tenant first)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sample", description=DESCRIPTION)

    async def indexes():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_sample_visit ON sample_visit (tenant_id, purchase_id)"
        )

    manager.add_raw(indexes)
    return manager
