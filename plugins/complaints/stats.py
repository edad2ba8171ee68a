"""Complaint figures, computed set-based in SQL on SQLite and PostgreSQL alike: one statement
for the counts of several periods at once (each row bucketed by a ``CASE`` over the periods),
one for the medians (window functions: the middle row, or the mean of the middle two), one per
breakdown. The register, ``complaintReport``, the KPIs and the weekly section read them.

Definitions (the cohort of a period is the complaints *received* in it; suggestions are
counted apart and never in an SLA):

* **acknowledge SLA hit rate** — of the cohort whose acknowledge SLA is decided (acknowledged,
  or due and not acknowledged), the share acknowledged by its due time;
* **resolve SLA hit rate** — the same for resolving (the current cycle's due time; a waiting
  complaint is not due);
* **median hours to acknowledge / resolve** — clock hours from received to acknowledged /
  resolved (the latest resolution), over those that were;
* **median business hours to acknowledge / resolve** — the same spans measured on the store's
  business calendar (its hours, holidays and 调休, overrides: what the SLA counts in), so a
  complaint received at 20:30 on Saturday at a store that closes at 21:00 and acknowledged at
  10:00 on Sunday, opening at 09:00, took 1.5 business hours (13.5 clock hours). A complaint
  without a store is measured on the tenant's calendar; a store without hours counts every
  hour. Waiting for the customer is not taken out (as in the clock medians);
* **reopen rate** — of the cohort resolved at least once, the share reopened.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from core import TenantInfo, fetch, seconds_between, utc_value
from plugins.complaints.praise import staff_elements
from plugins.complaints.sla import calendars_known

__all__ = [
    "Counts",
    "Flagged",
    "Scope",
    "breakdowns",
    "business_medians_by",
    "counts_by",
    "flagged_skus",
    "medians_by",
    "percent",
    "period_figures",
    "praise_counts",
    "received_by_staff",
    "resolved_by",
]

Period = tuple[dt.datetime, dt.datetime]
ZERO = dt.timedelta(0)


def percent(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in % with one decimal (null: nothing to measure)."""
    return round(100 * part / whole, 1) if whole else None


def _hours(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 1)


def _at(value: Any) -> dt.datetime:
    """An aggregated timestamp (SQLite answers ``MIN`` of a column as text)."""
    found: dt.datetime = utc_value(value)
    return found


@dataclass(frozen=True)
class Scope:
    """Which complaints count: the tenant's, at one store (``None``: all) and within what the
    caller may see (``sql`` on alias ``c``/``p``: :func:`plugins.complaints.records.scope_sql`)."""

    tenant_id: UUID
    store_id: UUID | None = None
    sql: str = ""
    args: tuple[Any, ...] = ()
    praise_sql: str = ""
    praise_args: tuple[Any, ...] = ()

    def where(self, alias: str = "c") -> tuple[str, list[Any]]:
        sql = f"{alias}.tenant_id = {{}}"
        args: list[Any] = [self.tenant_id]
        if self.store_id is not None:
            sql += f" AND {alias}.store_id = {{}}"
            args.append(self.store_id)
        if alias == "c":
            return sql + self.sql, args + list(self.args)
        return sql + self.praise_sql, args + list(self.praise_args)


@dataclass(frozen=True)
class Counts:
    """A period's (or a staff member's) complaint counts."""

    received: int = 0
    suggestions: int = 0
    ack_met: int = 0
    ack_missed: int = 0
    resolve_met: int = 0
    resolve_missed: int = 0
    resolved: int = 0  # resolved at least once
    reopened: int = 0
    open: int = 0

    @property
    def ack_hit_rate(self) -> float | None:
        return percent(self.ack_met, self.ack_met + self.ack_missed)

    @property
    def resolve_hit_rate(self) -> float | None:
        return percent(self.resolve_met, self.resolve_met + self.resolve_missed)

    @property
    def reopen_rate(self) -> float | None:
        return percent(self.reopened, self.resolved)


