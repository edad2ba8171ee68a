"""Merging customers (``ledger/merge.py``): the duplicate's points (each open award with its
own expiry date), pending points (same release date), growth value, coupons and referrals
move to the customer that remains, exactly once; both ledgers keep summing to their accounts;
refunds of the duplicate's earlier sales take back from the customer that remains."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.plugins.loyalty.helpers import account, entries_of, entry_count, ledger_sums, sell

pytestmark = pytest.mark.usefixtures("db")

TIERS = [{"code": "silver", "name": "银卡", "threshold": 150}]


async def _configure(enable_plugins, tenant, **settings):
    await enable_plugins(tenant, "loyalty", settings={"tiers": TIERS} | settings)


async def test_a_merge_moves_points_pending_growth_coupons_and_referrals_once(
    api, runtime, tenant, owner, store, make_key, enable_plugins, deliver_events
):
    from core.customers import create_customer, merge_customers
    from core.db import tenant_tx
    from core.graphql import to_global_id
    from plugins.loyalty.expiry import expire
    from plugins.loyalty.ledger import merge_accounts, redeem, refer, release_pending
    from plugins.loyalty.rewards import create_reward, redeem_reward
    from plugins.loyalty.tables import LoyaltyCoupon, LoyaltyReferral

    key = await make_key(tenant)
    await _configure(enable_plugins, tenant)
    source = await create_customer(tenant, owner, {"name": "重复"})
    target = await create_customer(tenant, owner, {"name": "保留"})
    sponsor = await create_customer(tenant, owner, {"name": "介绍人"})
    newcomer = await create_customer(tenant, owner, {"name": "新客"})
    await refer(tenant, owner, source.id, sponsor.id)  # the source was referred by the sponsor
    await refer(tenant, owner, newcomer.id, source.id)  # and referred the newcomer

    async def sale(customer, price, **settings):
        await _configure(enable_plugins, tenant, **settings)
        await sell(tenant, owner, store, customer.id, price)
        await deliver_events(tenant)  # accrued under these settings

    await sale(target, "10", expiry_days=60)  # the target's own: 10, lapses in 60 days
    await sale(source, "100", expiry_days=10)  # award A: lapses in 10 days
    await sale(source, "50", expiry_days=60)  # award B: lapses in 60 days
    reward = await create_reward(tenant, owner, {"code": "CUP", "name": "杯", "points_cost": 10})
    await redeem(tenant, owner, source.id, 60, "spend")
    _moved, coupon = await redeem_reward(tenant, owner, source.id, reward["id"], "cup")
    # FIFO: 70 spent from A first, so A keeps 30 and B 50.
    await sale(source, "30", expiry_days=60, pending_days=7)  # pending C
    await sale(source, "20", expiry_days=60, pending_days=7)  # pending D
    assert await account(tenant, source.id) == (80, 50, 200)
    assert await account(tenant, target.id) == (10, 0, 10)
    originals = {e["points"] or e["pending"]: e for e in await entries_of(tenant, source.id)}

    await merge_customers(tenant, owner, source.id, target.id)
    await deliver_events(tenant)
    assert await account(tenant, source.id) == (0, 0, 0)
    assert await account(tenant, target.id) == (90, 50, 210)
    for customer in (source.id, target.id):
        assert await ledger_sums(tenant, customer) == await account(tenant, customer)
    moved_in = [
        (e["points"], e["pending"], e["growth"], e["expires_at"], e["available_at"])
        for e in await entries_of(tenant, target.id)
        if e["kind"] == "merge_in"
    ]
    assert sorted(moved_in, key=lambda m: (m[0], m[1])) == [
        (0, 0, 200, None, None),  # the summary: growth value
        (0, 20, 0, None, originals[20]["available_at"]),  # pending D, same release date
        (0, 30, 0, None, originals[30]["available_at"]),  # pending C
        (30, 0, 0, originals[100]["expires_at"], None),  # what is left of A, A's expiry
        (50, 0, 0, originals[50]["expires_at"], None),  # B, B's expiry
    ]
    async with tenant_tx(tenant.id, write=False):
        coupons = await LoyaltyCoupon.select(LoyaltyCoupon.customer_id, LoyaltyCoupon.code)
        referrals = await LoyaltyReferral.select(
            LoyaltyReferral.customer_id, LoyaltyReferral.referrer_id
        ).order_by(LoyaltyReferral.created_at)
    assert coupons == [{"customer_id": target.id, "code": coupon["code"]}]
    assert referrals == [
        {"customer_id": target.id, "referrer_id": sponsor.id},
        {"customer_id": newcomer.id, "referrer_id": target.id},
    ]
    tier = await api.gql(
        "query($id: ID!) { customer(id: $id) { loyalty { tier { code } expiringSoon } } }",
        {"id": to_global_id("Customer", target.id)},
        key=key,
    )
    # Growth 210 reaches silver; A's 30 lapse within the 30-day notice window.
    assert tier["data"]["customer"]["loyalty"] == {"tier": {"code": "silver"}, "expiringSoon": 30}

    # Exactly once: a second delivery and a replay of the merge move nothing.
    count = await entry_count(tenant)
    await deliver_events(tenant)
    settings = await runtime.plugin_settings(tenant.id, "loyalty")
    channels = await runtime.channels(tenant)
    assert await merge_accounts(tenant, settings, channels, source.id, target.id) == 0
    assert await entry_count(tenant) == count
    assert await account(tenant, source.id) == (0, 0, 0)
    assert await account(tenant, target.id) == (90, 50, 210)

    # Each moved award keeps its own dates: pending points release on their day, to the target;
    # A's remainder lapses on A's day, B's does not.
    now = dt.datetime.now(dt.UTC)
    assert await release_pending(tenant, settings, now + dt.timedelta(days=6)) == 0
    assert await release_pending(tenant, settings, now + dt.timedelta(days=8)) == 50
    assert await expire(tenant, settings, channels, now + dt.timedelta(days=11)) == 30
    assert await account(tenant, source.id) == (0, 0, 0)
    assert await account(tenant, target.id) == (110, 0, 210)
    for customer in (source.id, target.id):
        assert await ledger_sums(tenant, customer) == await account(tenant, customer)


async def test_refunds_of_the_duplicates_sales_take_back_from_the_customer_that_remains(
    runtime, tenant, owner, store, enable_plugins, deliver_events
):
    """Every way a sale's points can stand at the merge — spent before it, still open, made
    spendable before it, still pending — and the points paid for a sale: refunding each after
    the merge takes back from (or returns to) the customer that remains, never from the merged
    duplicate, and each refund's delivery applies once."""
    from core.customers import create_customer, merge_customers
    from core.purchases import record_refund
    from plugins.loyalty.ledger import redeem, release_pending

    await enable_plugins(tenant, "loyalty")
    source = await create_customer(tenant, owner, {"name": "重复"})
    target = await create_customer(tenant, owner, {"name": "保留"})
    await sell(tenant, owner, store, target.id, "50")
    spent = await sell(tenant, owner, store, source.id, "100")
    await deliver_events(tenant)
    await redeem(tenant, owner, source.id, 100, "paid", purchase_id=spent.id)  # all of it
    kept = await sell(tenant, owner, store, source.id, "40")  # still open at the merge
    await deliver_events(tenant)
    await enable_plugins(tenant, "loyalty", settings={"pending_days": 1})
    released = await sell(tenant, owner, store, source.id, "20")  # spendable before the merge
    await deliver_events(tenant)
    await enable_plugins(tenant, "loyalty", settings={"pending_days": 7})
    pending = await sell(tenant, owner, store, source.id, "30")  # still pending at the merge
    await deliver_events(tenant)
    settings = await runtime.plugin_settings(tenant.id, "loyalty")
    now = dt.datetime.now(dt.UTC)
    assert await release_pending(tenant, settings, now + dt.timedelta(days=2)) == 20
    assert await account(tenant, source.id) == (60, 30, 190)
    await merge_customers(tenant, owner, source.id, target.id)
    await deliver_events(tenant)
    assert await account(tenant, target.id) == (110, 30, 240)

    for sale, standing in (
        (kept, (70, 30, 200)),
        (released, (50, 30, 180)),
        (pending, (50, 0, 150)),
        # 100 paid with points come back, then the 100 the sale earned are taken back.
        (spent, (50, 0, 50)),
    ):
        await record_refund(tenant, owner, {"refund_of": str(sale.id)})
        await deliver_events(tenant)
        await deliver_events(tenant)
        assert await account(tenant, target.id) == standing, sale
        assert await account(tenant, source.id) == (0, 0, 0), sale
    # What is left is the target's own sale, and nothing was pending to release.
    assert await release_pending(tenant, settings, now + dt.timedelta(days=8)) == 0
    assert await account(tenant, target.id) == (50, 0, 50)
    for customer in (source.id, target.id):
        assert await ledger_sums(tenant, customer) == await account(tenant, customer)
    reversals = [
        (e["kind"], e["points"], e["pending"], e["growth"])
        for e in await entries_of(tenant, target.id)
        if e["source"] == "refund"
    ]
    assert reversals == [
        ("reverse", -40, 0, -40),
        ("reverse", -20, 0, -20),
        ("reverse", 0, -30, -30),
        ("restore", 100, 0, 0),
        ("reverse", -100, 0, -100),
    ]
    assert [e for e in await entries_of(tenant, source.id) if e["source"] == "refund"] == []
