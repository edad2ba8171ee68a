"""The weekly report of a store or the chain (CORE-14): the core's figures against the
previous week and the same week a year earlier, trends, the staff league or the store league,
the targets, and a section from every enabled module (``register_report_sections``).

Weeks run Monday to Monday, midnight to midnight in the store's timezone (the tenant's for the
chain). "The same week last year" is the week 52 weeks (364 days) earlier: same weekdays, so
weekend trade compares with weekend trade.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from core.context import Actor, TenantInfo
from core.db import fetch, tenant_tx
from core.errors import ValidationFailed
from core.kpis import core_kpis, staff_kpis, target_progress, visible_stores
from core.lookups import StoreFacts, store_facts
from core.money import from_minor
from core.types import ReportChart, ReportData, ReportFigure, ReportSection, ReportTable

if TYPE_CHECKING:
    from core.plugins.runtime import PluginRuntime

__all__ = [
    "SectionResult",
    "WeeklyReport",
    "last_week",
    "report_scope",
    "week_bounds",
    "weekly_report",
]

log = logging.getLogger("mendian.reports")
TREND_WEEKS = 12


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


@dataclass(frozen=True)
class SectionResult:
    """A computed section: who contributed it, its title and data (or why it is missing)."""

    key: str
    module: str
    title: dict[str, str]
    data: ReportData
    failed: bool = False
    order: int = 100


@dataclass(frozen=True)
class WeeklyReport:
    tenant: TenantInfo
    store: StoreFacts | None  # None: the chain
    week_start: dt.date
    timezone: str
    sections: list[SectionResult]
    generated_at: dt.datetime
    modules: frozenset[str] = field(default_factory=frozenset)

    @property
    def week_end(self) -> dt.date:
        """The week's last day (Sunday)."""
        return self.week_start + dt.timedelta(days=6)

    def table(self, key: str) -> ReportTable | None:
        """A table by ``<section>.<table>`` key."""
        for section in self.sections:
            for table in section.data.tables:
                if f"{section.key}.{table.key}" == key:
                    return table
        return None