_OPEN = "c.state IN ('received', 'acknowledged', 'in_progress')"
_COUNTS = (
    "SUM(CASE WHEN c.kind = 'complaint' THEN 1 ELSE 0 END) AS received, "
    "SUM(CASE WHEN c.kind = 'suggestion' THEN 1 ELSE 0 END) AS suggestions, "
    "SUM(CASE WHEN c.kind = 'complaint' AND c.acknowledged_at IS NOT NULL "
    "AND c.acknowledged_at <= c.ack_due_at THEN 1 ELSE 0 END) AS ack_met, "
    "SUM(CASE WHEN c.kind = 'complaint' AND ((c.acknowledged_at IS NOT NULL AND "
    "c.acknowledged_at > c.ack_due_at) OR (c.acknowledged_at IS NULL AND c.state <> 'waiting' "
    "AND c.ack_due_at <= {now})) THEN 1 ELSE 0 END) AS ack_missed, "
    "SUM(CASE WHEN c.kind = 'complaint' AND c.resolved_at IS NOT NULL "
    "AND c.resolved_at <= c.resolve_due_at THEN 1 ELSE 0 END) AS resolve_met, "
    "SUM(CASE WHEN c.kind = 'complaint' AND ((c.resolved_at IS NOT NULL AND "
    f"c.resolved_at > c.resolve_due_at) OR (c.resolved_at IS NULL AND {_OPEN} "
    "AND c.resolve_due_at <= {now})) THEN 1 ELSE 0 END) AS resolve_missed, "
    "SUM(CASE WHEN c.kind = 'complaint' AND (c.resolved_at IS NOT NULL OR c.cycle > 0) "
    "THEN 1 ELSE 0 END) AS resolved, "
    "SUM(CASE WHEN c.kind = 'complaint' AND c.cycle > 0 THEN 1 ELSE 0 END) AS reopened, "
    f"SUM(CASE WHEN c.kind = 'complaint' AND ({_OPEN} OR c.state = 'waiting') "
    "THEN 1 ELSE 0 END) AS open"
)


def bucket(periods: Sequence[Period], column: str = "c.received_at") -> tuple[str, list[Any]]:
    """A ``CASE`` giving each row the index of the period ``column`` falls in (else NULL)."""
    parts, args = [], []
    for i, (start, end) in enumerate(periods):
        parts.append(f"WHEN {column} >= {{}} AND {column} < {{}} THEN {i}")
        args += [start, end]
    return "CASE " + " ".join(parts) + " END", args


def _span(periods: Sequence[Period], column: str) -> tuple[str, list[Any]]:
    return f" AND {column} >= {{}} AND {column} < {{}}", [
        min(p[0] for p in periods),
        max(p[1] for p in periods),
    ]


async def counts_by(
    key: str, key_args: list[Any], scope: Scope, periods: Sequence[Period], now: dt.datetime
) -> dict[Any, Counts]:
    """:class:`Counts` per ``key`` (an SQL expression on ``c``: a period bucket, a handler)
    of the complaints received in ``periods``, in one statement."""
    where, args = scope.where()
    span, span_args = _span(periods, "c.received_at")
    # The key is computed once in a subquery: PostgreSQL would not match a GROUP BY holding
    # the same CASE with other parameter numbers.
    rows = await fetch(
        "SELECT c.k AS k, " + _COUNTS.replace("{now}", "{}") + f" FROM (SELECT {key} AS k, "
        "c.kind, c.state, c.cycle, c.acknowledged_at, c.ack_due_at, c.resolved_at, "
        f"c.resolve_due_at FROM complaints_complaint c WHERE {where}{span}) c GROUP BY c.k",
        now,
        now,
        *key_args,
        *args,
        *span_args,
    )
    return {
        r["k"]: Counts(**{f: int(r[f] or 0) for f in Counts.__dataclass_fields__})
        for r in rows
        if r["k"] is not None
    }


async def medians_by(
    key: str, key_args: list[Any], scope: Scope, periods: Sequence[Period]
) -> dict[tuple[Any, str], float | None]:
    """Median hours to acknowledge (``ack``) and to resolve (``resolve``) per ``key``:
    ``{(key, metric): hours}``, in one statement."""
    where, args = scope.where()
    span, span_args = _span(periods, "c.received_at")
    branches, branch_args = [], []
    for metric, column in (("ack", "c.acknowledged_at"), ("resolve", "c.resolved_at")):
        branches.append(
            f"SELECT {key} AS k, '{metric}' AS m, {seconds_between('c.received_at', column)} "
            f"AS s FROM complaints_complaint c WHERE {where}{span} AND c.kind = 'complaint' "
            f"AND {column} IS NOT NULL"
        )
        branch_args += [*key_args, *args, *span_args]
    rows = await fetch(
        f"WITH d AS ({' UNION ALL '.join(branches)}), "
        "r AS (SELECT k, m, s, ROW_NUMBER() OVER (PARTITION BY k, m ORDER BY s) AS rn, "
        "COUNT(*) OVER (PARTITION BY k, m) AS n FROM d WHERE k IS NOT NULL) "
        "SELECT k, m, AVG(s) AS median FROM r WHERE rn IN ((n + 1) / 2, (n + 2) / 2) "
        "GROUP BY k, m",
        *branch_args,
    )
    return {(r["k"], str(r["m"])): _hours(r["median"]) for r in rows}


