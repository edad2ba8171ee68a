"""Rewards bought with points (积分兑换): a catalogue, and coupons issued on redemption.

A redemption debits the points, takes one from the reward's stock and issues a coupon in one
transaction, serialized per customer on the account row (the per-customer limit holds under
concurrency); it is idempotent on its key like every ledger movement.

A coupon can also be a gift (:func:`gift_coupon`: a care campaign's offer): once per offer key,
from the reward's stock, recorded on the ledger as a 0-point ``gift`` entry. Using a coupon
emits ``loyalty.coupon_used`` with its ``source_key``, so the plugin that gave it counts the
redemption (``on_loyalty_coupon_used``, ``plugins/loyalty/hookspecs.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
from typing import Annotated, Any
from uuid import UUID, uuid4

import msgspec
from msgspec import Meta

from core import (
    Actor,
    Conflict,
    NotFound,
    TenantInfo,
    ValidationFailed,
    active_customer,
    convert,
    customer_facts,
    emit,
    fetch,
    is_unique_violation,
    tenant_tx,
)
from plugins.loyalty import ledger
from plugins.loyalty.tables import LoyaltyCoupon, LoyaltyReward

log = logging.getLogger("mendian.loyalty")

__all__ = [
    "RewardInput",
    "create_reward",
    "get_coupon",
    "get_reward",
    "gift_coupon",
    "list_rewards",
    "redeem_reward",
    "use_coupon",
]

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the till


class RewardInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    points_cost: Annotated[int, Meta(ge=1, le=ledger.MAX_POINTS)]
    description: Annotated[str, Meta(max_length=2000)] = ""
    stock: Annotated[int, Meta(ge=0, le=10_000_000)] | None = None
    per_customer_limit: Annotated[int, Meta(ge=1, le=1000)] | None = None
    valid_days: Annotated[int, Meta(ge=1, le=3650)] = 30


async def create_reward(
    tenant: TenantInfo, actor: Actor, data: RewardInput | dict[str, Any]
) -> dict[str, Any]:
    actor.require("loyalty:rewards")
    reward = convert(data, RewardInput)
    reward_id = uuid4()
    try:
        async with tenant_tx(tenant.id):
            await LoyaltyReward.insert(
                LoyaltyReward(
                    id=reward_id,
                    created_at=dt.datetime.now(dt.UTC),
                    **msgspec.structs.asdict(reward),
                )
            )
            row = await LoyaltyReward.select().where(LoyaltyReward.id == reward_id).first()
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict(
                "a reward with this code exists", field="code", code="duplicate"
            ) from None
        raise
    assert row is not None
    return dict(row)


async def list_rewards(tenant: TenantInfo, actor: Actor) -> list[dict[str, Any]]:
    actor.require("customers:read")
    async with tenant_tx(tenant.id, write=False):
        rows = (
            await LoyaltyReward.select()
            .where(LoyaltyReward.active.eq(True))
            .order_by(LoyaltyReward.points_cost)
        )
    return [dict(r) for r in rows]


def _code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(10))


async def _take_one(tenant: TenantInfo, reward: dict[str, Any]) -> bool:
    """Take one coupon from the reward's stock (unlimited: always); ``False`` when none left."""
    if reward["stock"] is None:
        return True
    return bool(
        await fetch(
            "UPDATE loyalty_reward SET stock = stock - 1 WHERE tenant_id = {} AND id = {} "
            "AND stock > 0 RETURNING stock",
            tenant.id,
            reward["id"],
        )
    )


async def _coupon_of(entry_id: UUID) -> dict[str, Any]:
    row = await LoyaltyCoupon.select().where(LoyaltyCoupon.entry_id == entry_id).first()
    assert row is not None
    return dict(row)


async def redeem_reward(
    tenant: TenantInfo, actor: Actor, customer_id: UUID, reward_id: UUID, key: str
) -> tuple[ledger.Movement, dict[str, Any]]:
    """Buy a reward with points: ``(ledger entry with the new balance, coupon)``."""
    actor.require("purchases:write")
    digest = ledger.request_hash(
        {"customer": str(customer_id), "reward": str(reward_id), "kind": "reward"}
    )

    async def apply() -> tuple[ledger.Movement, dict[str, Any]]:
        await active_customer(tenant, customer_id)
        reward = (
            await LoyaltyReward.select()
            .where(LoyaltyReward.id == reward_id, LoyaltyReward.active.eq(True))
            .first()
        )
        if reward is None:
            raise NotFound("reward not found", field="rewardId")
        await ledger.lock_account(tenant.id, customer_id)  # one redemption per customer at once
        limit = reward["per_customer_limit"]
        if limit is not None and (
            await LoyaltyCoupon.count().where(
                LoyaltyCoupon.customer_id == customer_id, LoyaltyCoupon.reward_id == reward_id
            )
            >= limit
        ):
            raise ValidationFailed(
                "this customer has reached the reward's limit",
                field="rewardId",
                code="limit_reached",
            )
        if not await _take_one(tenant, reward):
            raise ValidationFailed("out of stock", field="rewardId", code="out_of_stock")
        moved, balance = await ledger.debit(
            tenant,
            actor,
            customer_id,
            reward["points_cost"],
            key,
            digest,
            "reward",
            f"reward {reward['code']}",
        )
        now = dt.datetime.now(dt.UTC)
        coupon: dict[str, Any] = {
            "id": uuid4(),
            "reward_id": reward_id,
            "customer_id": customer_id,
            "code": _code(),
            "status": "issued",
            "entry_id": moved.id,
            "valid_until": now + dt.timedelta(days=reward["valid_days"]),
            "created_at": now,
        }
        await LoyaltyCoupon.insert(LoyaltyCoupon(**coupon))
        return dataclasses.replace(moved, balance=balance), coupon

    async def replayed(found: ledger.Movement) -> tuple[ledger.Movement, dict[str, Any]]:
        return found, await _coupon_of(found.id)

    return await ledger.keyed(tenant, key, digest, apply, replayed)


