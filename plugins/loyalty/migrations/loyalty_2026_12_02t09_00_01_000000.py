"""Keys: PRIMARY KEY (tenant_id, id) on every loyalty table and a coupon → reward foreign key
(tenant_id, reward_id) on PostgreSQL; ``id NOT NULL`` on SQLite.

PostgreSQL: Citus needs tenant_id in every key. SQLite (the embedded single-node mode, never
distributed) keeps ``id`` as the key and gets no foreign key; but the three tables that
``loyalty_2026_11_23t16_30`` and ``2026_12_01t06_00`` created by hand declared
``id UUID PRIMARY KEY`` without ``NOT NULL``, which SQLite (unlike PostgreSQL) reads as a key
that admits NULL: they are rebuilt with ``NOT NULL``, rows and indexes kept.

Column sets are unchanged, so piccolo's migration state is too. Idempotent on PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString

ID = "2026-12-02T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Citus keys: primary key (tenant_id, id), coupon → reward"

TABLES = ["loyalty_account", "loyalty_entry", "loyalty_reward", "loyalty_coupon", "loyalty_referral"]
FOREIGN_KEYS = [
    ("loyalty_coupon", "fk_loyalty_coupon_reward", "tenant_id, reward_id", "loyalty_reward"),
]
AFTER = [
    # Deleting a reward (a purge, a tenant deletion) looks up its coupons through this index.
    "CREATE INDEX IF NOT EXISTS ix_loyalty_coupon_reward ON loyalty_coupon (tenant_id, reward_id)",
]
# table → (its DDL as ``…16_30`` / ``…06_00`` wrote it, with NOT NULL on id; its indexes)
SQLITE_REBUILD = {
    "loyalty_reward": (
        """CREATE TABLE loyalty_reward__new (
        id UUID PRIMARY KEY NOT NULL, tenant_id UUID NOT NULL, code VARCHAR(32) NOT NULL,
        name VARCHAR(200) NOT NULL, description TEXT NOT NULL DEFAULT '',
        points_cost BIGINT NOT NULL, stock BIGINT NULL, per_customer_limit INTEGER NULL,
        valid_days INTEGER NOT NULL DEFAULT 30, active BOOLEAN NOT NULL DEFAULT TRUE,
        created_at TIMESTAMPTZ NOT NULL)""",
        ["CREATE UNIQUE INDEX uq_loyalty_reward_code ON loyalty_reward (tenant_id, code)"],
    ),
    "loyalty_coupon": (
        """CREATE TABLE loyalty_coupon__new (
        id UUID PRIMARY KEY NOT NULL, tenant_id UUID NOT NULL, reward_id UUID NOT NULL,
        customer_id UUID NOT NULL, code VARCHAR(32) NOT NULL, status VARCHAR(16) NOT NULL,
        entry_id UUID NOT NULL, valid_until TIMESTAMPTZ NOT NULL, created_at TIMESTAMPTZ NOT NULL)""",
        [
            "CREATE UNIQUE INDEX uq_loyalty_coupon_code ON loyalty_coupon (tenant_id, code)",
            "CREATE INDEX ix_loyalty_coupon_customer ON loyalty_coupon (tenant_id, customer_id, reward_id)",
            *AFTER,
        ],
    ),
    "loyalty_referral": (
        """CREATE TABLE loyalty_referral__new (
        id UUID PRIMARY KEY NOT NULL, tenant_id UUID NOT NULL, customer_id UUID NOT NULL,
        referrer_id UUID NOT NULL, actor VARCHAR(64) NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL)""",
        ["CREATE UNIQUE INDEX uq_loyalty_referral ON loyalty_referral (tenant_id, customer_id)"],
    ),
}
PRIMARY_KEY = """
SELECT con.conname AS name,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns
FROM pg_constraint con
WHERE con.conrelid = to_regclass({}) AND con.contype = 'p'
"""


async def rebuild_sqlite(engine):
    for table, (create, indexes) in SQLITE_REBUILD.items():
        await engine.run_ddl(create)
        columns = ", ".join(
            f'"{c["name"]}"'
            for c in await engine.run_querystring(QueryString(f"PRAGMA table_info({table})"))
        )
        await engine.run_ddl(f"INSERT INTO {table}__new ({columns}) SELECT {columns} FROM {table}")
        await engine.run_ddl(f"DROP TABLE {table}")  # drops its indexes too
        await engine.run_ddl(f"ALTER TABLE {table}__new RENAME TO {table}")
        for sql in indexes:
            await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="loyalty", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        if isinstance(engine, SQLiteEngine):
            await rebuild_sqlite(engine)
        if not isinstance(engine, PostgresEngine):
            return
        for table in TABLES:
            rows = await engine.run_querystring(QueryString(PRIMARY_KEY, table))
            if list(rows[0]["columns"]) != ["tenant_id", "id"]:
                name = rows[0]["name"]
                await engine.run_ddl(
                    f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}", '
                    f'ADD CONSTRAINT "{name}" PRIMARY KEY (tenant_id, id)'
                )
        for table, name, columns, ref in FOREIGN_KEYS:
            if not await engine.run_querystring(
                QueryString("SELECT 1 FROM pg_constraint WHERE conname = {}", name)
            ):
                await engine.run_ddl(
                    f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY ({columns}) '
                    f'REFERENCES "{ref}" (tenant_id, id)'
                )
        for sql in AFTER:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
