"""CORE-11: consent, quiet hours, the shared cap, sandboxed templates, channels, sending."""

import asyncio
import dataclasses
import datetime as dt
import hashlib
import hmac
import json

import pytest

from core.consent import set_consent
from core.context import MessagingPolicy
from core.customers import create_customer
from core.db import tenant_tx
from core.errors import ValidationFailed
from core.messaging import BUILTIN_CHANNELS, ChannelSet, MessageRequest, enqueue_many, send_due
from core.messaging.policy import next_allowed
from core.messaging.templates import render
from core.tables import Message, MessageLog, MessageTemplate

NOON_CST = dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai
CHANNELS = ChannelSet(BUILTIN_CHANNELS)


def req(customer, key, **extra):
    return MessageRequest(
        customer_id=customer.id,
        channel=extra.pop("channel", "log"),
        template_key="generic",
        idempotency_key=key,
        source="test",
        context={"subject": "Hi", "text": extra.pop("text", "welcome")},
        **extra,
    )


async def consenting(tenant, owner, phone, **kw):
    c = await create_customer(tenant, owner, {"name": "王芳", "phone": phone, **kw})
    await set_consent(
        tenant, owner, {"customer_id": str(c.id), "purpose": "marketing", "granted": True}
    )
    return c


async def statuses(tenant):
    async with tenant_tx(tenant.id):
        rows = await Message.select(
            Message.idempotency_key, Message.status, Message.reason
        ).order_by(Message.idempotency_key)
    return [(r["idempotency_key"], r["status"], r["reason"]) for r in rows]


async def test_checks_consent_address_and_cap(tenant, owner):
    ok = await consenting(tenant, owner, "13912340101")
    no_consent = await create_customer(tenant, owner, {"name": "b", "phone": "13912340102"})
    no_phone = await create_customer(tenant, owner, {"name": "c"})
    await set_consent(
        tenant, owner, {"customer_id": str(no_phone.id), "purpose": "marketing", "granted": True}
    )
    result = await enqueue_many(
        tenant,
        [
            req(ok, "a1"),
            req(no_consent, "b1"),
            req(no_phone, "c1"),
            req(no_consent, "b2", transactional=True, purpose="service"),
            *[req(ok, f"a{i}") for i in range(2, 7)],
        ],
        CHANNELS,
        now=NOON_CST,
    )
    assert result.queued == 5 and result.suppressed == {
        "no_consent": 1,
        "no_address": 1,
        "frequency_cap": 2,
    }
    assert ("a5", "suppressed", "frequency_cap") in await statuses(tenant)
    assert ("b2", "queued", "") in await statuses(tenant)
    again = await enqueue_many(tenant, [req(ok, "a1")], CHANNELS, now=NOON_CST)
    assert again.duplicates == 1 and again.queued == 0


async def test_withdrawn_consent_stops_later_sends(tenant, owner):
    c = await consenting(tenant, owner, "13912340103")
    await set_consent(
        tenant,
        owner,
        {
            "customer_id": str(c.id),
            "purpose": "marketing",
            "channel": "sms",
            "granted": False,
            "source": "reply:退订",
        },
    )
    result = await enqueue_many(tenant, [req(c, "x")], CHANNELS, now=NOON_CST)
    assert result.suppressed == {"no_consent": 1}


def test_quiet_hours_in_the_tenant_timezone():
    policy = MessagingPolicy(quiet_start="21:00", quiet_end="09:00")
    late = dt.datetime(2026, 11, 23, 14, 30, tzinfo=dt.UTC)  # 22:30 Shanghai
    assert next_allowed(policy, "Asia/Shanghai", late) == dt.datetime(
        2026, 11, 24, 1, 0, tzinfo=dt.UTC
    )
    early = dt.datetime(2026, 11, 23, 0, 30, tzinfo=dt.UTC)  # 08:30 Shanghai
    assert next_allowed(policy, "Asia/Shanghai", early) == dt.datetime(
        2026, 11, 23, 1, 0, tzinfo=dt.UTC
    )
    assert next_allowed(policy, "Asia/Shanghai", NOON_CST) == NOON_CST
    assert next_allowed(policy, "Europe/London", late) == late  # 14:30 in London


