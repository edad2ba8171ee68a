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
import collections
import contextvars
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from functools import lru_cache
from string import Formatter
from typing import Any
from uuid import UUID

from piccolo.columns import UUID as UUIDColumn
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
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
from core.errors import DatabaseUnavailable, UnscopedQuery

__all__ = [
    "Database",
    "DatabaseUnavailable",
    "PlatformTable",
    "TenantScoped",
    "after_commit",
    "current_tenant",
    "execute",
    "fetch",
    "insert_rows",
    "is_postgres",
    "is_unique_violation",
    "json_text",
    "json_value",
    "platform_tx",
    "read_session",
    "tenant_tx",
]

log = logging.getLogger("mendian.db")

POOL_CLOSE_SECONDS = 5.0
CONNECT_SECONDS = 5.0  # opening a connection (the server is down or unreachable: fail fast)
ACQUIRE_SECONDS = 5.0  # waiting for a pooled connection (every one busy or reconnecting)
# A statement that runs longer is cancelled (asyncpg raises TimeoutError): a request cannot hang
# on a server that stopped answering. Generous: the longest statement is a tenant's RFM pass.
COMMAND_SECONDS = 60.0
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


class PlatformTable:
    """Marker for a table shared by every tenant (no ``tenant_id``): a Citus *reference table*,
    copied to every node so that any tenant's shard can read (and reference) it.

    A table is either :class:`TenantScoped` (distributed by ``tenant_id``) or a
    ``PlatformTable``; ``tests/core/test_citus.py`` fails for a table that is neither, and
    ``mendian migrate --citus-sql`` prints ``create_reference_table`` for these.
    """


# -- PostgreSQL: a lost connection is discarded, never reused, and always reported -----------

_OUTAGE: dict[str, float] = {}  # "since": when the database stopped answering (logged once)


def _lost(exc: BaseException, connection: Any = None, *, driver_only: bool = False) -> bool:
    """True when ``exc`` means the connection (or the server) is gone, not a query's error.
    ``driver_only``: ``exc`` came from code that may use other sockets too (a transaction's
    body), so a plain ``OSError`` or ``TimeoutError`` counts only if the connection is closed."""
    import asyncpg

    driver = (
        asyncpg.PostgresConnectionError,  # 08…: lost, refused, rejected
        asyncpg.AdminShutdownError,  # pg_terminate_backend, shutdown
        asyncpg.CrashShutdownError,
        asyncpg.CannotConnectNowError,  # starting up, recovering
        asyncpg.TooManyConnectionsError,
        asyncpg.InterfaceError,  # "the underlying connection is closed", "… in progress"
        asyncpg.InternalClientError,  # the protocol's state is broken
    )
    sockets = (OSError, TimeoutError)  # refused, reset, unreachable; connect/acquire/statement
    if isinstance(exc, driver) or (not driver_only and isinstance(exc, sockets)):
        return True
    return connection is not None and _closed(connection)


def _closed(connection: Any) -> bool:
    """Whether a pooled connection is gone. asyncpg hands a lost connection's slot back to the
    pool by itself, and the proxy we hold then refuses every call: that too means closed."""
    import asyncpg

    try:
        return bool(connection.is_closed())
    except asyncpg.InterfaceError:
        return True


def _unavailable(exc: BaseException | None, *, replayable: bool = False) -> DatabaseUnavailable:
    if "since" not in _OUTAGE:
        _OUTAGE["since"] = time.monotonic()
        log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    if replayable:
        return DatabaseUnavailable(
            "the connection to the database was lost while committing: the change may or may "
            "not be saved. Retry with the same idempotency key: it is saved once.",
            replayable=True,
        )
    return DatabaseUnavailable(
        "the database is unavailable: nothing was saved. Retry shortly.", replayable=False
    )


def _reachable() -> None:
    since = _OUTAGE.pop("since", None)
    if since is not None:
        log.warning("database reachable again after %.1f s", time.monotonic() - since)


