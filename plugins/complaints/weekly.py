"""The complaints section of the weekly store and chain report (``register_report_sections``):
complaints received, the SLA hit rates, median times and reopen rate against the previous week
and the same week a year earlier; a twelve-week trend; the main complaints (by category), how
they were handled, the praise to read out at the store meeting (门店例会通报表扬) and the
products flagged for their supplier."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from core import (
    Actor,
    ReportChart,
    ReportData,
    ReportFigure,
    ReportSection,
    ReportTable,
    TenantInfo,
    staff_facts,
    store_facts,
)
from plugins.complaints import stats
from plugins.complaints.categories import category_tree
from plugins.complaints.praise import praise_rows
from plugins.complaints.settings import ComplaintsSettings

__all__ = ["report_sections"]

WEEK = dt.timedelta(days=7)
YEAR = dt.timedelta(days=364)  # 52 weeks: the same weekdays, as the core's figures
TREND_WEEKS = 12
PRAISE_LISTED = 30
RESOLUTIONS = {
    "": ("未处理完", "Not resolved yet"),
    "return": ("退货", "Return"),
    "exchange": ("换货", "Exchange"),
    "price_adjustment": ("调整价格", "Price adjustment"),
    "service_change": ("改变服务", "Service change"),
    "explanation": ("解释说明", "Explanation"),
    "compensation": ("补偿", "Compensation"),
}


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def _share(value: float | None) -> float | None:
    return None if value is None else round(value / 100, 3)


def _figures(now: stats.PeriodFigures, *earlier: stats.PeriodFigures) -> list[ReportFigure]:
    """This week's figures against the previous week's and last year's (``earlier``)."""
    rows: list[tuple[str, dict[str, str], Any, str, str]] = [
        (
            "received",
            _label("收到投诉", "Complaints"),
            lambda f: f.counts.received,
            "number",
            "lower",
        ),
        (
            "resolve_sla",
            _label("处理及时率", "Resolved within SLA"),
            lambda f: _share(f.counts.resolve_hit_rate),
            "percent",
            "higher",
        ),
        (
            "ack_sla",
            _label("受理及时率", "Acknowledged within SLA"),
            lambda f: _share(f.counts.ack_hit_rate),
            "percent",
            "higher",
        ),
        (
            "median_ack_hours",
            _label("受理时长中位数（小时）", "Median hours to acknowledge"),
            lambda f: f.median_ack_hours,
            "number",
            "lower",
        ),
        (
            "median_resolve_hours",
            _label("处理时长中位数（小时）", "Median hours to resolve"),
            lambda f: f.median_resolve_hours,
            "number",
            "lower",
        ),
        (
            "reopen_rate",
            _label("重开率", "Reopened"),
            lambda f: _share(f.counts.reopen_rate),
            "percent",
            "lower",
        ),
        ("praise", _label("顾客表扬", "Praise"), lambda f: f.praise, "number", "higher"),
    ]
    return [
        ReportFigure(
            key,
            label,
            get(now),
            get(earlier[0]),
            get(earlier[1]),
            better=better,
            format=fmt,
        )
        for key, label, get, fmt, better in rows
    ]


def _breakdown_table(
    key: str,
    title: dict[str, str],
    column: dict[str, str],
    names: dict[str, tuple[str, str]],
    counts: list[stats.Breakdown],
) -> ReportTable:
    total = sum(b.count for b in counts) or 1
    return ReportTable(
        key,
        title,
        [column, _label("件数", "Count"), _label("占比", "Share")],
        [
            [names.get(b.key, (b.key or "—", b.key or "—"))[0], b.count, b.count / total]
            for b in counts
        ],
        formats=["text", "number", "percent"],
    )


