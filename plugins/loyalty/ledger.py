"""The points ledger (LOY): accrual on sales, reversal on refunds, redemption, adjustment.

Every movement is an append-only ``loyalty_entry`` and, in the same transaction, a conditional
update of the customer's ``loyalty_account`` (``points + delta >= 0``): a redemption that would
overdraw changes nothing, and concurrent redemptions serialize on the account row. Accrual and
reversal run from the durable purchase events, so each happens exactly once per sale or refund
(the delivery marker, and a unique index on the entry's source).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4

import msgspec

from core import Actor, Conflict, NotFound, TenantInfo, ValidationFailed
from core.db import (
    current_tenant,
    fetch,
    get_database,
    insert_rows,
    is_unique_violation,
    tenant_tx,
)
from core.events import emit
from plugins.loyalty.settings import LoyaltySettings
from plugins.loyalty.tables import LoyaltyEntry
from plugins.loyalty.tiers import promote

__all__ = [
    "Movement",
    "accrue",
    "activate",
    "adjust",
    "balances",
    "check_customer",
    "debit",
    "entries",
    "keyed",
    "lock_account",
    "redeem",
    "refer",
    "release_pending",
    "replay",
    "request_hash",
    "reverse",
    "signup_bonus",
    "standings",
    "survey_bonus",
]

MAX_POINTS = 10_000_000
R = TypeVar("R")


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


async def _ensure_account(customer_id: UUID, tenant_id: UUID) -> None:
    await fetch(
        "INSERT INTO loyalty_account (id, tenant_id, customer_id, points, growth, updated_at) "
        "VALUES ({}, {}, {}, 0, 0, {}) ON CONFLICT (tenant_id, customer_id) DO NOTHING",
        uuid4(),
        tenant_id,
        customer_id,
        dt.datetime.now(dt.UTC),
    )


async def _move(tenant_id: UUID, customer_id: UUID, points: int, growth: int) -> int | None:
    """Add to the account unless points would go negative; the new balance, or ``None``."""
    if points >= 0 and growth >= 0:
        return (await _credit(tenant_id, customer_id, points, growth))[0]
    await _ensure_account(customer_id, tenant_id)
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


async def _credit(
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
}


async def _record(tenant: TenantInfo, customer_id: UUID, **values: Any) -> Movement:
    """Append one ledger entry (a plain ``INSERT``: the table grants nothing else)."""
    entry_id = uuid4()
    now = dt.datetime.now(dt.UTC)
    row = {"tenant_id": tenant.id, "id": entry_id, "customer_id": customer_id, "created_at": now}
    await insert_rows("loyalty_entry", [row | _ENTRY_DEFAULTS | values])
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


def _earned(
    event: dict[str, Any], settings: LoyaltySettings, multiplier: Decimal
) -> tuple[int, int]:
    """Points: each line at its rate (SKU, category or base), scaled to what was paid (a
    discounted sale earns on the paid amount), times the tier and birthday multipliers, rounded
    down. Growth: the paid amount at the growth rate (no multipliers)."""
    amount = Decimal(event["amount"])
    if amount < settings.min_spend or amount <= 0:
        return 0, 0
    lines = event.get("lines") or []
    listed = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
    if listed > 0:
        weighted = sum(
            (
                Decimal(line["amount"]) * settings.rate_for(line["sku"], line.get("category", ""))
                for line in lines
            ),
            Decimal(0),
        )
        base = weighted * amount / listed
    else:
        base = amount * settings.points_per_unit
    return math.floor(base * multiplier), math.floor(amount * settings.growth_per_unit)


def _multiplier(
    tenant: TenantInfo,
    settings: LoyaltySettings,
    tier_code: str | None,
    birthday: dt.date | str | None,
    occurred_at: str,
) -> Decimal:
    """The tier's multiplier times the birthday multiplier (on the birthday, in the tenant's
    timezone)."""
    from zoneinfo import ZoneInfo

    multiplier = Decimal(1)
    if tier_code:
        tier = next((t for t in settings.tiers if t.code == tier_code), None)
        multiplier *= tier.multiplier if tier else Decimal(1)
    if settings.birthday_multiplier != 1 and birthday is not None:
        day = dt.datetime.fromisoformat(occurred_at).astimezone(ZoneInfo(tenant.timezone)).date()
        if isinstance(birthday, str):
            birthday = dt.date.fromisoformat(birthday)
        if (birthday.month, birthday.day) == (day.month, day.day):
            multiplier *= settings.birthday_multiplier
    return multiplier


async def accrue(tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings) -> None:
    """Points and growth for a sale (``purchase.recorded``); once per sale. Four statements:
    one read (earned already? tier, birthday), the account, the entry, the event."""
    if not event.get("customer_id") or event.get("kind") != "sale":
        return
    customer_id, sale_id = UUID(event["customer_id"]), UUID(event["purchase_id"])
    async with tenant_tx(tenant.id):
        facts = (
            await fetch(
                "SELECT (SELECT COUNT(*) FROM loyalty_entry WHERE tenant_id = {} "
                "AND source = 'purchase' AND source_id = {}) AS earned, "
                "(SELECT tier FROM loyalty_account WHERE tenant_id = {} AND customer_id = {}) "
                "AS tier, (SELECT birthday FROM customer WHERE tenant_id = {} AND id = {}) "
                "AS birthday",
                tenant.id,
                sale_id,
                tenant.id,
                customer_id,
                tenant.id,
                customer_id,
            )
        )[0]
        if facts["earned"]:
            return
        multiplier = _multiplier(
            tenant, settings, facts["tier"], facts["birthday"], event["occurred_at"]
        )
        points, growth = _earned(event, settings, multiplier)
        if points == 0 and growth == 0:
            return
        now = dt.datetime.now(dt.UTC)
        # With a return window the points are held (growth counts at once, tiers rise at once).
        total_growth, tier = await _award(
            tenant,
            settings,
            customer_id,
            points,
            "purchase",
            sale_id,
            now,
            growth=growth,
            pending_days=settings.pending_days,
        )
        await promote(tenant, settings, customer_id, now, (total_growth, tier))
        if settings.referral_bonus:
            await _referral_bonus(tenant, settings, customer_id, now)


def _expiry(settings: LoyaltySettings, now: dt.datetime) -> dt.datetime | None:
    return now + dt.timedelta(days=settings.expiry_days) if settings.expiry_days else None


async def _referral_bonus(
    tenant: TenantInfo, settings: LoyaltySettings, customer_id: UUID, now: dt.datetime
) -> None:
    """The referrer's bonus on the referred customer's first sale: once per referred customer
    (a unique source), in the accrual's transaction."""
    found = await fetch(
        "SELECT r.referrer_id, (SELECT COUNT(*) FROM loyalty_entry e WHERE e.tenant_id = {} "
        "AND e.source = 'referral' AND e.source_id = {}) AS paid FROM loyalty_referral r "
        "WHERE r.tenant_id = {} AND r.customer_id = {}",
        tenant.id,
        customer_id,
        tenant.id,
        customer_id,
    )
    if not found or found[0]["paid"]:
        return
    referrer = UUID(str(found[0]["referrer_id"]))
    # Held for the return window like the sale it rewards (refer, buy, return: no bonus yet).
    await _award(
        tenant,
        settings,
        referrer,
        settings.referral_bonus,
        "referral",
        customer_id,
        now,
        pending_days=settings.pending_days,
        reason="referral bonus",
    )


