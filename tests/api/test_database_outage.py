"""The server survives losing its database (issue 17, finding 2): a killed connection is
discarded and replaced, requests fail fast with a 503 the client can act on, the server recovers
by itself, ``SIGTERM`` ends it within its grace period, and no sale is lost or acknowledged
wrongly — a refusal either saved nothing or says it must be replayed with the same key.

PostgreSQL only: the backends are killed with ``pg_terminate_backend`` from the owner's
connection, as an operator (or a failover) would.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import asyncpg
import httpx

from core.config import DatabaseURL
from core.db import tenant_tx
from core.graphql import to_global_id
from core.tables import Purchase
from tests.api.servers import serve, stop_server

RECORD = """mutation($input: PurchaseRecordInput!) {
  purchaseRecord(input: $input) {
    purchase { id replayed } errors { code message } } }"""


async def owner_sql(db, sql: str, *args: Any, elsewhere: bool = False) -> list[Any]:
    """Run SQL as the owner, on the test database (or, ``elsewhere``, on the server's
    maintenance database: ``ALTER DATABASE`` cannot target the one it is connected to)."""
    config = DatabaseURL.parse(db.settings.database.as_url()).asyncpg_config()
    if elsewhere:
        config["database"] = "postgres"
    conn = await asyncpg.connect(**config)
    try:
        if not args and ";" in sql:  # a script: the simple protocol runs several statements
            await conn.execute(sql)
            return []
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def kill_app_backends(db) -> int:
    """Terminate every backend of the app role on this test database (from the owner's side)."""
    rows = await owner_sql(
        db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = $2",
        db.settings.database.database,
        db.settings.app_role,
        elsewhere=True,
    )
    return len(rows)


async def saved_keys(tenant) -> set[str]:
    async with tenant_tx(tenant.id, write=False):
        rows = await Purchase.select(Purchase.idempotency_key)
    return {r["idempotency_key"] for r in rows}


async def sale_fixture(tenant, owner, make_key, customers: int = 20):
    from core.customers.service import create_customer
    from tenants.service import create_store

    store = await create_store(tenant, owner, {"code": "S1", "name": "store"})
    ids = []
    for i in range(customers):
        c = await create_customer(tenant, owner, {"name": f"c{i}", "phone": f"1390000{i:04d}"})
        ids.append(str(to_global_id("Customer", c.id)))
    return await make_key(tenant), str(to_global_id("Store", store["id"])), ids


def sale(store: str, customer: str) -> dict[str, Any]:
    return {"storeId": store, "customerId": customer, "lines": [{"sku": "tea", "unitPrice": "9"}]}


class Till:
    """Sends sales with fresh idempotency keys and keeps what each answer said."""

    def __init__(self, client: httpx.AsyncClient, key: str, store: str, customers: list[str]):
        self.client, self.key, self.store, self.customers = client, key, store, customers
        self.acked: dict[str, float] = {}  # idempotency key → when acknowledged
        self.refused: dict[str, dict[str, Any]] = {}  # idempotency key → the error
        self.sent: dict[str, str] = {}  # idempotency key → the customer of its sale
        self.slowest = 0.0

    async def send(self, idem: str, customer: str) -> httpx.Response:
        self.sent[idem] = customer
        return await self.client.post(
            "/graphql",
            json={
                "query": RECORD,
                "variables": {"input": {**sale(self.store, customer), "idempotencyKey": idem}},
            },
            headers={"Authorization": f"Bearer {self.key}"},
        )

    async def run(self, lane: int, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            idem = f"lane{lane}-{n}"
            started = time.monotonic()
            r = await self.send(idem, self.customers[(lane * 7 + n) % len(self.customers)])
            self.slowest = max(self.slowest, time.monotonic() - started)
            body = r.json()
            answer = (body.get("data") or {}).get("purchaseRecord") or {}
            if r.status_code == 200 and answer.get("purchase"):
                self.acked[idem] = time.monotonic()
                continue
            # The only refusal a lost database may cause: a typed 503 the till can act on.
            assert r.status_code == 503, (r.status_code, body)
            assert r.headers["retry-after"] == "1"
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "database_unavailable", body
            self.refused[idem] = error

    async def check_outcomes(self, tenant) -> int:
        """Every acknowledged sale is saved; every refused one is absent unless it was reported
        replayable; replaying each refusal with its key saves it exactly once. Returns how many
        refusals were replayable."""
        saved = await saved_keys(tenant)
        assert set(self.acked) <= saved
        stray = {
            k for k in set(self.refused) & saved if not self.refused[k]["extensions"]["replayable"]
        }
        assert not stray, [self.refused[k] for k in stray]
        for idem, _error in self.refused.items():
            again = await self.send(idem, self.sent[idem])  # the till's retry: same sale, same key
            answer = again.json()["data"]["purchaseRecord"]
            if idem in saved:
                assert answer["purchase"]["replayed"] is True, answer
            else:
                assert answer["purchase"]["replayed"] is False, answer
        final = await saved_keys(tenant)
        assert final == set(self.acked) | set(self.refused)
        async with tenant_tx(tenant.id, write=False):
            assert await Purchase.count() == len(final)  # each recorded once
        return sum(bool(e["extensions"]["replayable"]) for e in self.refused.values())


async def slow_commits(db, seconds: int) -> None:
    """Make COMMIT of a sale whose idempotency key starts with ``slow-`` wait ``seconds`` (a
    deferred constraint trigger), so a test can act while it runs."""
    await owner_sql(
        db,
        f"""
        CREATE OR REPLACE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep({seconds}); RETURN NULL; END $$;
        DROP TRIGGER IF EXISTS slow_commit ON purchase;
        CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON purchase
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
          WHEN (NEW.idempotency_key LIKE 'slow-%') EXECUTE FUNCTION slow_commit();
        """,
    )


async def in_commit(db) -> int:
    """The pid of the app's backend waiting in a slowed COMMIT (waits for it to get there)."""
    for _ in range(200):
        waiting = await owner_sql(
            db,
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND usename = $1 AND query = 'COMMIT;' AND wait_event = 'PgSleep'",
            db.settings.app_role,
        )
        if waiting:
            return int(waiting[0]["pid"])
        await asyncio.sleep(0.05)
    raise AssertionError("the sale never reached its COMMIT")


async def test_killed_backends_under_load_are_replaced_and_sigterm_still_ends_the_server(
    pg_only, tenant, owner, make_key, capsys
):
    """``mendian serve`` under 8 tills of ``purchaseRecord``; the app's backends killed five
    times a second apart. It used to end, in 2 runs of 4, with no connection left, every
    database request (``/health`` too) waiting for good and ``SIGTERM`` ignored."""
    db = pg_only
    key, store, customers = await sale_fixture(tenant, owner, make_key)
    server, url = await serve(
        db, MENDIAN_RATE_LIMIT_KEY="1000000/minute", MENDIAN_RATE_LIMIT_TENANT="1000000/minute"
    )
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            till = Till(client, key, store, customers)
            stop = asyncio.Event()
            lanes = [asyncio.create_task(till.run(lane, stop)) for lane in range(8)]
            await asyncio.sleep(2)
            kills = []
            for _ in range(5):
                kills.append(time.monotonic())
                assert await kill_app_backends(db) > 0
                await asyncio.sleep(1)
            await asyncio.sleep(2)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*lanes), 30)  # no till hangs

            # Recovered by itself: each kill was followed by acknowledged sales, promptly.
            recovery = [min(t for t in till.acked.values() if t > k) - k for k in kills]
            with capsys.disabled():
                print(
                    f"\nrecovery after each kill: {', '.join(f'{r * 1000:.0f} ms' for r in recovery)};"
                    f" {len(till.acked)} acknowledged, {len(till.refused)} refused (503),"
                    f" slowest answer {till.slowest:.2f} s"
                )
            assert max(recovery) < 2.0
            assert till.slowest < 6.0  # failing fast, never hanging (ACQUIRE_SECONDS is 5)
            health = await client.get("/health")
            assert health.status_code == 200, health.text
            await till.check_outcomes(tenant)
            # SIGTERM ends the server within its grace period (it ignored it for 4 minutes),
            # even with a request stuck in the database (a COMMIT that waits two minutes).
            await slow_commits(db, 120)
            stuck = asyncio.create_task(till.send("slow-stuck", customers[0]))
            await in_commit(db)
            sent = time.monotonic()
            log = await stop_server(server)  # SIGTERM, and (at most 20 s) wait
            assert time.monotonic() - sent < 15  # SHUTDOWN_GRACE_SECONDS + POOL_CLOSE_SECONDS
            with contextlib.suppress(httpx.HTTPError):
                await stuck
    finally:
        log = await stop_server(server)
        await owner_sql(db, "DROP TRIGGER IF EXISTS slow_commit ON purchase")
    # No request failed as a bug (masked "internal" errors are logged by mendian.graphql), and
    # no dead connection was used again; the one traceback is the stuck request, cut off.
    assert "resolver failed" not in log and "InterfaceError" not in log, log[-3000:]
    assert "timeout graceful shutdown exceeded" in log


