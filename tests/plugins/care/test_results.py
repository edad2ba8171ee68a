"""Results: treatment against control — purchases within the window and their spend, the
uplift and a two-proportion z-test's p-value (checked against a hand computation)."""

from __future__ import annotations

import math

import pytest

from tests.plugins.care.helpers import (
    CAMPAIGN,
    RUN_NOW,
    customers,
    everyone_segment,
    gql_ok,
    one_off,
    targets,
)

pytestmark = pytest.mark.usefixtures("db")


def test_the_two_proportion_test_matches_a_hand_computation():
    from plugins.care.results import two_proportion_p

    # 60/100 against 40/100: pooled 0.5, se = sqrt(0.25 * 0.02), z = 2.8284…
    expected = math.erfc(0.2 / math.sqrt(0.25 * 0.02) / math.sqrt(2))
    assert two_proportion_p(60, 100, 40, 100) == pytest.approx(expected)
    assert two_proportion_p(60, 100, 40, 100) == pytest.approx(0.004678, abs=1e-5)
    assert two_proportion_p(5, 10, 5, 10) == pytest.approx(1.0)
    assert two_proportion_p(0, 10, 0, 10) == 1.0
    assert two_proportion_p(3, 10, 0, 0) is None


async def test_results_compare_the_purchases_of_treatment_and_control(
    api, tenant, owner, make_key, enable_plugins, store
):
    from core.purchases import record_purchase

    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    await customers(tenant, owner, 30)
    campaign = await one_off(api, key, await everyone_segment(tenant, owner), controlPct=40)
    await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    rows = await targets(tenant)
    treated = [r["customer_id"] for r in rows if r["grp"] == "treatment"]
    control = [r["customer_id"] for r in rows if r["grp"] == "control"]
    assert treated and control
    buyers = treated[: max(1, len(treated) // 2)] + control[:1]
    for c in buyers:
        await record_purchase(
            tenant,
            owner,
            {
                "store_id": str(store),
                "customer_id": str(c),
                "lines": [{"sku": "mooncake", "unit_price": "128.50"}],
            },
        )
    res = (await gql_ok(api, CAMPAIGN, {"id": campaign}, key))["careCampaign"]["results"]
    t, c = res["treatment"], res["control"]
    assert (t["targeted"], c["targeted"]) == (len(treated), len(control))
    assert t["purchasers"] == len(buyers) - 1 and c["purchasers"] == 1
    assert t["spend"] == f"{128.5 * (len(buyers) - 1):.2f}" and c["spend"] == "128.50"
    rate_t, rate_c = (len(buyers) - 1) / len(treated), 1 / len(control)
    assert res["uplift"] == pytest.approx(rate_t - rate_c, abs=1e-5)
    from plugins.care.results import two_proportion_p

    assert res["pValue"] == pytest.approx(
        two_proportion_p(len(buyers) - 1, len(treated), 1, len(control))
    )


async def test_kpis_count_the_campaign_messages_and_the_held_out(
    api, tenant, owner, make_key, enable_plugins
):
    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    await customers(tenant, owner, 10)
    campaign = await one_off(api, key, await everyone_segment(tenant, owner), controlPct=30)
    await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    rows = await targets(tenant)
    body = await gql_ok(
        api,
        '{ kpis(from: "2020-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") '
        "{ modules { module key value } } }",
        {},
        key,
    )
    got = {m["key"]: m["value"] for m in body["kpis"]["modules"] if m["module"] == "care"}
    held = sum(1 for r in rows if r["status"] == "held")
    assert got == {
        "messages_queued": len(rows) - held,
        "held_out": held,
        "runs_done": 1,
    }