class _Gate:
    """First come, first served for a pool's connections. asyncpg's pool queues on an
    ``asyncio.Queue``, whose ``get`` lets a newcomer take a connection just released to a
    waiter that has not run yet, the waiter going to the back of the queue: under load some
    requests waited 100-200 ms behind others (p99 of the till's look-up 120 ms, p50 6 ms). Here
    a released connection's turn is handed to the longest waiter directly, and nobody passes
    a waiter; every acquisition of the pool (``_acquire`` and ``_give_back``) goes through it."""

    __slots__ = ("free", "waiters")

    def __init__(self, size: int) -> None:
        self.free = size
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def enter(self) -> None:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        turn = asyncio.get_running_loop().create_future()
        self.waiters.append(turn)
        try:
            async with asyncio.timeout(ACQUIRE_SECONDS):
                await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.leave()  # handed a turn just as the wait ended: pass it on
            else:
                with suppress(ValueError):
                    self.waiters.remove(turn)
            raise

    def leave(self) -> None:
        while self.waiters:
            turn = self.waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.free += 1


_gates: dict[int, _Gate] = {}  # by id(pool), for the pools Database.start opened


async def _acquire(pool: Any) -> Any:
    # Whatever stops us getting a connection (refused, timed out, "not accepting connections",
    # too many clients, a password the server no longer takes) means: unavailable, now.
    gate = _gates.get(id(pool))
    try:
        if gate is not None:
            await gate.enter()
        try:
            if gate is not None and pool.get_idle_size():
                # A turn and an idle connection: handed over at once, so no timeout (none
                # costs a timer armed and cancelled per acquire).
                return await pool.acquire()
            return await pool.acquire(timeout=ACQUIRE_SECONDS)
        except BaseException:
            if gate is not None:
                gate.leave()
            raise
    except Exception as exc:
        raise _unavailable(exc) from exc


async def _give_back(pool: Any, connection: Any, *, broken: bool) -> None:
    """Return ``connection`` to ``pool`` (or close it, without a pool); a broken one is
    terminated first, so the pool opens a new one for the next request. Never raises: after a
    commit, the answer is the commit's."""
    try:
        if broken or _closed(connection):
            with suppress(Exception):  # already handed back by asyncpg
                connection.terminate()
        if pool is None:
            if not _closed(connection):
                await asyncio.wait_for(connection.close(), POOL_CLOSE_SECONDS)
            return
        # asyncpg's own timeout, not wait_for: on Python 3.11 wait_for wraps the release in a
        # Task, one more task per transaction on the hot path. Outside a transaction the
        # release sends nothing (the pool's reset is a no-op): no timeout of its own (asyncpg
        # then uses the acquire's, none on the fast path), so no timer is armed.
        idle = not broken and not _closed(connection) and not connection.is_in_transaction()
        await pool.release(connection, timeout=None if idle else POOL_CLOSE_SECONDS)
    except BaseException as exc:  # a release that fails (reset on a dying connection) …
        with suppress(Exception):
            connection.terminate()  # … still frees the pool's slot
        if not isinstance(exc, Exception):
            raise
        log.info("discarded a database connection: %s: %s", type(exc).__name__, exc)
    finally:
        gate = _gates.get(id(pool)) if pool is not None else None
        if gate is not None:
            gate.leave()


