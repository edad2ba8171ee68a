"""Loyalty's GraphQL (API-7): ``Customer.loyalty``, ``loyaltyLedger``, ``loyaltyRewards`` and
the loyalty mutations — contributed through ``register_graphql``, present only where enabled.

Every mutation takes one ``input`` and returns its own payload with ``errors``; ledger entries,
rewards and coupons are ``Node`` types that ``node(id:)`` loads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core import (
    Connection,
    Customer,
    GraphQLContribution,
    Node,
    UserError,
    ValidationFailed,
    attempt,
    check_first,
    connection,
    context_of,
    decode_cursor,
    input_data,
    to_global_id,
)
from plugins.loyalty import ledger, rewards
from plugins.loyalty.settings import LoyaltySettings, Tier

__all__ = ["contributions"]

IDS = {"reward_id": "LoyaltyReward", "purchase_id": "Purchase", "referrer_id": "Customer"}


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


@strawberry.enum(description="What a ledger entry records.")
class LoyaltyEntryKind(Enum):
    EARN = "earn"
    REDEEM = "redeem"
    REVERSE = "reverse"
    ADJUST = "adjust"
    EXPIRE = "expire"
    ACTIVATE = "activate"
    RESTORE = "restore"
    MERGE_IN = "merge_in"
    MERGE_OUT = "merge_out"
    GIFT = "gift"  # a coupon given away (a care campaign's offer): 0 points


@strawberry.enum(description="What caused a ledger entry.")
class LoyaltyEntrySource(Enum):
    PURCHASE = "purchase"
    REFUND = "refund"
    REDEMPTION = "redemption"
    MANUAL = "manual"
    SIGNUP = "signup"
    REFERRAL = "referral"
    SURVEY = "survey"
    REWARD = "reward"
    EXPIRY = "expiry"
    ACTIVATION = "activation"
    MERGE = "merge"
    CARE = "care"  # a care campaign's offer
    COMPLAINTS = "complaints"  # a complaint's compensation


@strawberry.enum(description="Whether a coupon can still be used.")
class LoyaltyCouponStatus(Enum):
    ISSUED = "issued"
    USED = "used"


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
    customer: strawberry.Private[UUID]

    @strawberry.field(
        description="Points that lapse within the programme's notice window (default 30 days)."
    )
    async def expiring_soon(self, info: Info) -> int:
        # Its own batch, only when asked for: it reads the customers' ledgers (lots, FIFO),
        # which the till's `loyalty { points tier { name } }` must not pay for.
        ctx = context_of(info)
        tenant, _actor = ctx.caller()

        async def load(ids: list[UUID]) -> list[int]:
            from plugins.loyalty.expiry import expiring_soon

            settings: LoyaltySettings = await ctx.settings("loyalty")
            soon = await expiring_soon(
                tenant, ids, dt.datetime.now(dt.UTC), settings.expiry_notice_days
            )
            return [soon.get(i, 0) for i in ids]

        result: int = await ctx.loader("loyalty.expiring", load).load(self.customer)
        return result


@strawberry.type(description="A movement in the points ledger (never changed once written).")
class LoyaltyEntry(Node):
    kind: LoyaltyEntryKind = strawberry.field(description="What the entry records.")
    points: int = strawberry.field(description="Points added (negative: taken).")
    pending: int = strawberry.field(description="Pending points added (negative: released).")
    growth: int = strawberry.field(description="Growth value added (negative: taken).")
    source: LoyaltyEntrySource = strawberry.field(description="What caused it.")
    reason: str = strawberry.field(description="Why (refunds, adjustments).")
    created_at: dt.datetime = strawberry.field(description="When.")
    uid: strawberry.Private[UUID]


@strawberry.type(description="A reward bought with points (积分兑换).")
class LoyaltyReward(Node):
    code: str = strawberry.field(description="Short code, unique in the tenant.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What the customer gets.")
    points_cost: int = strawberry.field(description="Points it costs.")
    stock: int | None = strawberry.field(description="Left in stock; null: unlimited.")
    per_customer_limit: int | None = strawberry.field(description="Per customer; null: no limit.")
    valid_days: int = strawberry.field(description="Days a coupon stays valid.")
    uid: strawberry.Private[UUID]


@strawberry.type(description="A coupon issued for a redeemed reward.")
class LoyaltyCoupon(Node):
    code: str = strawberry.field(description="The code to present (10 unambiguous characters).")
    status: LoyaltyCouponStatus = strawberry.field(description="Issued or used.")
    valid_until: dt.datetime = strawberry.field(description="Last moment it can be used.")
    reward_id: strawberry.ID = strawberry.field(description="The reward.")


def _entry(values: dict[str, Any] | ledger.Movement) -> LoyaltyEntry:
    row = dataclasses.asdict(values) if isinstance(values, ledger.Movement) else values
    return LoyaltyEntry(
        id=to_global_id("LoyaltyEntry", row["id"]),
        uid=row["id"],
        kind=LoyaltyEntryKind(row["kind"]),
        points=row["points"],
        pending=row.get("pending", 0),
        growth=row["growth"],
        source=LoyaltyEntrySource(row["source"]),
        reason=row["reason"],
        created_at=row["created_at"],
    )


def _reward(row: dict[str, Any]) -> LoyaltyReward:
    return LoyaltyReward(
        id=to_global_id("LoyaltyReward", row["id"]),
        uid=row["id"],
        code=row["code"],
        name=row["name"],
        description=row["description"],
        points_cost=row["points_cost"],
        stock=row["stock"],
        per_customer_limit=row["per_customer_limit"],
        valid_days=row["valid_days"],
    )


def _coupon(row: dict[str, Any]) -> LoyaltyCoupon:
    return LoyaltyCoupon(
        id=to_global_id("LoyaltyCoupon", row["id"]),
        code=row["code"],
        status=LoyaltyCouponStatus(row["status"]),
        valid_until=row["valid_until"],
        reward_id=to_global_id("LoyaltyReward", row["reward_id"]),
    )


def _tier(code: str, tier: Tier | None) -> LoyaltyTier:
    """A tier as configured (a code no longer configured keeps its code as its name)."""
    if tier is None:
        return LoyaltyTier(code=code, name=code, benefits=[])
    return LoyaltyTier(code=code, name=tier.name, benefits=list(tier.benefits))


# --- queries and Customer.loyalty ------------------------------------------------------------


async def resolve_customer_loyalty(root: Customer, info: Info) -> LoyaltyStatus:
    ctx = context_of(info)
    tenant, actor = ctx.caller()
    actor.require("customers:read")

    async def load(ids: list[UUID]) -> list[LoyaltyStatus]:
        found = await ledger.standings(tenant, ids)
        settings: LoyaltySettings = await ctx.settings("loyalty")
        tiers = {t.code: t for t in settings.tiers}
        out = []
        for i in ids:
            points, growth, tier, pending = found.get(i, (0, 0, "", 0))
            out.append(
                LoyaltyStatus(
                    points=points,
                    pending=pending,
                    growth=growth,
                    tier=_tier(tier, tiers.get(tier)) if tier else None,
                    customer=i,
                )
            )
        return out

    result: LoyaltyStatus = await ctx.loader("loyalty.status", load).load(root.uid)
    return result


async def resolve_ledger(
    info: Info,
    customer_id: Annotated[strawberry.ID, _arg("The customer.")],
    first: Annotated[int, _arg("Page size, 1–100.")] = 20,
    after: Annotated[str | None, _arg("Cursor of the last entry seen.")] = None,
) -> Connection[LoyaltyEntry]:
    from core import from_global_id

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


async def resolve_rewards(
    info: Info,
    first: Annotated[int, _arg("Page size, 1–100.")] = 50,
    after: Annotated[str | None, _arg("Cursor of the last reward seen.")] = None,
) -> Connection[LoyaltyReward]:
    tenant, actor = context_of(info).caller()
    check_first(first)
    rows = await rewards.list_rewards(tenant, actor)
    cursor = decode_cursor(after)
    if cursor is not None:
        ids = [str(r["id"]) for r in rows]
        rows = rows[ids.index(cursor) + 1 :] if cursor in ids else []
    return connection([_reward(r) for r in rows[: first + 1]], lambda r: str(r.uid), first)


# --- mutations ---------------------------------------------------------------------------------

KEY = (
    "Client key (1–100 characters): a retry with it answers the first result with "
    "`replayed: true`; the same key with another request is `idempotency_mismatch`."
)


@strawberry.input(description="Points spent at the till.")
class LoyaltyRedeemInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    points: int = strawberry.field(description="Points to spend (≥ 1).")
    idempotency_key: str = strawberry.field(description=KEY)
    reason: str | None = strawberry.field(default=strawberry.UNSET, description="Why.")
    purchase_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The sale the points pay for: refunding it returns them, once.",
    )


@strawberry.input(description="A manual correction of a balance.")
class LoyaltyAdjustInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    points: int = strawberry.field(description="Points to add (negative: take away).")
    reason: str = strawberry.field(description="Why (required; audited).")
    idempotency_key: str = strawberry.field(description=KEY)


@strawberry.input(description="A new reward.")
class LoyaltyRewardCreateInput:
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


@strawberry.input(description="A reward bought with a customer's points.")
class LoyaltyRewardRedeemInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    reward_id: strawberry.ID = strawberry.field(description="The reward.")
    idempotency_key: str = strawberry.field(description=KEY)


@strawberry.input(description="A coupon presented at the till.")
class LoyaltyCouponUseInput:
    code: str = strawberry.field(description="The coupon code (case-insensitive).")


@strawberry.input(description="Who referred a new customer.")
class LoyaltyReferralRecordInput:
    customer_id: strawberry.ID = strawberry.field(description="The new customer.")
    referrer_id: strawberry.ID = strawberry.field(description="The customer who referred them.")


@strawberry.type(description="Result of `loyaltyRedeem`.")
class LoyaltyRedeemPayload:
    entry: LoyaltyEntry | None = strawberry.field(description="The ledger entry written.")
    balance: int | None = strawberry.field(description="Spendable points after it.")
    replayed: bool = strawberry.field(description="True when this replays an earlier request.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `loyaltyAdjust`.")
class LoyaltyAdjustPayload:
    entry: LoyaltyEntry | None = strawberry.field(description="The ledger entry written.")
    balance: int | None = strawberry.field(description="Spendable points after it.")
    replayed: bool = strawberry.field(description="True when this replays an earlier request.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `loyaltyRewardCreate`.")
class LoyaltyRewardCreatePayload:
    reward: LoyaltyReward | None = strawberry.field(description="The new reward.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `loyaltyRewardRedeem`.")
class LoyaltyRewardRedeemPayload:
    coupon: LoyaltyCoupon | None = strawberry.field(description="The coupon issued.")
    balance: int | None = strawberry.field(description="Spendable points after it.")
    replayed: bool = strawberry.field(description="True when this replays an earlier request.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `loyaltyCouponUse`.")
class LoyaltyCouponUsePayload:
    coupon: LoyaltyCoupon | None = strawberry.field(description="The coupon, now used.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `loyaltyReferralRecord`.")
class LoyaltyReferralRecordPayload:
    ok: bool = strawberry.field(description="True when the referral was recorded.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


async def _moved(
    run: Callable[[], Awaitable[ledger.Movement]],
) -> tuple[ledger.Movement | None, list[UserError]]:
    return await attempt(run)


async def resolve_redeem(
    info: Info, input: Annotated[LoyaltyRedeemInput, _arg("The redemption.")]
) -> LoyaltyRedeemPayload:
    tenant, actor = context_of(info).caller()

    async def run() -> ledger.Movement:
        data = input_data(input, ids=IDS)
        return await ledger.redeem(
            tenant,
            actor,
            data["customer_id"],
            data["points"],
            data["idempotency_key"],
            data.get("reason") or "",
            purchase_id=data.get("purchase_id"),
        )

    moved, errors = await _moved(run)
    if moved is None:
        return LoyaltyRedeemPayload(entry=None, balance=None, replayed=False, errors=errors)
    return LoyaltyRedeemPayload(
        entry=_entry(moved), balance=moved.balance, replayed=moved.replayed, errors=[]
    )


async def resolve_adjust(
    info: Info, input: Annotated[LoyaltyAdjustInput, _arg("The correction.")]
) -> LoyaltyAdjustPayload:
    tenant, actor = context_of(info).caller()

    async def run() -> ledger.Movement:
        data = input_data(input)
        return await ledger.adjust(
            tenant,
            actor,
            data["customer_id"],
            data["points"],
            data["idempotency_key"],
            data["reason"],
        )

    moved, errors = await _moved(run)
    if moved is None:
        return LoyaltyAdjustPayload(entry=None, balance=None, replayed=False, errors=errors)
    return LoyaltyAdjustPayload(
        entry=_entry(moved), balance=moved.balance, replayed=moved.replayed, errors=[]
    )


async def resolve_reward_create(
    info: Info, input: Annotated[LoyaltyRewardCreateInput, _arg("The new reward.")]
) -> LoyaltyRewardCreatePayload:
    tenant, actor = context_of(info).caller()
    row, errors = await attempt(lambda: rewards.create_reward(tenant, actor, input_data(input)))
    return LoyaltyRewardCreatePayload(reward=_reward(row) if row else None, errors=errors)


async def resolve_reward_redeem(
    info: Info, input: Annotated[LoyaltyRewardRedeemInput, _arg("The reward and customer.")]
) -> LoyaltyRewardRedeemPayload:
    tenant, actor = context_of(info).caller()

    async def run() -> tuple[ledger.Movement, dict[str, Any]]:
        data = input_data(input, ids=IDS)
        return await rewards.redeem_reward(
            tenant, actor, data["customer_id"], data["reward_id"], data["idempotency_key"]
        )

    done, errors = await attempt(run)
    if done is None:
        return LoyaltyRewardRedeemPayload(coupon=None, balance=None, replayed=False, errors=errors)
    moved, coupon = done
    return LoyaltyRewardRedeemPayload(
        coupon=_coupon(coupon), balance=moved.balance, replayed=moved.replayed, errors=[]
    )


async def resolve_coupon_use(
    info: Info, input: Annotated[LoyaltyCouponUseInput, _arg("The coupon.")]
) -> LoyaltyCouponUsePayload:
    tenant, actor = context_of(info).caller()
    row, errors = await attempt(lambda: rewards.use_coupon(tenant, actor, input.code))
    return LoyaltyCouponUsePayload(coupon=_coupon(row) if row else None, errors=errors)


async def resolve_referral_record(
    info: Info, input: Annotated[LoyaltyReferralRecordInput, _arg("The referral.")]
) -> LoyaltyReferralRecordPayload:
    tenant, actor = context_of(info).caller()

    async def run() -> bool:
        data = input_data(input, ids=IDS)
        await ledger.refer(tenant, actor, data["customer_id"], data["referrer_id"])
        return True

    ok, errors = await attempt(run)
    return LoyaltyReferralRecordPayload(ok=bool(ok), errors=errors)


# --- node(id:) loaders ---------------------------------------------------------------------


async def load_entry(info: Info, uid: UUID) -> LoyaltyEntry | None:
    tenant, actor = context_of(info).caller()
    actor.require("customers:read")
    row = await ledger.entry(tenant, uid)
    return _entry(row) if row else None


async def load_reward(info: Info, uid: UUID) -> LoyaltyReward | None:
    tenant, actor = context_of(info).caller()
    row = await rewards.get_reward(tenant, actor, uid)
    return _reward(row) if row else None


async def load_coupon(info: Info, uid: UUID) -> LoyaltyCoupon | None:
    tenant, actor = context_of(info).caller()
    row = await rewards.get_coupon(tenant, actor, uid)
    return _coupon(row) if row else None


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
                    description="Buy a reward with points: a coupon code. Idempotent on "
                    "`idempotencyKey`.",
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
                    description="Correct a balance by hand (permission `loyalty:adjust`, reason "
                    "required; audited).",
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
            nodes={
                "LoyaltyEntry": load_entry,
                "LoyaltyReward": load_reward,
                "LoyaltyCoupon": load_coupon,
            },
        )
    ]