async def _award(
    tenant: TenantInfo,
    settings: LoyaltySettings,
    customer_id: UUID,
    points: int,
    source: str,
    source_id: UUID,
    now: dt.datetime,
    *,
    growth: int = 0,
    pending_days: int = 0,
    reason: str = "",
) -> tuple[int, str]:
    """An award (a sale's points, a bonus): credited and recorded with its unique source, and
    announced — or, with ``pending_days``, held pending (announced when it activates). The
    account's ``(growth, tier)`` after it."""
    held = bool(pending_days)
    _points, total_growth, tier = await _credit(
        tenant.id, customer_id, 0 if held else points, growth, pending=points if held else 0
    )
    timing: dict[str, Any] = (
        {"pending": points, "available_at": now + dt.timedelta(days=pending_days)}
        if held
        else {"points": points, "expires_at": _expiry(settings, now)}
    )
    entry = await _record(
        tenant,
        customer_id,
        kind="earn",
        growth=growth,
        source=source,
        source_id=source_id,
        actor="system",
        reason=reason,
        **timing,
    )
    if not held:
        await _awarded(entry, source_id)
    return total_growth, tier


async def _awarded(entry: Movement, source_id: UUID | None) -> None:
    """``loyalty.points_awarded``, durable, in the transaction of the entry."""
    await emit(
        "loyalty.points_awarded",
        entry.id,
        {
            "customer_id": str(entry.customer_id),
            "entry_id": str(entry.id),
            "points": entry.points,
            "growth": entry.growth,
            "source": entry.source,
            "source_id": str(source_id) if source_id else None,
        },
    )


