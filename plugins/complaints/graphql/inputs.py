"""The complaints plugin's GraphQL inputs (one per mutation, as the schema rules ask)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from plugins.complaints.graphql.types import (
    ComplaintChannel,
    ComplaintFollowUp,
    ComplaintKind,
    ComplaintResolutionType,
    ComplaintSeverity,
    ComplaintState,
)

UNSET: Any = strawberry.UNSET


def _f(description: str) -> Any:
    return strawberry.field(default=UNSET, description=description)


@strawberry.input(description="A complaint or suggestion to register (seed 003's register).")
class ComplaintCreateInput:
    channel: ComplaintChannel = strawberry.field(description="How it came in.")
    summary: str = strawberry.field(description="What, in a line (投诉原因), 1-200 characters.")
    kind: ComplaintKind | None = _f("Complaint (default) or suggestion.")
    severity: ComplaintSeverity | None = _f("How serious (default NORMAL).")
    category: str | None = _f("A category code of `complaintCategories`.")
    store_id: strawberry.ID | None = _f("Where: the store (null: HQ's).")
    spot: str | None = _f("Where in the store.")
    occurred_at: dt.datetime | None = _f("When it happened.")
    customer_id: strawberry.ID | None = _f("Who: the customer, when known.")
    contact_name: str | None = _f("The caller's name (kept encrypted).")
    contact_phone: str | None = _f("The caller's phone (kept encrypted, links a customer later).")
    staff_involved_ids: list[strawberry.ID] | None = _f("Staff members involved.")
    description: str | None = _f("What, in the customer's words.")
    circumstances: str | None = _f("How it happened.")
    sku: str | None = _f("The product's SKU.")
    product: str | None = _f("The product's name.")
    receiver_id: strawberry.ID | None = _f("Who took it (default: the caller).")
    handler_id: strawberry.ID | None = _f("Who handles it.")
    promised_reply_at: dt.datetime | None = _f("The reply time promised (告知顾客回复时间).")
    received_at: dt.datetime | None = _f("When it was received (default: now; a letter's date).")
    idempotency_key: str | None = _f("Retry-safe key: the same key answers the same complaint.")


@strawberry.input(description="Which complaints (all given conditions apply).")
class ComplaintFilter:
    overdue: bool | None = _f("Only those past a due time they have not met (or not).")
    state: ComplaintState | None = _f("In this state.")
    kind: ComplaintKind | None = _f("Complaints or suggestions.")
    channel: ComplaintChannel | None = _f("From this channel.")
    category: str | None = _f("In this category or below it.")
    store_id: strawberry.ID | None = _f("At this store.")
    handler_id: strawberry.ID | None = _f("Handled by this staff member.")
    received_from: dt.datetime | None = _f("Received at or after.")
    received_to: dt.datetime | None = _f("Received before.")


@strawberry.input(description="Acknowledge (受理) a complaint.")
class ComplaintAcknowledgeInput:
    id: strawberry.ID = strawberry.field(description="The complaint.")
    note: str | None = _f("What was said to the customer.")


@strawberry.input(description="Assign a handler (处理人).")
class ComplaintAssignInput:
    id: strawberry.ID = strawberry.field(description="The complaint.")
    handler_id: strawberry.ID = strawberry.field(description="The staff member who handles it.")
    note: str | None = _f("Why, or instructions.")


@strawberry.input(description="Transfer (及时转交) to another store or to HQ.")
class ComplaintTransferInput:
    id: strawberry.ID = strawberry.field(description="The complaint.")
    store_id: strawberry.ID | None = _f("The store it goes to.")
    to_hq: bool | None = _f("To HQ instead of a store.")
    note: str | None = _f("Why.")


@strawberry.input(description="Wait for the customer (the SLA clock stops).")
class ComplaintWaitInput:
    id: strawberry.ID = strawberry.field(description="The complaint.")
    note: str | None = _f("What the customer is asked for.")


@strawberry.input(description="The customer answered: the SLA clock runs again.")
class ComplaintResumeInput:
    id: strawberry.ID = strawberry.field(description="The complaint.")
    note: str | None = _f("What the customer said.")


@strawberry.input(description="Resolve (尽快解决), with the compensation and how to follow up.")
class ComplaintResolveInput:
    id: strawberry.ID = strawberry.field(description="The complaint.")
    resolution_type: ComplaintResolutionType = strawberry.field(description="How.")
    resolution: str = strawberry.field(description="处理结果, 1-4000 characters.")
    compensation_points: int | None = _f("Points to grant (loyalty pays, once per complaint).")
    compensation_coupon: str | None = _f("A coupon to grant.")
    follow_up: ComplaintFollowUp | None = _f(
        "How to ask the customer: default SURVEY with the surveys module, else MESSAGE (the "
        "`complaints.follow_up` message with the status page's link, where the customer "
        "answers) when the complaint has a customer, else CALL. SURVEY without the surveys "
        "module is MESSAGE (or CALL); MESSAGE without a customer is `no_customer`."
    )


@strawberry.input(description="The customer's answer to the follow-up (跟踪反馈).")
class ComplaintFollowUpInput:
    id: strawberry.ID = strawberry.field(description="The complaint.")
    satisfied: bool = strawberry.field(description="Satisfied with the result?")
    note: str | None = _f("What the customer said.")


@strawberry.input(description="Reopen a resolved or closed complaint (a new resolve cycle).")
class ComplaintReopenInput:
    id: strawberry.ID = strawberry.field(description="The complaint.")
    note: str | None = _f("Why.")


@strawberry.input(description="Close a resolved complaint (or an acknowledged suggestion).")
class ComplaintCloseInput:
    id: strawberry.ID = strawberry.field(description="The complaint.")
    note: str | None = _f("A last word.")


@strawberry.input(description="A note on the timeline (仔细聆听).")
class ComplaintNoteAddInput:
    id: strawberry.ID = strawberry.field(description="The complaint.")
    note: str = strawberry.field(description="1-4000 characters.")


@strawberry.input(
    description="Link the complaint to a customer (given, or found by the caller's phone)."
)
class ComplaintCustomerLinkInput:
    id: strawberry.ID = strawberry.field(description="The complaint.")
    customer_id: strawberry.ID | None = _f("The customer (null: the one with the caller's phone).")
