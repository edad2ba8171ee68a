"""Interactions (沟通记录), follow-up tasks and revisit plans (定期回访) (CORE-7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4, uuid5

import msgspec
from msgspec import Meta

from core.context import Actor, TenantInfo
from core.customers.service import load_customer_row
from core.db import current_tenant, fetch, tenant_tx
from core.errors import NotFound, ValidationFailed
from core.events import emit
from core.idempotency import claim
from core.tables import Interaction, RevisitPlan, Staff, Store, Task
from core.validation import FUTURE_SLACK, convert, instant

__all__ = [
    "InteractionInput",
    "RevisitPlanInput",
    "TaskInput",
    "TaskRequest",
    "complete_task",
    "create_revisit_plan",
    "create_task",
    "create_tasks",
    "get_interaction",
    "list_interactions",
    "list_tasks",
    "log_interaction",
    "overdue_tasks",
]

ContactChannel = Literal["phone", "sms", "email", "wechat", "in_person", "other"]
Text = Annotated[str, Meta(min_length=1, max_length=5000)]


class InteractionInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    customer_id: UUID
    channel: ContactChannel
    content: Text
    feedback: Annotated[str, Meta(max_length=5000)] = ""
    occurred_at: dt.datetime | None = None
    store_id: UUID | None = None
    task_id: UUID | None = None


class TaskInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Annotated[str, Meta(min_length=1, max_length=200)]
    due_at: dt.datetime
    customer_id: UUID | None = None
    store_id: UUID | None = None
    owner_staff_id: UUID | None = None
    notes: Annotated[str, Meta(max_length=5000)] = ""


class RevisitPlanInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    customer_id: UUID
    interval_days: Annotated[int, Meta(ge=1, le=730)]
    title: Annotated[str, Meta(min_length=1, max_length=200)] = "回访 / Revisit call"
    channel: ContactChannel = "phone"
    store_id: UUID | None = None
    owner_staff_id: UUID | None = None
    first_due_at: dt.datetime | None = None


def _aware(value: dt.datetime | None, field: str, *, due: bool = False) -> dt.datetime:
    """A contact's time (not in the future) or a task's due time (any future)."""
    return instant(value, field, future=None if due else FUTURE_SLACK)


async def _check(store_id: UUID | None, staff_id: UUID | None, actor: Actor) -> None:
    if store_id is not None and (
        not actor.sees_store(store_id) or not await Store.exists().where(Store.id == store_id)
    ):
        raise ValidationFailed("unknown store", field="store_id", code="unknown_store")
    if staff_id is not None and not await Staff.exists().where(Staff.id == staff_id):
        raise ValidationFailed("unknown staff member", field="owner_staff_id", code="unknown_staff")


async def log_interaction(
    tenant: TenantInfo,
    actor: Actor,
    data: InteractionInput | dict[str, Any],
    *,
    idempotency_key: str | None = None,
) -> UUID:
    """Log a contact (and ``interaction.logged``); a retry with the same key logs it once."""
    actor.require("interactions:write")
    payload = convert(data, InteractionInput)
    occurred = _aware(payload.occurred_at, "occurred_at")
    interaction_id = uuid4()
    async with tenant_tx(tenant.id):
        earlier = await claim(
            "interaction", idempotency_key, msgspec.to_builtins(payload), interaction_id
        )
        if earlier is not None:
            return earlier
        await load_customer_row(payload.customer_id)
        await _check(payload.store_id, None, actor)
        if payload.task_id and not await Task.exists().where(Task.id == payload.task_id):
            raise ValidationFailed("unknown task", field="task_id", code="unknown_task")
        await Interaction.insert(
            Interaction(
                id=interaction_id,
                customer_id=payload.customer_id,
                store_id=payload.store_id,
                staff_id=actor.staff_id,
                channel=payload.channel,
                occurred_at=occurred,
                content=payload.content,
                feedback=payload.feedback,
                task_id=payload.task_id,
            )
        )
        await emit(
            "interaction.logged",
            interaction_id,
            {
                "interaction_id": str(interaction_id),
                "customer_id": str(payload.customer_id),
                "channel": payload.channel,
            },
        )
    return interaction_id


async def create_task(
    tenant: TenantInfo,
    actor: Actor,
    data: TaskInput | dict[str, Any],
    *,
    idempotency_key: str | None = None,
) -> UUID:
    """Create a follow-up task; a retry with the same key creates it once."""
    actor.require("tasks:write")
    payload = convert(data, TaskInput)
    due = _aware(payload.due_at, "due_at", due=True)
    task_id = uuid4()
    async with tenant_tx(tenant.id):
        earlier = await claim("task", idempotency_key, msgspec.to_builtins(payload), task_id)
        if earlier is not None:
            return earlier
        if payload.customer_id:
            await load_customer_row(payload.customer_id)
        await _check(payload.store_id, payload.owner_staff_id, actor)
        await Task.insert(
            Task(
                id=task_id,
                customer_id=payload.customer_id,
                store_id=payload.store_id,
                owner_staff_id=payload.owner_staff_id,
                title=payload.title,
                notes=payload.notes,
                due_at=due,
            )
        )
    return task_id


@dataclass(frozen=True)
class TaskRequest:
    """A task a plugin's job creates (a revisit campaign's call): ``key`` makes it once —
    the same key never creates a second task, whoever asks again and however often."""

    key: str
    title: str
    due_at: dt.datetime
    customer_id: UUID | None = None
    store_id: UUID | None = None
    owner_staff_id: UUID | None = None
    notes: str = ""


TASK_NAMESPACE = UUID("4d1c9a52-7b0e-4f43-9c1e-2a6f3d8b5e70")


def task_id_for(tenant_id: UUID, key: str) -> UUID:
    """The id of the task created for ``key`` (a UUID-5 of the tenant and the key)."""
    return uuid5(TASK_NAMESPACE, f"{tenant_id}:{key}")


async def create_tasks(tenant: TenantInfo, tasks: Sequence[TaskRequest]) -> dict[str, UUID]:
    """Create ``tasks`` inside the *current* tenant transaction (they commit or roll back with
    the caller's work), once per ``key``: a task's id is derived from its key, so a key seen
    before (a retried job, a second worker) creates nothing. Returns key → id of the tasks
    created now (the ones that existed already are absent). A system service: the caller
    (a job) has checked what it may do; titles are cut to 200 characters."""
    if current_tenant.get() != tenant.id:
        raise RuntimeError("create_tasks runs inside the tenant's transaction (tenant_tx)")
    now = dt.datetime.now(dt.UTC)
    created: dict[str, UUID] = {}
    wanted = list({t.key: t for t in tasks}.values())
    for i in range(0, len(wanted), 200):
        part = wanted[i : i + 200]
        ids = {task_id_for(tenant.id, t.key): t.key for t in part}
        row = "({}, {}, {}, {}, {}, {}, {}, {}, 'open', {})"
        args: list[Any] = []
        for t in part:
            args += [
                tenant.id,
                task_id_for(tenant.id, t.key),
                t.customer_id,
                t.store_id,
                t.owner_staff_id,
                t.title[:200],
                t.notes[:5000],
                instant(t.due_at, "due_at", future=None),
                now,
            ]
        rows = await fetch(
            "INSERT INTO task (tenant_id, id, customer_id, store_id, owner_staff_id, title, "
            "notes, due_at, status, created_at) VALUES "
            + ", ".join(row for _ in part)
            + " ON CONFLICT DO NOTHING RETURNING id",
            *args,
        )
        for r in rows:
            found = r["id"] if isinstance(r["id"], UUID) else UUID(str(r["id"]))
            created[ids[found]] = found
    return created


async def complete_task(
    tenant: TenantInfo, actor: Actor, task_id: UUID, *, note: str = ""
) -> UUID | None:
    """Complete an open task; if it belongs to an active revisit plan, create the next task.

    Returns the id of the next task, if one was created.
    """
    actor.require("tasks:write")
    if len(note) > 5000:
        raise ValidationFailed("note is too long", field="note", code="too_long")
    async with tenant_tx(tenant.id):
        task = await Task.select().where(Task.id == task_id).first()
        if task is None or not actor.sees_store(task["store_id"]):
            raise NotFound("task not found", field="id")
        if task["status"] != "open":
            raise ValidationFailed(
                "task is already completed", field="id", code="already_completed"
            )
        now = dt.datetime.now(dt.UTC)
        notes = (task["notes"] + "\n" + note).strip() if note else task["notes"]
        await Task.update(
            {
                Task.status: "done",
                Task.completed_at: now,
                Task.completed_by: actor.staff_id,
                Task.notes: notes,
            }
        ).where(Task.id == task_id)
        plan_id = task["revisit_plan_id"]
        if plan_id is None:
            return None
        plan = (
            await RevisitPlan.select()
            .where(RevisitPlan.id == plan_id, RevisitPlan.active.eq(True))
            .first()
        )
        if plan is None:
            return None
        next_id = uuid4()
        await Task.insert(
            Task(
                id=next_id,
                customer_id=plan["customer_id"],
                store_id=plan["store_id"],
                owner_staff_id=plan["owner_staff_id"],
                title=plan["title"],
                revisit_plan_id=plan_id,
                due_at=now + dt.timedelta(days=plan["interval_days"]),
            )
        )
        return next_id


async def create_revisit_plan(
    tenant: TenantInfo, actor: Actor, data: RevisitPlanInput | dict[str, Any]
) -> UUID:
    """A plan ("call every 30 days") and its first task."""
    actor.require("tasks:write")
    payload = convert(data, RevisitPlanInput)
    first_due = (
        _aware(payload.first_due_at, "first_due_at", due=True)
        if payload.first_due_at
        else (dt.datetime.now(dt.UTC) + dt.timedelta(days=payload.interval_days))
    )
    plan_id = uuid4()
    async with tenant_tx(tenant.id):
        await load_customer_row(payload.customer_id)
        await _check(payload.store_id, payload.owner_staff_id, actor)
        await RevisitPlan.insert(
            RevisitPlan(
                id=plan_id,
                customer_id=payload.customer_id,
                store_id=payload.store_id,
                owner_staff_id=payload.owner_staff_id,
                title=payload.title,
                channel=payload.channel,
                interval_days=payload.interval_days,
            )
        )
        await Task.insert(
            Task(
                customer_id=payload.customer_id,
                store_id=payload.store_id,
                owner_staff_id=payload.owner_staff_id,
                title=payload.title,
                revisit_plan_id=plan_id,
                due_at=first_due,
            )
        )
    return plan_id


async def overdue_tasks(
    tenant: TenantInfo,
    actor: Actor,
    *,
    store_id: UUID | None = None,
    owner_staff_id: UUID | None = None,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Open tasks past their due time, oldest first, for a store and/or a staff member."""
    actor.require("tasks:read")
    now = now or dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id, write=False):
        query = Task.select().where(Task.status == "open", Task.due_at < now)
        if store_id is not None:
            query = query.where(Task.store_id == store_id)
        if owner_staff_id is not None:
            query = query.where(Task.owner_staff_id == owner_staff_id)
        rows = await query.order_by(Task.due_at).limit(1000)
    return [dict(r) for r in rows if actor.sees_store(r["store_id"])]


