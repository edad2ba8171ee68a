"""Loyalty's GraphQL (API-7): ``Customer.loyalty``, ``loyaltyLedger``, ``loyaltyRedeem``,
``loyaltyAdjust`` — contributed through ``register_graphql``, present only where enabled."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

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
from plugins.loyalty import ledger, rewards
from plugins.loyalty.settings import Tier, settings_for

__all__ = ["contributions"]


@strawberry.type(description="A membership level (会员等级).")
class LoyaltyTier:
    code: str = strawberry.field(description="Tier code from the programme's settings.")
    name: str = strawberry.field(description="Display name.")
    benefits: list[str] = strawberry.field(description="What the tier brings (display text).")


@strawberry.type(description="A customer's loyalty standing.")
class LoyaltyStatus:
    points: int = strawberry.field(description="Spendable points.")
    pending: int = strawberry.field(
        description="Points earned but not yet spendable (inside the return window)."
    )
    growth: int = strawberry.field(description="Growth value (never spent; drives tiers).")
    tier: LoyaltyTier | None = strawberry.field(description="Current tier, if any reached.")
    expiring_soon: int = strawberry.field(
        description="Points that lapse within the programme's notice window (default 30 days)."
    )


@strawberry.type(description="A movement in the points ledger (never changed once written).")
class LoyaltyEntry:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    kind: str = strawberry.field(
        description="`earn`, `redeem`, `reverse`, `adjust`, `expire` or `activate` "
        "(pending points made spendable)."
    )
    points: int = strawberry.field(description="Points added (negative: taken).")
    pending: int = strawberry.field(description="Pending points added (negative: released).")
    growth: int = strawberry.field(description="Growth value added (negative: taken).")
    source: str = strawberry.field(
        description="`purchase`, `refund`, `redemption`, `manual`, `signup`, `referral`, "
        "`reward`, `expiry` or `activation`."
    )
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
        pending=row.get("pending", 0),
        growth=row["growth"],
        source=row["source"],
        reason=row["reason"],
        created_at=row["created_at"],
    )


def _tier(code: str, tier: Tier | None) -> LoyaltyTier:
    """A tier as configured (a code no longer configured keeps its code as its name)."""
    if tier is None:
        return LoyaltyTier(code=code, name=code, benefits=[])
    return LoyaltyTier(code=code, name=tier.name, benefits=list(tier.benefits))


async def resolve_customer_loyalty(root: Any, info: Info) -> LoyaltyStatus:
    ctx = context_of(info)
    tenant, actor = ctx.caller()
    actor.require("customers:read")

    async def load(ids: list[UUID]) -> list[LoyaltyStatus]:
        from plugins.loyalty.expiry import expiring_soon

        found = await ledger.standings(tenant, ids)
        settings = await settings_for(tenant)
        tiers = {t.code: t for t in settings.tiers}
        soon = await expiring_soon(
            tenant, ids, dt.datetime.now(dt.UTC), settings.expiry_notice_days
        )
        out = []
        for i in ids:
            points, growth, tier, pending = found.get(i, (0, 0, "", 0))
            out.append(
                LoyaltyStatus(
                    points=points,
                    pending=pending,
                    growth=growth,
                    tier=_tier(tier, tiers.get(tier)) if tier else None,
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


@strawberry.type(description="A reward bought with points (积分兑换).")
class LoyaltyReward:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    code: str = strawberry.field(description="Short code, unique in the tenant.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What the customer gets.")
    points_cost: int = strawberry.field(description="Points it costs.")
    stock: int | None = strawberry.field(description="Left in stock; null: unlimited.")
    per_customer_limit: int | None = strawberry.field(description="Per customer; null: no limit.")
    valid_days: int = strawberry.field(description="Days a coupon stays valid.")


@strawberry.type(description="A coupon issued for a redeemed reward.")
class LoyaltyCoupon:
    code: str = strawberry.field(description="The code to present (10 unambiguous characters).")
    status: str = strawberry.field(description="`issued` or `used`.")
    valid_until: dt.datetime = strawberry.field(description="Last moment it can be used.")
    reward_id: strawberry.ID = strawberry.field(description="The reward.")


@strawberry.type(description="Result of `loyaltyRewardRedeem`.")
class LoyaltyRewardRedeemPayload:
    coupon: LoyaltyCoupon | None = strawberry.field(description="The coupon issued.")
    balance: int | None = strawberry.field(description="Spendable points after it.")
    replayed: bool = strawberry.field(description="True when this replays an earlier request.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `loyaltyRewardCreate`.")
class LoyaltyRewardPayload:
    reward: LoyaltyReward | None = strawberry.field(description="The new reward.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="A new reward.")
class LoyaltyRewardInput:
    code: str = strawberry.field(description="Short code (letters, digits, `_-`).")
    name: str = strawberry.field(description="Display name.")
    points_cost: int = strawberry.field(description="Points it costs (≥ 1).")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Details.")
    stock: int | None = strawberry.field(
        default=strawberry.UNSET, description="Stock; omit: unlimited."
    )
    per_customer_limit: int | None = strawberry.field(
        default=strawberry.UNSET, description="Per customer; omit: no limit."
    )
    valid_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="Days a coupon stays valid (default 30)."
    )


def _reward(row: dict[str, Any]) -> LoyaltyReward:
    return LoyaltyReward(
        id=to_global_id("LoyaltyReward", row["id"]),
        code=row["code"],
        name=row["name"],
        description=row["description"],
        points_cost=row["points_cost"],
        stock=row["stock"],
        per_customer_limit=row["per_customer_limit"],
        valid_days=row["valid_days"],
    )


async def resolve_rewards(info: Info) -> list[LoyaltyReward]:
    tenant, actor = context_of(info).caller()
    return [_reward(r) for r in await rewards.list_rewards(tenant, actor)]


async def resolve_reward_create(info: Info, input: LoyaltyRewardInput) -> LoyaltyRewardPayload:
    tenant, actor = context_of(info).caller()
    data = {
        f.name: getattr(input, f.name)
        for f in dataclasses.fields(input)
        if getattr(input, f.name) is not strawberry.UNSET
    }
    row, errors = await attempt(lambda: rewards.create_reward(tenant, actor, data))
    return LoyaltyRewardPayload(reward=_reward(row) if row else None, errors=errors)


async def resolve_reward_redeem(
    info: Info, customer_id: strawberry.ID, reward_id: strawberry.ID, idempotency_key: str
) -> LoyaltyRewardRedeemPayload:
    tenant, actor = context_of(info).caller()

    async def run() -> tuple[ledger.Movement, dict[str, Any]]:
        customer = from_global_id(customer_id, "Customer", field="customerId")
        reward = from_global_id(reward_id, "LoyaltyReward", field="rewardId")
        return await rewards.redeem_reward(tenant, actor, customer, reward, idempotency_key)

    done, errors = await attempt(run)
    if done is None:
        return LoyaltyRewardRedeemPayload(coupon=None, balance=None, replayed=False, errors=errors)
    moved, coupon = done
    return LoyaltyRewardRedeemPayload(
        coupon=LoyaltyCoupon(
            code=coupon["code"],
            status=coupon["status"],
            valid_until=coupon["valid_until"],
            reward_id=to_global_id("LoyaltyReward", coupon["reward_id"]),
        ),
        balance=moved.balance,
        replayed=moved.replayed,
        errors=[],
    )


@strawberry.type(description="Result of `loyaltyCouponUse`.")
class LoyaltyCouponPayload:
    coupon: LoyaltyCoupon | None = strawberry.field(description="The coupon, now used.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


async def resolve_coupon_use(info: Info, code: str) -> LoyaltyCouponPayload:
    tenant, actor = context_of(info).caller()
    row, errors = await attempt(lambda: rewards.use_coupon(tenant, actor, code))
    coupon = (
        LoyaltyCoupon(
            code=row["code"],
            status=row["status"],
            valid_until=row["valid_until"],
            reward_id=to_global_id("LoyaltyReward", row["reward_id"]),
        )
        if row
        else None
    )
    return LoyaltyCouponPayload(coupon=coupon, errors=errors)


@strawberry.type(description="Result of `loyaltyReferralRecord`.")
class LoyaltyReferralPayload:
    ok: bool = strawberry.field(description="True when the referral was recorded.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


async def resolve_referral_record(
    info: Info, customer_id: strawberry.ID, referrer_id: strawberry.ID
) -> LoyaltyReferralPayload:
    tenant, actor = context_of(info).caller()

    async def run() -> bool:
        customer = from_global_id(customer_id, "Customer", field="customerId")
        referrer = from_global_id(referrer_id, "Customer", field="referrerId")
        await ledger.refer(tenant, actor, customer, referrer)
        return True

    ok, errors = await attempt(run)
    return LoyaltyReferralPayload(ok=bool(ok), errors=errors)


def contributions() -> list[GraphQLContribution]:
    return [
        GraphQLContribution(
            queries={
                "loyalty_ledger": strawberry.field(
                    resolver=resolve_ledger,
                    description="A customer's points ledger, newest first.",
                ),
                "loyalty_rewards": strawberry.field(
                    resolver=resolve_rewards, description="The active rewards catalogue."
                ),
            },
            mutations={
                "loyalty_coupon_use": strawberry.mutation(
                    resolver=resolve_coupon_use,
                    description="Mark a coupon used at the till (once, while valid).",
                ),
                "loyalty_reward_create": strawberry.mutation(
                    resolver=resolve_reward_create,
                    description="Add a reward to the catalogue (permission `loyalty:rewards`).",
                ),
                "loyalty_reward_redeem": strawberry.mutation(
                    resolver=resolve_reward_redeem,
                    description="Buy a reward with points: a coupon code. Idempotent on `idempotencyKey`.",
                ),
                "loyalty_redeem": strawberry.mutation(
                    resolver=resolve_redeem,
                    description="Spend points. Idempotent on `idempotencyKey`; never overdraws.",
                ),
                "loyalty_referral_record": strawberry.mutation(
                    resolver=resolve_referral_record,
                    description="Record who referred a new customer (before their first "
                    "purchase); the referrer earns the referral bonus on that purchase.",
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
