"""A complaint's timeline: every action, who and when, and the step of seed 003's procedure it
belongs to — 热情受理 (receive) — 仔细聆听 (listen) — 衷心感谢 (thank) — 尽快解决 (resolve) —
及时转交 (transfer) — 跟踪反馈 (follow up)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid4

from core import Actor, TenantInfo, fetch, insert_rows, json_text, tenant_tx

__all__ = ["STEPS", "add_action", "timeline"]

STEPS: dict[str, str] = {
    "received": "receive",
    "note": "listen",
    "acknowledged": "thank",
    "assigned": "resolve",
    "waiting": "resolve",
    "resumed": "resolve",
    "resolved": "resolve",
    "compensated": "resolve",
    "transferred": "transfer",
    "escalated": "transfer",
    "follow_up_asked": "follow_up",
    "followed_up": "follow_up",
    "reopened": "follow_up",
    "closed": "follow_up",
    "linked": "listen",
}


async def add_action(
    tenant: TenantInfo,
    actor: Actor,
    complaint_id: UUID,
    action: str,
    *,
    note: str = "",
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Append to the timeline (inside the change's transaction)."""
    async with tenant_tx(tenant.id):
        await insert_rows(
            "complaints_action",
            [
                {
                    "tenant_id": tenant.id,
                    "id": uuid4(),
                    "complaint_id": complaint_id,
                    "action": action,
                    "step": STEPS.get(action, ""),
                    "actor": f"{actor.kind}:{actor.id}",
                    "staff_id": actor.staff_id,
                    "note": note,
                    "data": json_text(data or {}),
                    "at": at or dt.datetime.now(dt.UTC),
                }
            ],
        )


async def timeline(
    tenant: TenantInfo, complaint_ids: list[UUID]
) -> dict[UUID, list[dict[str, Any]]]:
    """Each complaint's actions, oldest first (one query for a page of complaints)."""
    out: dict[UUID, list[dict[str, Any]]] = {c: [] for c in complaint_ids}
    if not complaint_ids:
        return out
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT complaint_id, action, step, actor, staff_id, note, data, at "
            "FROM complaints_action WHERE tenant_id = {} AND complaint_id IN ("
            + ", ".join("{}" for _ in complaint_ids)
            + ") ORDER BY at, id",
            tenant.id,
            *complaint_ids,
        )
    for r in rows:
        out[UUID(str(r["complaint_id"]))].append(dict(r))
    return out
