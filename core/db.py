"""Database engines and the tenant transaction (CORE-4).

Every read or write of a tenant-owned table happens inside :func:`tenant_tx`, which

* opens one transaction (piccolo keeps it in a context variable, so every query in the block
  uses it),
* on PostgreSQL sets ``app.tenant_id`` for that transaction only (``set_config(…, true)``), which
  the row-level security policies read, and
* sets :data:`current_tenant`, which :class:`TenantScoped` tables use to add
  ``tenant_id = …`` to every query and to refuse queries made outside a tenant transaction.

So isolation holds twice over on PostgreSQL: a service that forgot the filter still gets the
filter, and raw SQL that bypasses the service still meets RLS, because the app connects as a role
that owns nothing and cannot bypass RLS.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from functools import lru_cache
from string import Formatter
from typing import Any
from uuid import UUID

from piccolo.columns import UUID as UUIDColumn
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.query import Objects, Select
from piccolo.query.methods.count import Count
from piccolo.query.methods.delete import Delete
from piccolo.query.methods.exists import Exists
from piccolo.query.methods.insert import Insert
from piccolo.query.methods.raw import Raw
from piccolo.query.methods.update import Update
from piccolo.querystring import QueryString
from piccolo.table import Table

from core.config import Settings
from core.errors import UnscopedQuery

__all__ = [
    "Database",
    "TenantScoped",
    "current_tenant",
    "execute",
    "fetch",
    "insert_rows",
    "platform_tx",
    "tenant_tx",
]

POOL_CLOSE_SECONDS = 10.0
current_tenant: contextvars.ContextVar[UUID | None] = contextvars.ContextVar(
    "mendian_current_tenant", default=None
)
_after_commit: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "mendian_after_commit", default=None
)
_platform_scope: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "mendian_platform_scope", default=False
)


def _require_tenant(table: type[Table]) -> UUID:
    tenant = current_tenant.get()
    if tenant is None:
        raise UnscopedQuery(
            f"{table._meta.tablename} is tenant-owned: query it inside tenant_tx(tenant_id)"
        )
    return tenant


class TenantScoped:
    """Mixin for tenant-owned tables: a ``tenant_id`` column and queries scoped to the tenant.

    Queries built from these classmethods carry ``tenant_id = <current tenant>`` and inserted
    rows get the current tenant; outside :func:`tenant_tx` they raise :class:`UnscopedQuery`.
    """

    tenant_id = UUIDColumn(null=False, default=None, index=False)

    def __init__(
        self,
        _data: dict[Any, Any] | None = None,
        _ignore_missing: bool = False,
        _exists_in_db: bool = False,
        **kwargs: Any,
    ) -> None:
        # New rows belong to the tenant of the open transaction unless loaded from the database.
        if not _exists_in_db and "tenant_id" not in kwargs and (tenant := current_tenant.get()):
            kwargs["tenant_id"] = tenant
        super().__init__(_data, _ignore_missing, _exists_in_db, **kwargs)  # type: ignore[call-arg]

    @classmethod
    def _scope(cls) -> tuple[Any, UUID]:
        """The piccolo ``Table`` implementation (next in the MRO) and the current tenant."""
        table: Any = cls
        return super(TenantScoped, table), _require_tenant(table)

    @classmethod
    def select(cls, *columns: Any, exclude_secrets: bool = False) -> Select:
        parent, tenant = cls._scope()
        query: Select = parent.select(*columns, exclude_secrets=exclude_secrets)
        return query.where(cls.tenant_id == tenant)

    @classmethod
    def objects(cls, *prefetch: Any) -> Objects:
        parent, tenant = cls._scope()
        query: Objects = parent.objects(*prefetch)
        return query.where(cls.tenant_id == tenant)

    @classmethod
    def count(cls, column: Any = None, distinct: Any = None) -> Count:
        parent, tenant = cls._scope()
        query: Count = parent.count(column, distinct)
        return query.where(cls.tenant_id == tenant)

    @classmethod
    def exists(cls) -> Exists:
        parent, tenant = cls._scope()
        query: Exists = parent.exists()
        return query.where(cls.tenant_id == tenant)

    @classmethod
    def update(
        cls,
        values: dict[Any, Any] | None = None,
        force: bool = False,
        use_auto_update: bool = True,
        **kwargs: Any,
    ) -> Update:
        parent, tenant = cls._scope()
        query: Update = parent.update(
            values, force=force, use_auto_update=use_auto_update, **kwargs
        )
        return query.where(cls.tenant_id == tenant)

    @classmethod
    def delete(cls, force: bool = False) -> Delete:
        parent, tenant = cls._scope()
        query: Delete = parent.delete(force=force)
        return query.where(cls.tenant_id == tenant)

    @classmethod
    def insert(cls, *rows: Any) -> Insert:
        parent, tenant = cls._scope()
        for row in rows:
            if row.tenant_id is None:
                row.tenant_id = tenant
            elif row.tenant_id != tenant:
                raise UnscopedQuery(f"row for another tenant inserted into {cls.__name__}")
        query: Insert = parent.insert(*rows)
        return query

    @classmethod
    def raw(cls, sql: str, *args: Any) -> Raw:
        parent, _tenant = cls._scope()
        query: Raw = parent.raw(sql, *args)
        return query


class Database:
    """The engines of one deployment: the app's (RLS-bound role) and the owner's (migrations)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dialect = settings.database.dialect
        if self.dialect == "sqlite":
            # WAL + a busy timeout: readers never block the writer; writers queue instead of
            # failing with "database is locked".
            self.engine: Engine = SQLiteEngine(path=settings.database.path, timeout=30)
            self.owner_engine: Engine = self.engine
        else:
            url = settings.database
            self.owner_engine = PostgresEngine(config=url.asyncpg_config())
            self.engine = PostgresEngine(
                config=url.asyncpg_config(
                    user=settings.app_role, password=settings.app_role_password
                )
            )

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgres"

    async def start(self) -> None:
        if isinstance(self.engine, PostgresEngine):
            await self.engine.start_connection_pool(min_size=1, max_size=self.settings.db_pool_size)

    async def stop(self) -> None:
        """Close the pool, waiting up to ``POOL_CLOSE_SECONDS`` for checked-out connections
        (asyncpg terminates the rest when the wait is cut short): a stuck task cannot hang exit."""
        if isinstance(self.engine, PostgresEngine) and self.engine.pool is not None:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.engine.pool.close(), POOL_CLOSE_SECONDS)
            self.engine.pool = None

    def bind(self, tables: Iterable[type[Table]]) -> None:
        """Point the given tables at the app engine (the role without BYPASSRLS)."""
        for table in tables:
            table._meta.db = self.engine


