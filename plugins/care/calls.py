"""Revisit calls (定期回访): a revisit campaign's high-value customers get a call task instead
of a message.

A treatment customer whose core value class is one of the campaign's ``high_value_classes``
becomes a core task (:func:`core.create_tasks`) in the chunk's own transaction — so a worker
killed mid-chunk leaves no task behind and the next worker creates it, once: the task's key is
the message key (campaign, occurrence, customer). The owner is the customer's assigned staff
member (while active), else a store manager of the customer's home store (the first by name;
none: the task stays with the store, unowned). It is due on the next business day after the
run started, of that store's calendar (the tenant's for a customer without a home store): the
first later day that is a working day (weekends, statutory holidays and 调休 as the core's
calendar has them) on which the store opens, at its closing time that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from core import (
    Actor,
    BusinessCalendar,
    StaffFacts,
    TaskRequest,
    TenantInfo,
    business_calendars,
    create_tasks,
    customer_facts,
    fetch,
    staff_facts,
    staff_in_roles,
)

__all__ = ["MANAGER_ROLES", "call_tasks", "due_on_next_business_day"]

SYSTEM = Actor.system("care.calls")
MANAGER_ROLES = ("store_manager",)
LOOK_AHEAD = 366  # days: a store closed longer than a year gets its task on the next workday


def due_on_next_business_day(calendar: BusinessCalendar, after: dt.datetime) -> dt.datetime:
    """The closing time (capped at 23:59 local) of the first day after ``after``'s local date
    that is a working day on which the store opens."""
    day = after.astimezone(calendar.tz).date()
    for _ in range(LOOK_AHEAD):
        day = calendar.next_workday(day)
        hours = calendar.hours_on(day)
        if hours:
            close = min(max(end for _start, end in hours), 24 * 60 - 1)
            break
    else:
        day, close = calendar.next_workday(after.astimezone(calendar.tz).date()), 24 * 60 - 1
    local = dt.datetime.combine(day, dt.time(), tzinfo=calendar.tz) + dt.timedelta(minutes=close)
    return local.astimezone(dt.UTC)


async def _managers(tenant: TenantInfo, stores: Iterable[UUID]) -> dict[UUID, StaffFacts]:
    """A manager of each store (one working there by name; chain-wide staff are HQ's, not a
    store's manager)."""
    out: dict[UUID, StaffFacts] = {}
    for store in stores:
        found = [s for s in await staff_in_roles(tenant, MANAGER_ROLES, store_id=store)]
        own = [s for s in found if store in s.store_ids]
        if own:
            out[store] = own[0]
    return out


async def call_tasks(
    tenant: TenantInfo, campaign: dict[str, Any], run_id: UUID, rows: Sequence[dict[str, Any]]
) -> set[Any]:
    """Create the call tasks of a chunk's treatment ``rows`` (``id``, ``customer_id``,
    ``occurrence``) inside the current transaction; the target ids that became a task."""
    from plugins.care.runs import message_key

    classes = set(campaign["settings"].high_value_classes)
    if campaign["kind"] != "revisit" or not classes or not rows:
        return set()
    facts = await customer_facts(tenant, [UUID(str(r["customer_id"])) for r in rows])
    chosen = [
        (r, facts[c])
        for r in rows
        if (c := UUID(str(r["customer_id"]))) in facts and facts[c].value_class in classes
    ]
    if not chosen:
        return set()
    started = (
        await fetch(
            "SELECT started_at FROM care_run WHERE tenant_id = {} AND id = {}", tenant.id, run_id
        )
    )[0]["started_at"]
    if not isinstance(started, dt.datetime):
        started = dt.datetime.fromisoformat(str(started))
    if started.tzinfo is None:
        started = started.replace(tzinfo=dt.UTC)
    assigned = await staff_facts(
        tenant, {f.assigned_staff_id for _r, f in chosen if f.assigned_staff_id}
    )
    stores = {f.home_store_id for _r, f in chosen}
    managers = await _managers(tenant, (s for s in stores if s is not None))
    calendars = await business_calendars(tenant, SYSTEM, stores)
    due = {s: due_on_next_business_day(calendars[s], started) for s in stores}
    tasks: list[TaskRequest] = []
    target_of: dict[str, Any] = {}
    for r, f in chosen:
        staff = assigned.get(f.assigned_staff_id) if f.assigned_staff_id else None
        if staff is None or not staff.active:
            staff = managers.get(f.home_store_id) if f.home_store_id else None
        key = message_key(campaign["id"], r["occurrence"], f.id)
        target_of[key] = r["id"]
        tasks.append(
            TaskRequest(
                key=key,
                title=f"回访 / Revisit call: {campaign['name']}",
                due_at=due[f.home_store_id],
                customer_id=f.id,
                store_id=f.home_store_id,
                owner_staff_id=staff.id if staff else None,
                notes=f"care campaign {campaign['id']}, {r['occurrence']}",
            )
        )
    await create_tasks(tenant, tasks)
    return set(target_of.values())
