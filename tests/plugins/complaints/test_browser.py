"""The public form in a real browser with JavaScript off: headless Chromium at phone size
(390 x 844, zh-CN), the whole app served by uvicorn. A customer fills the form in Chinese, a
wrong phone brings it back with everything kept, the corrected form shows the tracking token,
and its link opens the status page; screenshots of each step are kept as artefacts."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.testing import screenshot

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def form_on(tenant, owner, runtime, enable_plugins):
    """Enabled before the server starts: without Redis, the server process caches each
    tenant's modules and learns of no change made in this one."""
    from tenants.service import create_store

    await enable_plugins(tenant, "complaints")
    return (await create_store(tenant, owner, {"code": "A1", "name": "徐家汇店"}))["id"]


@pytest.fixture
async def no_js_phone(browser: Any) -> AsyncIterator[Any]:
    """A phone-sized page with JavaScript disabled (the form must not need it)."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        device_scale_factor=2,
        java_script_enabled=False,
    )
    page = await context.new_page()
    yield page
    await context.close()


async def _rows(tenant):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        return await fetch(
            "SELECT channel, kind, category, spot, summary, store_id FROM complaints_complaint "
            "WHERE tenant_id = {}",
            tenant.id,
        )


async def test_a_customer_files_a_complaint_on_a_phone_without_javascript(
    tenant, form_on, live_server, no_js_phone
):
    phone = no_js_phone
    opened = await phone.goto(f"{live_server.url}/feedback/{tenant.slug}/A1")
    assert opened.status == 200, (opened.status, await phone.content())
    assert await phone.title() == "意见与投诉 · 徐家汇店"
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways
    await screenshot(phone, "complaints-form-1-empty")

    when = (dt.datetime.now(ZoneInfo("Asia/Shanghai")) - dt.timedelta(hours=3)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    await phone.get_by_label("投诉", exact=True).check()
    await phone.get_by_label("您的称呼").fill("张阿姨")
    await phone.get_by_label("手机号码").fill("1391234")  # one digit short of a number
    await phone.get_by_label("发生了什么").fill("收银台排队二十分钟，只开了一个收银台。")
    await phone.get_by_label("发生时间").fill(when)
    await phone.get_by_label("店内位置（选填）").fill("收银台")
    await phone.get_by_label("问题类别（选填）").select_option("service.cashier.long_wait")
    await phone.get_by_role("button", name="提交").click()
    await phone.wait_for_load_state()

    # the server's answer: the message next to the phone, everything typed still there
    assert "请输入有效的手机号码" in await phone.content()
    assert await phone.get_by_label("您的称呼").input_value() == "张阿姨"
    assert await phone.get_by_label("手机号码").input_value() == "1391234"
    assert (
        await phone.get_by_label("发生了什么").input_value()
        == "收银台排队二十分钟，只开了一个收银台。"
    )
    assert await phone.get_by_label("发生时间").input_value() == when
    assert await phone.get_by_label("店内位置（选填）").input_value() == "收银台"
    assert await phone.get_by_label("问题类别（选填）").input_value() == "service.cashier.long_wait"
    assert await phone.get_by_label("投诉", exact=True).is_checked()
    await screenshot(phone, "complaints-form-2-mistake")
    assert await _rows(tenant) == []

    await phone.get_by_label("手机号码").fill("13912345678")
    await phone.get_by_role("button", name="提交").click()
    await phone.wait_for_selector("text=感谢您的反馈")
    token = (await phone.locator("#token").inner_text()).strip()
    assert token.startswith(f"{tenant.slug}.")
    box = await phone.locator("#token").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390  # the long token wraps
    await screenshot(phone, "complaints-form-3-token")
    (row,) = await _rows(tenant)
    assert (row["channel"], row["kind"], row["category"], row["spot"]) == (
        "online_form",
        "complaint",
        "service.cashier.long_wait",
        "收银台",
    )
    assert str(row["store_id"]) == str(form_on)

    await phone.get_by_role("link", name="查看处理进度").click()
    await phone.wait_for_load_state()
    assert phone.url.startswith(f"{live_server.url}/feedback/status/{token}")
    content = await phone.content()
    assert "处理进度" in content and "已收到，我们会尽快受理" in content and "徐家汇店" in content
    assert "13912345678" not in content and "张阿姨" not in content
    await screenshot(phone, "complaints-status")
