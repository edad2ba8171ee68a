"""The care section of the weekly report: the campaigns whose runs started in the week, their
messages (queued, sent, suppressed by reason), the held-out group, purchasers and purchase rate
of treatment against control with the uplift and p-value, offers — exact, on a real week."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.plugins.care.helpers import (
    RUN_NOW,
    customers,
    everyone_segment,
    gql_ok,
    local,
    one_off,
    targets,
)

pytestmark = pytest.mark.usefixtures("db")

WEEK = dt.date(2026, 3, 2)  # a Monday


async def test_the_weekly_report_shows_the_weeks_campaigns_against_control(
    api, tenant, owner, make_key, enable_plugins, runtime, send_messages, store
):
    from core.db import execute, tenant_tx
    from core.purchases import record_purchase
    from core.reports import render_html, weekly_report
    from plugins.care.results import two_proportion_p

    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    await customers(tenant, owner, 24)
    await customers(tenant, owner, 4, consent=False, prefix="138")
    campaign = await one_off(api, key, await everyone_segment(tenant, owner), controlPct=30)
    await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    await send_messages(tenant)
    async with tenant_tx(tenant.id):  # the run started on Tuesday of the report's week
        await execute(
            "UPDATE care_run SET started_at = {} WHERE tenant_id = {}",
            local("2026-03-03", "10:00"),
            tenant.id,
        )
    rows = await targets(tenant)
    treated = [r for r in rows if r["grp"] == "treatment"]
    control = [r for r in rows if r["grp"] == "control"]
    suppressed = [r for r in treated if r["status"] == "suppressed"]
    assert control and {r["reason"] for r in suppressed} <= {"no_consent"}
    assert len(treated) + len(control) == 28
    buyers = [r["customer_id"] for r in treated[:3]] + [control[0]["customer_id"]]
    for customer in buyers:
        await record_purchase(
            tenant,
            owner,
            {
                "store_id": str(store),
                "customer_id": str(customer),
                "occurred_at": local("2026-03-05", "15:00").isoformat(),
                "lines": [{"sku": "mooncake", "unit_price": "88.00"}],
            },
        )
    report = await weekly_report(tenant, owner, None, WEEK, runtime=runtime)
    [section] = [s for s in report.sections if s.key == "care.campaigns"]
    figures = {f.key: (f.value, f.previous) for f in section.data.figures}
    queued = len(treated) - len(suppressed)
    assert figures == {
        "campaigns": (1, 0),
        "queued": (queued, 0),
        "sent": (queued, 0),
        "suppressed": (len(suppressed), 0),
        "held_out": (len(control), 0),
        "tasks": (0, 0),
        "offers_granted": (0, 0),
        "offers_redeemed": (0, 0),
    }
    tables = {t.key: t for t in section.data.tables}
    rate_t, rate_c = 3 / len(treated), 1 / len(control)
    assert [list(r) for r in tables["campaigns"].rows] == [
        [
            "中秋问候",
            "一次性 one-off",
            28,
            queued,
            queued,
            len(suppressed),
            len(control),
            0,
            3,
            round(rate_t, 4),
            1,
            round(rate_c, 4),
            round(rate_t - rate_c, 4),
            round(two_proportion_p(3, len(treated), 1, len(control)) or 0, 4),
            0,
            0,
        ]
    ]
    if suppressed:
        assert [list(r) for r in tables["suppressed"].rows] == [["no_consent", len(suppressed)]]
    html = render_html(report, "zh-CN")
    assert "客户关怀" in html and "中秋问候" in html
    # the week before and after know nothing of it; a store's report shows the chain's, said so
    before = await weekly_report(tenant, owner, None, WEEK - dt.timedelta(days=7), runtime=runtime)
    [empty] = [s for s in before.sections if s.key == "care.campaigns"]
    assert {f.key: f.value for f in empty.data.figures}["campaigns"] == 0
    assert empty.data.tables == []
    mine = await weekly_report(tenant, owner, store, WEEK, runtime=runtime)
    [chain] = [s for s in mine.sections if s.key == "care.campaigns"]
    assert chain.data.notes == ["关怀活动为全连锁数据 / campaigns are chain-wide"]
    assert [list(r) for r in chain.data.tables[0].rows] == [
        list(r) for r in tables["campaigns"].rows
    ]
