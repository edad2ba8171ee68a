"""Resolvers: ``complaint``, ``complaints``, ``complaintCategories``, the workflow mutations
and the ``node(id:)`` loader."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core import (
    Actor,
    Connection,
    NotFound,
    TenantInfo,
    UserError,
    ValidationFailed,
    attempt,
    check_first,
    connection,
    context_of,
    fetch,
    from_global_id,
    input_data,
    tenant_tx,
)
from plugins.complaints import workflow
from plugins.complaints.categories import category_tree
from plugins.complaints.graphql import inputs as i
from plugins.complaints.graphql.types import Complaint, ComplaintCategory, complaint_view
from plugins.complaints.records import (
    COLUMNS,
    create_complaint,
    decoded,
    get_complaint,
    scope_sql,
    time_cursor,
)
from plugins.complaints.settings import ComplaintsSettings

IDS = {
    "id": "Complaint",
    "handler_id": "Staff",
    "receiver_id": "Staff",
    "staff_involved_ids": "Staff",
}
OVERDUE = (
    "(c.state <> 'waiting' AND ((c.acknowledged_at IS NULL AND c.ack_due_at <= {now}) OR "
    "(c.resolved_at IS NULL AND c.state IN ('received', 'acknowledged', 'in_progress') "
    "AND c.resolve_due_at <= {now})))"
)


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


async def _settings(info: Info) -> ComplaintsSettings:
    found: ComplaintsSettings = await context_of(info).settings("complaints")
    return found


async def _view(tenant: TenantInfo, actor: Actor, uid: UUID | None) -> Complaint | None:
    if uid is None:
        return None
    try:
        return complaint_view(await get_complaint(tenant, actor, uid))
    except NotFound:
        return None


# --- queries -----------------------------------------------------------------------------


async def resolve_complaints(
    info: Info,
    first: Annotated[int, _arg("Page size, 1-100.")] = 20,
    after: Annotated[str | None, _arg("Cursor of the last complaint seen.")] = None,
    filter: Annotated[i.ComplaintFilter | None, _arg("Only these complaints.")] = None,
) -> Connection[Complaint]:
    tenant, actor = context_of(info).caller()
    actor.require("complaints:read")
    check_first(first)
    f = input_data(filter, ids=IDS) if filter is not None else {}
    now = dt.datetime.now(dt.UTC)
    where = ["c.tenant_id = {}"]
    args: list[Any] = [tenant.id]
    for name in ("state", "kind", "channel", "store_id", "handler_id"):
        if f.get(name) is not None:
            where.append(f"c.{name} = {{}}")
            args.append(f[name])
    if f.get("category"):
        where.append("(c.category = {} OR c.category LIKE {})")
        args += [f["category"], f["category"].replace("%", "").replace("_", "\\_") + ".%"]
    if f.get("received_from") is not None:
        where.append("c.received_at >= {}")
        args.append(f["received_from"])
    if f.get("received_to") is not None:
        where.append("c.received_at < {}")
        args.append(f["received_to"])
    if f.get("overdue") is not None:
        where.append(("" if f["overdue"] else "NOT ") + OVERDUE.replace("{now}", "{}"))
        args += [now, now]
    cursor = time_cursor(after)
    if cursor:
        where.append("(c.received_at < {} OR (c.received_at = {} AND c.id < {}))")
        args += [cursor[0], cursor[0], cursor[1]]
    scope, scope_args = scope_sql(actor)
    args += scope_args
    columns = ", ".join(f"c.{col.strip()}" for col in COLUMNS.split(","))
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {columns} FROM complaints_complaint c WHERE {' AND '.join(where)}{scope} "
            f"ORDER BY c.received_at DESC, c.id DESC LIMIT {first + 1}",
            *args,
        )
    return connection(
        [complaint_view(decoded(tenant, r), now) for r in rows],
        lambda c: f"{c.received_at.isoformat()}|{c.uid}",
        first,
    )


async def resolve_complaint(
    info: Info, id: Annotated[strawberry.ID, _arg("The complaint.")]
) -> Complaint | None:
    tenant, actor = context_of(info).caller()
    actor.require("complaints:read")
    try:
        uid = from_global_id(id, "Complaint")
    except NotFound:
        return None
    return await _view(tenant, actor, uid)


async def resolve_categories(
    info: Info,
    locale: Annotated[str | None, _arg("`zh-CN` (default) or `en` for `name`.")] = None,
) -> list[ComplaintCategory]:
    _tenant, actor = context_of(info).caller()
    actor.require("complaints:read")
    english = (locale or "").lower().startswith("en")
    return [
        ComplaintCategory(
            code=c.code,
            parent_code=c.parent or None,
            name=c.en if english else c.zh,
            name_zh=c.zh,
            name_en=c.en,
            builtin=c.builtin,
            active=c.active,
        )
        for c in category_tree(await _settings(info))
    ]


async def load_complaint(info: Info, uid: UUID) -> Complaint | None:
    tenant, actor = context_of(info).caller()
    actor.require("complaints:read")
    return await _view(tenant, actor, uid)


# --- mutations ---------------------------------------------------------------------------

Step = Callable[[TenantInfo, Actor, ComplaintsSettings, Info, dict[str, Any]], Awaitable[UUID]]


def payload(name: str, description: str) -> type:
    """``<Name>Payload { complaint, errors }``: every complaint mutation answers the complaint
    as it is now (null when it failed) and why it failed."""

    @strawberry.type(name=f"{name}Payload", description=f"Result of `{description}`.")
    class _Payload:
        complaint: Complaint | None = strawberry.field(description="The complaint as it is now.")
        errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")

    return _Payload


def mutation(name: str, input_type: type, step: Step, description: str) -> Any:
    """A mutation field: decode the input, run ``step`` (a service call), answer the payload
    with typed errors; nothing is written when the step fails."""
    result = payload(name, name[0].lower() + name[1:])

    async def resolve(info: Info, input: Any) -> Any:
        tenant, actor = context_of(info).caller()
        settings = await _settings(info)

        async def run() -> UUID:
            return await step(tenant, actor, settings, info, input_data(input, ids=IDS))

        uid, errors = await attempt(run)
        return result(complaint=await _view(tenant, actor, uid), errors=errors)

    resolve.__annotations__ = {
        "info": Info,
        "input": Annotated[input_type, _arg("What to do.")],
        "return": result,
    }
    return strawberry.mutation(resolver=resolve, description=description)


def _note(data: dict[str, Any]) -> str:
    note = data.get("note") or ""
    if len(note) > 4000:
        raise ValidationFailed("a note has at most 4000 characters", field="note")
    return str(note)


async def _create(
    tenant: TenantInfo, actor: Actor, settings: ComplaintsSettings, info: Info, d: dict[str, Any]
) -> UUID:
    actor.require("complaints:create")
    key = d.pop("idempotency_key", None)
    d["staff_involved"] = d.pop("staff_involved_ids", None) or []
    d = {k: v for k, v in d.items() if v is not None}
    if d.get("store_id") is None and actor.store_ids is not None:
        raise ValidationFailed("a store-scoped caller names the store", field="store_id")
    runtime = context_of(info).runtime
    channels = await runtime.channels(tenant) if runtime is not None else None
    created = await create_complaint(
        tenant, actor, settings, d, idempotency_key=key, channels=channels
    )
    return created.id


async def _acknowledge(tenant: Any, actor: Any, settings: Any, info: Info, d: Any) -> UUID:
    return await workflow.acknowledge(tenant, actor, settings, d["id"], _note(d))


async def _assign(tenant: Any, actor: Any, settings: Any, info: Info, d: Any) -> UUID:
    return await workflow.assign(tenant, actor, settings, d["id"], d["handler_id"], _note(d))


async def _transfer(tenant: Any, actor: Any, settings: Any, info: Info, d: Any) -> UUID:
    return await workflow.transfer(
        tenant,
        actor,
        settings,
        d["id"],
        store_id=d.get("store_id"),
        to_hq=bool(d.get("to_hq")),
        note=_note(d),
    )


async def _wait(tenant: Any, actor: Any, settings: Any, info: Info, d: Any) -> UUID:
    return await workflow.wait(tenant, actor, settings, d["id"], _note(d))


async def _resume(tenant: Any, actor: Any, settings: Any, info: Info, d: Any) -> UUID:
    return await workflow.resume(tenant, actor, settings, d["id"], _note(d))


async def _resolve(tenant: Any, actor: Any, settings: Any, info: Info, d: Any) -> UUID:
    ctx = context_of(info)
    runtime = ctx.runtime
    return await workflow.resolve(
        tenant,
        actor,
        settings,
        d["id"],
        resolution_type=d["resolution_type"],
        resolution=d["resolution"],
        compensation_points=int(d.get("compensation_points") or 0),
        compensation_coupon=d.get("compensation_coupon") or "",
        follow_up=d.get("follow_up"),
        surveys="surveys" in ctx.enabled,
        channels=await runtime.channels(tenant) if runtime is not None else None,
    )


async def _follow_up(tenant: Any, actor: Any, settings: Any, info: Info, d: Any) -> UUID:
    runtime = context_of(info).runtime
    assert runtime is not None
    return await workflow.follow_up(
        tenant,
        actor,
        settings,
        await runtime.channels(tenant),
        d["id"],
        satisfied=d["satisfied"],
        note=_note(d),
    )


async def _reopen(tenant: Any, actor: Any, settings: Any, info: Info, d: Any) -> UUID:
    return await workflow.reopen(tenant, actor, settings, d["id"], _note(d))


async def _close(tenant: Any, actor: Any, settings: Any, info: Info, d: Any) -> UUID:
    return await workflow.close(tenant, actor, settings, d["id"], _note(d))


async def _note_add(tenant: Any, actor: Any, settings: Any, info: Info, d: Any) -> UUID:
    return await workflow.add_note(tenant, actor, settings, d["id"], d["note"])


async def _link(tenant: Any, actor: Any, settings: Any, info: Info, d: Any) -> UUID:
    return await workflow.link_customer(tenant, actor, settings, d["id"], d.get("customer_id"))


MUTATIONS: dict[str, tuple[type, Step, str]] = {
    "complaint_create": (i.ComplaintCreateInput, _create, "Register a complaint or suggestion."),
    "complaint_acknowledge": (i.ComplaintAcknowledgeInput, _acknowledge, "Acknowledge (受理)."),
    "complaint_assign": (i.ComplaintAssignInput, _assign, "Assign a handler (处理人)."),
    "complaint_transfer": (
        i.ComplaintTransferInput,
        _transfer,
        "Transfer to another store or to HQ (及时转交).",
    ),
    "complaint_wait": (i.ComplaintWaitInput, _wait, "Wait for the customer (SLA paused)."),
    "complaint_resume": (i.ComplaintResumeInput, _resume, "Resume after waiting."),
    "complaint_resolve": (
        i.ComplaintResolveInput,
        _resolve,
        "Resolve (尽快解决); a compensation is paid by loyalty, once.",
    ),
    "complaint_follow_up": (
        i.ComplaintFollowUpInput,
        _follow_up,
        "The customer's answer (跟踪反馈): dissatisfied reopens and escalates.",
    ),
    "complaint_reopen": (i.ComplaintReopenInput, _reopen, "Reopen (a new resolve cycle)."),
    "complaint_close": (i.ComplaintCloseInput, _close, "Close."),
    "complaint_note_add": (i.ComplaintNoteAddInput, _note_add, "Add a note (仔细聆听)."),
    "complaint_customer_link": (
        i.ComplaintCustomerLinkInput,
        _link,
        "Link to a customer (given, or found by the caller's phone).",
    ),
}


def mutations() -> dict[str, Any]:
    out = {}
    for name, (input_type, step, description) in MUTATIONS.items():
        camel = "".join(part.title() for part in name.split("_"))
        out[name] = mutation(camel, input_type, step, description)
    return out


__all__ = [
    "load_complaint",
    "mutations",
    "resolve_categories",
    "resolve_complaint",
    "resolve_complaints",
    "scope_sql",
]
