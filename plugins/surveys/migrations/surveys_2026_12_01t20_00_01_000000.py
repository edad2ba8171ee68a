"""The surveys tables' keys: on PostgreSQL the Citus-ready primary key (tenant_id, id); unique
and plain indexes leading with tenant_id. (Raw DDL runs before a migration's tables are
created, so keys come in the migration after the tables'.)"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-01T20:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "surveys keys and indexes"

TABLES = [
    "surveys_survey", "surveys_link", "surveys_response", "surveys_answer", "surveys_trigger",
    "surveys_download",
]
INDEXES = [
    "CREATE INDEX IF NOT EXISTS ix_surveys_survey_family ON surveys_survey (tenant_id, family_id, version)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_surveys_survey_builtin ON surveys_survey (tenant_id, builtin) WHERE builtin <> ''",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_surveys_link_token ON surveys_link (tenant_id, token_hash) WHERE token_hash IS NOT NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_surveys_link_source ON surveys_link (tenant_id, source_key) WHERE source_key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS ix_surveys_link_due ON surveys_link (tenant_id, status, send_after)",
    "CREATE INDEX IF NOT EXISTS ix_surveys_link_customer ON surveys_link (tenant_id, customer_id, sent_at)",
    "CREATE INDEX IF NOT EXISTS ix_surveys_link_survey ON surveys_link (tenant_id, survey_id, kind)",
    "CREATE INDEX IF NOT EXISTS ix_surveys_response_survey ON surveys_response (tenant_id, survey_id, answered_at)",
    "CREATE INDEX IF NOT EXISTS ix_surveys_response_customer ON surveys_response (tenant_id, customer_id, answered_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_surveys_response_link ON surveys_response (tenant_id, link_id) WHERE channel = 'link'",
    "CREATE INDEX IF NOT EXISTS ix_surveys_answer_survey ON surveys_answer (tenant_id, survey_id, answered_at)",
    "CREATE INDEX IF NOT EXISTS ix_surveys_answer_response ON surveys_answer (tenant_id, response_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_surveys_trigger ON surveys_trigger (tenant_id, survey_id, kind)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_surveys_download ON surveys_download (tenant_id, token_hash)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="surveys", description=DESCRIPTION)

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
