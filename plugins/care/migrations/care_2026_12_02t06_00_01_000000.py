"""The care tables' keys: on PostgreSQL the Citus-ready primary key (tenant_id, id); unique
and plain indexes leading with tenant_id. (Raw DDL runs before a migration's tables are
created, so keys come in the migration after the tables'.)"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-02T06:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "care keys and indexes"

TABLES = ["care_campaign", "care_run", "care_target"]
INDEXES = [
    "CREATE INDEX IF NOT EXISTS ix_care_campaign_created ON care_campaign (tenant_id, created_at, id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_care_run_occurrence ON care_run (tenant_id, campaign_id, occurrence)",
    "CREATE INDEX IF NOT EXISTS ix_care_run_status ON care_run (tenant_id, status)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_care_target ON care_target (tenant_id, campaign_id, occurrence, customer_id)",
    "CREATE INDEX IF NOT EXISTS ix_care_target_run ON care_target (tenant_id, run_id, chunk, status)",
    "CREATE INDEX IF NOT EXISTS ix_care_target_customer ON care_target (tenant_id, customer_id)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="care", description=DESCRIPTION)

    async def keys():
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            for table in TABLES:
                await engine.run_ddl(
                    f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_pkey, "
                    "ADD PRIMARY KEY (tenant_id, id)"
                )
        for sql in INDEXES:
            await engine.run_ddl(sql)

    manager.add_raw(keys)
    return manager