async def test_quiet_hours_defer_and_store_timezone_overrides(tenant, owner):
    from tenants.service import create_store

    london = (
        await create_store(
            tenant, owner, {"code": "LDN", "name": "London", "timezone": "Europe/London"}
        )
    )["id"]
    c = await consenting(tenant, owner, "13912340104")
    late = dt.datetime(2026, 11, 23, 14, 30, tzinfo=dt.UTC)
    result = await enqueue_many(
        tenant,
        [
            req(c, "cn"),
            req(c, "uk", store_id=london),
            req(c, "receipt", transactional=True, purpose="service"),
        ],
        CHANNELS,
        now=late,
    )
    assert result.deferred == 1
    stats = await send_due(tenant, CHANNELS, now=late)
    assert stats.sent == 2
    assert (
        await send_due(tenant, CHANNELS, now=dt.datetime(2026, 11, 24, 1, 0, 1, tzinfo=dt.UTC))
    ).sent == 1


async def test_tenant_templates_render_in_a_sandbox(tenant, owner):
    c = await consenting(tenant, owner, "13912340105")
    async with tenant_tx(tenant.id):
        await MessageTemplate.insert(
            MessageTemplate(
                key="birthday",
                locale="zh-CN",
                subject="生日快乐",
                body="{{ name }}，{{ tenant }}祝您生日快乐！",
            )
        )
    await enqueue_many(
        tenant, [dataclasses.replace(req(c, "bd"), template_key="birthday")], CHANNELS, now=NOON_CST
    )
    await send_due(tenant, CHANNELS, now=NOON_CST)
    async with tenant_tx(tenant.id):
        logged = await MessageLog.select(MessageLog.body, MessageLog.to_masked).first()
    assert logged == {"body": "王芳，Test chain祝您生日快乐！", "to_masked": "139****0105"}
    with pytest.raises(ValidationFailed):
        render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})
    with pytest.raises(ValidationFailed) as err:
        await enqueue_many(
            tenant, [dataclasses.replace(req(c, "nt"), template_key="nope")], CHANNELS
        )
    assert err.value.code == "unknown_template"


async def test_unknown_channel_is_rejected_before_anything_is_written(tenant, owner):
    c = await consenting(tenant, owner, "13912340106")
    with pytest.raises(ValidationFailed) as err:
        await enqueue_many(
            tenant, [req(c, "ok"), req(c, "bad", channel="carrier-pigeon")], CHANNELS
        )
    assert err.value.code == "unknown_channel"
    assert await statuses(tenant) == []


async def test_email_channel_sends_through_smtp(tenant, owner, monkeypatch, unused_tcp_port):
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.rcpt_tos, envelope.content.decode()))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=unused_tcp_port)
    controller.start()
    try:
        monkeypatch.setenv("MENDIAN_SMTP_URL", f"smtp://127.0.0.1:{unused_tcp_port}")
        c = await create_customer(tenant, owner, {"name": "Li", "email": "li@example.com"})
        await set_consent(
            tenant,
            owner,
            {"customer_id": str(c.id), "purpose": "marketing", "channel": "email", "granted": True},
        )
        await enqueue_many(
            tenant, [req(c, "mail", channel="email", text="your points")], CHANNELS, now=NOON_CST
        )
        stats = await send_due(tenant, CHANNELS, now=NOON_CST)
    finally:
        controller.stop()
    assert stats.sent == 1
    assert received[0][0] == ["li@example.com"]
    assert "your points" in received[0][1]
    assert "Message-ID: <" + hashlib.sha256(b"mail").hexdigest()[:32] in received[0][1]