class _Transaction(PostgresTransaction):
    """piccolo's transaction, made safe when the connection dies: piccolo's ``__aexit__`` never
    released a connection whose ROLLBACK failed (nor reset its context), so killed backends
    drained the pool until every request waited forever, and a failure after COMMIT was
    reported although the COMMIT had succeeded."""

    async def get_connection(self) -> Any:
        if self.engine.pool is None:  # migrations and CLI commands run without a pool
            try:
                return await self.engine.get_new_connection()
            except Exception as exc:
                raise _unavailable(exc) from exc
        return await _acquire(self.engine.pool)

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException as exc:
            await _give_back(self.engine.pool, self.connection, broken=True)
            if isinstance(exc, Exception) and _lost(exc, self.connection):
                raise _unavailable(exc) from exc
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        broken = False
        try:
            if exception is not None:
                broken = _lost(exception, self.connection, driver_only=True)
                if not self._rolled_back and not _closed(self.connection):
                    try:
                        await self.rollback()
                    except Exception:  # the server rolls back a transaction whose connection ends
                        broken = True
                if broken and isinstance(exception, Exception):
                    raise _unavailable(exception) from exception
                return False
            if not self._committed and not self._rolled_back:
                if _closed(self.connection):  # lost before COMMIT was sent: rolled back
                    broken = True
                    raise _unavailable(None)
                try:
                    await self.commit()
                except Exception as exc:
                    if not _lost(exc, self.connection):
                        raise  # the server refused the COMMIT: rolled back, a real error
                    broken = True
                    raise _unavailable(exc, replayable=True) from exc
            _reachable()
            return True
        finally:
            self.engine.current_transaction.reset(self.context)
            await _give_back(self.engine.pool, self.connection, broken=broken)


class ResilientPostgresEngine(PostgresEngine):
    """piccolo's engine with :class:`_Transaction`, bounded waits for a connection, and lost
    connections reported as :class:`DatabaseUnavailable` (HTTP 503) instead of raw driver
    errors. asyncpg replaces a terminated connection on the next acquire."""

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _Transaction(engine=self, allow_nested=allow_nested)

    async def _run_in_pool(self, query: str, args: Sequence[Any] | None = None) -> Any:
        if not self.pool:
            raise _unavailable(None)
        connection = await _acquire(self.pool)
        broken = False
        try:
            response = await connection.fetch(query, *(args or []))
        except Exception as exc:
            broken = _lost(exc, connection)
            if broken:
                # Outside a transaction a write commits by itself: its outcome is unknown.
                write = not query.lstrip()[:6].upper().startswith(("SELECT", "WITH", "SHOW"))
                raise _unavailable(exc, replayable=write) from exc
            raise
        finally:
            await _give_back(self.pool, connection, broken=broken)
        _reachable()
        return response


async def _keep_session(connection: Any) -> None:
    """The pool's reset on release: nothing beyond asyncpg's own (an open transaction is rolled
    back). Its default sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` —
    one more round trip per transaction — to undo session state, and Mendian keeps none: the
    tenant is set per transaction (``set_config(…, true)``), locks are transaction locks, no
    LISTEN, no held cursors, no session ``SET`` (the rules of PgBouncer's transaction pooling).
    ``tests/core/test_isolation.py`` checks that released connections carry no tenant and no
    transaction, after reads that succeeded, failed and were cancelled."""


