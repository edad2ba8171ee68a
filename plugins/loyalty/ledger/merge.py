"""Merging customers (``customer.merged``): the duplicate's points, pending awards, growth
value, coupons and referrals move to the customer that remains — once per merge.

The ledger is append-only, so nothing is re-pointed: each of the source's open awards (what
FIFO leaves of it, with its own expiry date) is re-created on the target as a ``merge_in``
entry, each pending award as a pending ``merge_in`` (same release date; the original is
closed by an activation entry that moves nothing), one summary ``merge_in`` whose
``source_id`` is the source customer carries the growth value (and any balance no award
explains) and records who received the source, and one ``merge_out`` entry empties the source
(unique per source customer, so a redelivery moves nothing twice).
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from core import ChannelSet, TenantInfo, fetch, tenant_tx
from plugins.loyalty.ledger._store import activated, credit, lock_account, record
from plugins.loyalty.settings import LoyaltySettings
from plugins.loyalty.tables import LoyaltyCoupon, LoyaltyEntry, LoyaltyReferral
from plugins.loyalty.tiers import promote

__all__ = ["holder", "merge_accounts", "successor"]


async def successor(tenant_id: UUID, customer_id: UUID) -> UUID:
    """Who holds ``customer_id``'s standing now: the customer, or — once their merge has been
    applied here — the customer they were merged into (following later merges too)."""
    seen = {customer_id}
    while True:
        rows = await fetch(
            "SELECT customer_id FROM loyalty_entry WHERE tenant_id = {} "
            "AND source = 'merge' AND source_id = {} AND kind = 'merge_in'",
            tenant_id,
            customer_id,
        )
        if not rows:
            return customer_id
        customer_id = UUID(str(rows[0]["customer_id"]))
        if customer_id in seen:  # pragma: no cover - a merge never targets its own source
            return customer_id
        seen.add(customer_id)


async def holder(
    tenant_id: UUID, customer_id: UUID, award_id: UUID
) -> tuple[UUID, UUID, list[UUID]]:
    """Who holds award ``award_id`` of ``customer_id`` now: the customer it belongs to after
    every merge applied, the award entry that stands for it (its latest ``merge_in`` copy, or
    itself when no copy was made: spent already, or activated into a lot of its own), and
    every entry id of the chain."""
    chain = [award_id]
    while True:
        rows = await fetch(
            "SELECT id FROM loyalty_entry WHERE tenant_id = {} "
            "AND source = 'merge' AND source_id = {} AND kind = 'merge_in'",
            tenant_id,
            chain[-1],
        )
        if not rows:
            break
        chain.append(UUID(str(rows[0]["id"])))
    # The customer follows the merges, not the copies: an award spent before a merge has no
    # copy, yet a refund of its sale takes back from whom the source was merged into.
    return await successor(tenant_id, customer_id), chain[-1], chain


async def merge_accounts(
    tenant: TenantInfo,
    settings: LoyaltySettings,
    channels: ChannelSet,
    source_id: UUID,
    target_id: UUID,
) -> int:
    """Move the source's standing to the target; the spendable points moved."""
    from plugins.loyalty.expiry import lots_from

    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        if await LoyaltyEntry.exists().where(
            LoyaltyEntry.kind == "merge_out", LoyaltyEntry.source_id == source_id
        ):
            return 0
        first, second = sorted([source_id, target_id])  # one lock order: no deadlock
        await lock_account(tenant.id, first)
        await lock_account(tenant.id, second)
        account = (
            await fetch(
                "SELECT points, pending, growth FROM loyalty_account "
                "WHERE tenant_id = {} AND customer_id = {}",
                tenant.id,
                source_id,
            )
        )[0]
        entries = [
            dict(r)
            for r in await fetch(
                "SELECT id, points, pending, expires_at, available_at, created_at, reversal_of "
                "FROM loyalty_entry WHERE tenant_id = {} AND customer_id = {}",
                tenant.id,
                source_id,
            )
        ]
        moved = 0
        for lot in lots_from(entries):
            if lot.remaining > 0:
                moved += lot.remaining
                await record(
                    tenant,
                    target_id,
                    kind="merge_in",
                    points=lot.remaining,
                    source="merge",
                    source_id=lot.entry_id,
                    expires_at=lot.expires_at,
                    actor="system",
                    reason=f"merged from duplicate {source_id}",
                )
        pending_moved = 0
        for award in (e for e in entries if e["pending"] > 0 and e["available_at"] is not None):
            if await activated(tenant.id, award["id"]):
                continue
            left = award["pending"] + sum(
                e["pending"] for e in entries if e["reversal_of"] == award["id"]
            )
            if left <= 0:
                continue
            pending_moved += left
            await record(  # closes the original: release_pending will not activate it
                tenant,
                source_id,
                kind="activate",
                pending=-left,
                source="activation",
                source_id=award["id"],
                actor="system",
                reason=f"moved to {target_id} by a merge",
            )
            await record(
                tenant,
                target_id,
                kind="merge_in",
                pending=left,
                available_at=award["available_at"],
                source="merge",
                source_id=award["id"],
                actor="system",
                reason=f"merged from duplicate {source_id} (pending)",
            )
        growth = int(account["growth"])
        spendable = int(account["points"])
        # The summary: the growth value, and any balance no award explains (the account is the
        # authority: both ledgers must sum to their accounts); unique per source customer, it
        # also tells a later refund of the source's sales whom to take back from.
        await record(
            tenant,
            target_id,
            kind="merge_in",
            points=spendable - moved,
            growth=growth,
            source="merge",
            source_id=source_id,
            actor="system",
            reason=f"merged from duplicate {source_id}",
        )
        await record(
            tenant,
            source_id,
            kind="merge_out",
            points=-spendable,
            pending=-(int(account["pending"]) - pending_moved),
            growth=-growth,
            source="merge",
            source_id=source_id,
            actor="system",
            reason=f"merged into {target_id}",
        )
        await fetch(
            "UPDATE loyalty_account SET points = 0, pending = 0, growth = 0, tier = '', "
            "tier_since = NULL, updated_at = {} WHERE tenant_id = {} AND customer_id = {}",
            now,
            tenant.id,
            source_id,
        )
        _points, total_growth, tier = await credit(
            tenant.id, target_id, spendable, growth, pending=pending_moved
        )
        await LoyaltyCoupon.update({LoyaltyCoupon.customer_id: target_id}).where(
            LoyaltyCoupon.customer_id == source_id
        )
        await LoyaltyReferral.update({LoyaltyReferral.referrer_id: target_id}).where(
            LoyaltyReferral.referrer_id == source_id
        )
        if not await LoyaltyReferral.exists().where(LoyaltyReferral.customer_id == target_id):
            await LoyaltyReferral.update({LoyaltyReferral.customer_id: target_id}).where(
                LoyaltyReferral.customer_id == source_id
            )
        await promote(tenant, settings, channels, target_id, now, (total_growth, tier))
    return spendable
