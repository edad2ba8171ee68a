"""Awards: a sale's points or a bonus, credited (or held for the return window) and announced."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, localcontext
from typing import Any
from uuid import UUID

from core import TenantInfo, emit
from plugins.loyalty.ledger._store import Movement, credit, record
from plugins.loyalty.settings import LoyaltySettings

__all__ = ["announce", "award", "expiry_for", "portion"]


def expiry_for(settings: LoyaltySettings, now: dt.datetime) -> dt.datetime | None:
    return now + dt.timedelta(days=settings.expiry_days) if settings.expiry_days else None


def portion(amount: int, share: Decimal, *, up: bool) -> int:
    """``amount`` times a refund's ``share``, rounded up (``up``) or down as the exact fraction
    would be. The share arrives as a 28-digit decimal (1/3 as 0.333…3, 2/3 as 0.666…7): taken
    as is, 3 x 1/3 would round down to 0 and 30 x 2/3 up to 21. Rounded to 12 places first (far
    above that error, far below a real fraction of a point on any sale), a whole product stays
    whole."""
    with localcontext() as ctx:
        ctx.prec = 60
        value = (Decimal(amount) * share).quantize(Decimal("1e-12"))
    return math.ceil(value) if up else math.floor(value)


async def award(
    tenant: TenantInfo,
    settings: LoyaltySettings,
    customer_id: UUID,
    points: int,
    source: str,
    source_id: UUID,
    now: dt.datetime,
    *,
    growth: int = 0,
    pending_days: int = 0,
    reason: str = "",
) -> tuple[int, str]:
    """An award (a sale's points, a bonus): credited and recorded with its unique source, and
    announced — or, with ``pending_days``, held pending (announced when it activates). The
    account's ``(growth, tier)`` after it."""
    held = bool(pending_days)
    _points, total_growth, tier = await credit(
        tenant.id, customer_id, 0 if held else points, growth, pending=points if held else 0
    )
    timing: dict[str, Any] = (
        {"pending": points, "available_at": now + dt.timedelta(days=pending_days)}
        if held
        else {"points": points, "expires_at": expiry_for(settings, now)}
    )
    entry = await record(
        tenant,
        customer_id,
        kind="earn",
        growth=growth,
        source=source,
        source_id=source_id,
        actor="system",
        reason=reason,
        **timing,
    )
    if not held:
        await announce(entry, source_id)
    return total_growth, tier


async def announce(entry: Movement, source_id: UUID | None) -> None:
    """``loyalty.points_awarded``, durable, in the transaction of the entry."""
    await emit(
        "loyalty.points_awarded",
        entry.id,
        {
            "customer_id": str(entry.customer_id),
            "entry_id": str(entry.id),
            "points": entry.points,
            "growth": entry.growth,
            "source": entry.source,
            "source_id": str(source_id) if source_id else None,
        },
    )