_database: Database | None = None


def set_database(db: Database | None) -> None:
    global _database
    _database = db


def get_database() -> Database:
    if _database is None:
        raise RuntimeError("no database configured: call core.bootstrap.open_database() first")
    return _database


@asynccontextmanager
async def tenant_tx(tenant_id: UUID, *, write: bool = True) -> AsyncIterator[None]:
    """One transaction scoped to ``tenant_id``; nested calls for the same tenant join it."""
    db = get_database()
    active = current_tenant.get()
    if active is not None:
        if active != tenant_id:
            raise UnscopedQuery("a tenant transaction for another tenant is already open")
        yield
        return
    engine = db.engine
    token = current_tenant.set(tenant_id)
    callbacks: list[Callable[[], None]] = []
    after = _after_commit.set(callbacks)
    try:
        if isinstance(engine, SQLiteEngine):
            kind = TransactionType.immediate if write else TransactionType.deferred
            async with engine.transaction(transaction_type=kind):
                yield
        else:
            async with engine.transaction() as tx:
                await tx.connection.execute(
                    "SELECT set_config('app.tenant_id', $1, true)", str(tenant_id)
                )
                yield
    finally:
        _after_commit.reset(after)
        current_tenant.reset(token)
    for callback in callbacks:  # only reached when the transaction committed
        callback()


@lru_cache(maxsize=1024)
def _numbered(sql: str) -> str:
    """``{}`` placeholders → asyncpg's ``$1, $2, …`` (``{{``/``}}`` are literal braces, as in
    piccolo's ``QueryString``)."""
    out: list[str] = []
    n = 0
    for literal, field, _spec, _conversion in Formatter().parse(sql):
        out.append(literal)
        if field is not None:
            n += 1
            out.append(f"${n}")
    return "".join(out)


