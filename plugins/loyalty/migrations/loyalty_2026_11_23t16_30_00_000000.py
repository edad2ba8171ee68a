"""Rewards catalogue and coupons."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-23T16:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "loyalty_reward, loyalty_coupon"

DDL = [
    """CREATE TABLE IF NOT EXISTS loyalty_reward (
        id UUID PRIMARY KEY, tenant_id UUID NOT NULL, code VARCHAR(32) NOT NULL,
        name VARCHAR(200) NOT NULL, description TEXT NOT NULL DEFAULT '',
        points_cost BIGINT NOT NULL, stock BIGINT NULL, per_customer_limit INTEGER NULL,
        valid_days INTEGER NOT NULL DEFAULT 30, active BOOLEAN NOT NULL DEFAULT TRUE,
        created_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS loyalty_coupon (
        id UUID PRIMARY KEY, tenant_id UUID NOT NULL, reward_id UUID NOT NULL,
        customer_id UUID NOT NULL, code VARCHAR(32) NOT NULL, status VARCHAR(16) NOT NULL,
        entry_id UUID NOT NULL, valid_until TIMESTAMPTZ NOT NULL, created_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_loyalty_reward_code ON loyalty_reward (tenant_id, code)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_loyalty_coupon_code ON loyalty_coupon (tenant_id, code)",
    "CREATE INDEX IF NOT EXISTS ix_loyalty_coupon_customer ON loyalty_coupon (tenant_id, customer_id, reward_id)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="loyalty", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in DDL:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
