"""Damaged goods (顾客损坏商品, seed 003 §6): the product, the store, when, whether the customer
was hurt (关切顾客是否受伤), who is responsible (the key question: 明确店方是否负有责任) and
how it was settled (赔偿: text and an exact amount), optionally linked to the complaint it came
with. Validated whole before anything is written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
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
    from_minor,
    instant,
    to_minor,
)
from plugins.complaints.recording import check_store, insert_once, visible_rows
from plugins.complaints.records import get_complaint

__all__ = ["DAMAGE_COLUMNS", "RESPONSIBILITIES", "DamageInput", "damage_rows", "record_damage"]

RESPONSIBILITIES = ("customer", "store", "supplier", "unknown")
MAX_AMOUNT = Decimal("1000000")
DAMAGE_COLUMNS = (
    "t.id, t.store_id, t.customer_id, t.complaint_id, t.sku, t.product, t.occurred_at, "
    "t.customer_hurt, t.injury, t.responsibility, t.settlement, t.settlement_minor, "
    "t.description, t.recorded_by, t.created_at"
)


class DamageInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What ``damageRecord`` accepts (``settlement_amount`` in the tenant's currency)."""

    store_id: UUID
    sku: str = ""
    product: str = ""
    occurred_at: dt.datetime | None = None
    customer_hurt: bool = False
    injury: str = ""
    responsibility: str = "unknown"
    settlement: str = ""
    settlement_amount: Decimal = Decimal(0)
    description: str = ""
    customer_id: UUID | None = None
    complaint_id: UUID | None = None


def _check(data: DamageInput) -> None:
    if not (data.sku.strip() or data.product.strip()):
        raise ValidationFailed("name the SKU or the product", field="sku", code="required")
    for name, limit in (("sku", 64), ("product", 200)):
        if len(getattr(data, name)) > limit:
            raise ValidationFailed(f"at most {limit} characters", field=name)
    for name in ("injury", "settlement", "description"):
        if len(getattr(data, name)) > 4000:
            raise ValidationFailed("at most 4000 characters", field=name)
    if data.responsibility not in RESPONSIBILITIES:
        raise ValidationFailed(
            f"responsibility is one of {', '.join(RESPONSIBILITIES)}", field="responsibility"
        )
    if not Decimal(0) <= data.settlement_amount <= MAX_AMOUNT:
        raise ValidationFailed(
            f"a settlement of 0 to {MAX_AMOUNT}", field="settlement_amount", code="out_of_range"
        )
    if data.injury.strip() and not data.customer_hurt:
        raise ValidationFailed(
            "an injury is described only when the customer was hurt", field="injury"
        )


async def record_damage(
    tenant: TenantInfo,
    actor: Actor,
    raw: dict[str, Any] | DamageInput,
    *,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> UUID:
    """Record damaged goods: the store seen by ``actor``, the customer active, the complaint
    one ``actor`` sees (and of the same store); a retried ``idempotency_key`` answers the first
    record. Nothing is written when any of it fails."""
    actor.require("complaints:create")
    now = now or dt.datetime.now(dt.UTC)
    data = convert(raw, DamageInput)
    _check(data)
    occurred = instant(data.occurred_at, "occurred_at", now=now)
    minor = to_minor(data.settlement_amount, tenant.currency, field="settlement_amount")
    await check_store(tenant, actor, data.store_id)
    if data.customer_id is not None:
        await active_customer(tenant, data.customer_id, field="customer_id")
    if data.complaint_id is not None:
        try:
            complaint = await get_complaint(tenant, actor, data.complaint_id)
        except NotFound:
            raise NotFound("no complaint with this id", field="complaint_id") from None
        if complaint["store_id"] != data.store_id:
            raise ValidationFailed(
                "the complaint is another store's", field="complaint_id", code="other_store"
            )
    return await insert_once(
        tenant,
        actor,
        "complaints_damage",
        idempotency_key,
        data,
        {
            "store_id": data.store_id,
            "customer_id": data.customer_id,
            "complaint_id": data.complaint_id,
            "sku": data.sku.strip(),
            "product": data.product.strip(),
            "occurred_at": occurred,
            "customer_hurt": data.customer_hurt,
            "injury": data.injury.strip(),
            "responsibility": data.responsibility,
            "settlement": data.settlement.strip(),
            "settlement_minor": minor,
            "description": data.description,
            "created_at": now,
        },
    )


async def damage_rows(
    tenant: TenantInfo,
    actor: Actor,
    *,
    store_id: UUID | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    responsibility: str | None = None,
    customer_hurt: bool | None = None,
    before: tuple[dt.datetime, UUID] | None = None,
    ids: list[UUID] | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """The damage records ``actor`` sees, newest first by when it happened: at a store, in
    ``[start, end)``, of a responsibility, with or without an injury, after the cursor
    ``before`` (occurred at, id), or by id (``settlement_amount`` as Decimal)."""
    if responsibility is not None and responsibility not in RESPONSIBILITIES:
        raise ValidationFailed(
            f"responsibility is one of {', '.join(RESPONSIBILITIES)}", field="responsibility"
        )
    rows = await visible_rows(
        tenant,
        actor,
        "complaints_damage",
        DAMAGE_COLUMNS,
        "occurred_at",
        [
            ("t.store_id = {}", store_id),
            ("t.occurred_at >= {}", start),
            ("t.occurred_at < {}", end),
            ("t.responsibility = {}", responsibility),
            ("t.customer_hurt = {}", customer_hurt),
            (
                "(t.occurred_at < {} OR (t.occurred_at = {} AND t.id < {}))",
                [before[0], before[0], before[1]] if before else None,
            ),
        ],
        ids,
        limit,
    )
    return [
        dict(r) | {"settlement_amount": from_minor(int(r["settlement_minor"]), tenant.currency)}
        for r in rows
    ]
