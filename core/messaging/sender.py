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
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from core.context import TenantInfo
from core.customers.service import cipher, field_context
from core.db import get_database, json_value, tenant_tx
from core.messaging.channels import ChannelSet
from core.sql import run
from core.tables import Customer, Staff
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
RETURNING id, customer_id, staff_id, channel, subject, body, idempotency_key, attempts, headers
"""


async def _claim(
    tenant: TenantInfo, batch: int, lease: dt.timedelta, now: dt.datetime
) -> list[dict[str, Any]]:
    lock = "FOR UPDATE SKIP LOCKED" if get_database().is_postgres else ""
    async with tenant_tx(tenant.id):
        return await run(
            _CLAIM.replace("{lock}", lock), t=tenant.id, lease=now + lease, now=now, n=batch
        )


async def _addresses(
    tenant: TenantInfo, customer_ids: list[UUID], staff_ids: list[UUID] | None = None
) -> dict[UUID, dict[str, str]]:
    """Decrypted phone and email of the customers and staff members (ids do not collide)."""
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
        members = (
            await Staff.select(Staff.id, Staff.phone_enc, Staff.email_enc).where(
                Staff.id.is_in(staff_ids)
            )
            if staff_ids
            else []
        )
    for r, kind in [*((r, "") for r in rows), *((r, "staff_") for r in members)]:
        out[r["id"]] = {
            "phone": c.decrypt(r["phone_enc"], context=field_context(tenant.id, kind + "phone"))
            if r["phone_enc"]
            else "",
            "email": c.decrypt(r["email_enc"], context=field_context(tenant.id, kind + "email"))
            if r["email_enc"]
            else "",
        }
    return out


async def _bulk(
    tenant: TenantInfo,
    rows: list[tuple[dict[str, Any], DeliveryResult]],
    assignments: str,
    **params: Any,
) -> None:
    """One UPDATE for many messages; per-message values go through CASE expressions."""
    names = {f"i{n}": m["id"] for n, (m, _r) in enumerate(rows)}
    refs = {f"r{n}": r.provider_ref[:200] for n, (_m, r) in enumerate(rows)}
    errors = {f"e{n}": r.error[:2000] for n, (_m, r) in enumerate(rows)}

    def case(values: dict[str, str]) -> str:
        whens = " ".join(f"WHEN :i{n} THEN :{key}" for n, key in enumerate(values))
        return f"CASE id {whens} END"

    sql = (
        f"UPDATE message SET {assignments.replace('{ref}', case(refs)).replace('{error}', case(errors))} "
        f"WHERE tenant_id = :t AND status = 'sending' AND id IN ({', '.join(':' + k for k in names)})"
    )
    await run(sql, t=tenant.id, **names, **refs, **errors, **params)


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
    started = time.monotonic()
    claimed = await _claim(tenant, batch, lease, now)
    stats = SendStats(claimed=len(claimed))
    if not claimed:
        return stats
    addresses = await _addresses(
        tenant,
        list({UUID(str(m["customer_id"])) for m in claimed if m["customer_id"]}),
        list({UUID(str(m["staff_id"])) for m in claimed if m["staff_id"]}),
    )
    gate = asyncio.Semaphore(concurrency)
    metadata = {
        "webhook_url": tenant.messaging.webhook_url,
        "webhook_secret": tenant.messaging.webhook_secret,
    }

    def outbound(m: dict[str, Any]) -> OutboundMessage | DeliveryResult:
        channel = channels.get(m["channel"])
        person = m["customer_id"] or m["staff_id"]
        customer = addresses.get(UUID(str(person))) if person else None
        to = (customer or {}).get(channel.address, "") if channel.address != "none" else ""
        if channel.address != "none" and not to:
            return DeliveryResult(
                ok=False, error="customer has no address for this channel", permanent=True
            )
        return OutboundMessage(
            tenant_id=tenant.id,
            message_id=UUID(str(m["id"])),
            idempotency_key=m["idempotency_key"],
            channel=m["channel"],
            to=to,
            subject=m["subject"],
            body=m["body"],
            metadata=metadata,
            headers=dict(json_value(m["headers"], {})) if m["headers"] else {},
        )

    async def send_one(channel_name: str, message: OutboundMessage) -> DeliveryResult:
        async with gate:
            try:
                return await channels.get(channel_name).send(message)
            except Exception as exc:  # a channel bug must not lose the message
                return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")

    async def send_group(
        channel_name: str, group: list[tuple[int, OutboundMessage]]
    ) -> list[tuple[int, DeliveryResult]]:
        batch = channels.get(channel_name).send_batch
        if batch is not None:
            try:
                answers = await batch([m for _i, m in group])
            except Exception as exc:
                answers = [DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")] * len(
                    group
                )
            return list(zip([i for i, _m in group], answers, strict=True))
        answers = await asyncio.gather(*(send_one(channel_name, m) for _i, m in group))
        return list(zip([i for i, _m in group], answers, strict=True))

    outcomes: dict[int, DeliveryResult] = {}
    groups: dict[str, list[tuple[int, OutboundMessage]]] = {}
    for i, m in enumerate(claimed):
        prepared = outbound(m)
        if isinstance(prepared, DeliveryResult):
            outcomes[i] = prepared
        else:
            groups.setdefault(m["channel"], []).append((i, prepared))
    for answers in await asyncio.gather(
        *(send_group(name, group) for name, group in groups.items())
    ):
        outcomes.update(answers)
    results = [(claimed[i], outcomes[i]) for i in range(len(claimed))]
    # On the caller's clock (``now`` may be given), advanced by the time spent sending.
    done = now + dt.timedelta(seconds=time.monotonic() - started)
    sent = [(m, r) for m, r in results if r.ok]
    failed = [
        (m, r) for m, r in results if not r.ok and (r.permanent or m["attempts"] >= MAX_ATTEMPTS)
    ]
    retry = [
        (m, r)
        for m, r in results
        if not r.ok and not (r.permanent or m["attempts"] >= MAX_ATTEMPTS)
    ]
    stats.sent, stats.failed, stats.retried = len(sent), len(failed), len(retry)
    async with tenant_tx(tenant.id):
        # Set-based: one statement per outcome. "AND status = 'sending'": only while our lease
        # holds — a message re-claimed by another worker is theirs now.
        if sent:
            await _bulk(
                tenant,
                sent,
                "status = 'sent', sent_at = :done, lease_until = NULL, last_error = '', "
                "provider_ref = {ref}",
                done=done,
            )
        if failed:
            await _bulk(
                tenant,
                failed,
                "status = 'failed', lease_until = NULL, last_error = {error}",
                done=done,
            )
        if retry:
            backoff = max(30 * 2 ** min(int(m["attempts"]), 7) for m, _r in retry)
            await _bulk(
                tenant,
                retry,
                "status = 'queued', lease_until = NULL, not_before = :later, last_error = {error}",
                done=done,
                later=done + dt.timedelta(seconds=min(backoff, 3600)),
            )
    return stats