async def tenant_read(tenant_id: UUID, sql: str, *args: Any) -> list[dict[str, Any]]:
    """One read-only statement in its own tenant transaction: the hot-path shortcut.

    Same isolation as :func:`tenant_tx` (on PostgreSQL ``app.tenant_id`` is set in the
    transaction and RLS applies), without the ORM's per-query cost: straight on the pool,
    ``BEGIN READ ONLY; set_config; <sql>; COMMIT``. ``sql`` uses ``{}`` placeholders and must
    filter on ``tenant_id`` itself (SQLite has no RLS).
    """
    engine = get_database().engine
    pool = getattr(engine, "pool", None)
    if isinstance(engine, SQLiteEngine) or pool is None or current_tenant.get() is not None:
        async with tenant_tx(tenant_id, write=False):
            return await fetch(sql, *args)
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        rows = await conn.fetch(_numbered(sql), *args)
    return [dict(r) for r in rows]


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the open tenant transaction has committed (never on rollback)."""
    callbacks = _after_commit.get()
    if callbacks is None:
        raise UnscopedQuery("after_commit outside a tenant transaction")
    if callback not in callbacks:
        callbacks.append(callback)


@asynccontextmanager
async def platform_tx() -> AsyncIterator[None]:
    """A transaction on platform tables (tenants, plugin registry): no tenant is set."""
    engine = get_database().engine
    if current_tenant.get() is not None:
        raise UnscopedQuery("platform_tx inside a tenant transaction")
    if isinstance(engine, SQLiteEngine):
        async with engine.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with engine.transaction():
            yield


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run raw SQL (``{}`` placeholders) on the current transaction; requires a tenant."""
    if current_tenant.get() is None and not _platform_scope.get():
        raise UnscopedQuery("raw SQL outside a tenant transaction")
    engine = get_database().engine
    if isinstance(engine, PostgresEngine) and (tx := engine.current_transaction.get()):
        # Straight to the transaction's connection: the same statement piccolo would send,
        # without building a ``QueryString`` for it (the write paths' hot loop).
        rows: Sequence[Any] = await tx.connection.fetch(_numbered(sql), *args)
    else:
        rows = await engine.run_querystring(QueryString(sql, *args)) or []
    return [dict(r) for r in rows]


async def insert_rows(table: str, rows: Sequence[dict[str, Any]]) -> None:
    """One multi-row ``INSERT`` of plain values in the current tenant transaction (the hot
    write paths; every row has the first row's columns). ``table`` and the column names are
    code, never input."""
    if not rows:
        return
    tenant = current_tenant.get()
    if any(r.get("tenant_id", tenant) != tenant for r in rows):  # SQLite has no RLS to catch it
        raise UnscopedQuery(f"{table}: a row for another tenant than the open transaction's")
    columns = list(rows[0])
    row = "(" + ", ".join("{}" for _ in columns) + ")"
    await fetch(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join(row for _ in rows),
        *(r[c] for r in rows for c in columns),
    )


async def execute(sql: str, *args: Any) -> None:
    await fetch(sql, *args)


def is_unique_violation(exc: BaseException) -> bool:
    """True for a unique-constraint violation on either backend."""
    import sqlite3

    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg ships with piccolo[postgres]
        return False
    return isinstance(exc, asyncpg.exceptions.UniqueViolationError)


def json_value(raw: Any, default: Any) -> Any:
    """Decode a JSON column (piccolo returns text on SQLite and PostgreSQL ``json``)."""
    import msgspec

    if raw is None:
        return default
    if isinstance(raw, (dict, list)):
        return raw
    return msgspec.json.decode(raw)


def json_text(value: Any) -> str:
    import msgspec

    return msgspec.json.encode(value).decode()


def tenant_tables() -> list[type[Table]]:
    """Every tenant-owned table class loaded in this process (core and plugins)."""
    seen: list[type[Table]] = []
    stack: list[type] = list(TenantScoped.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if issubclass(cls, Table) and cls not in seen and hasattr(cls, "_meta"):
            seen.append(cls)
    return seen
