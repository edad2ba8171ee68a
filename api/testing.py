"""Mendian's pytest plugin (registered as ``pytest11: mendian``), for Mendian's own tests and
for plugin authors.

Fixtures: ``db`` (a fresh, migrated database per backend and session: SQLite always, PostgreSQL
too when ``DATABASE_URL`` is set, connected as the RLS-bound app role), ``runtime`` (the
installed plugins), ``tenant`` / ``other_tenant`` / ``make_tenant``, ``owner``, ``store``,
``enable_plugins``, ``deliver_events``, ``captured_events`` and ``captured_messages``.

Configure pytest-asyncio with ``asyncio_default_fixture_loop_scope = "session"`` and
``asyncio_default_test_loop_scope = "session"`` (the database pool lives for the session).
``MENDIAN_REQUIRE_SERVICES=1`` turns an unreachable PostgreSQL into a failure, not a skip.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="mendian-test-"))
os.environ["MENDIAN_HOME"] = str(_HOME)
os.environ.setdefault("MENDIAN_SECRET_KEY", "test-secret-key-0123456789-abcdefghijklmnop")
os.environ.setdefault("MENDIAN_ADMIN_TOKEN", "test-admin-token-0123456789")

from core.config import DatabaseURL, Settings, get_settings, load_settings  # noqa: E402
from core.context import Actor, TenantInfo  # noqa: E402
from core.db import Database, json_value, set_database, tenant_tables, tenant_tx  # noqa: E402

__all__ = ["BACKENDS", "PG_URL", "REQUIRE", "make_tenant"]

PG_URL = os.environ.get("DATABASE_URL", "")
REQUIRE = os.environ.get("MENDIAN_REQUIRE_SERVICES") == "1"
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL.startswith("postgres") else [])


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE and "postgres" not in BACKENDS:
        raise pytest.UsageError(
            "MENDIAN_REQUIRE_SERVICES=1 but DATABASE_URL is not a PostgreSQL URL"
        )


def _settings(database_url: str) -> Settings:
    return load_settings(dict(os.environ) | {"DATABASE_URL": database_url})


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(**DatabaseURL.parse(PG_URL).asyncpg_config())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _all_tables() -> list[Any]:
    from core.tables import TABLES

    return [*TABLES, *tenant_tables()]


@pytest.fixture(scope="session", params=BACKENDS)
async def mendian_backend(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A migrated database for the session, per backend."""
    from core.migrate import migrate

    get_settings.cache_clear()
    drop = None
    if request.param == "sqlite":
        settings = _settings(f"sqlite:///{_HOME / f'test-{uuid.uuid4().hex[:8]}.sqlite3'}")
    else:
        name = f"mendian_test_{uuid.uuid4().hex[:10]}"
        try:
            await _pg_admin(f'CREATE DATABASE "{name}"')
        except OSError as exc:
            if REQUIRE:
                pytest.fail(f"PostgreSQL unreachable at DATABASE_URL: {exc}")
            pytest.skip(f"PostgreSQL unreachable: {exc}")
        settings = _settings(f"{PG_URL.rsplit('/', 1)[0]}/{name}")
        drop = name
    await migrate(settings)
    db = Database(settings)
    db.bind(_all_tables())
    await db.start()
    yield db
    await db.stop()
    set_database(None)
    if drop:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')


@pytest.fixture
async def db(mendian_backend: Database) -> AsyncIterator[Database]:
    """The session's database, made current for this test."""
    mendian_backend.bind(_all_tables())
    set_database(mendian_backend)
    yield mendian_backend


@pytest.fixture
def pg_only(db: Database) -> Database:
    if not db.is_postgres:
        pytest.skip("PostgreSQL-only behaviour")
    return db


@pytest.fixture
def runtime(db: Database) -> Any:
    """The installed plugins (entry points), as the process's runtime."""
    from core.plugins import load_runtime, set_runtime

    runtime = load_runtime(strict=False)
    yield runtime
    set_runtime(None)


@pytest.fixture
def owner() -> Actor:
    return Actor(kind="staff", id=str(uuid.uuid4()), role="owner")


async def make_tenant(**overrides: Any) -> TenantInfo:
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
def enable_plugins(owner: Actor) -> Callable[..., Awaitable[list[str]]]:
    """``await enable_plugins(tenant, "loyalty", settings={...})`` with the current runtime."""
    from core.plugins import get_runtime
    from tenants.modules import enable_module

    async def enable(
        tenant: TenantInfo, *plugin_ids: str, settings: dict[str, Any] | None = None
    ) -> list[str]:
        done: list[str] = []
        for pid in plugin_ids:
            done += await enable_module(
                tenant, owner, get_runtime(), pid, settings=settings, include_dependencies=True
            )
        return done

    return enable


@pytest.fixture
def deliver_events() -> Callable[[TenantInfo], Awaitable[Any]]:
    """Deliver the tenant's pending events to its plugins now."""
    from core.plugins import get_runtime
    from core.plugins.delivery import deliver_pending

    async def deliver(tenant: TenantInfo) -> Any:
        return await deliver_pending(get_runtime(), tenant)

    return deliver


@pytest.fixture
def captured_events() -> Callable[[TenantInfo], Awaitable[list[tuple[str, dict[str, Any]]]]]:
    """``(name, payload)`` of the tenant's events, oldest first."""
    from core.tables import EventOutbox

    async def events(tenant: TenantInfo) -> list[tuple[str, dict[str, Any]]]:
        async with tenant_tx(tenant.id, write=False):
            rows = await EventOutbox.select(EventOutbox.name, EventOutbox.payload).order_by(
                EventOutbox.created_at
            )
        return [(r["name"], dict(json_value(r["payload"], {}))) for r in rows]

    return events


@pytest.fixture
def captured_messages() -> Callable[[TenantInfo], Awaitable[list[dict[str, Any]]]]:
    """What the ``log`` channel sent for the tenant (send the due messages first)."""
    from core.tables import MessageLog

    async def messages(tenant: TenantInfo) -> list[dict[str, Any]]:
        async with tenant_tx(tenant.id, write=False):
            return [dict(r) for r in await MessageLog.select().order_by(MessageLog.at)]

    return messages


class ApiClient:
    """The app over in-process HTTP: ``await api.gql(query, variables, key=key)``."""

    def __init__(self, client: Any) -> None:
        self.http = client

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        status: int = 200,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def api(db: Database) -> AsyncIterator[ApiClient]:
    """The HTTP app (GraphQL, admin REST) in this event loop, on the test database (no
    lifespan: ``db`` already opened the database; ``create_app`` loads the installed plugins)."""
    import httpx

    from api.app import create_app
    from core.plugins import set_runtime

    app = create_app(db.settings, background=False)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://mendian.test") as client:
        yield ApiClient(client)
    set_runtime(None)


@pytest.fixture
def make_key(owner: Actor) -> Callable[..., Awaitable[str]]:
    """``await make_key(tenant, role="cashier", store_id=None)``: a new API key's secret."""
    from tenants.credentials import create_api_key

    async def make(
        tenant: TenantInfo, role: str = "owner", store_id: uuid.UUID | None = None
    ) -> str:
        _id, key = await create_api_key(
            tenant, owner, name=f"test {role}", role=role, store_id=store_id
        )
        return key

    return make
