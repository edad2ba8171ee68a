"""RFM scores, value class and lifecycle stage (CORE-8), as set-based SQL.

One ``WITH … UPDATE … FROM`` statement aggregates purchases, scores R/F/M against the tenant's
thresholds and derives value class and lifecycle — for one customer after a purchase, or for
every customer of a tenant at night. No Python loop over customers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from core.context import RFMThresholds, TenantInfo
from core.db import current_tenant, fetch, get_database, tenant_tx
from core.sql import run, uuid_expr

__all__ = ["apply_purchase", "recompute_all", "recompute_customers", "score_params"]


def _score(column: str, prefix: str) -> str:
    return (
        f"CASE WHEN {column} >= :{prefix}3 THEN 5 WHEN {column} >= :{prefix}2 THEN 4 "
        f"WHEN {column} >= :{prefix}1 THEN 3 WHEN {column} >= :{prefix}0 THEN 2 ELSE 1 END"
    )


_RECENCY = (
    "CASE WHEN last_at >= :r0 THEN 5 WHEN last_at >= :r1 THEN 4 "
    "WHEN last_at >= :r2 THEN 3 WHEN last_at >= :r3 THEN 2 ELSE 1 END"
)

_CHAIN_SQL = f"""
WITH agg AS (
    SELECT customer_id AS cid,
           SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END) AS cnt,
           SUM(amount_minor) AS total,
           MIN(occurred_at) AS first_at,
           MAX(occurred_at) AS last_at
    FROM purchase
    WHERE tenant_id = :tenant AND customer_id IS NOT NULL {{only}}
    GROUP BY customer_id
), scored AS (
    SELECT cid, cnt, total, first_at, last_at,
           {_RECENCY} AS r, {_score("cnt", "f")} AS f, {_score("total", "m")} AS m
    FROM agg
), classed AS (
    SELECT scored.*,
           CASE WHEN cnt = 0 OR f <= 1 THEN 'potential'
                WHEN f >= :hv_f AND m >= :hv_m THEN 'high_value'
                ELSE 'regular' END AS vc,
           CASE WHEN cnt = 0 THEN 'prospect'
                WHEN last_at < :churned THEN 'churned'
                WHEN last_at < :at_risk THEN 'at_risk'
                WHEN cnt >= :loyal THEN 'loyal'
                WHEN cnt >= 2 THEN 'repeat'
                ELSE 'first_purchase' END AS lc
    FROM scored
)
UPDATE customer_stats SET
    purchase_count = classed.cnt,
    total_spent_minor = classed.total,
    first_purchase_at = classed.first_at,
    last_purchase_at = classed.last_at,
    r_score = classed.r, f_score = classed.f, m_score = classed.m,
    value_class = classed.vc,
    lifecycle = classed.lc,
    computed_at = :now
FROM classed
WHERE customer_stats.tenant_id = :tenant AND customer_stats.customer_id = classed.cid {{only}}
  -- rows that would not change are not written (the nightly run changes few: no WAL, no
  -- dead tuples for the rest)
  AND (customer_stats.purchase_count, customer_stats.total_spent_minor,
       customer_stats.first_purchase_at, customer_stats.last_purchase_at,
       customer_stats.r_score, customer_stats.f_score, customer_stats.m_score,
       customer_stats.value_class, customer_stats.lifecycle)
      IS DISTINCT FROM
      (classed.cnt, classed.total, classed.first_at, classed.last_at,
       classed.r, classed.f, classed.m, classed.vc, classed.lc)
"""

# A (customer, store) row whose purchases are gone (a merge moved them) leaves; the rest are
# upserted, and written only when they change.
_STORE_DELETE = """
DELETE FROM customer_store_stats
WHERE tenant_id = :tenant {only} AND NOT EXISTS (
    SELECT 1 FROM (
        -- the chunk's (customer, store) pairs: one index-only range scan; correlated directly
        -- with purchase, the anti-join was planned over a seq scan of every purchase (4.6 s
        -- of a chunk's 5.9 s at a million customers)
        SELECT DISTINCT customer_id, store_id FROM purchase
        WHERE tenant_id = :tenant AND customer_id IS NOT NULL {only}) bought
    WHERE bought.customer_id = customer_store_stats.customer_id
      AND bought.store_id = customer_store_stats.store_id)
"""

_STORE_UPSERT = """
INSERT INTO customer_store_stats
    (tenant_id, id, customer_id, store_id, purchase_count, total_spent_minor, last_purchase_at,
     r_score, f_score, m_score)
SELECT :tenant, {uuid}, cid, sid, cnt, total, last_at, {recency}, {f}, {m}
FROM (
    SELECT customer_id AS cid, store_id AS sid,
           SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END) AS cnt,
           SUM(amount_minor) AS total,
           MAX(occurred_at) AS last_at
    FROM purchase
    WHERE tenant_id = :tenant AND customer_id IS NOT NULL {only}
    GROUP BY customer_id, store_id
) agg
WHERE true
ON CONFLICT (tenant_id, customer_id, store_id) DO UPDATE SET
    purchase_count = excluded.purchase_count,
    total_spent_minor = excluded.total_spent_minor,
    last_purchase_at = excluded.last_purchase_at,
    r_score = excluded.r_score, f_score = excluded.f_score, m_score = excluded.m_score
