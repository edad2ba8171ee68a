"""Rewards (``rewards.py``): a catalogue bought with points, coupons issued within the reward's
stock and per-customer limit (also under concurrency), used once at the till."""

from __future__ import annotations

import asyncio

import pytest

from tests.plugins.loyalty.helpers import (
    COUPON_USE,
    REWARD_CREATE,
    REWARD_REDEEM,
    customer_and_store,
    points,
)

pytestmark = pytest.mark.usefixtures("db")


def _redeem(customer, reward, key):
    return {"i": {"customerId": customer, "rewardId": reward, "idempotencyKey": key}}


async def test_rewards_issue_coupons_within_limits(api, tenant, owner, make_key, enable_plugins):
    from core.graphql import from_global_id
    from plugins.loyalty.ledger import adjust

    await enable_plugins(tenant, "loyalty")
    key = await make_key(tenant)
    customer, _store = await customer_and_store(api, key, "13912345010")
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

    poor = await api.gql(REWARD_REDEEM, _redeem(customer, reward["id"], "k0"), key=key)
    assert poor["data"]["loyaltyRewardRedeem"]["errors"] == [
        {"field": "points", "code": "insufficient_points"}
    ]
    await adjust(tenant, owner, from_global_id(customer, "Customer"), 250, "seed", "gift")
    first = (await api.gql(REWARD_REDEEM, _redeem(customer, reward["id"], "k1"), key=key))["data"][
        "loyaltyRewardRedeem"
    ]
    assert first["balance"] == 150 and first["replayed"] is False and first["errors"] == []
    assert len(first["coupon"]["code"]) == 10 and first["coupon"]["status"] == "ISSUED"
    again = (await api.gql(REWARD_REDEEM, _redeem(customer, reward["id"], "k1"), key=key))["data"][
        "loyaltyRewardRedeem"
    ]
    assert again["coupon"] == first["coupon"] and again["replayed"] is True
    limited = await api.gql(REWARD_REDEEM, _redeem(customer, reward["id"], "k2"), key=key)
    assert limited["data"]["loyaltyRewardRedeem"]["errors"] == [
        {"field": "rewardId", "code": "limit_reached"}
    ]
    code = first["coupon"]["code"]
    used = await api.gql(COUPON_USE, {"i": {"code": code.lower()}}, key=key)
    assert used["data"]["loyaltyCouponUse"] == {"coupon": {"status": "USED"}, "errors": []}
    twice = await api.gql(COUPON_USE, {"i": {"code": code}}, key=key)
    assert twice["data"]["loyaltyCouponUse"]["errors"] == [{"code": "coupon_used"}]
    unknown = await api.gql(COUPON_USE, {"i": {"code": "NOPE"}}, key=key)
    assert unknown["data"]["loyaltyCouponUse"]["errors"] == [{"code": "not_found"}]
    catalogue = await api.gql("{ loyaltyRewards { nodes { code stock } } }", key=key)
    assert catalogue["data"]["loyaltyRewards"]["nodes"] == [{"code": "TEA", "stock": 1}]
    found = await points(api, key, customer)
    assert found["points"] == 150  # the refused attempts wrote nothing


async def test_concurrent_reward_redemptions_respect_limit_and_stock(
    pg_only, tenant, owner, runtime, enable_plugins
):
    from core import ValidationFailed
    from core.customers import create_customer
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
