"""CORE-4: isolation by the services and, on PostgreSQL, by row-level security as the app role."""

import asyncio
import uuid

import pytest

from core.customers import (
    create_customer,
    find_by_phone,
    get_customer,
    search_customers,
    update_customer,
)
from core.db import fetch, tenant_tx
from core.errors import NotFound, UnscopedQuery
from core.tables import Customer


async def test_unscoped_query_raises(db):
    with pytest.raises(UnscopedQuery):
        Customer.select()
    with pytest.raises(UnscopedQuery):
        await fetch("SELECT 1")


async def test_other_tenants_ids_behave_as_missing(tenant, other_tenant, owner):
    theirs = await create_customer(other_tenant, owner, {"name": "B", "phone": "13912349999"})
    with pytest.raises(NotFound) as foreign:
        await get_customer(tenant, owner, theirs.id)
    with pytest.raises(NotFound) as missing:
        await get_customer(tenant, owner, uuid.uuid4())
    assert foreign.value.as_dict() == missing.value.as_dict()
    with pytest.raises(NotFound):
        await update_customer(tenant, owner, theirs.id, {"name": "hijack"})
    assert await find_by_phone(tenant, owner, "13912349999") is None
    assert await search_customers(tenant, owner) == []
    assert (await get_customer(other_tenant, owner, theirs.id)).name == "B"


async def test_scoped_insert_refuses_rows_for_another_tenant(tenant, other_tenant):
    async with tenant_tx(tenant.id):
        with pytest.raises(UnscopedQuery):
            Customer.insert(Customer(tenant_id=other_tenant.id, name="x"))
    from core.db import insert_rows

    async with tenant_tx(tenant.id):  # the raw multi-row insert of the hot paths checks it too
        with pytest.raises(UnscopedQuery):
            await insert_rows("customer_note", [{"tenant_id": other_tenant.id, "body": "x"}])


async def _raw(conn, tenant_id, sql, *args):
    async with conn.transaction():
        if tenant_id is not None:
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        return await conn.fetch(sql, *args)


async def test_rls_without_tenant_sees_zero_rows(pg_only, tenant, owner):
    await create_customer(tenant, owner, {"name": "A"})
    async with pg_only.engine.pool.acquire() as conn:
        assert (await _raw(conn, None, "SELECT count(*) AS n FROM customer"))[0]["n"] == 0
        assert (await _raw(conn, None, "SELECT current_user AS u"))[0][
            "u"
        ] == pg_only.settings.app_role
        role = await _raw(
            conn, None, "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert (role[0]["rolsuper"], role[0]["rolbypassrls"]) == (False, False)


async def test_rls_blocks_raw_sql_across_tenants(pg_only, tenant, other_tenant, owner):
    theirs = await create_customer(other_tenant, owner, {"name": "B"})
    async with pg_only.engine.pool.acquire() as conn:
        rows = await _raw(conn, tenant.id, "SELECT id FROM customer WHERE id = $1", theirs.id)
        assert rows == []
        updated = await _raw(
            conn, tenant.id, "UPDATE customer SET name = 'x' WHERE id = $1 RETURNING id", theirs.id
        )
        assert updated == []
        deleted = await _raw(
            conn,
            tenant.id,
            "DELETE FROM customer WHERE tenant_id = $1 RETURNING id",
            other_tenant.id,
        )
        assert deleted == []
        import asyncpg

        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await _raw(
                conn,
                tenant.id,
                "INSERT INTO customer (tenant_id, id, name, gender, company, position, address, tags, notes, "
                "attributes, source, status, created_at, updated_at) VALUES ($1, $2, 'x', 'unknown', '', '', '', "
                "'[]', '', '{}', 'api', 'active', now(), now())",
                other_tenant.id,
                uuid.uuid4(),
            )
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await _raw(conn, tenant.id, "DELETE FROM audit_log")
    assert (await get_customer(other_tenant, owner, theirs.id)).name == "B"


async def test_every_tenant_table_forces_rls(pg_only):
    async with pg_only.engine.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            "JOIN information_schema.columns i ON i.table_name = c.relname AND i.column_name = 'tenant_id' "
            "WHERE i.table_schema = 'public' AND c.relkind = 'r'"
        )
    assert len(rows) >= 17
    assert [
        r["relname"] for r in rows if not (r["relrowsecurity"] and r["relforcerowsecurity"])
    ] == []


async def test_every_unique_index_leads_with_tenant_id(pg_only):
    async with pg_only.engine.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND indexname NOT LIKE '%_pkey' AND tablename IN (SELECT table_name FROM "
            "information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id')"
        )
    offenders = [r["indexname"] for r in rows if "(tenant_id" not in r["indexdef"]]
    assert offenders == []


