"""Find a subject's events (a refund's reversal asks whether its sale's accrual is still due)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-01T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "event_outbox index by subject"

STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS ix_event_outbox_subject ON event_outbox (tenant_id, name, subject_id)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in STATEMENTS:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
