"""Results of a run (and of a campaign: its runs together), treatment against control.

Per group: targeted, queued/sent/failed, suppressed by reason, call tasks (a revisit's
high-value customers), offers granted (treatment customers queued a message of a campaign with
an offer: care asked loyalty for them) and redeemed (their coupon used, as loyalty reported
it), customers who purchased within ``window_days`` of the run's start and their spend; the uplift (treatment's purchase rate
minus control's) and a two-sided two-proportion z-test's p-value (pooled; ``math.erfc``). The
A/B variants are reported the same way, each against the control group. ``delivered`` is what
the channel accepted (the outbox's ``sent``): channels report no later receipts yet.

``by_store``: the same figures (treatment, control, uplift, p-value) per store — the home
store each customer had when the run snapshotted them (``care_target.store_id``; ``None``:
customers without a home store). Campaigns are chain-wide; this is how a store's share reads."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from core import TenantInfo, fetch, message_outcomes, purchase_totals, tenant_tx
from plugins.care.runs import message_key

__all__ = ["GroupResult", "Results", "campaign_results", "two_proportion_p"]


@dataclass
class GroupResult:
    targeted: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
    duplicates: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)
    tasks: int = 0
    purchasers: int = 0
    spend_minor: int = 0
    offers_granted: int = 0
    offers_redeemed: int = 0

    @property
    def rate(self) -> float:
        return self.purchasers / self.targeted if self.targeted else 0.0


@dataclass
class Results:
    treatment: GroupResult = field(default_factory=GroupResult)
    control: GroupResult = field(default_factory=GroupResult)
    variants: dict[str, GroupResult] = field(default_factory=dict)
    pending: int = 0
    by_store: dict[UUID | None, Results] = field(default_factory=dict)

    @property
    def uplift(self) -> float:
        return self.treatment.rate - self.control.rate

    @property
    def p_value(self) -> float | None:
        return two_proportion_p(
            self.treatment.purchasers,
            self.treatment.targeted,
            self.control.purchasers,
            self.control.targeted,
        )


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of H0 "equal proportions" (pooled z-test); ``None`` without data."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def _key(campaign: dict[str, Any], row: dict[str, Any]) -> str:
    """The idempotency key the target's message was queued under (a merged-away customer's
    id for a row moved by a merge: ``keyed_by``)."""
    return message_key(
        campaign["id"], row["occurrence"], UUID(str(row["keyed_by"] or row["customer_id"]))
    )


async def campaign_results(
    tenant: TenantInfo,
    campaign: dict[str, Any],
    run_id: UUID | None = None,
    *,
    started: tuple[dt.datetime, dt.datetime] | None = None,
) -> Results:
    """Results of one run, of the runs ``started`` in ``[from, to)``, or of all the
    campaign's runs."""
    where, args = ["t.tenant_id = {}", "t.campaign_id = {}"], [tenant.id, campaign["id"]]
    if run_id is not None:
        where.append("t.run_id = {}")
        args.append(run_id)
    if started is not None:
        where.append("r.started_at >= {} AND r.started_at < {}")
        args += [started[0], started[1]]
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT t.customer_id, t.keyed_by, t.store_id, t.occurrence, t.grp, t.variant, t.status, "
            "t.reason, t.redeemed_at, r.started_at FROM care_target t JOIN care_run r "
            f"ON r.tenant_id = t.tenant_id AND r.id = t.run_id WHERE {' AND '.join(where)}",
            *args,
        )
    offer = bool(campaign["settings"].offer)
    out = Results()
    keys = [_key(campaign, r) for r in rows if r["status"] in ("queued", "duplicate")]
    outcomes = await message_outcomes(tenant, keys)
    windows: dict[dt.datetime, list[UUID]] = {}
    for r in rows:
        windows.setdefault(r["started_at"], []).append(UUID(str(r["customer_id"])))
    bought: dict[UUID, tuple[int, int]] = {}
    span = dt.timedelta(days=int(campaign["window_days"]))
    for start, ids in windows.items():
        start = start if isinstance(start, dt.datetime) else dt.datetime.fromisoformat(str(start))
        bought.update(await purchase_totals(tenant, ids, start, start + span))
    for r in rows:
        customer = UUID(str(r["customer_id"]))
        store = UUID(str(r["store_id"])) if r["store_id"] is not None else None
        mine = out.by_store.setdefault(store, Results())
        groups = []
        for res in (out, mine):
            res.pending += r["status"] == "pending"
            groups.append(res.control if r["grp"] == "control" else res.treatment)
        if r["grp"] != "control" and r["variant"]:
            groups.append(out.variants.setdefault(r["variant"], GroupResult()))
        status, _reason = outcomes.get(_key(campaign, r), ("", ""))
        for g in groups:
            g.targeted += 1
            if r["status"] == "suppressed":
                g.suppressed[r["reason"] or "suppressed"] += 1
            elif r["status"] == "task":
                g.tasks += 1
            elif r["status"] in ("queued", "duplicate"):
                g.queued += 1
                g.duplicates += r["status"] == "duplicate"
                g.sent += status == "sent"
                g.failed += status == "failed"
                g.offers_granted += offer and r["status"] == "queued"
            if customer in bought:
                g.purchasers += 1
                g.spend_minor += bought[customer][1]
            g.offers_redeemed += r["redeemed_at"] is not None
    return out