async def signup_bonus(tenant: TenantInfo, customer_id: UUID, settings: LoyaltySettings) -> None:
    """The sign-up bonus, once per customer (a unique source), if the programme has one."""
    if settings.signup_bonus <= 0:
        return
    async with tenant_tx(tenant.id):
        if await LoyaltyEntry.exists().where(
            LoyaltyEntry.source == "signup", LoyaltyEntry.source_id == customer_id
        ):
            return
        await _award(
            tenant,
            settings,
            customer_id,
            settings.signup_bonus,
            "signup",
            customer_id,
            dt.datetime.now(dt.UTC),
            reason="sign-up bonus",
        )


async def survey_bonus(
    tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings
) -> None:
    """The survey-completion bonus (``survey.completed``: ``response_id``, ``customer_id``),
    once per response (a unique source), for a customer of this tenant."""
    if settings.survey_bonus <= 0 or not event.get("customer_id") or not event.get("response_id"):
        return
    customer_id, response_id = UUID(event["customer_id"]), UUID(event["response_id"])
    async with tenant_tx(tenant.id):
        done = await fetch(
            "SELECT (SELECT COUNT(*) FROM loyalty_entry WHERE tenant_id = {} AND source = 'survey' "
            "AND source_id = {}) AS paid, (SELECT COUNT(*) FROM customer WHERE tenant_id = {} "
            "AND id = {} AND status = 'active') AS known",
            tenant.id,
            response_id,
            tenant.id,
            customer_id,
        )
        if done[0]["paid"] or not done[0]["known"]:
            return
        await _award(
            tenant,
            settings,
            customer_id,
            settings.survey_bonus,
            "survey",
            response_id,
            dt.datetime.now(dt.UTC),
            reason="survey bonus",
        )


