"""Pending points: a sale's points held for the return window, then made spendable."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from core import TenantInfo, fetch, is_unique_violation, tenant_tx
from plugins.loyalty.ledger._store import activated, credit, lock_account, move_pending, record
from plugins.loyalty.ledger.awards import announce, expiry_for
from plugins.loyalty.ledger.bonuses import still_bought
from plugins.loyalty.settings import LoyaltySettings

__all__ = ["activate", "release_pending"]


async def activate(
    tenant: TenantInfo, settings: LoyaltySettings, award: dict[str, Any], now: dt.datetime
) -> int:
    """Make what is left of a pending award spendable (its return window has passed): once per
    award (a unique source), serialized with refunds on the account row. Points activated."""
    customer_id = UUID(str(award["customer_id"]))
    try:
        async with tenant_tx(tenant.id):
            await lock_account(tenant.id, customer_id)
            if await activated(tenant.id, award["id"]):
                return 0
            taken = await fetch(
                "SELECT COALESCE(SUM(pending), 0) AS p FROM loyalty_entry "
                "WHERE tenant_id = {} AND reversal_of = {}",
                tenant.id,
                award["id"],
            )
            left = int(award["pending"]) + int(taken[0]["p"])
            if left > 0 and await move_pending(tenant.id, customer_id, -left, 0) is None:
                raise RuntimeError("pending points changed under a locked activation")
            voided = (
                left > 0
                and award.get("source") == "referral"
                and not await still_bought(tenant, UUID(str(award["source_id"])))
            )
            if voided:  # the referred customer returned everything they bought
                await record(
                    tenant,
                    customer_id,
                    kind="activate",
                    pending=-left,
                    source="activation",
                    source_id=award["id"],
                    actor="system",
                    reason="referral void: the referred customer's purchases were refunded",
                )
                return 0
            if left > 0:
                await credit(tenant.id, customer_id, left, 0)
            entry = await record(
                tenant,
                customer_id,
                kind="activate",
                points=max(left, 0),
                pending=-max(left, 0),
                source="activation",
                source_id=award["id"],
                actor="system",
                reason="return window passed" if left > 0 else "refunded while pending",
                expires_at=expiry_for(settings, now) if left > 0 else None,
            )
            if left > 0:
                await announce(entry, award["id"])
            return max(left, 0)
    except Exception as exc:
        if is_unique_violation(exc):  # activated by a concurrent run
            return 0
        raise


async def release_pending(tenant: TenantInfo, settings: LoyaltySettings, now: dt.datetime) -> int:
    """Activate every pending award whose return window has passed (the hourly job); points
    activated. A rerun, or a concurrent one, activates nothing twice."""
    released = 0
    while True:
        async with tenant_tx(tenant.id, write=False):
            due = await fetch(
                "SELECT e.id, e.customer_id, e.pending, e.source, e.source_id FROM loyalty_entry e "
                "WHERE e.tenant_id = {} AND e.available_at IS NOT NULL AND e.available_at <= {} "
                "AND e.pending > 0 AND NOT EXISTS (SELECT 1 FROM loyalty_entry a "
                "WHERE a.tenant_id = e.tenant_id AND a.source = 'activation' "
                "AND a.source_id = e.id) ORDER BY e.available_at, e.id LIMIT 500",
                tenant.id,
                now,
            )
        for award in due:
            released += await activate(tenant, settings, award, now)
        if len(due) < 500:
            return released