def week_bounds(week_start: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(week_start, dt.time(), zone)
    return start, dt.datetime.combine(week_start + dt.timedelta(days=7), dt.time(), zone)


def last_week(now: dt.datetime, timezone: str) -> dt.date:
    """The Monday of the last full week before ``now`` (in ``timezone``)."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    return today - dt.timedelta(days=today.weekday() + 7)


def _check_week(week_start: dt.date) -> None:
    if week_start.isoweekday() != 1:
        raise ValidationFailed(
            "a week starts on a Monday", field="week_start", code="invalid_week_start"
        )
    if not dt.date(2000, 1, 3) <= week_start <= dt.date(2100, 12, 27):
        raise ValidationFailed(
            "week_start is out of range", field="week_start", code="out_of_range"
        )


def report_scope(actor: Actor, store_id: UUID | None) -> UUID | None:
    """The store the caller's report is for: the one asked for (visible to the caller), a
    one-store caller's own, or the chain (callers who see every store)."""
    stores = visible_stores(actor, store_id)
    if stores is None:
        return None
    if len(stores) > 1:
        raise ValidationFailed("name one of your stores", field="store_id", code="store_required")
    return stores[0]


# --- the core's sections ------------------------------------------------------------------


def _change_figures(this: Any, before: Any, year_ago: Any) -> list[ReportFigure]:
    money = "money"
    return [
        ReportFigure(
            "net_sales",
            _label("净销售额", "Net sales"),
            this.net_sales,
            before.net_sales,
            last_year=year_ago.net_sales,
            format=money,
        ),
        ReportFigure(
            "sales_count",
            _label("销售笔数", "Sales"),
            this.sales_count,
            before.sales_count,
            last_year=year_ago.sales_count,
        ),
        ReportFigure(
            "average_ticket",
            _label("客单价", "Average ticket"),
            this.average_ticket,
            before.average_ticket,
            last_year=year_ago.average_ticket,
            format=money,
        ),
        ReportFigure(
            "new_customers",
            _label("新客户", "New customers"),
            this.new_customers,
            before.new_customers,
            last_year=year_ago.new_customers,
        ),
        ReportFigure(
            "active_customers",
            _label("到店客户", "Active customers"),
            this.active_customers,
            before.active_customers,
            last_year=year_ago.active_customers,
        ),
        ReportFigure(
            "repeat_rate",
            _label("复购率", "Repeat rate"),
            this.repeat_rate,
            before.repeat_rate,
            last_year=year_ago.repeat_rate,
            format="percent",
        ),
    ]


async def _weekly_sums(
    tenant: TenantInfo, stores: list[UUID] | None, starts: list[dt.datetime], width: dt.timedelta
) -> list[tuple[int, int]]:
    """(net sales in minor units, sales) for each ``[start, start + width)``: one scan."""
    columns, args = [], []
    for i, start in enumerate(starts):
        bounds = (start.astimezone(dt.UTC), (start + width).astimezone(dt.UTC))
        columns.append(
            f"COALESCE(SUM(CASE WHEN occurred_at >= {{}} AND occurred_at < {{}} "
            f"THEN amount_minor ELSE 0 END), 0) AS m{i}, "
            f"COALESCE(SUM(CASE WHEN kind = 'sale' AND occurred_at >= {{}} AND occurred_at < {{}} "
            f"THEN 1 ELSE 0 END), 0) AS n{i}"
        )
        args += [*bounds, *bounds]
    store_sql = ""
    if stores is not None:
        store_sql = f" AND store_id IN ({', '.join('{}' for _ in stores)})"
    rows = await fetch(
        f"SELECT {', '.join(columns)} FROM purchase WHERE tenant_id = {{}} "
        f"AND occurred_at >= {{}} AND occurred_at < {{}}{store_sql}",
        *args,
        tenant.id,
        min(starts).astimezone(dt.UTC),
        (max(starts) + width).astimezone(dt.UTC),
        *(stores or []),
    )
    r = rows[0]
    return [(int(r[f"m{i}"] or 0), int(r[f"n{i}"] or 0)) for i in range(len(starts))]


def _week_label(day: dt.date) -> str:
    return f"{day.month}/{day.day}"


async def _trend(
    tenant: TenantInfo, stores: list[UUID] | None, start: dt.datetime
) -> list[ReportChart]:
    weeks = [start - dt.timedelta(weeks=TREND_WEEKS - 1 - i) for i in range(TREND_WEEKS)]
    year_ago = [w - dt.timedelta(days=364) for w in weeks]
    days = [start + dt.timedelta(days=i) for i in range(7)]
    async with tenant_tx(tenant.id, write=False):
        this = await _weekly_sums(tenant, stores, weeks, dt.timedelta(days=7))
        before = await _weekly_sums(tenant, stores, year_ago, dt.timedelta(days=7))
        daily = await _weekly_sums(tenant, stores, days, dt.timedelta(days=1))
        last = await _weekly_sums(
            tenant, stores, [d - dt.timedelta(days=7) for d in days], dt.timedelta(days=1)
        )
    labels = [_week_label(w.date()) for w in weeks]

    def money(minor: int) -> float:
        return float(from_minor(minor, tenant.currency))

    weekdays = {
        "zh-CN": ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
        "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    }
    return [
        ReportChart(
            "net_sales_trend",
            _label(f"净销售额（近 {TREND_WEEKS} 周）", f"Net sales, last {TREND_WEEKS} weeks"),
            "line",
            labels,
            {
                "this_year": [money(m) for m, _ in this],
                "last_year": [money(m) for m, _ in before],
            },
            series_labels={
                "this_year": _label("今年", "This year"),
                "last_year": _label("去年同期", "A year earlier"),
            },
        ),
        ReportChart(
            "sales_by_day",
            _label("每日销售笔数", "Sales per day"),
            "bar",
            weekdays["en"],
            {"this_week": [n for _, n in daily], "last_week": [n for _, n in last]},
            series_labels={
                "this_week": _label("本周", "This week"),
                "last_week": _label("上周", "Previous week"),
            },
            label_text=weekdays,
        ),
    ]


async def _store_league(tenant: TenantInfo, start: dt.datetime, end: dt.datetime) -> ReportTable:
    """Every open store's week, best net sales first: three grouped statements, whatever the
    number of stores."""
    week = dt.timedelta(days=7)
    utc = [t.astimezone(dt.UTC) for t in (start - week, start, end)]
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT id FROM store WHERE tenant_id = {} AND closed_at IS NULL", tenant.id
        )
        sales = await fetch(
            "SELECT store_id, "
            "SUM(CASE WHEN occurred_at >= {} THEN amount_minor ELSE 0 END) AS net, "
            "SUM(CASE WHEN occurred_at < {} THEN amount_minor ELSE 0 END) AS before, "
            "SUM(CASE WHEN occurred_at >= {} AND kind = 'sale' THEN 1 ELSE 0 END) AS n "
            "FROM purchase WHERE tenant_id = {} AND occurred_at >= {} AND occurred_at < {} "
            "AND store_id IS NOT NULL GROUP BY store_id",
            utc[1],
            utc[1],
            utc[1],
            tenant.id,
            utc[0],
            utc[2],
        )
        signups = await fetch(
            "SELECT home_store_id AS store_id, COUNT(*) AS n FROM customer WHERE tenant_id = {} "
            "AND created_at >= {} AND created_at < {} AND status <> 'merged' "
            "AND home_store_id IS NOT NULL GROUP BY home_store_id",
            tenant.id,
            utc[1],
            utc[2],
        )
    facts = await store_facts(tenant, [UUID(str(r["id"])) for r in rows])
    by_store = {UUID(str(r["store_id"])): r for r in sales}
    new = {UUID(str(r["store_id"])): int(r["n"]) for r in signups}
    lines: list[list[Any]] = []
    for store in facts.values():
        r = by_store.get(store.id) or {"net": 0, "before": 0, "n": 0}
        net, before, n = int(r["net"] or 0), int(r["before"] or 0), int(r["n"] or 0)
        lines.append(
            [
                store.code,
                store.name,
                n,
                from_minor(net, tenant.currency),
                (Decimal(net - before) / before).quantize(Decimal("0.0001")) if before else None,
                new.get(store.id, 0),
                from_minor(round(net / n), tenant.currency) if n else None,
            ]
        )
    lines.sort(key=lambda line: (-Decimal(line[3]), str(line[0])))
    return ReportTable(
        "stores",
        _label("门店排行", "Stores"),
        [
            _label("编号", "Code"),
            _label("门店", "Store"),
            _label("销售笔数", "Sales"),
            _label("净销售额", "Net sales"),
            _label("环比", "vs previous week"),
            _label("新客户", "New customers"),
            _label("客单价", "Average ticket"),
        ],
        lines,
        formats=["text", "text", "number", "money", "change", "number", "money"],
    )


async def _staff_league(
    tenant: TenantInfo,
    actor: Actor,
    start: dt.datetime,
    end: dt.datetime,
    store_id: UUID,
    runtime: PluginRuntime | None,
) -> ReportTable:
    rows = await staff_kpis(tenant, actor, start, end, store_id, runtime=runtime)
    return ReportTable(
        "staff",
        _label("员工业绩", "Staff"),
        [
            _label("排名", "Rank"),
            _label("员工", "Staff member"),
            _label("销售笔数", "Sales"),
            _label("净销售额", "Net sales"),
            _label("新客户", "New customers"),
            _label("完成回访", "Tasks done"),
        ],
        [
            [
                r.rank,
                r.staff.name,
                r.values.get("core.sales_count", 0),
                r.values.get("core.net_sales", Decimal(0)),
                r.values.get("core.new_customers", 0),
                r.values.get("core.tasks_done", 0),
            ]
            for r in rows
        ],
        formats=["number", "text", "number", "money", "number", "number"],
    )


_STATUS = {
    "upcoming": _label("未开始", "Not started"),
    "on_track": _label("进度正常", "On track"),
    "at_risk": _label("有风险", "At risk"),
    "met": _label("已达成", "Met"),
    "missed": _label("未达成", "Missed"),
}


async def _targets(
    tenant: TenantInfo,
    actor: Actor,
    start: dt.datetime,
    end: dt.datetime,
    store_id: UUID | None,
    runtime: PluginRuntime | None,
    now: dt.datetime,
) -> ReportData:
    targets = await target_progress(
        tenant, actor, start, end, store_id, runtime=runtime, now=min(now, end)
    )
    rows = [
        [
            t.label,
            "月" if t.target["period"] == "month" else "周",
            t.target["period_start"],
            t.target["target"],
            t.value,
            t.progress,
            t.status,
        ]
        for t in targets
    ]
    at_risk = sum(1 for t in targets if t.at_risk)
    return ReportData(
        figures=[
            ReportFigure(
                "at_risk", _label("有风险的目标", "Targets at risk"), at_risk, better="lower"
            )
        ]
        if targets
        else [],
        tables=[
            ReportTable(
                "targets",
                _label("目标进度", "Targets"),
                [
                    _label("指标", "KPI"),
                    _label("周期", "Period"),
                    _label("开始", "From"),
                    _label("目标", "Target"),
                    _label("当前", "So far"),
                    _label("完成度", "Progress"),
                    _label("状态", "Status"),
                ],
                rows,
                formats=["text", "text", "date", "number", "number", "percent", "status"],
            )
        ]
        if targets
        else [],
        notes=[] if targets else ["no_targets"],
    )


# --- assembling ---------------------------------------------------------------------------


async def _plugin_sections(
    tenant: TenantInfo,
    store_id: UUID | None,
    start: dt.datetime,
    end: dt.datetime,
    runtime: PluginRuntime,
    enabled: frozenset[str],
) -> list[SectionResult]:
    """Each enabled plugin's sections; a section that fails is shown as missing (and logged),
    the rest of the report stands (PLUG-5)."""
    out = []
    for plugin_id, sections in runtime.registry.collect_for("register_report_sections", enabled):
        for section in sections or []:
            assert isinstance(section, ReportSection)
            key = f"{plugin_id}.{section.key}"
            try:
                extra: dict[str, Any] = {}
                if "settings" in inspect.signature(section.compute).parameters:
                    extra["settings"] = await runtime.plugin_settings(tenant.id, plugin_id)
                async with tenant_tx(tenant.id, write=False):
                    data = await section.compute(tenant, store_id, start, end, **extra)
                failed = False
            except Exception:
                log.exception("report section %s failed for tenant %s", key, tenant.slug)
                data, failed = ReportData(notes=["section_failed"]), True
            out.append(
                SectionResult(key, plugin_id, dict(section.title), data, failed, section.order)
            )
    return out


async def weekly_report(
    tenant: TenantInfo,
    actor: Actor,
    store_id: UUID | None,
    week_start: dt.date,
    *,
    runtime: PluginRuntime | None,
    now: dt.datetime | None = None,
) -> WeeklyReport:
    """The report of ``store_id`` (None: the chain) for the week starting ``week_start``."""
    actor.require("kpis:read")
    _check_week(week_start)
    store = None
    if store_id is not None:
        visible_stores(actor, store_id)
        store = (await store_facts(tenant, [store_id])).get(store_id)
        if store is None:
            raise ValidationFailed("unknown store", field="store_id", code="unknown_store")
    elif actor.store_ids is not None:
        raise ValidationFailed(
            "the chain report is for callers who see every store",
            field="store_id",
            code="store_required",
        )
    now = now or dt.datetime.now(dt.UTC)
    timezone = store.timezone if store else tenant.timezone
    start, end = week_bounds(week_start, timezone)
    week = dt.timedelta(days=7)
    this = await core_kpis(tenant, actor, start, end, store_id)
    before = await core_kpis(tenant, actor, start - week, start, store_id)
    year_ago = await core_kpis(
        tenant, actor, start - dt.timedelta(days=364), end - dt.timedelta(days=364), store_id
    )
    stores = [store_id] if store_id else None
    league = (
        await _staff_league(tenant, actor, start, end, store_id, runtime)
        if store_id
        else await _store_league(tenant, start, end)
    )
    sections = [
        SectionResult(
            "core.sales",
            "core",
            _label("销售与客户", "Sales and customers"),
            ReportData(
                figures=_change_figures(this, before, year_ago),
                charts=await _trend(tenant, stores, start),
                tables=[league],
            ),
            order=0,
        ),
        SectionResult(
            "core.targets",
            "core",
            _label("目标", "Targets"),
            await _targets(tenant, actor, start, end, store_id, runtime, now),
            order=10,
        ),
    ]
    enabled: frozenset[str] = frozenset()
    if runtime is not None:
        enabled = frozenset(await runtime.enabled(tenant.id, store_id))
        sections += await _plugin_sections(tenant, store_id, start, end, runtime, enabled)
    sections.sort(key=lambda s: (s.order, s.key))
    return WeeklyReport(
        tenant=tenant,
        store=store,
        week_start=week_start,
        timezone=timezone,
        sections=sections,
        generated_at=now,
        modules=enabled,
    )