async def reverse(tenant: TenantInfo, event: dict[str, Any]) -> None:
    """Take back what a refunded sale earned, in proportion to the refunded share (rounded up,
    never more than the sale earned in total, never below a zero balance); once per refund.
    Points still pending (inside the return window) are taken from the pending balance."""
    if not event.get("refund_of_id"):
        return
    refund_id, sale_id = UUID(event["purchase_id"]), UUID(event["refund_of_id"])
    share = min(max(Decimal(event.get("refunded_share", "1")), Decimal(0)), Decimal(1))
    async with tenant_tx(tenant.id):
        if await LoyaltyEntry.exists().where(
            LoyaltyEntry.source == "refund", LoyaltyEntry.source_id == refund_id
        ):
            return
        earned = (
            await LoyaltyEntry.select(
                LoyaltyEntry.id,
                LoyaltyEntry.customer_id,
                LoyaltyEntry.points,
                LoyaltyEntry.growth,
                LoyaltyEntry.pending,
            )
            .where(LoyaltyEntry.source == "purchase", LoyaltyEntry.source_id == sale_id)
            .first()
        )
        if earned is None:
            if await _accrual_outstanding(tenant, sale_id):
                # The sale's own accrual has not been applied yet (it is retrying, or waits
                # behind the refund): fail, so this reversal is retried after it.
                raise RuntimeError(f"sale {sale_id} has not accrued yet; reversal retried")
            return  # the sale earned nothing (or predates the programme)
        customer_id = earned["customer_id"]  # who earned it (the sale's customer)
        # Locked first: a concurrent redemption or activation cannot slip in between.
        balance = await lock_account(tenant.id, customer_id)
        taken = await LoyaltyEntry.select(
            LoyaltyEntry.points, LoyaltyEntry.growth, LoyaltyEntry.pending
        ).where(LoyaltyEntry.reversal_of == earned["id"])
        original = earned["points"] + earned["pending"]  # an award is one or the other
        left_points = original + sum(r["points"] + r["pending"] for r in taken)
        left_growth = earned["growth"] + sum(r["growth"] for r in taken)
        points = min(left_points, math.ceil(original * share))
        growth = min(left_growth, math.ceil(earned["growth"] * share))
        held = earned["pending"] > 0 and not await _activated(earned["id"])
        if held:  # still inside the return window: taken from the pending balance
            moved = await _move_pending(tenant.id, customer_id, -points, -growth)
            reason = "refund (points were pending)"
        else:
            shortfall = max(0, points - balance)
            points -= shortfall  # spent already: take back what is there, record the rest
            moved = await _move(tenant.id, customer_id, -points, -growth)
            reason = f"refund; {shortfall} points already spent" if shortfall else "refund"
        if moved is None:
            raise RuntimeError("loyalty account changed under a locked reversal")
        await _record(
            tenant,
            customer_id,
            kind="reverse",
            growth=-growth,
            source="refund",
            source_id=refund_id,
            reversal_of=earned["id"],
            actor="system",
            reason=reason,
            **({"pending": -points} if held else {"points": -points}),
        )


async def _accrual_outstanding(tenant: TenantInfo, sale_id: UUID) -> bool:
    """Whether loyalty may still accrue for the sale: its ``purchase.recorded`` has a pending
    loyalty delivery, or is undelivered and loyalty has not reached it yet."""
    rows = await fetch(
        "SELECT o.dispatched_at AS dispatched, d.status AS status FROM event_outbox o "
        "LEFT JOIN event_delivery d ON d.tenant_id = o.tenant_id AND d.event_id = o.id "
        "AND d.plugin_id = 'loyalty' WHERE o.tenant_id = {} AND o.name = 'purchase.recorded' "
        "AND o.subject_id = {}",
        tenant.id,
        str(sale_id),
    )
    return any(
        r["status"] == "pending" or (r["status"] is None and r["dispatched"] is None) for r in rows
    )


async def _still_bought(tenant: TenantInfo, customer_id: UUID) -> bool:
    """Whether the customer keeps some of what their sales earned (not everything refunded)."""
    rows = await fetch(
        "SELECT COALESCE(SUM(points + pending), 0) AS n FROM loyalty_entry WHERE tenant_id = {} "
        "AND customer_id = {} AND source IN ('purchase', 'refund')",
        tenant.id,
        customer_id,
    )
    return int(rows[0]["n"]) > 0


async def _activated(award_id: UUID) -> bool:
    rows = await fetch(
        "SELECT COUNT(*) AS n FROM loyalty_entry WHERE tenant_id = {} AND source = 'activation' "
        "AND source_id = {}",
        current_tenant.get(),
        award_id,
    )
    return bool(rows[0]["n"])


async def _move_pending(
    tenant_id: UUID, customer_id: UUID, pending: int, growth: int
) -> int | None:
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


