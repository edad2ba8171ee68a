"""``mendian demo``: a year of the loyalty programme — points earned on every member's sales
(at the demo's rates and tier multipliers), tiers reached, rewards redeemed for coupons, some
used — written in bulk, consistent with the ledger (balance = sum of entries)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from uuid import UUID, uuid4

from core import DemoData, TenantInfo, insert_rows, tenant_tx
from plugins.loyalty.settings import LoyaltySettings

__all__ = ["DEMO_SETTINGS", "seed"]

DEMO_SETTINGS: dict[str, Any] = {
    "points_per_unit": "1",
    "growth_per_unit": "1",
    "birthday_multiplier": "2",
    "expiry_days": 730,
    "tiers": [
        {"code": "silver", "name": "银卡", "threshold": 1000, "benefits": ["98折"]},
        {
            "code": "gold",
            "name": "金卡",
            "threshold": 3000,
            "multiplier": "1.2",
            "benefits": ["95折", "生日礼"],
        },
        {
            "code": "platinum",
            "name": "铂金卡",
            "threshold": 8000,
            "multiplier": "1.5",
            "benefits": ["9折", "生日礼", "专属客服"],
        },
    ],
}
REWARDS = [
    ("TEA50", "50 元茶叶券", 500, 90),
    ("CUP", "保温杯兑换券", 1200, 60),
    ("GIFT", "节日礼盒兑换券", 3000, 30),
]
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


async def seed(tenant: TenantInfo, demo: DemoData, settings: LoyaltySettings) -> None:
    rng = random.Random(demo.seed + 1)  # noqa: S311 - reproducible fake data
    rewards = [
        {
            "tenant_id": tenant.id,
            "id": uuid4(),
            "code": code,
            "name": name,
            "description": "",
            "points_cost": cost,
            "stock": None,
            "per_customer_limit": None,
            "valid_days": days,
            "active": True,
            "created_at": demo.start,
        }
        for code, name, cost, days in REWARDS
    ]
    accounts: dict[UUID, dict[str, Any]] = {}
    entries: list[dict[str, Any]] = []
    coupons: list[dict[str, Any]] = []
    members = {c for c in demo.customers if rng.random() < 0.7}

    def entry(
        customer: UUID,
        kind: str,
        points: int,
        growth: int,
        source: str,
        source_id: UUID | None,
        at: dt.datetime,
        **extra: Any,
    ) -> dict[str, Any]:
        return {
            "tenant_id": tenant.id,
            "id": uuid4(),
            "customer_id": customer,
            "kind": kind,
            "points": points,
            "growth": growth,
            "source": source,
            "source_id": source_id,
            "idempotency_key": None,
            "request_hash": "demo",
            "reversal_of": None,
            "actor": "system:demo",
            "reason": extra.pop("reason", ""),
            "pending": 0,
            "available_at": None,
            "expires_at": extra.pop("expires_at", None),
            "purchase_id": None,
            "created_at": at,
        }

    for sale in demo.sales:
        if sale.customer_id not in members:
            continue
        account = accounts.setdefault(
            sale.customer_id, {"points": 0, "growth": 0, "tier": "", "tier_since": None}
        )
        units = Decimal(sale.amount_minor) / 100
        tier = settings.tier_for(account["growth"])
        multiplier = tier.multiplier if tier else Decimal(1)
        points = int((units * settings.points_per_unit * multiplier).to_integral_value(ROUND_FLOOR))
        growth = int((units * settings.growth_per_unit).to_integral_value(ROUND_FLOOR))
        entries.append(
            entry(
                sale.customer_id,
                "earn",
                points,
                growth,
                "purchase",
                sale.id,
                sale.occurred_at,
                expires_at=sale.occurred_at + dt.timedelta(days=settings.expiry_days),
            )
        )
        account["points"] += points
        account["growth"] += growth
        reached = settings.tier_for(account["growth"])
        if reached and reached.code != account["tier"]:
            account["tier"], account["tier_since"] = reached.code, sale.occurred_at
        # Now and then a member spends points on a reward at the till.
        affordable = [r for r in rewards if r["points_cost"] <= account["points"]]
        if affordable and rng.random() < 0.25:
            reward = rng.choice(affordable)
            at = sale.occurred_at + dt.timedelta(minutes=1)
            moved = entry(
                sale.customer_id,
                "redeem",
                -reward["points_cost"],
                0,
                "reward",
                None,
                at,
                reason=f"reward {reward['code']}",
            )
            entries.append(moved)
            account["points"] -= reward["points_cost"]
            valid_until = at + dt.timedelta(days=reward["valid_days"])
            used = rng.random() < 0.7 and valid_until < demo.now + dt.timedelta(days=365)
            coupons.append(
                {
                    "tenant_id": tenant.id,
                    "id": uuid4(),
                    "reward_id": reward["id"],
                    "customer_id": sale.customer_id,
                    "code": "".join(rng.choice(_ALPHABET) for _ in range(10)),
                    "status": "used" if used else "issued",
                    "entry_id": moved["id"],
                    "valid_until": valid_until,
                    "created_at": at,
                }
            )
    rows = [
        {
            "tenant_id": tenant.id,
            "id": uuid4(),
            "customer_id": customer,
            "points": a["points"],
            "growth": a["growth"],
            "pending": 0,
            "tier": a["tier"],
            "tier_since": a["tier_since"],
            "updated_at": demo.now,
        }
        for customer, a in accounts.items()
    ]
    async with tenant_tx(tenant.id):
        await insert_rows("loyalty_reward", rewards)
        for table, items in (
            ("loyalty_account", rows),
            ("loyalty_entry", entries),
            ("loyalty_coupon", coupons),
        ):
            for k in range(0, len(items), 500):
                await insert_rows(table, items[k : k + 500])
