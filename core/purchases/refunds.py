"""Refunds (CORE-6): a purchase with negative lines referencing the sale, never more than was
bought, the paid share of the refunded lines, and ``purchase.refunded`` for plugins."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import uuid4

from core.context import Actor, TenantInfo
from core.db import get_database, is_unique_violation, tenant_tx
from core.errors import ValidationFailed
from core.events import emit
from core.purchases._common import (
    Raced,
    event_payload,
    existing,
    load,
    qty_milli,
    replay,
    request_hash,
    utc,
)
from core.purchases.schemas import PurchaseView, RefundInput
from core.rfm import apply_purchase
from core.sql import run
from core.tables import Purchase, PurchaseLine
from core.validation import convert

__all__ = ["record_refund"]


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
    occurred = utc(payload.occurred_at, "occurred_at")
    digest = request_hash("refund", payload)
    replayed = await replay(tenant, idempotency_key, payload.receipt_no, digest)
    if replayed is not None:
        return replayed
    refund_id = uuid4()
    try:
        async with tenant_tx(tenant.id):
            if await existing(idempotency_key, payload.receipt_no, digest) is not None:
                raise Raced
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
                for ln in await PurchaseLine.select()
                .where(PurchaseLine.purchase_id == payload.refund_of)
                .order_by(PurchaseLine.line_no)  # refund lines are numbered in this order
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
                    qty = qty_milli(req.qty, f"lines.{i}.qty")
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
                await apply_purchase(
                    tenant,
                    original["customer_id"],
                    original["store_id"],
                    kind="refund",
                    amount_minor=-amount,
                    occurred_at=occurred,
                )
            view = await load(refund_id)
            event = event_payload(view) | {
                "refunded_share": str(Decimal(amount) / paid) if paid else "1"
            }
            await emit("purchase.refunded", refund_id, event)
            return view
    except Raced:
        pass
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    replayed = await replay(tenant, idempotency_key, payload.receipt_no, digest)
    if replayed is None:  # pragma: no cover
        raise RuntimeError("unique violation without a winning refund")
    return replayed
