"""``weeklyReport(storeId, weekStart)``: the weekly store or chain report's data, with the
signed links of its page and downloads (CORE-14)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any, cast

import msgspec
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.operations._common import arg, runtime_of, uuid_of
from core.graphql import context_of, loaders
from core.graphql.types import Store

__all__ = ["ReportQuery"]


def _json(value: Any) -> JSON:
    return cast(JSON, msgspec.to_builtins(value))


def _text(mapping: Any, locale: str) -> str:
    if isinstance(mapping, str):
        return mapping
    return str(mapping.get(locale) or mapping.get("zh-CN") or next(iter(mapping.values()), ""))


@strawberry.type(description="A key figure of a report section, with its comparisons.")
class ReportFigure:
    key: str = strawberry.field(description="Stable key within the section.")
    label: str = strawberry.field(description="Its name, in the report's language.")
    value: JSON = strawberry.field(description="This week's value.")
    previous: JSON = strawberry.field(description="The previous week's, when known.")
    last_year: JSON = strawberry.field(description="The same week a year earlier, when known.")
    format: str = strawberry.field(description="number, money, percent or score.")
    better: str = strawberry.field(description="Which way is good: higher or lower.")


@strawberry.type(description="A table of a report section (also downloadable as CSV/XLSX).")
class ReportTable:
    key: str = strawberry.field(description="`<section>.<table>`, as in the download links.")
    title: str = strawberry.field(description="Its title.")
    columns: list[str] = strawberry.field(description="Column headings.")
    rows: JSON = strawberry.field(description="Rows of raw values (numbers stay numbers).")
    csv_url: str = strawberry.field(description="Signed link to the table as CSV.")


@strawberry.enum(description="How a chart is drawn.")
class ReportChartKind(Enum):
    LINE = "line"
    BAR = "bar"


@strawberry.type(description="A chart of a report section (drawn as SVG on the page).")
class ReportChart:
    key: str = strawberry.field(description="Stable key within the section.")
    title: str = strawberry.field(description="Its title.")
    kind: ReportChartKind = strawberry.field(description="A line (a trend) or bars (categories).")
    labels: list[str] = strawberry.field(description="The x-axis labels.")
    series: JSON = strawberry.field(description="`{series: [values aligned with labels]}`.")


@strawberry.type(description="A section of the weekly report: the core's or a module's.")
class ReportSectionData:
    key: str = strawberry.field(description="`<module>.<section>`, e.g. `core.sales`.")
    module: str = strawberry.field(description="Who contributed it (`core` or a plugin id).")
    title: str = strawberry.field(description="Its title.")
    failed: bool = strawberry.field(description="True if it could not be computed this time.")
    figures: list[ReportFigure] = strawberry.field(description="Key figures.")
    tables: list[ReportTable] = strawberry.field(description="Tables.")
    charts: list[ReportChart] = strawberry.field(description="Charts.")
    notes: list[str] = strawberry.field(description="Remarks (e.g. `no_targets`).")


@strawberry.type(description="The weekly report of a store or the chain.")
class WeeklyReport:
    week_start: dt.date = strawberry.field(description="The Monday it starts.")
    week_end: dt.date = strawberry.field(description="The Sunday it ends.")
    timezone: str = strawberry.field(description="The timezone its days are counted in.")
    url: str = strawberry.field(description="Signed link to the page (30 days, for you).")
    workbook_url: str = strawberry.field(description="Signed link to every table as XLSX.")
    sections: list[ReportSectionData] = strawberry.field(description="Its sections, in order.")
    store_uid: strawberry.Private[Any]

    @strawberry.field(description="The store; null: the chain report.")
    async def store(self, info: Info) -> Store | None:
        return await loaders.stores(info).load(self.store_uid) if self.store_uid else None


@strawberry.type
class ReportQuery:
    @strawberry.field(
        description="The weekly report (Monday to Sunday, in the store's timezone) of a store, "
        "or of the chain without `storeId` (for callers who see every store); a store "
        "manager's is their store's. `weekStart` defaults to last week's Monday."
    )
    async def weekly_report(
        self,
        info: Info,
        store_id: Annotated[strawberry.ID | None, arg("The store; omitted: the chain.")] = None,
        week_start: Annotated[dt.date | None, arg("The Monday the week starts.")] = None,
        locale: Annotated[str | None, arg("zh-CN or en; default: the tenant's.")] = None,
    ) -> WeeklyReport:
        from core.pages import pick_locale
        from core.reports import last_week, report_link, report_scope, weekly_report

        ctx = context_of(info)
        tenant, actor = ctx.caller()
        store = report_scope(actor, uuid_of(store_id, "Store", "storeId") if store_id else None)
        language = pick_locale(locale or tenant.locale)
        if week_start is None:
            zone = tenant.timezone
            if store is not None:
                from core.lookups import store_facts

                zone = (await store_facts(tenant, [store]))[store].timezone
            week_start = last_week(dt.datetime.now(dt.UTC), zone)
        report = await weekly_report(tenant, actor, store, week_start, runtime=runtime_of(info))
        staff = actor.id if actor.kind == "staff" else None
        link = report_link(tenant, store, week_start, language, staff_id=staff)
        return WeeklyReport(
            week_start=report.week_start,
            week_end=report.week_end,
            timezone=report.timezone,
            url=link.page,
            workbook_url=link.workbook,
            store_uid=store,
            sections=[
                ReportSectionData(
                    key=s.key,
                    module=s.module,
                    title=_text(s.title, language),
                    failed=s.failed,
                    figures=[
                        ReportFigure(
                            key=f.key,
                            label=_text(f.label, language),
                            value=_json(f.value),
                            previous=_json(f.previous),
                            last_year=_json(f.last_year),
                            format=f.format,
                            better=f.better,
                        )
                        for f in s.data.figures
                    ],
                    tables=[
                        ReportTable(
                            key=f"{s.key}.{t.key}",
                            title=_text(t.title, language),
                            columns=[_text(c, language) for c in t.columns],
                            rows=_json([list(r) for r in t.rows]),
                            csv_url=link.table(f"{s.key}.{t.key}"),
                        )
                        for t in s.data.tables
                    ],
                    charts=[
                        ReportChart(
                            key=c.key,
                            title=_text(c.title, language),
                            kind=ReportChartKind(c.kind),
                            labels=list(
                                (c.label_text.get(language) if c.label_text else None) or c.labels
                            ),
                            series=_json(dict(c.series)),
                        )
                        for c in s.data.charts
                    ],
                    notes=list(s.data.notes),
                )
                for s in report.sections
            ],
        )
