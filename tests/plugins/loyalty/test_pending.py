"""Pending points (``ledger/pending.py``): a sale's points wait out the return window, refunds
inside it take them from the pending balance, the release activates each award once."""

from __future__ import annotations

import asyncio

import pytest

from tests.plugins.loyalty.helpers import (
    REDEEM,
    REFUND,
    buy,
    customer_and_store,
    kpis,
    redeem_input,
    sell,
    status,
)

pytestmark = pytest.mark.usefixtures("db")


async def test_pending_points_unlock_after_the_return_window_and_refunds_take_them_back(
    api, runtime, tenant, make_key, enable_plugins, deliver_events
):
    """Points from a sale wait out the return window (not spendable); a refund inside it takes
    them from the pending balance; the hourly release activates what is left, once."""
    import datetime as dt

    from plugins.loyalty.ledger import release_pending

    await enable_plugins(tenant, "loyalty", settings={"pending_days": 7})
    key = await make_key(tenant)
    customer, store = await customer_and_store(api, key, "13912345100")
    refunded = await buy(api, key, customer, store, "100")
    kept = await buy(api, key, customer, store, "40")
    await deliver_events(tenant)
    assert await status(api, key, customer) == {"points": 0, "pending": 140, "growth": 140}
    spend = await api.gql(REDEEM, redeem_input(customer, 1, "p-1"), key=key)
    assert spend["data"]["loyaltyRedeem"]["errors"][0]["code"] == "insufficient_points"

    r = await api.gql(REFUND, {"i": {"refundOf": refunded}}, key=key)
    assert r["data"]["purchaseRefund"]["errors"] == []
    await deliver_events(tenant)
    assert await status(api, key, customer) == {"points": 0, "pending": 40, "growth": 40}

    assert await kpis(api, key, "points_issued", "points_pending") == [0, 40]
    settings = await runtime.plugin_settings(tenant.id, "loyalty")
    now = dt.datetime.now(dt.UTC)
    assert await release_pending(tenant, settings, now) == 0  # still inside the window
    later = now + dt.timedelta(days=8)
    assert await release_pending(tenant, settings, later) == 40  # the refunded award: nothing
    assert await release_pending(tenant, settings, later) == 0  # once
    assert await status(api, key, customer) == {"points": 40, "pending": 0, "growth": 40}
    assert await kpis(api, key, "points_issued", "points_pending") == [40, 0]

    # A refund after the window takes spendable points back, as for any sale.
    r = await api.gql(REFUND, {"i": {"refundOf": kept}}, key=key)
    await deliver_events(tenant)
    assert await status(api, key, customer) == {"points": 0, "pending": 0, "growth": 0}
    ledger = await api.gql(
        "query($c: ID!) { loyaltyLedger(customerId: $c, first: 10) "
        "{ edges { node { kind points pending source } } } }",
        {"c": customer},
        key=key,
    )
    kinds = [e["node"] for e in ledger["data"]["loyaltyLedger"]["edges"]]
    assert sorted((k["kind"], k["points"], k["pending"], k["source"]) for k in kinds) == [
        ("ACTIVATE", 0, 0, "ACTIVATION"),  # the refunded award: closed, nothing to activate
        ("ACTIVATE", 40, -40, "ACTIVATION"),
        ("EARN", 0, 40, "PURCHASE"),
        ("EARN", 0, 100, "PURCHASE"),
        ("REVERSE", -40, 0, "REFUND"),
        ("REVERSE", 0, -100, "REFUND"),
    ]


async def test_concurrent_releases_activate_each_award_once(
    pg_only, tenant, owner, runtime, enable_plugins, deliver_events
):
    import datetime as dt

    from core.customers import create_customer
    from plugins.loyalty.ledger import balances, release_pending
    from tenants.service import create_store

    await enable_plugins(tenant, "loyalty", settings={"pending_days": 1})
    store = (await create_store(tenant, owner, {"code": "P1", "name": "p"}))["id"]
    customers = [
        await create_customer(tenant, owner, {"name": f"p{i}", "phone": f"1391234530{i}"})
        for i in range(4)
    ]
    for c in customers:
        for _ in range(5):
            await sell(tenant, owner, store, c.id, "10")
    await deliver_events(tenant)
    settings = await runtime.plugin_settings(tenant.id, "loyalty")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    released = await asyncio.gather(*(release_pending(tenant, settings, later) for _ in range(6)))
    assert sum(released) == 4 * 5 * 10
    found = await balances(tenant, [c.id for c in customers])
    assert [found[c.id] for c in customers] == [(50, 50)] * 4
