"""GraphQL input types of the core mutations, and their conversion to the services' input.

Inputs carry global IDs; :func:`plain` turns an input into the dict the service validates
(snake_case keys, omitted fields left out, IDs decoded to UUIDs of the expected type — a foreign
or malformed ID is the same ``not_found`` as a missing one).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from core.graphql import from_global_id

__all__ = [
    "ConsentSetInput",
    "CustomerCreateInput",
    "CustomerFilterInput",
    "CustomerUpdateInput",
    "InteractionLogInput",
    "PurchaseLineInput",
    "PurchaseRecordInput",
    "PurchaseRefundInput",
    "SegmentCreateInput",
    "StaffCreateInput",
    "StoreCreateInput",
    "TaskCreateInput",
    "plain",
]

# Input fields holding global IDs, and the type each must name.
ID_FIELDS = {
    "customer_id": "Customer",
    "store_id": "Store",
    "home_store_id": "Store",
    "store_ids": "Store",
    "staff_id": "Staff",
    "assigned_staff_id": "Staff",
    "owner_staff_id": "Staff",
    "task_id": "Task",
    "segment_id": "Segment",
    "refund_of": "Purchase",
}


def _value(name: str, value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(value)
    if isinstance(value, list):
        if name in ID_FIELDS:
            return [from_global_id(v, ID_FIELDS[name], field=name) for v in value]
        return [_value(name, v) for v in value]
    if name in ID_FIELDS and value is not None:
        return from_global_id(value, ID_FIELDS[name], field=name)
    return value


def plain(obj: Any) -> dict[str, Any]:
    """The fields the client sent (``UNSET`` ones left out), IDs decoded."""
    return {
        f.name: _value(f.name, getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if getattr(obj, f.name) is not strawberry.UNSET
    }


@strawberry.input(description="A new store.")
class StoreCreateInput:
    code: str = strawberry.field(description="Short code, unique in the tenant.")
    name: str = strawberry.field(description="Display name.")
    region: str | None = strawberry.field(default=strawberry.UNSET, description="Region.")
    address: str | None = strawberry.field(default=strawberry.UNSET, description="Address.")
    timezone: str | None = strawberry.field(
        default=strawberry.UNSET, description="IANA timezone, when not the tenant's."
    )


@strawberry.input(description="A new staff member.")
class StaffCreateInput:
    login: str = strawberry.field(description="Login name (letters, digits, `_.@-`).")
    name: str = strawberry.field(description="Display name.")
    password: str = strawberry.field(description="Password, at least 10 characters.")
    role: str = strawberry.field(description="Role code.")
    store_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Stores the member is limited to."
    )


@strawberry.input(description="Profile fields of a customer.")
class CustomerFields:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Full name.")
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Mobile number.")
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Email.")
    gender: str | None = strawberry.field(
        default=strawberry.UNSET, description="`male`, `female`, `other` or `unknown`."
    )
    birthday: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Birthday.")
    company: str | None = strawberry.field(default=strawberry.UNSET, description="Employer.")
    position: str | None = strawberry.field(default=strawberry.UNSET, description="Job title.")
    address: str | None = strawberry.field(default=strawberry.UNSET, description="Address.")
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Tags.")
    notes: str | None = strawberry.field(default=strawberry.UNSET, description="Notes.")
    attributes: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Tenant-defined attributes."
    )
    card_no: str | None = strawberry.field(default=strawberry.UNSET, description="Card number.")
    home_store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Home store."
    )
    assigned_staff_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Staff member in charge."
    )


@strawberry.input(description="A new customer. Phone or email must be unique in the tenant.")
class CustomerCreateInput(CustomerFields):
    source: str | None = strawberry.field(
        default=strawberry.UNSET, description="`pos`, `registration_form`, `import`, …"
    )


@strawberry.input(description="Changes to a customer: only the fields given change; null clears.")
class CustomerUpdateInput(CustomerFields):
    pass


@strawberry.input(description="Criteria for `customers`; all given criteria must match.")
class CustomerFilterInput:
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Exact phone.")
    name_prefix: str | None = strawberry.field(
        default=strawberry.UNSET, description="Name starts with."
    )
    tag: str | None = strawberry.field(default=strawberry.UNSET, description="Has this tag.")
    card_no: str | None = strawberry.field(default=strawberry.UNSET, description="Card number.")
    home_store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Home store."
    )
    value_class: str | None = strawberry.field(
        default=strawberry.UNSET, description="`high_value`, `regular` or `potential`."
    )
    segment_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Member of this segment."
    )


@strawberry.input(description="A line of a sale.")
class PurchaseLineInput:
    sku: str = strawberry.field(description="Product code.")
    unit_price: Decimal = strawberry.field(description="Unit price (exact decimal).")
    qty: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Quantity.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Product name.")
    category: str | None = strawberry.field(default=strawberry.UNSET, description="Category.")


@strawberry.input(description="A sale to record.")
class PurchaseRecordInput:
    store_id: strawberry.ID = strawberry.field(description="Store of the sale.")
    lines: list[PurchaseLineInput] = strawberry.field(description="1–500 lines.")
    customer_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The customer, if identified."
    )
    occurred_at: dt.datetime | None = strawberry.field(
        default=strawberry.UNSET, description="When (with offset); default now."
    )
    amount: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Paid total when discounted (≤ the lines' sum)."
    )
    channel: str | None = strawberry.field(
        default=strawberry.UNSET, description="`pos` (default), `online`, `mini_program`, …"
    )
    staff_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Cashier or sales staff."
    )
    receipt_no: str | None = strawberry.field(
        default=strawberry.UNSET, description="Receipt number: a second sale with it is a replay."
    )
    note: str | None = strawberry.field(default=strawberry.UNSET, description="Note.")


@strawberry.input(description="A refunded line: its number in the sale and the quantity.")
class RefundLineInput:
    line_no: int = strawberry.field(description="Line number in the sale.")
    qty: Decimal = strawberry.field(description="Quantity refunded.")


@strawberry.input(description="A refund of (part of) a sale.")
class PurchaseRefundInput:
    refund_of: strawberry.ID = strawberry.field(description="The sale refunded.")
    lines: list[RefundLineInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Lines refunded; omitted: everything left."
    )
    occurred_at: dt.datetime | None = strawberry.field(
        default=strawberry.UNSET, description="When; default now."
    )
    receipt_no: str | None = strawberry.field(default=strawberry.UNSET, description="Receipt.")
    staff_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Staff."
    )
    note: str | None = strawberry.field(default=strawberry.UNSET, description="Note.")


@strawberry.input(description="A consent given or withdrawn (opt-in per purpose and channel).")
class ConsentSetInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    purpose: str = strawberry.field(description="`marketing`, `surveys` or `service`.")
    granted: bool = strawberry.field(description="True: given; false: withdrawn.")
    channel: str | None = strawberry.field(
        default=strawberry.UNSET, description="`sms`, `email`, `wechat`, `phone`, `app` or `any`."
    )
    source: str | None = strawberry.field(
        default=strawberry.UNSET, description="Where it was collected (`pos`, `reply:TD`, …)."
    )
    proof: str | None = strawberry.field(default=strawberry.UNSET, description="Evidence.")


@strawberry.input(description="A contact with a customer (回访记录).")
class InteractionLogInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    channel: str = strawberry.field(description="`phone`, `sms`, `wechat`, `visit`, `email`, …")
    content: str = strawberry.field(description="What was said or done.")
    feedback: str | None = strawberry.field(
        default=strawberry.UNSET, description="The customer's feedback."
    )
    occurred_at: dt.datetime | None = strawberry.field(
        default=strawberry.UNSET, description="When; default now."
    )
    store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Store."
    )
    task_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The follow-up task this contact fulfils."
    )


@strawberry.input(description="A follow-up task.")
class TaskCreateInput:
    title: str = strawberry.field(description="What to do.")
    due_at: dt.datetime = strawberry.field(description="Due time (with offset).")
    customer_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="About this customer."
    )
    store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Store."
    )
    owner_staff_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Who does it."
    )
    notes: str | None = strawberry.field(default=strawberry.UNSET, description="Notes.")


@strawberry.input(description="A saved segment.")
class SegmentCreateInput:
    name: str = strawberry.field(description="Name, unique in the tenant.")
    filter: JSON = strawberry.field(
        description='Filter tree, e.g. `{"all": [{"field": "value_class", "op": "eq", "value": "high_value"}]}`.'
    )
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Purpose.")
