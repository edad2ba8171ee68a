"""``mendian demo``: a small chain seeded through every built-in plugin's ``seed_demo`` — the
plugins are enabled, their data is there and coherent, and the weekly report and
``staffKpis`` have something to say (module sections, cashiers ranked by NPS)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from api.demo import seed_demo
from core.db import fetch, tenant_tx
from core.kpis import staff_kpis
from core.reports import weekly_report

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)  # a Wednesday


async def test_the_demo_chain_has_a_year_of_every_module(db, runtime, owner):
    result = await seed_demo(slug="demo-test", customers=150, runtime=runtime, now=NOW, seed=7)
    tenant = result.tenant
    assert {"loyalty", "surveys"} <= set(result.plugins)
    assert result.customers == 150
    assert result.purchases > 150
    async with tenant_tx(tenant.id, write=False):
        [responses] = await fetch(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT store_id) AS stores, MIN(nps) AS lo, "
            "MAX(nps) AS hi FROM surveys_response WHERE tenant_id = {}",
            tenant.id,
        )
        [sales] = await fetch(
            "SELECT COUNT(*) AS n FROM purchase WHERE tenant_id = {} AND kind = 'sale'",
            tenant.id,
        )
        [unbalanced] = await fetch(
            "SELECT COUNT(*) AS n FROM loyalty_account a WHERE a.tenant_id = {} AND a.points <> "
            "(SELECT COALESCE(SUM(e.points), 0) FROM loyalty_entry e WHERE e.tenant_id = "
            "a.tenant_id AND e.customer_id = a.customer_id)",
            tenant.id,
        )
    # about one sale in eight answered, in every store, scores across the scale
    assert 0.05 * int(sales["n"]) < int(responses["n"]) < 0.2 * int(sales["n"])
    assert int(responses["stores"]) == 3
    assert int(responses["lo"]) <= 6 and int(responses["hi"]) >= 9
    assert int(unbalanced["n"]) == 0

    monday = NOW.astimezone(ZoneInfo(tenant.timezone)).date()
    monday -= dt.timedelta(days=monday.weekday() + 7)  # last week
    report = await weekly_report(tenant, owner, None, monday, runtime=runtime, now=NOW)
    sections = {s.key: s for s in report.sections}
    assert {"surveys.surveys", "loyalty.points"} <= set(sections)
    assert not any(s.failed for s in report.sections)
    nps = {f.key: f for f in sections["surveys.surveys"].data.figures}["nps"]
    assert nps.value is not None and -100 <= nps.value <= 100
    [league] = sections["surveys.surveys"].data.tables
    assert league.rows and {row[0] for row in league.rows} <= {
        "上海南京路店",
        "北京王府井店",
        "广州天河店",
    }  # NPS per store, by name
    complaints = sections["complaints.complaints"].data
    shown = {f.key: f.value for f in complaints.figures}
    assert shown["received"] > 0 and 0 <= shown["resolve_sla"] <= 1
    tables = {t.key: t for t in complaints.tables}
    assert {"main_complaints", "handling", "flagged_products"} <= set(tables)
    assert [row[0] for row in tables["flagged_products"].rows] == ["SKU-DRK-02"]

    year_from = NOW - dt.timedelta(days=365)
    store = await _first_store(tenant)
    ranked = await staff_kpis(
        tenant, owner, year_from, NOW, store, runtime=runtime, rank_by="surveys.nps"
    )
    scored = [r for r in ranked if r.values.get("surveys.nps") is not None]
    assert len(scored) >= 2
    values = [r.values["surveys.nps"] for r in scored]
    assert values == sorted(values, reverse=True)
    assert [r.rank for r in scored] == list(range(1, len(scored) + 1))


async def _first_store(tenant):
    async with tenant_tx(tenant.id, write=False):
        [row] = await fetch(
            "SELECT id FROM store WHERE tenant_id = {} AND code = 'SH01'", tenant.id
        )
    return row["id"]
