"""A customer merge moves care's memberships to the kept customer once per (campaign,
occurrence): both targeted, one row stays (the handled one); a moved row keeps the message
key it was sent under, so results still find its message; nothing is sent twice after."""

from __future__ import annotations

import pytest

from tests.plugins.care.helpers import (
    CAMPAIGN,
    RUN_NOW,
    customers,
    everyone_segment,
    gql_ok,
    one_off,
    uid,
)

pytestmark = pytest.mark.usefixtures("db")


async def _rows(tenant):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        return await fetch(
            "SELECT campaign_id, customer_id, keyed_by, status, redeemed_at FROM care_target "
            "WHERE tenant_id = {}",
            tenant.id,
        )


async def test_a_merge_moves_care_targets_to_the_kept_customer_once_per_occurrence(
    api, tenant, owner, make_key, enable_plugins, deliver_events
):
    from core.customers import merge_customers
    from core.db import execute, tenant_tx
    from core.messaging import send_due
    from core.plugins import get_runtime
    from plugins.care.runs import finish_pending

    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    segment = await everyone_segment(tenant, owner)
    (a,) = await customers(tenant, owner, 1, prefix="136")
    only_a = await one_off(api, key, segment)  # before b existed: a alone
    await gql_ok(api, RUN_NOW, {"i": {"id": only_a}}, key)
    (b,) = await customers(tenant, owner, 1, prefix="135")
    both = await one_off(api, key, segment)  # a and b: one row stays
    await gql_ok(api, RUN_NOW, {"i": {"id": both}}, key)
    late = await one_off(api, key, segment)  # b's row still pending, a's handled
    await gql_ok(api, RUN_NOW, {"i": {"id": late}}, key)
    async with tenant_tx(tenant.id):
        await execute(
            "UPDATE care_target SET status = 'pending' WHERE tenant_id = {} AND campaign_id = {} "
            "AND customer_id = {}",
            tenant.id,
            uid(late),
            b.id,
        )
        await execute(
            "UPDATE care_target SET redeemed_at = created_at WHERE tenant_id = {} "
            "AND campaign_id = {} AND customer_id = {}",
            tenant.id,
            uid(both),
            a.id,
        )
    assert len(await _rows(tenant)) == 5

    await merge_customers(tenant, owner, a.id, b.id)
    await deliver_events(tenant)

    rows = {str(r["campaign_id"]): r for r in await _rows(tenant)}
    assert len(await _rows(tenant)) == 3
    assert {str(r["customer_id"]) for r in rows.values()} == {str(b.id)}
    moved, kept, handled = rows[str(uid(only_a))], rows[str(uid(both))], rows[str(uid(late))]
    assert (str(moved["keyed_by"]), moved["status"]) == (str(a.id), "queued")
    assert (kept["keyed_by"], kept["status"]) == (None, "queued")
    assert kept["redeemed_at"] is not None  # a's redemption is b's now
    assert (str(handled["keyed_by"]), handled["status"]) == (str(a.id), "queued")

    runtime = get_runtime()
    channels = await runtime.channels(tenant)
    assert (
        await finish_pending(tenant, await runtime.plugin_settings(tenant.id, "care"), channels)
        == 0
    )
    await send_due(tenant, channels)
    res = (await gql_ok(api, CAMPAIGN, {"id": only_a}, key))["careCampaign"]["results"]
    assert (res["treatment"]["targeted"], res["treatment"]["queued"]) == (1, 1)
    assert res["treatment"]["sent"] == 1  # found under a's key
    res = (await gql_ok(api, CAMPAIGN, {"id": both}, key))["careCampaign"]["results"]
    assert (res["treatment"]["targeted"], res["treatment"]["offersRedeemed"]) == (1, 1)

    from core.db import fetch

    async with tenant_tx(tenant.id, write=False):
        sent = await fetch(
            "SELECT idempotency_key FROM message WHERE tenant_id = {} AND source = 'care'",
            tenant.id,
        )
    # a's three and b's two from before the merge (b's "pending" row is faked after its
    # message was queued); the merge, the fan-out job and a re-run queue none
    assert len(sent) == 5
    # running an occurrence again adds nobody for either id
    await gql_ok(api, RUN_NOW, {"i": {"id": both}}, key)
    assert len(await _rows(tenant)) == 3
    async with tenant_tx(tenant.id, write=False):
        again = await fetch(
            "SELECT COUNT(*) AS n FROM message WHERE tenant_id = {} AND source = 'care'",
            tenant.id,
        )
    assert again[0]["n"] == 5
