"""The weekly report's page and downloads, opened from a signed link (e-mail, GraphQL's
``weeklyReport.url``): ``GET /reports/weekly/{token}`` (HTML with inline SVG charts),
``…/tables.xlsx`` (every table) and ``…/tables/{section.table}.csv|.xlsx``.

The link is the credential (see :mod:`core.reports.delivery`); a bad, expired or revoked one is
a 404 page. Pages are computed when opened (live figures), throttled per link, never cached,
sent with a script-free Content-Security-Policy."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request, Response, Router, get

from core.errors import NotFound
from core.exports import EXPORT_TYPES
from core.pages import PAGE_HEADERS, Pages, pick_locale
from core.throttle import RateLimited, throttle

__all__ = ["reports_router"]

OPENS_PER_MINUTE = "30/minute"
# The report holds no script and loads nothing: styles and SVG are inline.
HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}
_pages = Pages()


def _error(request: Request[Any, Any, Any], key: str, status: int, **headers: str) -> Response[str]:
    locale = pick_locale(request.headers.get("accept-language"))
    return Response(
        _pages.error(key, locale=locale),
        status_code=status,
        media_type="text/html; charset=utf-8",
        headers={**HEADERS, **headers},
    )


async def _open(request: Request[Any, Any, Any], token: str) -> Any:
    from core.reports import open_report_link

    await throttle("reports:" + hashlib.sha256(token.encode()).hexdigest()[:32], OPENS_PER_MINUTE)
    return await open_report_link(token, runtime=request.app.state["runtime"])


async def _guarded(request: Request[Any, Any, Any], token: str, build: Any) -> Response[Any]:
    try:
        report, locale = await _open(request, token)
    except NotFound:
        return _error(request, "not_found", 404)
    except RateLimited as exc:
        return _error(request, "too_many", 429, **{"Retry-After": str(exc.retry_after)})
    return build(report, locale)


@get("/weekly/{token:str}", name="report-page", include_in_schema=False)
async def report_page(request: Request[Any, Any, Any], token: str) -> Response[Any]:
    from core.reports import ReportLink, render_html

    def build(report: Any, locale: str) -> Response[str]:
        link = ReportLink(token, str(request.base_url))
        tables = {
            f"{s.key}.{t.key}": link.table(f"{s.key}.{t.key}")
            for s in report.sections
            for t in s.data.tables
        }
        html = render_html(report, locale, table_links=tables, workbook_link=link.workbook)
        return Response(html, media_type="text/html; charset=utf-8", headers=HEADERS)

    return await _guarded(request, token, build)


def _download(content: bytes, fmt: str, name: str) -> Response[bytes]:
    return Response(
        content,
        media_type=EXPORT_TYPES[fmt],
        headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@get("/weekly/{token:str}/tables.xlsx", name="report-workbook", include_in_schema=False)
async def report_workbook_file(request: Request[Any, Any, Any], token: str) -> Response[Any]:
    from core.reports import report_workbook

    def build(report: Any, locale: str) -> Response[bytes]:
        scope = report.store.code if report.store else "chain"
        return _download(
            report_workbook(report, locale), "xlsx", f"report-{scope}-{report.week_start}"
        )

    return await _guarded(request, token, build)


@get("/weekly/{token:str}/tables/{name:str}", name="report-table", include_in_schema=False)
async def report_table_file(
    request: Request[Any, Any, Any], token: str, name: str
) -> Response[Any]:
    from core.reports import table_export

    key, _, fmt = name.rpartition(".")
    if fmt not in EXPORT_TYPES or not key:
        return _error(request, "not_found", 404)

    def build(report: Any, locale: str) -> Response[Any]:
        content = table_export(report, key, fmt, locale)
        if content is None:
            return _error(request, "not_found", 404)
        return _download(content, fmt, f"{key}-{report.week_start}")

    return await _guarded(request, token, build)


reports_router = Router(
    path="/reports",
    route_handlers=[report_page, report_workbook_file, report_table_file],
)