WHERE (customer_store_stats.purchase_count, customer_store_stats.total_spent_minor,
       customer_store_stats.last_purchase_at, customer_store_stats.r_score,
       customer_store_stats.f_score, customer_store_stats.m_score)
      IS DISTINCT FROM
      (excluded.purchase_count, excluded.total_spent_minor, excluded.last_purchase_at,
       excluded.r_score, excluded.f_score, excluded.m_score)
"""


def _recency(expr: str) -> str:
    return _RECENCY.replace("last_at", expr)


def _value_class(cnt: str, f: str, m: str) -> str:
    return (
        f"CASE WHEN {cnt} = 0 OR {f} <= 1 THEN 'potential' "
        f"WHEN {f} >= :hv_f AND {m} >= :hv_m THEN 'high_value' ELSE 'regular' END"
    )


def _lifecycle(cnt: str, last: str) -> str:
    return (
        f"CASE WHEN {cnt} = 0 THEN 'prospect' WHEN {last} < :churned THEN 'churned' "
        f"WHEN {last} < :at_risk THEN 'at_risk' WHEN {cnt} >= :loyal THEN 'loyal' "
        f"WHEN {cnt} >= 2 THEN 'repeat' ELSE 'first_purchase' END"
    )


# One purchase applied to the stats it changes (the cashier path): every SET expression reads
# the row being updated, never a snapshot beside it, so two concurrent sales to one customer
# both count (PostgreSQL re-evaluates them on the row's latest version after the row lock).
_CNT = "(purchase_count + :sale)"
_TOTAL = "(total_spent_minor + :amount)"
_LAST = "(CASE WHEN last_purchase_at IS NULL OR last_purchase_at < :at THEN :at ELSE last_purchase_at END)"
_FIRST = (
    "(CASE WHEN first_purchase_at IS NULL OR first_purchase_at > :at THEN :at "
    "ELSE first_purchase_at END)"
)
_F, _M = _score(_CNT, "f"), _score(_TOTAL, "m")
_APPLY_CHAIN = f"""
UPDATE customer_stats SET
    purchase_count = {_CNT},
    total_spent_minor = {_TOTAL},
    first_purchase_at = {_FIRST},
    last_purchase_at = {_LAST},
    r_score = {_recency(_LAST)}, f_score = {_F}, m_score = {_M},
    value_class = {_value_class(_CNT, _F, _M)},
    lifecycle = {_lifecycle(_CNT, _LAST)},
    computed_at = :now
WHERE tenant_id = :tenant AND customer_id = :cid
"""
_S_CNT = "(customer_store_stats.purchase_count + excluded.purchase_count)"
_S_TOTAL = "(customer_store_stats.total_spent_minor + excluded.total_spent_minor)"
_S_LAST = (
    "(CASE WHEN customer_store_stats.last_purchase_at IS NULL OR "
    "customer_store_stats.last_purchase_at < excluded.last_purchase_at "
    "THEN excluded.last_purchase_at ELSE customer_store_stats.last_purchase_at END)"
)
_APPLY_STORE = f"""
INSERT INTO customer_store_stats
    (tenant_id, id, customer_id, store_id, purchase_count, total_spent_minor, last_purchase_at,
     r_score, f_score, m_score)
VALUES (:tenant, :id, :cid, :sid, :sale, :amount, :at, 0, 0, 0)
ON CONFLICT (tenant_id, customer_id, store_id) DO UPDATE SET
    purchase_count = {_S_CNT},
    total_spent_minor = {_S_TOTAL},
    last_purchase_at = {_S_LAST}
"""
_SCORE_STORE = f"""
UPDATE customer_store_stats SET
    r_score = {_recency("last_purchase_at")}, f_score = {_score("purchase_count", "f")},
    m_score = {_score("total_spent_minor", "m")}
