"""Escalation along the store's ladder (issue 13 item 4): the handler (level 0), the store's
managers (1), HQ — the store specialist / operations manager, role ``hq_manager`` (2).

* Before breach (``warn_at_pct`` of the SLA) a complaint escalates to the store's managers, at
  breach to HQ — for acknowledging and for resolving, in each resolve cycle.
* Media and regulator complaints go to HQ at intake; a "dissatisfied" follow-up escalates one
  level, a second one to HQ.

Each escalation is a row unique per (complaint, stage, trigger, cycle): the SLA job inserts
its due escalations set-based with ``ON CONFLICT DO NOTHING``, so two workers, a retry or a
rerun record (and notify) each once; the notices go through core messaging (transactional, to
the staff members) keyed by the escalation, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from core import (
    Actor,
    ChannelSet,
    MessageRequest,
    TenantInfo,
    emit,
    enqueue_messages,
    execute,
    fetch,
    insert_rows,
    json_text,
    staff_in_roles,
    tenant_tx,
)
from plugins.complaints.settings import ComplaintsSettings

__all__ = ["Escalation", "escalate", "escalate_due", "recipients"]

SYSTEM = Actor.system("complaints.sla")
TEMPLATE = "complaints.escalation"
BATCH = 500
LEVEL_ROLES: dict[int, tuple[str, ...]] = {1: ("store_manager",), 2: ("hq_manager",)}


@dataclass(frozen=True)
class Escalation:
    complaint_id: UUID
    stage: str  # acknowledge, resolve, follow_up, intake
    trigger: str  # warning, breach, dissatisfied, media
    cycle: int
    level: int


async def recipients(
    tenant: TenantInfo,
    level: int,
    store_id: UUID | None,
    handler_id: UUID | None,
    cache: dict[tuple[int, UUID | None], list[UUID]] | None = None,
) -> list[UUID]:
    """Who is told at ``level``: the handler and, from level 1, the store's managers; at
    level 2 HQ (owners when the tenant has no HQ manager)."""
    key = (level, store_id)
    found = None if cache is None else cache.get(key)
    if found is None:
        found = []
        if level >= 1:
            roles = LEVEL_ROLES[min(level, 2)]
            staff = await staff_in_roles(tenant, roles, store_id=None if level >= 2 else store_id)
            if level >= 2 and not staff:
                staff = await staff_in_roles(tenant, ("owner",))
            found = [s.id for s in staff]
        if cache is not None:
            cache[key] = found
    out = list(found)
    if handler_id is not None and handler_id not in out and level <= 1:
        out.insert(0, handler_id)
    return out


async def escalate(
    tenant: TenantInfo,
    settings: ComplaintsSettings,
    channels: ChannelSet,
    wanted: Sequence[Escalation],
    *,
    actor: Actor = SYSTEM,
    now: dt.datetime | None = None,
) -> list[Escalation]:
    """Record the escalations not recorded before (the others are skipped), raise each
    complaint's level, add them to the timeline and notify the staff. Returns those recorded
    now. Call it inside the change's transaction or alone."""
    if not wanted:
        return []
    now = now or dt.datetime.now(dt.UTC)
    values = ", ".join("({}, {}, {}, {}, {}, {}, {}, {}, {})" for _ in wanted)
    args: list[Any] = []
    for e in wanted:
        args += [
            tenant.id,
            uuid4(),
            e.complaint_id,
            e.stage,
            e.trigger,
            e.cycle,
            e.level,
            "[]",
            now,
        ]
    async with tenant_tx(tenant.id):
        won = await fetch(
            "INSERT INTO complaints_escalation (tenant_id, id, complaint_id, stage, trigger, "
            f"cycle, level, notified, at) VALUES {values} ON CONFLICT (tenant_id, complaint_id, "
            "stage, trigger, cycle) DO NOTHING RETURNING id, complaint_id, stage, trigger, cycle, "
            "level",
            *args,
        )
        if not won:
            return []
        ids = list({UUID(str(r["complaint_id"])) for r in won})
        rows = {
            UUID(str(r["id"])): r
            for r in await fetch(
                "SELECT id, number, summary, store_id, handler_id, level, hq_only FROM "
                "complaints_complaint WHERE tenant_id = {} AND id IN ("
                + ", ".join("{}" for _ in ids)
                + ")",
                tenant.id,
                *ids,
            )
        }
        cache: dict[tuple[int, UUID | None], list[UUID]] = {}
        actions: list[dict[str, Any]] = []
        messages: list[MessageRequest] = []
        recorded: list[Escalation] = []
        for r in won:
            c = rows[UUID(str(r["complaint_id"]))]
            # an HQ-only (media, regulator) complaint is told to HQ, never to a store
            level = max(int(r["level"]), 2) if c["hq_only"] else int(r["level"])
            store = UUID(str(c["store_id"])) if c["store_id"] else None
            handler = UUID(str(c["handler_id"])) if c["handler_id"] else None
            told = await recipients(tenant, level, store, handler, cache)
            esc = Escalation(c["id"], r["stage"], r["trigger"], int(r["cycle"]), level)
            recorded.append(esc)
            await execute(
                "UPDATE complaints_escalation SET notified = {} WHERE tenant_id = {} AND id = {}",
                json_text([str(s) for s in told]),
                tenant.id,
                r["id"],
            )
            actions.append(
                {
                    "tenant_id": tenant.id,
                    "id": uuid4(),
                    "complaint_id": c["id"],
                    "action": "escalated",
                    "step": "transfer",
                    "actor": f"{actor.kind}:{actor.id}",
                    "staff_id": actor.staff_id,
                    "note": f"{r['stage']} {r['trigger']} → level {level}",
                    "data": json_text(
                        {
                            "stage": r["stage"],
                            "trigger": r["trigger"],
                            "level": level,
                            "notified": [str(s) for s in told],
                        }
                    ),
                    "at": now,
                }
            )
            messages += [
                MessageRequest(
                    customer_id=None,
                    staff_id=s,
                    channel=settings.channel,
                    template_key=TEMPLATE,
                    idempotency_key=f"complaints:esc:{r['id']}:{s}",
                    source="complaints",
                    purpose="service",
                    transactional=True,
                    store_id=store,
                    context={
                        "number": c["number"],
                        "summary": c["summary"],
                        "stage": r["stage"],
                        "trigger": r["trigger"],
                        "level": level,
                    },
                )
                for s in told
            ]
        await insert_rows("complaints_action", actions)
        for esc in recorded:
            await execute(
                "UPDATE complaints_complaint SET level = CASE WHEN level < {} THEN {} ELSE level "
                "END, updated_at = {} WHERE tenant_id = {} AND id = {}",
                esc.level,
                esc.level,
                now,
                tenant.id,
                esc.complaint_id,
            )
            await emit(
                "complaints.escalated",
                esc.complaint_id,
                {
                    "complaint_id": str(esc.complaint_id),
                    "stage": esc.stage,
                    "trigger": esc.trigger,
                    "level": esc.level,
                },
            )
        if messages:
            await enqueue_messages(tenant, messages, channels, now=now)
    return recorded


