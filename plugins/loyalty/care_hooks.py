"""The care plugin's offers, granted by loyalty (``on_care_offer_granted``, published in
``plugins/care/hookspecs.py``; nothing happens without care): points credited once per
campaign, occurrence and customer — the event's key becomes the entry's unique source
(``source='care'``, ``source_id`` a UUID-5 of the key), so a redelivery grants nothing twice.
Coupon offers are not granted yet (loyalty coupons come from redeeming a reward)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any
from uuid import UUID

from core import TenantInfo, customer_facts, hookimpl, tenant_tx
from plugins.loyalty.settings import LoyaltySettings

__all__ = ["CARE_NAMESPACE", "on_care_offer_granted"]

log = logging.getLogger("mendian.loyalty")
CARE_NAMESPACE = uuid.UUID("6f0e3b1e-8d1a-4c55-9a57-0c2b2f1d4a11")


def source_of(key: str) -> UUID:
    return uuid.uuid5(CARE_NAMESPACE, key)


@hookimpl(optionalhook=True)  # the care plugin's event; nothing happens without it
async def on_care_offer_granted(
    tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings
) -> None:
    from plugins.loyalty.ledger.awards import award
    from plugins.loyalty.tables import LoyaltyEntry

    if event.get("offer") != "points" or int(event.get("points") or 0) <= 0:
        if event.get("offer") == "coupon":
            log.info("care coupon offers are not granted by loyalty yet (%s)", event.get("key"))
        return
    customer_id, source_id = UUID(event["customer_id"]), source_of(str(event["key"]))
    async with tenant_tx(tenant.id):
        if await LoyaltyEntry.exists().where(
            LoyaltyEntry.source == "care", LoyaltyEntry.source_id == source_id
        ):
            return
        facts = (await customer_facts(tenant, [customer_id])).get(customer_id)
        if facts is None or facts.status != "active":
            return
        await award(
            tenant,
            settings,
            customer_id,
            int(event["points"]),
            "care",
            source_id,
            dt.datetime.now(dt.UTC),
            reason="care campaign gift",
        )