WHERE tenant_id = :tenant AND customer_id = :cid AND store_id = :sid
"""


def score_params(tenant: TenantInfo, now: dt.datetime | None = None) -> dict[str, Any]:
    """Cut-off timestamps and thresholds: dates are computed here, so the SQL stays portable."""
    t: RFMThresholds = tenant.rfm
    now = now or dt.datetime.now(dt.UTC)
    params: dict[str, Any] = {"tenant": tenant.id, "now": now}
    for i, days in enumerate(t.recency_days):
        params[f"r{i}"] = now - dt.timedelta(days=days)
    for i, value in enumerate(t.frequency):
        params[f"f{i}"] = value
    for i, value in enumerate(t.monetary_minor):
        params[f"m{i}"] = value
    params |= {
        "hv_f": t.high_value_min_f,
        "hv_m": t.high_value_min_m,
        "loyal": t.loyal_min_purchases,
        "at_risk": now - dt.timedelta(days=t.at_risk_days),
        "churned": now - dt.timedelta(days=t.churned_days),
    }
    return params


async def _recompute(tenant: TenantInfo, only: str, extra: dict[str, Any]) -> None:
    params = score_params(tenant) | extra
    await run(_CHAIN_SQL.replace("{only}", only), **params)
    await run(_STORE_DELETE.replace("{only}", only), tenant=tenant.id, **extra)
    insert = (
        _STORE_UPSERT.replace("{uuid}", uuid_expr())
        .replace("{recency}", _RECENCY)
        .replace("{f}", _score("cnt", "f"))
        .replace("{m}", _score("total", "m"))
        .replace("{only}", only)
    )
    await run(insert, **params)


async def recompute_customers(tenant: TenantInfo, customer_ids: Sequence[UUID]) -> None:
    """Recompute the given customers (after a purchase, refund or merge); joins the open tx."""
    if not customer_ids:
        return
    names = {f"c{i}": cid for i, cid in enumerate(customer_ids)}
    only = f"AND customer_id IN ({', '.join(':' + n for n in names)})"
    async with tenant_tx(tenant.id):
        await _recompute(tenant, only, names)


async def apply_purchase(
    tenant: TenantInfo,
    customer_id: UUID,
    store_id: UUID,
    *,
    kind: str,
    amount_minor: int,
    occurred_at: dt.datetime,
) -> None:
    """Add one new purchase row (a sale or a refund) to its customer's chain and store stats
    and re-score them: three statements whatever the customer's history — the same result as
    :func:`recompute_customers`, which stays for merges and the nightly job. Joins the open
    transaction, which must have inserted the purchase."""
    from uuid import uuid4

    params = score_params(tenant) | {
        "cid": customer_id,
        "sid": store_id,
        "id": uuid4(),
        "sale": 1 if kind == "sale" else 0,
        "amount": amount_minor,
        "at": occurred_at,
    }
    async with tenant_tx(tenant.id):
        await run(_APPLY_CHAIN, **params)
        await run(_APPLY_STORE, **params)
        await run(_SCORE_STORE, **params)


RECOMPUTE_CHUNK = 50_000  # customers per transaction: each statement stays well in its timeout
RECOMPUTE_PARALLEL = 2  # chunks at once on PostgreSQL (`mendian bench rfm`: 2 cores here)


async def recompute_all(
    tenant: TenantInfo, *, chunk: int = RECOMPUTE_CHUNK, parallel: int = RECOMPUTE_PARALLEL
) -> None:
    """Recompute every customer of the tenant (the nightly job, and after threshold changes),
    ``chunk`` customers (by id range) per transaction: a million customers in one statement
    outran the statement timeout (``mendian bench rfm``), and a chunk that fails leaves the
    others done. On PostgreSQL ``parallel`` chunks run at once on their own connections (their
    rows are disjoint); SQLite has one writer, so one at a time."""
    bounds: list[Any] = []
    while True:  # the chunks' upper ids, read first so that chunks can run side by side
        lo = bounds[-1] if bounds else None
        async with tenant_tx(tenant.id, write=False):
            rows = await fetch(
                "SELECT id FROM customer WHERE tenant_id = {}"
                + (" AND id > {}" if lo is not None else "")
                + f" ORDER BY id LIMIT 1 OFFSET {chunk - 1}",
                tenant.id,
                *([lo] if lo is not None else []),
            )
        if not rows:
            break
        bounds.append(rows[0]["id"])
    db = get_database()
    # side by side only on PostgreSQL, and only from outside a transaction (inside one, every
    # chunk joins it, on its one connection)
    alone = not db.is_postgres or current_tenant.get() is not None
    gate = asyncio.Semaphore(1 if alone else parallel)

    async def one(lo: Any, hi: Any) -> None:
        only = ("AND customer_id > :lo " if lo is not None else "") + (
            "AND customer_id <= :hi" if hi is not None else ""
        )
        extra = {k: v for k, v in (("lo", lo), ("hi", hi)) if v is not None}
        async with gate, tenant_tx(tenant.id):
            await _recompute(tenant, only, extra)

    edges = [None, *bounds, None]
    outcomes = await asyncio.gather(
        *(one(lo, hi) for lo, hi in itertools.pairwise(edges)), return_exceptions=True
    )
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    if failed:
        raise failed[0]
    if db.is_postgres:
        # Value classes and lifecycles moved in bulk: fresh planner statistics, or a segment
        # count keeps a plan made for "no high_value rows" (a 3.8 s nested loop over a million
        # customers instead of a 0.7 s hash join, `mendian bench rfm`). The owner may analyze.
        for table in ("customer_stats", "customer_store_stats"):
            await db.owner_engine.run_ddl(f"ANALYZE {table}")
