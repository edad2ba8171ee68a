"""Points expiry per award, soonest-expiring spent first (FIFO), from the append-only ledger.

Nothing is stored per award but the award itself: what is left of each is derived by walking the
customer's awards in expiry order and consuming every debit (redemptions, reversals, expiries,
negative adjustments) from the soonest-expiring first. The nightly job writes one ``expire``
entry per lapsed award (unique per award, so a rerun expires nothing twice) and sends an
"expiring soon" notice once per award.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from core import (
    ChannelSet,
    MessageRequest,
    TenantInfo,
    enqueue_messages,
    fetch,
    tenant_tx,
    utc_value,
)
from plugins.loyalty.settings import LoyaltySettings
from plugins.loyalty.templates import EXPIRING_NOTICE

__all__ = ["Lot", "expire", "expiring_soon", "lots", "lots_from"]
_FAR = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Lot:
    """What is left of one award."""

    entry_id: UUID
    remaining: int
    expires_at: dt.datetime | None


def lots_from(rows: list[dict[str, Any]]) -> list[Lot]:
    """FIFO allocation over one customer's entries (any order)."""
    awards = sorted(
        (r for r in rows if r["points"] > 0),
        key=lambda r: (utc_value(r["expires_at"]) or _FAR, utc_value(r["created_at"]) or _FAR),
    )
    debit = -sum(r["points"] for r in rows if r["points"] < 0)
    out = []
    for award in awards:
        used = min(debit, award["points"])
        debit -= used
        out.append(Lot(award["id"], award["points"] - used, utc_value(award["expires_at"])))
    return out


async def _entries(
    tenant: TenantInfo, customer_ids: list[UUID]
) -> dict[UUID, list[dict[str, Any]]]:
    rows = await fetch(
        "SELECT id, customer_id, points, expires_at, created_at FROM loyalty_entry "
        "WHERE tenant_id = {} AND customer_id IN (" + ", ".join("{}" for _ in customer_ids) + ")",
        tenant.id,
        *customer_ids,
    )
    grouped: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        grouped[UUID(str(r["customer_id"]))].append(dict(r))
    return grouped


async def lots(tenant: TenantInfo, customer_id: UUID) -> list[Lot]:
    async with tenant_tx(tenant.id, write=False):
        return lots_from((await _entries(tenant, [customer_id]))[customer_id])


async def expiring_soon(
    tenant: TenantInfo, customer_ids: list[UUID], now: dt.datetime, days: int
) -> dict[UUID, int]:
    """Points that lapse within ``days`` (one statement for a batch of customers)."""
    if not customer_ids:
        return {}
    horizon = now + dt.timedelta(days=days)
    async with tenant_tx(tenant.id, write=False):
        grouped = await _entries(tenant, customer_ids)
    return {
        c: sum(
            lot.remaining
            for lot in lots_from(grouped.get(c, []))
            if lot.expires_at is not None and now < lot.expires_at <= horizon
        )
        for c in customer_ids
    }


async def expire(
    tenant: TenantInfo, settings: LoyaltySettings, channels: ChannelSet, now: dt.datetime
) -> int:
    """Lapse what is left of every award past its expiry; notify awards lapsing soon. Returns
    the points expired."""
    from plugins.loyalty.ledger import expire_lot

    expired = 0
    async with tenant_tx(tenant.id, write=False):
        holders = [
            UUID(str(r["customer_id"]))
            for r in await fetch(
                "SELECT customer_id FROM loyalty_account WHERE tenant_id = {} AND points > 0",
                tenant.id,
            )
        ]
    horizon = now + dt.timedelta(days=settings.expiry_notice_days)
    notices: list[MessageRequest] = []
    for customer_id in holders:
        for lot in await lots(tenant, customer_id):
            if lot.remaining <= 0 or lot.expires_at is None:
                continue
            if lot.expires_at <= now:
                expired += await expire_lot(tenant, customer_id, lot.entry_id, lot.remaining)
            elif lot.expires_at <= horizon:
                notices.append(
                    MessageRequest(
                        customer_id=customer_id,
                        channel=settings.notice_channel,
                        template_key=EXPIRING_NOTICE,
                        idempotency_key=f"loyalty-expiring:{lot.entry_id}",
                        source="loyalty",
                        purpose="service",
                        context={
                            "points": lot.remaining,
                            "unit": settings.point_name,
                            "date": lot.expires_at.astimezone(ZoneInfo(tenant.timezone))
                            .date()
                            .isoformat(),
                        },
                    )
                )
    if notices:
        await enqueue_messages(tenant, notices, channels, now=now)
    return expired
