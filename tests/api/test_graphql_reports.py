"""Reports over GraphQL and HTTP: staffKpis, kpiTargetSet/Remove with kpis.targets,
weeklyReport and its signed page and downloads."""

from __future__ import annotations

import datetime as dt

from core.graphql import to_global_id
from tests.core.reports.helpers import local, member, new_store, sell

TARGET_SET = """mutation($input: KpiTargetSetInput!) { kpiTargetSet(input: $input) {
  target { id kpi period periodStart target store { code } } errors { field code } } }"""
KPIS = """query($s: ID) { kpis(from: "2026-02-01T00:00:00+08:00", to: "2026-03-01T00:00:00+08:00", storeId: $s) {
  netSales targets { target { kpi } label value progress status atRisk elapsed } } }"""
STAFF = """query($s: ID, $r: String!) { staffKpis(from: "2026-03-02T00:00:00+08:00", to: "2026-03-09T00:00:00+08:00", storeId: $s, rankBy: $r) {
  rank staff { login } net: value(kpi: "core.net_sales") values { module key value } } }"""
REPORT = """query($s: ID, $w: Date) { weeklyReport(storeId: $s, weekStart: $w, locale: "en") {
  weekStart weekEnd timezone url workbookUrl store { code }
  sections { key module title failed figures { key label value previous lastYear format }
             tables { key columns rows csvUrl } charts { key kind labels series } } } }"""


async def test_targets_and_staff_figures_over_graphql(api, tenant, owner, make_key):
    one = await new_store(tenant, owner, "S1")
    li = await member(tenant, owner, "li", stores=[one])
    wang = await member(tenant, owner, "wang", stores=[one])
    await sell(tenant, owner, one, local(2026, 2, 3), "300.00", staff=li)
    await sell(tenant, owner, one, local(2026, 3, 3), "50.00", staff=li)
    await sell(tenant, owner, one, local(2026, 3, 4), "80.00", staff=wang)
    key = await make_key(tenant)
    store = to_global_id("Store", one)
    body = await api.gql(
        TARGET_SET,
        {
            "input": {
                "kpi": "core.net_sales",
                "period": "MONTH",
                "periodStart": "2026-02-01",
                "target": "600",
                "storeId": store,
            }
        },
        key=key,
    )
    target = body["data"]["kpiTargetSet"]["target"]
    assert (target["kpi"], target["period"], target["target"], target["store"]["code"]) == (
        "core.net_sales",
        "MONTH",
        "600",
        "S1",
    )
    bad = await api.gql(
        TARGET_SET,
        {
            "input": {
                "kpi": "core.net_sales",
                "period": "WEEK",
                "periodStart": "2026-02-03",
                "target": "1",
            }
        },
        key=key,
    )
    assert bad["data"]["kpiTargetSet"] == {
        "target": None,
        "errors": [{"field": "periodStart", "code": "invalid_period_start"}],
    }
    body = await api.gql(KPIS, {"s": store}, key=key)
    [progress] = body["data"]["kpis"]["targets"]
    assert (
        progress["target"]["kpi"],
        progress["value"],
        progress["progress"],
        progress["status"],
        progress["atRisk"],
    ) == ("core.net_sales", "300.00", "0.5000", "MISSED", True)  # February is over: 300 of 600
    body = await api.gql(STAFF, {"s": store, "r": "core.net_sales"}, key=key)
    assert [(r["rank"], r["staff"]["login"], r["net"]) for r in body["data"]["staffKpis"]] == [
        (1, "wang", "80.00"),
        (2, "li", "50.00"),
    ]
    body = await api.gql(STAFF, {"s": store, "r": "core.sales_count"}, key=key)
    assert body["data"]["staffKpis"][0]["values"][0]["module"] == "core"
    cashier = await make_key(tenant, role="cashier", store_id=one)
    denied = await api.gql(STAFF, {"s": store, "r": "core.net_sales"}, key=cashier)
    assert denied["errors"][0]["extensions"]["code"] == "forbidden"
    removed = await api.gql(
        "mutation($i: ID!) { kpiTargetRemove(input: {id: $i}) { removedId errors { code } } }",
        {"i": target["id"]},
        key=key,
    )
    assert removed["data"]["kpiTargetRemove"] == {"removedId": target["id"], "errors": []}


async def test_the_weekly_report_over_graphql_and_its_signed_page(api, tenant, owner, make_key):
    one = await new_store(tenant, owner, "S1")
    await sell(tenant, owner, one, local(2026, 3, 3), "88.00")
    key = await make_key(tenant, role="store_manager", store_id=one)
    body = await api.gql(REPORT, {"w": "2026-03-02"}, key=key)
    report = body["data"]["weeklyReport"]
    assert (report["weekStart"], report["weekEnd"], report["store"]["code"]) == (
        "2026-03-02",
        "2026-03-08",
        "S1",
    )
    sales = report["sections"][0]
    assert sales["key"] == "core.sales" and sales["title"] == "Sales and customers"
    assert sales["figures"][0] == {
        "key": "net_sales",
        "label": "Net sales",
        "value": "88.00",
        "previous": "0.00",
        "lastYear": "0.00",
        "format": "money",
    }
    assert [c["kind"] for c in sales["charts"]] == ["LINE", "BAR"]
    path = report["url"].removeprefix("http://localhost:8000")
    page = await api.http.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.text.count("<svg") == 2 and "<script" not in page.text
    table = sales["tables"][0]
    csv = await api.http.get(table["csvUrl"].removeprefix("http://localhost:8000"))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    xlsx = await api.http.get(report["workbookUrl"].removeprefix("http://localhost:8000"))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert (await api.http.get(path[:-3] + "xyz")).status_code == 404
    assert (await api.http.get(path + "/tables/core.sales.nope.csv")).status_code == 404
    # A store manager's key asking for the chain, or another week day, is a typed error.
    bad = await api.gql(REPORT, {"w": "2026-03-03"}, key=key)
    assert bad["errors"][0]["extensions"]["code"] == "invalid_week_start"


async def test_a_report_default_week_is_the_last_full_one(api, tenant, make_key):
    key = await make_key(tenant)
    body = await api.gql(REPORT, {}, key=key)
    start = dt.date.fromisoformat(body["data"]["weeklyReport"]["weekStart"])
    assert start.isoweekday() == 1 and 7 <= (dt.date.today() - start).days <= 14
