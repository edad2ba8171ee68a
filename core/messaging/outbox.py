"""Enqueue messages (CORE-11): persisted before they are sent, after the shared checks.

For every request, in one tenant transaction and with set-based reads (so a campaign fans out
thousands of messages per second):

* the customer must have the address the channel needs (phone, email) — else ``no_address``;
* consent for the purpose on the channel (the latest record; a channel-specific answer beats
  ``any``) — else ``no_consent``; transactional messages (receipts, complaint follow-ups) are
  exempt, as contract performance needs no marketing consent;
* the frequency cap shared by all modules (non-transactional only) — else ``frequency_cap``;
* quiet hours in the store's or tenant's timezone push ``not_before`` to the window's end
  (transactional messages go at once: a receipt or a redemption code is wanted now);
* the template (tenant's, per locale, sandboxed) is rendered now, so what was sent is on record;
* ``headers`` (e-mail only: ``List-Unsubscribe`` …) are checked and stored with the message and
  reach the channel as :attr:`OutboundMessage.headers`; other channels ignore them.

Suppressed messages are stored too (status ``suppressed`` with the reason): the module sees
why. The idempotency key is unique per tenant: enqueueing the same key twice is a no-op.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from core.context import TenantInfo
from core.db import fetch, json_text, tenant_tx
from core.errors import ValidationFailed
from core.messaging.channels import ChannelSet
from core.messaging.policy import next_allowed
from core.messaging.templates import render, resolve_template
from core.tables import ConsentRecord, Customer, Staff, Store

__all__ = ["EnqueueResult", "MessageRequest", "enqueue", "enqueue_many"]

CHUNK = 900
INSERT_CHUNK = 500  # rows per INSERT: 22 columns each stay under SQLite's 32766 variables
_NOBODY = UUID(int=0)  # no customer (a staff notice): never has consent, never counted
PURPOSES = ("marketing", "surveys", "service")
HEADER_NAME = re.compile(r"^(?!(?i:content-|mime-version$))[A-Za-z][A-Za-z0-9-]{0,75}$")
# headers the pipeline or the channel sets itself: a module may not replace them
RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "message-id", "date", "sender", "reply-to", "received"}
)


@dataclass(frozen=True)
class MessageRequest:
    """One message to send. To a customer (``customer_id``), checked against consent, quiet
    hours and the shared cap unless ``transactional``; or a notice to a staff member
    (``staff_id``, e.g. an escalation or a report), always transactional, to their work email
    or phone. ``idempotency_key`` is unique per tenant: the same key is queued once.
    ``headers``: extra e-mail headers (RFC 5322 names, one-line values up to 998 characters;
    not ``From``, ``To``, ``Subject``, ``Message-ID`` … nor ``Content-*``), e.g. RFC 8058's
    ``List-Unsubscribe`` and ``List-Unsubscribe-Post``; the ``email`` channel sets them,
    other channels ignore them."""

    customer_id: UUID | None
    channel: str
    template_key: str
    idempotency_key: str
    source: str
    purpose: str = "marketing"
    transactional: bool = False
    context: dict[str, Any] = field(default_factory=dict)
    store_id: UUID | None = None
    locale: str | None = None
    staff_id: UUID | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def check_headers(headers: Mapping[str, str]) -> None:
    """:class:`ValidationFailed` (``headers``) unless every header may be set by a module."""
    for name, value in headers.items():
        if not HEADER_NAME.match(name) or name.lower() in RESERVED_HEADERS:
            raise ValidationFailed(f"header {name!r} cannot be set", field="headers")
        if not isinstance(value, str) or len(value) > 998 or any(c in value for c in "\r\n\0"):
            raise ValidationFailed(
                f"header {name!r} must be one line of at most 998 characters", field="headers"
            )


@dataclass
class EnqueueResult:
    queued: int = 0
    deferred: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    ids: list[UUID] = field(default_factory=list)
    # idempotency key → (message id, status, reason) of the rows this call inserted (not duplicates)
    by_key: dict[str, tuple[UUID, str, str]] = field(default_factory=dict)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


async def _consents(customer_ids: list[UUID]) -> dict[tuple[UUID, str, str], bool]:
    state: dict[tuple[UUID, str, str], tuple[int, bool]] = {}
    for chunk in _chunks(customer_ids):
        rows = await ConsentRecord.select(
            ConsentRecord.customer_id,
            ConsentRecord.purpose,
            ConsentRecord.channel,
            ConsentRecord.granted,
            ConsentRecord.seq,
        ).where(ConsentRecord.customer_id.is_in(list(chunk)))
        for r in rows:
            k = (r["customer_id"], r["purpose"], r["channel"])
            if k not in state or state[k][0] <= r["seq"]:
                state[k] = (r["seq"], bool(r["granted"]))
    return {k: v[1] for k, v in state.items()}


async def _recent_counts(customer_ids: list[UUID], since: dt.datetime) -> Counter[UUID]:
    """Marketing messages per customer since ``since`` (the shared cap). One statement per
    chunk on the (tenant, customer, created_at) index: the customer list leads, so the
    growing set of queued messages (a campaign's fan-out) is never scanned."""
    from core.db import current_tenant

    counts: Counter[UUID] = Counter()
    tenant_id = current_tenant.get()
    for chunk in _chunks(customer_ids):
        marks = ", ".join("{}" for _ in chunk)
        rows = await fetch(
            "SELECT customer_id, status, transactional FROM message WHERE tenant_id = {} "
            f"AND customer_id IN ({marks}) AND created_at >= {{}}",
            tenant_id,
            *chunk,
            since,
        )
        counts.update(
            r["customer_id"] if isinstance(r["customer_id"], UUID) else UUID(str(r["customer_id"]))
            for r in rows
            if not r["transactional"] and r["status"] in ("queued", "sending", "sent")
        )
    return counts


async def _staff(staff_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    if not staff_ids:
        return {}
    rows = await Staff.select(
        Staff.id, Staff.name, Staff.active, Staff.email_enc, Staff.phone_enc
    ).where(Staff.id.is_in(staff_ids))
    return {r["id"]: dict(r) for r in rows}


async def enqueue_many(
    tenant: TenantInfo,
    requests: Sequence[MessageRequest],
    channels: ChannelSet,
    *,
    now: dt.datetime | None = None,
) -> EnqueueResult:
    """Check, render and store many messages in one transaction; see the module docstring."""
    now = now or dt.datetime.now(dt.UTC)
    result = EnqueueResult()
    for r in requests:
        if r.purpose not in PURPOSES:
            raise ValidationFailed(f"purpose must be one of {', '.join(PURPOSES)}", field="purpose")
        if not 1 <= len(r.idempotency_key) <= 160:
            raise ValidationFailed(
                "idempotency key must be 1-160 characters", field="idempotency_key"
            )
        channels.get(r.channel)  # unknown channel: ValidationFailed before anything is written
        if (r.customer_id is None) == (r.staff_id is None):
            raise ValidationFailed(
                "a message goes to a customer or to a staff member", field="customer_id"
            )
        if r.headers:
            check_headers(r.headers)
    policy = tenant.messaging
    async with tenant_tx(tenant.id):
        ids = list({r.customer_id for r in requests if r.customer_id is not None})
        staff = await _staff(list({r.staff_id for r in requests if r.staff_id is not None}))
        customers: dict[UUID, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            for row in await Customer.select(
                Customer.id,
                Customer.name,
                Customer.phone_hash,
                Customer.email_hash,
                Customer.status,
            ).where(Customer.id.is_in(list(chunk))):
                customers[row["id"]] = dict(row)
        consents = await _consents(ids)
        counts = await _recent_counts(ids, now - dt.timedelta(days=policy.cap_days))
        store_ids = list({r.store_id for r in requests if r.store_id})
        zones = {
            row["id"]: row["timezone"]
            for row in (
                await Store.select(Store.id, Store.timezone).where(Store.id.is_in(store_ids))
                if store_ids
                else []
            )
        }
        templates: dict[tuple[str, str], tuple[str, str]] = {}
        rows: list[dict[str, Any]] = []
        for r in requests:
            customer = customers.get(r.customer_id) if r.customer_id else None
            member = staff.get(r.staff_id) if r.staff_id else None
            cid = r.customer_id or _NOBODY
            channel = channels.get(r.channel)
            transactional = r.transactional or r.staff_id is not None
            reason = ""
            if r.staff_id is not None:
                if member is None or not member["active"]:
                    reason = "unknown_staff"
                elif (channel.address == "phone" and not member["phone_enc"]) or (
                    channel.address == "email" and not member["email_enc"]
                ):
                    reason = "no_address"
            elif customer is None or customer["status"] != "active":
                reason = "unknown_customer"
            elif (channel.address == "phone" and not customer["phone_hash"]) or (
                channel.address == "email" and not customer["email_hash"]
            ):
                reason = "no_address"
            elif not transactional and not consents.get(
                (cid, r.purpose, channel.consent_channel),
                consents.get((cid, r.purpose, "any"), False),
            ):
                reason = "no_consent"
            elif not transactional and counts[cid] >= policy.cap_count:
                reason = "frequency_cap"
            locale = r.locale or tenant.locale
            subject = body = ""
            if not reason:
                key = (r.template_key, locale)
                if key not in templates:
                    templates[key] = await resolve_template(
                        r.template_key, locale, tenant.locale, channels.templates
                    )
                subject_src, body_src = templates[key]
                person = member if member is not None else customer
                context = {
                    "name": person["name"] if person else "",
                    "tenant": tenant.name,
                } | r.context
                subject, body = render(subject_src, context), render(body_src, context)
                if not transactional and r.customer_id is not None:
                    counts[r.customer_id] += 1
            zone = zones.get(r.store_id) or tenant.timezone
            not_before = now if transactional else next_allowed(policy, zone, now)
            rows.append(
                {
                    "tenant_id": tenant.id,
                    "id": uuid4(),
                    "idempotency_key": r.idempotency_key,
                    "customer_id": r.customer_id,
                    "staff_id": r.staff_id,
                    "store_id": r.store_id,
                    "source": r.source,
                    "purpose": r.purpose,
                    "transactional": transactional,
                    "channel": r.channel,
                    "template_key": r.template_key,
                    "locale": locale,
                    "subject": subject,
                    "body": body,
                    "status": "suppressed" if reason else "queued",
                    "reason": reason,
                    "attempts": 0,
                    "not_before": not_before,
                    "provider_ref": "",
                    "last_error": "",
                    "headers": json_text(dict(r.headers)) if r.headers else "",
                    "created_at": now,
                }
            )
            if reason:
                result.suppressed[reason] += 1
            elif not_before > now:
                result.deferred += 1
        # One multi-row INSERT per chunk, straight from plain values (no ORM objects: the
        # campaign fan-out's hot path); the unique key drops a repeated idempotency key.
        columns = list(rows[0]) if rows else []
        for i in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[i : i + INSERT_CHUNK]
            row_sql = "(" + ", ".join("{}" for _ in columns) + ")"
            inserted = await fetch(
                f"INSERT INTO message ({', '.join(columns)}) VALUES "
                + ", ".join(row_sql for _ in chunk)
                + " ON CONFLICT DO NOTHING RETURNING id, status, reason, idempotency_key",
                *(row[c] for row in chunk for c in columns),
            )
            for found in inserted:
                mid = found["id"] if isinstance(found["id"], UUID) else UUID(str(found["id"]))
                result.ids.append(mid)
                result.by_key[found["idempotency_key"]] = (mid, found["status"], found["reason"])
            result.queued += sum(1 for found in inserted if found["status"] == "queued")
            result.duplicates += len(chunk) - len(inserted)
    return result


async def enqueue(
    tenant: TenantInfo, request: MessageRequest, channels: ChannelSet
) -> EnqueueResult:
    return await enqueue_many(tenant, [request], channels)