async def use_coupon(tenant: TenantInfo, actor: Actor, code: str) -> dict[str, Any]:
    """Mark a coupon used at the till: once, and only while valid."""
    actor.require("purchases:write")
    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        row = await LoyaltyCoupon.select().where(LoyaltyCoupon.code == code.strip().upper()).first()
        if row is None:
            raise NotFound("coupon not found", field="code")
        if row["status"] != "issued":
            raise ValidationFailed("this coupon was already used", field="code", code="coupon_used")
        if row["valid_until"] < now:
            raise ValidationFailed("this coupon has expired", field="code", code="coupon_expired")
        done = await fetch(
            "UPDATE loyalty_coupon SET status = 'used' WHERE tenant_id = {} AND id = {} "
            "AND status = 'issued' RETURNING id",
            tenant.id,
            row["id"],
        )
        if not done:  # a concurrent use won
            raise ValidationFailed("this coupon was already used", field="code", code="coupon_used")
        await emit(
            "loyalty.coupon_used",
            row["id"],
            {
                "coupon_id": str(row["id"]),
                "customer_id": str(row["customer_id"]),
                "reward_id": str(row["reward_id"]),
                "source_key": row["source_key"],
                "used_at": now.isoformat(),
            },
        )
        return dict(row) | {"status": "used"}


async def gift_coupon(
    tenant: TenantInfo, *, source: str, key: str, source_id: UUID, customer_id: UUID, reward: str
) -> dict[str, Any] | None:
    """Give the customer a coupon of the reward with code ``reward`` for the offer ``key``,
    once per key (a redelivery finds the first one). Nothing is given, and a warning logged,
    to a customer no longer active, for an unknown or inactive reward, or when the reward is
    out of stock. The per-customer limit is for buying with points; a gift ignores it.
    Returns the coupon (the earlier one for a known key), or ``None``."""
    async with tenant_tx(tenant.id):
        found = await LoyaltyCoupon.select().where(LoyaltyCoupon.source_key == key).first()
        if found is not None:
            return dict(found)
        facts = (await customer_facts(tenant, [customer_id])).get(customer_id)
        if facts is None or facts.status != "active":
            return None
        row = (
            await LoyaltyReward.select()
            .where(LoyaltyReward.code == reward, LoyaltyReward.active.eq(True))
            .first()
        )
        if row is None:
            log.warning("gift coupon %s: no active reward %r (%s)", key, reward, tenant.slug)
            return None
        if not await _take_one(tenant, row):
            log.warning("gift coupon %s: reward %r is out of stock (%s)", key, reward, tenant.slug)
            return None
        now = dt.datetime.now(dt.UTC)
        entry = await ledger.record(
            tenant,
            customer_id,
            kind="gift",
            source=source,
            source_id=source_id,
            reason=f"coupon {row['code']}"[:500],
        )
        coupon: dict[str, Any] = {
            "id": uuid4(),
            "reward_id": row["id"],
            "customer_id": customer_id,
            "code": _code(),
            "status": "issued",
            "entry_id": entry.id,
            "valid_until": now + dt.timedelta(days=row["valid_days"]),
            "created_at": now,
            "source_key": key,
        }
        await LoyaltyCoupon.insert(LoyaltyCoupon(**coupon))
        return coupon


async def get_reward(tenant: TenantInfo, actor: Actor, reward_id: UUID) -> dict[str, Any] | None:
    """One reward of the catalogue (active or not), or ``None``."""
    actor.require("customers:read")
    async with tenant_tx(tenant.id, write=False):
        row = await LoyaltyReward.select().where(LoyaltyReward.id == reward_id).first()
    return dict(row) if row else None


async def get_coupon(tenant: TenantInfo, actor: Actor, coupon_id: UUID) -> dict[str, Any] | None:
    """One issued coupon, or ``None``."""
    actor.require("customers:read")
    async with tenant_tx(tenant.id, write=False):
        row = await LoyaltyCoupon.select().where(LoyaltyCoupon.id == coupon_id).first()
    return dict(row) if row else None
