"""Scores, exactly: every count is an SQL aggregate over the response and answer rows (no
Python loop over responses); only the final division is done here, in ``Decimal``.

* NPS = % promoters (9-10) - % detractors (0-6) of the responses with an NPS answer, from
  -100 to 100, one decimal (half away from zero);
* CSAT = % of CSAT answers that are 4 or 5, one decimal;
* averages of rating/NPS/CSAT questions to two decimals; counts per option and per value;
* trends per ISO week or month in the tenant's timezone, per store and chain-wide, grouped on
  the period columns stored with each response (identical on SQLite and PostgreSQL).

Two statements per call: the responses grouped by (week, month, store) and the answers grouped
by (question, option, value); every figure is a sum over those groups.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from core import Actor, NotFound, TenantInfo, fetch, tenant_tx

__all__ = ["Nps", "Results", "percent", "results", "trend"]


def percent(part: int, whole: int, places: str = "0.1") -> Decimal | None:
    """``part`` of ``whole`` in per cent, rounded half away from zero; ``None`` for 0/0."""
    if whole == 0:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal(places), ROUND_HALF_UP)


def average(total: int, count: int) -> Decimal | None:
    if count == 0:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Nps:
    score: Decimal | None
    promoters: int
    passives: int
    detractors: int

    @property
    def total(self) -> int:
        return self.promoters + self.passives + self.detractors

    @classmethod
    def of(cls, promoters: int, passives: int, detractors: int) -> Nps:
        total = promoters + passives + detractors
        score = None
        if total:
            score = (Decimal(100 * (promoters - detractors)) / Decimal(total)).quantize(
                Decimal("0.1"), ROUND_HALF_UP
            )
        return cls(score, promoters, passives, detractors)


@dataclass(frozen=True)
class Csat:
    score: Decimal | None
    satisfied: int
    total: int


@dataclass(frozen=True)
class QuestionResult:
    key: str
    type: str
    answered: int
    average: Decimal | None
    options: list[tuple[str, int]]
    distribution: list[tuple[int, int]]


@dataclass(frozen=True)
class Results:
    responses: int
    nps: Nps
    csat: Csat
    questions: list[QuestionResult]
    groups: list[dict[str, Any]] = field(repr=False, default_factory=list)


_SCORES = (
    "COUNT(*) AS n, "
    "SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END) AS promoters, "
    "SUM(CASE WHEN nps BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives, "
    "SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END) AS detractors, "
    "SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END) AS satisfied, "
    "COUNT(csat) AS csat_total"
)


def _i(value: Any) -> int:
    return int(value or 0)


def scope(
    tenant: TenantInfo,
    actor: Actor,
    survey_id: UUID | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    store_id: UUID | None,
) -> tuple[str, list[Any]]:
    """The WHERE clause (``{}`` placeholders) selecting what the caller may see: the survey,
    the period ``[start, end)``, the store — a store-scoped caller sees its stores only."""
    where: list[str] = ["tenant_id = {}"]
    args: list[Any] = [tenant.id]
    if survey_id is not None:
        where.append("survey_id = {}")
        args.append(survey_id)
    if start is not None:
        where.append("answered_at >= {}")
        args.append(start)
    if end is not None:
        where.append("answered_at < {}")
        args.append(end)
    if store_id is not None:
        if not actor.sees_store(store_id):
            raise NotFound("store not found", field="storeId")
        where.append("store_id = {}")
        args.append(store_id)
    elif actor.store_ids is not None:
        stores = sorted(actor.store_ids, key=str)
        if not stores:
            where.append("1 = 0")
        else:
            where.append("store_id IN (" + ", ".join("{}" for _ in stores) + ")")
            args += stores
    return " AND ".join(where), args


async def results(
    tenant: TenantInfo,
    actor: Actor,
    survey_id: UUID,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    store_id: UUID | None = None,
) -> Results:
    """``surveyResults`` in two grouped scans: the responses by (week, month, store) and the
    answers by (question, option, value). Totals, per-question figures and both trends are
    sums of those groups (bounded by periods x stores and questions x values, never by the
    number of responses)."""
    actor.require("surveys:read")
    where, args = scope(tenant, actor, survey_id, start, end, store_id)
    async with tenant_tx(tenant.id, write=False):
        groups = await fetch(
            f"SELECT week_start, month_start, store_id, {_SCORES} FROM surveys_response "
            f"WHERE {where} GROUP BY week_start, month_start, store_id",
            *args,
        )
        answers = await fetch(
            "SELECT question_key, qtype, position, choice, value_int, COUNT(*) AS n, "
            "SUM(CASE WHEN part = 0 THEN 1 ELSE 0 END) AS answered FROM surveys_answer "
            f"WHERE {where} GROUP BY question_key, qtype, position, choice, value_int",
            *args,
        )
    head = _sum(groups)
    per: dict[tuple[int, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in answers:
        per[(_i(r["position"]), r["question_key"], r["qtype"])].append(r)
    questions = []
    for (_pos, key, qtype), rows in sorted(per.items()):
        values = [(_i(r["value_int"]), _i(r["n"])) for r in rows if r["value_int"] is not None]
        questions.append(
            QuestionResult(
                key=key,
                type=qtype,
                answered=sum(_i(r["answered"]) for r in rows),
                average=average(sum(v * n for v, n in values), sum(n for _v, n in values)),
                options=sorted((r["choice"], _i(r["n"])) for r in rows if r["choice"] is not None),
                distribution=sorted(values),
            )
        )
    return Results(
        responses=head["n"],
        nps=Nps.of(head["promoters"], head["passives"], head["detractors"]),
        csat=Csat(
            percent(head["satisfied"], head["csat_total"]), head["satisfied"], head["csat_total"]
        ),
        questions=questions,
        groups=groups,
    )


_COUNTS = ("n", "promoters", "passives", "detractors", "satisfied", "csat_total")


def _sum(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {c: sum(_i(r[c]) for r in rows) for c in _COUNTS}


@dataclass(frozen=True)
class TrendPoint:
    period_start: dt.date
    store_id: UUID | None  # None: the whole chain (every store and no store)
    responses: int
    nps: Nps
    csat: Csat


def trend(found: Results, period: str) -> list[TrendPoint]:
    """Per period (``week`` or ``month``) and store, plus the chain-wide line (store null),
    from the groups ``results`` read."""
    column = {"week": "week_start", "month": "month_start"}[period]
    cells: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
    for r in found.groups:
        cells[(r[column], None)].append(r)
        if r["store_id"] is not None:
            cells[(r[column], str(r["store_id"]))].append(r)
    points = []
    for (start, store), rows in cells.items():
        t = _sum(rows)
        points.append(
            TrendPoint(
                period_start=dt.date.fromisoformat(start),
                store_id=UUID(store) if store else None,
                responses=t["n"],
                nps=Nps.of(t["promoters"], t["passives"], t["detractors"]),
                csat=Csat(
                    percent(t["satisfied"], t["csat_total"]), t["satisfied"], t["csat_total"]
                ),
            )
        )
    return sorted(points, key=lambda p: (p.period_start, p.store_id is None, str(p.store_id)))
