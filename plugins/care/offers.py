"""Offers redeemed: loyalty reports each coupon used (``loyalty.coupon_used``, through the hook
it publishes — never an import) with the key of the offer that gave it; a care key
(``care:<campaign>:<occurrence>:<customer>``) marks its target ``redeemed_at``, once. Results
count those targets as ``offers_redeemed``."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from core import TenantInfo, execute, tenant_tx

__all__ = ["parse_key", "record_redemption"]


def parse_key(key: str) -> tuple[UUID, str, UUID] | None:
    """``(campaign, occurrence, customer)`` of a care message/offer key, or ``None``."""
    prefix, _, rest = key.partition(":")
    campaign, _, rest = rest.partition(":")
    occurrence, _, customer = rest.rpartition(":")
    if prefix != "care" or not occurrence:
        return None
    try:
        return UUID(campaign), occurrence, UUID(customer)
    except ValueError:
        return None


async def record_redemption(tenant: TenantInfo, event: dict[str, Any]) -> bool:
    """Mark the target whose offer's coupon was used; ``False`` for a coupon care did not give."""
    found = parse_key(str(event.get("source_key") or ""))
    if found is None:
        return False
    campaign, occurrence, customer = found
    try:
        used = dt.datetime.fromisoformat(str(event["used_at"]))
    except (KeyError, ValueError):
        used = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        await execute(
            "UPDATE care_target SET redeemed_at = {} WHERE tenant_id = {} AND campaign_id = {} "
            "AND occurrence = {} AND customer_id = {} AND redeemed_at IS NULL",
            used,
            tenant.id,
            campaign,
            occurrence,
            customer,
        )
    return True
