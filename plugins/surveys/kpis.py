"""Survey KPIs for reports (``register_kpis``): NPS, CSAT, responses, response rate, and NPS
per store and per staff member (the staff of the purchase that triggered the survey, for
绩效考核). Each is one aggregate statement; scores as numbers with one decimal (null: none)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core import Actor, KpiDefinition, TenantInfo, fetch
from plugins.surveys.scoring import Nps, percent, scope

__all__ = ["kpis"]

_ALL = Actor.system("surveys.kpis")


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _where(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> tuple[str, list[Any]]:
    return scope(tenant, _ALL, None, start, end, store)


async def responses(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> int:
    where, args = _where(tenant, start, end, store)
    rows = await fetch(f"SELECT COUNT(*) AS n FROM surveys_response WHERE {where}", *args)
    return int(rows[0]["n"])


async def nps(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> float | None:
    """NPS of every NPS answer in the period (all surveys)."""
    where, args = _where(tenant, start, end, store)
    rows = await fetch(
        "SELECT SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END) AS p, "
        "SUM(CASE WHEN nps BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS m, "
        f"SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END) AS d FROM surveys_response WHERE {where}",
        *args,
    )
    r = rows[0]
    return _number(Nps.of(int(r["p"] or 0), int(r["m"] or 0), int(r["d"] or 0)).score)


async def csat(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> float | None:
    """% of CSAT answers of 4 or 5 in the period."""
    where, args = _where(tenant, start, end, store)
    rows = await fetch(
        "SELECT SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END) AS s, COUNT(csat) AS n "
        f"FROM surveys_response WHERE {where}",
        *args,
    )
    return _number(percent(int(rows[0]["s"] or 0), int(rows[0]["n"] or 0)))


async def response_rate(
    tenant: TenantInfo, start: Any, end: Any, store: UUID | None
) -> float | None:
    """% of the invitations sent in the period that were answered."""
    where, args = ["tenant_id = {} AND kind = 'invitation' AND sent_at IS NOT NULL"], [tenant.id]
    if start is not None:
        where.append("sent_at >= {}")
        args.append(start)
    if end is not None:
        where.append("sent_at < {}")
        args.append(end)
    if store is not None:
        where.append("store_id = {}")
        args.append(store)
    rows = await fetch(
        "SELECT COUNT(*) AS n, SUM(CASE WHEN status = 'answered' THEN 1 ELSE 0 END) AS a "
        f"FROM surveys_link WHERE {' AND '.join(where)}",
        *args,
    )
    return _number(percent(int(rows[0]["a"] or 0), int(rows[0]["n"] or 0)))


async def _nps_by(
    column: str, tenant: TenantInfo, start: Any, end: Any, store: UUID | None
) -> dict[str, dict[str, Any]]:
    where, args = _where(tenant, start, end, store)
    rows = await fetch(
        f"SELECT {column} AS k, COUNT(nps) AS n, SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END) AS p, "
        "SUM(CASE WHEN nps BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS m, "
        "SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END) AS d FROM surveys_response "
        f"WHERE {where} AND {column} IS NOT NULL AND nps IS NOT NULL GROUP BY {column}",
        *args,
    )
    return {
        str(r["k"]): {
            "responses": int(r["n"]),
            "nps": _number(Nps.of(int(r["p"]), int(r["m"]), int(r["d"])).score),
        }
        for r in sorted(rows, key=lambda r: str(r["k"]))
    }


async def nps_by_store(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> Any:
    """``{store id: {responses, nps}}``."""
    return await _nps_by("store_id", tenant, start, end, store)


async def nps_by_staff(tenant: TenantInfo, start: Any, end: Any, store: UUID | None) -> Any:
    """``{staff id: {responses, nps}}``: the staff member who served the customer."""
    return await _nps_by("staff_id", tenant, start, end, store)


async def nps_per_staff(
    tenant: TenantInfo, start: Any, end: Any, store: UUID | None
) -> dict[UUID, float | None]:
    """``staffKpis``' dimension of ``nps``: the NPS of the customers each staff member served."""
    by = await _nps_by("staff_id", tenant, start, end, store)
    return {UUID(k): v["nps"] for k, v in by.items()}


async def csat_per_staff(
    tenant: TenantInfo, start: Any, end: Any, store: UUID | None
) -> dict[UUID, float | None]:
    """``staffKpis``' dimension of ``csat``."""
    where, args = _where(tenant, start, end, store)
    rows = await fetch(
        "SELECT staff_id AS k, SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END) AS s, "
        f"COUNT(csat) AS n FROM surveys_response WHERE {where} AND staff_id IS NOT NULL "
        "AND csat IS NOT NULL GROUP BY staff_id",
        *args,
    )
    return {UUID(str(r["k"])): _number(percent(int(r["s"] or 0), int(r["n"] or 0))) for r in rows}


async def responses_per_staff(
    tenant: TenantInfo, start: Any, end: Any, store: UUID | None
) -> dict[UUID, int]:
    where, args = _where(tenant, start, end, store)
    rows = await fetch(
        f"SELECT staff_id AS k, COUNT(*) AS n FROM surveys_response WHERE {where} "
        "AND staff_id IS NOT NULL GROUP BY staff_id",
        *args,
    )
    return {UUID(str(r["k"])): int(r["n"]) for r in rows}


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def kpis() -> list[KpiDefinition]:
    return [
        KpiDefinition(
            "responses",
            "Survey responses in the period",
            responses,
            by_staff=responses_per_staff,
            label=_label("问卷回复", "Survey responses"),
        ),
        KpiDefinition(
            "nps",
            "Net Promoter Score (-100 to 100) of the period",
            nps,
            by_staff=nps_per_staff,
            label=_label("净推荐值", "NPS"),
            accumulates=False,
        ),
        KpiDefinition(
            "csat",
            "CSAT: % of satisfied answers (4 or 5)",
            csat,
            by_staff=csat_per_staff,
            label=_label("满意度", "CSAT"),
            accumulates=False,
        ),
        KpiDefinition(
            "response_rate",
            "% of invitations sent in the period answered",
            response_rate,
            label=_label("回复率", "Response rate"),
            accumulates=False,
        ),
        KpiDefinition("nps_by_store", "NPS and responses per store", nps_by_store),
        KpiDefinition("nps_by_staff", "NPS and responses per staff member served", nps_by_staff),
    ]