async def activate(
    tenant: TenantInfo, settings: LoyaltySettings, award: dict[str, Any], now: dt.datetime
) -> int:
    """Make what is left of a pending award spendable (its return window has passed): once per
    award (a unique source), serialized with refunds on the account row. Points activated."""
    customer_id = UUID(str(award["customer_id"]))
    try:
        async with tenant_tx(tenant.id):
            await lock_account(tenant.id, customer_id)
            if await _activated(award["id"]):
                return 0
            taken = await fetch(
                "SELECT COALESCE(SUM(pending), 0) AS p FROM loyalty_entry "
                "WHERE tenant_id = {} AND reversal_of = {}",
                tenant.id,
                award["id"],
            )
            left = int(award["pending"]) + int(taken[0]["p"])
            if left > 0 and await _move_pending(tenant.id, customer_id, -left, 0) is None:
                raise RuntimeError("pending points changed under a locked activation")
            voided = (
                left > 0
                and award.get("source") == "referral"
                and not await _still_bought(tenant, UUID(str(award["source_id"])))
            )
            if voided:  # the referred customer returned everything they bought
                await _record(
                    tenant,
                    customer_id,
                    kind="activate",
                    pending=-left,
                    source="activation",
                    source_id=award["id"],
                    actor="system",
                    reason="referral void: the referred customer's purchases were refunded",
                )
                return 0
            if left > 0:
                await _credit(tenant.id, customer_id, left, 0)
            entry = await _record(
                tenant,
                customer_id,
                kind="activate",
                points=max(left, 0),
                pending=-max(left, 0),
                source="activation",
                source_id=award["id"],
                actor="system",
                reason="return window passed" if left > 0 else "refunded while pending",
                expires_at=_expiry(settings, now) if left > 0 else None,
            )
            if left > 0:
                await _awarded(entry, award["id"])
            return max(left, 0)
    except Exception as exc:
        if is_unique_violation(exc):  # activated by a concurrent run
            return 0
        raise


async def release_pending(tenant: TenantInfo, settings: LoyaltySettings, now: dt.datetime) -> int:
    """Activate every pending award whose return window has passed (the hourly job); points
    activated. A rerun, or a concurrent one, activates nothing twice."""
    released = 0
    while True:
        async with tenant_tx(tenant.id, write=False):
            due = await fetch(
                "SELECT e.id, e.customer_id, e.pending, e.source, e.source_id FROM loyalty_entry e "
                "WHERE e.tenant_id = {} AND e.available_at IS NOT NULL AND e.available_at <= {} "
                "AND e.pending > 0 AND NOT EXISTS (SELECT 1 FROM loyalty_entry a "
                "WHERE a.tenant_id = e.tenant_id AND a.source = 'activation' "
                "AND a.source_id = e.id) ORDER BY e.available_at, e.id LIMIT 500",
                tenant.id,
                now,
            )
        for award in due:
            released += await activate(tenant, settings, award, now)
        if len(due) < 500:
            return released


async def refer(tenant: TenantInfo, actor: Actor, customer_id: UUID, referrer_id: UUID) -> None:
    """Record who referred ``customer_id`` (``customers:write``): once, before their first
    sale, by another active customer. The referral bonus follows that first sale."""
    actor.require("customers:write")
    if customer_id == referrer_id:
        raise ValidationFailed(
            "a customer cannot refer themselves", field="referrerId", code="self_referral"
        )
    async with tenant_tx(tenant.id):
        await check_customer(tenant.id, customer_id)
        try:
            await check_customer(tenant.id, referrer_id)
        except NotFound:
            raise NotFound("referrer not found", field="referrerId") from None
        found = await fetch(
            "SELECT (SELECT COUNT(*) FROM loyalty_referral WHERE tenant_id = {} "
            "AND customer_id = {}) AS referred, (SELECT COUNT(*) FROM purchase "
            "WHERE tenant_id = {} AND customer_id = {} AND kind = 'sale') AS sales",
            tenant.id,
            customer_id,
            tenant.id,
            customer_id,
        )
        if found[0]["referred"]:
            raise Conflict(
                "this customer's referrer is already recorded",
                field="customerId",
                code="already_referred",
            )
        if found[0]["sales"]:
            raise ValidationFailed(
                "a referral is recorded before the customer's first purchase",
                field="customerId",
                code="not_a_new_customer",
            )
        await insert_rows(
            "loyalty_referral",
            [
                {
                    "tenant_id": tenant.id,
                    "id": uuid4(),
                    "customer_id": customer_id,
                    "referrer_id": referrer_id,
                    "actor": f"{actor.kind}:{actor.id}"[:64],
                    "created_at": dt.datetime.now(dt.UTC),
                }
            ],
        )


