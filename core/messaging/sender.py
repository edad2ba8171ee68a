"""Sending due messages: claim with a lease, send with the idempotency key, record the outcome.

At-least-once towards the channel, exactly-once in effect: a worker killed after sending but
before recording leaves the message ``sending`` with an expired lease; the next claim sends it
again with the same idempotency key, which the channel (our ``log`` sink, a provider, the
tenant's webhook) uses to drop the duplicate. Nothing is lost: a message leaves ``queued`` /
``sending`` only as ``sent`` or ``failed``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from core.context import TenantInfo
from core.customers.service import cipher, field_context
from core.db import get_database, tenant_tx
from core.messaging.channels import ChannelSet
from core.sql import run
from core.tables import Customer, Message
from core.types import DeliveryResult, OutboundMessage

__all__ = ["SendStats", "send_due"]

MAX_ATTEMPTS = 8


@dataclass
class SendStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


_CLAIM = """
UPDATE message SET status = 'sending', lease_until = :lease, attempts = attempts + 1
WHERE tenant_id = :t AND id IN (
    SELECT id FROM message
    WHERE tenant_id = :t AND ((status = 'queued' AND not_before <= :now) OR (status = 'sending' AND lease_until < :now))
    ORDER BY not_before LIMIT :n {lock}
)
RETURNING id, customer_id, channel, subject, body, idempotency_key, attempts
"""


async def _claim(
    tenant: TenantInfo, batch: int, lease: dt.timedelta, now: dt.datetime
) -> list[dict[str, Any]]:
    lock = "FOR UPDATE SKIP LOCKED" if get_database().is_postgres else ""
    async with tenant_tx(tenant.id):
        return await run(
            _CLAIM.replace("{lock}", lock), t=tenant.id, lease=now + lease, now=now, n=batch
        )


async def _addresses(tenant: TenantInfo, customer_ids: list[UUID]) -> dict[UUID, dict[str, str]]:
    c = cipher()
    out: dict[UUID, dict[str, str]] = {}
    async with tenant_tx(tenant.id, write=False):
        rows = (
            await Customer.select(Customer.id, Customer.phone_enc, Customer.email_enc).where(
                Customer.id.is_in(customer_ids)
            )
            if customer_ids
            else []
        )
    for r in rows:
        out[r["id"]] = {
            "phone": c.decrypt(r["phone_enc"], context=field_context(tenant.id, "phone"))
            if r["phone_enc"]
            else "",
            "email": c.decrypt(r["email_enc"], context=field_context(tenant.id, "email"))
            if r["email_enc"]
            else "",
        }
    return out


async def send_due(
    tenant: TenantInfo,
    channels: ChannelSet,
    *,
    batch: int = 200,
    lease: dt.timedelta = dt.timedelta(seconds=60),
    concurrency: int = 20,
    now: dt.datetime | None = None,
) -> SendStats:
    """Send one batch of the tenant's due messages; call until ``claimed == 0``."""
    now = now or dt.datetime.now(dt.UTC)
    claimed = await _claim(tenant, batch, lease, now)
    stats = SendStats(claimed=len(claimed))
    if not claimed:
        return stats
    addresses = await _addresses(
        tenant, list({UUID(str(m["customer_id"])) for m in claimed if m["customer_id"]})
    )
    gate = asyncio.Semaphore(concurrency)
    metadata = {
        "webhook_url": tenant.messaging.webhook_url,
        "webhook_secret": tenant.messaging.webhook_secret,
    }

    async def send(m: dict[str, Any]) -> tuple[dict[str, Any], DeliveryResult]:
        channel = channels.get(m["channel"])
        customer = addresses.get(UUID(str(m["customer_id"]))) if m["customer_id"] else None
        to = (customer or {}).get(channel.address, "") if channel.address != "none" else ""
        if channel.address != "none" and not to:
            return m, DeliveryResult(
                ok=False, error="customer has no address for this channel", permanent=True
            )
        outbound = OutboundMessage(
            tenant_id=tenant.id,
            message_id=UUID(str(m["id"])),
            idempotency_key=m["idempotency_key"],
            channel=m["channel"],
            to=to,
            subject=m["subject"],
            body=m["body"],
            metadata=metadata,
        )
        async with gate:
            try:
                return m, await channel.send(outbound)
            except Exception as exc:  # a channel bug must not lose the message
                return m, DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")

    results = await asyncio.gather(*(send(m) for m in claimed))
    done = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        for m, result in results:
            if result.ok:
                values: dict[Any, Any] = {
                    Message.status: "sent",
                    Message.sent_at: done,
                    Message.lease_until: None,
                    Message.provider_ref: result.provider_ref[:200],
                    Message.last_error: "",
                }
                stats.sent += 1
            elif result.permanent or m["attempts"] >= MAX_ATTEMPTS:
                values = {
                    Message.status: "failed",
                    Message.lease_until: None,
                    Message.last_error: result.error[:2000],
                }
                stats.failed += 1
            else:
                backoff = dt.timedelta(seconds=min(30 * 2 ** m["attempts"], 3600))
                values = {
                    Message.status: "queued",
                    Message.lease_until: None,
                    Message.not_before: done + backoff,
                    Message.last_error: result.error[:2000],
                }
                stats.retried += 1
            # Only if our lease still holds: a message re-claimed by another worker is theirs now.
            await Message.update(values).where(Message.id == m["id"], Message.status == "sending")
    return stats