async def get_interaction(
    tenant: TenantInfo, actor: Actor, interaction_id: UUID, *, just_written: bool = False
) -> dict[str, Any]:
    """One logged contact; another store's (for a store-scoped caller) is :class:`NotFound`.
    ``just_written``: the caller logged it this request (``interactions:write`` suffices)."""
    actor.require("interactions:write" if just_written else "interactions:read")
    async with tenant_tx(tenant.id, write=False):
        row = await Interaction.select().where(Interaction.id == interaction_id).first()
    if row is None or not actor.sees_store(row["store_id"]):
        raise NotFound("interaction not found", field="id")
    return dict(row)


def _keyset(after: str | None, field: str = "after") -> tuple[dt.datetime, UUID] | None:
    """``<iso time>|<uuid>`` from a decoded cursor, else ``invalid_cursor``."""
    if after is None:
        return None
    try:
        at, _, ident = after.partition("|")
        return dt.datetime.fromisoformat(at), UUID(ident)
    except ValueError:
        raise ValidationFailed("malformed cursor", field=field, code="invalid_cursor") from None


async def list_interactions(
    tenant: TenantInfo,
    actor: Actor,
    *,
    customer_id: UUID,
    first: int = 20,
    after: str | None = None,
) -> list[dict[str, Any]]:
    """A customer's contact log, newest first (keyset on ``occurred_at|id``; ``first + 1`` rows
    so the caller sees whether a next page exists). A store-scoped caller sees contacts of its
    stores and those without a store."""
    actor.require("interactions:read")
    position = _keyset(after)
    async with tenant_tx(tenant.id, write=False):
        query = Interaction.select().where(Interaction.customer_id == customer_id)
        if actor.store_ids:
            query = query.where(
                Interaction.store_id.is_null() | Interaction.store_id.is_in(list(actor.store_ids))
            )
        if position is not None:
            at, ident = position
            query = query.where(
                (Interaction.occurred_at < at)
                | ((Interaction.occurred_at == at) & (Interaction.id < ident))
            )
        rows = await query.order_by(Interaction.occurred_at, Interaction.id, ascending=False).limit(
            first + 1
        )
    return [dict(r) for r in rows]


