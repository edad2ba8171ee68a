"""Asking the customer whether they are satisfied (跟踪反馈, issue 13 item 5) when the answer
does not come from a follow-up survey.

* **How** (:func:`method`): asked for, or by default a follow-up survey when the surveys module
  is enabled, else a message when the complaint has a customer to send it to, else a staff
  call. A survey asked for without the surveys module is a message (or a call) instead; a
  message asked for without a customer is ``no_customer`` on ``follow_up``.
* **The message** (:func:`ask_by_message`): the transactional ``complaints.follow_up`` template
  through core messaging, to the complaint's customer, once per resolution (the idempotency
  key holds the cycle), in the transaction that resolves it. Its ``status_url`` is
  ``/feedback/status/<token>`` with a token issued for this resolution (256 bits, only its hash
  kept, in ``follow_up_token_hash``): a complaint filed by phone has a link now, and a customer
  of the public form keeps their own token beside it.
* **The answer** comes back on that page (:func:`plugins.complaints.public.answer`), which calls
  :func:`plugins.complaints.workflow.follow_up` as ``complaintFollowUp`` does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from core import (
    ChannelSet,
    MessageRequest,
    TenantInfo,
    ValidationFailed,
    enqueue_messages,
    execute,
    hash_public_token,
    new_public_token,
)
from plugins.complaints.settings import ComplaintsSettings

__all__ = ["TEMPLATE", "ask_by_message", "method"]

TEMPLATE = "complaints.follow_up"


def method(requested: str | None, *, surveys: bool, customer: bool) -> str:
    """How the customer is asked (``survey``, ``message`` or ``call``); see the module."""
    if requested == "message" and not customer:
        raise ValidationFailed(
            "link the complaint to a customer to follow up by message",
            field="follow_up",
            code="no_customer",
        )
    if requested in ("message", "call") or (requested == "survey" and surveys):
        return str(requested)
    if requested is None and surveys:
        return "survey"
    # no method asked for, or a survey without the surveys module to send it
    return "message" if customer else "call"


async def ask_by_message(
    tenant: TenantInfo,
    settings: ComplaintsSettings,
    channels: ChannelSet,
    row: dict[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """Issue this resolution's status link and queue the message to the customer (call it in
    the resolving transaction). Returns what the timeline records: the outbox status, or why
    the message was not queued (``suppressed``: e.g. ``no_address``)."""
    uid = UUID(str(row["id"]))
    token = new_public_token(tenant.slug)
    await execute(
        "UPDATE complaints_complaint SET follow_up_token_hash = {} "
        "WHERE tenant_id = {} AND id = {}",
        hash_public_token(token),
        tenant.id,
        uid,
    )
    key = f"complaints:follow_up:{uid}:{int(row['cycle'])}"
    result = await enqueue_messages(
        tenant,
        [
            MessageRequest(
                customer_id=UUID(str(row["customer_id"])),
                channel=settings.follow_up_channel,
                template_key=TEMPLATE,
                idempotency_key=key,
                source="complaints",
                purpose="service",
                transactional=True,
                store_id=UUID(str(row["store_id"])) if row["store_id"] else None,
                context={
                    "tenant": tenant.name,
                    "number": row["number"],
                    "status_url": settings.status_link(token),
                },
            )
        ],
        channels,
        now=now,
    )
    found = result.by_key.get(key)
    if found is not None:
        return {
            "via": "message",
            "message_id": str(found[0]),
            "status": found[1],
            "reason": found[2],
        }
    reasons = sorted(result.suppressed) or (["duplicate"] if result.duplicates else [])
    return {"via": "message", "status": "not_queued", "reason": ",".join(reasons)}
