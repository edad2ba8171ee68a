"""Spending and correcting points: idempotent on the client's key, never overdrawn."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from core import (
    Actor,
    Conflict,
    TenantInfo,
    ValidationFailed,
    active_customer,
    audit,
    fetch,
    is_unique_violation,
    purchase_facts,
    tenant_tx,
)
from plugins.loyalty.ledger._store import (
    MAX_POINTS,
    Movement,
    credit,
    current_balance,
    lock_account,
    move,
    record,
)
from plugins.loyalty.ledger.awards import announce, expiry_for, portion
from plugins.loyalty.ledger.merge import successor
from plugins.loyalty.settings import LoyaltySettings
from plugins.loyalty.tables import LoyaltyEntry

__all__ = ["adjust", "keyed", "redeem", "replay", "request_hash", "restore_paid"]

R = TypeVar("R")


def request_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(msgspec.json.encode(payload, order="sorted")).hexdigest()


async def replay(key: str, digest: str) -> Movement | None:
    row = await LoyaltyEntry.select().where(LoyaltyEntry.idempotency_key == key).first()
    if row is None:
        return None
    if row["request_hash"] != digest:
        raise Conflict(
            "this idempotency key was already used for a different request",
            field="idempotencyKey",
            code="idempotency_mismatch",
        )
    return Movement(
        id=row["id"],
        customer_id=row["customer_id"],
        kind=row["kind"],
        points=row["points"],
        growth=row["growth"],
        source=row["source"],
        reason=row["reason"],
        created_at=row["created_at"],
        balance=await current_balance(row["tenant_id"], row["customer_id"]),
        replayed=True,
    )


async def keyed(
    tenant: TenantInfo,
    key: str,
    digest: str,
    apply: Callable[[], Awaitable[R]],
    replayed: Callable[[Movement], Awaitable[R]],
) -> R:
    """An idempotent ledger request: the first call with ``key`` runs ``apply`` in one tenant
    transaction; later calls (or a concurrent one that lost the race on the key's unique index)
    answer ``replayed`` of the entry written; the same key with another payload is an error."""
    if not 1 <= len(key) <= 100:
        raise ValidationFailed("idempotencyKey must be 1-100 characters", field="idempotencyKey")
    try:
        async with tenant_tx(tenant.id):
            found = await replay(key, digest)
            return await (replayed(found) if found is not None else apply())
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    async with tenant_tx(tenant.id, write=False):
        found = await replay(key, digest)
        assert found is not None
        return await replayed(found)


async def _keyed(
    tenant: TenantInfo,
    actor: Actor,
    customer_id: UUID,
    key: str,
    points: int,
    kind: str,
    source: str,
    reason: str,
    purchase_id: UUID | None = None,
) -> Movement:
    digest = request_hash(
        {"customer": str(customer_id), "points": points, "kind": kind, "reason": reason}
        | ({"purchase": str(purchase_id)} if purchase_id else {})
    )

    async def apply() -> Movement:
        await active_customer(tenant, customer_id)
        if purchase_id is not None:
            sale = await purchase_facts(tenant, purchase_id)
            if sale is None or sale.kind != "sale" or sale.customer_id != customer_id:
                raise ValidationFailed(
                    "no sale of this customer with this id",
                    field="purchaseId",
                    code="unknown_purchase",
                )
        balance = await move(tenant.id, customer_id, points, 0)
        if balance is None:
            raise ValidationFailed("not enough points", field="points", code="insufficient_points")
        moved = await record(
            tenant,
            customer_id,
            kind=kind,
            points=points,
            source=source,
            idempotency_key=key,
            request_hash=digest,
            actor=f"{actor.kind}:{actor.id}"[:64],
            reason=reason,
            purchase_id=purchase_id,
        )
        if kind == "adjust":
            await audit(  # CORE-12: manual points adjustments are audited
                actor,
                "loyalty.adjust",
                subject_type="customer",
                subject_id=customer_id,
                details={"points": points, "reason": reason, "entry_id": str(moved.id)},
            )
            if points > 0:
                await announce(moved, None)
        return dataclasses.replace(moved, balance=balance)

    async def same(found: Movement) -> Movement:
        return found

    return await keyed(tenant, key, digest, apply, same)


async def redeem(
    tenant: TenantInfo,
    actor: Actor,
    customer_id: UUID,
    points: int,
    key: str,
    reason: str = "",
    *,
    purchase_id: UUID | None = None,
) -> Movement:
    """Spend points (at the till: ``purchases:write``). Idempotent on ``key``; never overdraws.
    ``purchase_id``: the sale the points paid for (a refund of it returns them, once)."""
    actor.require("purchases:write")
    if not 1 <= points <= MAX_POINTS:
        raise ValidationFailed(f"points must be 1-{MAX_POINTS}", field="points")
    return await _keyed(
        tenant, actor, customer_id, key, -points, "redeem", "redemption", reason, purchase_id
    )


async def restore_paid(tenant: TenantInfo, settings: LoyaltySettings, event: dict[str, Any]) -> int:
    """A refund of a sale paid (partly) with points returns the refunded share of those points
    (rounded down, never more than were spent on it in total), once per refund; the points
    returned expire like a new award. The points restored."""
    if not event.get("refund_of_id"):
        return 0
    refund_id, sale_id = UUID(event["purchase_id"]), UUID(event["refund_of_id"])
    share = min(max(Decimal(event.get("refunded_share", "1")), Decimal(0)), Decimal(1))
    async with tenant_tx(tenant.id):
        rows = await fetch(
            "SELECT customer_id, kind, points, source_id FROM loyalty_entry "
            "WHERE tenant_id = {} AND purchase_id = {} AND kind IN ('redeem', 'restore')",
            tenant.id,
            sale_id,
        )
        if not rows or any(
            r["kind"] == "restore" and str(r["source_id"]) == str(refund_id) for r in rows
        ):
            return 0
        spent = -sum(int(r["points"]) for r in rows if r["kind"] == "redeem")
        restored = sum(int(r["points"]) for r in rows if r["kind"] == "restore")
        points = min(spent - restored, portion(spent, share, up=False))
        if points <= 0:
            return 0
        # The points go back to whoever holds the payer's standing now (a merge moves it).
        payer = UUID(str(next(r for r in rows if r["kind"] == "redeem")["customer_id"]))
        customer_id = await successor(tenant.id, payer)
        now = dt.datetime.now(dt.UTC)
        await lock_account(tenant.id, customer_id)
        await credit(tenant.id, customer_id, points, 0)
        await record(
            tenant,
            customer_id,
            kind="restore",
            points=points,
            source="refund",
            source_id=refund_id,
            purchase_id=sale_id,
            actor="system",
            reason="points paid for a refunded sale returned",
            expires_at=expiry_for(settings, now),
        )
        return points


async def adjust(
    tenant: TenantInfo, actor: Actor, customer_id: UUID, points: int, key: str, reason: str
) -> Movement:
    """A manual correction (``loyalty:adjust``), with a reason; audited by the ledger itself."""
    actor.require("loyalty:adjust")
    if not reason.strip() or len(reason) > 500:
        raise ValidationFailed("a reason (1-500 characters) is required", field="reason")
    if points == 0 or abs(points) > MAX_POINTS:
        raise ValidationFailed(f"points must be non-zero, at most {MAX_POINTS}", field="points")
    return await _keyed(tenant, actor, customer_id, key, points, "adjust", "manual", reason)
