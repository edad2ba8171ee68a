"""``mendian bench rfm``: a million customers (SPEC §6, issue 16 item 4). Customers, their
statistics rows and purchases are generated in the database (``INSERT … SELECT
generate_series``, in chunks, never row by row through the API); then the bulk RFM/lifecycle
recompute, a segment count over them, and customer list pages with a filter are timed.
PostgreSQL only: that is where the figures matter."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["bench_rfm"]

CHUNK = 50_000


async def _generate(tenant: Any, stores: list[uuid.UUID], customers: int, per: int) -> None:
    from core.db import execute, tenant_tx

    for start in range(0, customers, CHUNK):
        size = min(CHUNK, customers - start)
        async with tenant_tx(tenant.id):
            # customers, their statistics rows and 0 … 2·per purchases each (uniform, mean
            # `per`: the count is drawn per customer in RETURNING, so the planner cannot hoist
            # it out of the join) over two years, one in five at another store than home
            await execute(
                "WITH new AS (INSERT INTO customer (tenant_id, id, name, home_store_id, source, "
                "status, created_at, updated_at) SELECT {}, gen_random_uuid(), 'c' || g, "
                "({}::uuid[])[1 + g % {}], 'pos', 'active', now(), now() "
                "FROM generate_series({}::int, {}::int) g "
                "RETURNING id, home_store_id, floor(random() * (2 * {}::int + 1))::int AS n), "
                "stats AS (INSERT INTO customer_stats (tenant_id, id, customer_id) "
                "SELECT {}, gen_random_uuid(), id FROM new) "
                "INSERT INTO purchase (tenant_id, id, customer_id, store_id, staff_id, kind, "
                "occurred_at, amount_minor, currency, channel, request_hash, note, created_at) "
                "SELECT {}, gen_random_uuid(), c.id, CASE WHEN random() < 0.2 "
                "THEN ({}::uuid[])[1 + (random() * ({}::int - 1))::int] ELSE c.home_store_id END, "
                "NULL, 'sale', now() - random() * interval '730 days', "
                "(2000 + random() * 150000)::int, 'CNY', 'pos', '', '', now() "
                "FROM new c CROSS JOIN LATERAL generate_series(1, c.n) k",
                tenant.id,
                stores,
                len(stores),
                start + 1,
                start + size,
                per,
                tenant.id,
                tenant.id,
                stores,
                len(stores),
            )


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"median {statistics.median(ordered) * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms"


async def bench_rfm(
    report: Callable[[str], None], *, customers: int, per: int, pages: int, reuse: str | None = None
) -> None:
    from core.context import Actor
    from core.customers import search_customers
    from core.db import execute, fetch, get_database, tenant_tx
    from core.rfm import recompute_all
    from core.segments import create_segment, segment_size
    from tenants.service import create_store, create_tenant, get_tenant

    if not get_database().is_postgres:
        raise SystemExit("mendian bench rfm needs PostgreSQL (DATABASE_URL=postgres://…)")
    owner = Actor(kind="system", id="bench")
    if reuse:
        tenant = await get_tenant(reuse)
        async with tenant_tx(tenant.id, write=False):
            rows = await fetch("SELECT id FROM store WHERE tenant_id = {} ORDER BY code", tenant.id)
        stores = [uuid.UUID(str(r["id"])) for r in rows]
    else:
        tenant = await create_tenant({"slug": f"bench-rfm-{uuid.uuid4().hex[:8]}", "name": "b"})
        stores = [
            uuid.UUID(
                str(
                    (await create_store(tenant, owner, {"code": f"S{i:02d}", "name": f"店{i}"}))[
                        "id"
                    ]
                )
            )
            for i in range(20)
        ]
        started = time.perf_counter()
        await _generate(tenant, stores, customers, per)
        engine = get_database().owner_engine
        for table in ("customer", "customer_stats", "purchase"):
            await engine.run_ddl(f"ANALYZE {table}")
        report(
            f"generated in {time.perf_counter() - started:.1f} s (set-based, chunks of {CHUNK:,})"
        )
    async with tenant_tx(tenant.id, write=False):
        [row] = await fetch("SELECT COUNT(*) AS n FROM purchase WHERE tenant_id = {}", tenant.id)
        [crow] = await fetch("SELECT COUNT(*) AS n FROM customer WHERE tenant_id = {}", tenant.id)
    report(
        f"tenant {tenant.slug}: {int(crow['n']):,} customers and {int(row['n']):,} purchases "
        f"(rerun on the same data: --reuse {tenant.slug})"
    )

    if reuse:  # back to never-computed statistics (not timed), as after a fresh import
        async with tenant_tx(tenant.id):
            await execute(
                "UPDATE customer_stats SET purchase_count = 0, total_spent_minor = 0, "
                "first_purchase_at = NULL, last_purchase_at = NULL, r_score = 0, f_score = 0, "
                "m_score = 0, value_class = 'potential', lifecycle = 'prospect' "
                "WHERE tenant_id = {}",
                tenant.id,
            )
            await execute("DELETE FROM customer_store_stats WHERE tenant_id = {}", tenant.id)
        engine = get_database().owner_engine
        for table in ("customer_stats", "customer_store_stats"):
            await engine.run_ddl(f"VACUUM ANALYZE {table}")
    for run in ("first (every row written)", "nightly rerun (nothing changed)"):
        started = time.perf_counter()
        await recompute_all(tenant)
        report(
            f"bulk RFM / value class / lifecycle recompute, {run}: "
            f"{time.perf_counter() - started:.1f} s"
        )

    segment = await create_segment(
        tenant,
        owner,
        {
            "name": f"loyal high value {uuid.uuid4().hex[:6]}",
            "filter": {
                "all": [
                    {"field": "value_class", "op": "eq", "value": "high_value"},
                    {"field": "days_since_last_purchase", "op": "lte", "value": 90},
                ]
            },
        },
    )
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        size = await segment_size(tenant, owner, segment["id"])
        samples.append(time.perf_counter() - started)
    report(f"segment count (high value, bought in 90 days: {size:,}), 5 runs: {_ms(samples)}")

    for name, flt in (
        ("value class", {"value_class": "high_value"}),
        ("home store", {"home_store_id": str(stores[3])}),
        ("segment", {"segment_id": str(segment["id"])}),
    ):
        samples, after = [], None
        for _ in range(pages):
            started = time.perf_counter()
            page = await search_customers(tenant, owner, flt, first=50, after=after)
            samples.append(time.perf_counter() - started)
            after = page[-1].id if page else None
        report(f"customers(first: 50, filter: {name}), {pages} pages in a row: {_ms(samples)}")
