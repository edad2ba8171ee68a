"""Praise (表扬, seed 003 §5): a customer thanks one or more staff members of a store, by any
channel; the store manager reads it out at the store meeting (门店例会通报表扬), so the daily
register and the weekly report list it. Visibility is the complaints' rule (a store-scoped
actor sees their stores' praise), see :func:`plugins.complaints.records.scope_sql`."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import msgspec

from core import (
    Actor,
    NotFound,
    TenantInfo,
    ValidationFailed,
    active_customer,
    convert,
    instant,
    is_postgres,
    json_text,
    json_value,
    normalize_phone,
    open_pii,
    seal_pii,
    staff_facts,
)
from plugins.complaints.recording import check_store, insert_once, visible_rows
from plugins.complaints.records import CHANNELS

__all__ = [
    "PRAISE_COLUMNS",
    "PraiseInput",
    "praise_decoded",
    "praise_rows",
    "record_praise",
    "staff_elements",
]

MAX_TEXT = 4000
MAX_STAFF = 20
PRAISE_COLUMNS = (
    "t.id, t.store_id, t.staff_ids, t.channel, t.customer_id, t.contact_name, t.contact_phone, "
    "t.text, t.received_at, t.recorded_by, t.created_at"
)


class PraiseInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What ``praiseRecord`` accepts."""

    store_id: UUID
    staff_ids: list[UUID]
    channel: str
    text: str
    customer_id: UUID | None = None
    contact_name: str = ""
    contact_phone: str = ""
    received_at: dt.datetime | None = None


def staff_elements(column: str) -> str:
    """A ``FROM`` item naming ``s.value``: each staff id of the JSON list in ``column`` (one row
    per staff member, for counting per member in SQL on both backends)."""
    if is_postgres():
        return f"json_array_elements_text({column}::json) AS s(value)"
    return f"json_each({column}) AS s"


def _check(data: PraiseInput) -> None:
    if data.channel not in CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    if not 1 <= len(data.text.strip()) <= MAX_TEXT:
        raise ValidationFailed(f"what the customer said: 1-{MAX_TEXT} characters", field="text")
    if not 1 <= len(set(data.staff_ids)) <= MAX_STAFF:
        raise ValidationFailed(f"praise names 1-{MAX_STAFF} staff members", field="staff_ids")
    if len(data.contact_name) > 100:
        raise ValidationFailed("at most 100 characters", field="contact_name")


async def record_praise(
    tenant: TenantInfo,
    actor: Actor,
    raw: dict[str, Any] | PraiseInput,
    *,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> UUID:
    """Record praise: validated whole (the store seen by ``actor``, each staff member active
    and working there, the customer active) before one row is written; a retried
    ``idempotency_key`` answers the first record."""
    actor.require("complaints:create")
    now = now or dt.datetime.now(dt.UTC)
    data = convert(raw, PraiseInput)
    _check(data)
    received = instant(data.received_at, "received_at", now=now)
    phone = (
        normalize_phone(data.contact_phone, tenant.phone_region, field="contact_phone")
        if data.contact_phone.strip()
        else ""
    )
    await check_store(tenant, actor, data.store_id)
    staff = list(dict.fromkeys(data.staff_ids))
    found = await staff_facts(tenant, staff)
    for s in staff:
        member = found.get(s)
        if member is None or not member.active:
            raise NotFound("no such staff member", field="staff_ids")
        if not member.works_in(data.store_id):
            raise ValidationFailed(
                "a praised staff member works in the store", field="staff_ids", code="not_in_store"
            )
    if data.customer_id is not None:
        await active_customer(tenant, data.customer_id, field="customer_id")
    return await insert_once(
        tenant,
        actor,
        "complaints_praise",
        idempotency_key,
        data,
        {
            "store_id": data.store_id,
            "staff_ids": json_text([str(s) for s in staff]),
            "channel": data.channel,
            "customer_id": data.customer_id,
            "contact_name": seal_pii(tenant, "praise.name", data.contact_name.strip()),
            "contact_phone": seal_pii(tenant, "praise.phone", phone),
            "text": data.text.strip(),
            "received_at": received,
            "created_at": now,
        },
    )


def praise_decoded(tenant: TenantInfo, row: dict[str, Any]) -> dict[str, Any]:
    """A praise row with its contact opened and staff ids decoded (callers mask the phone)."""
    out = dict(row)
    out["contact_name"] = open_pii(tenant, "praise.name", row["contact_name"])
    out["contact_phone"] = open_pii(tenant, "praise.phone", row["contact_phone"])
    out["staff_ids"] = [UUID(s) for s in json_value(row["staff_ids"], [])]
    return out


async def praise_rows(
    tenant: TenantInfo,
    actor: Actor,
    *,
    store_id: UUID | None = None,
    staff_id: UUID | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    before: tuple[dt.datetime, UUID] | None = None,
    ids: list[UUID] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The praise ``actor`` sees, newest first: at a store, naming a staff member, received in
    ``[start, end)``, after the cursor ``before`` (received at, id), or by id; decoded."""
    rows = await visible_rows(
        tenant,
        actor,
        "complaints_praise",
        PRAISE_COLUMNS,
        "received_at",
        [
            ("t.store_id = {}", store_id),
            # the JSON list holds canonical UUID strings, each quoted
            ("t.staff_ids LIKE {}", f'%"{staff_id}"%' if staff_id else None),
            ("t.received_at >= {}", start),
            ("t.received_at < {}", end),
            (
                "(t.received_at < {} OR (t.received_at = {} AND t.id < {}))",
                [before[0], before[0], before[1]] if before else None,
            ),
        ],
        ids,
        limit,
    )
    return [praise_decoded(tenant, r) for r in rows]