class Database:
    """The engines of one deployment: the app's (RLS-bound role) and the owner's (migrations)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dialect = settings.database.dialect
        self.read_pool: Any = None  # PostgreSQL: the read sessions' pool, once started
        if self.dialect == "sqlite":
            # WAL + a busy timeout: readers never block the writer; writers queue instead of
            # failing with "database is locked".
            self.engine: Engine = SQLiteEngine(path=settings.database.path, timeout=30)
            self.owner_engine: Engine = self.engine
        else:
            url = settings.database
            self.owner_engine = ResilientPostgresEngine(config=url.asyncpg_config())
            self.engine = ResilientPostgresEngine(
                config=url.asyncpg_config(
                    user=settings.app_role, password=settings.app_role_password
                )
            )

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgres"

    async def start(self) -> None:
        if isinstance(self.engine, PostgresEngine):
            options: dict[str, Any] = {
                "min_size": 1,
                "max_size": self.settings.db_pool_size,
                "timeout": CONNECT_SECONDS,
                "command_timeout": COMMAND_SECONDS,
                "reset": _keep_session,
            }
            await self.engine.start_connection_pool(**options)
            _gates[id(self.engine.pool)] = _Gate(self.settings.db_pool_size)
            import asyncpg

            # The read sessions' own pool (see read_session): a request holds one of these
            # while it may still wait for the main pool, never the other way round.
            self.read_pool = await asyncpg.create_pool(**self.engine.config, **options)
            _gates[id(self.read_pool)] = _Gate(self.settings.db_pool_size)

    async def stop(self) -> None:
        """Close the pools, waiting up to ``POOL_CLOSE_SECONDS`` for checked-out connections
        (the rest are terminated): a stuck task cannot hang exit."""
        pools = []
        if isinstance(self.engine, PostgresEngine) and self.engine.pool is not None:
            pools.append(self.engine.pool)
            self.engine.pool = None
        if self.read_pool is not None:
            pools.append(self.read_pool)
            self.read_pool = None
        for pool in pools:
            _gates.pop(id(pool), None)
            try:
                await asyncio.wait_for(pool.close(), POOL_CLOSE_SECONDS)
            except TimeoutError:  # asyncpg terminated what was still checked out
                log.warning("closed the database pool with connections still in use")
            finally:
                pool.terminate()  # a no-op once closed

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
    session = _session.get()
    if write and session is not None and not session.closing:
        # Reads before a write are not held open across it (nor its locks, nor its hooks):
        # the request's later reads run on their own.
        await session.close()
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


@lru_cache(maxsize=32_768)  # as the tenant caches
def _begin_read(tenant_id: UUID) -> str:
    if not isinstance(tenant_id, UUID):
        raise TypeError(f"tenant id must be a UUID, not {type(tenant_id).__name__}")
    text = str(UUID(int=tenant_id.int))  # a plain UUID's text, whatever subclass came in
    return (  # READ COMMITTED whatever the server's default: each read sees what committed
        "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY; "
        f"SELECT set_config('app.tenant_id', '{text}', true)"
    )


async def tenant_read(tenant_id: UUID, sql: str, *args: Any) -> list[dict[str, Any]]:
    """One read-only statement in its own tenant transaction: the hot-path shortcut.

    Same isolation as :func:`tenant_tx` (on PostgreSQL ``app.tenant_id`` is set in the
    transaction and RLS applies), without the ORM's per-query cost: straight on the pool,
    ``BEGIN READ ONLY; set_config`` (one round trip), ``<sql>``, ``COMMIT``. ``sql`` uses
    ``{}`` placeholders and must filter on ``tenant_id`` itself (SQLite has no RLS). Inside a
    :func:`read_session` the reads of the same tenant share one transaction.
    """
    engine = get_database().engine
    pool = getattr(engine, "pool", None)
    if isinstance(engine, SQLiteEngine) or pool is None or current_tenant.get() is not None:
        async with tenant_tx(tenant_id, write=False):
            return await fetch(sql, *args)
    session = _session.get()
    if session is not None and session.takes(tenant_id):
        return await session.read(tenant_id, sql, args)
    # Outside a session (or beside it): a session of this one read, on the main pool. BEGIN
    # and the tenant go in one round trip (a simple query of two statements; the id is a UUID,
    # so its text is safe to inline), then the read, then COMMIT: three, where asyncpg's
    # transaction() with a separate set_config takes four.
    alone = _ReadSession(pool)
    try:
        return await alone.read(tenant_id, sql, args)
    finally:
        await alone.close()


class _ReadSession:
    """Reads of one tenant on one connection in one ``READ ONLY`` transaction: a request's
    (the read pool, opened by its first :func:`tenant_read`, ended by :func:`read_session`), or
    a single read's. A failed statement ends the transaction (the error is the read's); a
    cancelled or lost one terminates the connection (lost: :class:`DatabaseUnavailable`)."""

    __slots__ = ("busy", "closing", "conn", "pool", "tenant")

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.conn: Any = None
        self.tenant: UUID | None = None
        self.busy = False  # a statement is in flight (a sibling resolver reads on its own)
        self.closing = False  # the request ended while a statement was in flight

    def takes(self, tenant_id: UUID) -> bool:
        return not self.busy and not self.closing and self.tenant in (None, tenant_id)

    async def read(self, tenant_id: UUID, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        self.busy = True
        try:
            if self.conn is None:
                begin = _begin_read(tenant_id)
                self.conn = await _acquire(self.pool)
                await self.conn.execute(begin)
                self.tenant = tenant_id
            rows = await self.conn.fetch(_numbered(sql), *args)
        except BaseException as exc:
            # A failed statement aborts the transaction: it ends here (the next read opens
            # another). Cancelled mid-statement, or lost: the connection is terminated.
            lost = not isinstance(exc, Exception) or _lost(exc, self.conn)
            await self._end(broken=lost, commit=False)
            if lost and isinstance(exc, Exception):
                raise _unavailable(exc) from exc
            raise
        finally:
            self.busy = False
            if self.closing:
                await self._end(broken=False, commit=True)
        _reachable()
        return [dict(r) for r in rows]

    async def close(self) -> None:
        """End the session; a read after this (a task the request started that outlived it,
        a write that followed) runs on its own."""
        self.closing = True
        if self.busy:  # the statement in flight ends the session when it returns
            return
        await self._end(broken=False, commit=True)

    async def _end(self, *, broken: bool, commit: bool) -> None:
        conn, self.conn, self.tenant = self.conn, None, None
        if conn is None:
            return
        if not broken:
            try:
                await conn.execute("COMMIT" if commit else "ROLLBACK")
            except BaseException as exc:  # lost, or cancelled mid-way: not pooled again
                broken = True
                if not isinstance(exc, Exception):
                    await _give_back(self.pool, conn, broken=True)
                    raise
        await _give_back(self.pool, conn, broken=broken)


_session: contextvars.ContextVar[_ReadSession | None] = contextvars.ContextVar(
    "mendian_read_session", default=None
)


async def _nothing() -> None:
    return None


@asynccontextmanager
async def read_session() -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Within the block (and the tasks it starts), the :func:`tenant_read` statements of one
    tenant share one connection and one ``READ ONLY`` transaction, ended when the block ends:
    a look-up that reads twice (the till's customer, then its loyalty) takes one connection and
    four round trips instead of two and six. Isolation is unchanged: the transaction is set to
    the tenant of its first read, and a read for any other tenant, or one made while the
    session's statement is in flight, runs on its own as outside a session.

    The session's connections come from a pool of their own (``Database.read_pool``): a
    request holds one while it may wait for the main pool (a ``tenant_tx`` of another
    resolver), and nothing that holds a main-pool connection waits for the read pool (inside a
    ``tenant_tx`` reads use that transaction), so holding cannot deadlock either pool. A write
    transaction (``tenant_tx``) ends the session first: reads are not held open across a write.
    The block gets a coroutine function that ends the session early."""
    db = _database
    pool = db.read_pool if db is not None else None
    if pool is None or _session.get() is not None:
        yield _nothing
        return
    session = _ReadSession(pool)
    token = _session.set(session)
    try:
        yield session.close
    finally:
        _session.reset(token)
        await session.close()


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
    """:func:`fetch` for statements whose rows you do not need."""
    await fetch(sql, *args)


def is_postgres() -> bool:
    """Whether the deployment runs on PostgreSQL (row locks, ``FOR UPDATE``) or SQLite (one
    writer at a time)."""
    return get_database().is_postgres


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


def utc_value(value: Any) -> Any:
    """A timestamp read back from either backend as an aware UTC datetime (``None`` stays
    ``None``): PostgreSQL answers aware values, SQLite naive UTC — or text, for an aggregate
    such as ``MIN(received_at)``."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


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
    return _loaded_tables(TenantScoped)


def platform_tables() -> list[type[Table]]:
    """Every table class marked :class:`PlatformTable` loaded in this process."""
    return _loaded_tables(PlatformTable)


def _loaded_tables(marker: type) -> list[type[Table]]:
    seen: list[type[Table]] = []
    stack: list[type] = list(marker.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if issubclass(cls, Table) and cls not in seen and hasattr(cls, "_meta"):
            seen.append(cls)
    return seen