async def business_medians_by(
    tenant: TenantInfo, key: str, key_args: list[Any], scope: Scope, periods: Sequence[Period]
) -> dict[tuple[Any, str], float | None]:
    """:func:`medians_by` in business hours on each complaint's store calendar: ``{(key,
    metric): hours}``. The spans are read in one statement and measured with the calendars
    (one batch): business time is the calendar's, not SQL's."""
    where, args = scope.where()
    span, span_args = _span(periods, "c.received_at")
    rows = await fetch(
        f"SELECT {key} AS k, c.store_id, c.received_at, c.acknowledged_at, c.resolved_at "
        f"FROM complaints_complaint c WHERE {where}{span} AND c.kind = 'complaint' AND "
        "(c.acknowledged_at IS NOT NULL OR c.resolved_at IS NOT NULL)",
        *key_args,
        *args,
        *span_args,
    )
    stores = {UUID(str(r["store_id"])) if r["store_id"] else None for r in rows}
    calendars = await calendars_known(tenant, stores) if rows else {}
    samples: dict[tuple[Any, str], list[float]] = {}
    for r in rows:
        if r["k"] is None:
            continue
        calendar = calendars.get(UUID(str(r["store_id"])) if r["store_id"] else None)
        start = _at(r["received_at"])
        for metric, column in (("ack", "acknowledged_at"), ("resolve", "resolved_at")):
            if r[column] is None:
                continue
            end = _at(r[column])
            spent = calendar.elapsed(start, end) if calendar is not None else max(end - start, ZERO)
            samples.setdefault((r["k"], metric), []).append(spent.total_seconds())
    return {k: _hours(statistics.median(v)) for k, v in samples.items()}


async def praise_counts(
    scope: Scope, periods: Sequence[Period], *, by_staff: bool = False
) -> dict[Any, int]:
    """Praise per period bucket, or (``by_staff``, one period) per staff member praised."""
    where, args = scope.where("p")
    span, span_args = _span(periods, "p.received_at")
    if by_staff:
        rows = await fetch(
            "SELECT s.value AS k, COUNT(*) AS n FROM complaints_praise p, "
            f"{staff_elements('p.staff_ids')} WHERE {where}{span} GROUP BY s.value",
            *args,
            *span_args,
        )
        return {UUID(str(r["k"])): int(r["n"]) for r in rows}
    key, key_args = bucket(periods, "p.received_at")
    rows = await fetch(
        f"SELECT k, COUNT(*) AS n FROM (SELECT {key} AS k FROM complaints_praise p "
        f"WHERE {where}{span}) b GROUP BY k",
        *key_args,
        *args,
        *span_args,
    )
    return {r["k"]: int(r["n"]) for r in rows if r["k"] is not None}


async def received_by_staff(scope: Scope, period: Period) -> dict[UUID, int]:
    """Complaints received in ``period`` naming each staff member among those involved."""
    where, args = scope.where()
    rows = await fetch(
        "SELECT s.value AS k, COUNT(*) AS n FROM complaints_complaint c, "
        f"{staff_elements('c.staff_involved')} WHERE {where} AND c.kind = 'complaint' "
        "AND c.received_at >= {} AND c.received_at < {} GROUP BY s.value",
        *args,
        *period,
    )
    return {UUID(str(r["k"])): int(r["n"]) for r in rows}


async def resolved_by(scope: Scope, period: Period, key: str | None) -> dict[Any, int]:
    """Complaints resolved in ``period`` (by their latest resolution), per ``key`` (a column of
    ``c``, e.g. the handler) or in all (``key`` None: ``{None: n}``)."""
    where, args = scope.where()
    group = f"{key}" if key else "NULL"
    rows = await fetch(
        f"SELECT {group} AS k, COUNT(*) AS n FROM complaints_complaint c WHERE {where} "
        "AND c.kind = 'complaint' AND c.resolved_at >= {} AND c.resolved_at < {}"
        + (f" AND {key} IS NOT NULL GROUP BY {key}" if key else ""),
        *args,
        *period,
    )
    return {r["k"]: int(r["n"]) for r in rows}


