"""Loyalty's GraphQL (API-7): ``Customer.loyalty``, ``loyaltyLedger``, ``loyaltyRedeem``,
``loyaltyAdjust`` — contributed through ``register_graphql``, present only where enabled."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import msgspec
import strawberry
from strawberry.types import Info

from core import ValidationFailed
from core.graphql import (
    Connection,
    GraphQLContribution,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    decode_cursor,
    from_global_id,
    to_global_id,
)
from plugins.loyalty import ledger

__all__ = ["contributions"]


@strawberry.type(description="A membership level (会员等级).")
class LoyaltyTier:
    code: str = strawberry.field(description="Tier code from the programme's settings.")
    name: str = strawberry.field(description="Display name.")


@strawberry.type(description="A customer's loyalty standing.")
class LoyaltyStatus:
    points: int = strawberry.field(description="Spendable points.")
    growth: int = strawberry.field(description="Growth value (never spent; drives tiers).")
    tier: LoyaltyTier | None = strawberry.field(description="Current tier, if any reached.")
    expiring_soon: int = strawberry.field(
        description="Points that lapse within the programme's notice window (default 30 days)."
    )


@strawberry.type(description="A movement in the points ledger (never changed once written).")
class LoyaltyEntry:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    kind: str = strawberry.field(description="`earn`, `redeem`, `reverse` or `adjust`.")
    points: int = strawberry.field(description="Points added (negative: taken).")
    growth: int = strawberry.field(description="Growth value added (negative: taken).")
    source: str = strawberry.field(description="`purchase`, `refund`, `redemption`, `manual`.")
    reason: str = strawberry.field(description="Why (refunds, adjustments).")
    created_at: dt.datetime = strawberry.field(description="When.")
    uid: strawberry.Private[UUID]


@strawberry.type(description="Result of `loyaltyRedeem` / `loyaltyAdjust`.")
class LoyaltyMovePayload:
    entry: LoyaltyEntry | None = strawberry.field(description="The ledger entry written.")
    balance: int | None = strawberry.field(description="Spendable points after it.")
    replayed: bool = strawberry.field(description="True when this replays an earlier request.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


def _entry(values: dict[str, Any] | ledger.Movement) -> LoyaltyEntry:
    row = dataclasses.asdict(values) if isinstance(values, ledger.Movement) else values
    return LoyaltyEntry(
        id=to_global_id("LoyaltyEntry", row["id"]),
        uid=row["id"],
        kind=row["kind"],
        points=row["points"],
        growth=row["growth"],
        source=row["source"],
        reason=row["reason"],
        created_at=row["created_at"],
    )


async def resolve_customer_loyalty(root: Any, info: Info) -> LoyaltyStatus:
    ctx = context_of(info)
    tenant, actor = ctx.caller()
    actor.require("customers:read")

    async def load(ids: list[UUID]) -> list[LoyaltyStatus]:
        from core.plugins import get_runtime
        from plugins.loyalty.expiry import expiring_soon
        from plugins.loyalty.settings import LoyaltySettings

        found = await ledger.standings(tenant, ids)
        raw = await get_runtime().settings(tenant.id, "loyalty")
        settings = msgspec.convert(raw, LoyaltySettings)
        names = {t.code: t.name for t in settings.tiers}
        soon = await expiring_soon(
            tenant, ids, dt.datetime.now(dt.UTC), settings.expiry_notice_days
        )
        out = []
        for i in ids:
            points, growth, tier = found.get(i, (0, 0, ""))
            out.append(
                LoyaltyStatus(
                    points=points,
                    growth=growth,
                    tier=LoyaltyTier(code=tier, name=names.get(tier, tier)) if tier else None,
                    expiring_soon=soon.get(i, 0),
                )
            )
        return out

    result: LoyaltyStatus = await ctx.loader("loyalty.status", load).load(root.uid)
    return result


async def resolve_ledger(
    info: Info, customer_id: strawberry.ID, first: int = 20, after: str | None = None
) -> Connection[LoyaltyEntry]:
    tenant, actor = context_of(info).caller()
    actor.require("customers:read")
    check_first(first)
    cursor = decode_cursor(after)
    try:
        at, _, entry_id = (cursor or "").partition("|")
        before = (dt.datetime.fromisoformat(at), UUID(entry_id)) if cursor else None
    except ValueError:
        raise ValidationFailed("malformed cursor", field="after", code="invalid_cursor") from None
    customer = from_global_id(customer_id, "Customer", field="customerId")
    rows = await ledger.entries(tenant, customer, first, before)
    return connection(
        [_entry(r) for r in rows], lambda e: f"{e.created_at.isoformat()}|{e.uid}", first
    )


async def _move(run: Callable[[], Awaitable[ledger.Movement]]) -> LoyaltyMovePayload:
    moved, errors = await attempt(run)
    if moved is None:
        return LoyaltyMovePayload(entry=None, balance=None, replayed=False, errors=errors)
    return LoyaltyMovePayload(
        entry=_entry(moved), balance=moved.balance, replayed=moved.replayed, errors=[]
    )


async def resolve_redeem(
    info: Info,
    customer_id: strawberry.ID,
    points: int,
    idempotency_key: str,
    reason: str = "",
) -> LoyaltyMovePayload:
    tenant, actor = context_of(info).caller()

    async def run() -> ledger.Movement:
        customer = from_global_id(customer_id, "Customer", field="customerId")
        return await ledger.redeem(tenant, actor, customer, points, idempotency_key, reason)

    return await _move(run)


async def resolve_adjust(
    info: Info, customer_id: strawberry.ID, points: int, reason: str, idempotency_key: str
) -> LoyaltyMovePayload:
    tenant, actor = context_of(info).caller()

    async def run() -> ledger.Movement:
        customer = from_global_id(customer_id, "Customer", field="customerId")
        return await ledger.adjust(tenant, actor, customer, points, idempotency_key, reason)

    return await _move(run)


def contributions() -> list[GraphQLContribution]:
    return [
        GraphQLContribution(
            queries={
                "loyalty_ledger": strawberry.field(
                    resolver=resolve_ledger,
                    description="A customer's points ledger, newest first.",
                )
            },
            mutations={
                "loyalty_redeem": strawberry.mutation(
                    resolver=resolve_redeem,
                    description="Spend points. Idempotent on `idempotencyKey`; never overdraws.",
                ),
                "loyalty_adjust": strawberry.mutation(
                    resolver=resolve_adjust,
                    description="Correct a balance by hand (permission `loyalty:adjust`, reason required).",
                ),
            },
            fields={
                "Customer": {
                    "loyalty": strawberry.field(
                        resolver=resolve_customer_loyalty,
                        description="Points and growth value (loyalty module).",
                    )
                }
            },
        )
    ]
