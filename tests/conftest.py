"""Test backends: SQLite always; PostgreSQL when ``DATABASE_URL`` points at it.

Each backend gets a fresh, migrated database for the session (PostgreSQL: a throwaway database
created from ``DATABASE_URL``; the app connects to it as the RLS-bound app role). Tests isolate
themselves by making their own tenants — which is what the product does too.

``MENDIAN_REQUIRE_SERVICES=1`` (set by ``.ci/run``) turns "PostgreSQL/Redis unreachable" into a
failure instead of a skip.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="mendian-test-"))
os.environ["MENDIAN_HOME"] = str(_HOME)
os.environ.setdefault("MENDIAN_SECRET_KEY", "test-secret-key-0123456789-abcdefghijklmnop")
os.environ.setdefault("MENDIAN_ADMIN_TOKEN", "test-admin-token-0123456789")

from core.config import DatabaseURL, Settings, get_settings, load_settings  # noqa: E402
from core.context import Actor, TenantInfo  # noqa: E402
from core.db import Database, set_database, tenant_tables  # noqa: E402

PG_URL = os.environ.get("DATABASE_URL", "")
REQUIRE = os.environ.get("MENDIAN_REQUIRE_SERVICES") == "1"
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL.startswith("postgres") else [])
if REQUIRE and "postgres" not in BACKENDS:
    raise RuntimeError("MENDIAN_REQUIRE_SERVICES=1 but DATABASE_URL is not a PostgreSQL URL")


def _settings(database_url: str) -> Settings:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    return load_settings(env)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    url = DatabaseURL.parse(PG_URL)
    conn = await asyncpg.connect(**url.asyncpg_config())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=BACKENDS)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    from core.migrate import migrate

    get_settings.cache_clear()
    if request.param == "sqlite":
        settings = _settings(f"sqlite:///{_HOME / f'test-{uuid.uuid4().hex[:8]}.sqlite3'}")
        drop = None
    else:
        name = f"mendian_test_{uuid.uuid4().hex[:10]}"
        try:
            await _pg_admin(f'CREATE DATABASE "{name}"')
        except OSError as exc:
            if REQUIRE:
                pytest.fail(f"PostgreSQL unreachable at DATABASE_URL: {exc}")
            pytest.skip(f"PostgreSQL unreachable: {exc}")
        base = PG_URL.rsplit("/", 1)[0]
        settings = _settings(f"{base}/{name}")
        drop = name
    await migrate(settings)
    db = Database(settings)
    db.bind(tenant_tables())
    from core.tables import TABLES

    db.bind(TABLES)
    await db.start()
    yield db
    await db.stop()
    set_database(None)
    if drop:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')


@pytest.fixture
async def db(backend: Database) -> AsyncIterator[Database]:
    from core.tables import TABLES

    backend.bind([*TABLES, *tenant_tables()])
    set_database(backend)
    yield backend


@pytest.fixture
def owner() -> Actor:
    return Actor(kind="staff", id=str(uuid.uuid4()), role="owner")


async def make_tenant(**overrides: object) -> TenantInfo:
    from tenants.service import create_tenant

    data = {"slug": f"t-{uuid.uuid4().hex[:12]}", "name": "Test chain"} | overrides
    return await create_tenant(data)


@pytest.fixture
async def tenant(db: Database) -> TenantInfo:
    return await make_tenant()


@pytest.fixture
async def other_tenant(db: Database) -> TenantInfo:
    return await make_tenant()


@pytest.fixture
async def store(tenant: TenantInfo, owner: Actor) -> uuid.UUID:
    from tenants.service import create_store

    row = await create_store(tenant, owner, {"code": "S1", "name": "Store one"})
    return uuid.UUID(str(row["id"]))


@pytest.fixture
def pg_only(db: Database) -> Database:
    if not db.is_postgres:
        pytest.skip("PostgreSQL-only behaviour")
    return db
