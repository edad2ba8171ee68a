"""The weekly report's data: this week against the previous one and the same week a year
earlier (real calendar weeks), the staff and store leagues, targets, module sections (present
only where enabled; a failing one does not take the report down), and the page and exports."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest

from core.errors import ValidationFailed
from core.kpis import set_target
from core.reports import render_html, report_workbook, table_export, text_summary, weekly_report
from core.types import ReportData
from tests.core.reports.helpers import as_staff, local, member, new_store, sell

WEEK = dt.date(2026, 3, 2)  # a Monday; 52 weeks earlier is Monday 3 March 2025


def figures(report, section="core.sales"):
    [s] = [s for s in report.sections if s.key == section]
    return {f.key: (f.value, f.previous, f.last_year) for f in s.data.figures}


async def chain(tenant, owner):
    one = await new_store(tenant, owner, "S1")
    two = await new_store(tenant, owner, "S2")
    li = await member(tenant, owner, "li", stores=[one])
    await sell(tenant, owner, one, local(2026, 3, 2, 9), "100.00", staff=li)
    await sell(tenant, owner, one, local(2026, 3, 8, 21), "60.00", staff=li)  # Sunday evening
    await sell(
        tenant,
        owner,
        one,
        local(
            2026,
            3,
            9,
            0,
        ),
        "999.00",
    )  # next Monday 00:00
    await sell(tenant, owner, one, local(2026, 2, 25), "40.00")  # previous week
    await sell(tenant, owner, one, local(2025, 3, 4), "80.00")  # the same week, 2025
    await sell(tenant, owner, two, local(2026, 3, 3), "500.00")
    return one, two, li


async def test_a_store_week_compares_with_the_previous_week_and_last_year(tenant, owner):
    one, _two, _li = await chain(tenant, owner)
    report = await weekly_report(tenant, owner, one, WEEK, runtime=None)
    assert (report.week_start, report.week_end, report.timezone) == (
        WEEK,
        dt.date(2026, 3, 8),
        "Asia/Shanghai",
    )
    f = figures(report)
    assert f["net_sales"] == (Decimal("160.00"), Decimal("40.00"), Decimal("80.00"))
    assert f["sales_count"] == (2, 1, 1)
    assert f["average_ticket"] == (Decimal("80.00"), Decimal("40.00"), Decimal("80.00"))
    [sales] = [s for s in report.sections if s.key == "core.sales"]
    trend, days = sales.data.charts
    assert trend.labels[-1] == "3/2" and len(trend.labels) == 12
    assert trend.series["this_year"][-1] == 160.0 and trend.series["this_year"][-2] == 40.0
    assert trend.series["last_year"][-1] == 80.0
    assert days.series["this_week"] == [1, 0, 0, 0, 0, 0, 1]
    [staff] = sales.data.tables
    assert staff.key == "staff" and staff.rows[0][:4] == [1, "li", 2, Decimal("160.00")]
    assert [s.key for s in report.sections] == ["core.sales", "core.targets"]


async def test_the_chain_week_ranks_its_stores(tenant, owner, other_tenant):
    await chain(tenant, owner)
    await sell(
        other_tenant, owner, await new_store(other_tenant, owner, "X"), local(2026, 3, 3), "7777.00"
    )
    report = await weekly_report(tenant, owner, None, WEEK, runtime=None)
    assert report.store is None
    assert figures(report)["net_sales"][0] == Decimal("660.00")  # 160 + 500; not the other tenant's
    [sales] = [s for s in report.sections if s.key == "core.sales"]
    [stores] = sales.data.tables
    assert [row[0] for row in stores.rows] == ["S2", "S1"]
    assert stores.rows[1][2:5] == [2, Decimal("160.00"), Decimal("3.0000")]  # 160 vs 40: +300 %


async def test_who_may_read_which_report(tenant, owner):
    one, two, _li = await chain(tenant, owner)
    manager = as_staff(await member(tenant, owner, "m1", "store_manager", [one]), stores={one})
    assert (await weekly_report(tenant, manager, one, WEEK, runtime=None)).store.id == one
    for store, code in ((two, "unknown_store"), (None, "store_required")):
        with pytest.raises(ValidationFailed) as err:
            await weekly_report(tenant, manager, store, WEEK, runtime=None)
        assert err.value.code == code
    with pytest.raises(ValidationFailed) as err:
        await weekly_report(tenant, owner, one, dt.date(2026, 3, 3), runtime=None)
    assert err.value.code == "invalid_week_start"


async def test_targets_appear_with_their_status(tenant, owner):
    one, _two, _li = await chain(tenant, owner)
    await set_target(
        tenant,
        owner,
        kpi="core.net_sales",
        period="week",
        period_start=WEEK,
        target="200",
        store_id=one,
        runtime=None,
    )
    report = await weekly_report(tenant, owner, one, WEEK, runtime=None, now=local(2026, 3, 10))
    [targets] = [s for s in report.sections if s.key == "core.targets"]
    [table] = targets.data.tables
    assert table.rows[0][3:] == [Decimal("200"), Decimal("160.00"), Decimal("0.8000"), "missed"]
    assert targets.data.figures[0].value == 1


async def test_module_sections_only_where_enabled_and_a_failure_stays_inside_it(
    tenant, other_tenant, owner, runtime, enable_plugins, monkeypatch
):
    one, _two, _li = await chain(tenant, owner)
    await enable_plugins(tenant, "loyalty")
    report = await weekly_report(tenant, owner, one, WEEK, runtime=runtime)
    assert [s.key for s in report.sections] == ["core.sales", "core.targets", "loyalty.points"]
    assert "loyalty.points" not in [
        s.key
        for s in (await weekly_report(other_tenant, owner, None, WEEK, runtime=runtime)).sections
    ]

    async def broken(*_args):
        raise RuntimeError("boom")

    from plugins.loyalty import kpis

    monkeypatch.setattr(kpis, "points_issued", broken)  # what the section computes with
    report = await weekly_report(tenant, owner, one, WEEK, runtime=runtime)
    [section] = [s for s in report.sections if s.module == "loyalty"]
    assert section.failed and section.data == ReportData(notes=["section_failed"])
    assert figures(report)["net_sales"][0] == Decimal("160.00")


async def test_the_page_has_charts_and_no_script_and_the_tables_export(tenant, owner):
    one, _two, _li = await chain(tenant, owner)
    report = await weekly_report(tenant, owner, one, WEEK, runtime=None)
    html = render_html(report, "zh-CN", table_links={"core.sales.staff": "/x.csv"})
    assert html.count("<svg") == 2 and "<script" not in html and "<!--" not in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "¥160.00" in html and "+300.0%" in html and "净销售额" in html
    english = render_html(report, "en")
    assert "Net sales" in english and "weekly report" in english
    csv = table_export(report, "core.sales.staff", "csv", "zh-CN")
    assert csv.decode("utf-8-sig").splitlines() == [
        "排名,员工,销售笔数,净销售额,新客户,完成回访",
        "1,li,2,160.00,0,0",
    ]
    assert table_export(report, "core.sales.nothing", "csv", "zh-CN") is None
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(report_workbook(report, "en")))
    assert book.sheetnames == ["Staff"]
    assert [c.value for c in book["Staff"][2]] == [1, "li", 2, 160, 0, 0]
    assert "净销售额: ¥160.00 (+300.0%)" in text_summary(report, "zh-CN")