async def list_tasks(
    tenant: TenantInfo,
    actor: Actor,
    *,
    store_id: UUID | None = None,
    owner_staff_id: UUID | None = None,
    customer_id: UUID | None = None,
    overdue: bool | None = None,
    status: str | None = None,
    first: int = 20,
    after: str | None = None,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Tasks by due time, soonest first (keyset on ``due_at|id``, ``first + 1`` rows): the
    overdue list per store and per staff member (CORE-7) is ``overdue=True`` with a store or
    an owner. A store-scoped caller sees only its stores' tasks (and none of another store's,
    even when it names that store)."""
    actor.require("tasks:read")
    now = now or dt.datetime.now(dt.UTC)
    position = _keyset(after)
    if store_id is not None and not actor.sees_store(store_id):
        return []
    async with tenant_tx(tenant.id, write=False):
        query = Task.select()
        if actor.store_ids:
            query = query.where(
                Task.store_id.is_null() | Task.store_id.is_in(list(actor.store_ids))
            )
        if store_id is not None:
            query = query.where(Task.store_id == store_id)
        if owner_staff_id is not None:
            query = query.where(Task.owner_staff_id == owner_staff_id)
        if customer_id is not None:
            query = query.where(Task.customer_id == customer_id)
        if status is not None:
            query = query.where(Task.status == status)
        if overdue is True:
            query = query.where(Task.status == "open", Task.due_at < now)
        elif overdue is False:
            query = query.where((Task.status != "open") | (Task.due_at >= now))
        if position is not None:
            at, ident = position
            query = query.where((Task.due_at > at) | ((Task.due_at == at) & (Task.id > ident)))
        rows = await query.order_by(Task.due_at, Task.id).limit(first + 1)
    return [dict(r) for r in rows]
