"""The complaints tables' keys: on PostgreSQL the Citus-ready primary key (tenant_id, id);
unique and plain indexes leading with tenant_id. (Raw DDL runs before a migration's tables are
created, so keys come in the migration after the tables'.)"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-02T13:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "complaints keys and indexes"

TABLES = [
    "complaints_complaint",
    "complaints_action",
    "complaints_escalation",
    "complaints_praise",
    "complaints_damage",
]
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_complaints_number ON complaints_complaint (tenant_id, number)",
    "CREATE INDEX IF NOT EXISTS ix_complaints_received ON complaints_complaint (tenant_id, received_at, id)",
    "CREATE INDEX IF NOT EXISTS ix_complaints_store ON complaints_complaint (tenant_id, store_id, received_at)",
    "CREATE INDEX IF NOT EXISTS ix_complaints_open ON complaints_complaint (tenant_id, state, resolve_due_at)",
    "CREATE INDEX IF NOT EXISTS ix_complaints_ack_warn ON complaints_complaint (tenant_id, ack_warn_at) WHERE acknowledged_at IS NULL",
    "CREATE INDEX IF NOT EXISTS ix_complaints_resolve_warn ON complaints_complaint (tenant_id, resolve_warn_at) WHERE resolved_at IS NULL",
    "CREATE INDEX IF NOT EXISTS ix_complaints_sku ON complaints_complaint (tenant_id, sku, received_at)",
    "CREATE INDEX IF NOT EXISTS ix_complaints_token ON complaints_complaint (tenant_id, token_hash)",
    "CREATE INDEX IF NOT EXISTS ix_complaints_customer ON complaints_complaint (tenant_id, customer_id)",
    "CREATE INDEX IF NOT EXISTS ix_complaints_contact ON complaints_complaint (tenant_id, contact_index)",
    "CREATE INDEX IF NOT EXISTS ix_complaints_action ON complaints_action (tenant_id, complaint_id, at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_complaints_escalation ON complaints_escalation (tenant_id, complaint_id, stage, trigger, cycle)",
    "CREATE INDEX IF NOT EXISTS ix_complaints_escalation_at ON complaints_escalation (tenant_id, at)",
    "CREATE INDEX IF NOT EXISTS ix_complaints_praise ON complaints_praise (tenant_id, received_at, id)",
    "CREATE INDEX IF NOT EXISTS ix_complaints_damage ON complaints_damage (tenant_id, occurred_at, id)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="complaints", description=DESCRIPTION)

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
