"""Citus key: PRIMARY KEY (tenant_id, id) on sample_visit (PostgreSQL; SQLite keeps ``id``).

What a plugin's raw migration looks like: self-contained SQL, portable where it must be, guarded
where only PostgreSQL can do it. The column set does not change, so piccolo's state does not.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-01T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sample_visit primary key (tenant_id, id)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sample", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            # piccolo named the key of the table it created "<table>_pkey".
            await engine.run_ddl(
                "ALTER TABLE sample_visit DROP CONSTRAINT sample_visit_pkey, "
                "ADD CONSTRAINT sample_visit_pkey PRIMARY KEY (tenant_id, id)"
            )

    manager.add_raw(run)
    return manager
