"""Recording a sale (CORE-6): idempotent, one write transaction, the event for plugins."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import msgspec

from core.context import Actor, TenantInfo
from core.db import fetch, insert_rows, is_unique_violation, tenant_tx
from core.errors import ValidationFailed
from core.events import emit
from core.money import from_minor, to_minor
from core.plugins.hooks import has_validators, validate_hook
from core.purchases._common import (
    Raced,
    event_payload,
    existing,
    line_view,
    qty_milli,
    replay,
    request_hash,
    utc,
)
from core.purchases.schemas import PurchaseInput, PurchaseView
from core.rfm import apply_purchase
from core.validation import convert

if TYPE_CHECKING:
    from core.plugins.runtime import PluginRuntime

__all__ = ["record_purchase"]


async def record_purchase(
    tenant: TenantInfo,
    actor: Actor,
    data: PurchaseInput | dict[str, Any],
    *,
    idempotency_key: str | None = None,
    runtime: PluginRuntime | None = None,
) -> PurchaseView:
    """Record a sale, its lines, the customer's new statistics and ``purchase.recorded``.
    ``runtime``: the loaded plugins, whose ``purchase_validate`` may veto the sale."""
    actor.require("purchases:write")
    payload = convert(data, PurchaseInput)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 128:
        raise ValidationFailed("idempotency key must be 1-128 characters", field="idempotency_key")
    if not actor.sees_store(payload.store_id):
        raise ValidationFailed("unknown store", field="store_id", code="unknown_store")
    occurred = utc(payload.occurred_at, "occurred_at")
    purchase_id = uuid4()
    lines: list[dict[str, Any]] = []
    total = 0
    for i, line in enumerate(payload.lines, start=1):
        qty = qty_milli(line.qty, f"lines.{i - 1}.qty")
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
    if paid > total:
        # A discount lowers what was paid; nothing raises it above the lines (a 1.00 line paid
        # 100,000.00 would earn 100,000 points and refund -100,000.00).
        raise ValidationFailed(
            "amount cannot exceed the total of the lines", field="amount", code="invalid_amount"
        )
    digest = request_hash("sale", payload)

    # A replay answers before any plugin is asked again; with no plugin validating sales here
    # the check moves into the write transaction (one statement instead of one transaction).
    vetoable = await has_validators(runtime, tenant, "purchase_validate", payload.store_id)
    if vetoable:
        replayed = await replay(tenant, idempotency_key, payload.receipt_no, digest)
        if replayed is not None:
            return replayed
        await validate_hook(
            runtime,
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
        lines=[line_view(ln, tenant.currency) for ln in lines],
    )
    try:
        async with tenant_tx(tenant.id):
            if not vetoable and await existing(idempotency_key, payload.receipt_no, digest):
                raise Raced
            customer = await _check_references(
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
                await apply_purchase(
                    tenant,
                    payload.customer_id,
                    payload.store_id,
                    kind="sale",
                    amount_minor=paid,
                    occurred_at=occurred,
                )
            await emit("purchase.recorded", purchase_id, event_payload(view, customer))
            return view
    except Raced:
        pass
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    # An earlier or concurrent identical request recorded it: answer with its purchase.
    replayed = await replay(tenant, idempotency_key, payload.receipt_no, digest)
    if replayed is None:  # pragma: no cover - the unique index guarantees a winner exists
        raise RuntimeError("unique violation without a winning purchase")
    return replayed


async def _check_references(
    tenant_id: UUID, store_id: UUID, customer_id: UUID | None, staff_id: UUID | None
) -> dict[str, Any] | None:
    """The sale's store, customer (active) and staff member exist in the tenant — one read,
    which also gathers what the event tells plugins about the customer."""
    found = (
        await fetch(
            "SELECT (SELECT COUNT(*) FROM store WHERE tenant_id = {} AND id = {} "
            "AND closed_at IS NULL) AS store, "
            "c.status, c.birthday, c.birthday_calendar, c.home_store_id, "
            "s.first_purchase_at, "
            "(SELECT COUNT(*) FROM staff WHERE tenant_id = {} AND id = {}) AS staff "
            "FROM (SELECT 1) one "
            "LEFT JOIN customer c ON c.tenant_id = {} AND c.id = {} AND c.status = 'active' "
            "LEFT JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id",
            tenant_id,
            store_id,
            tenant_id,
            staff_id,
            tenant_id,
            customer_id,
        )
    )[0]
    if not found["store"]:
        raise ValidationFailed("unknown store", field="store_id", code="unknown_store")
    if customer_id is not None and found["status"] is None:
        raise ValidationFailed("unknown customer", field="customer_id", code="unknown_customer")
    if staff_id is not None and not found["staff"]:
        raise ValidationFailed("unknown staff member", field="staff_id", code="unknown_staff")
    if customer_id is None:
        return None
    birthday = found["birthday"]
    if isinstance(birthday, str):  # SQLite returns ISO text
        birthday = dt.date.fromisoformat(birthday)
    home = found["home_store_id"]
    return {
        "status": found["status"],
        "birthday": birthday.isoformat() if birthday else None,
        "birthday_calendar": found["birthday_calendar"] or "solar",
        "home_store_id": str(home) if home else None,
        "first_purchase": found["first_purchase_at"] is None,
    }
