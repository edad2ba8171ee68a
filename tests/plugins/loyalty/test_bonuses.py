"""Bonuses (``ledger/bonuses.py``): sign-up, referral (held for the return window, void when
everything was returned) and survey completion, each once, each for the tenant's own
customers only."""

from __future__ import annotations

import pytest

from tests.plugins.loyalty.helpers import (
    REFER,
    REFUND,
    buy,
    customer_and_store,
    entry_count,
    refer_input,
    status,
)

pytestmark = pytest.mark.usefixtures("db")


async def test_signup_bonus_once(tenant, owner, runtime, enable_plugins, deliver_events):
    from core.customers import create_customer
    from plugins.loyalty.ledger import balances

    await enable_plugins(tenant, "loyalty", settings={"signup_bonus": 50})
    c = await create_customer(tenant, owner, {"name": "new"})
    await deliver_events(tenant)
    await deliver_events(tenant)
    assert (await balances(tenant, [c.id]))[c.id] == (50, 0)


async def test_referral_bonus_once_on_the_referred_customers_first_sale(
    api, tenant, other_tenant, make_key, enable_plugins, deliver_events
):
    await enable_plugins(tenant, "loyalty", settings={"referral_bonus": 30})
    key = await make_key(tenant)
    referrer, store = await customer_and_store(api, key, "13912345200")
    newcomer, _s = await customer_and_store(api, key, "13912345201")
    veteran, _s = await customer_and_store(api, key, "13912345202")

    assert (await api.gql(REFER, refer_input(newcomer, newcomer), key=key))["data"][
        "loyaltyReferralRecord"
    ]["errors"] == [{"field": "referrerId", "code": "self_referral"}]
    ok = await api.gql(REFER, refer_input(newcomer, referrer), key=key)
    assert ok["data"]["loyaltyReferralRecord"] == {"ok": True, "errors": []}
    twice = await api.gql(REFER, refer_input(newcomer, veteran), key=key)
    assert twice["data"]["loyaltyReferralRecord"]["errors"] == [
        {"field": "customerId", "code": "already_referred"}
    ]
    await buy(api, key, veteran, store, "10")
    late = await api.gql(REFER, refer_input(veteran, referrer), key=key)
    assert late["data"]["loyaltyReferralRecord"]["errors"] == [
        {"field": "customerId", "code": "not_a_new_customer"}
    ]

    await buy(api, key, newcomer, store, "20")
    await buy(api, key, newcomer, store, "20")  # the second sale pays no second bonus
    await deliver_events(tenant)
    await deliver_events(tenant)
    assert await status(api, key, referrer) == {"points": 30, "pending": 0, "growth": 0}

    # Another tenant's customer is not a referrer here (and its ids do not resolve).
    await enable_plugins(other_tenant, "loyalty", settings={"referral_bonus": 30})
    other_key = await make_key(other_tenant)
    stranger, _s = await customer_and_store(api, other_key, "13912345203")
    third, _s = await customer_and_store(api, key, "13912345204")
    cross = await api.gql(REFER, refer_input(third, stranger), key=key)
    assert cross["data"]["loyaltyReferralRecord"]["errors"] == [
        {"field": "referrerId", "code": "not_found"}
    ]


async def test_a_referral_bonus_waits_out_the_window_and_is_void_if_everything_is_returned(
    api, tenant, make_key, enable_plugins, deliver_events, runtime
):
    import datetime as dt

    from plugins.loyalty.ledger import release_pending

    await enable_plugins(tenant, "loyalty", settings={"referral_bonus": 30, "pending_days": 7})
    key = await make_key(tenant)
    referrer, store = await customer_and_store(api, key, "13912345300")
    keeper, _s = await customer_and_store(api, key, "13912345301")
    returner, _s = await customer_and_store(api, key, "13912345302")
    for newcomer in (keeper, returner):
        ok = await api.gql(REFER, refer_input(newcomer, referrer), key=key)
        assert ok["data"]["loyaltyReferralRecord"]["ok"] is True
    await buy(api, key, keeper, store, "10")
    returned = await buy(api, key, returner, store, "10")
    await deliver_events(tenant)
    # both bonuses held
    assert await status(api, key, referrer) == {"points": 0, "pending": 60, "growth": 0}
    r = await api.gql(REFUND, {"i": {"refundOf": returned}}, key=key)
    assert r["data"]["purchaseRefund"]["errors"] == []
    await deliver_events(tenant)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    await release_pending(tenant, await runtime.plugin_settings(tenant.id, "loyalty"), later)
    # the returner's bonus is void
    assert await status(api, key, referrer) == {"points": 30, "pending": 0, "growth": 0}


async def test_survey_bonus_once_per_response_for_the_tenants_own_customer(
    tenant, other_tenant, owner, runtime, enable_plugins, deliver_events
):
    """The surveys plugin's ``surveys.completed`` earns the survey bonus once per response (a
    repeated event pays nothing); a customer id from another tenant, or one that exists
    nowhere, earns nothing and writes nothing."""
    import uuid

    from core.customers import create_customer
    from core.db import tenant_tx
    from core.events import emit
    from plugins.loyalty.ledger import balances

    await enable_plugins(tenant, "loyalty", settings={"survey_bonus": 20})
    mine = await create_customer(tenant, owner, {"name": "answers"})
    await enable_plugins(other_tenant, "loyalty", settings={"survey_bonus": 20})
    stranger = await create_customer(other_tenant, owner, {"name": "elsewhere"})
    nobody = uuid.uuid4()
    response = uuid.uuid4()
    async with tenant_tx(tenant.id):
        # a repeat, a foreign customer, and a customer id that exists nowhere
        for customer in (mine.id, mine.id, stranger.id, nobody):
            answer = response if customer == mine.id else uuid.uuid4()
            await emit(
                "surveys.completed",
                answer,
                {
                    "response_id": str(answer),
                    "customer_id": str(customer),
                    "survey_id": str(uuid.uuid4()),
                },
            )
    await deliver_events(tenant)
    await deliver_events(tenant)
    assert (await balances(tenant, [mine.id]))[mine.id] == (20, 0)
    assert await balances(tenant, [stranger.id, nobody]) == {}
    assert await balances(other_tenant, [stranger.id]) == {}
    assert await entry_count(tenant) == 1
    assert await entry_count(other_tenant) == 0