async def _praise_table(
    tenant: TenantInfo, store_id: UUID | None, start: dt.datetime, end: dt.datetime
) -> ReportTable:
    rows = await praise_rows(
        tenant,
        Actor.system("complaints.report"),
        store_id=store_id,
        start=start,
        end=end,
        limit=PRAISE_LISTED,
    )
    staff = await staff_facts(tenant, {s for r in rows for s in r["staff_ids"]})
    stores = await store_facts(tenant, {r["store_id"] for r in rows if r["store_id"]})
    return ReportTable(
        "praise",
        _label("表扬（例会通报）", "Praise to read out"),
        [
            _label("日期", "Date"),
            _label("门店", "Store"),
            _label("被表扬员工", "Staff praised"),
            _label("顾客的话", "What the customer said"),
        ],
        [
            [
                r["received_at"].astimezone(start.tzinfo).date(),
                stores[r["store_id"]].name if r["store_id"] in stores else "—",
                "、".join(staff[s].name or staff[s].login for s in r["staff_ids"] if s in staff),
                r["text"],
            ]
            for r in rows
        ],
        formats=["date", "text", "text", "text"],
    )


async def _flagged_table(
    tenant: TenantInfo, flagged: list[stats.Flagged], settings: ComplaintsSettings
) -> ReportTable:
    stores = await store_facts(tenant, {s for f in flagged for s in f.store_ids})
    return ReportTable(
        "flagged_products",
        _label(
            f"需反馈供应商的商品（{settings.sku_flag_days} 天内 ≥{settings.sku_flag_count} 次投诉）",
            f"Flagged for the supplier (≥{settings.sku_flag_count} complaints in "
            f"{settings.sku_flag_days} days)",
        ),
        [
            _label("SKU", "SKU"),
            _label("商品", "Product"),
            _label("投诉", "Complaints"),
            _label("首次", "First"),
            _label("最近", "Last"),
            _label("门店", "Stores"),
        ],
        [
            [
                f.sku,
                f.product,
                f.count,
                f.first_at.date(),
                f.last_at.date(),
                "、".join(stores[s].name for s in f.store_ids if s in stores),
            ]
            for f in flagged
        ],
        formats=["text", "text", "number", "date", "date", "text"],
    )


async def report_section(
    tenant: TenantInfo,
    store_id: UUID | None,
    start: dt.datetime,
    end: dt.datetime,
    settings: ComplaintsSettings | None = None,
) -> ReportData:
    settings = settings or ComplaintsSettings()
    scope = stats.Scope(tenant.id, store_id)
    now = dt.datetime.now(dt.UTC)
    weeks = [(start - WEEK * i, end - WEEK * i) for i in range(TREND_WEEKS)]
    figures = await stats.period_figures(scope, [*weeks, (start - YEAR, end - YEAR)], now)
    this, previous, last_year = figures[0], figures[1], figures[-1]
    trend = list(reversed(figures[:TREND_WEEKS]))
    breakdowns = await stats.breakdowns(scope, (start, end))
    names = {c.code: (c.zh, c.en) for c in category_tree(settings)}
    flagged = await stats.flagged_skus(scope, end, settings.sku_flag_days, settings.sku_flag_count)
    tables = [
        _breakdown_table(
            "main_complaints",
            _label("主要投诉内容", "Main complaints"),
            _label("类别", "Category"),
            names | {"": ("未分类", "Unclassified")},
            [b for b in breakdowns if b.dimension == "category"],
        ),
        _breakdown_table(
            "handling",
            _label("处理方法", "How they were handled"),
            _label("处理方式", "Resolution"),
            RESOLUTIONS,
            [b for b in breakdowns if b.dimension == "resolution"],
        ),
        await _praise_table(tenant, store_id, start, end),
        await _flagged_table(tenant, flagged, settings),
    ]
    chart = ReportChart(
        "complaints_trend",
        _label(f"投诉与处理及时率（近 {TREND_WEEKS} 周）", f"Complaints, {TREND_WEEKS} weeks"),
        "line",
        [f"{f.start.month}/{f.start.day}" for f in trend],
        {
            "received": [float(f.counts.received) for f in trend],
            "resolve_sla": [f.counts.resolve_hit_rate for f in trend],
        },
        series_labels={
            "received": _label("投诉数", "Complaints"),
            "resolve_sla": _label("处理及时率 %", "Resolved within SLA %"),
        },
    )
    return ReportData(
        figures=_figures(this, previous, last_year),
        tables=[t for t in tables if t.rows],
        charts=[chart],
    )


def report_sections() -> list[ReportSection]:
    return [
        ReportSection(
            key="complaints",
            title=_label("顾客投诉与表扬", "Complaints and praise"),
            compute=report_section,
            order=60,
        )
    ]
