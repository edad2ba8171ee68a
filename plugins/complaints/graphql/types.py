"""The complaints plugin's GraphQL output types and enums (closed sets upper case in the
schema, lower case in Python)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any, cast
from uuid import UUID

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info

from core import (
    Node,
    TenantInfo,
    audit,
    context_of,
    fetch,
    json_value,
    mask_phone,
    tenant_tx,
    to_global_id,
)
from plugins.complaints.timeline import timeline

__all__ = [
    "Complaint",
    "ComplaintAction",
    "ComplaintCategory",
    "ComplaintChannel",
    "ComplaintEscalation",
    "ComplaintFollowUp",
    "ComplaintKind",
    "ComplaintResolutionType",
    "ComplaintSeverity",
    "ComplaintState",
    "ComplaintStep",
    "complaint_view",
]


@strawberry.enum(
    description="A complaint, or a suggestion (意见/建议: acknowledged, never escalated)."
)
class ComplaintKind(Enum):
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"


@strawberry.enum(description="How the complaint came in (seed 003's channels).")
class ComplaintChannel(Enum):
    PHONE = "phone"
    LETTER = "letter"
    IN_STORE = "in_store"
    ONLINE_FORM = "online_form"
    EMAIL = "email"
    WECHAT = "wechat"
    MEDIA = "media"
    REGULATOR = "regulator"
    SURVEY = "survey"


@strawberry.enum(description="Where the complaint is in its workflow.")
class ComplaintState(Enum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    FOLLOWED_UP = "followed_up"
    CLOSED = "closed"


@strawberry.enum(description="How serious it is (an SLA policy can depend on it).")
class ComplaintSeverity(Enum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


@strawberry.enum(
    description="How a complaint was resolved (seed 003: 退货、换货、调整价格、改变服务)."
)
class ComplaintResolutionType(Enum):
    RETURN = "return"
    EXCHANGE = "exchange"
    PRICE_ADJUSTMENT = "price_adjustment"
    SERVICE_CHANGE = "service_change"
    EXPLANATION = "explanation"
    COMPENSATION = "compensation"


@strawberry.enum(description="How the customer is asked whether they are satisfied.")
class ComplaintFollowUp(Enum):
    NONE = ""
    SURVEY = "survey"
    MESSAGE = "message"
    CALL = "call"


@strawberry.enum(
    description="Seed 003's procedure: 热情受理—仔细聆听—衷心感谢—尽快解决—及时转交—跟踪反馈."
)
class ComplaintStep(Enum):
    NONE = ""
    RECEIVE = "receive"
    LISTEN = "listen"
    THANK = "thank"
    RESOLVE = "resolve"
    TRANSFER = "transfer"
    FOLLOW_UP = "follow_up"


@strawberry.type(description="A complaint category (the tenant's tree: seed 003's and its own).")
class ComplaintCategory:
    code: str = strawberry.field(description="Dotted code: `service.cashier.overcharge`.")
    parent_code: str | None = strawberry.field(description="The parent's code (null: a root).")
    name: str = strawberry.field(description="The name in the requested locale.")
    name_zh: str = strawberry.field(description="zh-CN name.")
    name_en: str = strawberry.field(description="English name.")
    builtin: bool = strawberry.field(description="One of seed 003's (renamable, not removable).")
    active: bool = strawberry.field(description="Offered at intake.")


@strawberry.type(description="One entry of a complaint's timeline: what, who, when.")
class ComplaintAction:
    action: str = strawberry.field(
        description="`received`, `acknowledged`, `assigned`, `transferred`, `waiting`, "
        "`resumed`, `resolved`, `compensated`, `escalated`, `follow_up_asked` (the message "
        "to the customer), `followed_up`, `reopened`, "
        "`closed`, `note`, `linked`."
    )
    step: ComplaintStep = strawberry.field(description="The step of seed 003's procedure.")
    actor: str = strawberry.field(description="Who: `staff:<id>`, `system:<job>`, `api_key:<id>`.")
    staff_id: strawberry.ID | None = strawberry.field(description="The staff member, if one.")
    note: str = strawberry.field(description="What was said or done.")
    data: JSON = strawberry.field(description="Details of the action.")
    at: dt.datetime = strawberry.field(description="When.")


@strawberry.type(description="An escalation (recorded once per stage, trigger and cycle).")
class ComplaintEscalation:
    stage: str = strawberry.field(description="`acknowledge`, `resolve`, `follow_up`, `intake`.")
    trigger: str = strawberry.field(description="`warning`, `breach`, `dissatisfied`, `media`.")
    level: int = strawberry.field(description="1: the store's managers; 2: HQ.")
    cycle: int = strawberry.field(description="The resolve cycle (0, then one per reopening).")
    notified_staff_ids: list[strawberry.ID] = strawberry.field(description="Who was told.")
    at: dt.datetime = strawberry.field(description="When.")


def _gid(kind: str, value: Any) -> strawberry.ID | None:
    return to_global_id(kind, UUID(str(value))) if value else None


async def _timelines(tenant: TenantInfo, ids: list[UUID]) -> list[list[ComplaintAction]]:
    found = await timeline(tenant, ids)
    return [
        [
            ComplaintAction(
                action=r["action"],
                step=ComplaintStep(r["step"]),
                actor=r["actor"],
                staff_id=_gid("Staff", r["staff_id"]),
                note=r["note"],
                data=cast(JSON, json_value(r["data"], {})),
                at=r["at"],
            )
            for r in found[c]
        ]
        for c in ids
    ]


@strawberry.type(description="A complaint or suggestion: seed 003's register row and the 5W.")
class Complaint(Node):
    uid: strawberry.Private[UUID]
    raw_phone: strawberry.Private[str]
    number: str = strawberry.field(description="The reference read to the customer.")
    kind: ComplaintKind = strawberry.field(description="Complaint or suggestion.")
    channel: ComplaintChannel = strawberry.field(description="How it came in.")
    state: ComplaintState = strawberry.field(description="Workflow state.")
    severity: ComplaintSeverity = strawberry.field(description="How serious.")
    category: str = strawberry.field(description="Category code ('' when not classified).")
    store_id: strawberry.ID | None = strawberry.field(description="Where: the store.")
    spot: str = strawberry.field(description="Where in the store.")
    occurred_at: dt.datetime | None = strawberry.field(description="When it happened.")
    customer_id: strawberry.ID | None = strawberry.field(description="Who: the customer, if known.")
    contact_name: str = strawberry.field(description="The caller's name (姓名).")
    staff_involved_ids: list[strawberry.ID] = strawberry.field(description="Staff involved.")
    summary: str = strawberry.field(description="What, in a line (投诉原因).")
    description: str = strawberry.field(description="What, in the customer's words.")
    circumstances: str = strawberry.field(description="How it happened.")
    sku: str = strawberry.field(description="The product's SKU, if a product is concerned.")
    product: str = strawberry.field(description="The product's name.")
    receiver_id: strawberry.ID | None = strawberry.field(description="Who took it (受理人).")
    handler_id: strawberry.ID | None = strawberry.field(description="Who handles it (处理人).")
    hq_only: bool = strawberry.field(
        description="HQ's (media, regulator) until assigned to a store."
    )
    level: int = strawberry.field(description="Escalation level: 0 handler, 1 store, 2 HQ.")
    promised_reply_at: dt.datetime | None = strawberry.field(
        description="The reply time promised to the customer (告知顾客回复时间)."
    )
    received_at: dt.datetime = strawberry.field(description="投诉时间.")
    acknowledged_at: dt.datetime | None = strawberry.field(description="When it was taken up.")
    resolved_at: dt.datetime | None = strawberry.field(description="处理时间.")
    followed_up_at: dt.datetime | None = strawberry.field(description="When the customer answered.")
    closed_at: dt.datetime | None = strawberry.field(description="When it was closed.")
    business_time: bool = strawberry.field(description="SLA in the store's business time.")
    acknowledge_due_at: dt.datetime | None = strawberry.field(description="Acknowledge by.")
    resolve_due_at: dt.datetime | None = strawberry.field(description="Resolve by (this cycle).")
    overdue: bool = strawberry.field(description="Past a due time it has not met.")
    reopen_count: int = strawberry.field(description="Times reopened.")
    resolution_type: ComplaintResolutionType | None = strawberry.field(description="How.")
    resolution: str = strawberry.field(description="处理结果.")
    compensation_points: int = strawberry.field(description="Points granted (by loyalty).")
    compensation_coupon: str = strawberry.field(description="Coupon granted.")
    follow_up: ComplaintFollowUp = strawberry.field(description="How the customer is asked.")
    satisfied: bool | None = strawberry.field(description="The customer's latest answer.")

    @strawberry.field(
        description="The caller's phone, masked; `unmask: true` needs "
        "`complaints:read_contact` and is audited."
    )
    async def contact_phone(
        self,
        info: Info,
        unmask: Annotated[
            bool, strawberry.argument(description="Unmasked (audited; `complaints:read_contact`).")
        ] = False,
    ) -> str:
        if not unmask:
            return mask_phone(self.raw_phone)
        tenant, actor = context_of(info).caller()
        actor.require("complaints:read_contact")
        async with tenant_tx(tenant.id):
            await audit(
                actor, "complaints.read_contact", subject_type="complaint", subject_id=self.uid
            )
        return self.raw_phone

    @strawberry.field(description="Every action, oldest first.")
    async def timeline(self, info: Info) -> list[ComplaintAction]:
        ctx = context_of(info)
        tenant, _actor = ctx.caller()
        loader: DataLoader[UUID, list[ComplaintAction]] = ctx.loader(
            "complaints.timeline", lambda ids: _timelines(tenant, list(ids))
        )
        return await loader.load(self.uid)

    @strawberry.field(description="Escalations, oldest first.")
    async def escalations(self, info: Info) -> list[ComplaintEscalation]:
        tenant, _actor = context_of(info).caller()
        async with tenant_tx(tenant.id, write=False):
            rows = await fetch(
                "SELECT stage, trigger, level, cycle, notified, at FROM complaints_escalation "
                "WHERE tenant_id = {} AND complaint_id = {} ORDER BY at, stage",
                tenant.id,
                self.uid,
            )
        return [
            ComplaintEscalation(
                stage=r["stage"],
                trigger=r["trigger"],
                level=int(r["level"]),
                cycle=int(r["cycle"]),
                notified_staff_ids=[
                    to_global_id("Staff", UUID(s)) for s in json_value(r["notified"], [])
                ],
                at=r["at"],
            )
            for r in rows
        ]


def _overdue(row: dict[str, Any], now: dt.datetime) -> bool:
    if row["state"] == "waiting":
        return False
    if row["acknowledged_at"] is None and row["ack_due_at"] and row["ack_due_at"] <= now:
        return True
    return bool(
        row["resolved_at"] is None
        and row["state"] in ("received", "acknowledged", "in_progress")
        and row["resolve_due_at"]
        and row["resolve_due_at"] <= now
    )


def complaint_view(row: dict[str, Any], now: dt.datetime | None = None) -> Complaint:
    """A decoded complaint row (:func:`plugins.complaints.records.decoded`) as GraphQL."""
    now = now or dt.datetime.now(dt.UTC)
    uid = UUID(str(row["id"]))
    return Complaint(
        id=to_global_id("Complaint", uid),
        uid=uid,
        raw_phone=row["contact_phone"],
        number=row["number"],
        kind=ComplaintKind(row["kind"]),
        channel=ComplaintChannel(row["channel"]),
        state=ComplaintState(row["state"]),
        severity=ComplaintSeverity(row["severity"]),
        category=row["category"],
        store_id=_gid("Store", row["store_id"]),
        spot=row["spot"],
        occurred_at=row["occurred_at"],
        customer_id=_gid("Customer", row["customer_id"]),
        contact_name=row["contact_name"],
        staff_involved_ids=[to_global_id("Staff", s) for s in row["staff_involved"]],
        summary=row["summary"],
        description=row["description"],
        circumstances=row["circumstances"],
        sku=row["sku"],
        product=row["product"],
        receiver_id=_gid("Staff", row["receiver_id"]),
        handler_id=_gid("Staff", row["handler_id"]),
        hq_only=bool(row["hq_only"]),
        level=int(row["level"]),
        promised_reply_at=row["promised_reply_at"],
        received_at=row["received_at"],
        acknowledged_at=row["acknowledged_at"],
        resolved_at=row["resolved_at"],
        followed_up_at=row["followed_up_at"],
        closed_at=row["closed_at"],
        business_time=bool(row["business_time"]),
        acknowledge_due_at=row["ack_due_at"],
        resolve_due_at=row["resolve_due_at"],
        overdue=_overdue(row, now),
        reopen_count=int(row["cycle"]),
        resolution_type=(
            ComplaintResolutionType(row["resolution_type"]) if row["resolution_type"] else None
        ),
        resolution=row["resolution"],
        compensation_points=int(row["compensation_points"]),
        compensation_coupon=row["compensation_coupon"],
        follow_up=ComplaintFollowUp(row["follow_up"]),
        satisfied=None if row["satisfied"] is None else bool(row["satisfied"]),
    )
