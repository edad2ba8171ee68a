"""Tiers (``tiers.py``): promoted at once on growth, demoted only by the nightly evaluation after
the downgrade period; each change notifies the member; the tier settings are validated."""

from __future__ import annotations

import pytest

from tests.plugins.loyalty.helpers import REFUND, buy, customer_and_store, kpis

pytestmark = pytest.mark.usefixtures("db")

TIERS = {
    "tiers": [
        {"code": "silver", "name": "银卡", "threshold": 100},
        {"code": "gold", "name": "金卡", "threshold": 500, "benefits": ["95折", "免费停车"]},
    ],
    "downgrade_days": 30,
}
TIER_QUERY = "query($id: ID!) { customer(id: $id) { loyalty { growth tier { code name } } } }"


async def test_tiers_rise_at_once_and_fall_only_after_the_downgrade_period(
    api, runtime, tenant, make_key, enable_plugins, deliver_events
):
    import datetime as dt

    from core.db import tenant_tx
    from core.tables import Message
    from plugins.loyalty.tiers import evaluate

    await enable_plugins(tenant, "loyalty", settings=TIERS)
    key = await make_key(tenant)
    customer, store = await customer_and_store(api, key, "13912345004")

    async def standing():
        return (await api.gql(TIER_QUERY, {"id": customer}, key=key))["data"]["customer"]["loyalty"]

    assert await standing() == {"growth": 0, "tier": None}
    await buy(api, key, customer, store, "150")
    await deliver_events(tenant)
    assert await standing() == {"growth": 150, "tier": {"code": "silver", "name": "银卡"}}
    big = await buy(api, key, customer, store, "400")
    await deliver_events(tenant)
    assert await standing() == {"growth": 550, "tier": {"code": "gold", "name": "金卡"}}
    benefits = await api.gql(
        "query($id: ID!) { customer(id: $id) { loyalty { tier { benefits } } } }",
        {"id": customer},
        key=key,
    )
    assert benefits["data"]["customer"]["loyalty"]["tier"] == {"benefits": ["95折", "免费停车"]}
    await api.gql(REFUND, {"i": {"refundOf": big}}, key=key)
    await deliver_events(tenant)
    # A refund lowers growth but never demotes on the spot.
    assert await standing() == {"growth": 150, "tier": {"code": "gold", "name": "金卡"}}
    settings = await runtime.plugin_settings(tenant.id, "loyalty")
    channels = await runtime.channels(tenant)
    now = dt.datetime.now(dt.UTC)
    assert await evaluate(tenant, settings, channels, now + dt.timedelta(days=10)) == 0
    assert (await standing())["tier"]["code"] == "gold"
    assert await evaluate(tenant, settings, channels, now + dt.timedelta(days=31)) == 1
    assert await standing() == {"growth": 150, "tier": {"code": "silver", "name": "银卡"}}
    assert await evaluate(tenant, settings, channels, now + dt.timedelta(days=32)) == 0
    assert await kpis(api, key, "members_per_tier") == [{"silver": 1}]
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
    assert await runtime.enabled(tenant.id) == frozenset()
