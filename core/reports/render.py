"""The weekly report as a page (HTML with inline SVG charts and inline styles: it works
offline, saved, and in mail clients) and its tables as CSV/XLSX."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from core.exports import table_file, workbook
from core.pages import Pages
from core.reports.charts import chart_svg
from core.reports.weekly import WeeklyReport
from core.types import ReportFigure, ReportTable

__all__ = ["format_value", "render_html", "report_workbook", "table_export", "text_summary"]

MESSAGES: dict[str, dict[str, str]] = {
    "report_title": {"zh-CN": "{scope} 周报", "en": "{scope} weekly report"},
    "chain": {"zh-CN": "全部门店", "en": "All stores"},
    "week": {"zh-CN": "{start} 至 {end}", "en": "{start} to {end}"},
    "generated": {"zh-CN": "生成于 {at}（{tz}）", "en": "Generated {at} ({tz})"},
    "vs_previous": {"zh-CN": "环比上周", "en": "vs previous week"},
    "vs_last_year": {"zh-CN": "同比去年", "en": "vs a year earlier"},
    "no_targets": {"zh-CN": "本周没有设定目标。", "en": "No targets cover this week."},
    "section_failed": {
        "zh-CN": "此部分暂时无法生成，其余内容不受影响。",
        "en": "This section could not be computed this time; the rest of the report stands.",
    },
    "no_data": {"zh-CN": "本周没有数据。", "en": "No data this week."},
    "downloads": {"zh-CN": "下载", "en": "Download"},
    "all_tables": {"zh-CN": "全部表格（Excel）", "en": "All tables (Excel)"},
    "status_upcoming": {"zh-CN": "未开始", "en": "Not started"},
    "status_on_track": {"zh-CN": "进度正常", "en": "On track"},
    "status_at_risk": {"zh-CN": "有风险", "en": "At risk"},
    "status_met": {"zh-CN": "已达成", "en": "Met"},
    "status_missed": {"zh-CN": "未达成", "en": "Missed"},
}
_pages = Pages("core.reports", messages=MESSAGES)
_SYMBOLS = {"CNY": "¥", "HKD": "HK$", "MOP": "MOP$", "TWD": "NT$", "USD": "$", "EUR": "€"}


def _text(mapping: Mapping[str, str] | str, locale: str) -> str:
    if isinstance(mapping, str):
        return mapping
    return mapping.get(locale) or mapping.get("zh-CN") or next(iter(mapping.values()), "")


def format_value(value: Any, kind: str, *, currency: str, locale: str) -> str:
    """A value as people read it: money with its symbol, shares as percentages."""
    if value is None or value == "":
        return "—"
    if kind == "money":
        symbol = _SYMBOLS.get(currency, currency + " ")
        return f"{symbol}{Decimal(str(value)):,.2f}"
    if kind in ("percent", "change"):
        number = Decimal(str(value)) * 100
        sign = "+" if kind == "change" and number > 0 else ""
        return f"{sign}{number:.1f}%"
    if kind == "score":
        return f"{Decimal(str(value)):.1f}"
    if kind == "status":
        return _pages.t(locale)(f"status_{value}")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (Decimal, float)):
        return f"{Decimal(str(value)).normalize():,f}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _change(figure: ReportFigure, other: Any) -> dict[str, str] | None:
    """The change against ``other``: a relative change, or points for a share."""
    if other is None or figure.value is None:
        return None
    try:
        now, then = Decimal(str(figure.value)), Decimal(str(other))
    except ArithmeticError:
        return None
    if figure.format == "percent":
        delta = (now - then) * 100
        text = f"{'+' if delta > 0 else ''}{delta:.1f} pp"
    elif then == 0:
        return {"text": "—", "tone": "flat"}  # nothing to compare with
    else:
        delta = (now - then) / abs(then) * 100
        text = f"{'+' if delta > 0 else ''}{delta:.1f}%"
    if delta == 0:
        tone = "flat"
    else:
        good = (delta > 0) == (figure.better != "lower")
        tone = "good" if good else "bad"
    return {"text": text, "tone": tone}


def _figure(figure: ReportFigure, currency: str, locale: str) -> dict[str, Any]:
    return {
        "label": _text(figure.label, locale),
        "value": format_value(figure.value, figure.format, currency=currency, locale=locale),
        "previous": _change(figure, figure.previous),
        "last_year": _change(figure, figure.last_year),
    }


def _rows(table: ReportTable, currency: str, locale: str) -> list[list[str]]:
    formats = list(table.formats) or ["text"] * len(table.columns)
    return [
        [
            format_value(
                cell, formats[i] if i < len(formats) else "text", currency=currency, locale=locale
            )
            for i, cell in enumerate(row)
        ]
        for row in table.rows
    ]


def render_html(
    report: WeeklyReport,
    locale: str,
    *,
    table_links: Mapping[str, str] | None = None,
    workbook_link: str | None = None,
) -> str:
    """The page. ``table_links`` maps ``<section>.<table>`` to its CSV download."""
    t = _pages.t(locale)
    currency = report.tenant.currency
    scope = report.store.name if report.store else t("chain")
    sections = []
    for s in report.sections:
        sections.append(
            {
                "key": s.key,
                "title": _text(s.title, locale),
                "failed": s.failed,
                "figures": [_figure(f, currency, locale) for f in s.data.figures],
                # pygal builds the SVG with ElementTree, which escapes every label and value:
                # the markup is safe to embed as is (and holds no script: see charts.py).
                "charts": [
                    {"title": _text(c.title, locale), "svg": Markup(chart_svg(c, locale))}  # noqa: S704
                    for c in s.data.charts
                ],
                "tables": [
                    {
                        "key": f"{s.key}.{tb.key}",
                        "title": _text(tb.title, locale),
                        "columns": [_text(c, locale) for c in tb.columns],
                        "rows": _rows(tb, currency, locale),
                        "link": (table_links or {}).get(f"{s.key}.{tb.key}"),
                    }
                    for tb in s.data.tables
                ],
                "notes": [t(n) if n in MESSAGES else n for n in s.data.notes],
            }
        )
    return _pages.render(
        "weekly_report.html",
        locale=locale,
        title=t("report_title", scope=f"{report.tenant.name} · {scope}"),
        week=t("week", start=report.week_start.isoformat(), end=report.week_end.isoformat()),
        generated=t(
            "generated",
            at=report.generated_at.astimezone(_zone(report.timezone)).strftime("%Y-%m-%d %H:%M"),
            tz=report.timezone,
        ),
        sections=sections,
        workbook_link=workbook_link,
    )


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _sheet(
    report: WeeklyReport, key: str, table: ReportTable, locale: str
) -> tuple[str, list[str], list[Sequence[Any]]]:
    header = [_text(c, locale) for c in table.columns]
    return _text(table.title, locale), header, [list(r) for r in table.rows]


def table_export(report: WeeklyReport, key: str, fmt: str, locale: str) -> bytes | None:
    """One table (``<section>.<table>``) as CSV or XLSX; None if the report has no such table.
    Values are raw (numbers stay numbers), headers in ``locale``."""
    table = report.table(key)
    if table is None:
        return None
    title, header, rows = _sheet(report, key, table, locale)
    return table_file(header, rows, fmt, title=title)


def report_workbook(report: WeeklyReport, locale: str) -> bytes:
    """Every table of the report, one sheet each."""
    return workbook(
        _sheet(report, f"{s.key}.{tb.key}", tb, locale)
        for s in report.sections
        for tb in s.data.tables
    )


def text_summary(report: WeeklyReport, locale: str) -> str:
    """The key figures as plain text (the e-mail's body, above the link)."""
    lines = []
    for s in report.sections:
        figures = [_figure(f, report.tenant.currency, locale) for f in s.data.figures]
        if not figures:
            continue
        lines.append(
            f"【{_text(s.title, locale)}】" if locale == "zh-CN" else f"[{_text(s.title, locale)}]"
        )
        for f in figures:
            change = f" ({f['previous']['text']})" if f["previous"] else ""
            lines.append(f"  {f['label']}: {f['value']}{change}")
    return "\n".join(lines)
