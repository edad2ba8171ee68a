"""Praise and damaged goods over GraphQL: ``praiseRecord``, ``praises``, ``damageRecord``,
``damages`` and the ``node(id:)`` loaders of ``ComplaintPraise`` and ``ComplaintDamage``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core import (
    Actor,
    Connection,
    Node,
    TenantInfo,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    input_data,
    mask_phone,
    to_global_id,
)
from plugins.complaints.damage import damage_rows, record_damage
from plugins.complaints.graphql.types import ComplaintChannel
from plugins.complaints.praise import praise_rows, record_praise
from plugins.complaints.records import time_cursor

__all__ = [
    "ComplaintDamage",
    "ComplaintPraise",
    "damage_view",
    "load_damage",
    "load_praise",
    "mutations",
    "praise_view",
    "resolve_damages",
    "resolve_praises",
]

UNSET: Any = strawberry.UNSET
IDS = {"staff_ids": "Staff", "staff_id": "Staff", "complaint_id": "Complaint"}


def _f(description: str) -> Any:
    return strawberry.field(default=UNSET, description=description)


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


def _gid(kind: str, value: Any) -> strawberry.ID | None:
    return to_global_id(kind, UUID(str(value))) if value else None


@strawberry.enum(description="Who is responsible for damaged goods (明确店方是否负有责任).")
class ComplaintDamageResponsibility(Enum):
    CUSTOMER = "customer"
    STORE = "store"
    SUPPLIER = "supplier"
    UNKNOWN = "unknown"


@strawberry.type(description="Praise (表扬) for staff of a store, read out at the store meeting.")
class ComplaintPraise(Node):
    uid: strawberry.Private[UUID]
    store_id: strawberry.ID | None = strawberry.field(description="The store.")
    staff_ids: list[strawberry.ID] = strawberry.field(description="The staff members praised.")
    channel: ComplaintChannel = strawberry.field(description="How it came in.")
    text: str = strawberry.field(description="What the customer said.")
    customer_id: strawberry.ID | None = strawberry.field(description="The customer, if known.")
    contact_name: str = strawberry.field(description="The caller's name, if given.")
    contact_phone: str = strawberry.field(description="The caller's phone, masked.")
    received_at: dt.datetime = strawberry.field(description="When it was received.")
    recorded_by: str = strawberry.field(description="Who recorded it: `staff:<id>`, ….")


@strawberry.type(description="Goods damaged in a store (顾客损坏商品) and how it was settled.")
class ComplaintDamage(Node):
    uid: strawberry.Private[UUID]
    store_id: strawberry.ID | None = strawberry.field(description="The store.")
    sku: str = strawberry.field(description="The product's SKU.")
    product: str = strawberry.field(description="The product's name.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened.")
    customer_hurt: bool = strawberry.field(description="Whether the customer was hurt.")
    injury: str = strawberry.field(description="The injury, when the customer was hurt.")
    responsibility: ComplaintDamageResponsibility = strawberry.field(description="Who is liable.")
    settlement: str = strawberry.field(description="How it was settled (赔偿).")
    settlement_amount: Decimal = strawberry.field(description="The amount paid or waived.")
    description: str = strawberry.field(description="What happened.")
    customer_id: strawberry.ID | None = strawberry.field(description="The customer, if known.")
    complaint_id: strawberry.ID | None = strawberry.field(description="The complaint it came with.")
    recorded_by: str = strawberry.field(description="Who recorded it.")


def praise_view(row: dict[str, Any]) -> ComplaintPraise:
    """A decoded praise row (:func:`plugins.complaints.praise.praise_decoded`) as GraphQL."""
    uid = UUID(str(row["id"]))
    return ComplaintPraise(
        id=to_global_id("ComplaintPraise", uid),
        uid=uid,
        store_id=_gid("Store", row["store_id"]),
        staff_ids=[to_global_id("Staff", s) for s in row["staff_ids"]],
        channel=ComplaintChannel(row["channel"]),
        text=row["text"],
        customer_id=_gid("Customer", row["customer_id"]),
        contact_name=row["contact_name"],
        contact_phone=mask_phone(row["contact_phone"]),
        received_at=row["received_at"],
        recorded_by=row["recorded_by"],
    )


def damage_view(row: dict[str, Any]) -> ComplaintDamage:
    """A damage row (:func:`plugins.complaints.damage.damage_rows`) as GraphQL."""
    uid = UUID(str(row["id"]))
    return ComplaintDamage(
        id=to_global_id("ComplaintDamage", uid),
        uid=uid,
        store_id=_gid("Store", row["store_id"]),
        sku=row["sku"],
        product=row["product"],
        occurred_at=row["occurred_at"],
        customer_hurt=bool(row["customer_hurt"]),
        injury=row["injury"],
        responsibility=ComplaintDamageResponsibility(row["responsibility"]),
        settlement=row["settlement"],
        settlement_amount=row["settlement_amount"],
        description=row["description"],
        customer_id=_gid("Customer", row["customer_id"]),
        complaint_id=_gid("Complaint", row["complaint_id"]),
        recorded_by=row["recorded_by"],
    )


@strawberry.input(description="Praise to record (seed 003 §5: 登记在信息反馈表上交店长).")
class PraiseRecordInput:
    store_id: strawberry.ID = strawberry.field(description="The store.")
    staff_ids: list[strawberry.ID] = strawberry.field(
        description="The staff members praised (1-20, working in the store)."
    )
    channel: ComplaintChannel = strawberry.field(description="How it came in.")
    text: str = strawberry.field(description="What the customer said, 1-4000 characters.")
    customer_id: strawberry.ID | None = _f("The customer, when known.")
    contact_name: str | None = _f("The caller's name (kept encrypted).")
    contact_phone: str | None = _f("The caller's phone (kept encrypted).")
    received_at: dt.datetime | None = _f("When it was received (default: now).")
    idempotency_key: str | None = _f("Retry-safe key: the same key answers the same praise.")


@strawberry.input(description="Damaged goods to record (seed 003 §6).")
class DamageRecordInput:
    store_id: strawberry.ID = strawberry.field(description="The store.")
    sku: str | None = _f("The product's SKU (this or `product`).")
    product: str | None = _f("The product's name.")
    occurred_at: dt.datetime | None = _f("When it happened (default: now).")
    customer_hurt: bool | None = _f("Whether the customer was hurt (default false).")
    injury: str | None = _f("The injury (only when the customer was hurt).")
    responsibility: ComplaintDamageResponsibility | None = _f("Who is liable (default UNKNOWN).")
    settlement: str | None = _f("How it was settled (赔偿).")
    settlement_amount: Decimal | None = _f("The amount, in the tenant's currency (default 0).")
    description: str | None = _f("What happened.")
    customer_id: strawberry.ID | None = _f("The customer, when known.")
    complaint_id: strawberry.ID | None = _f("The complaint it came with (the same store's).")
    idempotency_key: str | None = _f("Retry-safe key: the same key answers the same record.")


@strawberry.input(description="Which praise (all given conditions apply).")
class PraiseFilter:
    store_id: strawberry.ID | None = _f("At this store.")
    staff_id: strawberry.ID | None = _f("Naming this staff member.")
    received_from: dt.datetime | None = _f("Received at or after.")
    received_to: dt.datetime | None = _f("Received before.")


@strawberry.input(description="Which damaged-goods records (all given conditions apply).")
class DamageFilter:
    store_id: strawberry.ID | None = _f("At this store.")
    occurred_from: dt.datetime | None = _f("Happened at or after.")
    occurred_to: dt.datetime | None = _f("Happened before.")
    responsibility: ComplaintDamageResponsibility | None = _f("With this responsibility.")
    customer_hurt: bool | None = _f("Only those where the customer was hurt (true) or not.")


@strawberry.type(description="Result of `praiseRecord`.")
class PraiseRecordPayload:
    praise: ComplaintPraise | None = strawberry.field(description="The praise recorded.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `damageRecord`.")
class DamageRecordPayload:
    damage: ComplaintDamage | None = strawberry.field(description="The record.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


async def _praise(tenant: TenantInfo, actor: Actor, uid: UUID | None) -> ComplaintPraise | None:
    if uid is None:
        return None
    rows = await praise_rows(tenant, actor, ids=[uid], limit=1)
    return praise_view(rows[0]) if rows else None


async def _damage(tenant: TenantInfo, actor: Actor, uid: UUID | None) -> ComplaintDamage | None:
    if uid is None:
        return None
    rows = await damage_rows(tenant, actor, ids=[uid], limit=1)
    return damage_view(rows[0]) if rows else None


async def resolve_praises(
    info: Info,
    first: Annotated[int, _arg("Page size, 1-100.")] = 20,
    after: Annotated[str | None, _arg("Cursor of the last praise seen.")] = None,
    filter: Annotated[PraiseFilter | None, _arg("Only this praise.")] = None,
) -> Connection[ComplaintPraise]:
    tenant, actor = context_of(info).caller()
    actor.require("complaints:read")
    check_first(first)
    f = input_data(filter, ids=IDS) if filter is not None else {}
    rows = await praise_rows(
        tenant,
        actor,
        store_id=f.get("store_id"),
        staff_id=f.get("staff_id"),
        start=f.get("received_from"),
        end=f.get("received_to"),
        before=time_cursor(after),
        limit=first + 1,
    )
    return connection(
        [praise_view(r) for r in rows],
        lambda p: f"{p.received_at.isoformat()}|{p.uid}",
        first,
    )


async def resolve_damages(
    info: Info,
    first: Annotated[int, _arg("Page size, 1-100.")] = 20,
    after: Annotated[str | None, _arg("Cursor of the last record seen.")] = None,
    filter: Annotated[DamageFilter | None, _arg("Only these records.")] = None,
) -> Connection[ComplaintDamage]:
    tenant, actor = context_of(info).caller()
    actor.require("complaints:read")
    check_first(first)
    f = input_data(filter, ids=IDS) if filter is not None else {}
    rows = await damage_rows(
        tenant,
        actor,
        store_id=f.get("store_id"),
        start=f.get("occurred_from"),
        end=f.get("occurred_to"),
        responsibility=f.get("responsibility"),
        customer_hurt=f.get("customer_hurt"),
        before=time_cursor(after),
        limit=first + 1,
    )
    return connection(
        [damage_view(r) for r in rows],
        lambda d: f"{d.occurred_at.isoformat()}|{d.uid}",
        first,
    )


async def load_praise(info: Info, uid: UUID) -> ComplaintPraise | None:
    tenant, actor = context_of(info).caller()
    actor.require("complaints:read")
    return await _praise(tenant, actor, uid)


async def load_damage(info: Info, uid: UUID) -> ComplaintDamage | None:
    tenant, actor = context_of(info).caller()
    actor.require("complaints:read")
    return await _damage(tenant, actor, uid)


Record = Callable[..., Awaitable[UUID]]
Load = Callable[[TenantInfo, Actor, UUID | None], Awaitable[Any]]


async def _record(info: Info, input: Any, record: Record, load: Load) -> tuple[Any, Any]:
    """Run ``record`` on the decoded input (typed failures become payload errors, nothing is
    written) and load what it recorded as the caller sees it."""
    tenant, actor = context_of(info).caller()
    actor.require("complaints:create")

    async def run() -> UUID:
        data = input_data(input, ids=IDS)
        key = data.pop("idempotency_key", None)
        given = {k: v for k, v in data.items() if v is not None}
        return await record(tenant, actor, given, idempotency_key=key)

    uid, errors = await attempt(run)
    return await load(tenant, actor, uid), errors


async def praise_record(
    info: Info, input: Annotated[PraiseRecordInput, _arg("The praise.")]
) -> PraiseRecordPayload:
    praise, errors = await _record(info, input, record_praise, _praise)
    return PraiseRecordPayload(praise=praise, errors=errors)


async def damage_record(
    info: Info, input: Annotated[DamageRecordInput, _arg("The damaged goods.")]
) -> DamageRecordPayload:
    damage, errors = await _record(info, input, record_damage, _damage)
    return DamageRecordPayload(damage=damage, errors=errors)


def mutations() -> dict[str, Any]:
    return {
        "praise_record": strawberry.mutation(
            resolver=praise_record,
            description="Record praise (表扬) for staff of a store, for the store meeting.",
        ),
        "damage_record": strawberry.mutation(
            resolver=damage_record,
            description="Record damaged goods: who is liable, the settlement, any injury.",
        ),
    }
