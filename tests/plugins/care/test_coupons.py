"""A coupon gift: loyalty issues the named reward's coupon once per customer and occurrence
(a re-run and a redelivered event give nothing more); using it at the till reaches care through
loyalty's published hook, and the results count it as redeemed — once, for the treatment."""

from __future__ import annotations

from uuid import UUID

import pytest

from tests.plugins.care.helpers import (
    CAMPAIGN,
    RUN_NOW,
    customers,
    everyone_segment,
    gql_ok,
    one_off,
    targets,
    uid,
)

pytestmark = pytest.mark.usefixtures("db")

COUPON_USE = (
    "mutation($i: LoyaltyCouponUseInput!) { loyaltyCouponUse(input: $i) { "
    "coupon { status } errors { code } } }"
)


async def _coupons(tenant) -> list[dict]:
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        return await fetch(
            "SELECT c.customer_id, c.code, c.status, c.source_key, e.kind, e.points, e.source "
            "FROM loyalty_coupon c JOIN loyalty_entry e ON e.tenant_id = c.tenant_id "
            "AND e.id = c.entry_id WHERE c.tenant_id = {} ORDER BY c.source_key",
            tenant.id,
        )


async def test_a_coupon_gift_is_issued_once_and_its_use_counts_as_redeemed(
    api, tenant, owner, make_key, enable_plugins, deliver_events
):
    from core.db import fetch, tenant_tx
    from plugins.care.runs import group_of, message_key
    from plugins.loyalty.partners import on_care_offer_granted
    from plugins.loyalty.rewards import create_reward
    from plugins.loyalty.settings import LoyaltySettings

    await enable_plugins(tenant, "care", "loyalty")
    key = await make_key(tenant)
    await create_reward(
        tenant, owner, {"code": "MOONCAKE", "name": "月饼券", "points_cost": 100, "stock": 20}
    )
    campaign = await one_off(
        api,
        key,
        await everyone_segment(tenant, owner),
        controlPct=25,
        settings={"offer": "COUPON", "offerCoupon": "MOONCAKE"},
    )
    groups: set[str] = set()
    n = 0
    # mobile prefixes that are real in CN (154, 179 and 194 are not: phonenumbers refuses
    # them); 46 tries all landing in one group: odds about 0.75 ** 46, one in 500,000
    prefixes = [
        str(p)
        for p in (*range(130, 140), *range(150, 160), *range(170, 200))
        if p not in (154, 179, 194)
    ]
    while len(groups) < 2 or n < 6:  # both groups, whatever the random ids
        [person] = await customers(tenant, owner, 1, prefix=prefixes[n])
        groups.add(group_of(uid(campaign), person.id, 25))
        n += 1
    await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    await deliver_events(tenant)
    await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)  # the same occurrence: no-op
    await deliver_events(tenant)
    rows = await targets(tenant)
    treated = [r for r in rows if r["grp"] == "treatment"]
    control = [r for r in rows if r["grp"] == "control"]
    assert treated and control and len(rows) == n
    coupons = await _coupons(tenant)
    assert sorted(c["source_key"] for c in coupons) == sorted(
        message_key(uid(campaign), r["occurrence"], UUID(str(r["customer_id"]))) for r in treated
    )
    assert {(c["status"], c["kind"], c["points"], c["source"]) for c in coupons} == {
        ("issued", "gift", 0, "care")
    }
    # a redelivered event gives no second coupon
    event_key = coupons[0]["source_key"]
    await on_care_offer_granted(
        tenant,
        {
            "key": event_key,
            "customer_id": str(coupons[0]["customer_id"]),
            "offer": "coupon",
            "coupon": "MOONCAKE",
        },
        LoyaltySettings(),
    )
    assert len(await _coupons(tenant)) == len(treated)
    async with tenant_tx(tenant.id, write=False):
        [stock] = await fetch(
            "SELECT stock FROM loyalty_reward WHERE tenant_id = {} AND code = 'MOONCAKE'",
            tenant.id,
        )
    assert stock["stock"] == 20 - len(treated)
    # used at the till: redeemed once (a second use is refused and counts nothing)
    used = await api.gql(COUPON_USE, {"i": {"code": coupons[0]["code"]}}, key=key)
    assert used["data"]["loyaltyCouponUse"] == {"coupon": {"status": "USED"}, "errors": []}
    twice = await api.gql(COUPON_USE, {"i": {"code": coupons[0]["code"]}}, key=key)
    assert twice["data"]["loyaltyCouponUse"]["errors"] == [{"code": "coupon_used"}]
    await deliver_events(tenant)
    res = (await gql_ok(api, CAMPAIGN, {"id": campaign}, key))["careCampaign"]["results"]
    assert (res["treatment"]["offersGranted"], res["treatment"]["offersRedeemed"]) == (
        len(treated),
        1,
    )
    assert (res["control"]["offersGranted"], res["control"]["offersRedeemed"]) == (0, 0)
    async with tenant_tx(tenant.id, write=False):
        marked = await fetch(
            "SELECT customer_id FROM care_target WHERE tenant_id = {} AND redeemed_at IS NOT NULL",
            tenant.id,
        )
    assert [str(m["customer_id"]) for m in marked] == [str(coupons[0]["customer_id"])]
