"""Indexes (tenant first) and the database-enforced rules: points never negative."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-23T15:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "loyalty indexes and non-negative points"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_loyalty_account ON loyalty_account (tenant_id, customer_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_loyalty_entry_key ON loyalty_entry (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_loyalty_entry_source ON loyalty_entry (tenant_id, source, source_id, kind) WHERE source_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS ix_loyalty_entry_customer ON loyalty_entry (tenant_id, customer_id, created_at)",
]
SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS loyalty_points_nonnegative_update BEFORE UPDATE OF points ON loyalty_account
       WHEN NEW.points < 0 BEGIN SELECT RAISE(ABORT, 'loyalty points would go negative'); END""",
    """CREATE TRIGGER IF NOT EXISTS loyalty_points_nonnegative_insert BEFORE INSERT ON loyalty_account
       WHEN NEW.points < 0 BEGIN SELECT RAISE(ABORT, 'loyalty points would go negative'); END""",
    """CREATE TRIGGER IF NOT EXISTS loyalty_entry_append_only BEFORE UPDATE ON loyalty_entry
       BEGIN SELECT RAISE(ABORT, 'loyalty entries are never changed'); END""",
]
POSTGRES = [
    "ALTER TABLE loyalty_account DROP CONSTRAINT IF EXISTS loyalty_points_nonnegative",
    "ALTER TABLE loyalty_account ADD CONSTRAINT loyalty_points_nonnegative CHECK (points >= 0)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="loyalty", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in INDEXES + (SQLITE if isinstance(engine, SQLiteEngine) else POSTGRES):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
