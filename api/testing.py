"""Mendian's pytest plugin (registered as ``pytest11: mendian``), for Mendian's own tests and
for plugin authors.

Fixtures (each documented below; the README's author guide lists them with examples):

* ``db`` — a fresh, migrated database per backend and session: SQLite always, PostgreSQL too
  when ``DATABASE_URL`` is set, connected as the RLS-bound app role (tests using it run once
  per backend); ``pg_only`` skips on SQLite;
* ``runtime`` — the installed plugins (entry points), loaded for the test;
* ``tenant``, ``other_tenant`` (for isolation tests), ``make_tenant(**fields)``, ``owner`` (an
  owner :class:`Actor`), ``store`` (a store of ``tenant``);
* ``enable_plugins(tenant, *ids, settings=…)``, ``deliver_events(tenant)`` (run the durable
  events now), ``send_messages(tenant)`` (send the due messages now), ``captured_events(tenant)``
  and ``captured_messages(tenant)`` (what the ``log`` channel sent);
* ``api`` — the HTTP app in-process (``await api.gql(query, variables, key=…)``), ``make_key(
  tenant, role=…, store_id=…)`` — an API key to call it with.

Configure pytest-asyncio with ``asyncio_default_fixture_loop_scope = "session"`` and
``asyncio_default_test_loop_scope = "session"`` (the database pool lives for the session).
``MENDIAN_REQUIRE_SERVICES=1`` turns an unreachable PostgreSQL into a failure, not a skip.
Importing this plugin changes nothing: the test environment (a temporary ``MENDIAN_HOME``, test
keys) is set up only when a test first uses ``db``.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.config import DatabaseURL, Settings, get_settings, load_settings
from core.context import Actor, TenantInfo
from core.db import (
    Database,
    json_value,
    platform_tables,
    set_database,
    tenant_tables,
    tenant_tx,
)

__all__ = [
    "BACKENDS",
    "PG_URL",
    "REQUIRE",
    "ApiClient",
    "StatementCounter",
    "make_tenant",
    "test_home",
]

PG_URL = os.environ.get("DATABASE_URL", "")
REQUIRE = os.environ.get("MENDIAN_REQUIRE_SERVICES") == "1"
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL.startswith("postgres") else [])


def pytest_configure(config: pytest.Config) -> None:
    from api.graphql import plan_check

    # Every query a test sends is answered by its precompiled plan and by graphql-core, and
    # the answers compared (servers a test starts inherit the setting).
    os.environ.setdefault("MENDIAN_GRAPHQL_PLAN_CHECK", "1")
    plan_check.enabled = os.environ["MENDIAN_GRAPHQL_PLAN_CHECK"] == "1"
    if REQUIRE and "postgres" not in BACKENDS:
        raise pytest.UsageError(
            "MENDIAN_REQUIRE_SERVICES=1 but DATABASE_URL is not a PostgreSQL URL"
        )


_HOME: Path | None = None


@pytest.fixture(autouse=True)
def _plans_answer_as_graphql_core() -> Iterator[None]:
    """Fails a test during which a query's plan answered differently from graphql-core."""
    from api.graphql import plan_check

    plan_check.mismatches.clear()
    yield
    found, plan_check.mismatches[:] = list(plan_check.mismatches), []
    assert not found, "precompiled plan and graphql-core answered differently:\n" + "\n".join(found)


def test_home() -> Path:
    """The session's temporary ``MENDIAN_HOME``, with test keys: set on first use, so that
    merely importing this plugin changes nothing."""
    global _HOME
    if _HOME is None:
        _HOME = Path(tempfile.mkdtemp(prefix="mendian-test-"))
        os.environ["MENDIAN_HOME"] = str(_HOME)
        os.environ.setdefault("MENDIAN_SECRET_KEY", "test-secret-key-0123456789-abcdefghijklmnop")
        os.environ.setdefault("MENDIAN_ADMIN_TOKEN", "test-admin-token-0123456789")
        get_settings.cache_clear()
    return _HOME


def _settings(database_url: str) -> Settings:
    test_home()
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

    return [*TABLES, *tenant_tables(), *platform_tables()]