@dataclass(frozen=True)
class Breakdown:
    """Counts of a period's complaints by one dimension (``resolution``: '' is unresolved)."""

    dimension: str
    key: str
    count: int


async def breakdowns(scope: Scope, period: Period) -> list[Breakdown]:
    """The period's complaints by category, by channel and by resolution type, most first."""
    where, args = scope.where()
    parts = [
        f"SELECT '{name}' AS dim, {column} AS k, COUNT(*) AS n FROM complaints_complaint c "
        f"WHERE {where} AND c.kind = 'complaint' AND c.received_at >= {{}} "
        f"AND c.received_at < {{}} GROUP BY {column}"
        for name, column in (
            ("category", "c.category"),
            ("channel", "c.channel"),
            ("resolution", "c.resolution_type"),
        )
    ]
    rows = await fetch(" UNION ALL ".join(parts), *([*args, *period] * 3))
    found = [Breakdown(str(r["dim"]), str(r["k"] or ""), int(r["n"])) for r in rows]
    return sorted(found, key=lambda b: (b.dimension, -b.count, b.key))


@dataclass(frozen=True)
class Flagged:
    """A product flagged for its supplier: ``count`` complaints naming it within the window."""

    sku: str
    product: str
    count: int
    first_at: dt.datetime
    last_at: dt.datetime
    store_ids: tuple[UUID, ...]


async def flagged_skus(scope: Scope, end: dt.datetime, days: int, threshold: int) -> list[Flagged]:
    """SKUs named by at least ``threshold`` complaints received in the ``days`` before
    ``end``, most complained about first, with the stores that had them."""
    where, args = scope.where()
    rows = await fetch(
        "WITH g AS (SELECT c.sku AS sku, c.store_id AS store_id, COUNT(*) AS n, "
        "MAX(c.product) AS product, MIN(c.received_at) AS first_at, "
        "MAX(c.received_at) AS last_at FROM complaints_complaint c "
        f"WHERE {where} AND c.kind = 'complaint' AND c.sku <> '' AND c.received_at >= {{}} "
        "AND c.received_at < {} GROUP BY c.sku, c.store_id), "
        "t AS (SELECT g.*, SUM(n) OVER (PARTITION BY sku) AS total FROM g) "
        "SELECT * FROM t WHERE total >= {} ORDER BY total DESC, sku",
        *args,
        end - dt.timedelta(days=days),
        end,
        threshold,
    )
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        f = out.setdefault(
            r["sku"],
            {"product": "", "count": int(r["total"]), "first": [], "last": [], "stores": []},
        )
        f["product"] = max(f["product"], str(r["product"] or ""))
        f["first"].append(_at(r["first_at"]))
        f["last"].append(_at(r["last_at"]))
        if r["store_id"] is not None:
            f["stores"].append(UUID(str(r["store_id"])))
    return [
        Flagged(
            sku,
            f["product"],
            f["count"],
            min(f["first"]),
            max(f["last"]),
            tuple(sorted(f["stores"], key=str)),
        )
        for sku, f in out.items()
    ]


@dataclass(frozen=True)
class PeriodFigures:
    start: dt.datetime
    end: dt.datetime
    counts: Counts
    median_ack_hours: float | None
    median_resolve_hours: float | None
    praise: int
    median_ack_business_hours: float | None = None
    median_resolve_business_hours: float | None = None


async def period_figures(
    scope: Scope,
    periods: Sequence[Period],
    now: dt.datetime,
    *,
    business_of: TenantInfo | None = None,
) -> list[PeriodFigures]:
    """Each period's counts, medians and praise, in three statements whatever their number;
    with ``business_of`` (the tenant, for its stores' calendars) the business-hour medians
    too, in one more."""
    key, key_args = bucket(periods)
    counts = await counts_by(key, key_args, scope, periods, now)
    medians = await medians_by(key, key_args, scope, periods)
    business: dict[tuple[Any, str], float | None] = {}
    if business_of is not None:
        business = await business_medians_by(business_of, key, key_args, scope, periods)
    praise = await praise_counts(scope, periods)
    return [
        PeriodFigures(
            start,
            end,
            counts.get(i, Counts()),
            medians.get((i, "ack")),
            medians.get((i, "resolve")),
            praise.get(i, 0),
            business.get((i, "ack")),
            business.get((i, "resolve")),
        )
        for i, (start, end) in enumerate(periods)
    ]
