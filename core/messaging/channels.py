"""Built-in channels (``log``, ``email``, ``webhook``) and the set a tenant can use.

Channels are plugins: :data:`BUILTIN_CHANNELS` plus whatever enabled plugins return from
``register_message_channels``. Every send carries the message's idempotency key, stable across
retries, so a provider (or our own ``log`` sink) can drop a redelivery.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from email.message import EmailMessage
from email.policy import EmailPolicy

import msgspec

from core.crypto import mask_phone
from core.db import json_text
from core.errors import ValidationFailed
from core.types import DeliveryResult, MessageChannel, MessageTemplateDefault, OutboundMessage

__all__ = ["BUILTIN_CHANNELS", "ChannelSet", "sign_body"]


class ChannelSet:
    """What the messaging pipeline can use for one tenant: its channels (built-in and those of
    its enabled plugins) and the default templates of the core and those plugins."""

    def __init__(
        self,
        channels: Iterable[MessageChannel],
        templates: Iterable[MessageTemplateDefault] = (),
    ) -> None:
        from core.messaging.templates import CORE_TEMPLATES

        self.templates: dict[tuple[str, str], tuple[str, str]] = dict(CORE_TEMPLATES)
        for t in templates:
            self.templates[(t.key, t.locale)] = (t.subject, t.body)
        self._by_name: dict[str, MessageChannel] = {}
        for channel in channels:
            if channel.name in self._by_name:
                raise ValueError(f"two channels are named {channel.name!r}")
            self._by_name[channel.name] = channel

    def get(self, name: str) -> MessageChannel:
        try:
            return self._by_name[name]
        except KeyError:
            raise ValidationFailed(
                f"unknown channel {name!r}", field="channel", code="unknown_channel"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._by_name)


async def _send_log_batch(messages: list[OutboundMessage]) -> list[DeliveryResult]:
    """Development channel: records messages in ``message_log``, once per idempotency key
    (a redelivery after a crash is dropped by the unique index, as a real provider would)."""
    from core.db import tenant_tx
    from core.tables import MessageLog

    by_tenant: dict[object, list[OutboundMessage]] = {}
    for m in messages:
        by_tenant.setdefault(m.tenant_id, []).append(m)
    for tenant_id, batch in by_tenant.items():
        rows = [
            MessageLog(
                tenant_id=tenant_id,
                idempotency_key=m.idempotency_key,
                message_id=m.message_id,
                to_masked=mask_phone(m.to) if m.to.startswith("+") else m.to[:2] + "***",
                subject=m.subject,
                body=m.body,
                metadata=json_text(dict(m.metadata)),
            )
            for m in batch
        ]
        async with tenant_tx(tenant_id):  # type: ignore[arg-type]
            for i in range(0, len(rows), 500):
                await MessageLog.insert(*rows[i : i + 500]).on_conflict(action="DO NOTHING")
    return [DeliveryResult(ok=True, provider_ref=f"log:{m.idempotency_key}") for m in messages]


async def _send_log(message: OutboundMessage) -> DeliveryResult:
    return (await _send_log_batch([message]))[0]


class _SmtpPolicy(EmailPolicy):
    """The SMTP policy, except that an ASCII header value without whitespace (it cannot be
    folded) is written on one line, up to RFC 5322's 998 characters: the default policy would
    turn a long one such as ``List-Unsubscribe: <https://…/u/<token>>`` into RFC 2047 encoded
    words, which no mail client reads as a URL."""

    def fold_binary(self, name: str, value: str) -> bytes:
        line = f"{name}: {value}"
        if line.isascii() and len(line) <= 998 and not any(c.isspace() for c in str(value)):
            return (line + self.linesep).encode("ascii")
        return super().fold_binary(name, value)


_SMTP = _SmtpPolicy(linesep="\r\n")  # email.policy.SMTP's settings


async def _send_email(message: OutboundMessage) -> DeliveryResult:
    """SMTP (``MENDIAN_SMTP_URL``, e.g. ``smtp://user:pass@host:587?starttls=1``), with the
    message's own headers (``List-Unsubscribe`` …)."""
    import os
    from urllib.parse import parse_qs, urlsplit

    import aiosmtplib

    url = os.environ.get("MENDIAN_SMTP_URL", "smtp://127.0.0.1:25")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    email = EmailMessage()
    email["From"] = os.environ.get("MENDIAN_SMTP_FROM", "noreply@mendian.local")
    email["To"] = message.to
    email["Subject"] = message.subject
    # Deterministic Message-ID: receivers and our bounce handling can spot a redelivery.
    email["Message-ID"] = (
        f"<{hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]}@mendian>"
    )
    for name, value in message.headers.items():  # checked at enqueue (MessageRequest.headers)
        email[name] = value
    email.set_content(message.body)
    try:
        await aiosmtplib.send(
            email.as_bytes(policy=_SMTP),
            sender=email["From"],
            recipients=[message.to],
            hostname=parts.hostname or "127.0.0.1",
            port=parts.port or 25,
            username=parts.username,
            password=parts.password,
            start_tls=query.get("starttls", ["0"])[0] == "1",
            timeout=15,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        return DeliveryResult(ok=False, error=str(exc), permanent=True)
    except (aiosmtplib.SMTPException, OSError) as exc:
        return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")
    return DeliveryResult(ok=True, provider_ref=email["Message-ID"])


def sign_body(secret: str, body: bytes) -> str:
    import hmac

    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def _send_webhook(message: OutboundMessage) -> DeliveryResult:
    """Signed POST to the tenant's endpoint (``messaging.webhook_url`` / ``webhook_secret``)."""
    import httpx

    url = str(message.metadata.get("webhook_url") or "")
    secret = str(message.metadata.get("webhook_secret") or "")
    if not url:
        return DeliveryResult(ok=False, error="tenant has no messaging.webhook_url", permanent=True)
    body = msgspec.json.encode(
        {
            "message_id": str(message.message_id),
            "to": message.to,
            "subject": message.subject,
            "body": message.body,
            "sent_at": dt.datetime.now(dt.UTC).isoformat(),
        }
    )
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": message.idempotency_key,
        "X-Mendian-Signature": sign_body(secret, body),
    }
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")
    if response.status_code >= 500 or response.status_code == 429:
        return DeliveryResult(ok=False, error=f"HTTP {response.status_code}")
    if response.status_code >= 400:
        return DeliveryResult(ok=False, error=f"HTTP {response.status_code}", permanent=True)
    return DeliveryResult(ok=True, provider_ref=response.headers.get("X-Request-Id", ""))


BUILTIN_CHANNELS: tuple[MessageChannel, ...] = (
    MessageChannel(
        name="log",
        address="phone",
        send=_send_log,
        send_batch=_send_log_batch,
        consent_channel="sms",
        description="development: records the message instead of sending an SMS",
    ),
    MessageChannel(
        name="email",
        address="email",
        send=_send_email,
        consent_channel="email",
        description="SMTP email",
    ),
    MessageChannel(
        name="webhook",
        address="phone",
        send=_send_webhook,
        consent_channel="sms",
        description="signed HTTP POST to the tenant's gateway (SMS, WeChat…)",
    ),
)
