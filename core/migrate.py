"""``mendian migrate``: piccolo migrations for core and every installed plugin, then the
PostgreSQL security pass (app role, grants, forced row-level security on tenant-owned tables).

:func:`check` (``mendian migrate --check``) compares, per app, the schema piccolo reconstructs
from the app's migrations with its Table classes, and the live database with the Table classes
(and, on PostgreSQL, the Citus rules of :mod:`core.citus`); :func:`citus_sql`
(``--citus-sql``) prints the Citus distribution calls.

Migrations run as the owner (``DATABASE_URL``'s user); the app later connects as
``MENDIAN_DB_APP_ROLE``, which owns nothing, is no superuser and has no BYPASSRLS.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from piccolo.engine.base import Engine
from piccolo.table import Table

from core.citus import Catalog
from core.config import Settings

__all__ = ["Difference", "check", "citus_sql", "migrate", "secure_postgres"]

# Tables the app role may only append to (CORE-12: append-only audit log).
APPEND_ONLY = {"audit_log"}


def _owner_engine(settings: Settings) -> Engine:
    """The owner engine of the database these settings name, made piccolo's engine (not
    whatever ``piccolo_conf`` saw at import)."""
    os.environ["PICCOLO_CONF"] = "core.piccolo_conf"
    from piccolo.apps.migrations.tables import Migration

    import core.piccolo_conf as conf
    from core.db import Database

    engine = Database(settings).owner_engine
    conf.DB = engine
    Migration._meta.db = engine
    return engine


async def migrate(settings: Settings) -> None:
    """Apply every pending migration of every app, then secure PostgreSQL."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    engine = _owner_engine(settings)
    if settings.database.dialect == "sqlite":
        settings.home.mkdir(parents=True, exist_ok=True)
        # WAL persists in the file: readers never block the single writer.
        await engine._run_in_new_connection("PRAGMA journal_mode=WAL")  # type: ignore[attr-defined]
    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")
    if settings.database.dialect == "postgres":
        await secure_postgres(engine, settings)


def _plugin_append_only() -> set[str]:
    from core import __version__
    from core.plugins.registry import PluginRegistry

    registry = PluginRegistry(core_version=__version__).discover()
    return {t for p in registry.plugins.values() for t in p.manifest.append_only}


