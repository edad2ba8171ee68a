"""The complaint workflow (issue 13 item 3): received → acknowledged → in_progress ⇄ waiting →
resolved → followed_up → closed, with reopen; each step on the timeline with who and when.

Every transition locks the complaint, checks that the caller sees it and that its state allows
the step (``invalid_state`` otherwise: nothing is written), and recomputes the SLA deadlines
when time stops or starts again (waiting, resuming, reopening, a transfer to another store's
calendar). Resolving publishes ``complaints.resolved`` (surveys sends its follow-up survey; without
surveys the customer gets the follow-up message with a status link: :mod:`.satisfaction`) and,
with a compensation, ``complaints.compensation_granted`` (loyalty pays it, once per complaint).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from core import (
    Actor,
    ChannelSet,
    Conflict,
    NotFound,
    TenantInfo,
    ValidationFailed,
    active_customer,
    emit,
    execute,
    find_customer_by_phone,
    json_text,
    staff_facts,
    store_facts,
    tenant_tx,
)
from plugins.complaints import satisfaction, sla
from plugins.complaints.escalation import Escalation, escalate
from plugins.complaints.records import HQ_ROLES, get_complaint
from plugins.complaints.settings import ComplaintsSettings
from plugins.complaints.timeline import add_action

__all__ = [
    "RESOLUTION_TYPES",
    "acknowledge",
    "add_note",
    "assign",
    "close",
    "follow_up",
    "link_customer",
    "reopen",
    "resolve",
    "resume",
    "transfer",
    "wait",
]

OPEN = ("received", "acknowledged", "in_progress")
DONE = ("resolved", "followed_up", "closed")
RESOLUTION_TYPES = (
    "return",
    "exchange",
    "price_adjustment",
    "service_change",
    "explanation",
    "compensation",
)
FOLLOW_UPS = ("survey", "message", "call")


def _state(row: dict[str, Any], allowed: tuple[str, ...], step: str) -> None:
    if row["state"] not in allowed:
        raise Conflict(
            f"a {row['state']} complaint cannot be {step} (allowed from {', '.join(allowed)})",
            field="id",
            code="invalid_state",
        )


async def _change(
    tenant: TenantInfo,
    actor: Actor,
    uid: UUID,
    apply: Callable[[dict[str, Any], dt.datetime], Awaitable[dict[str, Any]]],
    *,
    settings: ComplaintsSettings,
    action: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    recompute: bool = False,
) -> dict[str, Any]:
    """Lock, check, update with what ``apply`` returns, add the timeline entry; one
    transaction. Returns the row as it was before with the update applied."""
    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        row = await get_complaint(tenant, actor, uid, for_update=True)
        updates = await apply(row, now)
        merged = {**row, **updates}
        if recompute:
            calendars = await sla.calendars_for(tenant, [merged["store_id"]])
            updates.update(
                sla.deadlines_of(
                    calendars.get(merged["store_id"]), merged, settings.warn_at_pct, now
                ).columns()
            )
            merged.update(updates)
        updates["updated_at"] = now
        sets = ", ".join(f"{k} = {{}}" for k in updates)
        await execute(
            f"UPDATE complaints_complaint SET {sets} WHERE tenant_id = {{}} AND id = {{}}",
            *updates.values(),
            tenant.id,
            uid,
        )
        await add_action(tenant, actor, uid, action, note=note, data=data, at=now)
    return merged


async def acknowledge(
    tenant: TenantInfo, actor: Actor, settings: ComplaintsSettings, uid: UUID, note: str = ""
) -> UUID:
    """受理: the complaint is taken up (the acknowledge SLA is met or breached now)."""
    actor.require("complaints:handle")

    async def apply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        _state(row, ("received",), "acknowledged")
        return {"state": "acknowledged", "acknowledged_at": now}

    await _change(tenant, actor, uid, apply, settings=settings, action="acknowledged", note=note)
    return uid


async def _staff_member(
    tenant: TenantInfo, staff_id: UUID, store_id: UUID | None, field: str
) -> None:
    found = (await staff_facts(tenant, [staff_id])).get(staff_id)
    if found is None or not found.active:
        raise NotFound("no such staff member", field=field)
    if not found.works_in(store_id) and found.role not in HQ_ROLES:
        raise ValidationFailed(
            "this staff member does not work in the complaint's store",
            field=field,
            code="wrong_store",
        )


async def assign(
    tenant: TenantInfo,
    actor: Actor,
    settings: ComplaintsSettings,
    uid: UUID,
    handler_id: UUID,
    note: str = "",
) -> UUID:
    """处理人: a handler takes the complaint; a new complaint counts as acknowledged."""
    actor.require("complaints:assign")

    async def apply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        _state(row, (*OPEN, "waiting"), "assigned")
        await _staff_member(tenant, handler_id, row["store_id"], "handler_id")
        out: dict[str, Any] = {"handler_id": handler_id}
        if row["state"] in ("received", "acknowledged"):
            out["state"] = "in_progress"
        if row["acknowledged_at"] is None:
            out["acknowledged_at"] = now
        return out

    await _change(
        tenant,
        actor,
        uid,
        apply,
        settings=settings,
        action="assigned",
        note=note,
        data={"handler_id": str(handler_id)},
    )
    return uid


async def transfer(
    tenant: TenantInfo,
    actor: Actor,
    settings: ComplaintsSettings,
    uid: UUID,
    *,
    store_id: UUID | None,
    to_hq: bool,
    note: str = "",
) -> UUID:
    """及时转交: to another store (its calendar now sets the deadlines) or to HQ. HQ
    assigning a media or regulator complaint to a store makes it the store's."""
    actor.require("complaints:assign")
    if to_hq == (store_id is not None):
        raise ValidationFailed("transfer to a store or to HQ", field="store_id")
    if store_id is not None and (
        not await store_facts(tenant, [store_id]) or not actor.sees_store(store_id)
    ):
        raise NotFound("no such store", field="store_id")

    async def apply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        _state(row, (*OPEN, "waiting"), "transferred")
        if to_hq:
            return {"hq_only": True, "handler_id": None}
        if row["hq_only"] and actor.store_ids is not None:
            raise NotFound("no complaint with this id", field="id")
        return {"store_id": store_id, "hq_only": False, "handler_id": None}

    await _change(
        tenant,
        actor,
        uid,
        apply,
        settings=settings,
        action="transferred",
        note=note,
        data={"store_id": str(store_id) if store_id else None, "to_hq": to_hq},
        recompute=True,
    )
    return uid


