"""Intake and reading of complaints: one path for every channel (seed 003: phone, letter, in
store, the online form, e-mail, WeChat, media, regulator, a detractor's survey) and for
suggestions (意见箱). The record holds the 5W and the register's fields; a caller who is not a
customer yet keeps a sealed contact that links to a customer later.

Visibility (issue 13 item 8): a store-scoped actor sees the complaints of their stores; media
and regulator complaints (``hq_only``) are HQ's until HQ assigns one to a store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import msgspec

from core import (
    Actor,
    ChannelSet,
    NotFound,
    TenantInfo,
    ValidationFailed,
    active_customer,
    claim,
    decode_cursor,
    emit,
    fetch,
    insert_rows,
    is_postgres,
    json_text,
    json_value,
    new_public_token,
    normalize_phone,
    open_pii,
    pii_index,
    seal_pii,
    staff_facts,
    store_facts,
    tenant_tx,
)
from plugins.complaints import sla
from plugins.complaints.categories import check_category
from plugins.complaints.settings import ComplaintsSettings
from plugins.complaints.timeline import add_action

__all__ = [
    "CHANNELS",
    "HQ_CHANNELS",
    "HQ_ROLES",
    "IntakeInput",
    "create_complaint",
    "get_complaint",
    "hash_token",
    "scope_sql",
    "time_cursor",
    "visible",
]

CHANNELS = (
    "phone",
    "letter",
    "in_store",
    "online_form",
    "email",
    "wechat",
    "media",
    "regulator",
    "survey",
)
HQ_CHANNELS = frozenset({"media", "regulator"})  # seed 003: handled by the company centrally
HQ_ROLES = frozenset({"owner", "hq_manager"})
SEVERITIES = ("low", "normal", "high", "critical")
MAX_TEXT = 4000


class IntakeInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What intake accepts (GraphQL ``ComplaintCreateInput``, the public form, a survey)."""

    channel: str
    kind: str = "complaint"
    severity: str = "normal"
    category: str = ""
    store_id: UUID | None = None
    spot: str = ""
    occurred_at: dt.datetime | None = None
    customer_id: UUID | None = None
    contact_name: str = ""
    contact_phone: str = ""
    staff_involved: list[UUID] = msgspec.field(default_factory=list)
    summary: str
    description: str = ""
    circumstances: str = ""
    sku: str = ""
    product: str = ""
    receiver_id: UUID | None = None
    handler_id: UUID | None = None
    promised_reply_at: dt.datetime | None = None
    received_at: dt.datetime | None = None
    source: str = ""


@dataclass(frozen=True)
class Created:
    id: UUID
    token: str  # the customer's tracking token ('' on a replay: only the first answer has it)
    created: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _number(at: dt.datetime, uid: UUID) -> str:
    return f"C-{at:%Y%m%d}-{uid.hex[:6].upper()}"


def _check(data: IntakeInput, now: dt.datetime) -> None:
    if data.channel not in CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    if data.kind not in ("complaint", "suggestion"):
        raise ValidationFailed("kind must be complaint or suggestion", field="kind")
    if data.severity not in SEVERITIES:
        raise ValidationFailed(f"severity must be one of {', '.join(SEVERITIES)}", field="severity")
    if not 1 <= len(data.summary.strip()) <= 200:
        raise ValidationFailed("a summary has 1-200 characters", field="summary")
    for name in ("description", "circumstances"):
        if len(getattr(data, name)) > MAX_TEXT:
            raise ValidationFailed(f"at most {MAX_TEXT} characters", field=name)
    for name, limit in (("spot", 200), ("sku", 64), ("product", 200), ("contact_name", 100)):
        if len(getattr(data, name)) > limit:
            raise ValidationFailed(f"at most {limit} characters", field=name)
    if len(data.staff_involved) > 20:
        raise ValidationFailed("at most 20 staff members", field="staff_involved")
    if data.occurred_at and data.occurred_at > now + dt.timedelta(minutes=5):
        raise ValidationFailed("it cannot have happened in the future", field="occurred_at")
    if data.received_at and data.received_at > now + dt.timedelta(minutes=5):
        raise ValidationFailed("it cannot be received in the future", field="received_at")


