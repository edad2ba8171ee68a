"""The surveys section of the weekly store and chain report (``register_report_sections``):
NPS, CSAT, responses and response rate against the previous week and the same week a year
earlier, a twelve-week NPS trend, and NPS per store (the chain's report) or per staff member
served (a store's report, for 绩效考核)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from core import (
    ReportChart,
    ReportData,
    ReportFigure,
    ReportSection,
    ReportTable,
    TenantInfo,
    staff_facts,
    store_facts,
)
from plugins.surveys import kpis

__all__ = ["report_sections"]

WEEK = dt.timedelta(days=7)
YEAR = dt.timedelta(days=364)  # 52 weeks: the same weekdays, as the core's figures
TREND_WEEKS = 12


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def _share(percent: float | None) -> float | None:
    """A CSAT or response rate (82.5) as the report's share (0.825)."""
    return None if percent is None else percent / 100


async def _figures(
    tenant: TenantInfo, store_id: UUID | None, start: dt.datetime, end: dt.datetime
) -> list[ReportFigure]:
    periods = [(start, end), (start - WEEK, start), (start - YEAR, end - YEAR)]
    nps = [await kpis.nps(tenant, a, b, store_id) for a, b in periods]
    csat = [_share(await kpis.csat(tenant, a, b, store_id)) for a, b in periods]
    answered = [await kpis.responses(tenant, a, b, store_id) for a, b in periods]
    rate = [_share(await kpis.response_rate(tenant, a, b, store_id)) for a, b in periods]

    def figure(key: str, label: dict[str, str], values: list[Any], fmt: str) -> ReportFigure:
        return ReportFigure(key, label, values[0], values[1], values[2], format=fmt)

    return [
        figure("nps", _label("净推荐值 NPS", "NPS"), nps, "score"),
        figure("csat", _label("满意度 CSAT", "CSAT"), csat, "percent"),
        figure("responses", _label("问卷回复", "Responses"), answered, "number"),
        figure("response_rate", _label("回复率", "Response rate"), rate, "percent"),
    ]


async def _trend(tenant: TenantInfo, store_id: UUID | None, start: dt.datetime) -> ReportChart:
    weeks = [start - WEEK * (TREND_WEEKS - 1 - i) for i in range(TREND_WEEKS)]
    values = [await kpis.nps(tenant, w, w + WEEK, store_id) for w in weeks]
    return ReportChart(
        "nps_trend",
        _label(f"净推荐值（近 {TREND_WEEKS} 周）", f"NPS, {TREND_WEEKS} weeks"),
        "line",
        [f"{w.month}/{w.day}" for w in weeks],
        {"nps": values},
        series_labels={"nps": _label("NPS", "NPS")},
    )


async def _league(
    tenant: TenantInfo, store_id: UUID | None, start: dt.datetime, end: dt.datetime
) -> ReportTable:
    """NPS per store for the chain, per staff member served for a store; best first."""
    if store_id is None:
        by = await kpis.nps_by_store(tenant, start, end, None)
        stores = await store_facts(tenant, [UUID(k) for k in by])
        names = {str(k): s.name for k, s in stores.items()}
        title, column = _label("各门店 NPS", "NPS per store"), _label("门店", "Store")
    else:
        by = await kpis.nps_by_staff(tenant, start, end, store_id)
        staff = await staff_facts(tenant, [UUID(k) for k in by])
        names = {str(k): s.name or s.login for k, s in staff.items()}
        title, column = _label("各员工 NPS", "NPS per staff member"), _label("员工", "Staff")
    rows = sorted(
        ([names.get(k, "—"), v["nps"], v["responses"]] for k, v in by.items()),
        key=lambda row: (-(row[1] if row[1] is not None else -101), row[0]),
    )
    return ReportTable(
        "nps_league",
        title,
        [column, _label("NPS", "NPS"), _label("回复", "Responses")],
        rows,
        formats=["text", "score", "number"],
    )


async def report_section(
    tenant: TenantInfo, store_id: UUID | None, start: dt.datetime, end: dt.datetime
) -> ReportData:
    league = await _league(tenant, store_id, start, end)
    return ReportData(
        figures=await _figures(tenant, store_id, start, end),
        charts=[await _trend(tenant, store_id, start)],
        tables=[league] if league.rows else [],
    )


def report_sections() -> list[ReportSection]:
    return [
        ReportSection(
            key="surveys",
            title=_label("顾客满意度", "Customer satisfaction"),
            compute=report_section,
            order=50,
        )
    ]