async def wait(
    tenant: TenantInfo, actor: Actor, settings: ComplaintsSettings, uid: UUID, note: str = ""
) -> UUID:
    """Waiting for the customer: the SLA clock stops."""
    actor.require("complaints:handle")

    async def apply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        _state(row, ("acknowledged", "in_progress"), "put on hold")
        return {"state": "waiting", "waiting_since": now}

    await _change(
        tenant, actor, uid, apply, settings=settings, action="waiting", note=note, recompute=True
    )
    return uid


async def resume(
    tenant: TenantInfo, actor: Actor, settings: ComplaintsSettings, uid: UUID, note: str = ""
) -> UUID:
    """The customer answered: the clock runs again, the wait no longer counts."""
    actor.require("complaints:handle")

    async def apply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        _state(row, ("waiting",), "resumed")
        pauses = [[a.isoformat(), b.isoformat()] for a, b in sla.pauses_of(row["pauses"])]
        pauses.append([row["waiting_since"].isoformat(), now.isoformat()])
        return {"state": "in_progress", "waiting_since": None, "pauses": json_text(pauses)}

    await _change(
        tenant, actor, uid, apply, settings=settings, action="resumed", note=note, recompute=True
    )
    return uid


async def resolve(
    tenant: TenantInfo,
    actor: Actor,
    settings: ComplaintsSettings,
    uid: UUID,
    *,
    resolution_type: str,
    resolution: str,
    compensation_points: int = 0,
    compensation_coupon: str = "",
    follow_up: str | None,
    surveys: bool = False,
    channels: ChannelSet | None = None,
) -> UUID:
    """尽快解决: how it was resolved (处理结果), the compensation, and how the customer will be
    asked whether they are satisfied (:func:`.satisfaction.method`: ``None`` is a survey when
    ``surveys`` is enabled, else a message to the customer, else a call). A message is queued
    through ``channels`` with this resolution's status link, in the same transaction."""
    actor.require("complaints:handle")
    if resolution_type not in RESOLUTION_TYPES:
        raise ValidationFailed(
            f"resolution type must be one of {', '.join(RESOLUTION_TYPES)}",
            field="resolution_type",
        )
    if not 1 <= len(resolution.strip()) <= 4000:
        raise ValidationFailed("the resolution has 1-4000 characters", field="resolution")
    if follow_up is not None and follow_up not in FOLLOW_UPS:
        raise ValidationFailed(
            f"follow-up must be one of {', '.join(FOLLOW_UPS)}", field="follow_up"
        )
    if not 0 <= compensation_points <= settings.max_compensation_points:
        raise ValidationFailed(
            f"compensation is 0-{settings.max_compensation_points} points",
            field="compensation_points",
        )
    if len(compensation_coupon) > 64:
        raise ValidationFailed("at most 64 characters", field="compensation_coupon")
    compensating = compensation_points > 0 or bool(compensation_coupon)

    async def apply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        _state(row, ("acknowledged", "in_progress"), "resolved")
        if compensating and row["customer_id"] is None:
            raise ValidationFailed(
                "link the complaint to a customer before compensating",
                field="compensation_points",
                code="no_customer",
            )
        if compensating and (row["compensation_points"] or row["compensation_coupon"]):
            raise Conflict(
                "this complaint was compensated already",
                field="compensation_points",
                code="already_compensated",
            )
        how = satisfaction.method(
            follow_up, surveys=surveys, customer=row["customer_id"] is not None
        )
        if how == "message" and channels is None:
            raise ValueError("a follow-up by message needs the tenant's channels")
        out: dict[str, Any] = {
            "state": "resolved",
            "resolved_at": now,
            "resolution_type": resolution_type,
            "resolution": resolution.strip(),
            "follow_up": how,
        }
        if compensating:
            out["compensation_points"] = compensation_points
            out["compensation_coupon"] = compensation_coupon
        return out

    async with tenant_tx(tenant.id):
        row = await _change(
            tenant,
            actor,
            uid,
            apply,
            settings=settings,
            action="resolved",
            note=resolution.strip(),
            data={"resolution_type": resolution_type, "follow_up": follow_up or "default"},
        )
        how = str(row["follow_up"])
        event = {
            "complaint_id": str(uid),
            "number": row["number"],
            "customer_id": str(row["customer_id"]) if row["customer_id"] else None,
            "store_id": str(row["store_id"]) if row["store_id"] else None,
            "staff_id": str(row["handler_id"]) if row["handler_id"] else None,
            "resolution_type": resolution_type,
            "follow_up": how,
            "cycle": int(row["cycle"]),
        }
        await emit("complaints.resolved", uid, event)
        if how == "message":
            assert channels is not None  # checked before anything was written
            asked = await satisfaction.ask_by_message(
                tenant, settings, channels, {**row, "id": uid}, row["resolved_at"]
            )
            # just after the resolution on the timeline (its own clock, not the wall clock)
            at = row["resolved_at"] + dt.timedelta(microseconds=1)
            await add_action(tenant, actor, uid, "follow_up_asked", data=asked, at=at)
        if compensating:
            await emit(
                "complaints.compensation_granted",
                uid,
                {
                    "key": f"complaint:{uid}",
                    "complaint_id": str(uid),
                    "customer_id": str(row["customer_id"]),
                    "points": compensation_points,
                    "coupon": compensation_coupon,
                    "reason": f"投诉补偿 {row['number']}",
                },
            )
            await add_action(
                tenant,
                actor,
                uid,
                "compensated",
                data={"points": compensation_points, "coupon": compensation_coupon},
            )
    return uid


