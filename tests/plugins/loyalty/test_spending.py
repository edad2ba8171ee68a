"""Spending and correcting points (``ledger/spending.py``): redemptions and adjustments,
idempotent and never overdrawn (also under concurrency), adjustments audited, and points paid
for a sale returned when that sale is refunded."""

from __future__ import annotations

import asyncio

import pytest

from tests.plugins.loyalty.helpers import (
    ADJUST,
    RECORD,
    REDEEM,
    REFUND,
    account,
    buy,
    customer_and_store,
    entries_of,
    entry_count,
    ledger_sums,
    redeem_input,
)

pytestmark = pytest.mark.usefixtures("db")


async def test_concurrent_redemptions_never_overdraw(
    pg_only, tenant, owner, runtime, enable_plugins
):
    """200 concurrent redemptions of 10 against 1,000 points: exactly 100 succeed."""
    from core import ValidationFailed
    from core.customers import create_customer
    from plugins.loyalty.ledger import adjust, balances, redeem

    await enable_plugins(tenant, "loyalty")
    c = await create_customer(tenant, owner, {"name": "rich"})
    await adjust(tenant, owner, c.id, 1000, "seed", "opening balance")

    async def one(i):
        try:
            await redeem(tenant, owner, c.id, 10, f"k{i}")
            return True
        except ValidationFailed:
            return False

    results = await asyncio.gather(*(one(i) for i in range(200)))
    assert results.count(True) == 100
    assert (await balances(tenant, [c.id]))[c.id] == (0, 0)


async def test_the_same_key_fifty_times_concurrently_writes_one_entry(
    pg_only, tenant, owner, runtime, enable_plugins
):
    from core.customers import create_customer
    from core.db import tenant_tx
    from plugins.loyalty.ledger import adjust, redeem
    from plugins.loyalty.tables import LoyaltyEntry

    await enable_plugins(tenant, "loyalty")
    c = await create_customer(tenant, owner, {"name": "same"})
    await adjust(tenant, owner, c.id, 500, "seed", "opening balance")
    moves = await asyncio.gather(*(redeem(tenant, owner, c.id, 30, "same-key") for _ in range(50)))
    assert {(m.id, m.points) for m in moves} == {(moves[0].id, -30)}
    assert sum(not m.replayed for m in moves) == 1
    async with tenant_tx(tenant.id, write=False):
        assert await LoyaltyEntry.count().where(LoyaltyEntry.kind == "redeem") == 1


async def _adjust_rows(tenant):
    from core.db import json_value, tenant_tx
    from core.tables import AuditLog

    async with tenant_tx(tenant.id, write=False):
        rows = await AuditLog.select(
            AuditLog.actor_type,
            AuditLog.actor_id,
            AuditLog.subject_type,
            AuditLog.subject_id,
            AuditLog.details,
        ).where(AuditLog.action == "loyalty.adjust")
    return [r | {"details": json_value(r["details"], {})} for r in rows]


async def test_an_adjustment_is_audited_once_and_a_refused_one_writes_nothing(
    api, tenant, owner, make_key, enable_plugins
):
    """``loyaltyAdjust`` writes the entry and an audit row (who, which customer, how many points,
    why, which entry) in one transaction; its replay writes neither again; a refused correction
    (overdraft, no reason, no permission) writes neither."""
    from core.graphql import from_global_id
    from tenants.credentials import create_api_key

    await enable_plugins(tenant, "loyalty")
    key_id, key = await create_api_key(tenant, owner, name="back office", role="owner")
    customer, _store = await customer_and_store(api, key, "13912345030")
    uid = from_global_id(customer, "Customer")

    def adjust(n, reason, idem):
        return {
            "i": {"customerId": customer, "points": n, "reason": reason, "idempotencyKey": idem}
        }

    done = (await api.gql(ADJUST, adjust(50, "goodwill", "a-1"), key=key))["data"]["loyaltyAdjust"]
    assert done == {
        "entry": {"kind": "ADJUST", "points": 50},
        "balance": 50,
        "replayed": False,
        "errors": [],
    }
    [entry] = await entries_of(tenant, uid)
    expected = [
        {
            "actor_type": "api_key",
            "actor_id": str(key_id),
            "subject_type": "customer",
            "subject_id": str(uid),
            "details": {"points": 50, "reason": "goodwill", "entry_id": str(entry["id"])},
        }
    ]
    assert await _adjust_rows(tenant) == expected

    again = (await api.gql(ADJUST, adjust(50, "goodwill", "a-1"), key=key))["data"]["loyaltyAdjust"]
    assert again["replayed"] is True and again["entry"] == {"kind": "ADJUST", "points": 50}
    overdraft = await api.gql(ADJUST, adjust(-80, "typo", "a-2"), key=key)
    assert overdraft["data"]["loyaltyAdjust"]["errors"] == [
        {"field": "points", "code": "insufficient_points"}
    ]
    blank = await api.gql(ADJUST, adjust(5, "  ", "a-3"), key=key)
    assert blank["data"]["loyaltyAdjust"]["errors"][0]["field"] == "reason"
    cashier = await make_key(tenant, role="cashier")
    refused = await api.gql(ADJUST, adjust(5, "for a friend", "a-4"), key=cashier)
    assert refused["data"] is None  # a missing permission is a top-level error
    assert [(e["message"], e["extensions"]["code"]) for e in refused["errors"]] == [
        ("permission 'loyalty:adjust' is required", "forbidden")
    ]

    assert await _adjust_rows(tenant) == expected
    assert [e["id"] for e in await entries_of(tenant, uid)] == [entry["id"]]
    assert await account(tenant, uid) == (50, 0, 0)


