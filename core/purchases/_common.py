"""What sales and refunds share: quantities, request hashes, replays, views, event payloads."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from core.context import Actor, TenantInfo
from core.db import current_tenant, fetch, tenant_read, tenant_tx
from core.errors import IdempotencyMismatch, NotFound, ValidationFailed
from core.money import from_minor
from core.purchases.schemas import PurchaseLineView, PurchaseView
from core.tables import Purchase, PurchaseLine
from core.validation import instant

__all__ = [
    "Raced",
    "event_payload",
    "existing",
    "get_purchase",
    "line_view",
    "load",
    "qty_milli",
    "replay",
    "request_hash",
    "utc",
]

MAX_QTY = Decimal(1_000_000)


def qty_milli(qty: Decimal, field: str) -> int:
    if not qty.is_finite() or qty <= 0 or qty > MAX_QTY:
        raise ValidationFailed(
            "quantity must be positive and at most 1,000,000", field=field, code="invalid_quantity"
        )
    scaled = qty * 1000
    if scaled != scaled.to_integral_value():
        raise ValidationFailed(
            "quantities have at most 3 decimals", field=field, code="invalid_quantity"
        )
    return int(scaled)


def request_hash(kind: str, payload: msgspec.Struct) -> str:
    return hashlib.sha256(kind.encode() + msgspec.json.encode(payload, order="sorted")).hexdigest()


def utc(value: dt.datetime | None, field: str) -> dt.datetime:
    """When the sale or refund happened: now, or a time between 1990 and a day ahead."""
    return instant(value, field)


async def existing(
    idempotency_key: str | None, receipt_no: str | None, request_hash: str
) -> UUID | None:
    """The purchase an earlier identical request recorded, or None; mismatch is an error.
    Runs in the open tenant transaction (one statement)."""
    if idempotency_key is None and receipt_no is None:
        return None
    rows = await fetch(
        "SELECT id, request_hash, idempotency_key FROM purchase "
        "WHERE tenant_id = {} AND (idempotency_key = {} OR receipt_no = {})",
        current_tenant.get(),
        idempotency_key,
        receipt_no,
    )
    rows.sort(key=lambda r: r["idempotency_key"] != idempotency_key)  # the key's match first
    for row in rows:
        if row["request_hash"] != request_hash:
            by_key = idempotency_key is not None and row["idempotency_key"] == idempotency_key
            raise IdempotencyMismatch(
                f"this {'idempotency key' if by_key else 'receipt number'} was already used "
                "for a different purchase",
                field="idempotency_key" if by_key else "receipt_no",
            )
        return UUID(str(row["id"]))
    return None


async def load(purchase_id: UUID) -> PurchaseView:
    row = await Purchase.select().where(Purchase.id == purchase_id).first()
    if row is None:
        raise NotFound("purchase not found", field="id")
    lines = (
        await PurchaseLine.select()
        .where(PurchaseLine.purchase_id == purchase_id)
        .order_by(PurchaseLine.line_no)
    )
    cur = row["currency"]
    return PurchaseView(
        id=row["id"],
        kind=row["kind"],
        customer_id=row["customer_id"],
        store_id=row["store_id"],
        staff_id=row["staff_id"],
        occurred_at=row["occurred_at"],
        amount=from_minor(row["amount_minor"], cur),
        currency=cur,
        channel=row["channel"],
        receipt_no=row["receipt_no"],
        refund_of_id=row["refund_of_id"],
        lines=[line_view(ln, cur) for ln in lines],
    )


async def get_purchase(tenant: TenantInfo, actor: Actor, purchase_id: UUID) -> PurchaseView:
    """A sale or refund with its lines; a store-scoped caller sees only its stores' purchases
    (another store's is :class:`NotFound`, like a missing one)."""
    actor.require("purchases:read")
    async with tenant_tx(tenant.id, write=False):
        view = await load(purchase_id)
    if not actor.sees_store(view.store_id):
        raise NotFound("purchase not found", field="id")
    return view


async def replay(
    tenant: TenantInfo, key: str | None, receipt: str | None, digest: str
) -> PurchaseView | None:
    if key is None and receipt is None:
        return None
    found = await tenant_read(
        tenant.id,
        "SELECT id FROM purchase WHERE tenant_id = {} AND (idempotency_key = {} OR receipt_no = {})",
        tenant.id,
        key,
        receipt,
    )
    if not found:  # the common case: one statement, no ORM
        return None
    async with tenant_tx(tenant.id, write=False):
        found_id = await existing(key, receipt, digest)
        if found_id is None:
            return None
        view = await load(found_id)
        view.replayed = True
        return view


def line_view(line: dict[str, Any], currency: str) -> PurchaseLineView:
    return PurchaseLineView(
        line_no=line["line_no"],
        sku=line["sku"],
        name=line["name"],
        category=line["category"],
        qty=Decimal(line["qty_milli"]) / 1000,
        unit_price=from_minor(line["unit_price_minor"], currency),
        amount=from_minor(line["amount_minor"], currency),
    )


class Raced(Exception):
    """Another transaction recorded the same request between our check and our insert."""


def event_payload(view: PurchaseView, customer: dict[str, Any] | None = None) -> dict[str, Any]:
    """``purchase.recorded`` / ``purchase.refunded``: the purchase and what handlers need of its
    customer (documented in the hookspec), so plugins never read the core's tables."""
    return {
        "purchase_id": str(view.id),
        "kind": view.kind,
        "customer_id": str(view.customer_id) if view.customer_id else None,
        "customer": customer,
        "store_id": str(view.store_id),
        "staff_id": str(view.staff_id) if view.staff_id else None,
        "receipt_no": view.receipt_no,
        "channel": view.channel,
        "amount": str(view.amount),
        "currency": view.currency,
        "occurred_at": view.occurred_at.isoformat(),
        "refund_of_id": str(view.refund_of_id) if view.refund_of_id else None,
        "lines": [
            {
                "line_no": ln.line_no,
                "sku": ln.sku,
                "name": ln.name,
                "category": ln.category,
                "qty": str(ln.qty),
                "amount": str(ln.amount),
            }
            for ln in view.lines
        ],
    }
