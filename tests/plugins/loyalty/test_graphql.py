"""Loyalty through GraphQL alone: a cashier's day end to end, ledger pages, ``node(id:)``; the
disabled plugin (absent, earns nothing) and isolation between tenants."""

from __future__ import annotations

import pytest

from tests.plugins.loyalty.helpers import (
    KPIS,
    LOYALTY,
    REDEEM,
    REFUND,
    buy,
    customer_and_store,
    points,
    redeem_input,
)

pytestmark = pytest.mark.usefixtures("db")

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename
    ... on LoyaltyEntry { kind points }
    ... on LoyaltyReward { code }
    ... on LoyaltyCoupon { status }
  }
}"""


async def test_a_cashier_earns_redeems_and_refunds_through_graphql(
    api, tenant, make_key, enable_plugins, deliver_events
):
    await enable_plugins(
        tenant, "loyalty", settings={"points_per_unit": "2", "growth_per_unit": "1"}
    )
    key = await make_key(tenant)
    customer, store = await customer_and_store(api, key)
    sale = await buy(api, key, customer, store, "150.50")
    await deliver_events(tenant)
    await deliver_events(tenant)  # delivering again applies nothing twice
    assert await points(api, key, customer) == {"points": 301, "growth": 150}

    redeemed = await api.gql(REDEEM, redeem_input(customer, 100, "r-1"), key=key)
    assert redeemed["data"]["loyaltyRedeem"] == {
        "entry": {"kind": "REDEEM", "points": -100},
        "balance": 201,
        "replayed": False,
        "errors": [],
    }
    too_much = await api.gql(REDEEM, redeem_input(customer, 1000, "r-2"), key=key)
    assert too_much["data"]["loyaltyRedeem"]["errors"] == [
        {"field": "points", "code": "insufficient_points", "message": "not enough points"}
    ]
    again = await api.gql(REDEEM, redeem_input(customer, 100, "r-1"), key=key)
    assert again["data"]["loyaltyRedeem"]["replayed"] is True
    assert again["data"]["loyaltyRedeem"]["entry"] == {"kind": "REDEEM", "points": -100}
    other = await api.gql(REDEEM, redeem_input(customer, 5, "r-1"), key=key)
    assert other["data"]["loyaltyRedeem"]["errors"][0]["code"] == "idempotency_mismatch"

    refund = await api.gql(REFUND, {"i": {"refundOf": sale}}, key=key)
    assert refund["data"]["purchaseRefund"]["errors"] == []
    await deliver_events(tenant)
    # 301 earned, 100 spent: the 201 left are taken back (never below zero), growth too.
    assert await points(api, key, customer) == {"points": 0, "growth": 0}
    kpis = await api.gql(KPIS, key=key)
    assert kpis["data"]["kpis"]["modules"] == [
        {"module": "loyalty", "key": k, "value": v}
        for k, v in [
            ("liability", 0),
            ("members", 1),
            ("members_per_tier", {"": 1}),
            ("points_expired", 0),
            ("points_issued", 301),
            ("points_pending", 0),
            ("points_redeemed", 100),
            ("points_reversed", 201),
        ]
    ]
    ledger = await api.gql(
        "query($id: ID!) { loyaltyLedger(customerId: $id) "
        "{ nodes { id kind points growth reason } } }",
        {"id": customer},
        key=key,
    )
    nodes = ledger["data"]["loyaltyLedger"]["nodes"]
    assert [{k: v for k, v in n.items() if k != "id"} for n in nodes] == [
        {
            "kind": "REVERSE",
            "points": -201,
            "growth": -150,
            "reason": "refund; 100 points already spent",
        },
        {"kind": "REDEEM", "points": -100, "growth": 0, "reason": ""},
        {"kind": "EARN", "points": 301, "growth": 150, "reason": ""},
    ]
    # Ledger entries are nodes: node(id:) loads each one.
    found = await api.gql(NODE, {"id": nodes[1]["id"]}, key=key)
    assert found["data"]["node"] == {"__typename": "LoyaltyEntry", "kind": "REDEEM", "points": -100}


async def test_ledger_pages_never_skip_entries_with_the_same_time(
    api, tenant, owner, make_key, enable_plugins
):
    import datetime as dt
    import uuid

    from core.customers import create_customer
    from core.db import tenant_tx
    from core.graphql import to_global_id
    from plugins.loyalty.tables import LoyaltyEntry

    await enable_plugins(tenant, "loyalty")
    key = await make_key(tenant)
    c = await create_customer(tenant, owner, {"name": "pages"})
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    async with tenant_tx(tenant.id):
        for n in range(5):
            await LoyaltyEntry.insert(
                LoyaltyEntry(
                    id=uuid.uuid4(),
                    customer_id=c.id,
                    kind="adjust",
                    points=n,
                    source="manual",
                    reason=f"e{n}",
                    created_at=at,
                )
            )
    query = (
        "query($c: ID!, $a: String) { loyaltyLedger(customerId: $c, first: 2, after: $a) "
        "{ nodes { reason } pageInfo { hasNextPage endCursor } } }"
    )
    seen, after = [], None
    while True:
        page = (await api.gql(query, {"c": to_global_id("Customer", c.id), "a": after}, key=key))[
            "data"
        ]["loyaltyLedger"]
        seen += [n["reason"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == ["e0", "e1", "e2", "e3", "e4"]


async def test_disabled_loyalty_is_absent_and_earns_nothing(
    api, tenant, other_tenant, make_key, enable_plugins, deliver_events
):
    from core.db import tenant_tx
    from plugins.loyalty.tables import LoyaltyAccount, LoyaltyEntry

    await enable_plugins(tenant, "loyalty")
    mine, theirs = await make_key(tenant), await make_key(other_tenant)
    customer, store = await customer_and_store(api, theirs, "13912345002")
    await buy(api, theirs, customer, store, "50")
    await deliver_events(other_tenant)
    absent = await api.gql(LOYALTY, {"id": customer}, key=theirs)
    assert absent["errors"][0]["message"] == "Cannot query field 'loyalty' on type 'Customer'."
    no_mutation = await api.gql(REDEEM, redeem_input(customer, 1, "x"), key=theirs)
    assert [e["message"] for e in no_mutation["errors"]] == [
        "Unknown type 'LoyaltyRedeemInput'.",
        "Cannot query field 'loyaltyRedeem' on type 'Mutation'.",
    ]
    # Tenant A has loyalty, but B's customer is not A's: not found, nothing redeemed.
    foreign = await api.gql(REDEEM, redeem_input(customer, 1, "x"), key=mine)
    assert foreign["data"]["loyaltyRedeem"]["errors"] == [
        {"field": "customerId", "code": "not_found", "message": "customer not found"}
    ]
    for t in (tenant, other_tenant):
        async with tenant_tx(t.id, write=False):
            assert await LoyaltyEntry.count() == 0
            assert await LoyaltyAccount.count() == 0


async def test_one_tenants_loyalty_is_invisible_to_another(
    api, tenant, other_tenant, make_key, enable_plugins, deliver_events
):
    """Both tenants run loyalty: A's customer, entries, rewards and coupons resolve to nothing
    (``null``, ``not_found``) with B's key, and B's writes against them write nothing."""
    from core.graphql import from_global_id
    from plugins.loyalty.ledger import balances
    from tests.plugins.loyalty.helpers import (
        COUPON_USE,
        REWARD_CREATE,
        REWARD_REDEEM,
        entry_count,
    )

    await enable_plugins(tenant, "loyalty")
    await enable_plugins(other_tenant, "loyalty")
    mine, theirs = await make_key(tenant), await make_key(other_tenant)
    customer, store = await customer_and_store(api, mine, "13912345020")
    await buy(api, mine, customer, store, "80")
    await deliver_events(tenant)
    reward = (
        await api.gql(
            REWARD_CREATE, {"i": {"code": "CUP", "name": "杯", "pointsCost": 10}}, key=mine
        )
    )["data"]["loyaltyRewardCreate"]["reward"]
    issued = (
        await api.gql(
            REWARD_REDEEM,
            {"i": {"customerId": customer, "rewardId": reward["id"], "idempotencyKey": "c1"}},
            key=mine,
        )
    )["data"]["loyaltyRewardRedeem"]
    assert issued["balance"] == 70
    ledger = await api.gql(
        "query($id: ID!) { loyaltyLedger(customerId: $id) { nodes { id } } }",
        {"id": customer},
        key=mine,
    )
    entry_ids = [n["id"] for n in ledger["data"]["loyaltyLedger"]["nodes"]]
    assert len(entry_ids) == 2

    for node_id in [*entry_ids, reward["id"], issued["coupon"]["id"]]:
        assert (await api.gql(NODE, {"id": node_id}, key=theirs))["data"]["node"] is None
    assert (await api.gql(NODE, {"id": entry_ids[0]}, key=mine))["data"]["node"] == {
        "__typename": "LoyaltyEntry",
        "kind": "REDEEM",
        "points": -10,
    }
    assert (await api.gql(NODE, {"id": reward["id"]}, key=mine))["data"]["node"] == {
        "__typename": "LoyaltyReward",
        "code": "CUP",
    }
    assert (await api.gql(NODE, {"id": issued["coupon"]["id"]}, key=mine))["data"]["node"] == {
        "__typename": "LoyaltyCoupon",
        "status": "ISSUED",
    }
    assert (await api.gql(LOYALTY, {"id": customer}, key=theirs))["data"]["customer"] is None
    theirs_ledger = await api.gql(
        "query($id: ID!) { loyaltyLedger(customerId: $id) { nodes { id } } }",
        {"id": customer},
        key=theirs,
    )
    assert theirs_ledger["data"]["loyaltyLedger"]["nodes"] == []
    catalogue = await api.gql("{ loyaltyRewards { nodes { code } } }", key=theirs)
    assert catalogue["data"]["loyaltyRewards"]["nodes"] == []
    spend = await api.gql(REDEEM, redeem_input(customer, 1, "t1"), key=theirs)
    assert spend["data"]["loyaltyRedeem"]["errors"][0]["code"] == "not_found"
    used = await api.gql(COUPON_USE, {"i": {"code": issued["coupon"]["code"]}}, key=theirs)
    assert used["data"]["loyaltyCouponUse"]["errors"] == [{"code": "not_found"}]
    other_reward = await api.gql(
        REWARD_REDEEM,
        {"i": {"customerId": customer, "rewardId": reward["id"], "idempotencyKey": "c2"}},
        key=theirs,
    )
    assert other_reward["data"]["loyaltyRewardRedeem"]["errors"][0]["code"] == "not_found"
    # Nothing was written in B, and A's standing is what A did.
    assert await entry_count(other_tenant) == 0
    uid = from_global_id(customer, "Customer")
    assert await balances(tenant, [uid]) == {uid: (70, 80)}