async def test_200_interleaved_transactions_leak_nothing(pg_only, tenant, other_tenant, owner):
    a = await create_customer(tenant, owner, {"name": "A-only"})
    b = await create_customer(other_tenant, owner, {"name": "B-only"})
    expected = {tenant.id: {a.id}, other_tenant.id: {b.id}}

    async def probe(i: int) -> bool:
        who = tenant if i % 2 else other_tenant
        async with tenant_tx(who.id, write=False):
            await asyncio.sleep(0)
            raw = await fetch("SELECT id FROM customer")
            scoped = await Customer.select(Customer.id)
        return {r["id"] for r in raw} == expected[who.id] == {r["id"] for r in scoped}

    results = await asyncio.gather(*(probe(i) for i in range(200)))
    assert all(results)


async def test_tenant_read_is_scoped_by_rls_too(db, tenant, other_tenant, owner):
    """The hot-path shortcut sets the tenant like tenant_tx: on PostgreSQL, even SQL that forgets
    the tenant filter sees only the caller's rows."""
    from core.db import tenant_read

    mine = await create_customer(tenant, owner, {"name": "mine"})
    await create_customer(other_tenant, owner, {"name": "theirs"})
    scoped = await tenant_read(tenant.id, "SELECT id FROM customer WHERE tenant_id = {}", tenant.id)
    assert [r["id"] for r in scoped] == [mine.id]
    if db.is_postgres:
        unfiltered = await tenant_read(tenant.id, "SELECT id FROM customer")
        assert [r["id"] for r in unfiltered] == [mine.id]


async def test_a_released_connection_carries_no_tenant_nor_transaction(
    pg_only, tenant, other_tenant, owner
):
    """The pool skips asyncpg's per-release reset query (core.db._keep_session): nothing of a
    request may outlive its transaction on the connection — not the tenant, not the transaction,
    not after a failed read either."""
    from core.db import tenant_read

    mine = await create_customer(tenant, owner, {"name": "mine"})
    pool = pg_only.engine.pool
    await tenant_read(tenant.id, "SELECT id FROM customer WHERE tenant_id = {}", tenant.id)
    async with tenant_tx(tenant.id, write=False):
        await fetch("SELECT id FROM customer")
    with pytest.raises(Exception, match="division by zero"):
        await tenant_read(tenant.id, "SELECT 1 / 0 FROM customer WHERE tenant_id = {}", tenant.id)
    slow = asyncio.create_task(
        tenant_read(tenant.id, "SELECT pg_sleep(5) FROM customer WHERE tenant_id = {}", tenant.id)
    )
    await asyncio.sleep(0.2)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert await _leftovers(pool, mine.id) == []
    # and the next read of another tenant is scoped to it alone
    rows = await tenant_read(other_tenant.id, "SELECT id FROM customer")
    assert mine.id not in {r["id"] for r in rows}


async def _leftovers(pool, customer_id) -> list:
    """What the pool's idle connections still hold: an open transaction fails; a tenant set on
    one shows as the customer's row found by a query that forgets the tenant (RLS)."""
    seen = []
    connections = [await pool.acquire() for _ in range(pool.get_size())]
    try:
        for conn in connections:
            assert not conn.is_in_transaction()
            setting = await conn.fetchval("SELECT current_setting('app.tenant_id', true)")
            assert setting in (None, "")
            seen += await conn.fetch("SELECT id FROM customer WHERE id = $1", customer_id)
    finally:
        for conn in connections:
            await pool.release(conn)
    return seen


SNAPSHOT = "SELECT pg_backend_pid() AS pid, now() AS began, COUNT(*) AS n FROM customer"


async def test_a_read_session_shares_one_transaction_per_tenant(
    pg_only, tenant, other_tenant, owner
):
    """Inside read_session the reads of one tenant share a connection and a transaction (now()
    is the transaction's start); another tenant's read runs on its own, scoped to it; each
    sees only its tenant's rows, even with SQL that forgets the filter."""
    from core.db import read_session, tenant_read

    await create_customer(tenant, owner, {"name": "mine"})
    for i in range(2):
        await create_customer(other_tenant, owner, {"name": f"theirs {i}"})
    async with read_session():
        first = (await tenant_read(tenant.id, SNAPSHOT))[0]
        await asyncio.sleep(0.01)
        second = (await tenant_read(tenant.id, SNAPSHOT))[0]
        theirs = (await tenant_read(other_tenant.id, SNAPSHOT))[0]
        again = (await tenant_read(tenant.id, SNAPSHOT))[0]
    assert (first["pid"], first["began"]) == (second["pid"], second["began"])
    assert (again["pid"], again["began"]) == (first["pid"], first["began"])
    assert (first["n"], second["n"], theirs["n"], again["n"]) == (1, 1, 2, 1)
    assert (theirs["pid"], theirs["began"]) != (first["pid"], first["began"])
    async with read_session():  # a new session: a new transaction
        later = (await tenant_read(tenant.id, SNAPSHOT))[0]
    assert later["began"] > first["began"]


