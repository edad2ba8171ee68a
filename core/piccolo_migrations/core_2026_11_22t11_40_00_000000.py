"""Unique constraints and indexes of the core tables, every one leading with tenant_id.

Written as portable SQL (unique indexes work on SQLite and PostgreSQL alike, where
``ALTER TABLE … ADD CONSTRAINT`` does not).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T11:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "core unique constraints and indexes"

UNIQUE = {
    "store": ["tenant_id", "code"],
    "role": ["tenant_id", "code"],
    "staff": ["tenant_id", "login"],
    "api_key": ["tenant_id", "key_hash"],
    "customer": [
        ("phone", ["tenant_id", "phone_hash"]),
        ("email", ["tenant_id", "email_hash"]),
        ("card", ["tenant_id", "card_no"]),
    ],
    "customer_tag": ["tenant_id", "customer_id", "tag"],
    "customer_stats": ["tenant_id", "customer_id"],
    "customer_store_stats": ["tenant_id", "customer_id", "store_id"],
    "purchase": [
        ("receipt", ["tenant_id", "receipt_no"]),
        ("idem", ["tenant_id", "idempotency_key"]),
    ],
    "purchase_line": ["tenant_id", "purchase_id", "line_no"],
    "segment": ["tenant_id", "name"],
}

INDEXES = {
    "customer_name": ("customer", ["tenant_id", "name"]),
    "customer_home_store": ("customer", ["tenant_id", "home_store_id"]),
    "customer_created": ("customer", ["tenant_id", "created_at"]),
    "customer_tag_tag": ("customer_tag", ["tenant_id", "tag"]),
    "customer_stats_class": ("customer_stats", ["tenant_id", "value_class"]),
    "consent_customer": ("consent_record", ["tenant_id", "customer_id", "purpose", "channel"]),
    "purchase_customer": ("purchase", ["tenant_id", "customer_id", "occurred_at"]),
    "purchase_store_time": ("purchase", ["tenant_id", "store_id", "occurred_at"]),
    "purchase_refund_of": ("purchase", ["tenant_id", "refund_of_id"]),
    "interaction_customer": ("interaction", ["tenant_id", "customer_id", "occurred_at"]),
    "task_due": ("task", ["tenant_id", "status", "due_at"]),
    "task_customer": ("task", ["tenant_id", "customer_id"]),
    "revisit_plan_customer": ("revisit_plan", ["tenant_id", "customer_id"]),
    "audit_log_at": ("audit_log", ["tenant_id", "at"]),
    "event_outbox_pending": ("event_outbox", ["tenant_id", "dispatched_at"]),
    "store_tenant": ("store", ["tenant_id", "id"]),
}


def statements() -> list[str]:
    out = []
    for table, spec in UNIQUE.items():
        variants = spec if isinstance(spec[0], tuple) else [("key", spec)]
        for suffix, columns in variants:
            cols = ", ".join(columns)
            out.append(f"CREATE UNIQUE INDEX IF NOT EXISTS uq_{table}_{suffix} ON {table} ({cols})")
    for name, (table, columns) in INDEXES.items():
        out.append(f"CREATE INDEX IF NOT EXISTS ix_{name} ON {table} ({', '.join(columns)})")
    return out


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in statements():
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
