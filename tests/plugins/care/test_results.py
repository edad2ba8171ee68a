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


BY_STORE = (
    "query($id: ID!) { careCampaign(id: $id) { results { byStore { storeId "
    "treatment { targeted queued sent purchasers spend } control { targeted purchasers } "
    "uplift pValue pending } } runs { nodes { results { byStore { storeId "
    "treatment { targeted } control { targeted } } } } } } }"
)


async def test_results_break_down_by_the_customers_home_store(
    api, tenant, owner, make_key, enable_plugins
):
    """Two stores and customers without one: each store's treatment and control, sent,
    purchasers, uplift and p-value, from the home store at the snapshot; a store manager's key
    sees its own store's share (and the storeless customers'), not the other store's."""
    from core import to_global_id
    from core.consent import set_consent
    from core.customers import create_customer
    from core.purchases import record_purchase
    from plugins.care.results import two_proportion_p
    from tenants.service import create_store

    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    a = (await create_store(tenant, owner, {"code": "A", "name": "A店"}))["id"]
    b = (await create_store(tenant, owner, {"code": "B", "name": "B店"}))["id"]
    home: dict[str, object] = {}
    for i, store in enumerate([a] * 14 + [b] * 8 + [None] * 2):
        data = {"name": f"顾客{i}", "phone": f"1370000{i:04d}"}
        if store is not None:
            data["home_store_id"] = str(store)
        c = await create_customer(tenant, owner, data)
        await set_consent(
            tenant, owner, {"customer_id": str(c.id), "purpose": "marketing", "granted": True}
        )
        home[str(c.id)] = store
    campaign = await one_off(api, key, await everyone_segment(tenant, owner), controlPct=40)
    await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    rows = await targets(tenant)

    def of(store, grp):
        return [
            str(r["customer_id"])
            for r in rows
            if home[str(r["customer_id"])] == store and r["grp"] == grp
        ]

    assert of(a, "treatment") and of(a, "control")
    buyers = of(a, "treatment")[:2] + of(a, "control")[:1] + of(b, "treatment")[:1]
    for c in buyers:
        await record_purchase(
            tenant,
            owner,
            {
                "store_id": str(home[c]),
                "customer_id": c,
                "lines": [{"sku": "mooncake", "unit_price": "100"}],
            },
        )
    res = (await gql_ok(api, BY_STORE, {"id": campaign}, key))["careCampaign"]
    by = {s["storeId"]: s for s in res["results"]["byStore"]}
    ga, gb = to_global_id("Store", a), to_global_id("Store", b)
    assert list(by) == [g for _u, g in sorted([(str(a), ga), (str(b), gb)])] + [None]
    expected = {
        ga: (len(of(a, "treatment")), len(of(a, "control")), 2, 1),
        gb: (len(of(b, "treatment")), len(of(b, "control")), 1, 0),
        None: (len(of(None, "treatment")), len(of(None, "control")), 0, 0),
    }
    for gid, (nt, nc, bt, bc) in expected.items():
        s = by[gid]
        assert (s["treatment"]["targeted"], s["control"]["targeted"]) == (nt, nc)
        assert s["treatment"]["queued"] == nt and s["pending"] == 0
        assert (s["treatment"]["purchasers"], s["control"]["purchasers"]) == (bt, bc)
        assert s["treatment"]["spend"] == f"{100 * bt:.2f}"
        rate_t, rate_c = bt / nt if nt else 0.0, bc / nc if nc else 0.0
        assert s["uplift"] == pytest.approx(rate_t - rate_c, abs=1e-5)
        assert s["pValue"] == two_proportion_p(bt, nt, bc, nc)
    assert sum(s["treatment"]["targeted"] + s["control"]["targeted"] for s in by.values()) == 24
    run = res["runs"]["nodes"][0]["results"]["byStore"]
    assert [(s["storeId"], s["treatment"]["targeted"]) for s in run] == [
        (gid, expected[gid][0]) for gid in by
    ]

    manager = await make_key(tenant, role="store_manager", store_id=a)
    seen = (await gql_ok(api, BY_STORE, {"id": campaign}, manager))["careCampaign"]
    assert [s["storeId"] for s in seen["results"]["byStore"]] == [ga, None]
