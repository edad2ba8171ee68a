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


@pytest.fixture
async def resolved_for_a_customer(tenant, owner, runtime, enable_plugins):
    """Before the server starts: complaints on (surveys off), a store with its manager and HQ,
    and a phone complaint of a customer, acknowledged; ``resolve()`` resolves it with the
    default follow-up (the message) and answers the link in the message."""
    import re
    from uuid import UUID

    from core.customers import create_customer
    from core.db import fetch, tenant_tx
    from plugins.complaints import workflow
    from plugins.complaints.settings import ComplaintsSettings
    from tests.plugins.complaints.sla_helpers import file_complaint, make_staff, make_store

    await enable_plugins(tenant, "complaints")
    store = await make_store(tenant, owner, "A1", None)
    manager = await make_staff(tenant, owner, "mgr", "store_manager", [store])
    await make_staff(tenant, owner, "hq", "hq_manager", [])
    customer = await create_customer(tenant, owner, {"name": "王女士", "phone": "13912345678"})
    settings = ComplaintsSettings()
    cid = await file_complaint(
        tenant,
        owner,
        settings,
        store,
        dt.datetime.now(dt.UTC) - dt.timedelta(hours=3),
        customer_id=customer.id,
    )
    await workflow.acknowledge(tenant, owner, settings, cid)

    async def resolve() -> str:
        await workflow.resolve(
            tenant,
            owner,
            settings,
            cid,
            resolution_type="exchange",
            resolution="已为您更换新品",
            follow_up=None,
            channels=await runtime.channels(tenant),
        )
        async with tenant_tx(tenant.id, write=False):
            rows = await fetch(
                "SELECT body, customer_id FROM message WHERE tenant_id = {} "
                "AND template_key = 'complaints.follow_up' ORDER BY created_at DESC",
                tenant.id,
            )
        assert UUID(str(rows[0]["customer_id"])) == customer.id
        found = re.search(r"/feedback/status/\S+", rows[0]["body"])
        assert found, rows[0]["body"]
        return found.group(0)

    return {"id": cid, "manager": manager, "resolve": resolve}


TIMELINE = """query($id: ID!) { complaint(id: $id) { state level satisfied
  timeline { action step actor } escalations { stage trigger level } } }"""


async def test_a_customer_answers_the_follow_up_message_on_a_phone_without_javascript(
    api, tenant, make_key, resolved_for_a_customer, live_server, no_js_phone
):
    from core import to_global_id

    case, phone = resolved_for_a_customer, no_js_phone
    key = await make_key(tenant)
    gid = to_global_id("Complaint", case["id"])

    async def seen():
        body = await api.gql(TIMELINE, {"id": gid}, key=key)
        assert "errors" not in body, body
        return body["data"]["complaint"]

    # resolved: the message in the outbox carries the link; the customer opens it
    link = await case["resolve"]()
    opened = await phone.goto(f"{live_server.url}{link}")
    assert opened.status == 200, await phone.content()
    assert "您对处理结果满意吗" in await phone.content()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
    await screenshot(phone, "complaints-follow-up-1-asked")
    await phone.get_by_label("还有什么想告诉我们的（选填）").fill("换的新品还是有问题")
    await phone.get_by_role("button", name="不满意").click()
    await phone.wait_for_selector("text=很抱歉没有让您满意")
    assert await phone.get_by_role("button", name="满意", exact=True).count() == 0
    await screenshot(phone, "complaints-follow-up-2-dissatisfied")
    c = await seen()
    assert (c["state"], c["level"], c["satisfied"]) == ("IN_PROGRESS", 1, False)
    assert c["escalations"] == [{"stage": "follow_up", "trigger": "dissatisfied", "level": 1}]
    assert [(t["action"], t["actor"]) for t in c["timeline"]][-3:] == [
        ("followed_up", "public:status_page"),
        ("reopened", "public:status_page"),
        ("escalated", "public:status_page"),
    ]
    # back to the link (the page is not cached: it is asked again): nothing left to answer
    await phone.go_back()
    await phone.wait_for_load_state()
    assert "正在处理中" in await phone.content()
    assert await phone.get_by_role("button", name="不满意").count() == 0
    assert (await seen())["escalations"] == c["escalations"]

    # resolved again: a new message, a new link; this time satisfied
    link = await case["resolve"]()
    await phone.goto(f"{live_server.url}{link}")
    await phone.get_by_role("button", name="满意", exact=True).click()
    await phone.wait_for_selector("text=感谢您的评价")
    assert "已处理并回访" in await phone.content()
    await screenshot(phone, "complaints-follow-up-3-satisfied")
    c = await seen()
    assert (c["state"], c["satisfied"]) == ("FOLLOWED_UP", True)
    assert [t["step"] for t in c["timeline"]][-2:] == ["FOLLOW_UP", "FOLLOW_UP"]
    assert len(c["escalations"]) == 1
