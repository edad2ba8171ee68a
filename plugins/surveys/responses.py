"""Reading responses (a customer's, one by id, a survey's for export) and the privacy hooks:
text answers are personal data — exported with the customer's data and erased with it; scores
and choices stay, under the customer's pseudonymous id, so results do not change. Anonymous
responses have no customer and are never part of anyone's export."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from uuid import UUID

from core import Actor, TenantInfo, execute, fetch, tenant_tx

__all__ = [
    "answers_of",
    "customer_responses",
    "erase_customer",
    "export_customer",
    "merge_customers",
    "response",
]

_COLUMNS = (
    "id, survey_id, customer_id, store_id, staff_id, recorded_by, purchase_id, complaint_id, "
    "channel, locale, nps, nps_category, csat, answered_at"
)


def _uuid(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


def _row(r: dict[str, Any]) -> dict[str, Any]:
    out = dict(r)
    for k in (
        "id",
        "survey_id",
        "customer_id",
        "store_id",
        "staff_id",
        "purchase_id",
        "complaint_id",
    ):
        out[k] = _uuid(r.get(k))
    return out


async def answers_of(
    tenant: TenantInfo, response_ids: list[UUID]
) -> dict[UUID, list[dict[str, Any]]]:
    """The answers of several responses (one statement), per response in question order;
    a multiple-choice answer is one item with its ``choices``."""
    out: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    if not response_ids:
        return out
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT response_id, question_key, qtype, position, choice, value_int, value_text, "
            "value_date FROM surveys_answer WHERE tenant_id = {} AND response_id IN ("
            + ", ".join("{}" for _ in response_ids)
            + ") ORDER BY response_id, position, choice",
            tenant.id,
            *response_ids,
        )
    for r in rows:
        items = out[UUID(str(r["response_id"]))]
        if items and items[-1]["question_key"] == r["question_key"] and r["choice"] is not None:
            items[-1]["choices"].append(r["choice"])
            continue
        items.append(
            {
                "question_key": r["question_key"],
                "type": r["qtype"],
                "choices": [r["choice"]] if r["choice"] is not None else [],
                "number": r["value_int"],
                "text": r["value_text"],
                "date": dt.date.fromisoformat(r["value_date"]) if r["value_date"] else None,
            }
        )
    return out


async def response(
    tenant: TenantInfo, actor: Actor, response_id: UUID, *, recorded: bool = False
) -> dict[str, Any] | None:
    """One response the caller may see (store scope applies), or ``None``; ``recorded``:
    the caller just recorded it (``surveys:record`` is enough to see what they entered)."""
    actor.require("surveys:record" if recorded else "surveys:read")
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {_COLUMNS} FROM surveys_response WHERE tenant_id = {{}} AND id = {{}}",
            tenant.id,
            response_id,
        )
    if not rows:
        return None
    found = _row(rows[0])
    return found if actor.sees_store(found["store_id"]) else None


async def customer_responses(
    tenant: TenantInfo,
    actor: Actor,
    customer_ids: list[UUID],
    limit: int,
    after: tuple[dt.datetime, UUID] | None = None,
) -> dict[UUID, list[dict[str, Any]]]:
    """Each customer's latest responses (newest first, up to ``limit`` + 1 each, so a page
    knows whether more follow), in one statement; store scope applies."""
    out: dict[UUID, list[dict[str, Any]]] = {c: [] for c in customer_ids}
    if not customer_ids:
        return out
    where = ["tenant_id = {}", "customer_id IN (" + ", ".join("{}" for _ in customer_ids) + ")"]
    args: list[Any] = [tenant.id, *customer_ids]
    if after is not None:
        where.append("(answered_at < {} OR (answered_at = {} AND id < {}))")
        args += [after[0], after[0], after[1]]
    if actor.store_ids is not None:
        stores = sorted(actor.store_ids, key=str)
        where.append("store_id IN (" + ", ".join("{}" for _ in stores) + ")" if stores else "1 = 0")
        args += stores
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {_COLUMNS} FROM (SELECT {_COLUMNS}, ROW_NUMBER() OVER (PARTITION BY "
            "customer_id ORDER BY answered_at DESC, id DESC) AS rn FROM surveys_response "
            f"WHERE {' AND '.join(where)}) q WHERE rn <= {{}} ORDER BY answered_at DESC, id DESC",
            *args,
            limit + 1,
        )
    for r in map(_row, rows):
        out[r["customer_id"]].append(r)
    return out


async def export_customer(tenant: TenantInfo, customer_id: UUID) -> dict[str, Any]:
    """The customer's responses with every answer (privacy export)."""
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {_COLUMNS} FROM surveys_response WHERE tenant_id = {{}} "
            "AND customer_id = {} ORDER BY answered_at",
            tenant.id,
            customer_id,
        )
        invited = await fetch(
            "SELECT COUNT(*) AS n FROM surveys_link WHERE tenant_id = {} AND customer_id = {}",
            tenant.id,
            customer_id,
        )
    found = [_row(r) for r in rows]
    answers = await answers_of(tenant, [r["id"] for r in found])
    return {
        "invitations": int(invited[0]["n"]),
        "responses": [
            {
                "survey_id": str(r["survey_id"]),
                "channel": r["channel"],
                "answered_at": r["answered_at"].isoformat(),
                "nps": r["nps"],
                "csat": r["csat"],
                "answers": [
                    {
                        "question": a["question_key"],
                        "choices": a["choices"],
                        "number": a["number"],
                        "text": a["text"],
                        "date": a["date"].isoformat() if a["date"] else None,
                    }
                    for a in answers.get(r["id"], [])
                ],
            }
            for r in found
        ],
    }


async def erase_customer(tenant: TenantInfo, customer_id: UUID) -> None:
    """Text answers are what a customer wrote about themselves: removed. Scores, choices and
    dates stay under the pseudonymous id (results do not change)."""
    async with tenant_tx(tenant.id):
        await execute(
            "UPDATE surveys_answer SET value_text = NULL WHERE tenant_id = {} AND value_text "
            "IS NOT NULL AND response_id IN (SELECT id FROM surveys_response WHERE tenant_id = {} "
            "AND customer_id = {})",
            tenant.id,
            tenant.id,
            customer_id,
        )


async def merge_customers(tenant: TenantInfo, source: UUID, target: UUID) -> None:
    """A merged customer's responses and invitations now belong to the customer kept."""
    async with tenant_tx(tenant.id):
        for table in ("surveys_response", "surveys_link"):
            await execute(
                f"UPDATE {table} SET customer_id = {{}} WHERE tenant_id = {{}} "
                "AND customer_id = {}",
                target,
                tenant.id,
                source,
            )
