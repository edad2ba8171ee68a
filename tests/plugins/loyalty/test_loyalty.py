"""Loyalty through GraphQL alone: accrual, redemption, refunds; idempotency, concurrency,
isolation, disabled module, database-enforced rules."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.usefixtures("db")

SETUP = """
mutation($c: CustomerCreateInput!, $s: StoreCreateInput!) {
  customerCreate(input: $c) { customer { id } }
  storeCreate(input: $s) { store { id } }
}"""
RECORD = """
mutation($input: PurchaseRecordInput!) {
  purchaseRecord(input: $input) { purchase { id } errors { code } }
}"""
LOYALTY = "query($id: ID!) { customer(id: $id) { loyalty { points growth } } }"
REDEEM = """
mutation($id: ID!, $n: Int!, $key: String!) {
  loyaltyRedeem(customerId: $id, points: $n, idempotencyKey: $key) {
    entry { kind points } balance replayed errors { field code message }
  }
}"""


async def _customer_and_store(api, key, phone="13912345000"):
    r = await api.gql(
        SETUP,
        {"c": {"name": "L", "phone": phone}, "s": {"code": f"S{phone[-4:]}", "name": "s"}},
        key=key,
    )
    return r["data"]["customerCreate"]["customer"]["id"], r["data"]["storeCreate"]["store"]["id"]


async def _buy(api, key, customer, store, amount):
    r = await api.gql(
        RECORD,
        {
            "input": {
                "storeId": store,
                "customerId": customer,
                "lines": [{"sku": "x", "unitPrice": amount}],
            }
        },
        key=key,
    )
    assert r["data"]["purchaseRecord"]["errors"] == []
    return r["data"]["purchaseRecord"]["purchase"]["id"]


async def _points(api, key, customer):
    return (await api.gql(LOYALTY, {"id": customer}, key=key))["data"]["customer"]["loyalty"]


async def test_a_cashier_earns_redeems_and_refunds_through_graphql(
    api, tenant, make_key, enable_plugins, deliver_events
):
    await enable_plugins(
        tenant, "loyalty", settings={"points_per_unit": "2", "growth_per_unit": "1"}
    )
    key = await make_key(tenant)
    customer, store = await _customer_and_store(api, key)
    sale = await _buy(api, key, customer, store, "150.50")
    await deliver_events(tenant)
    await deliver_events(tenant)  # delivering again applies nothing twice
    assert await _points(api, key, customer) == {"points": 301, "growth": 150}

    redeemed = await api.gql(REDEEM, {"id": customer, "n": 100, "key": "r-1"}, key=key)
    assert redeemed["data"]["loyaltyRedeem"] == {
        "entry": {"kind": "redeem", "points": -100},
        "balance": 201,
        "replayed": False,
        "errors": [],
    }
    too_much = await api.gql(REDEEM, {"id": customer, "n": 1000, "key": "r-2"}, key=key)
    assert too_much["data"]["loyaltyRedeem"]["errors"] == [
        {"field": "points", "code": "insufficient_points", "message": "not enough points"}
    ]
    again = await api.gql(REDEEM, {"id": customer, "n": 100, "key": "r-1"}, key=key)
    assert again["data"]["loyaltyRedeem"]["replayed"] is True
    assert again["data"]["loyaltyRedeem"]["entry"] == {"kind": "redeem", "points": -100}
    other = await api.gql(REDEEM, {"id": customer, "n": 5, "key": "r-1"}, key=key)
    assert other["data"]["loyaltyRedeem"]["errors"][0]["code"] == "idempotency_mismatch"

    refund = await api.gql(
        "mutation($p: ID!) { purchaseRefund(input: {refundOf: $p}) { errors { code } } }",
        {"p": sale},
        key=key,
    )
    assert refund["data"]["purchaseRefund"]["errors"] == []
    await deliver_events(tenant)
    # 301 earned, 100 spent: the 201 left are taken back (never below zero), growth too.
    assert await _points(api, key, customer) == {"points": 0, "growth": 0}
    kpis = await api.gql(
        '{ kpis(from: "2020-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { modules { module key value } } }',
        key=key,
    )
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
        "query($id: ID!) { loyaltyLedger(customerId: $id) { nodes { kind points growth reason } } }",
        {"id": customer},
        key=key,
    )
    assert ledger["data"]["loyaltyLedger"]["nodes"] == [
        {
            "kind": "reverse",
            "points": -201,
            "growth": -150,
            "reason": "refund; 100 points already spent",
        },
        {"kind": "redeem", "points": -100, "growth": 0, "reason": ""},
        {"kind": "earn", "points": 301, "growth": 150, "reason": ""},
    ]


async def test_partial_refunds_take_back_proportionally_once(
    api, tenant, make_key, enable_plugins, deliver_events
):
    await enable_plugins(tenant, "loyalty")
    key = await make_key(tenant)
    customer, store = await _customer_and_store(api, key, "13912345001")
    r = await api.gql(
        RECORD,
        {
            "input": {
                "storeId": store,
                "customerId": customer,
                "lines": [{"sku": "a", "unitPrice": "30"}, {"sku": "b", "unitPrice": "70"}],
            }
        },
        key=key,
    )
    sale = r["data"]["purchaseRecord"]["purchase"]["id"]
    await deliver_events(tenant)
    assert await _points(api, key, customer) == {"points": 100, "growth": 100}
    refund = 'mutation($p: ID!) { purchaseRefund(input: {refundOf: $p, lines: [{lineNo: 1, qty: "1"}]}, idempotencyKey: "rf1") { errors { code } } }'
    await api.gql(refund, {"p": sale}, key=key)
    await api.gql(refund, {"p": sale}, key=key)  # a retried refund is the same refund
    await deliver_events(tenant)
    assert await _points(api, key, customer) == {"points": 70, "growth": 70}


async def test_disabled_loyalty_is_absent_and_earns_nothing(
    api, tenant, other_tenant, make_key, enable_plugins, deliver_events
):
    await enable_plugins(tenant, "loyalty")
    mine, theirs = await make_key(tenant), await make_key(other_tenant)
    customer, store = await _customer_and_store(api, theirs, "13912345002")
    await _buy(api, theirs, customer, store, "50")
    await deliver_events(other_tenant)
    absent = await api.gql(LOYALTY, {"id": customer}, key=theirs)
    assert absent["errors"][0]["message"] == "Cannot query field 'loyalty' on type 'Customer'."
    # Tenant A has loyalty, but B's customer is not A's: not found, nothing redeemed.
    foreign = await api.gql(REDEEM, {"id": customer, "n": 1, "key": "x"}, key=mine)
    assert foreign["data"]["loyaltyRedeem"]["errors"][0]["code"] == "not_found"
    from core.db import tenant_tx
    from plugins.loyalty.tables import LoyaltyEntry

    async with tenant_tx(other_tenant.id, write=False):
        assert await LoyaltyEntry.count() == 0


async def test_points_never_go_negative_in_the_database(tenant, owner, runtime, enable_plugins, db):
    from core.customers.service import create_customer
    from core.db import fetch, tenant_tx

    await enable_plugins(tenant, "loyalty")
    c = await create_customer(tenant, owner, {"name": "n"})
    with pytest.raises(Exception, match=r"negative|loyalty_points_nonnegative"):
        async with tenant_tx(tenant.id):
            await fetch(
                "INSERT INTO loyalty_account (id, tenant_id, customer_id, points, growth, updated_at) "
                "VALUES ({}, {}, {}, -5, 0, CURRENT_TIMESTAMP)",
                __import__("uuid").uuid4(),
                tenant.id,
                c.id,
            )


async def test_ledger_entries_cannot_be_changed(
    tenant, owner, api, make_key, enable_plugins, deliver_events
):
    from core.db import fetch, tenant_tx

    await enable_plugins(tenant, "loyalty")
    key = await make_key(tenant)
    customer, store = await _customer_and_store(api, key, "13912345003")
    await _buy(api, key, customer, store, "10")
    await deliver_events(tenant)
    with pytest.raises(Exception, match=r"never changed|permission denied"):
        async with tenant_tx(tenant.id):
            await fetch("UPDATE loyalty_entry SET points = 1000 WHERE tenant_id = {}", tenant.id)


async def test_concurrent_redemptions_never_overdraw(
    pg_only, tenant, owner, runtime, enable_plugins
):
    """200 concurrent redemptions of 10 against 1,000 points: exactly 100 succeed."""
    from core import ValidationFailed
    from core.customers.service import create_customer
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
    from core.customers.service import create_customer
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


async def test_other_plugins_hear_points_awarded_once(
    db, tenant, owner, make_runtime, enable_plugins, deliver_events
):
    """A plugin implementing the published hook gets each award once, without importing loyalty."""
    from core.customers.service import create_customer
    from core.purchases import record_purchase
    from plugins.loyalty import plugin as loyalty
    from tenants.service import create_store
    from tests.plugins.conftest import plugin_module

    heard = []

    async def on_loyalty_points_awarded(tenant, event):
        heard.append((event["points"], event["source"]))

    make_runtime(
        loyalty, plugin_module("thanks", on_loyalty_points_awarded=on_loyalty_points_awarded)
    )
    await enable_plugins(tenant, "loyalty", "thanks")
    store = (await create_store(tenant, owner, {"code": "T1", "name": "t"}))["id"]
    c = await create_customer(tenant, owner, {"name": "t"})
    await record_purchase(
        tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(c.id),
            "lines": [{"sku": "a", "unit_price": "88"}],
        },
    )
    await deliver_events(tenant)  # the sale → loyalty accrues and emits the award
    await deliver_events(tenant)  # the award → thanks
    await deliver_events(tenant)
    assert heard == [(88, "purchase")]


TIERS = {
    "tiers": [
        {"code": "silver", "name": "银卡", "threshold": 100},
        {"code": "gold", "name": "金卡", "threshold": 500, "benefits": ["95折", "免费停车"]},
    ],
    "downgrade_days": 30,
}
TIER_QUERY = "query($id: ID!) { customer(id: $id) { loyalty { growth tier { code name } } } }"


async def test_tiers_rise_at_once_and_fall_only_after_the_downgrade_period(
    api, tenant, make_key, enable_plugins, deliver_events
):
    import datetime as dt

    import msgspec

    from core.db import tenant_tx
    from core.tables import Message
    from plugins.loyalty.settings import LoyaltySettings
    from plugins.loyalty.tiers import evaluate

    await enable_plugins(tenant, "loyalty", settings=TIERS)
    key = await make_key(tenant)
    customer, store = await _customer_and_store(api, key, "13912345004")

    async def standing():
        return (await api.gql(TIER_QUERY, {"id": customer}, key=key))["data"]["customer"]["loyalty"]

    assert await standing() == {"growth": 0, "tier": None}
    await _buy(api, key, customer, store, "150")
    await deliver_events(tenant)
    assert await standing() == {"growth": 150, "tier": {"code": "silver", "name": "银卡"}}
    big = await _buy(api, key, customer, store, "400")
    await deliver_events(tenant)
    assert await standing() == {"growth": 550, "tier": {"code": "gold", "name": "金卡"}}
    benefits = await api.gql(
        "query($id: ID!) { customer(id: $id) { loyalty { tier { benefits } } } }",
        {"id": customer},
        key=key,
    )
    assert benefits["data"]["customer"]["loyalty"]["tier"] == {"benefits": ["95折", "免费停车"]}
    await api.gql(
        "mutation($p: ID!) { purchaseRefund(input: {refundOf: $p}) { errors { code } } }",
        {"p": big},
        key=key,
    )
    await deliver_events(tenant)
    # A refund lowers growth but never demotes on the spot.
    assert await standing() == {"growth": 150, "tier": {"code": "gold", "name": "金卡"}}
    settings = msgspec.convert(TIERS, LoyaltySettings)
    now = dt.datetime.now(dt.UTC)
    assert await evaluate(tenant, settings, now + dt.timedelta(days=10)) == 0
    assert (await standing())["tier"]["code"] == "gold"
    assert await evaluate(tenant, settings, now + dt.timedelta(days=31)) == 1
    assert await standing() == {"growth": 150, "tier": {"code": "silver", "name": "银卡"}}
    assert await evaluate(tenant, settings, now + dt.timedelta(days=32)) == 0
    assert await _kpis(api, key, "members_per_tier") == [{"silver": 1}]
    async with tenant_tx(tenant.id, write=False):
        notices = await Message.select(Message.body).where(Message.source == "loyalty")
    assert sorted(n["body"] for n in notices) == sorted(
        f"L，您好！您的会员等级已变为{t}。" for t in ("银卡", "金卡", "银卡")
    )


async def test_tier_settings_are_validated(tenant, owner, runtime):
    from core import ValidationFailed
    from tenants.modules import enable_module

    bad = {
        "tiers": [
            {"code": "gold", "name": "G", "threshold": 500},
            {"code": "silver", "name": "S", "threshold": 100},
        ]
    }
    with pytest.raises(ValidationFailed) as exc:
        await enable_module(tenant, owner, runtime, "loyalty", settings=bad)
    assert "strictly increasing" in exc.value.message


async def test_ledger_pages_never_skip_entries_with_the_same_time(
    api, tenant, owner, make_key, enable_plugins
):
    import datetime as dt
    import uuid

    from core.customers.service import create_customer
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
    query = "query($c: ID!, $a: String) { loyaltyLedger(customerId: $c, first: 2, after: $a) { nodes { reason } pageInfo { hasNextPage endCursor } } }"
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


async def test_earn_rules_discounts_tier_and_birthday_multipliers(
    tenant, owner, runtime, enable_plugins, deliver_events
):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from core.customers.service import create_customer
    from core.purchases import record_purchase
    from plugins.loyalty.ledger import balances
    from tenants.service import create_store

    await enable_plugins(
        tenant,
        "loyalty",
        settings={
            "rules": [
                {"sku": "tea", "points_per_unit": "3"},
                {"category": "gift", "points_per_unit": "0"},
            ],
            "birthday_multiplier": "2",
            "tiers": [{"code": "silver", "name": "银卡", "threshold": 40, "multiplier": "2"}],
        },
    )
    today = dt.datetime.now(ZoneInfo(tenant.timezone)).date()
    c = await create_customer(
        tenant, owner, {"name": "寿星", "birthday": today.replace(year=1990).isoformat()}
    )
    store = (await create_store(tenant, owner, {"code": "E1", "name": "e"}))["id"]

    async def sale(lines, amount=None):
        await record_purchase(
            tenant,
            owner,
            {"store_id": str(store), "customer_id": str(c.id), "lines": lines}
            | ({"amount": amount} if amount else {}),
        )
        await deliver_events(tenant)
        await deliver_events(tenant)

    # Lines 10 (tea, x3) + 20 (gift, x0) + 30 (base x1) = 60 weighted on 60 listed; paid 48
    # after a discount: 60 x 48/60 = 48, doubled on the birthday = 96; growth 48 → silver.
    await sale(
        [
            {"sku": "tea", "unit_price": "10"},
            {"sku": "cup", "category": "gift", "unit_price": "20"},
            {"sku": "cake", "unit_price": "30"},
        ],
        amount="48",
    )
    assert (await balances(tenant, [c.id]))[c.id] == (96, 48)
    # Now silver (x2) and still the birthday (x2): 10 x 4 = 40.
    await sale([{"sku": "cake", "unit_price": "10"}])
    assert (await balances(tenant, [c.id]))[c.id] == (136, 58)


async def test_earn_rules_are_validated(tenant, owner, runtime):
    from core import ValidationFailed
    from tenants.modules import enable_module

    with pytest.raises(ValidationFailed) as exc:
        await enable_module(
            tenant,
            owner,
            runtime,
            "loyalty",
            settings={"rules": [{"sku": "a", "category": "b", "points_per_unit": "1"}]},
        )
    assert "either a sku or a category" in exc.value.message


async def test_points_expire_per_award_soonest_first(
    api, tenant, owner, make_key, enable_plugins, deliver_events
):
    import datetime as dt

    import msgspec

    from core.consent import set_consent
    from core.customers.service import create_customer
    from core.db import tenant_tx
    from core.graphql import to_global_id
    from core.plugins import get_runtime
    from core.purchases import record_purchase
    from core.tables import Message
    from plugins.loyalty.expiry import expire
    from plugins.loyalty.ledger import balances, redeem
    from plugins.loyalty.settings import LoyaltySettings
    from tenants.service import create_store

    key = await make_key(tenant)
    c = await create_customer(tenant, owner, {"name": "Q", "phone": "13912345009"})
    await set_consent(
        tenant, owner, {"customer_id": str(c.id), "purpose": "service", "granted": True}
    )
    store = (await create_store(tenant, owner, {"code": "X1", "name": "x"}))["id"]

    async def sale(price, expiry_days):
        await enable_plugins(tenant, "loyalty", settings={"expiry_days": expiry_days})
        await record_purchase(
            tenant,
            owner,
            {
                "store_id": str(store),
                "customer_id": str(c.id),
                "lines": [{"sku": "a", "unit_price": price}],
            },
        )
        await deliver_events(tenant)

    await sale("100", 10)  # award A: lapses in 10 days
    await sale("50", 60)  # award B: lapses in 60 days
    await redeem(tenant, owner, c.id, 60, "spend")  # spent from A first: A 40 left, B 50
    query = "query($id: ID!) { customer(id: $id) { loyalty { points expiringSoon } } }"
    status = await api.gql(query, {"id": to_global_id("Customer", c.id)}, key=key)
    assert status["data"]["customer"]["loyalty"] == {"points": 90, "expiringSoon": 40}

    settings = msgspec.convert(await get_runtime().settings(tenant.id, "loyalty"), LoyaltySettings)
    now = dt.datetime.now(dt.UTC)
    assert await expire(tenant, settings, now) == 0  # nothing lapsed yet; A's notice goes out
    assert await expire(tenant, settings, now + dt.timedelta(days=11)) == 40
    assert await expire(tenant, settings, now + dt.timedelta(days=11)) == 0  # once per award
    assert (await balances(tenant, [c.id]))[c.id][0] == 50
    assert await expire(tenant, settings, now + dt.timedelta(days=61)) == 50
    assert (await balances(tenant, [c.id]))[c.id][0] == 0
    async with tenant_tx(tenant.id, write=False):
        notices = await Message.select(Message.body, Message.status).where(
            Message.template_key == "loyalty.points_expiring"
        )
    assert len(notices) == 1 and notices[0]["status"] == "queued"
    assert notices[0]["body"].startswith("Q，您好！您有40积分将于")


REWARD_CREATE = """
mutation($i: LoyaltyRewardInput!) {
  loyaltyRewardCreate(input: $i) { reward { id code pointsCost stock } errors { field code } }
}"""
REWARD_REDEEM = """
mutation($c: ID!, $r: ID!, $k: String!) {
  loyaltyRewardRedeem(customerId: $c, rewardId: $r, idempotencyKey: $k) {
    coupon { code status } balance replayed errors { field code }
  }
}"""


async def test_rewards_issue_coupons_within_limits(api, tenant, owner, make_key, enable_plugins):
    from plugins.loyalty.ledger import adjust

    await enable_plugins(tenant, "loyalty")
    key = await make_key(tenant)
    customer, _store = await _customer_and_store(api, key, "13912345010")
    created = await api.gql(
        REWARD_CREATE,
        {
            "i": {
                "code": "TEA",
                "name": "一杯奶茶",
                "pointsCost": 100,
                "stock": 2,
                "perCustomerLimit": 1,
            }
        },
        key=key,
    )
    reward = created["data"]["loyaltyRewardCreate"]["reward"]
    assert reward["stock"] == 2 and created["data"]["loyaltyRewardCreate"]["errors"] == []
    dup = await api.gql(
        REWARD_CREATE, {"i": {"code": "TEA", "name": "x", "pointsCost": 1}}, key=key
    )
    assert dup["data"]["loyaltyRewardCreate"]["errors"] == [{"field": "code", "code": "duplicate"}]

    poor = await api.gql(REWARD_REDEEM, {"c": customer, "r": reward["id"], "k": "k0"}, key=key)
    assert poor["data"]["loyaltyRewardRedeem"]["errors"] == [
        {"field": "points", "code": "insufficient_points"}
    ]
    from core.graphql import from_global_id

    await adjust(tenant, owner, from_global_id(customer, "Customer"), 250, "seed", "gift")
    first = (await api.gql(REWARD_REDEEM, {"c": customer, "r": reward["id"], "k": "k1"}, key=key))[
        "data"
    ]["loyaltyRewardRedeem"]
    assert first["balance"] == 150 and first["replayed"] is False and first["errors"] == []
    assert len(first["coupon"]["code"]) == 10 and first["coupon"]["status"] == "issued"
    again = (await api.gql(REWARD_REDEEM, {"c": customer, "r": reward["id"], "k": "k1"}, key=key))[
        "data"
    ]["loyaltyRewardRedeem"]
    assert again["coupon"] == first["coupon"] and again["replayed"] is True
    limited = await api.gql(REWARD_REDEEM, {"c": customer, "r": reward["id"], "k": "k2"}, key=key)
    assert limited["data"]["loyaltyRewardRedeem"]["errors"] == [
        {"field": "rewardId", "code": "limit_reached"}
    ]
    use = (
        "mutation($c: String!) { loyaltyCouponUse(code: $c) { coupon { status } errors { code } } }"
    )
    code = first["coupon"]["code"]
    used = await api.gql(use, {"c": code.lower()}, key=key)
    assert used["data"]["loyaltyCouponUse"] == {"coupon": {"status": "used"}, "errors": []}
    twice = await api.gql(use, {"c": code}, key=key)
    assert twice["data"]["loyaltyCouponUse"]["errors"] == [{"code": "coupon_used"}]
    unknown = await api.gql(use, {"c": "NOPE"}, key=key)
    assert unknown["data"]["loyaltyCouponUse"]["errors"] == [{"code": "not_found"}]
    catalogue = await api.gql("{ loyaltyRewards { code stock } }", key=key)
    assert catalogue["data"]["loyaltyRewards"] == [{"code": "TEA", "stock": 1}]
    points = await _points(api, key, customer)
    assert points["points"] == 150  # the refused attempts wrote nothing


async def test_concurrent_reward_redemptions_respect_limit_and_stock(
    pg_only, tenant, owner, runtime, enable_plugins
):
    from core import ValidationFailed
    from core.customers.service import create_customer
    from plugins.loyalty.ledger import adjust, balances
    from plugins.loyalty.rewards import create_reward, redeem_reward

    await enable_plugins(tenant, "loyalty")
    limited = await create_reward(
        tenant, owner, {"code": "L", "name": "l", "points_cost": 10, "per_customer_limit": 3}
    )
    scarce = await create_reward(
        tenant, owner, {"code": "S", "name": "s", "points_cost": 10, "stock": 5}
    )
    rich = await create_customer(tenant, owner, {"name": "rich"})
    await adjust(tenant, owner, rich.id, 10_000, "seed", "seed")
    others = []
    for i in range(10):
        c = await create_customer(tenant, owner, {"name": f"c{i}"})
        await adjust(tenant, owner, c.id, 100, f"seed{i}", "seed")
        others.append(c.id)

    async def attempt(customer, reward, key):
        try:
            await redeem_reward(tenant, owner, customer, reward, key)
            return True
        except ValidationFailed:
            return False

    same = await asyncio.gather(*(attempt(rich.id, limited["id"], f"l{i}") for i in range(20)))
    assert same.count(True) == 3
    assert (await balances(tenant, [rich.id]))[rich.id][0] == 10_000 - 30
    many = await asyncio.gather(*(attempt(c, scarce["id"], f"s{c}") for c in others))
    assert many.count(True) == 5


async def test_signup_bonus_once(tenant, owner, runtime, enable_plugins, deliver_events):
    from core.customers.service import create_customer
    from plugins.loyalty.ledger import balances

    await enable_plugins(tenant, "loyalty", settings={"signup_bonus": 50})
    c = await create_customer(tenant, owner, {"name": "new"})
    await deliver_events(tenant)
    await deliver_events(tenant)
    assert (await balances(tenant, [c.id]))[c.id] == (50, 0)


STATUS = "query($id: ID!) { customer(id: $id) { loyalty { points pending growth } } }"


async def _kpis(api, key, *names):
    body = await api.gql(
        '{ kpis(from: "2020-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") '
        "{ modules { module key value } } }",
        key=key,
    )
    found = {m["key"]: m["value"] for m in body["data"]["kpis"]["modules"]}
    return [found[n] for n in names]


REFUND = "mutation($i: PurchaseRefundInput!) { purchaseRefund(input: $i) { errors { code } } }"


async def test_pending_points_unlock_after_the_return_window_and_refunds_take_them_back(
    api, tenant, make_key, enable_plugins, deliver_events
):
    """Points from a sale wait out the return window (not spendable); a refund inside it takes
    them from the pending balance; the hourly release activates what is left, once."""
    import datetime as dt

    from plugins.loyalty.ledger import release_pending
    from plugins.loyalty.settings import settings_for

    await enable_plugins(tenant, "loyalty", settings={"pending_days": 7})
    key = await make_key(tenant)
    customer, store = await _customer_and_store(api, key, "13912345100")
    refunded = await _buy(api, key, customer, store, "100")
    kept = await _buy(api, key, customer, store, "40")
    await deliver_events(tenant)
    status = (await api.gql(STATUS, {"id": customer}, key=key))["data"]["customer"]["loyalty"]
    assert status == {"points": 0, "pending": 140, "growth": 140}
    spend = await api.gql(REDEEM, {"id": customer, "n": 1, "key": "p-1"}, key=key)
    assert spend["data"]["loyaltyRedeem"]["errors"][0]["code"] == "insufficient_points"

    r = await api.gql(REFUND, {"i": {"refundOf": refunded}}, key=key)
    assert r["data"]["purchaseRefund"]["errors"] == []
    await deliver_events(tenant)
    status = (await api.gql(STATUS, {"id": customer}, key=key))["data"]["customer"]["loyalty"]
    assert status == {"points": 0, "pending": 40, "growth": 40}

    assert await _kpis(api, key, "points_issued", "points_pending") == [0, 40]
    settings = await settings_for(tenant)
    now = dt.datetime.now(dt.UTC)
    assert await release_pending(tenant, settings, now) == 0  # still inside the window
    later = now + dt.timedelta(days=8)
    assert await release_pending(tenant, settings, later) == 40  # the refunded award: nothing
    assert await release_pending(tenant, settings, later) == 0  # once
    status = (await api.gql(STATUS, {"id": customer}, key=key))["data"]["customer"]["loyalty"]
    assert status == {"points": 40, "pending": 0, "growth": 40}
    assert await _kpis(api, key, "points_issued", "points_pending") == [40, 0]

    # A refund after the window takes spendable points back, as for any sale.
    r = await api.gql(REFUND, {"i": {"refundOf": kept}}, key=key)
    await deliver_events(tenant)
    status = (await api.gql(STATUS, {"id": customer}, key=key))["data"]["customer"]["loyalty"]
    assert status == {"points": 0, "pending": 0, "growth": 0}
    ledger = await api.gql(
        "query($c: ID!) { loyaltyLedger(customerId: $c, first: 10) "
        "{ edges { node { kind points pending source } } } }",
        {"c": customer},
        key=key,
    )
    kinds = [e["node"] for e in ledger["data"]["loyaltyLedger"]["edges"]]
    assert sorted((k["kind"], k["points"], k["pending"], k["source"]) for k in kinds) == [
        ("activate", 0, 0, "activation"),  # the refunded award: closed, nothing to activate
        ("activate", 40, -40, "activation"),
        ("earn", 0, 40, "purchase"),
        ("earn", 0, 100, "purchase"),
        ("reverse", -40, 0, "refund"),
        ("reverse", 0, -100, "refund"),
    ]


REFER = """
mutation($c: ID!, $r: ID!) {
  loyaltyReferralRecord(customerId: $c, referrerId: $r) { ok errors { field code } }
}"""


async def test_referral_bonus_once_on_the_referred_customers_first_sale(
    api, tenant, other_tenant, make_key, enable_plugins, deliver_events
):
    await enable_plugins(tenant, "loyalty", settings={"referral_bonus": 30})
    key = await make_key(tenant)
    referrer, store = await _customer_and_store(api, key, "13912345200")
    newcomer, _s = await _customer_and_store(api, key, "13912345201")
    veteran, _s = await _customer_and_store(api, key, "13912345202")

    assert (await api.gql(REFER, {"c": newcomer, "r": newcomer}, key=key))["data"][
        "loyaltyReferralRecord"
    ]["errors"] == [{"field": "referrerId", "code": "self_referral"}]
    ok = await api.gql(REFER, {"c": newcomer, "r": referrer}, key=key)
    assert ok["data"]["loyaltyReferralRecord"] == {"ok": True, "errors": []}
    twice = await api.gql(REFER, {"c": newcomer, "r": veteran}, key=key)
    assert twice["data"]["loyaltyReferralRecord"]["errors"] == [
        {"field": "customerId", "code": "already_referred"}
    ]
    await _buy(api, key, veteran, store, "10")
    late = await api.gql(REFER, {"c": veteran, "r": referrer}, key=key)
    assert late["data"]["loyaltyReferralRecord"]["errors"] == [
        {"field": "customerId", "code": "not_a_new_customer"}
    ]

    await _buy(api, key, newcomer, store, "20")
    await _buy(api, key, newcomer, store, "20")  # the second sale pays no second bonus
    await deliver_events(tenant)
    await deliver_events(tenant)
    standing = (await api.gql(STATUS, {"id": referrer}, key=key))["data"]["customer"]["loyalty"]
    assert standing == {"points": 30, "pending": 0, "growth": 0}

    # Another tenant's customer is not a referrer here (and its ids do not resolve).
    await enable_plugins(other_tenant, "loyalty", settings={"referral_bonus": 30})
    other_key = await make_key(other_tenant)
    stranger, _s = await _customer_and_store(api, other_key, "13912345203")
    third, _s = await _customer_and_store(api, key, "13912345204")
    cross = await api.gql(REFER, {"c": third, "r": stranger}, key=key)
    assert cross["data"]["loyaltyReferralRecord"]["errors"] == [
        {"field": "referrerId", "code": "not_found"}
    ]


async def test_concurrent_releases_activate_each_award_once(
    pg_only, tenant, owner, runtime, enable_plugins, deliver_events
):
    import datetime as dt

    from core.customers.service import create_customer
    from core.purchases import record_purchase
    from plugins.loyalty.ledger import balances, release_pending
    from plugins.loyalty.settings import settings_for
    from tenants.service import create_store

    await enable_plugins(tenant, "loyalty", settings={"pending_days": 1})
    store = (await create_store(tenant, owner, {"code": "P1", "name": "p"}))["id"]
    customers = [
        await create_customer(tenant, owner, {"name": f"p{i}", "phone": f"1391234530{i}"})
        for i in range(4)
    ]
    for c in customers:
        for _ in range(5):
            await record_purchase(
                tenant,
                owner,
                {
                    "store_id": str(store),
                    "customer_id": str(c.id),
                    "lines": [{"sku": "a", "unit_price": "10"}],
                },
            )
    await deliver_events(tenant)
    settings = await settings_for(tenant)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    released = await asyncio.gather(*(release_pending(tenant, settings, later) for _ in range(6)))
    assert sum(released) == 4 * 5 * 10
    found = await balances(tenant, [c.id for c in customers])
    assert [found[c.id] for c in customers] == [(50, 50)] * 4


async def test_survey_bonus_once_per_response_for_the_tenants_own_customer(
    tenant, other_tenant, owner, runtime, enable_plugins, deliver_events
):
    """The surveys plugin's ``survey.completed`` earns the survey bonus once per response (a
    repeated event pays nothing); a customer id from another tenant earns nothing."""
    import uuid

    from core.customers.service import create_customer
    from core.db import tenant_tx
    from core.events import emit
    from plugins.loyalty.ledger import balances

    await enable_plugins(tenant, "loyalty", settings={"survey_bonus": 20})
    mine = await create_customer(tenant, owner, {"name": "answers"})
    await enable_plugins(other_tenant, "loyalty", settings={"survey_bonus": 20})
    stranger = await create_customer(other_tenant, owner, {"name": "elsewhere"})
    response = uuid.uuid4()
    async with tenant_tx(tenant.id):
        for customer in (mine.id, mine.id, stranger.id):  # a repeat, and a foreign customer
            await emit(
                "survey.completed",
                response if customer == mine.id else uuid.uuid4(),
                {
                    "response_id": str(response if customer == mine.id else uuid.uuid4()),
                    "customer_id": str(customer),
                    "survey_id": str(uuid.uuid4()),
                },
            )
    await deliver_events(tenant)
    await deliver_events(tenant)
    assert (await balances(tenant, [mine.id]))[mine.id] == (20, 0)
    assert await balances(other_tenant, [stranger.id]) == {}


async def test_a_failed_batch_never_lets_a_refund_overtake_its_sale(
    tenant, owner, make_runtime, enable_plugins, deliver_events, monkeypatch
):
    """Handlers commit in batches; when a batch fails (another plugin's handler here), its items
    run one by one before the next batch, so the refund's reversal never runs before the sale's
    accrual, and a reversal that finds the accrual still due is retried after it."""
    import datetime as dt

    from core.customers.service import create_customer
    from core.plugins import delivery
    from core.purchases import record_purchase, record_refund
    from plugins.loyalty.ledger import balances
    from tenants.service import create_store
    from tests.plugins.conftest import plugin_module

    # Handlers in order: customer.created (loyalty), the sale (loyalty, flaky), the refund
    # (loyalty), customer.created (loyalty), the next sale (loyalty, flaky). Batches of three:
    # the first fails on flaky; the second holds the refund's reversal.
    monkeypatch.setattr(delivery, "HANDLER_BATCH", 3)
    broken = {"on": True}

    async def on_purchase_recorded(tenant, event):
        if broken["on"]:
            raise RuntimeError("flaky")

    runtime = make_runtime(
        plugin_module("flaky", on_purchase_recorded=on_purchase_recorded), discover=True
    )
    await enable_plugins(tenant, "loyalty")
    from tenants.modules import enable_module

    await enable_module(tenant, owner, runtime, "flaky")
    store = (await create_store(tenant, owner, {"code": "O1", "name": "o"}))["id"]
    c = await create_customer(tenant, owner, {"name": "order"})
    sale = await record_purchase(
        tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(c.id),
            "lines": [{"sku": "a", "unit_price": "100"}],
        },
    )
    await record_refund(tenant, owner, {"refund_of": str(sale.id)})
    other = await create_customer(tenant, owner, {"name": "next in line"})
    await record_purchase(  # so that the refund's handler shares a batch with a later one
        tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(other.id),
            "lines": [{"sku": "a", "unit_price": "5"}],
        },
    )
    await delivery.deliver_pending(runtime, tenant)
    assert (await balances(tenant, [c.id]))[c.id] == (0, 0)  # earned 100, then all taken back
    broken["on"] = False
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    await delivery.deliver_pending(runtime, tenant, now=later)
    assert (await balances(tenant, [c.id]))[c.id] == (0, 0)


async def test_a_referral_bonus_waits_out_the_window_and_is_void_if_everything_is_returned(
    api, tenant, make_key, enable_plugins, deliver_events
):
    import datetime as dt

    from plugins.loyalty.ledger import release_pending
    from plugins.loyalty.settings import settings_for

    await enable_plugins(tenant, "loyalty", settings={"referral_bonus": 30, "pending_days": 7})
    key = await make_key(tenant)
    referrer, store = await _customer_and_store(api, key, "13912345300")
    keeper, _s = await _customer_and_store(api, key, "13912345301")
    returner, _s = await _customer_and_store(api, key, "13912345302")
    for newcomer in (keeper, returner):
        ok = await api.gql(REFER, {"c": newcomer, "r": referrer}, key=key)
        assert ok["data"]["loyaltyReferralRecord"]["ok"] is True
    await _buy(api, key, keeper, store, "10")
    returned = await _buy(api, key, returner, store, "10")
    await deliver_events(tenant)
    status = (await api.gql(STATUS, {"id": referrer}, key=key))["data"]["customer"]["loyalty"]
    assert status == {"points": 0, "pending": 60, "growth": 0}  # both bonuses held
    r = await api.gql(REFUND, {"i": {"refundOf": returned}}, key=key)
    assert r["data"]["purchaseRefund"]["errors"] == []
    await deliver_events(tenant)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    await release_pending(tenant, await settings_for(tenant), later)
    status = (await api.gql(STATUS, {"id": referrer}, key=key))["data"]["customer"]["loyalty"]
    assert status == {"points": 30, "pending": 0, "growth": 0}  # the returner's bonus is void
