"""Purchases and refunds (CORE-6), recorded idempotently.

Idempotent twice over: on ``(tenant, receipt_no)`` and on ``(tenant, idempotency_key)``. A
replay with the same payload returns the original purchase (``replayed=True``); the same key
with a different payload is :class:`IdempotencyMismatch`. Concurrent duplicates meet the unique
index: one insert wins, the others read the winner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import msgspec
from msgspec import Meta

from core.context import Actor, TenantInfo
from core.db import (
    current_tenant,
    fetch,
    get_database,
    insert_rows,
    is_unique_violation,
    tenant_read,
    tenant_tx,
)
from core.errors import IdempotencyMismatch, NotFound, ValidationFailed
from core.events import emit
from core.money import from_minor, to_minor
from core.plugins.hooks import has_validators, validate_hook
from core.rfm import recompute_customers
from core.sql import run
from core.tables import Purchase, PurchaseLine
from core.validation import convert

__all__ = [
    "LineInput",
    "PurchaseInput",
    "PurchaseView",
    "RefundInput",
    "get_purchase",
    "record_purchase",
    "record_refund",
]

Channel = Literal["pos", "online", "mini_program", "phone", "other"]
Key = Annotated[str, Meta(min_length=1, max_length=128)]


class LineInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sku: Annotated[str, Meta(min_length=1, max_length=64)]
    name: Annotated[str, Meta(max_length=200)] = ""
    category: Annotated[str, Meta(max_length=100)] = ""
    qty: Decimal = Decimal(1)
    unit_price: Decimal


class PurchaseInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    store_id: UUID
    lines: Annotated[list[LineInput], Meta(min_length=1, max_length=500)]
    customer_id: UUID | None = None
    occurred_at: dt.datetime | None = None
    amount: Decimal | None = None  # paid total, if discounts applied
    channel: Channel = "pos"
    staff_id: UUID | None = None
    receipt_no: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    note: Annotated[str, Meta(max_length=1000)] = ""


class RefundLine(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    line_no: Annotated[int, Meta(ge=1)]
    qty: Decimal


class RefundInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    refund_of: UUID
    lines: Annotated[list[RefundLine], Meta(max_length=500)] | None = None  # None: everything left
    occurred_at: dt.datetime | None = None
    receipt_no: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    staff_id: UUID | None = None
    note: Annotated[str, Meta(max_length=1000)] = ""


class PurchaseLineView(msgspec.Struct, kw_only=True):
    line_no: int
    sku: str
    name: str
    category: str
    qty: Decimal
    unit_price: Decimal
    amount: Decimal


class PurchaseView(msgspec.Struct, kw_only=True):
    id: UUID
    kind: str
    customer_id: UUID | None
    store_id: UUID
    staff_id: UUID | None
    occurred_at: dt.datetime
    amount: Decimal
    currency: str
    channel: str
    receipt_no: str | None
    refund_of_id: UUID | None
    lines: list[PurchaseLineView]
    replayed: bool = False


MAX_QTY = Decimal(1_000_000)


def _qty_milli(qty: Decimal, field: str) -> int:
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


def _request_hash(kind: str, payload: msgspec.Struct) -> str:
    return hashlib.sha256(kind.encode() + msgspec.json.encode(payload, order="sorted")).hexdigest()


def _utc(value: dt.datetime | None, field: str) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    if value.tzinfo is None:
        raise ValidationFailed(
            "time must carry a timezone offset", field=field, code="naive_datetime"
        )
    return value.astimezone(dt.UTC)


async def _existing(
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


async def _load(purchase_id: UUID) -> PurchaseView:
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
        lines=[_line_view(ln, cur) for ln in lines],
    )


async def get_purchase(tenant: TenantInfo, actor: Actor, purchase_id: UUID) -> PurchaseView:
    actor.require("purchases:read")
    async with tenant_tx(tenant.id, write=False):
        return await _load(purchase_id)


async def _replay(
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
        existing = await _existing(key, receipt, digest)
        if existing is None:
            return None
        view = await _load(existing)
        view.replayed = True
        return view


async def record_purchase(
    tenant: TenantInfo,
    actor: Actor,
    data: PurchaseInput | dict[str, Any],
    *,
    idempotency_key: str | None = None,
) -> PurchaseView:
    """Record a sale, its lines, the customer's new statistics and ``purchase.recorded``."""
    actor.require("purchases:write")
    payload = convert(data, PurchaseInput)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 128:
        raise ValidationFailed("idempotency key must be 1-128 characters", field="idempotency_key")
    if not actor.sees_store(payload.store_id):
        raise ValidationFailed("unknown store", field="store_id", code="unknown_store")
    occurred = _utc(payload.occurred_at, "occurred_at")
    purchase_id = uuid4()
    lines: list[dict[str, Any]] = []
    total = 0
    for i, line in enumerate(payload.lines, start=1):
        qty = _qty_milli(line.qty, f"lines.{i - 1}.qty")
        price = to_minor(line.unit_price, tenant.currency, field=f"lines.{i - 1}.unit_price")
        if price < 0:
            raise ValidationFailed(
                "unit price cannot be negative",
                field=f"lines.{i - 1}.unit_price",
                code="invalid_amount",
            )
        amount = int((Decimal(qty) * price / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        total += amount
        lines.append(
            {
                "tenant_id": tenant.id,
                "id": uuid4(),
                "purchase_id": purchase_id,
                "line_no": i,
                "sku": line.sku,
                "name": line.name,
                "category": line.category,
                "qty_milli": qty,
                "unit_price_minor": price,
                "amount_minor": amount,
                "refund_of_line_id": None,
            }
        )
    paid = (
        to_minor(payload.amount, tenant.currency, field="amount")
        if payload.amount is not None
        else total
    )
    if paid < 0:
        raise ValidationFailed("amount cannot be negative", field="amount", code="invalid_amount")
    digest = _request_hash("sale", payload)

    # A replay answers before any plugin is asked again; with no plugin validating sales here
    # the check moves into the write transaction (one statement instead of one transaction).
    vetoable = await has_validators(tenant, "purchase_validate", payload.store_id)
    if vetoable:
        replay = await _replay(tenant, idempotency_key, payload.receipt_no, digest)
        if replay is not None:
            return replay
        await validate_hook(
            tenant,
            "purchase_validate",
            payload.store_id,
            actor=actor,
            purchase=msgspec.to_builtins(payload),
        )
    view = PurchaseView(
        id=purchase_id,
        kind="sale",
        customer_id=payload.customer_id,
        store_id=payload.store_id,
        staff_id=payload.staff_id,
        occurred_at=occurred,
        amount=from_minor(paid, tenant.currency),
        currency=tenant.currency,
        channel=payload.channel,
        receipt_no=payload.receipt_no,
        refund_of_id=None,
        lines=[_line_view(ln, tenant.currency) for ln in lines],
    )
    try:
        async with tenant_tx(tenant.id):
            if not vetoable and await _existing(idempotency_key, payload.receipt_no, digest):
                raise _Raced
            await _check_references(
                tenant.id, payload.store_id, payload.customer_id, payload.staff_id
            )
            await insert_rows(
                "purchase",
                [
                    {
                        "tenant_id": tenant.id,
                        "id": purchase_id,
                        "customer_id": payload.customer_id,
                        "store_id": payload.store_id,
                        "staff_id": payload.staff_id,
                        "kind": "sale",
                        "refund_of_id": None,
                        "occurred_at": occurred,
                        "amount_minor": paid,
                        "currency": tenant.currency,
                        "channel": payload.channel,
                        "receipt_no": payload.receipt_no,
                        "idempotency_key": idempotency_key,
                        "request_hash": digest,
                        "note": payload.note,
                        "created_at": dt.datetime.now(dt.UTC),
                    }
                ],
            )
            await insert_rows("purchase_line", lines)
            if payload.customer_id is not None:
                await recompute_customers(tenant, [payload.customer_id])
            await emit("purchase.recorded", purchase_id, _event_payload(view))
            return view
    except _Raced:
        pass
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    # An earlier or concurrent identical request recorded it: answer with its purchase.
    replay = await _replay(tenant, idempotency_key, payload.receipt_no, digest)
    if replay is None:  # pragma: no cover - the unique index guarantees a winner exists
        raise RuntimeError("unique violation without a winning purchase")
    return replay


def _line_view(line: dict[str, Any], currency: str) -> PurchaseLineView:
    return PurchaseLineView(
        line_no=line["line_no"],
        sku=line["sku"],
        name=line["name"],
        category=line["category"],
        qty=Decimal(line["qty_milli"]) / 1000,
        unit_price=from_minor(line["unit_price_minor"], currency),
        amount=from_minor(line["amount_minor"], currency),
    )


async def _check_references(
    tenant_id: UUID, store_id: UUID, customer_id: UUID | None, staff_id: UUID | None
) -> None:
    """The sale's store, customer (active) and staff member exist in the tenant: one read."""
    found = (
        await fetch(
            "SELECT (SELECT COUNT(*) FROM store WHERE tenant_id = {} AND id = {}) AS store, "
            "(SELECT COUNT(*) FROM customer WHERE tenant_id = {} AND id = {} "
            "AND status = 'active') AS customer, "
            "(SELECT COUNT(*) FROM staff WHERE tenant_id = {} AND id = {}) AS staff",
            tenant_id,
            store_id,
            tenant_id,
            customer_id,
            tenant_id,
            staff_id,
        )
    )[0]
    if not found["store"]:
        raise ValidationFailed("unknown store", field="store_id", code="unknown_store")
    if customer_id is not None and not found["customer"]:
        raise ValidationFailed("unknown customer", field="customer_id", code="unknown_customer")
    if staff_id is not None and not found["staff"]:
        raise ValidationFailed("unknown staff member", field="staff_id", code="unknown_staff")


class _Raced(Exception):
    """Another transaction recorded the same request between our check and our insert."""


def _event_payload(view: PurchaseView) -> dict[str, Any]:
    return {
        "purchase_id": str(view.id),
        "kind": view.kind,
        "customer_id": str(view.customer_id) if view.customer_id else None,
        "store_id": str(view.store_id),
        "amount": str(view.amount),
        "currency": view.currency,
        "occurred_at": view.occurred_at.isoformat(),
        "refund_of_id": str(view.refund_of_id) if view.refund_of_id else None,
        "lines": [
            {
                "line_no": ln.line_no,
                "sku": ln.sku,
                "category": ln.category,
                "qty": str(ln.qty),
                "amount": str(ln.amount),
            }
            for ln in view.lines
        ],
    }


async def record_refund(
    tenant: TenantInfo,
    actor: Actor,
    data: RefundInput | dict[str, Any],
    *,
    idempotency_key: str | None = None,
) -> PurchaseView:
    """Refund some or all remaining lines of a sale: a purchase with negative lines that
    references the original. Refunding more than was bought is refused."""
    actor.require("purchases:refund")
    payload = convert(data, RefundInput)
    occurred = _utc(payload.occurred_at, "occurred_at")
    digest = _request_hash("refund", payload)
    replay = await _replay(tenant, idempotency_key, payload.receipt_no, digest)
    if replay is not None:
        return replay
    refund_id = uuid4()
    try:
        async with tenant_tx(tenant.id):
            if await _existing(idempotency_key, payload.receipt_no, digest) is not None:
                raise _Raced
            if get_database().is_postgres:
                # Serialise refunds of one sale: the remaining quantity is read under this lock.
                await run(
                    "SELECT id FROM purchase WHERE tenant_id = :t AND id = :p FOR UPDATE",
                    t=tenant.id,
                    p=payload.refund_of,
                )
            original = (
                await Purchase.select()
                .where(Purchase.id == payload.refund_of, Purchase.kind == "sale")
                .first()
            )
            if original is None:
                raise ValidationFailed(
                    "unknown purchase to refund", field="refund_of", code="unknown_purchase"
                )
            if not actor.sees_store(original["store_id"]):
                raise ValidationFailed(
                    "unknown purchase to refund", field="refund_of", code="unknown_purchase"
                )
            orig_lines = {
                ln["line_no"]: ln
                for ln in await PurchaseLine.select().where(
                    PurchaseLine.purchase_id == payload.refund_of
                )
            }
            refunded = await run(
                "SELECT l.refund_of_line_id AS line_id, SUM(l.qty_milli) AS qty FROM purchase_line l "
                "JOIN purchase p ON p.tenant_id = l.tenant_id AND p.id = l.purchase_id "
                "WHERE l.tenant_id = :t AND p.refund_of_id = :p GROUP BY l.refund_of_line_id",
                t=tenant.id,
                p=payload.refund_of,
            )
            already = {str(r["line_id"]): -int(r["qty"]) for r in refunded}
            wanted: list[tuple[dict[str, Any], int]] = []
            if payload.lines is None:
                for ln in orig_lines.values():
                    left = ln["qty_milli"] - already.get(str(ln["id"]), 0)
                    if left > 0:
                        wanted.append((ln, left))
                if not wanted:
                    raise ValidationFailed(
                        "this purchase is already fully refunded",
                        field="refund_of",
                        code="already_refunded",
                    )
            else:
                for i, req in enumerate(payload.lines):
                    if req.line_no not in orig_lines:
                        raise ValidationFailed(
                            "no such line in the purchase",
                            field=f"lines.{i}.line_no",
                            code="unknown_line",
                        )
                    ln = orig_lines[req.line_no]
                    qty = _qty_milli(req.qty, f"lines.{i}.qty")
                    left = ln["qty_milli"] - already.get(str(ln["id"]), 0)
                    if qty > left:
                        raise ValidationFailed(
                            "refund exceeds the quantity left to refund",
                            field=f"lines.{i}.qty",
                            code="over_refund",
                        )
                    wanted.append((ln, qty))
            gross = sum(ln["amount_minor"] for ln in orig_lines.values())
            refund_lines = []
            refund_gross = 0
            for n, (ln, qty) in enumerate(wanted, start=1):
                amount = int(
                    (Decimal(ln["amount_minor"]) * qty / ln["qty_milli"]).quantize(
                        Decimal(1), rounding=ROUND_HALF_UP
                    )
                )
                refund_gross += amount
                refund_lines.append(
                    PurchaseLine(
                        purchase_id=refund_id,
                        line_no=n,
                        sku=ln["sku"],
                        name=ln["name"],
                        category=ln["category"],
                        qty_milli=-qty,
                        unit_price_minor=ln["unit_price_minor"],
                        amount_minor=-amount,
                        refund_of_line_id=ln["id"],
                    )
                )
            # Discounts apply proportionally: refund the paid share of the refunded lines.
            paid = original["amount_minor"]
            amount = (
                refund_gross
                if gross == 0
                else int(
                    (Decimal(paid) * refund_gross / gross).quantize(
                        Decimal(1), rounding=ROUND_HALF_UP
                    )
                )
            )
            await Purchase.insert(
                Purchase(
                    id=refund_id,
                    customer_id=original["customer_id"],
                    store_id=original["store_id"],
                    staff_id=payload.staff_id,
                    kind="refund",
                    refund_of_id=payload.refund_of,
                    occurred_at=occurred,
                    amount_minor=-amount,
                    currency=original["currency"],
                    channel=original["channel"],
                    receipt_no=payload.receipt_no,
                    idempotency_key=idempotency_key,
                    request_hash=digest,
                    note=payload.note,
                )
            )
            await PurchaseLine.insert(*refund_lines)
            if original["customer_id"] is not None:
                await recompute_customers(tenant, [original["customer_id"]])
            view = await _load(refund_id)
            event = _event_payload(view) | {
                "refunded_share": str(Decimal(amount) / paid) if paid else "1"
            }
            await emit("purchase.refunded", refund_id, event)
            return view
    except _Raced:
        pass
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    replay = await _replay(tenant, idempotency_key, payload.receipt_no, digest)
    if replay is None:  # pragma: no cover
        raise RuntimeError("unique violation without a winning refund")
    return replay
