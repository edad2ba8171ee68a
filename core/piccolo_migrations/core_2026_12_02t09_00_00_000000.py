"""Citus keys: PRIMARY KEY (tenant_id, id) on every tenant-owned core table, and foreign keys
that pair tenant_id with tenant_id where integrity matters (a purchase's lines, a refund's
original sale and line).

PostgreSQL only. SQLite is the embedded single-node mode and is never distributed: its primary
keys stay ``id`` (stricter than ``(tenant_id, id)``: ids are random UUIDs) and it gets no
foreign keys (SQLite cannot add a constraint without rebuilding the table, and enforces none
unless every connection turns ``PRAGMA foreign_keys`` on).

The column sets do not change, so piccolo's migration state (columns, ``primary_key=True`` on
``id``) is unchanged; ``core.citus`` and ``mendian migrate --check`` know that a tenant-owned
table's database key is ``(tenant_id, id)``. Idempotent: a table whose key is already
``(tenant_id, id)`` and a foreign key that exists are left alone.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-02T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Citus keys: primary key (tenant_id, id), composite foreign keys"

TABLES = [
    "store",
    "role",
    "staff",
    "api_key",
    "customer",
    "customer_tag",
    "customer_stats",
    "customer_store_stats",
    "consent_record",
    "purchase",
    "purchase_line",
    "interaction",
    "task",
    "revisit_plan",
    "segment",
    "audit_log",
    "event_outbox",
    "tenant_module",
    "plugin_problem",
    "event_delivery",
    "webhook_subscription",
    "message",
    "message_template",
    "message_log",
]
# (table, constraint, columns, referenced table): every key pairs tenant_id with tenant_id, so a
# row can only point at a row of its own tenant (and, on Citus, of its own shard).
FOREIGN_KEYS = [
    ("purchase_line", "fk_purchase_line_purchase", "tenant_id, purchase_id", "purchase"),
    ("purchase", "fk_purchase_refund_of", "tenant_id, refund_of_id", "purchase"),
    ("purchase_line", "fk_purchase_line_refund_of", "tenant_id, refund_of_line_id", "purchase_line"),
]
AFTER = [
    # A deleted line looks up the refund lines pointing at it: without this index every line a
    # tenant deletion removes would scan the tenant's lines.
    "CREATE INDEX IF NOT EXISTS ix_purchase_line_refund_of ON purchase_line (tenant_id, refund_of_line_id) WHERE refund_of_line_id IS NOT NULL",
    # The primary key (tenant_id, id) is this index now.
    "DROP INDEX IF EXISTS ix_store_tenant",
]

PRIMARY_KEY = """
SELECT con.conname AS name,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns
FROM pg_constraint con
WHERE con.conrelid = to_regclass({}) AND con.contype = 'p'
"""


async def widen_primary_keys(engine, tables):
    """Replace each table's primary key by (tenant_id, id), keeping the constraint's name."""
    from piccolo.querystring import QueryString

    for table in tables:
        rows = await engine.run_querystring(QueryString(PRIMARY_KEY, table))
        if rows and list(rows[0]["columns"]) == ["tenant_id", "id"]:
            continue
        name = rows[0]["name"] if rows else f"{table}_pkey"
        drop = f'DROP CONSTRAINT "{name}", ' if rows else ""
        await engine.run_ddl(
            f'ALTER TABLE "{table}" {drop}ADD CONSTRAINT "{name}" PRIMARY KEY (tenant_id, id)'
        )


async def add_foreign_keys(engine, foreign_keys):
    from piccolo.querystring import QueryString

    for table, name, columns, ref in foreign_keys:
        exists = await engine.run_querystring(
            QueryString("SELECT 1 FROM pg_constraint WHERE conname = {}", name)
        )
        if not exists:
            await engine.run_ddl(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY ({columns}) '
                f'REFERENCES "{ref}" (tenant_id, id)'
            )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        if not isinstance(engine, PostgresEngine):
            return
        await widen_primary_keys(engine, TABLES)
        await add_foreign_keys(engine, FOREIGN_KEYS)
        for sql in AFTER:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
