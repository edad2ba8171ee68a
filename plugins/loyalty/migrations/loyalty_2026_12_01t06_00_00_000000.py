"""Pending points (locked for the return window) and referrals."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-01T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "pending points on accounts and entries; loyalty_referral"

DDL = [
    "ALTER TABLE loyalty_account ADD COLUMN pending BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE loyalty_entry ADD COLUMN pending BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE loyalty_entry ADD COLUMN available_at TIMESTAMPTZ NULL",
    "CREATE INDEX IF NOT EXISTS ix_loyalty_entry_pending ON loyalty_entry (tenant_id, available_at) WHERE available_at IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS loyalty_referral (
        id UUID PRIMARY KEY, tenant_id UUID NOT NULL, customer_id UUID NOT NULL,
        referrer_id UUID NOT NULL, actor VARCHAR(64) NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_loyalty_referral ON loyalty_referral (tenant_id, customer_id)",
]
SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS loyalty_pending_nonnegative_update BEFORE UPDATE OF pending ON loyalty_account
       WHEN NEW.pending < 0 BEGIN SELECT RAISE(ABORT, 'pending points would go negative'); END""",
]
POSTGRES = [
    "ALTER TABLE loyalty_account DROP CONSTRAINT IF EXISTS loyalty_pending_nonnegative",
    "ALTER TABLE loyalty_account ADD CONSTRAINT loyalty_pending_nonnegative CHECK (pending >= 0)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="loyalty", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in DDL + (SQLITE if isinstance(engine, SQLiteEngine) else POSTGRES):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
