"""The ledger's storage: accounts (running sums) and append-only entries.

Every movement is an append-only ``loyalty_entry`` and, in the same transaction, a conditional
update of the customer's ``loyalty_account`` (``points + delta >= 0``): a redemption that would
overdraw changes nothing, and concurrent redemptions serialize on the account row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from core import (
    Actor,
    TenantInfo,
    ValidationFailed,
    fetch,
    insert_rows,
    is_postgres,
    is_unique_violation,
    tenant_read,
    tenant_tx,
)
from plugins.loyalty.tables import LoyaltyEntry

__all__ = [
    "ENTRY_DEFAULTS",
    "MAX_POINTS",
    "Movement",
    "activated",
    "balances",
    "credit",
    "current_balance",
    "debit",
    "ensure_account",
    "entries",
    "entry",
    "expire_lot",
    "lock_account",
    "move",
    "move_pending",
    "record",
    "standings",
]

MAX_POINTS = 10_000_000


@dataclass(frozen=True)
class Movement:
    """A ledger entry as callers see it, with the balance after it."""

    id: UUID
    customer_id: UUID
    kind: str
    points: int
    growth: int
    source: str
    reason: str
    created_at: dt.datetime
    balance: int | None = None
    replayed: bool = False


async def ensure_account(customer_id: UUID, tenant_id: UUID) -> None:
    await fetch(
        "INSERT INTO loyalty_account (id, tenant_id, customer_id, points, growth, updated_at) "
        "VALUES ({}, {}, {}, 0, 0, {}) ON CONFLICT (tenant_id, customer_id) DO NOTHING",
        uuid4(),
        tenant_id,
        customer_id,
        dt.datetime.now(dt.UTC),
    )


async def move(tenant_id: UUID, customer_id: UUID, points: int, growth: int) -> int | None:
    """Add to the account unless points would go negative; the new balance, or ``None``."""
    if points >= 0 and growth >= 0:
        return (await credit(tenant_id, customer_id, points, growth))[0]
    await ensure_account(customer_id, tenant_id)
    rows = await fetch(
        "UPDATE loyalty_account SET points = points + {}, growth = growth + {}, updated_at = {} "
        "WHERE tenant_id = {} AND customer_id = {} AND points + {} >= 0 RETURNING points",
        points,
        growth,
        dt.datetime.now(dt.UTC),
        tenant_id,
        customer_id,
        points,
    )
    return int(rows[0]["points"]) if rows else None


async def credit(
    tenant_id: UUID, customer_id: UUID, points: int, growth: int, pending: int = 0
) -> tuple[int, int, str]:
    """Add (never subtract) in one statement, opening the account if need be; the account's
    ``(points, growth, tier)`` after it."""
    rows = await fetch(
        "INSERT INTO loyalty_account (id, tenant_id, customer_id, points, growth, pending, tier, "
        "updated_at) VALUES ({}, {}, {}, {}, {}, {}, '', {}) "
        "ON CONFLICT (tenant_id, customer_id) DO UPDATE SET "
        "points = loyalty_account.points + excluded.points, "
        "growth = loyalty_account.growth + excluded.growth, "
        "pending = loyalty_account.pending + excluded.pending, updated_at = excluded.updated_at "
        "RETURNING points, growth, tier",
        uuid4(),
        tenant_id,
        customer_id,
        points,
        growth,
        pending,
        dt.datetime.now(dt.UTC),
    )
    return int(rows[0]["points"]), int(rows[0]["growth"]), str(rows[0]["tier"])


_ENTRY_DEFAULTS: dict[str, Any] = {
    "points": 0,
    "growth": 0,
    "pending": 0,
    "available_at": None,
    "source_id": None,
    "idempotency_key": None,
    "request_hash": "",
    "reversal_of": None,
    "actor": "",
    "reason": "",
    "expires_at": None,
    "purchase_id": None,
}


ENTRY_DEFAULTS: dict[str, Any] = {
    "points": 0,
    "growth": 0,
    "pending": 0,
    "available_at": None,
    "source_id": None,
    "idempotency_key": None,
    "request_hash": "",
    "reversal_of": None,
    "actor": "",
    "reason": "",
    "expires_at": None,
    "purchase_id": None,
}


async def record(tenant: TenantInfo, customer_id: UUID, **values: Any) -> Movement:
    """Append one ledger entry (a plain ``INSERT``: the table grants nothing else)."""
    entry_id = uuid4()
    now = dt.datetime.now(dt.UTC)
    row = {"tenant_id": tenant.id, "id": entry_id, "customer_id": customer_id, "created_at": now}
    await insert_rows("loyalty_entry", [row | ENTRY_DEFAULTS | values])
    return Movement(
        id=entry_id,
        customer_id=customer_id,
        kind=values["kind"],
        points=values.get("points", 0),
        growth=values.get("growth", 0),
        source=values["source"],
        reason=values.get("reason", ""),
        created_at=now,
    )


async def current_balance(tenant_id: UUID, customer_id: UUID, *, lock: bool = False) -> int:
    """The balance; ``lock``: hold the account row to the end of the transaction (PostgreSQL;
    SQLite's writers are serialized already)."""
    rows = await fetch(
        "SELECT points FROM loyalty_account WHERE tenant_id = {} AND customer_id = {}"
        + (" FOR UPDATE" if lock and is_postgres() else ""),
        tenant_id,
        customer_id,
    )
    return int(rows[0]["points"]) if rows else 0


async def lock_account(tenant_id: UUID, customer_id: UUID) -> int:
    """Hold the customer's account row to the end of the transaction; its balance."""
    await ensure_account(customer_id, tenant_id)
    return await current_balance(tenant_id, customer_id, lock=True)


async def move_pending(tenant_id: UUID, customer_id: UUID, pending: int, growth: int) -> int | None:
    """Add to the pending balance unless it would go negative; the new pending, or ``None``."""
    rows = await fetch(
        "UPDATE loyalty_account SET pending = pending + {}, growth = growth + {}, updated_at = {} "
        "WHERE tenant_id = {} AND customer_id = {} AND pending + {} >= 0 RETURNING pending",
        pending,
        growth,
        dt.datetime.now(dt.UTC),
        tenant_id,
        customer_id,
        pending,
    )
    return int(rows[0]["pending"]) if rows else None


async def activated(tenant_id: UUID, award_id: UUID) -> bool:
    """Whether a pending award has been activated (or voided) already."""
    rows = await fetch(
        "SELECT COUNT(*) AS n FROM loyalty_entry WHERE tenant_id = {} AND source = 'activation' "
        "AND source_id = {}",
        tenant_id,
        award_id,
    )
    return bool(rows[0]["n"])


async def debit(
    tenant: TenantInfo,
    actor: Actor,
    customer_id: UUID,
    points: int,
    key: str,
    digest: str,
    source: str,
    reason: str,
) -> tuple[Movement, int]:
    """Spend ``points`` in the open transaction (keyed); ``(entry, new balance)``."""
    balance = await move(tenant.id, customer_id, -points, 0)
    if balance is None:
        raise ValidationFailed("not enough points", field="points", code="insufficient_points")
    moved = await record(
        tenant,
        customer_id,
        kind="redeem",
        points=-points,
        source=source,
        idempotency_key=key,
        request_hash=digest,
        actor=f"{actor.kind}:{actor.id}"[:64],
        reason=reason,
    )
    return moved, balance


async def expire_lot(tenant: TenantInfo, customer_id: UUID, lot_id: UUID, points: int) -> int:
    """Lapse what is left of one award; once per award (unique source). Returns points taken."""
    try:
        async with tenant_tx(tenant.id):
            balance = await current_balance(tenant.id, customer_id, lock=True)
            taken = min(points, balance)
            if taken <= 0:
                return 0
            if await move(tenant.id, customer_id, -taken, 0) is None:
                raise RuntimeError("loyalty account changed under a locked expiry")
            await record(
                tenant,
                customer_id,
                kind="expire",
                points=-taken,
                source="expiry",
                source_id=lot_id,
                actor="system",
                reason="points expired",
            )
            return taken
    except Exception as exc:
        if is_unique_violation(exc):  # expired already (a concurrent or repeated run)
            return 0
        raise


async def standings(
    tenant: TenantInfo, customer_ids: list[UUID]
) -> dict[UUID, tuple[int, int, str, int]]:
    """``{customer: (points, growth, tier code, pending)}`` in one statement (a DataLoader
    batch)."""
    if not customer_ids:
        return {}
    # the till's look-up reads this on every request: one statement straight on the pool
    rows = await tenant_read(
        tenant.id,
        "SELECT customer_id, points, growth, tier, pending FROM loyalty_account "
        "WHERE tenant_id = {} AND customer_id IN (" + ", ".join("{}" for _ in customer_ids) + ")",
        tenant.id,
        *customer_ids,
    )
    return {
        UUID(str(r["customer_id"])): (
            int(r["points"]),
            int(r["growth"]),
            str(r["tier"]),
            int(r["pending"]),
        )
        for r in rows
    }


async def balances(tenant: TenantInfo, customer_ids: list[UUID]) -> dict[UUID, tuple[int, int]]:
    """``{customer: (points, growth)}``."""
    return {c: (p, g) for c, (p, g, _t, _n) in (await standings(tenant, customer_ids)).items()}


async def entries(
    tenant: TenantInfo,
    customer_id: UUID,
    first: int,
    before: tuple[dt.datetime, UUID] | None,
) -> list[dict[str, Any]]:
    """The customer's ledger, newest first, after the ``(created_at, id)`` cursor ``before``
    (``first + 1`` rows, to tell whether more follow)."""
    async with tenant_tx(tenant.id, write=False):
        query = LoyaltyEntry.select().where(LoyaltyEntry.customer_id == customer_id)
        if before is not None:
            at, entry_id = before
            query = query.where(
                (LoyaltyEntry.created_at < at)
                | ((LoyaltyEntry.created_at == at) & (LoyaltyEntry.id < entry_id))
            )
        rows = await query.order_by(
            LoyaltyEntry.created_at, LoyaltyEntry.id, ascending=False
        ).limit(first + 1)
        return [dict(r) for r in rows]


async def entry(tenant: TenantInfo, entry_id: UUID) -> dict[str, Any] | None:
    """One ledger entry, or ``None``."""
    async with tenant_tx(tenant.id, write=False):
        row = await LoyaltyEntry.select().where(LoyaltyEntry.id == entry_id).first()
    return dict(row) if row else None
