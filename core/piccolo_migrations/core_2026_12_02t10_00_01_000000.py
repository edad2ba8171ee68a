"""idempotency_record's keys: PRIMARY KEY (tenant_id, id) on PostgreSQL (Citus), one record
per (tenant, scope, key)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-02T10:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency_record keys"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            await engine.run_ddl(
                "ALTER TABLE idempotency_record DROP CONSTRAINT IF EXISTS idempotency_record_pkey, "
                "ADD PRIMARY KEY (tenant_id, id)"
            )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_idempotency_record "
            "ON idempotency_record (tenant_id, scope, key)"
        )

    manager.add_raw(run)
    return manager