@pytest.fixture(scope="session", params=BACKENDS)
async def mendian_backend(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A migrated database for the session, per backend."""
    from core.migrate import migrate

    get_settings.cache_clear()
    drop = None
    if request.param == "sqlite":
        settings = _settings(f"sqlite:///{test_home() / f'test-{uuid.uuid4().hex[:8]}.sqlite3'}")
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
    """A new tenant (``on_tenant_created`` reaches the test's loaded plugins, if any)."""
    from core.plugins import current_runtime
    from tenants.service import create_tenant

    data = {"slug": f"t-{uuid.uuid4().hex[:12]}", "name": "Test chain"} | overrides
    return await create_tenant(data, runtime=current_runtime())


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
def send_messages() -> Callable[[TenantInfo], Awaitable[int]]:
    """Send the tenant's due messages now through its channels; how many were sent."""
    from core.messaging import channels_for, send_due
    from core.plugins import current_runtime

    async def send(tenant: TenantInfo) -> int:
        channels = await channels_for(tenant, current_runtime())
        sent = 0
        while (stats := await send_due(tenant, channels)).claimed:
            sent += stats.sent
        return sent

    return send


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


class StatementCounter:
    """How many SQL statements reached the database driver since :meth:`reset` (asyncpg on
    PostgreSQL, aiosqlite on SQLite) — every path counts: piccolo queries, ``core.fetch``'s
    direct statements, transaction control (not the PRAGMA piccolo repeats on SQLite)."""

    def __init__(self) -> None:
        self.count = 0

    def reset(self) -> None:
        self.count = 0


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> StatementCounter:
    """``statements.reset()`` … ``statements.count``: statements sent to the driver (N+1
    queries fail a test that compares two page sizes, whatever issues them)."""
    import aiosqlite
    from asyncpg.connection import Connection

    from api.graphql import plan_check

    counter = StatementCounter()
    monkeypatch.setattr(plan_check, "enabled", False)  # it answers each query twice

    def counting(original: Any, *, only_without_args: bool = False) -> Any:
        # not async: aiosqlite's execute() returns an awaitable context manager, kept as is
        def wrapper(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            # piccolo sends "PRAGMA foreign_keys = 1" before each SQLite statement: not counted
            pragma = isinstance(query, str) and query.lstrip()[:6].upper() == "PRAGMA"
            if (not only_without_args or not args) and not pragma:
                counter.count += 1
            return original(self, query, *args, **kwargs)

        return wrapper

    # asyncpg: execute() without arguments goes straight to the protocol; with arguments it
    # calls _execute(), which fetch/fetchrow/fetchval use too (counted once there).
    monkeypatch.setattr(Connection, "execute", counting(Connection.execute, only_without_args=True))
    monkeypatch.setattr(Connection, "_execute", counting(Connection._execute))
    monkeypatch.setattr(Connection, "_executemany", counting(Connection._executemany))
    for cls in (aiosqlite.Connection, aiosqlite.Cursor):
        for name in ("execute", "executemany"):
            monkeypatch.setattr(cls, name, counting(getattr(cls, name)))
    return counter


class ApiClient:
    """The app over in-process HTTP: ``await api.gql(query, variables, key=key)``."""

    def __init__(self, client: Any) -> None:
        self.http = client
        self.address = "127.0.0.1"  # the caller's address the app sees

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
    # Each test calls from its own address: failed logins are throttled per address (in Redis
    # when configured, shared by every process), and one test's must not lock another's.
    address = f"127.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    transport = httpx.ASGITransport(app=app, client=(address, 123))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://mendian.test") as client:
        api = ApiClient(client)
        api.address = address
        yield api
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


# --- pages in a real browser -----------------------------------------------------------------

ARTIFACTS = Path(os.environ.get("MENDIAN_TEST_ARTIFACTS", "test-artifacts"))
CHROMIUM = os.environ.get("MENDIAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LiveServer:
    """The app served by uvicorn in a separate process, on the test's database."""

    def __init__(self, url: str, process: Any) -> None:
        self.url = url
        self.process = process


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(db: Database) -> Any:
    """``live_server.url``: the whole app over real HTTP (uvicorn in a subprocess, pointed at
    this test's database, Redis as configured), for pages opened in a browser."""
    import subprocess
    import sys
    import time as _time

    import httpx

    port = _free_port()
    env = dict(os.environ) | {"DATABASE_URL": db.settings.database.as_url(), "MENDIAN_ENV": "test"}
    process = subprocess.Popen(  # noqa: S603  # our own interpreter and module, no input
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = _time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or _time.monotonic() > deadline:
            process.kill()
            pytest.fail("the live server did not start")
        _time.sleep(0.2)
    yield LiveServer(url, process)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium (the system's, driven by Playwright). Skipped where no browser can be
    had — except with ``MENDIAN_REQUIRE_SERVICES=1`` (CI), where that is a failure."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240  # once per session, before the loop runs anything
        if REQUIRE:
            pytest.fail(f"no Chromium at {CHROMIUM} (install Debian's chromium package)")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        if REQUIRE:
            raise
        pytest.skip("playwright is not installed")
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def phone(browser: Any) -> AsyncIterator[Any]:
    """A page the size of a phone screen (390 by 844, zh-CN), whose console errors are collected
    in ``phone.console_errors``; screenshots go to ``screenshot(page, name)``."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    await context.close()


async def screenshot(page: Any, name: str) -> Path:
    """Save a PNG of the page as a test artefact (``test-artifacts/<name>.png``)."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
