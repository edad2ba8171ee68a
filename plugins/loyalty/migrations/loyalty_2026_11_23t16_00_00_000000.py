"""Expiry: when each award's points lapse."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-23T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "loyalty_entry.expires_at"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="loyalty", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        await engine.run_ddl("ALTER TABLE loyalty_entry ADD COLUMN expires_at TIMESTAMPTZ NULL")

    manager.add_raw(run)
    return manager
