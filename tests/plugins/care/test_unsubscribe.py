"""CORE-9: every campaign message carries an unsubscribe link; the page asks for one click
(a GET changes nothing), the POST (also RFC 8058's one-click) withdraws marketing consent on
that channel, and the next campaign suppresses the customer for ``no_consent``."""

from __future__ import annotations

import re

import pytest

from tests.plugins.care.helpers import (
    RUN_NOW,
    customers,
    everyone_segment,
    gql_ok,
    one_off,
    outbox,
    targets,
)

pytestmark = pytest.mark.usefixtures("db")

LINK = re.compile(r"/u/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")


async def test_the_unsubscribe_link_withdraws_marketing_consent_for_later_sends(
    api, tenant, owner, make_key, enable_plugins
):
    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    people = await customers(tenant, owner, 3)
    segment = await everyone_segment(tenant, owner)
    first = await one_off(api, key, segment)
    await gql_ok(api, RUN_NOW, {"i": {"id": first}}, key)
    messages = await outbox(tenant)
    assert len(messages) == 3 and all("退订：/u/" in m["body"] for m in messages)
    leaving = messages[0]
    token = LINK.search(leaving["body"]).group(1)

    page = await api.http.get(f"/u/{token}")
    assert page.status_code == 200 and "确认退订" in page.text and "<script" not in page.text
    assert 'method="post"' in page.text
    assert (await api.http.get(f"/u/{token[:-3]}xyz")).status_code == 404
    assert (await api.http.get(f"/u/{token}?lang=en")).text.count("Unsubscribe") >= 1

    done = await api.http.post(
        f"/u/{token}",
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "已退订" in done.text

    second = await one_off(api, key, segment)
    await gql_ok(api, RUN_NOW, {"i": {"id": second}}, key)
    rows = [r for r in await targets(tenant) if r["occurrence"] == "once"]
    stopped = [r for r in rows if str(r["customer_id"]) == str(leaving["customer_id"])]
    assert sorted(r["status"] for r in stopped) == ["queued", "suppressed"]
    assert {r["reason"] for r in stopped if r["status"] == "suppressed"} == {"no_consent"}
    assert len(people) == 3


async def test_a_reply_of_tuiding_is_logged_withdraws_consent_and_is_confirmed(
    api, tenant, owner, make_key, enable_plugins
):
    import msgspec

    from core.db import fetch, json_text, platform_tx, tenant_tx
    from core.messaging.channels import sign_body
    from core.tables import Tenant
    from tenants.service import forget_tenant

    policy = {"quiet_start": "00:00", "quiet_end": "00:00", "webhook_secret": "whsec-care"}
    async with platform_tx():
        await Tenant.update({Tenant.settings: json_text({"messaging": policy})}).where(
            Tenant.id == tenant.id
        )
    forget_tenant(tenant.id)
    forget_tenant(tenant.slug)
    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    await customers(tenant, owner, 2)
    segment = await everyone_segment(tenant, owner)
    await gql_ok(api, RUN_NOW, {"i": {"id": await one_off(api, key, segment)}}, key)
    async with tenant_tx(tenant.id, write=False):
        sent = await fetch(
            "SELECT id, customer_id FROM message WHERE tenant_id = {} AND source = 'care'",
            tenant.id,
        )
    replier = sent[0]

    def post(text, secret="whsec-care"):
        body = msgspec.json.encode({"message_id": str(replier["id"]), "text": text})
        return api.http.post(
            f"/u/replies/{tenant.slug}/webhook",
            content=body,
            headers={"X-Mendian-Signature": sign_body(secret, body)},
        )

    assert (await post("退订", secret="wrong")).status_code == 403
    chat = await post("谢谢，月饼很好吃")
    assert chat.status_code == 200 and chat.json() == {"outcome": "recorded"}
    done = await post(" 退订 ")
    assert done.json() == {"outcome": "opted_out"}
    async with tenant_tx(tenant.id, write=False):
        logged = await fetch(
            "SELECT content FROM interaction WHERE tenant_id = {} AND customer_id = {}",
            tenant.id,
            replier["customer_id"],
        )
        confirmation = await fetch(
            "SELECT transactional, body FROM message WHERE tenant_id = {} "
            "AND idempotency_key LIKE 'optout:%'",
            tenant.id,
        )
    assert sorted(r["content"] for r in logged) == ["回复： 退订 ", "回复：谢谢，月饼很好吃"]
    assert len(confirmation) == 1 and "已退订" in confirmation[0]["body"]

    await gql_ok(api, RUN_NOW, {"i": {"id": await one_off(api, key, segment)}}, key)
    later = [
        r
        for r in await targets(tenant)
        if str(r["customer_id"]) == str(replier["customer_id"]) and r["status"] != "queued"
    ]
    assert [(r["status"], r["reason"]) for r in later] == [("suppressed", "no_consent")]


async def test_a_campaign_email_carries_one_click_list_unsubscribe_which_withdraws_consent(
    api, tenant, owner, make_key, enable_plugins, monkeypatch, unused_tcp_port
):
    """RFC 8058: the e-mail received by the SMTP server has ``List-Unsubscribe: <https://…/u/
    <token>>`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``; the mail client's
    POST to that URL withdraws e-mail marketing consent: the next campaign suppresses her."""
    from email import message_from_string

    from aiosmtpd.controller import Controller

    from core.consent import set_consent
    from core.customers import create_customer
    from core.messaging import send_due
    from core.plugins import get_runtime

    received: list[str] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content.decode())
            return "250 OK"

    await enable_plugins(
        tenant, "care", settings={"channel": "email", "public_url": "https://crm.example.com"}
    )
    key = await make_key(tenant)
    c = await create_customer(tenant, owner, {"name": "Li", "email": "li@example.com"})
    await set_consent(
        tenant,
        owner,
        {"customer_id": str(c.id), "purpose": "marketing", "channel": "email", "granted": True},
    )
    segment = await everyone_segment(tenant, owner)
    await gql_ok(api, RUN_NOW, {"i": {"id": await one_off(api, key, segment)}}, key)
    controller = Controller(Handler(), hostname="127.0.0.1", port=unused_tcp_port)
    controller.start()
    try:
        monkeypatch.setenv("MENDIAN_SMTP_URL", f"smtp://127.0.0.1:{unused_tcp_port}")
        stats = await send_due(tenant, await get_runtime().channels(tenant))
    finally:
        controller.stop()
    assert stats.sent == 1 and len(received) == 1
    mail = message_from_string(received[0])
    assert mail["To"] == "li@example.com"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    found = re.fullmatch(
        r"<https://crm\.example\.com/u/([A-Za-z0-9_.-]+)>", mail["List-Unsubscribe"]
    )
    assert found is not None
    assert f"https://crm.example.com/u/{found.group(1)}" in mail.get_payload(decode=True).decode()

    done = await api.http.post(
        f"/u/{found.group(1)}",
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200

    await gql_ok(api, RUN_NOW, {"i": {"id": await one_off(api, key, segment)}}, key)
    rows = sorted((r["status"], r["reason"]) for r in await targets(tenant))
    assert rows == [("queued", ""), ("suppressed", "no_consent")]
