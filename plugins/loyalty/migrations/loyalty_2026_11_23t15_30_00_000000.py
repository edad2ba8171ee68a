"""Tiers: the account's current tier and since when."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-23T15:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "loyalty_account.tier, tier_since"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="loyalty", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        await engine.run_ddl("ALTER TABLE loyalty_account ADD COLUMN tier VARCHAR(32) NOT NULL DEFAULT ''")
        await engine.run_ddl("ALTER TABLE loyalty_account ADD COLUMN tier_since TIMESTAMPTZ NULL")

    manager.add_raw(run)
    return manager
