"""KPI targets and staff sign-ups (CORE-14): kpi_target (tenant-owned, PRIMARY KEY (tenant_id,
id), one target per KPI, scope and period), customer.created_by_staff_id, and ``kpis:write``
for existing tenants' built-in ``hq_manager`` role.

As in the calendar migration, the table and column are recorded in piccolo's state with
``add_table``/``add_column`` and created by the raw DDL (a composite key and partial unique
indexes are beyond piccolo).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Date, Timestamptz, Varchar
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

ID = "2026-12-03T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "kpi_target; customer.created_by_staff_id; kpis:write for hq_manager"

TABLES = {
    ("KpiTarget", "kpi_target"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("kpi", Varchar(length=96, default="")),
        ("store_id", UUID(null=True, default=None)),
        ("period", Varchar(length=8, default="")),
        ("period_start", Date(default=DateNow())),
        ("target", Varchar(length=40, default="")),
        ("set_by", Varchar(length=64, default="")),
        ("created_at", Timestamptz(default=TimestamptzNow())),
        ("updated_at", Timestamptz(default=TimestamptzNow())),
    ],
}
NEW_COLUMNS = [
    ("Customer", "customer", "created_by_staff_id", UUID(null=True, default=None)),
]

DDL = [
    """CREATE TABLE IF NOT EXISTS kpi_target (
        tenant_id UUID NOT NULL, id UUID NOT NULL, kpi VARCHAR(96) NOT NULL,
        store_id UUID NULL, period VARCHAR(8) NOT NULL, period_start DATE NOT NULL,
        target VARCHAR(40) NOT NULL, set_by VARCHAR(64) NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (tenant_id, id))""",
    # One target per (KPI, scope, period): NULL store_id is the chain, and NULLs are distinct
    # in unique indexes, hence two partial indexes.
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_kpi_target_chain ON kpi_target (tenant_id, kpi, period, period_start) WHERE store_id IS NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_kpi_target_store ON kpi_target (tenant_id, store_id, kpi, period, period_start) WHERE store_id IS NOT NULL",
    "ALTER TABLE customer ADD COLUMN created_by_staff_id UUID NULL",
    "CREATE INDEX IF NOT EXISTS ix_customer_created_by_staff ON customer (tenant_id, created_by_staff_id, created_at) WHERE created_by_staff_id IS NOT NULL",
]
BACKWARDS = [
    "DROP TABLE IF EXISTS kpi_target",
    "DROP INDEX IF EXISTS ix_customer_created_by_staff",
    "ALTER TABLE customer DROP COLUMN created_by_staff_id",
]


async def grant(engine, role_code: str, permission: str):
    """Existing tenants' built-in role ``role_code`` gets ``permission`` (new tenants get it
    from ``tenants.roles``). On PostgreSQL each tenant is set for RLS."""
    import json

    tenants = await engine.run_querystring(QueryString("SELECT id FROM tenant")) or []
    for tenant in tenants:
        if isinstance(engine, PostgresEngine):
            await engine.run_querystring(
                QueryString("SELECT set_config('app.tenant_id', {}, true)", str(tenant["id"]))
            )
        roles = await engine.run_querystring(
            QueryString(
                "SELECT id, permissions FROM role WHERE tenant_id = {} AND code = {}",
                tenant["id"],
                role_code,
            )
        ) or []
        for role in roles:
            raw = role["permissions"]
            permissions = json.loads(raw) if isinstance(raw, (str, bytes)) else list(raw or [])
            if permission in permissions or "*" in permissions:
                continue
            await engine.run_querystring(
                QueryString(
                    "UPDATE role SET permissions = {} WHERE tenant_id = {} AND id = {}",
                    json.dumps(sorted({*permissions, permission})),
                    tenant["id"],
                    role["id"],
                )
            )


class _StateOnly(MigrationManager):
    """Records ``add_table``/``add_column`` in the migration state; the raw DDL does the work."""

    async def _run_add_tables(self, backwards=False):
        return None

    async def _run_add_columns(self, backwards=False):
        return None


def _record(manager, class_name, tablename, name, column):
    manager.add_column(
        table_class_name=class_name, tablename=tablename, column_name=name,
        db_column_name=name, column_class_name=type(column).__name__,
        column_class=type(column), params=column._meta.params,
    )


async def forwards():
    manager = _StateOnly(migration_id=ID, app_name="core", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename)
        for name, column in columns:
            _record(manager, class_name, tablename, name, column)
    for class_name, tablename, name, column in NEW_COLUMNS:
        _record(manager, class_name, tablename, name, column)

    async def run():
        engine = engine_finder()
        for sql in DDL:
            await engine.run_ddl(sql)
        await grant(engine, "hq_manager", "kpis:write")

    async def run_backwards():
        engine = engine_finder()
        for sql in BACKWARDS:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
