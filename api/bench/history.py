"""``mendian bench history``: the cost of a sale for a customer with a long purchase history
against a new customer (issue 16: a regular with 5,000 past purchases must not be slower to
sell to). Times ``record_purchase`` one sale at a time, and beside it the full recompute of the
customer's statistics the cashier path ran before it became incremental."""

from __future__ import annotations

import datetime as dt
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["bench_history"]


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"median {statistics.median(ordered) * 1e3:6.2f} ms  p99 {p99 * 1e3:6.2f} ms"


async def _timed(runs: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        out.append(time.perf_counter() - started)
    return out


async def bench_history(report: Callable[[str], None], *, history: int, runs: int) -> None:
    from core.context import Actor
    from core.customers import create_customer
    from core.db import insert_rows, tenant_tx
    from core.purchases import record_purchase
    from core.rfm import recompute_customers
    from tenants.service import create_store, create_tenant

    owner = Actor(kind="system", id="bench")
    tenant = await create_tenant({"slug": f"bench-h-{uuid.uuid4().hex[:8]}", "name": "bench"})
    store = (await create_store(tenant, owner, {"code": "S1", "name": "s"}))["id"]
    regular = await create_customer(tenant, owner, {"name": "regular"})
    newcomer = await create_customer(tenant, owner, {"name": "new"})
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "tenant_id": tenant.id,
            "id": uuid.uuid4(),
            "customer_id": regular.id,
            "store_id": store,
            "staff_id": None,
            "kind": "sale",
            "refund_of_id": None,
            "occurred_at": now - dt.timedelta(hours=i + 1),
            "amount_minor": 1000,
            "currency": tenant.currency,
            "channel": "pos",
            "receipt_no": None,
            "idempotency_key": None,
            "request_hash": "",
            "note": "",
            "created_at": now,
        }
        for i in range(history)
    ]
    async with tenant_tx(tenant.id):
        for i in range(0, len(rows), 1000):
            await insert_rows("purchase", rows[i : i + 1000])
        await recompute_customers(tenant, [regular.id])
    report(f"customer with {history:,} past purchases vs a new one, {runs} sales each, serial:")

    def sale(customer: Any) -> Callable[[], Awaitable[Any]]:
        return lambda: record_purchase(
            tenant,
            owner,
            {
                "store_id": str(store),
                "customer_id": str(customer),
                "lines": [{"sku": "tea", "unit_price": "9.90"}],
            },
        )

    await _timed(5, sale(newcomer.id))  # warm up
    for name, customer in (("new customer", newcomer.id), ("long history", regular.id)):
        report(f"  purchaseRecord, {name:<13} {_ms(await _timed(runs, sale(customer)))}")

    async def full() -> None:
        async with tenant_tx(tenant.id):
            await recompute_customers(tenant, [regular.id])

    report(f"  (the full recompute it replaced, long history: {_ms(await _timed(runs, full))})")
