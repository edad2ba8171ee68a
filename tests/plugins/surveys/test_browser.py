"""The survey page in a real browser: headless Chromium at phone size (390 x 844, zh-CN), the
whole app served by uvicorn. A detractor answers, the conditional question appears, the
response is stored as answered; screenshots of each step are kept as artefacts."""

from __future__ import annotations

import pytest

from api.testing import screenshot
from tests.plugins.surveys.helpers import mint_invitation, response_rows

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def surveys_on(tenant, runtime, enable_plugins):
    """Enabled before the server starts: without Redis, the server process caches each
    tenant's modules and learns of no change made in this one."""
    await enable_plugins(tenant, "surveys")


async def test_a_customer_answers_on_a_phone_including_the_conditional_question(
    tenant, owner, surveys_on, live_server, phone
):
    from core.customers import create_customer
    from plugins.surveys.catalog import create_survey, publish_survey
    from tests.plugins.surveys.helpers import nps_questions

    questions = []
    for q in nps_questions():
        item = {
            "key": q["key"],
            "type": q["type"].lower(),
            "required": q.get("required", False),
            "text": {t["locale"]: t["text"] for t in q["text"]},
        }
        if "options" in q:
            item["options"] = [
                {"code": o["code"], "text": {t["locale"]: t["text"] for t in o["text"]}}
                for o in q["options"]
            ]
        if "showIf" in q:
            item["show_if"] = {
                "connector": "and",
                "conditions": [{"question": "nps", "operator": "lte", "values": ["6"]}],
            }
        questions.append(item)
    survey = await create_survey(
        tenant,
        owner,
        {
            "name": "门店满意度",
            "kind": "nps",
            "definition": {
                "locales": ["zh-CN", "en"],
                "title": {"zh-CN": "满意度调查", "en": "Satisfaction survey"},
                "questions": questions,
            },
        },
    )
    await publish_survey(tenant, owner, survey)
    customer = await create_customer(tenant, owner, {"name": "王芳"})
    token = await mint_invitation(tenant, survey, customer.id)

    opened = await phone.goto(f"{live_server.url}/s/{token}")
    assert opened.status == 200, (opened.status, await phone.content())
    assert await phone.title() == "满意度调查"
    assert await phone.locator("input[name='q.why']").count() == 0
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    await screenshot(phone, "surveys-page-1-nps")
    await phone.get_by_label("3", exact=True).check()
    await phone.get_by_role("button", name="下一步").click()

    await phone.wait_for_load_state()
    assert await phone.locator("input[name='q.why']").count() == 3, await phone.content()
    await phone.get_by_label("排队太久").check()
    await phone.get_by_label("服务态度").check()
    await phone.locator("#q-csat").get_by_label("2", exact=True).check()
    await phone.locator("textarea[name='q.comment']").fill("结账排队二十分钟")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot = await screenshot(phone, "surveys-page-2-conditional")
    assert int.from_bytes(shot.read_bytes()[16:20], "big") == 390 * 2  # phone width, 2x pixels
    await phone.get_by_role("button", name="提交").click()
    await phone.wait_for_selector("text=感谢您的反馈")
    await screenshot(phone, "surveys-page-3-thanks")
    assert phone.console_errors == []

    (row,) = await response_rows(tenant)
    assert (row["nps"], row["nps_category"], row["csat"], row["channel"]) == (
        3,
        "detractor",
        2,
        "link",
    )
    assert str(row["customer_id"]) == str(customer.id)
    from tests.plugins.surveys.helpers import answer_rows

    assert sorted(a["choice"] for a in await answer_rows(tenant) if a["question_key"] == "why") == [
        "staff",
        "wait",
    ]
    await phone.goto(f"{live_server.url}/s/{token}")
    assert "您已经完成了这份问卷" in await phone.content()
