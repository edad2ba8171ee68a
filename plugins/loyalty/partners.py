"""Points and coupons that other plugins ask loyalty to grant, through the hooks they publish
(never an import; nothing happens where they are not installed):

* care's offers (``on_care_offer_granted``, ``plugins/care/hookspecs.py``): points, or a
  coupon of the reward whose code the campaign names, once per campaign, occurrence and
  customer;
* complaints' compensation (``on_complaints_compensation_granted``,
  ``plugins/complaints/hookspecs.py``): once per complaint.

The event's key becomes the entry's unique source (``source`` the plugin, ``source_id`` a
UUID-5 of the key), and a gift coupon's ``source_key``, so a redelivery grants nothing twice.
When such a coupon is used, ``loyalty.coupon_used`` carries its ``source_key`` back (care
counts it as redeemed). Complaint coupons are not granted yet."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any
from uuid import UUID

from core import TenantInfo, customer_facts, hookimpl, tenant_tx
from plugins.loyalty.settings import LoyaltySettings

__all__ = [
    "CARE_NAMESPACE",
    "grant_once",
    "on_care_offer_granted",
    "on_complaints_compensation_granted",
]

log = logging.getLogger("mendian.loyalty")
CARE_NAMESPACE = uuid.UUID("6f0e3b1e-8d1a-4c55-9a57-0c2b2f1d4a11")


def source_of(key: str) -> UUID:
    return uuid.uuid5(CARE_NAMESPACE, key)


async def grant_once(
    tenant: TenantInfo,
    settings: LoyaltySettings,
    *,
    source: str,
    key: str,
    customer_id: UUID,
    points: int,
    reason: str,
) -> bool:
    """Credit ``points`` for ``key`` unless an entry of ``source`` for it exists (or the
    customer is gone). Returns whether it credited them."""
    from plugins.loyalty.ledger.awards import award
    from plugins.loyalty.tables import LoyaltyEntry

    source_id = source_of(key)
    async with tenant_tx(tenant.id):
        if await LoyaltyEntry.exists().where(
            LoyaltyEntry.source == source, LoyaltyEntry.source_id == source_id
        ):
            return False
        facts = (await customer_facts(tenant, [customer_id])).get(customer_id)
        if facts is None or facts.status != "active":
            return False
        await award(
            tenant,
            settings,
            customer_id,
            points,
            source,
            source_id,
            dt.datetime.now(dt.UTC),
            reason=reason,
        )
    return True


@hookimpl(optionalhook=True)  # the care plugin's event; nothing happens without it
async def on_care_offer_granted(
    tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings
) -> None:
    if event.get("offer") == "coupon" and event.get("coupon"):
        from plugins.loyalty.rewards import gift_coupon

        await gift_coupon(
            tenant,
            source="care",
            key=str(event["key"]),
            source_id=source_of(str(event["key"])),
            customer_id=UUID(event["customer_id"]),
            reward=str(event["coupon"]),
        )
        return
    if event.get("offer") != "points" or int(event.get("points") or 0) <= 0:
        return
    await grant_once(
        tenant,
        settings,
        source="care",
        key=str(event["key"]),
        customer_id=UUID(event["customer_id"]),
        points=int(event["points"]),
        reason="care campaign gift",
    )


@hookimpl(optionalhook=True)  # the complaints plugin's event; nothing happens without it
async def on_complaints_compensation_granted(
    tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings
) -> None:
    if event.get("coupon"):
        log.info("complaint coupons are not granted by loyalty yet (%s)", event.get("key"))
    if int(event.get("points") or 0) <= 0:
        return
    await grant_once(
        tenant,
        settings,
        source="complaints",
        key=str(event["key"]),
        customer_id=UUID(event["customer_id"]),
        points=int(event["points"]),
        reason=str(event.get("reason") or "complaint compensation")[:200],
    )