async def test_sibling_reads_in_a_session_run_side_by_side(pg_only, tenant, owner):
    """Two reads at once in one session: one on the session's connection, the other on its
    own (not queued behind it), both scoped."""
    from core.db import read_session, tenant_read

    await create_customer(tenant, owner, {"name": "mine"})
    slow = "SELECT pg_backend_pid() AS pid, pg_sleep(0.3)::text AS s, COUNT(*) AS n FROM customer"
    async with read_session():
        started = asyncio.get_running_loop().time()
        a, b = await asyncio.gather(tenant_read(tenant.id, slow), tenant_read(tenant.id, slow))
        took = asyncio.get_running_loop().time() - started
    assert a[0]["pid"] != b[0]["pid"] and a[0]["n"] == b[0]["n"] == 1
    assert took < 0.55  # side by side, not one after the other (0.6 s)


async def test_a_session_ended_any_way_leaves_its_connection_clean(pg_only, tenant, owner):
    """A session that ended normally, after a failed statement (the next read opens a new
    transaction), and with its statement cancelled: the read pool's connections carry no
    tenant and no transaction."""
    from core.db import read_session, tenant_read

    mine = await create_customer(tenant, owner, {"name": "mine"})
    async with read_session():
        await tenant_read(tenant.id, SNAPSHOT)
    async with read_session():
        with pytest.raises(Exception, match="division by zero"):
            await tenant_read(tenant.id, "SELECT 1 / 0 FROM customer")
        assert (await tenant_read(tenant.id, SNAPSHOT))[0]["n"] == 1  # a new transaction
    async with read_session():
        await tenant_read(tenant.id, SNAPSHOT)
        slow = asyncio.create_task(tenant_read(tenant.id, "SELECT pg_sleep(5) FROM customer"))
        await asyncio.sleep(0.2)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
    assert await _leftovers(pg_only.read_pool, mine.id) == []
    assert await _leftovers(pg_only.engine.pool, mine.id) == []


async def test_a_read_after_the_session_ended_holds_nothing(pg_only, tenant, owner):
    """A task the request started that reads after the request ended (graphql-core settles
    some in the background), and a request that writes: neither leaves a read-pool connection
    or a gate turn held, and the write does not run with the reads' transaction open."""
    from core.db import _gates, read_session, tenant_read

    mine = await create_customer(tenant, owner, {"name": "mine"})
    gate = _gates[id(pg_only.read_pool)]
    free = gate.free
    late: asyncio.Task | None = None

    async def read_later() -> list:
        await asyncio.sleep(0.05)
        return await tenant_read(tenant.id, SNAPSHOT)

    async with read_session():
        await tenant_read(tenant.id, SNAPSHOT)
        late = asyncio.create_task(read_later())
    assert (await late)[0]["n"] == 1
    assert gate.free == free
    async with read_session():
        before = (await tenant_read(tenant.id, SNAPSHOT))[0]
        async with tenant_tx(tenant.id):
            held = await fetch(
                "SELECT COUNT(*) AS n FROM pg_stat_activity "
                "WHERE state = 'idle in transaction' AND pid = {}",
                before["pid"],
            )
        after = (await tenant_read(tenant.id, SNAPSHOT))[0]
    assert held[0]["n"] == 0  # the session ended when the write began
    assert after["began"] > before["began"]
    assert gate.free == free
    assert await _leftovers(pg_only.read_pool, mine.id) == []


async def test_sessions_holding_connections_do_not_deadlock_the_pools(pg_only, tenant, owner):
    """Three times as many requests as either pool has connections, each holding its session's
    connection while it waits for the main pool (a tenant_tx) and then reads again: all finish,
    none waits out the pool's acquire timeout (5 s)."""
    from core.db import read_session, tenant_read

    await create_customer(tenant, owner, {"name": "mine"})
    requests = 3 * pg_only.settings.db_pool_size

    async def request() -> int:
        async with read_session():
            await tenant_read(tenant.id, SNAPSHOT)
            async with tenant_tx(tenant.id, write=False):
                await fetch("SELECT pg_sleep(0.02)")
            return int((await tenant_read(tenant.id, SNAPSHOT))[0]["n"])

    started = asyncio.get_running_loop().time()
    assert await asyncio.gather(*(request() for _ in range(requests))) == [1] * requests
    assert asyncio.get_running_loop().time() - started < 4


async def test_tenant_read_refuses_a_tenant_id_that_is_not_a_uuid(pg_only, tenant):
    from core.db import tenant_read

    with pytest.raises(TypeError):
        await tenant_read(f"{tenant.id}', false); --", "SELECT 1")  # type: ignore[arg-type]