async def lock_account(tenant_id: UUID, customer_id: UUID) -> int:
    """Hold the customer's account row to the end of the transaction; its balance."""
    await _ensure_account(customer_id, tenant_id)
    return await _current(tenant_id, customer_id, lock=True)


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
    balance = await _move(tenant.id, customer_id, -points, 0)
    if balance is None:
        raise ValidationFailed("not enough points", field="points", code="insufficient_points")
    moved = await _record(
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
            balance = await _current(tenant.id, customer_id, lock=True)
            taken = min(points, balance)
            if taken <= 0:
                return 0
            if await _move(tenant.id, customer_id, -taken, 0) is None:
                raise RuntimeError("loyalty account changed under a locked expiry")
            await _record(
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


async def _current(tenant_id: UUID, customer_id: UUID, *, lock: bool = False) -> int:
    """The balance; ``lock``: hold the account row to the end of the transaction (PostgreSQL;
    SQLite's writers are serialized already)."""
    rows = await fetch(
        "SELECT points FROM loyalty_account WHERE tenant_id = {} AND customer_id = {}"
        + (" FOR UPDATE" if lock and get_database().is_postgres else ""),
        tenant_id,
        customer_id,
    )
    return int(rows[0]["points"]) if rows else 0


def request_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(msgspec.json.encode(payload, order="sorted")).hexdigest()


async def check_customer(tenant_id: UUID, customer_id: UUID) -> None:
    rows = await fetch(
        "SELECT status FROM customer WHERE tenant_id = {} AND id = {}", tenant_id, customer_id
    )
    if not rows or rows[0]["status"] != "active":
        raise NotFound("customer not found", field="customerId")


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
        balance=await _current(row["tenant_id"], row["customer_id"]),
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
) -> Movement:
    digest = request_hash(
        {"customer": str(customer_id), "points": points, "kind": kind, "reason": reason}
    )

    async def apply() -> Movement:
        await check_customer(tenant.id, customer_id)
        balance = await _move(tenant.id, customer_id, points, 0)
        if balance is None:
            raise ValidationFailed("not enough points", field="points", code="insufficient_points")
        moved = await _record(
            tenant,
            customer_id,
            kind=kind,
            points=points,
            source=source,
            idempotency_key=key,
            request_hash=digest,
            actor=f"{actor.kind}:{actor.id}"[:64],
            reason=reason,
        )
        if kind == "adjust" and points > 0:
            await _awarded(moved, None)
        return dataclasses.replace(moved, balance=balance)

    async def same(found: Movement) -> Movement:
        return found

    return await keyed(tenant, key, digest, apply, same)


async def redeem(
    tenant: TenantInfo, actor: Actor, customer_id: UUID, points: int, key: str, reason: str = ""
) -> Movement:
    """Spend points (at the till: ``purchases:write``). Idempotent on ``key``; never overdraws."""
    actor.require("purchases:write")
    if not 1 <= points <= MAX_POINTS:
        raise ValidationFailed(f"points must be 1-{MAX_POINTS}", field="points")
    return await _keyed(tenant, actor, customer_id, key, -points, "redeem", "redemption", reason)


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


async def standings(
    tenant: TenantInfo, customer_ids: list[UUID]
) -> dict[UUID, tuple[int, int, str, int]]:
    """``{customer: (points, growth, tier code, pending)}`` in one statement (a DataLoader
    batch)."""
    if not customer_ids:
        return {}
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT customer_id, points, growth, tier, pending FROM loyalty_account "
            "WHERE tenant_id = {} AND customer_id IN ("
            + ", ".join("{}" for _ in customer_ids)
            + ")",
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