async def test_email_carries_a_messages_own_headers_and_refuses_unsafe_ones(
    tenant, owner, monkeypatch, unused_tcp_port
):
    from email import message_from_string

    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content.decode())
            return "250 OK"

    c = await create_customer(tenant, owner, {"name": "Li", "email": "li@example.com"})
    await set_consent(
        tenant,
        owner,
        {"customer_id": str(c.id), "purpose": "marketing", "channel": "email", "granted": True},
    )
    headers = {
        "List-Unsubscribe": "<https://crm.example.com/u/abc.def>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    for bad in ({"Subject": "x"}, {"Content-Type": "text/html"}, {"X-Ok": "a\r\nBcc: e@x"}):
        with pytest.raises(ValidationFailed) as err:
            await enqueue_many(
                tenant, [req(c, "bad", channel="email", headers=bad)], CHANNELS, now=NOON_CST
            )
        assert err.value.field == "headers"
    assert await statuses(tenant) == []
    controller = Controller(Handler(), hostname="127.0.0.1", port=unused_tcp_port)
    controller.start()
    try:
        monkeypatch.setenv("MENDIAN_SMTP_URL", f"smtp://127.0.0.1:{unused_tcp_port}")
        await enqueue_many(
            tenant,
            [
                req(c, "with", channel="email", headers=headers),
                req(c, "without", channel="email", transactional=True),
            ],
            CHANNELS,
            now=NOON_CST,
        )
        stats = await send_due(tenant, CHANNELS, now=NOON_CST)
    finally:
        controller.stop()
    assert stats.sent == 2
    mails = {m["Message-ID"]: m for m in map(message_from_string, received)}
    with_id = "<" + hashlib.sha256(b"with").hexdigest()[:32] + "@mendian>"
    without_id = "<" + hashlib.sha256(b"without").hexdigest()[:32] + "@mendian>"
    assert mails[with_id]["List-Unsubscribe"] == "<https://crm.example.com/u/abc.def>"
    assert mails[with_id]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mails[without_id]["List-Unsubscribe"] is None


async def test_webhook_channel_signs_and_retries_on_server_error(db, owner):
    from tests.conftest import make_tenant

    hits = []

    async def handle(reader, writer):
        data = await reader.read(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        hits.append((head.decode(), body))
        status = b"503 Busy" if len(hits) == 1 else b"200 OK"
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tenant = await make_tenant()
    tenant = dataclasses.replace(
        tenant,
        messaging=MessagingPolicy(
            webhook_url=f"http://127.0.0.1:{port}/sms", webhook_secret="whsec-123"
        ),
    )
    c = await consenting(tenant, owner, "13912340107")
    async with server:
        await enqueue_many(tenant, [req(c, "wh", channel="webhook")], CHANNELS, now=NOON_CST)
        first = await send_due(tenant, CHANNELS, now=NOON_CST)
        later = NOON_CST + dt.timedelta(hours=2)
        second = await send_due(tenant, CHANNELS, now=later)
    assert (first.retried, second.sent) == (1, 1)
    head, body = hits[1]
    assert "idempotency-key: wh" in head.lower()
    signature = hmac.new(b"whsec-123", body, hashlib.sha256).hexdigest()
    assert f"x-mendian-signature: sha256={signature}" in head.lower()
    assert json.loads(body)["to"] == "+8613912340107"


async def test_staff_notices_skip_consent_and_quiet_hours_and_need_an_address(tenant, owner):
    """A notice to a staff member (an escalation, a report) is transactional: no consent, no
    cap, no quiet hours; it needs the member's work address and an active member."""
    from tenants.credentials import create_staff
    from tenants.staff import deactivate_staff

    base = {"name": "店长", "password": "a-long-password", "role": "store_manager"}
    reachable = await create_staff(tenant, owner, base | {"login": "mgr1", "phone": "13800000001"})
    silent = await create_staff(tenant, owner, base | {"login": "mgr2"})
    gone = await create_staff(tenant, owner, base | {"login": "mgr3", "phone": "13800000003"})
    await deactivate_staff(tenant, owner, gone)
    late = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)  # 23:00 in Asia/Shanghai

    def notice(staff_id, key):
        return MessageRequest(
            customer_id=None,
            staff_id=staff_id,
            channel="log",
            template_key="generic",
            idempotency_key=key,
            source="test",
            purpose="service",
            context={"subject": "升级", "text": "投诉即将超时"},
        )

    result = await enqueue_many(
        tenant,
        [notice(reachable, "n1"), notice(silent, "n2"), notice(gone, "n3")],
        CHANNELS,
        now=late,
    )
    assert (result.queued, result.deferred, dict(result.suppressed)) == (
        1,
        0,
        {"no_address": 1, "unknown_staff": 1},
    )
    await send_due(tenant, CHANNELS, now=late)
    async with tenant_tx(tenant.id, write=False):
        sent = await MessageLog.select(MessageLog.to_masked, MessageLog.body)
    assert [(r["to_masked"], r["body"]) for r in sent] == [
        ("138****0001", "店长，您好：投诉即将超时")
    ]
    with pytest.raises(ValidationFailed):
        await enqueue_many(
            tenant,
            [dataclasses.replace(notice(reachable, "n4"), customer_id=reachable)],
            CHANNELS,
        )