async def test_a_connection_lost_during_commit_is_reported_replayable(
    pg_only, api, tenant, owner, make_key
):
    """The backend is killed while COMMIT runs (a deferred trigger makes COMMIT wait): the
    outcome is unknown to the server's client, so the answer says to replay with the same
    key — and replaying records the sale exactly once."""
    db = pg_only
    key, store, customers = await sale_fixture(tenant, owner, make_key, customers=1)
    await slow_commits(db, 3)
    try:
        till = Till(api.http, key, store, customers)
        request = asyncio.create_task(till.send("slow-1", customers[0]))
        pid = await in_commit(db)
        await owner_sql(db, "SELECT pg_terminate_backend($1)", pid)
        r = await request
        assert r.status_code == 503
        assert r.headers["retry-after"] == "1"
        (error,) = r.json()["errors"]
        assert error["extensions"]["code"] == "database_unavailable"
        assert error["extensions"]["replayable"] is True
        assert "Retry with the same idempotency key" in error["message"]
        till.refused["slow-1"] = error
    finally:
        await owner_sql(db, "DROP TRIGGER IF EXISTS slow_commit ON purchase")
    assert await till.check_outcomes(tenant) == 1


async def test_while_the_database_refuses_connections_requests_fail_fast_and_it_recovers(
    pg_only, api, tenant, owner, make_key
):
    db = pg_only
    key, store, customers = await sale_fixture(tenant, owner, make_key, customers=2)
    till = Till(api.http, key, store, customers)
    name = db.settings.database.database
    await owner_sql(db, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false', elsewhere=True)
    try:
        await kill_app_backends(db)
        for i in range(5):
            started = time.monotonic()
            r = await till.send(f"away-{i}", customers[0])
            assert time.monotonic() - started < 2.0  # refused at once, not after a timeout
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] == "1"
            assert r.json()["errors"][0]["extensions"] == {
                "code": "database_unavailable",
                "replayable": False,
                "requestId": r.headers["x-request-id"],
            }
        health = await api.http.get("/health")
        assert health.status_code == 503
        admin = await api.http.get(
            f"/admin/tenants/{tenant.slug}",
            headers={"Authorization": f"Bearer {db.settings.admin_token}"},
        )
        assert admin.status_code == 503 and admin.headers["retry-after"] == "1"
        assert admin.json()["errors"][0]["code"] == "database_unavailable"
    finally:
        await owner_sql(db, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true', elsewhere=True)
    r = await till.send("back-1", customers[0])  # recovered by itself
    assert r.status_code == 200 and r.json()["data"]["purchaseRecord"]["purchase"]
    assert await saved_keys(tenant) == {"back-1"}
