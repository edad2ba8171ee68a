"""``mendian bench reports``: how long the weekly report takes on the demo chain — the data
(every section, modules included), the page (charts drawn) and the workbook — for one store
and for the chain. Run ``mendian demo --reset`` first."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from core.context import Actor
from core.plugins import current_runtime
from core.reports import last_week, render_html, report_workbook, weekly_report
from tenants.service import get_tenant

__all__ = ["bench_reports"]


async def bench_reports(say: Callable[[str], None], *, slug: str = "demo", runs: int = 10) -> None:
    tenant = await get_tenant(slug)
    runtime = current_runtime()
    actor = Actor.system("bench")
    week = last_week(dt.datetime.now(dt.UTC), tenant.timezone)
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT id, code FROM store WHERE tenant_id = {} ORDER BY code", tenant.id
        )
    store = rows[0]["id"]
    say(f"tenant {slug}, week of {week}, {runs} runs each (median / max)")

    async def timed(label: str, make: Callable[[], Awaitable[Any]]) -> Any:
        times, result = [], None
        for _ in range(runs):
            started = time.perf_counter()
            result = await make()
            times.append((time.perf_counter() - started) * 1000)
        say(f"  {label:<44} {statistics.median(times):8.1f} ms {max(times):8.1f} ms")
        return result

    for scope, store_id in ((f"store {rows[0]['code']}", store), ("chain", None)):

        async def data(s: Any = store_id) -> Any:
            return await weekly_report(tenant, actor, s, week, runtime=runtime)

        report = await timed(f"{scope}: data (all sections)", data)

        async def page(r: Any = report) -> str:
            return render_html(r, "zh-CN")

        async def book(r: Any = report) -> bytes:
            return report_workbook(r, "zh-CN")

        html = await timed(f"{scope}: page (HTML, inline SVG charts)", page)
        await timed(f"{scope}: workbook (XLSX)", book)
        sections = ", ".join(s.key for s in report.sections)
        say(f"    {len(html) // 1024} KiB, {html.count('<svg')} charts; sections: {sections}")