async def test_points_paid_for_a_sale_come_back_with_its_refund_once(
    api, runtime, tenant, make_key, enable_plugins, deliver_events, captured_events
):
    """A redemption naming the sale it paid for: each refund of that sale returns the refunded
    share of those points (rounded down) once — a second delivery or a replay of the refund's
    event returns nothing more — and the points return before the sale's own points are taken
    back, so nothing the customer paid with is lost to the never-below-zero rule."""
    from core.graphql import from_global_id
    from plugins.loyalty.ledger import restore_paid

    await enable_plugins(tenant, "loyalty")
    key = await make_key(tenant)
    customer, store = await customer_and_store(api, key, "13912345040")
    uid = from_global_id(customer, "Customer")
    sale = await _two_line_sale(api, key, customer, store, "30", "70")
    await deliver_events(tenant)
    paid = await api.gql(REDEEM, redeem_input(customer, 40, "pay-1", purchaseId=sale), key=key)
    assert paid["data"]["loyaltyRedeem"]["balance"] == 60  # earned 100, paid 40 of this sale

    one_line = {"i": {"refundOf": sale, "lines": [{"lineNo": 1, "qty": "1"}]}}
    assert (await api.gql(REFUND, one_line, key=key))["data"]["purchaseRefund"]["errors"] == []
    await deliver_events(tenant)
    await deliver_events(tenant)
    # 30% refunded: 12 of the 40 paid points come back, 30 earned are taken back (60 + 12 - 30).
    assert await account(tenant, uid) == (42, 0, 70)
    settings = await runtime.plugin_settings(tenant.id, "loyalty")
    [first_refund] = [p for n, p in await captured_events(tenant) if n == "purchase.refunded"]
    assert await restore_paid(tenant, settings, first_refund) == 0  # the event replayed
    assert await account(tenant, uid) == (42, 0, 70)

    rest = {"i": {"refundOf": sale}}
    assert (await api.gql(REFUND, rest, key=key))["data"]["purchaseRefund"]["errors"] == []
    await deliver_events(tenant)
    # The other 70%: the 28 paid points left come back, then the 70 earned are taken: 0.
    assert await account(tenant, uid) == (0, 0, 0)
    assert await ledger_sums(tenant, uid) == (0, 0, 0)
    assert [
        (e["kind"], e["points"], e["reason"])
        for e in await entries_of(tenant, uid)
        if e["source"] == "refund"
    ] == [
        ("restore", 12, "points paid for a refunded sale returned"),
        ("reverse", -30, "refund"),
        ("restore", 28, "points paid for a refunded sale returned"),
        ("reverse", -70, "refund"),
    ]
    for name, event in await captured_events(tenant):
        if name == "purchase.refunded":
            assert await restore_paid(tenant, settings, event) == 0
    assert await account(tenant, uid) == (0, 0, 0)


async def _two_line_sale(api, key, customer, store, a, b):
    r = await api.gql(
        RECORD,
        {
            "input": {
                "storeId": store,
                "customerId": customer,
                "lines": [{"sku": "a", "unitPrice": a}, {"sku": "b", "unitPrice": b}],
            }
        },
        key=key,
    )
    assert r["data"]["purchaseRecord"]["errors"] == []
    return r["data"]["purchaseRecord"]["purchase"]["id"]


async def test_a_redemption_names_only_a_sale_of_its_customer(
    api, tenant, other_tenant, make_key, enable_plugins, deliver_events
):
    """``purchaseId`` must be a sale of the redeeming customer: another customer's sale, a
    refund, or another tenant's sale is ``unknown_purchase`` on ``purchaseId``, and nothing is
    spent."""
    from core.graphql import from_global_id

    await enable_plugins(tenant, "loyalty")
    await enable_plugins(other_tenant, "loyalty")
    key, other_key = await make_key(tenant), await make_key(other_tenant)
    payer, store = await customer_and_store(api, key, "13912345050")
    stranger, _s = await customer_and_store(api, key, "13912345051")
    foreigner, foreign_store = await customer_and_store(api, other_key, "13912345052")
    mine = await buy(api, key, payer, store, "50")
    returned = await _two_line_sale(api, key, payer, store, "5", "5")
    theirs = await buy(api, key, stranger, store, "20")
    elsewhere = await buy(api, other_key, foreigner, foreign_store, "20")
    refund = await api.gql(
        "mutation($i: PurchaseRefundInput!) { purchaseRefund(input: $i) "
        "{ purchase { id } errors { code } } }",
        {"i": {"refundOf": returned, "lines": [{"lineNo": 1, "qty": "1"}]}},
        key=key,
    )
    refund_id = refund["data"]["purchaseRefund"]["purchase"]["id"]
    await deliver_events(tenant)
    uid = from_global_id(payer, "Customer")
    assert await account(tenant, uid) == (55, 0, 55)  # 50 + 10, half of the 10 refunded
    before = await entry_count(tenant)
    for n, purchase in enumerate((theirs, refund_id, elsewhere)):
        r = await api.gql(REDEEM, redeem_input(payer, 5, f"p-{n}", purchaseId=purchase), key=key)
        assert r["data"]["loyaltyRedeem"]["errors"] == [
            {
                "field": "purchaseId",
                "code": "unknown_purchase",
                "message": "no sale of this customer with this id",
            }
        ]
    assert await entry_count(tenant) == before
    assert await account(tenant, uid) == (55, 0, 55)
    ok = await api.gql(REDEEM, redeem_input(payer, 5, "p-ok", purchaseId=mine), key=key)
    assert ok["data"]["loyaltyRedeem"]["balance"] == 50
