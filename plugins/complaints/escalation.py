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
    StaffFacts,
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


Ladder = dict[int, list[StaffFacts]]


async def _rung(tenant: TenantInfo, level: int, ladder: Ladder) -> list[StaffFacts]:
    """The chain's active staff at ``level`` (1 store managers, 2 HQ; HQ falls back to the
    owners), read once per ``ladder``: the SLA job asks for thousands of complaints."""
    found = ladder.get(level)
    if found is None:
        found = await staff_in_roles(tenant, LEVEL_ROLES[level])
        if level >= 2 and not found:
            found = await staff_in_roles(tenant, ("owner",))
        ladder[level] = found
    return found


async def recipients(
    tenant: TenantInfo,
    level: int,
    store_id: UUID | None,
    handler_id: UUID | None,
    ladder: Ladder | None = None,
) -> list[UUID]:
    """Who is told at ``level``: the handler and, from level 1, the store's managers; at
    level 2 HQ (owners when the tenant has no HQ manager). ``ladder`` caches the staff."""
    out: list[UUID] = []
    if level >= 1:
        rung = min(level, 2)
        staff = await _rung(tenant, rung, {} if ladder is None else ladder)
        out = [s.id for s in staff if rung >= 2 or s.works_in(store_id)]
    if handler_id is not None and handler_id not in out and level <= 1:
        out.insert(0, handler_id)
    return out


def _in(values: Sequence[Any]) -> str:
    return "(" + ", ".join("{}" for _ in values) + ")"


async def escalate(
    tenant: TenantInfo,
    settings: ComplaintsSettings,
    channels: ChannelSet,
    wanted: Sequence[Escalation],
    *,
    actor: Actor = SYSTEM,
    now: dt.datetime | None = None,
    ladder: Ladder | None = None,
) -> list[Escalation]:
    """Record the escalations not recorded before (the others are skipped), raise each
    complaint's level, add them to the timeline and notify the staff. Returns those recorded
    now. Call it inside the change's transaction or alone.

    A set-based batch: the complaints are read, their recipients worked out and the
    escalations inserted with whom they notify in one ``INSERT … ON CONFLICT DO NOTHING``;
    only the rows that statement inserted are acted on, so a concurrent caller that lost the
    race for a row (it waits on the winner's row until that commits) does nothing for it.
    The level recorded is the one notified: an HQ-only complaint's is at least 2."""
    if not wanted:
        return []
    now = now or dt.datetime.now(dt.UTC)
    ladder = {} if ladder is None else ladder
    unique = list({(e.complaint_id, e.stage, e.trigger, e.cycle): e for e in wanted}.values())
    async with tenant_tx(tenant.id):
        ids = list({e.complaint_id for e in unique})
        rows = {
            UUID(str(r["id"])): r
            for r in await fetch(
                "SELECT id, number, summary, store_id, handler_id, hq_only FROM "
                f"complaints_complaint WHERE tenant_id = {{}} AND id IN {_in(ids)}",
                tenant.id,
                *ids,
            )
        }
        planned: list[tuple[UUID, Escalation, list[UUID], dict[str, Any]]] = []
        for e in unique:
            c = rows.get(e.complaint_id)
            if c is None:  # erased meanwhile: nothing to escalate
                continue
            # an HQ-only (media, regulator) complaint is told to HQ, never to a store
            level = max(e.level, 2) if c["hq_only"] else e.level
            store = UUID(str(c["store_id"])) if c["store_id"] else None
            handler = UUID(str(c["handler_id"])) if c["handler_id"] else None
            told = await recipients(tenant, level, store, handler, ladder)
            esc = Escalation(e.complaint_id, e.stage, e.trigger, e.cycle, level)
            planned.append((uuid4(), esc, told, c))
        if not planned:
            return []
        args: list[Any] = []
        for uid, esc, told, _c in planned:
            args += [
                tenant.id,
                uid,
                esc.complaint_id,
                esc.stage,
                esc.trigger,
                esc.cycle,
                esc.level,
                json_text([str(s) for s in told]),
                now,
            ]
        won = await fetch(
            "INSERT INTO complaints_escalation (tenant_id, id, complaint_id, stage, trigger, "
            "cycle, level, notified, at) VALUES "
            + ", ".join("({}, {}, {}, {}, {}, {}, {}, {}, {})" for _ in planned)
            + " ON CONFLICT (tenant_id, complaint_id, stage, trigger, cycle) DO NOTHING "
            "RETURNING id",
            *args,
        )
        inserted = {UUID(str(r["id"])) for r in won}
        recorded = [p for p in planned if p[0] in inserted]
        if not recorded:
            return []
        actions: list[dict[str, Any]] = []
        messages: list[MessageRequest] = []
        for uid, esc, told, c in recorded:
            notified = [str(s) for s in told]
            actions.append(
                {
                    "tenant_id": tenant.id,
                    "id": uuid4(),
                    "complaint_id": esc.complaint_id,
                    "action": "escalated",
                    "step": "transfer",
                    "actor": f"{actor.kind}:{actor.id}",
                    "staff_id": actor.staff_id,
                    "note": f"{esc.stage} {esc.trigger} → level {esc.level}",
                    "data": json_text(
                        {
                            "stage": esc.stage,
                            "trigger": esc.trigger,
                            "level": esc.level,
                            "notified": notified,
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
                    idempotency_key=f"complaints:esc:{uid}:{s}",
                    source="complaints",
                    purpose="service",
                    transactional=True,
                    store_id=UUID(str(c["store_id"])) if c["store_id"] else None,
                    context={
                        "number": c["number"],
                        "summary": c["summary"],
                        "stage": esc.stage,
                        "trigger": esc.trigger,
                        "level": esc.level,
                    },
                )
                for s in told
            ]
        await insert_rows("complaints_action", actions)
        for level in sorted({esc.level for _u, esc, _t, _c in recorded}):
            raised = list({esc.complaint_id for _u, esc, _t, _c in recorded if esc.level == level})
            await execute(
                "UPDATE complaints_complaint SET level = CASE WHEN level < {} THEN {} ELSE level "
                f"END, updated_at = {{}} WHERE tenant_id = {{}} AND id IN {_in(raised)}",
                level,
                level,
                now,
                tenant.id,
                *raised,
            )
        for _uid, esc, _told, _c in recorded:
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
    return [esc for _u, esc, _t, _c in recorded]


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
    ladder: Ladder = {}  # the staff, read once per run
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
                        # not yet escalated: a probe of the unique key per candidate. Not
                        # NOT EXISTS: PostgreSQL makes that an anti-join planned on the
                        # escalation table's statistics, which a run that fills the table
                        # leaves stale (a nested loop over every escalation, per batch: 0.7 s a
                        # query at 10,000 complaints); an aggregate subquery is never joined.
                        + "AND (SELECT COUNT(*) FROM complaints_escalation e WHERE "
                        "e.tenant_id = c.tenant_id AND e.complaint_id = c.id AND e.stage = {} "
                        f"AND e.trigger = {{}} AND e.cycle = c.cycle) = 0 ORDER BY c.id "
                        f"LIMIT {BATCH}",
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
                    ladder=ladder,
                )
                total += len(recorded)
                if len(rows) < BATCH:
                    break
    return total