async def export_customer(tenant: TenantInfo, customer_id: UUID) -> dict[str, Any]:
    """The customer's campaign memberships (data subject export)."""
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT c.name, t.occurrence, t.grp, t.variant, t.status, t.reason, t.handled_at "
            "FROM care_target t JOIN care_campaign c ON c.tenant_id = t.tenant_id "
            "AND c.id = t.campaign_id WHERE t.tenant_id = {} AND t.customer_id = {} "
            "ORDER BY t.created_at",
            tenant.id,
            customer_id,
        )
    return {
        "campaigns": [
            {
                "campaign": r["name"],
                "occurrence": r["occurrence"],
                "group": r["grp"],
                "variant": r["variant"],
                "status": r["status"],
                "reason": r["reason"],
                "handled_at": str(r["handled_at"] or ""),
            }
            for r in rows
        ]
    }


async def merge_customers(tenant: TenantInfo, source_id: UUID, target_id: UUID) -> int:
    """``customer.merged``: re-point the source's campaign memberships to the kept customer,
    once per (campaign, occurrence). Where both were targeted, one row stays: the kept
    customer's, unless it is still pending and the source's was handled (a message queued:
    the kept row would send a second one); the staying row inherits a redemption. A moved row
    whose message went out remembers the source's id (``keyed_by``): the message's key is
    ``care:<campaign>:<occurrence>:<source>``, which results look up. A later run of the
    occurrence (another store's zone, a re-run) meets the moved row and adds nobody. Returns
    the rows moved."""
    from core import execute

    def twin(who: str) -> str:
        return (
            "FROM care_target k WHERE k.tenant_id = {} AND k.customer_id = {} "
            "AND k.campaign_id = care_target.campaign_id AND k.occurrence = care_target.occurrence"
            + who
        )

    mine = "WHERE tenant_id = {} AND customer_id = {}"
    handled = " AND k.status <> 'pending'"
    async with tenant_tx(tenant.id):
        await execute(  # the kept customer's pending row gives way to a handled one
            f"DELETE FROM care_target {mine} AND status = 'pending' "
            f"AND EXISTS (SELECT 1 {twin(handled)})",
            tenant.id,
            target_id,
            tenant.id,
            source_id,
        )
        await execute(
            f"UPDATE care_target SET redeemed_at = (SELECT k.redeemed_at {twin('')}) "
            f"{mine} AND redeemed_at IS NULL "
            f"AND EXISTS (SELECT 1 {twin(' AND k.redeemed_at IS NOT NULL')})",
            tenant.id,
            source_id,
            tenant.id,
            target_id,
            tenant.id,
            source_id,
        )
        await execute(
            f"DELETE FROM care_target {mine} AND EXISTS (SELECT 1 {twin('')})",
            tenant.id,
            source_id,
            tenant.id,
            target_id,
        )
        moved = await fetch(
            "UPDATE care_target SET customer_id = {}, keyed_by = CASE WHEN keyed_by IS NULL "
            "AND status IN ('queued', 'duplicate') THEN customer_id ELSE keyed_by END "
            f"{mine} RETURNING id",
            target_id,
            tenant.id,
            source_id,
        )
    return len(moved)


async def erase_customer(tenant: TenantInfo, customer_id: UUID) -> None:
    """Forget the customer's campaign memberships (erasure): results lose them too."""
    from core import execute

    async with tenant_tx(tenant.id):
        await execute(
            "DELETE FROM care_target WHERE tenant_id = {} AND customer_id = {}",
            tenant.id,
            customer_id,
        )
