"""``mendian migrate``: piccolo migrations for core and every installed plugin, then the
PostgreSQL security pass (app role, grants, forced row-level security on tenant-owned tables).

Migrations run as the owner (``DATABASE_URL``'s user); the app later connects as
``MENDIAN_DB_APP_ROLE``, which owns nothing, is no superuser and has no BYPASSRLS.
"""

from __future__ import annotations

import os
from typing import Any

from piccolo.engine.base import Engine

from core.config import Settings

__all__ = ["migrate", "secure_postgres"]

# Tables the app role may only append to (CORE-12: append-only audit log).
APPEND_ONLY = {"audit_log"}


async def migrate(settings: Settings) -> None:
    """Apply every pending migration of every app, then secure PostgreSQL."""
    os.environ["PICCOLO_CONF"] = "core.piccolo_conf"
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.apps.migrations.tables import Migration

    import core.piccolo_conf as conf
    from core.db import Database

    # Migrate the database these settings name (not whatever piccolo_conf saw at import).
    engine = Database(settings).owner_engine
    conf.DB = engine
    Migration._meta.db = engine
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
