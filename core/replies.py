"""Channel replies (CORE-9): a customer's answer to a message, posted by the channel's gateway.

:func:`record_reply` checks the gateway's signature (the ``webhook`` channel: ``sha256=`` HMAC
of the body with the tenant's ``messaging.webhook_secret``, as on outbound messages), finds the
message replied to (``{"message_id": …, "text": …}``), records the reply on the customer's
interaction log and, for an opt-out reply ("TD", "退订", "unsubscribe", …), withdraws the
customer's consent for that channel and purpose ``marketing`` — effective for every later send
— and confirms it with a transactional message. Other channels' formats: their plugins parse
them and call this with the same fields.
"""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

import msgspec

from core.activity import log_interaction
from core.consent import is_opt_out_reply, withdraw_consent
from core.context import Actor, TenantInfo
from core.db import fetch, tenant_tx
from core.errors import Forbidden, NotFound, ValidationFailed
from core.messaging.channels import ChannelSet, sign_body
from core.messaging.outbox import MessageRequest, enqueue_many

__all__ = ["record_reply"]


class Reply(msgspec.Struct, forbid_unknown_fields=False):
    message_id: UUID
    text: str


async def record_reply(
    tenant: TenantInfo, body: bytes, signature: str, channels: ChannelSet
) -> str:
    """``opted_out`` or ``recorded``; a bad signature is :class:`Forbidden`, an unknown
    message :class:`NotFound`, a malformed body :class:`ValidationFailed`."""
    secret = tenant.messaging.webhook_secret
    if not secret or not hmac.compare_digest(sign_body(secret, body), signature or ""):
        raise Forbidden("bad gateway signature", code="forbidden")
    try:
        reply = msgspec.json.decode(body, type=Reply)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValidationFailed(f"malformed reply: {exc}", field="body") from None
    if len(reply.text) > 2000:
        raise ValidationFailed("a reply has at most 2000 characters", field="text")
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT customer_id, channel, store_id FROM message WHERE tenant_id = {} AND id = {}",
            tenant.id,
            reply.message_id,
        )
    if not rows or rows[0]["customer_id"] is None:
        raise NotFound("message not found", field="message_id")
    customer = UUID(str(rows[0]["customer_id"]))
    channel_key = str(rows[0]["channel"])
    channel = channels.get(channel_key)
    await log_interaction(
        tenant,
        Actor.system("channel"),
        {
            "customer_id": customer,
            "channel": "email" if channel.consent_channel == "email" else "sms",
            "content": f"回复：{reply.text[:2000]}",
        },
        idempotency_key=f"reply:{reply.message_id}:"
        + hashlib.sha256(reply.text.encode()).hexdigest()[:16],
    )
    if not is_opt_out_reply(reply.text):
        return "recorded"
    await withdraw_consent(
        tenant,
        customer,
        "marketing",
        channel.consent_channel,
        source=f"reply:{reply.text.strip()[:32]}",
    )
    await enqueue_many(
        tenant,
        [
            MessageRequest(
                customer_id=customer,
                channel=channel_key,
                template_key="generic",
                idempotency_key=f"optout:{reply.message_id}",
                source="core",
                purpose="service",
                transactional=True,
                context={
                    "subject": tenant.name,
                    "text": "您已退订营销消息，我们将不再向您发送。",
                },
            )
        ],
        channels,
    )
    return "opted_out"