async def follow_up(
    tenant: TenantInfo,
    actor: Actor,
    settings: ComplaintsSettings,
    channels: ChannelSet,
    uid: UUID,
    *,
    satisfied: bool,
    note: str = "",
    via: str = "call",
    cycle: int | None = None,
) -> UUID:
    """跟踪反馈: the customer's answer. Satisfied: followed up. Dissatisfied: reopened and
    escalated one level; a second time, to HQ. ``cycle``: the resolution the customer answers
    (the status page's form): any other, or one that is no longer waiting for an answer, is
    ``answered`` and changes nothing — a second post is not applied twice."""
    actor.require("complaints:handle")

    async def apply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        if cycle is not None and (int(row["cycle"]) != cycle or row["state"] != "resolved"):
            raise Conflict(
                "this resolution is not waiting for an answer (answered already, or reopened)",
                field="satisfied",
                code="answered",
            )
        _state(row, ("resolved",), "followed up")
        if satisfied:
            return {"state": "followed_up", "followed_up_at": now, "satisfied": True}
        return {
            "state": "in_progress",
            "followed_up_at": now,
            "satisfied": False,
            "dissatisfied_count": int(row["dissatisfied_count"]) + 1,
            "cycle": int(row["cycle"]) + 1,
            "cycle_started_at": now,
            "resolved_at": None,
        }

    async with tenant_tx(tenant.id):
        row = await _change(
            tenant,
            actor,
            uid,
            apply,
            settings=settings,
            action="followed_up",
            note=note,
            data={"satisfied": satisfied, "via": via},
            recompute=not satisfied,
        )
        if not satisfied:
            await add_action(tenant, actor, uid, "reopened", note="顾客不满意")
            level = 2 if int(row["dissatisfied_count"]) >= 2 else min(int(row["level"]) + 1, 2)
            await escalate(
                tenant,
                settings,
                channels,
                [Escalation(uid, "follow_up", "dissatisfied", int(row["cycle"]), level)],
                actor=actor,
            )
    return uid


