"""Tiers (会员等级) on growth value: promoted at once, demoted only by the nightly evaluation
after the downgrade period; every change sends a notice through the messaging pipeline."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from core import ChannelSet, MessageRequest, TenantInfo, enqueue_messages, fetch, tenant_tx
from plugins.loyalty.settings import LoyaltySettings, Tier
from plugins.loyalty.templates import TIER_NOTICE

__all__ = ["evaluate", "promote"]


async def _set_tier(
    tenant: TenantInfo,
    settings: LoyaltySettings,
    channels: ChannelSet,
    customer_id: UUID,
    tier: Tier | None,
    now: dt.datetime,
) -> None:
    await fetch(
        "UPDATE loyalty_account SET tier = {}, tier_since = {} "
        "WHERE tenant_id = {} AND customer_id = {}",
        tier.code if tier else "",
        now,
        tenant.id,
        customer_id,
    )
    if tier is None:
        return
    await enqueue_messages(
        tenant,
        [
            MessageRequest(
                customer_id=customer_id,
                channel=settings.notice_channel,
                template_key=TIER_NOTICE,
                idempotency_key=f"loyalty-tier:{customer_id}:{tier.code}:{now:%Y%m%d}",
                source="loyalty",
                purpose="service",
                transactional=True,
                context={"tier": tier.name},
            )
        ],
        channels,
        now=now,
    )


async def promote(
    tenant: TenantInfo,
    settings: LoyaltySettings,
    channels: ChannelSet,
    customer_id: UUID,
    now: dt.datetime,
    standing: tuple[int, str] | None = None,
) -> None:
    """After growth rose: move up to the tier it now reaches (never down here). ``standing``:
    the account's ``(growth, tier)`` as the caller's write returned it (else read here)."""
    if not settings.tiers:
        return
    async with tenant_tx(tenant.id):
        if standing is None:
            rows = await fetch(
                "SELECT growth, tier FROM loyalty_account "
                "WHERE tenant_id = {} AND customer_id = {}",
                tenant.id,
                customer_id,
            )
            if not rows:
                return
            standing = (int(rows[0]["growth"]), str(rows[0]["tier"]))
        growth, tier = standing
        target = settings.tier_for(growth)
        if target is not None and settings.rank(target.code) > settings.rank(tier):
            await _set_tier(tenant, settings, channels, customer_id, target, now)


async def evaluate(
    tenant: TenantInfo, settings: LoyaltySettings, channels: ChannelSet, now: dt.datetime
) -> int:
    """The nightly evaluation: demote those whose growth fell below their tier and who have held
    it for ``downgrade_days``; promote any missed promotion. Returns how many changed."""
    if not settings.tiers:
        return 0
    changed = 0
    held_since = now - dt.timedelta(days=settings.downgrade_days)
    async with tenant_tx(tenant.id):
        rows = await fetch(
            "SELECT customer_id, growth, tier, tier_since FROM loyalty_account "
            "WHERE tenant_id = {}",
            tenant.id,
        )
        for row in rows:
            current, target = row["tier"], settings.tier_for(int(row["growth"]))
            target_rank = settings.rank(target.code) if target else -1
            current_rank = settings.rank(current)
            since = row["tier_since"]
            if target_rank > current_rank or (
                target_rank < current_rank and (since is None or since <= held_since)
            ):
                await _set_tier(tenant, settings, channels, row["customer_id"], target, now)
                changed += 1
    return changed
