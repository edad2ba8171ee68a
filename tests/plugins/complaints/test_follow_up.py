"""The follow-up by message (surveys off): resolving a complaint of a customer queues the
transactional ``complaints.follow_up`` message with a status link issued for that resolution;
the status page asks 满意 / 不满意 by a plain form post, applied once per resolution through the
same workflow step as ``complaintFollowUp`` (dissatisfied reopens and escalates one level, a
second time to HQ). Without a customer there is no message (a call, or ``no_customer``); with
surveys enabled the default is the survey. Cross-site posts and floods are refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest

from core import to_global_id
from tests.plugins.complaints.sla_helpers import file_complaint, make_staff, make_store

pytestmark = pytest.mark.usefixtures("db")

RESOLVE = """mutation($i: ComplaintResolveInput!) { complaintResolve(input: $i) {
  complaint { state followUp level timeline { action step actor } }
  errors { field code message } } }"""
LINK = re.compile(r"/feedback/status/([a-z0-9-]+\.[A-Za-z0-9_-]{43})")


async def _shop(
    tenant, owner, *, customer=True, plugins=("complaints",), enable_plugins=None, code="A1"
):
    """A store with its manager and an HQ manager; an acknowledged phone complaint of a
    customer with a phone (or of nobody yet)."""
    from core.customers import create_customer
    from plugins.complaints import workflow
    from plugins.complaints.settings import ComplaintsSettings

    await enable_plugins(tenant, *plugins)
    store = await make_store(tenant, owner, code, None)
    manager = await make_staff(tenant, owner, f"mgr-{code}", "store_manager", [store])
    hq = await make_staff(tenant, owner, f"hq-{code}", "hq_manager", [])
    who = None
    if customer:
        phone = f"139123456{len(code) + ord(code[-1]) % 10:02d}"
        who = (await create_customer(tenant, owner, {"name": "王女士", "phone": phone})).id
    settings = ComplaintsSettings()
    cid = await file_complaint(
        tenant,
        owner,
        settings,
        store,
        dt.datetime.now(dt.UTC) - dt.timedelta(hours=2),
        customer_id=who,
    )
    await workflow.acknowledge(tenant, owner, settings, cid)
    return {"store": store, "manager": manager, "hq": hq, "customer": who, "id": cid}


async def _resolve(api, key, cid, **extra):
    body = await api.gql(
        RESOLVE,
        {
            "i": {
                "id": to_global_id("Complaint", cid),
                "resolutionType": "EXPLANATION",
                "resolution": "已向您解释并致歉",
                **extra,
            }
        },
        key=key,
    )
    assert "errors" not in body, body
    return body["data"]["complaintResolve"]


async def _messages(tenant):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        return await fetch(
            "SELECT customer_id, staff_id, template_key, transactional, status, body, "
            "idempotency_key FROM message WHERE tenant_id = {} AND source = 'complaints' "
            "AND template_key = 'complaints.follow_up' ORDER BY created_at",
            tenant.id,
        )


async def _row(tenant, cid):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT state, level, cycle, satisfied, dissatisfied_count, follow_up, token_hash, "
            "follow_up_token_hash FROM complaints_complaint WHERE tenant_id = {} AND id = {}",
            tenant.id,
            cid,
        )
        escalations = await fetch(
            "SELECT stage, trigger, level FROM complaints_escalation WHERE tenant_id = {} "
            "AND complaint_id = {} ORDER BY at",
            tenant.id,
            cid,
        )
        actions = await fetch(
            "SELECT action, actor FROM complaints_action WHERE tenant_id = {} "
            "AND complaint_id = {} ORDER BY at, id",
            tenant.id,
            cid,
        )
    return rows[0], [tuple(e.values()) for e in escalations], [a["action"] for a in actions]


def _link(message) -> str:
    found = LINK.search(message["body"])
    assert found, message["body"]
    return found.group(1)


async def test_resolving_without_surveys_messages_the_customer_a_status_link(
    api, tenant, owner, make_key, enable_plugins
):
    shop = await _shop(tenant, owner, enable_plugins=enable_plugins)
    done = await _resolve(api, await make_key(tenant), shop["id"])
    assert done["errors"] == []
    assert (done["complaint"]["state"], done["complaint"]["followUp"]) == ("RESOLVED", "MESSAGE")
    assert [(t["action"], t["step"]) for t in done["complaint"]["timeline"]][-2:] == [
        ("resolved", "RESOLVE"),
        ("follow_up_asked", "FOLLOW_UP"),
    ]
    (message,) = await _messages(tenant)
    assert str(message["customer_id"]) == str(shop["customer"]) and message["staff_id"] is None
    assert message["transactional"] and message["status"] == "queued"
    assert message["idempotency_key"] == f"complaints:follow_up:{shop['id']}:0"
    token = _link(message)
    assert token.startswith(f"{tenant.slug}.")
    assert "您对处理结果满意吗" in message["body"]
    row, _esc, _actions = await _row(tenant, shop["id"])
    # the phone complaint's own token was never given out: this resolution's link is new
    assert row["follow_up_token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert row["token_hash"] != row["follow_up_token_hash"]

    page = await api.http.get(f"/feedback/status/{token}")
    assert page.status_code == 200
    assert "已处理完毕" in page.text and "您对处理结果满意吗" in page.text
    assert 'name="answer" value="satisfied">满意<' in page.text
    assert 'name="answer" value="dissatisfied">不满意<' in page.text
    assert 'name="cycle" value="0"' in page.text and "<script" not in page.text


async def test_the_answer_on_the_status_page_is_applied_once_per_resolution(
    api, tenant, owner, make_key, enable_plugins
):
    shop = await _shop(tenant, owner, enable_plugins=enable_plugins)
    key = await make_key(tenant)
    await _resolve(api, key, shop["id"])
    token = _link((await _messages(tenant))[0])
    url = f"/feedback/status/{token}"
    answer = {"_lang": "zh-CN", "cycle": "0", "answer": "dissatisfied", "comment": "还是不满意"}

    # refused before anything: cross-site, no choice, a made-up token
    refused = await api.http.post(url, data=answer, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    unchosen = await api.http.post(url, data={**answer, "answer": ""})
    assert unchosen.status_code == 422 and "请选择满意或不满意" in unchosen.text
    missing = await api.http.post(f"/feedback/status/{tenant.slug}.{'x' * 43}", data=answer)
    assert missing.status_code == 404
    row, escalations, _ = await _row(tenant, shop["id"])
    assert (row["state"], escalations) == ("resolved", [])

    first = await api.http.post(url, data=answer)
    assert first.status_code == 200 and "很抱歉没有让您满意" in first.text
    assert "正在处理中" in first.text and 'name="answer"' not in first.text
    row, escalations, actions = await _row(tenant, shop["id"])
    assert (row["state"], row["level"], row["cycle"], row["satisfied"]) == (
        "in_progress",
        1,
        1,
        False,
    )
    assert escalations == [("follow_up", "dissatisfied", 1)]
    assert actions[-3:] == ["followed_up", "reopened", "escalated"]

    again = await api.http.post(url, data=answer)  # a refresh, a double tap
    assert again.status_code == 409 and "您已经对这次处理作出了评价" in again.text
    assert (await _row(tenant, shop["id"]))[1] == escalations  # nothing applied twice

    # resolved again: a second message with a new link; dissatisfied again goes to HQ
    await _resolve(api, key, shop["id"])
    second = _link((await _messages(tenant))[1])
    assert second != token
    assert (await api.http.get(url)).status_code == 404  # the link of an answered resolution
    stale = await api.http.post(f"/feedback/status/{second}", data=answer)  # cycle 0's form
    assert stale.status_code == 409
    twice = await api.http.post(f"/feedback/status/{second}", data={**answer, "cycle": "1"})
    assert twice.status_code == 200
    row, escalations, _ = await _row(tenant, shop["id"])
    assert (row["level"], row["dissatisfied_count"]) == (2, 2)
    assert escalations[-1] == ("follow_up", "dissatisfied", 2)

    # the third resolution: satisfied follows it up
    await _resolve(api, key, shop["id"])
    third = _link((await _messages(tenant))[2])
    happy = await api.http.post(
        f"/feedback/status/{third}", data={"cycle": "2", "answer": "satisfied"}
    )
    assert happy.status_code == 200 and "感谢您的评价" in happy.text
    assert "已处理并回访" in happy.text
    row, _esc, actions = await _row(tenant, shop["id"])
    assert (row["state"], row["satisfied"]) == ("followed_up", True)
    assert actions[-1] == "followed_up"
    late = await api.http.post(
        f"/feedback/status/{third}", data={"cycle": "2", "answer": "dissatisfied"}
    )
    assert late.status_code == 409
    assert (await _row(tenant, shop["id"]))[0]["state"] == "followed_up"


async def test_answers_are_rate_limited(api, tenant, owner, make_key, enable_plugins):
    shop = await _shop(tenant, owner, enable_plugins=enable_plugins)
    await enable_plugins(tenant, "complaints", settings={"answer_rate": "1/hour"})
    await _resolve(api, await make_key(tenant), shop["id"])
    url = f"/feedback/status/{_link((await _messages(tenant))[0])}"
    first = await api.http.post(url, data={"cycle": "9", "answer": "satisfied"})  # a stale form
    assert first.status_code == 409
    flood = await api.http.post(url, data={"cycle": "0", "answer": "satisfied"})
    assert flood.status_code == 429 and int(flood.headers["retry-after"]) >= 1
    assert (await _row(tenant, shop["id"]))[0]["state"] == "resolved"


async def test_no_message_without_a_customer_and_the_survey_when_surveys_is_on(
    api, tenant, other_tenant, owner, make_key, enable_plugins
):
    shop = await _shop(tenant, owner, customer=False, enable_plugins=enable_plugins)
    key = await make_key(tenant)
    refused = await _resolve(api, key, shop["id"], followUp="MESSAGE")
    assert refused["complaint"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("followUp", "no_customer")]
    row, _esc, actions = await _row(tenant, shop["id"])
    assert (row["state"], row["follow_up_token_hash"]) == ("acknowledged", "")
    assert "resolved" not in actions
    called = await _resolve(api, key, shop["id"])  # the default: a staff call
    assert called["complaint"]["followUp"] == "CALL"
    assert await _messages(tenant) == []

    theirs = await _shop(
        other_tenant, owner, plugins=("complaints", "surveys"), enable_plugins=enable_plugins
    )
    surveyed = await _resolve(api, await make_key(other_tenant), theirs["id"])
    assert surveyed["complaint"]["followUp"] == "SURVEY"
    assert await _messages(other_tenant) == []
    # asked for a message all the same: the customer gets it
    again = await _shop(
        other_tenant,
        owner,
        plugins=("complaints", "surveys"),
        enable_plugins=enable_plugins,
        code="A2",
    )
    asked = await _resolve(api, await make_key(other_tenant), again["id"], followUp="MESSAGE")
    assert asked["complaint"]["followUp"] == "MESSAGE"
    assert len(await _messages(other_tenant)) == 1
