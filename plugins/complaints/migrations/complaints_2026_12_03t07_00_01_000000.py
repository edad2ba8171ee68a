"""The index a follow-up link is looked up by (raw DDL runs before a migration's columns are
added, so it comes in the migration after the column's)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-03T07:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "complaints follow-up token index"

INDEXES = [
    "CREATE INDEX IF NOT EXISTS ix_complaints_follow_up_token ON complaints_complaint "
    "(tenant_id, follow_up_token_hash)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="complaints", description=DESCRIPTION)

    async def indexes():
        engine = engine_finder()
        for sql in INDEXES:
            await engine.run_ddl(sql)

    manager.add_raw(indexes)
    return manager