async def reopen(
    tenant: TenantInfo, actor: Actor, settings: ComplaintsSettings, uid: UUID, note: str = ""
) -> UUID:
    """Back to work: a new resolve cycle with its own SLA."""
    actor.require("complaints:handle")

    async def apply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        _state(row, DONE, "reopened")
        return {
            "state": "in_progress",
            "cycle": int(row["cycle"]) + 1,
            "cycle_started_at": now,
            "resolved_at": None,
            "closed_at": None,
        }

    await _change(
        tenant, actor, uid, apply, settings=settings, action="reopened", note=note, recompute=True
    )
    return uid


async def close(
    tenant: TenantInfo, actor: Actor, settings: ComplaintsSettings, uid: UUID, note: str = ""
) -> UUID:
    """Closed: resolved (and followed up), or a suggestion acknowledged."""
    actor.require("complaints:handle")

    async def apply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        allowed: tuple[str, ...] = ("resolved", "followed_up")
        if row["kind"] == "suggestion":
            allowed = ("received", "acknowledged", "in_progress", *allowed)
        _state(row, allowed, "closed")
        out: dict[str, Any] = {"state": "closed", "closed_at": now}
        if row["acknowledged_at"] is None:
            out["acknowledged_at"] = now
        return out

    await _change(tenant, actor, uid, apply, settings=settings, action="closed", note=note)
    return uid


async def add_note(
    tenant: TenantInfo, actor: Actor, settings: ComplaintsSettings, uid: UUID, note: str
) -> UUID:
    """仔细聆听: what the customer said, what was done."""
    actor.require("complaints:handle")
    if not 1 <= len(note.strip()) <= 4000:
        raise ValidationFailed("a note has 1-4000 characters", field="note")

    async def apply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        return {}

    await _change(tenant, actor, uid, apply, settings=settings, action="note", note=note.strip())
    return uid


async def link_customer(
    tenant: TenantInfo,
    actor: Actor,
    settings: ComplaintsSettings,
    uid: UUID,
    customer_id: UUID | None,
) -> UUID:
    """Link the complaint to a customer: the one given, or the tenant's customer with the
    caller's phone (``not_found`` when there is none)."""
    actor.require("complaints:handle")

    async def apply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        found = customer_id
        if found is None and row["contact_phone"]:
            view = await find_customer_by_phone(tenant, actor, row["contact_phone"])
            found = view.id if view else None
        if found is None:
            raise NotFound("no customer with the caller's phone", field="customer_id")
        await active_customer(tenant, found, field="customer_id")
        return {"customer_id": found}

    await _change(tenant, actor, uid, apply, settings=settings, action="linked")
    return uid