async def escalate_due(
    tenant: TenantInfo,
    settings: ComplaintsSettings,
    channels: ChannelSet,
    now: dt.datetime,
) -> int:
    """The SLA job: every open complaint past its warning or due time escalates (once per
    stage, trigger and cycle). Waiting complaints and suggestions do not. Returns how many
    escalations were recorded."""
    total = 0
    for stage, warn, due, open_states in (
        ("acknowledge", "ack_warn_at", "ack_due_at", ("received",)),
        (
            "resolve",
            "resolve_warn_at",
            "resolve_due_at",
            ("received", "acknowledged", "in_progress"),
        ),
    ):
        done_col = "acknowledged_at" if stage == "acknowledge" else "resolved_at"
        for trigger, column, level in (("warning", warn, 1), ("breach", due, 2)):
            after: UUID | None = None
            while True:
                async with tenant_tx(tenant.id, write=False):
                    rows = await fetch(
                        "SELECT c.id, c.cycle FROM complaints_complaint c WHERE c.tenant_id = {} "
                        f"AND c.kind = 'complaint' AND c.{done_col} IS NULL AND c.{column} <= {{}} "
                        f"AND c.state IN ({', '.join('{}' for _ in open_states)}) "
                        + ("AND c.id > {} " if after else "")
                        + "AND NOT EXISTS (SELECT 1 FROM complaints_escalation e WHERE "
                        "e.tenant_id = c.tenant_id AND e.complaint_id = c.id AND e.stage = {} "
                        f"AND e.trigger = {{}} AND e.cycle = c.cycle) ORDER BY c.id LIMIT {BATCH}",
                        tenant.id,
                        now,
                        *open_states,
                        *([after] if after else []),
                        stage,
                        trigger,
                    )
                if not rows:
                    break
                after = UUID(str(rows[-1]["id"]))
                recorded = await escalate(
                    tenant,
                    settings,
                    channels,
                    [
                        Escalation(UUID(str(r["id"])), stage, trigger, int(r["cycle"]), level)
                        for r in rows
                    ],
                    now=now,
                )
                total += len(recorded)
                if len(rows) < BATCH:
                    break
    return total
