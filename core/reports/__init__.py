"""The weekly store and chain report (CORE-14): data (:mod:`.weekly`), page and exports
(:mod:`.render`, charts in :mod:`.charts`), links and the Monday e-mail (:mod:`.delivery`).
Plugins contribute sections through ``register_report_sections``."""

from core.reports.delivery import (
    LINK_DAYS,
    ReportLink,
    open_report_link,
    report_link,
    send_weekly_reports,
)
from core.reports.render import (
    format_value,
    render_html,
    report_workbook,
    table_export,
    text_summary,
)
from core.reports.weekly import (
    SectionResult,
    WeeklyReport,
    last_week,
    report_scope,
    week_bounds,
    weekly_report,
)

__all__ = [
    "LINK_DAYS",
    "ReportLink",
    "SectionResult",
    "WeeklyReport",
    "format_value",
    "last_week",
    "open_report_link",
    "render_html",
    "report_link",
    "report_scope",
    "report_workbook",
    "send_weekly_reports",
    "table_export",
    "text_summary",
    "week_bounds",
    "weekly_report",
]
