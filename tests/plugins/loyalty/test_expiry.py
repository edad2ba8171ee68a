"""Points expiry (``expiry.py``): per award, soonest-expiring spent first (FIFO), once per
award, with one "expiring soon" notice per award."""

from __future__ import annotations

import pytest

from tests.plugins.loyalty.helpers import sell

pytestmark = pytest.mark.usefixtures("db")


async def test_points_expire_per_award_soonest_first(
    api, runtime, tenant, owner, make_key, enable_plugins, deliver_events
):
    import datetime as dt

    from core.consent import set_consent
    from core.customers import create_customer
    from core.db import tenant_tx
    from core.graphql import to_global_id
    from core.tables import Message
    from plugins.loyalty.expiry import expire
    from plugins.loyalty.ledger import balances, redeem
    from tenants.service import create_store

    key = await make_key(tenant)
    c = await create_customer(tenant, owner, {"name": "Q", "phone": "13912345009"})
    await set_consent(
        tenant, owner, {"customer_id": str(c.id), "purpose": "service", "granted": True}
    )
    store = (await create_store(tenant, owner, {"code": "X1", "name": "x"}))["id"]

    async def sale(price, expiry_days):
        await enable_plugins(tenant, "loyalty", settings={"expiry_days": expiry_days})
        await sell(tenant, owner, store, c.id, price)
        await deliver_events(tenant)

    await sale("100", 10)  # award A: lapses in 10 days
    await sale("50", 60)  # award B: lapses in 60 days
    await redeem(tenant, owner, c.id, 60, "spend")  # spent from A first: A 40 left, B 50
    query = "query($id: ID!) { customer(id: $id) { loyalty { points expiringSoon } } }"
    found = await api.gql(query, {"id": to_global_id("Customer", c.id)}, key=key)
    assert found["data"]["customer"]["loyalty"] == {"points": 90, "expiringSoon": 40}

    settings = await runtime.plugin_settings(tenant.id, "loyalty")
    channels = await runtime.channels(tenant)
    now = dt.datetime.now(dt.UTC)
    # nothing lapsed yet; A's notice goes out
    assert await expire(tenant, settings, channels, now) == 0
    assert await expire(tenant, settings, channels, now + dt.timedelta(days=11)) == 40
    # once per award
    assert await expire(tenant, settings, channels, now + dt.timedelta(days=11)) == 0
    assert (await balances(tenant, [c.id]))[c.id][0] == 50
    assert await expire(tenant, settings, channels, now + dt.timedelta(days=61)) == 50
    assert (await balances(tenant, [c.id]))[c.id][0] == 0
    async with tenant_tx(tenant.id, write=False):
        notices = await Message.select(Message.body, Message.status).where(
            Message.template_key == "loyalty.points_expiring"
        )
    assert len(notices) == 1 and notices[0]["status"] == "queued"
    assert notices[0]["body"].startswith("Q，您好！您有40积分将于")
