"""The cashier path updates customer statistics incrementally (issue 16, item 2): after any mix
of sales (in order or back-dated) and refunds in several stores, the figures equal a full
recompute from the purchase history; concurrent sales to one customer all count."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest

from core.customers import create_customer
from core.db import fetch, tenant_tx
from core.purchases import record_purchase
from core.purchases.refunds import record_refund
from core.rfm import recompute_customers
from tenants.service import create_store

NOW = dt.datetime.now(dt.UTC)
COLUMNS = (
    "purchase_count, total_spent_minor, first_purchase_at, last_purchase_at, r_score, f_score, "
    "m_score, value_class, lifecycle"
)


async def snapshot(tenant, customer_id):
    async with tenant_tx(tenant.id, write=False):
        chain = await fetch(
            f"SELECT {COLUMNS} FROM customer_stats WHERE tenant_id = {{}} AND customer_id = {{}}",
            tenant.id,
            customer_id,
        )
        stores = await fetch(
            "SELECT store_id, purchase_count, total_spent_minor, last_purchase_at, r_score, "
            "f_score, m_score FROM customer_store_stats WHERE tenant_id = {} AND customer_id = {} "
            "ORDER BY store_id",
            tenant.id,
            customer_id,
        )
    return chain, stores


async def sell(tenant, owner, store, customer, days_ago: float, amount: str):
    return await record_purchase(
        tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(customer),
            "occurred_at": (NOW - dt.timedelta(days=days_ago)).isoformat(),
            "lines": [{"sku": "S", "unit_price": amount, "qty": "2"}],
        },
    )


async def test_incremental_stats_equal_a_full_recompute(tenant, owner, store):
    other = (await create_store(tenant, owner, {"code": "S2", "name": "two"}))["id"]
    rng = random.Random(16)
    customer = await create_customer(tenant, owner, {"name": "mixed"})
    sales = []
    for i in range(24):
        days = rng.choice([1, 5, 40, 120, 400, 800]) + rng.random()  # back-dated too
        amount = f"{rng.randint(1, 900)}.{rng.randint(0, 99):02d}"
        sales.append(
            await sell(tenant, owner, rng.choice([store, other]), customer.id, days, amount)
        )
        if i % 5 == 4:  # refund one line of an earlier sale
            original = sales.pop(rng.randrange(len(sales)))  # each refunded once
            await record_refund(
                tenant,
                owner,
                {"refund_of": str(original.id), "lines": [{"line_no": 1, "qty": "1"}]},
            )
    incremental = await snapshot(tenant, customer.id)
    async with tenant_tx(tenant.id):
        await recompute_customers(tenant, [customer.id])
    assert incremental == await snapshot(tenant, customer.id)
    chain, stores = incremental
    assert chain[0]["purchase_count"] == 24
    assert len(stores) == 2


@pytest.mark.usefixtures("pg_only")
async def test_concurrent_sales_to_one_customer_all_count(tenant, owner, store):
    customer = await create_customer(tenant, owner, {"name": "busy"})
    await asyncio.gather(
        *(sell(tenant, owner, store, customer.id, 0.01, "10.00") for _ in range(20))
    )
    chain, [in_store] = await snapshot(tenant, customer.id)
    assert (chain[0]["purchase_count"], chain[0]["total_spent_minor"]) == (20, 40000)
    assert (in_store["purchase_count"], in_store["total_spent_minor"]) == (20, 40000)
