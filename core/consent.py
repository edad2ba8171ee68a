"""Consent per purpose and channel (CORE-9): an append-only history; the latest row rules.

Withdrawal — an API call, a "TD"/"退订" reply, an unsubscribe link — is just a newer row with
``granted=False``, so it takes effect for every later send.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from core.auditing import audit
from core.context import Actor, TenantInfo
from core.customers.service import load_customer_row
from core.db import tenant_tx
from core.events import emit
from core.sql import run
from core.tables import ConsentRecord
from core.validation import convert

__all__ = [
    "CHANNELS",
    "PURPOSES",
    "ConsentInput",
    "consent_state",
    "has_consent",
    "set_consent",
    "withdraw_consent",
]

Purpose = Literal["marketing", "surveys", "service"]
ConsentChannel = Literal["sms", "email", "wechat", "phone", "app", "any"]
PURPOSES: tuple[str, ...] = Purpose.__args__  # type: ignore[attr-defined]
CHANNELS: tuple[str, ...] = ConsentChannel.__args__  # type: ignore[attr-defined]
OPT_OUT_REPLIES = frozenset({"td", "t", "退订", "unsubscribe", "stop"})


class ConsentInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    customer_id: UUID
    purpose: Purpose
    channel: ConsentChannel = "any"
    granted: bool
    source: Annotated[str, Meta(min_length=1, max_length=64)] = "api"
    proof: Annotated[str, Meta(max_length=2000)] = ""


async def set_consent(
    tenant: TenantInfo, actor: Actor, data: ConsentInput | dict[str, Any]
) -> dict[str, Any]:
    """Record a grant or withdrawal; audited, and ``consent.changed`` is emitted."""
    actor.require("consent:write")
    payload = convert(data, ConsentInput)
    async with tenant_tx(tenant.id):
        await load_customer_row(payload.customer_id)
        now = dt.datetime.now(dt.UTC)
        rows = await run(
            "SELECT COALESCE(MAX(seq), 0) AS seq FROM consent_record WHERE tenant_id = :t",
            t=tenant.id,
        )
        await ConsentRecord.insert(
            ConsentRecord(
                customer_id=payload.customer_id,
                purpose=payload.purpose,
                channel=payload.channel,
                granted=payload.granted,
                source=payload.source,
                proof=payload.proof,
                recorded_at=now,
                seq=int(rows[0]["seq"]) + 1,
            )
        )
        await audit(
            actor,
            "consent.grant" if payload.granted else "consent.withdraw",
            subject_type="customer",
            subject_id=payload.customer_id,
            details={
                "purpose": payload.purpose,
                "channel": payload.channel,
                "source": payload.source,
            },
        )
        await emit(
            "consent.changed",
            payload.customer_id,
            {
                "customer_id": str(payload.customer_id),
                "purpose": payload.purpose,
                "channel": payload.channel,
                "granted": payload.granted,
            },
        )
    return {
        "customer_id": payload.customer_id,
        "purpose": payload.purpose,
        "channel": payload.channel,
        "granted": payload.granted,
        "recorded_at": now,
    }


async def consent_state(tenant: TenantInfo, customer_id: UUID) -> dict[tuple[str, str], bool]:
    """The consent in force per (purpose, channel) for one customer."""
    async with tenant_tx(tenant.id, write=False):
        rows = (
            await ConsentRecord.select(
                ConsentRecord.purpose, ConsentRecord.channel, ConsentRecord.granted
            )
            .where(ConsentRecord.customer_id == customer_id)
            .order_by(ConsentRecord.seq)
        )
    state: dict[tuple[str, str], bool] = {}
    for r in rows:
        state[(r["purpose"], r["channel"])] = bool(r["granted"])
    return state


async def has_consent(tenant: TenantInfo, customer_id: UUID, purpose: str, channel: str) -> bool:
    """Does the customer currently allow ``purpose`` on ``channel``?

    A channel-specific answer wins over the ``any`` answer; no answer means no consent
    (opt-in, as PIPL requires for marketing).
    """
    state = await consent_state(tenant, customer_id)
    if (purpose, channel) in state:
        return state[(purpose, channel)]
    return state.get((purpose, "any"), False)


def is_opt_out_reply(text: str) -> bool:
    return text.strip().lower() in OPT_OUT_REPLIES


async def withdraw_consent(
    tenant: TenantInfo,
    customer_id: UUID,
    purpose: str,
    channel: str,
    *,
    source: str,
    proof: str = "",
) -> None:
    """The customer's own withdrawal (CORE-9: an unsubscribe link, a reply of TD/退订):
    recorded like :func:`set_consent` (audited, ``consent.changed``) on behalf of the customer,
    effective for every later send on that channel and purpose."""
    await set_consent(
        tenant,
        Actor.system("customer"),
        {
            "customer_id": customer_id,
            "purpose": purpose,
            "channel": channel,
            "granted": False,
            "source": source,
            "proof": proof,
        },
    )
