"""Accrual on sales and reversal on refunds, each once per purchase (from the durable
purchase events: the delivery marker and a unique index on the entry's source)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any
from uuid import UUID

from core import (
    ChannelSet,
    TenantInfo,
    customer_facts,
    delivery_outstanding,
    fetch,
    is_birthday,
    tenant_tx,
)
from plugins.loyalty.ledger._store import activated, lock_account, move, move_pending, record
from plugins.loyalty.ledger.awards import award, portion
from plugins.loyalty.ledger.bonuses import referral_bonus
from plugins.loyalty.ledger.merge import holder
from plugins.loyalty.settings import LoyaltySettings
from plugins.loyalty.tables import LoyaltyEntry
from plugins.loyalty.tiers import promote

__all__ = ["accrue", "reverse"]


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
    birthday: tuple[str | None, str],
    occurred_at: str,
) -> Decimal:
    """The tier's multiplier times the birthday multiplier — on the customer's birthday in the
    tenant's timezone, solar or lunar (农历生日) as the customer keeps it, 29 February and
    leap-month birthdays by the tenant's calendar settings (the core calendar decides)."""
    from zoneinfo import ZoneInfo

    multiplier = Decimal(1)
    if tier_code:
        tier = next((t for t in settings.tiers if t.code == tier_code), None)
        multiplier *= tier.multiplier if tier else Decimal(1)
    born, kept_by = birthday
    if settings.birthday_multiplier != 1 and born:
        day = dt.datetime.fromisoformat(occurred_at).astimezone(ZoneInfo(tenant.timezone)).date()
        if is_birthday(
            dt.date.fromisoformat(born),
            day,
            calendar="lunar" if kept_by == "lunar" else "solar",
            policy=tenant.calendar,
        ):
            multiplier *= settings.birthday_multiplier
    return multiplier


async def _birthday(tenant: TenantInfo, event: dict[str, Any]) -> tuple[str | None, str]:
    """The customer's birthday and its calendar from the event (events written before it
    carried the customer ask the core's read service)."""
    customer = event.get("customer")
    if customer is not None:
        return customer.get("birthday"), customer.get("birthday_calendar") or "solar"
    facts = (await customer_facts(tenant, [UUID(event["customer_id"])])).get(
        UUID(event["customer_id"])
    )
    if facts is None or facts.birthday is None:
        return None, "solar"
    return facts.birthday.isoformat(), facts.birthday_calendar


async def accrue(
    tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings, channels: ChannelSet
) -> None:
    """Points and growth for a sale (``purchase.recorded``); once per sale. Four statements:
    one read (earned already? tier), the account, the entry, the event; the customer's
    birthday comes with the event."""
    if not event.get("customer_id") or event.get("kind") != "sale":
        return
    customer_id, sale_id = UUID(event["customer_id"]), UUID(event["purchase_id"])
    async with tenant_tx(tenant.id):
        facts = (
            await fetch(
                "SELECT (SELECT COUNT(*) FROM loyalty_entry WHERE tenant_id = {} "
                "AND source = 'purchase' AND source_id = {}) AS earned, "
                "(SELECT tier FROM loyalty_account WHERE tenant_id = {} AND customer_id = {}) "
                "AS tier",
                tenant.id,
                sale_id,
                tenant.id,
                customer_id,
            )
        )[0]
        if facts["earned"]:
            return
        multiplier = _multiplier(
            tenant, settings, facts["tier"], await _birthday(tenant, event), event["occurred_at"]
        )
        points, growth = _earned(event, settings, multiplier)
        if points == 0 and growth == 0:
            return
        now = dt.datetime.now(dt.UTC)
        # With a return window the points are held (growth counts at once, tiers rise at once).
        total_growth, tier = await award(
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
        await promote(tenant, settings, channels, customer_id, now, (total_growth, tier))
        if settings.referral_bonus:
            await referral_bonus(tenant, settings, customer_id, now)


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
            LoyaltyEntry.source == "refund",
            LoyaltyEntry.source_id == refund_id,
            LoyaltyEntry.kind == "reverse",  # not the refund's ``restore`` of points paid
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
            if await delivery_outstanding(tenant, "loyalty", "purchase.recorded", sale_id):
                # The sale's own accrual has not been applied yet (it is retrying, or waits
                # behind the refund): fail, so this reversal is retried after it.
                raise RuntimeError(f"sale {sale_id} has not accrued yet; reversal retried")
            return  # the sale earned nothing (or predates the programme)
        # Who holds the award now: the sale's customer, or whom they were merged into (an
        # award still open then moved with a ``merge_in`` copy, which the reversal follows).
        customer_id, award_id, chain = await holder(tenant.id, earned["customer_id"], earned["id"])
        # Locked first: a concurrent redemption or activation cannot slip in between.
        balance = await lock_account(tenant.id, customer_id)
        taken = await LoyaltyEntry.select(
            LoyaltyEntry.points, LoyaltyEntry.growth, LoyaltyEntry.pending
        ).where(LoyaltyEntry.reversal_of.is_in(chain))
        original = earned["points"] + earned["pending"]  # an award is one or the other
        left_points = original + sum(r["points"] + r["pending"] for r in taken)
        left_growth = earned["growth"] + sum(r["growth"] for r in taken)
        points = min(left_points, portion(original, share, up=True))
        growth = min(left_growth, portion(earned["growth"], share, up=True))
        held = earned["pending"] > 0 and not await activated(tenant.id, award_id)
        if held:  # still inside the return window: taken from the pending balance
            moved = await move_pending(tenant.id, customer_id, -points, -growth)
            reason = "refund (points were pending)"
        else:
            shortfall = max(0, points - balance)
            points -= shortfall  # spent already: take back what is there, record the rest
            moved = await move(tenant.id, customer_id, -points, -growth)
            reason = f"refund; {shortfall} points already spent" if shortfall else "refund"
        if moved is None:
            raise RuntimeError("loyalty account changed under a locked reversal")
        await record(
            tenant,
            customer_id,
            kind="reverse",
            growth=-growth,
            source="refund",
            source_id=refund_id,
            reversal_of=award_id,
            actor="system",
            reason=reason,
            **({"pending": -points} if held else {"points": -points}),
        )
