"""The unsubscribe page in a real browser: headless Chromium at phone size (zh-CN), the whole
app served by uvicorn. One click withdraws the customer's marketing consent; no JavaScript is
needed (it is switched off); screenshots are kept as artefacts."""

from __future__ import annotations

import datetime as dt

import pytest

from api.testing import screenshot
from tests.plugins.care.helpers import customers

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def care_on(tenant, runtime, enable_plugins):
    """Enabled before the server starts (the server caches each tenant's modules)."""
    await enable_plugins(tenant, "care")


async def test_a_customer_unsubscribes_with_one_click_on_a_phone(
    tenant, owner, care_on, live_server, browser
):
    from core.consent import has_consent
    from plugins.care.pages import unsubscribe_token

    (customer,) = await customers(tenant, owner, 1)
    assert await has_consent(tenant, customer.id, "marketing", "sms")
    token = unsubscribe_token(tenant.slug, customer.id, "sms", dt.datetime.now(dt.UTC))
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", java_script_enabled=False
    )
    page = await context.new_page()
    try:
        await page.goto(f"{live_server.url}/u/{token}")
        assert "退订营销消息" in await page.title()
        assert await page.locator("text=确定不再接收").count() == 1
        await screenshot(page, "care-unsubscribe-ask")
        await page.click("button[type=submit]")
        await page.wait_for_load_state()
        assert await page.locator("text=已退订").count() == 1
        await screenshot(page, "care-unsubscribe-done")
    finally:
        await context.close()
    assert not await has_consent(tenant, customer.id, "marketing", "sms")
