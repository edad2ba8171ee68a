"""The weekly report in a real browser (headless Chromium): charts render as SVG, nothing is
fetched from elsewhere, no console errors; screenshots are kept as test artefacts."""

from __future__ import annotations

import datetime as dt

from api.testing import screenshot
from core.reports import report_link
from tests.core.reports.helpers import local, member, new_store, sell


async def open_offline(page, server, url):
    outside: list[str] = []

    async def offline(route):
        if route.request.url.startswith(server.url):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await page.context.route("**/*", offline)
    response = await page.goto(url)
    return response, outside


async def test_the_store_report_renders_its_charts_offline(
    request, phone, tenant, owner, enable_plugins, runtime
):
    one = await new_store(tenant, owner, "S1")
    li = await member(tenant, owner, "li", stores=[one])
    await enable_plugins(tenant, "loyalty")
    # The server starts after the module is enabled (without Redis a running server would
    # learn of it only when its cache expires).
    live_server = request.getfixturevalue("live_server")
    for day, amount in ((2, "120.00"), (3, "88.00"), (7, "230.00"), (8, "64.50")):
        await sell(tenant, owner, one, local(2026, 3, day), amount, staff=li)
    await sell(tenant, owner, one, local(2026, 2, 25), "99.00", staff=li)
    link = report_link(tenant, one, dt.date(2026, 3, 2), "zh-CN", base=live_server.url)
    response, outside = await open_offline(phone, live_server, link.page)
    assert response.status == 200
    await phone.wait_for_selector("section[data-section='core.sales'] svg")
    charts = await phone.locator("figure.chart svg").count()
    assert charts == 3  # sales trend, sales per day, loyalty trend (no member: no tier chart)
    assert await phone.locator("svg .line").count() >= 2  # pygal drew the trend lines
    assert await phone.locator("table[data-table='core.sales.staff'] tbody tr").count() == 1
    assert "净销售额" in await phone.inner_text("section[data-section='core.sales']")
    await screenshot(phone, "weekly-report-store-zh")
    assert outside == []
    assert [e for e in phone.console_errors if "favicon" not in e] == []


async def test_the_chain_report_in_english_on_a_desktop(live_server, phone, tenant, owner):
    for code in ("SH01", "BJ01"):
        store = await new_store(tenant, owner, code)
        await sell(
            tenant, owner, store, local(2026, 3, 4), "300.00" if code == "SH01" else "150.00"
        )
    link = report_link(tenant, None, dt.date(2026, 3, 2), "en", base=live_server.url)
    await phone.set_viewport_size({"width": 1280, "height": 900})
    response, outside = await open_offline(phone, live_server, link.page)
    assert response.status == 200
    rows = phone.locator("table[data-table='core.sales.stores'] tbody tr")
    assert await rows.count() == 2
    assert (await rows.nth(0).inner_text()).startswith("SH01")
    assert await phone.locator("figure.chart svg").count() == 2
    await screenshot(phone, "weekly-report-chain-en")
    assert outside == [] and [e for e in phone.console_errors if "favicon" not in e] == []
    bad = await phone.goto(link.page + "x")
    assert bad.status == 404
