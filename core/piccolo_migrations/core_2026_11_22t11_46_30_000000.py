"""Unique constraints and indexes of the plugin-framework and messaging tables (tenant_id first)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T11:46:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "plugin framework and messaging indexes"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_tenant_module_key ON tenant_module (tenant_id, plugin_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_event_delivery_key ON event_delivery (tenant_id, event_id, plugin_id)",
    "CREATE INDEX IF NOT EXISTS ix_event_delivery_due ON event_delivery (tenant_id, status, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS ix_plugin_problem_at ON plugin_problem (tenant_id, plugin_id, at)",
    "CREATE INDEX IF NOT EXISTS ix_webhook_subscription ON webhook_subscription (tenant_id, active)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_message_idem ON message (tenant_id, idempotency_key)",
    "CREATE INDEX IF NOT EXISTS ix_message_due ON message (tenant_id, status, not_before)",
    "CREATE INDEX IF NOT EXISTS ix_message_customer ON message (tenant_id, customer_id, created_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_message_template_key ON message_template (tenant_id, key, locale)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_message_log_idem ON message_log (tenant_id, idempotency_key)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in STATEMENTS:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