async def _run(engine: Engine, sql: str) -> list[dict[str, Any]]:
    rows = await engine._run_in_new_connection(sql)  # type: ignore[attr-defined]
    return [dict(r) for r in rows or []]


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def secure_postgres(engine: Engine, settings: Settings) -> None:
    """Idempotently: create the app role, grant it DML, force RLS on every tenant-owned table."""
    role = settings.app_role
    if not role.replace("_", "").isalnum():
        raise ValueError("MENDIAN_DB_APP_ROLE must be an identifier")
    exists = await _run(engine, f"SELECT 1 FROM pg_roles WHERE rolname = {_quote_literal(role)}")
    if not exists:
        password = settings.app_role_password
        pw = f" PASSWORD {_quote_literal(password)}" if password else ""
        await _run(
            engine,
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE{pw}",
        )
    await _run(engine, f"ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS")
    await _run(engine, f"GRANT USAGE ON SCHEMA public TO {role}")
    tables = await _run(
        engine,
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    tenant_tables = {
        r["table_name"]
        for r in await _run(
            engine,
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'tenant_id'",
        )
    }
    append_only = APPEND_ONLY | _plugin_append_only()
    statements: list[str] = []
    for row in tables:
        name = row["table_name"]
        if name == "migration":
            continue
        privileges = "SELECT, INSERT" if name in append_only else "SELECT, INSERT, UPDATE, DELETE"
        statements += [
            f'REVOKE ALL ON "{name}" FROM {role}',
            f'GRANT {privileges} ON "{name}" TO {role}',
        ]
        if name in tenant_tables:
            check = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
            statements += [
                f'ALTER TABLE "{name}" ENABLE ROW LEVEL SECURITY',
                f'ALTER TABLE "{name}" FORCE ROW LEVEL SECURITY',
                f'DROP POLICY IF EXISTS tenant_isolation ON "{name}"',
                f'CREATE POLICY tenant_isolation ON "{name}" USING ({check}) WITH CHECK ({check})',
            ]
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    connection = await engine.get_new_connection()  # type: ignore[attr-defined]
    try:
        async with connection.transaction():
            await connection.execute(";\n".join(statements))
    finally:
        await connection.close()


# --- mendian migrate --check ------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One way tables, migrations and database disagree.

    ``source`` is ``"migrations"`` (piccolo's state, rebuilt from the app's migrations, differs
    from the Table classes: ``piccolo migrations new APP --auto`` would write this),
    ``"database"`` (the live schema differs from the Table classes) or ``"citus"`` (a Citus rule
    is broken, PostgreSQL only).
    """

    app: str
    source: str
    message: str

    def __str__(self) -> str:
        return f"[{self.app}] {self.source}: {self.message}"


def _app_configs() -> list[Any]:
    from piccolo.conf.apps import Finder

    return list(Finder().get_app_configs(sort_by_migration_dependencies=True))


async def _state_differences(app: Any) -> list[Difference]:
    """(a) piccolo's schema snapshot of the app's migrations against its Table classes."""
    from piccolo.apps.migrations.auto.diffable_table import DiffableTable
    from piccolo.apps.migrations.auto.schema_snapshot import SchemaSnapshot
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    managers = await BaseMigrationManager().get_migration_managers(app_config=app)
    snapshot = {t.class_name: t for t in SchemaSnapshot(managers=managers).get_snapshot()}
    out: list[Difference] = []

    def diff(message: str) -> None:
        out.append(Difference(app.app_name, "migrations", message))

    for table in app.table_classes:
        name, tablename = table.__name__, table._meta.tablename
        state = snapshot.pop(name, None)
        if state is None:
            diff(f"{tablename}: table class {name} is created by no migration")
            continue
        if state.tablename != tablename:
            diff(f"{name}: migrations name the table {state.tablename}, the class {tablename}")
        current = DiffableTable(
            class_name=name,
            tablename=tablename,
            columns=table._meta.non_default_columns,
            constraints=table._meta.constraints,
            schema=table._meta.schema,
        )
        delta = current - state
        for add in delta.add_columns:
            diff(f"{tablename}.{add.column_name}: in the Table class, not in the migrations")
        for drop in delta.drop_columns:
            diff(f"{tablename}.{drop.column_name}: in the migrations, not in the Table class")
        for alter in delta.alter_columns:
            changed = ", ".join(
                f"{k} {alter.old_params.get(k)!r} → {v!r}" for k, v in sorted(alter.params.items())
            )
            old, new = alter.old_column_class, alter.column_class
            if old is not None and new is not None and old is not new:
                changed = f"type {old.__name__} → {new.__name__}" + (
                    f", {changed}" if changed else ""
                )
            diff(f"{tablename}.{alter.column_name}: migrations differ from the class ({changed})")
        for added in delta.add_constraints:
            diff(f"{tablename}: constraint {added.constraint_name} not in the migrations")
        for dropped in delta.drop_constraints:
            diff(f"{tablename}: constraint {dropped.constraint_name} only in the migrations")
    for state in snapshot.values():
        diff(f"{state.tablename}: created by the migrations, no Table class {state.class_name}")
    return out


_PG_TYPES = {"timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp"}


def _expected_type(column: Any) -> str:
    """A column class as a type name comparable on both backends (see :func:`_live_type`)."""
    kind = type(column).__name__.lower()
    if kind in ("varchar", "secret", "email") and getattr(column, "length", None):
        return f"varchar({column.length})"
    return "double precision" if kind == "doubleprecision" else kind


def _live_type(dialect: str, declared: str) -> str:
    declared = declared.lower().strip()
    if dialect == "postgres":
        declared = re.sub(r"^character varying", "varchar", declared)
        return _PG_TYPES.get(declared, declared)
    # SQLite keeps the declared type: piccolo declares BIGINT as INTEGER there.
    declared = declared.replace(" ", "")
    return "integer" if declared in ("bigint", "smallint") else declared


def _comparable(dialect: str, expected: str) -> str:
    if dialect == "sqlite" and expected in ("bigint", "smallint"):
        return "integer"
    return expected


Live = dict[str, dict[str, tuple[str, bool, int]]]
"""table → column → (type, NOT NULL, position in the primary key or 0)."""


def _pg_live(catalog: Catalog) -> Live:
    out: Live = {}
    for table, columns in catalog.columns.items():
        key = catalog.primary_keys.get(table, ())
        out[table] = {
            name: (
                _live_type("postgres", kind),
                not_null,
                key.index(name) + 1 if name in key else 0,
            )
            for name, (kind, not_null) in columns.items()
        }
    return out


async def _sqlite_live(engine: Engine) -> Live:
    names = await _run(
        engine, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    out: Live = {}
    for row in names:
        info = await _run(engine, f'PRAGMA table_info("{row["name"]}")')
        out[row["name"]] = {
            c["name"]: (_live_type("sqlite", c["type"]), bool(c["notnull"]), int(c["pk"]))
            for c in info
        }
    return out


def _database_differences(app: Any, live: Live, dialect: str) -> list[Difference]:
    """(b) the live tables and columns against the app's Table classes."""
    from core.db import TenantScoped

    out: list[Difference] = []

    def diff(message: str) -> None:
        out.append(Difference(app.app_name, "database", message))

    for table in app.table_classes:
        tablename = table._meta.tablename
        columns = live.get(tablename)
        if columns is None:
            diff(f"{tablename}: no such table in the database (pending migration?)")
            continue
        declared = {c._meta.db_column_name: c for c in table._meta.columns}
        for name in sorted(declared.keys() - columns.keys()):
            diff(f"{tablename}.{name}: in the Table class, not in the database")
        for name in sorted(columns.keys() - declared.keys()):
            diff(f"{tablename}.{name}: in the database, not in the Table class")
        for name in sorted(declared.keys() & columns.keys()):
            column, (kind, not_null, _pk) = declared[name], columns[name]
            expected = _comparable(dialect, _expected_type(column))
            if kind != expected:
                diff(f"{tablename}.{name}: type {kind} in the database, {expected} in the class")
            if not_null != (not column._meta.null):
                diff(
                    f"{tablename}.{name}: {'NOT NULL' if not_null else 'NULL'} in the database, "
                    f"{'NULL' if column._meta.null else 'NOT NULL'} in the class"
                )
        if dialect == "sqlite":  # on PostgreSQL the Citus rules check the keys
            pk = tuple(n for n, c in sorted(columns.items(), key=lambda x: x[1][2]) if c[2])
            key = table._meta.primary_key._meta.db_column_name
            # Single node: the class's key alone, or (tenant_id, key) as on PostgreSQL.
            allowed = [(key,), ("tenant_id", key)] if issubclass(table, TenantScoped) else [(key,)]
            if pk not in allowed:
                diff(f"{tablename}: primary key ({', '.join(pk)}), expected ({key})")
    return out


async def _pending(engine: Engine, apps: list[Any]) -> list[Difference]:
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.tables import Migration

    ran: set[tuple[str, str]] = set()
    if await Migration.table_exists():
        ran = {
            (r["app_name"], r["name"])
            for r in await Migration.select(Migration.app_name, Migration.name)
        }
    out: list[Difference] = []
    base = BaseMigrationManager()
    for app in apps:
        ids = base.get_migration_ids(
            base.get_migration_modules(app.resolved_migrations_folder_path)
        )
        for migration_id in ids:
            if (app.app_name, migration_id) not in ran:
                out.append(
                    Difference(app.app_name, "database", f"migration {migration_id} not applied")
                )
    return out


async def check(settings: Settings) -> list[Difference]:
    """Every difference between each app's Table classes, its migrations' piccolo state and the
    live database (plus the Citus rules on PostgreSQL); empty when they agree.

    Reads only: run it after ``mendian migrate`` (a pending migration is a difference).
    """
    from core.citus import LOCAL_TABLES, kinds, problems, read_catalog

    engine = _owner_engine(settings)
    dialect = settings.database.dialect
    apps = _app_configs()
    out: list[Difference] = []
    for app in apps:
        out += await _state_differences(app)
    out += await _pending(engine, apps)
    catalog = await read_catalog(engine) if dialect == "postgres" else None
    live = _pg_live(catalog) if catalog else await _sqlite_live(engine)
    for app in apps:
        out += _database_differences(app, live, dialect)
    tables: list[type[Table]] = [t for app in apps for t in app.table_classes]
    declared = {t._meta.tablename for t in tables} | LOCAL_TABLES
    for name in sorted(live.keys() - declared):
        out.append(Difference("-", "database", f"{name}: no installed app declares this table"))
    if catalog is not None:
        out += [Difference("-", "citus", p) for p in problems(catalog, kinds(tables))]
    return out


async def citus_sql(settings: Settings, apps: Collection[str] | None = None) -> list[str]:
    """The Citus calls for every table of every installed app (or of ``apps``), in an order
    Citus accepts (the foreign keys come from the PostgreSQL catalog)."""
    from core.citus import distribution_sql, read_catalog

    if settings.database.dialect != "postgres":
        raise ValueError("--citus-sql reads the PostgreSQL catalog: set DATABASE_URL=postgres://…")
    engine = _owner_engine(settings)
    tables = [
        t
        for app in _app_configs()
        if apps is None or app.app_name in apps
        for t in app.table_classes
    ]
    return distribution_sql(tables, (await read_catalog(engine)).foreign_keys)