async def _check_refs(tenant: TenantInfo, actor: Actor, data: IntakeInput) -> None:
    if data.store_id is not None and (
        not await store_facts(tenant, [data.store_id]) or not actor.sees_store(data.store_id)
    ):
        raise NotFound("no such store", field="store_id")
    staff_ids = [s for s in (data.receiver_id, data.handler_id, *data.staff_involved) if s]
    found = await staff_facts(tenant, staff_ids)
    for name, ids in (
        ("receiver_id", [data.receiver_id]),
        ("handler_id", [data.handler_id]),
        ("staff_involved", data.staff_involved),
    ):
        if any(s is not None and s not in found for s in ids):
            raise NotFound("no such staff member", field=name)
    if data.customer_id is not None:
        await active_customer(tenant, data.customer_id, field="customer_id")


async def create_complaint(
    tenant: TenantInfo,
    actor: Actor,
    settings: ComplaintsSettings,
    raw: dict[str, Any] | IntakeInput,
    *,
    idempotency_key: str | None = None,
    channels: ChannelSet | None = None,
    now: dt.datetime | None = None,
) -> Created:
    """Register a complaint or suggestion: validated whole before anything is written, its SLA
    due times computed on the store's calendar, the timeline's first step (热情受理), and the
    ``complaints.received`` event. A media or regulator complaint is HQ's and escalates to HQ at
    once (its staff are told through ``channels`` when given). ``source`` (e.g. ``survey:<response id>``) is unique: a redelivered survey opens
    nothing twice."""
    now = now or dt.datetime.now(dt.UTC)
    data = raw if isinstance(raw, IntakeInput) else msgspec.convert(raw, IntakeInput)
    _check(data, now)
    category = check_category(settings, data.category)
    phone = (
        normalize_phone(data.contact_phone, tenant.phone_region, field="contact_phone")
        if (data.contact_phone.strip())
        else ""
    )
    await _check_refs(tenant, actor, data)
    received = data.received_at or now
    policy = sla.policy_for(
        settings, kind=data.kind, category=category, channel=data.channel, severity=data.severity
    )
    calendars = await sla.calendars_for(tenant, [data.store_id])
    due = sla.deadlines(
        calendars.get(data.store_id),
        received_at=received,
        cycle_started_at=received,
        business_time=policy.business_time,
        ack_minutes=policy.acknowledge_minutes,
        resolve_minutes=policy.resolve_minutes,
        pauses=[],
        kind=data.kind,
        warn_pct=settings.warn_at_pct,
    )
    uid = uuid4()
    token = new_public_token(tenant.slug)  # 256 bits: the customer's tracking link
    hq_only = data.channel in HQ_CHANNELS
    async with tenant_tx(tenant.id):
        earlier = await claim("complaints.create", idempotency_key, msgspec.to_builtins(data), uid)
        if earlier is not None:
            return Created(earlier, "", created=False)
        if data.source:
            found = await fetch(
                "SELECT id FROM complaints_complaint WHERE tenant_id = {} AND source = {}",
                tenant.id,
                data.source,
            )
            if found:
                return Created(UUID(str(found[0]["id"])), "", created=False)
        await insert_rows(
            "complaints_complaint",
            [
                {
                    "tenant_id": tenant.id,
                    "id": uid,
                    "number": _number(received, uid),
                    "kind": data.kind,
                    "channel": data.channel,
                    "state": "received",
                    "severity": data.severity,
                    "category": category,
                    "store_id": data.store_id,
                    "spot": data.spot.strip(),
                    "occurred_at": data.occurred_at,
                    "customer_id": data.customer_id,
                    "contact_name": seal_pii(tenant, "complaint.name", data.contact_name.strip()),
                    "contact_phone": seal_pii(tenant, "complaint.phone", phone),
                    "contact_index": pii_index(tenant, phone),
                    "staff_involved": json_text([str(s) for s in data.staff_involved]),
                    "summary": data.summary.strip(),
                    "description": data.description,
                    "circumstances": data.circumstances,
                    "sku": data.sku.strip(),
                    "product": data.product.strip(),
                    "receiver_id": data.receiver_id or actor.staff_id,
                    "handler_id": data.handler_id,
                    "hq_only": hq_only,
                    "level": 0,
                    "promised_reply_at": data.promised_reply_at,
                    "received_at": received,
                    "business_time": policy.business_time,
                    "ack_minutes": policy.acknowledge_minutes,
                    "resolve_minutes": policy.resolve_minutes,
                    **due.columns(),
                    "pauses": "[]",
                    "cycle": 0,
                    "cycle_started_at": received,
                    "source": data.source,
                    "token_hash": hash_token(token),
                    "created_by": f"{actor.kind}:{actor.id}",
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        await add_action(
            tenant,
            actor,
            uid,
            "received",
            note=data.summary.strip(),
            data={"channel": data.channel, "kind": data.kind},
            at=now,
        )
        await emit(
            "complaints.received",
            uid,
            {
                "complaint_id": str(uid),
                "kind": data.kind,
                "channel": data.channel,
                "store_id": str(data.store_id) if data.store_id else None,
                "customer_id": str(data.customer_id) if data.customer_id else None,
                "category": category,
                "severity": data.severity,
            },
        )
        if hq_only and channels is not None:
            from plugins.complaints.escalation import Escalation, escalate

            await escalate(
                tenant, settings, channels, [Escalation(uid, "intake", "media", 0, 2)], now=now
            )
    return Created(uid, token, created=True)


def visible(actor: Actor, row: dict[str, Any]) -> bool:
    """Whether ``actor`` may see the complaint (or praise) ``row``."""
    store = row.get("store_id")
    if row.get("hq_only") and actor.store_ids is not None:
        return False
    return actor.sees_store(UUID(str(store)) if store else None) and (
        store is not None or actor.store_ids is None
    )


def time_cursor(after: str | None) -> tuple[dt.datetime, UUID] | None:
    """The position ``(received at, id)`` in a cursor of a newest-first list (complaints,
    praise); a malformed one is ``invalid_cursor`` on ``after``."""
    cursor = decode_cursor(after)
    if cursor is None:
        return None
    try:
        at, _, uid = cursor.partition("|")
        return dt.datetime.fromisoformat(at), UUID(uid)
    except ValueError:
        raise ValidationFailed("malformed cursor", field="after", code="invalid_cursor") from None


def scope_sql(actor: Actor, alias: str = "c", *, hq: bool = True) -> tuple[str, list[Any]]:
    """:func:`visible` in SQL (``alias`` is the complaint, or the praise or damage record with
    ``hq=False``: those have no HQ-only kind): a store-scoped actor sees their stores' rows
    that are not HQ's (media, regulator); a chain-wide actor sees all."""
    if actor.store_ids is None:
        return "", []
    if not actor.store_ids:
        return " AND 1 = 0", []
    stores = sorted(actor.store_ids)
    among = f" AND {alias}.store_id IN (" + ", ".join("{}" for _ in stores) + ")"
    if not hq:
        return among, list(stores)
    return f" AND {alias}.hq_only = {{}}" + among, [False, *stores]


COLUMNS = (
    "id, number, kind, channel, state, severity, category, store_id, spot, occurred_at, "
    "customer_id, contact_name, contact_phone, staff_involved, summary, description, "
    "circumstances, sku, product, receiver_id, handler_id, hq_only, level, promised_reply_at, "
    "received_at, acknowledged_at, resolved_at, followed_up_at, closed_at, business_time, "
    "ack_minutes, resolve_minutes, ack_warn_at, ack_due_at, resolve_warn_at, resolve_due_at, "
    "waiting_since, pauses, cycle, "
    "cycle_started_at, resolution_type, resolution, compensation_points, compensation_coupon, "
    "follow_up, satisfied, dissatisfied_count, source, created_at, updated_at"
)


def decoded(tenant: TenantInfo, row: dict[str, Any]) -> dict[str, Any]:
    """A row with its contact opened and JSON decoded (callers mask what they show)."""
    out = dict(row)
    out["contact_name"] = open_pii(tenant, "complaint.name", row["contact_name"])
    out["contact_phone"] = open_pii(tenant, "complaint.phone", row["contact_phone"])
    out["staff_involved"] = [UUID(s) for s in json_value(row["staff_involved"], [])]
    return out


async def get_complaint(
    tenant: TenantInfo, actor: Actor, uid: UUID, *, for_update: bool = False
) -> dict[str, Any]:
    """The complaint, or :class:`NotFound` — also when ``actor`` may not see it."""
    lock = " FOR UPDATE" if for_update and is_postgres() else ""
    async with tenant_tx(tenant.id, write=for_update):
        rows = await fetch(
            f"SELECT {COLUMNS} FROM complaints_complaint WHERE tenant_id = {{}} AND id = {{}}"
            f"{lock}",
            tenant.id,
            uid,
        )
    if not rows or not visible(actor, rows[0]):
        raise NotFound("no complaint with this id", field="id")
    return decoded(tenant, rows[0])
