"""The core's GraphQL object types (API-3): Relay nodes, descriptions everywhere, exact money.

Relations (``Customer.homeStore``, ``Customer.stats``, ``Purchase.customer`` …) resolve through
the request's DataLoaders (:mod:`api.graphql.loaders`): one statement and one tenant transaction
per batch, so the statements a page needs do not grow with its size.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql import loaders
from core.customers.schemas import CustomerView
from core.graphql import to_global_id
from core.purchases import PurchaseView

__all__ = [
    "Customer",
    "CustomerStats",
    "Kpis",
    "Me",
    "Module",
    "Node",
    "Purchase",
    "PurchaseLine",
    "Segment",
    "Staff",
    "Store",
    "TenantSummary",
]


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global ID (opaque, typed).")


@strawberry.type(description="A store (门店) of the chain.")
class Store(Node):
    code: str = strawberry.field(description="Short code, unique in the tenant (e.g. `SH01`).")
    name: str = strawberry.field(description="Display name.")
    region: str = strawberry.field(description="Region or city.")
    address: str = strawberry.field(description="Street address.")
    timezone: str | None = strawberry.field(
        description="IANA timezone when it differs from the tenant's."
    )
    uid: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Store:
        return cls(
            id=to_global_id("Store", row["id"]),
            uid=row["id"],
            code=row["code"],
            name=row["name"],
            region=row["region"],
            address=row["address"],
            timezone=row["timezone"],
        )


@strawberry.type(description="A staff member (员工).")
class Staff(Node):
    login: str = strawberry.field(description="Login name, unique in the tenant.")
    name: str = strawberry.field(description="Display name.")
    role: str = strawberry.field(description="Role code (owner, hq_manager, store_manager, …).")
    store_ids: list[strawberry.ID] = strawberry.field(
        description="Stores the member works in; empty: every store."
    )
    active: bool = strawberry.field(description="False once deactivated.")


@strawberry.type(description="RFM scores, value class and lifecycle (分类分级), kept current.")
class CustomerStats:
    purchase_count: int = strawberry.field(description="Net number of sales.")
    total_spent: Decimal = strawberry.field(description="Net spend, in the tenant's currency.")
    first_purchase_at: dt.datetime | None = strawberry.field(description="First sale.")
    last_purchase_at: dt.datetime | None = strawberry.field(description="Latest sale.")
    r_score: int = strawberry.field(description="Recency score 1–5 (0: no purchase).")
    f_score: int = strawberry.field(description="Frequency score 1–5.")
    m_score: int = strawberry.field(description="Monetary score 1–5.")
    value_class: str = strawberry.field(description="`high_value`, `regular` or `potential`.")
    lifecycle: str = strawberry.field(
        description="`prospect`, `first_purchase`, `repeat`, `loyal`, `at_risk` or `churned`."
    )


@strawberry.type(description="A customer (客户档案). Phone and email are masked.")
class Customer(Node):
    name: str = strawberry.field(description="Full name (or pseudonym once erased).")
    phone: str | None = strawberry.field(description="Masked mobile number (`139****7777`).")
    email: str | None = strawberry.field(description="Masked email.")
    gender: str = strawberry.field(description="`male`, `female`, `other` or `unknown`.")
    birthday: dt.date | None = strawberry.field(description="Date of birth.")
    company: str = strawberry.field(description="Employer.")
    position: str = strawberry.field(description="Job title.")
    tags: list[str] = strawberry.field(description="Free tags (标签).")
    notes: str = strawberry.field(description="Staff notes.")
    attributes: JSON = strawberry.field(description="Tenant-defined attributes.")
    source: str = strawberry.field(description="How the record was obtained.")
    card_no: str | None = strawberry.field(description="Membership card number.")
    status: str = strawberry.field(description="`active`, `merged` or `erased`.")
    created_at: dt.datetime = strawberry.field(description="When the record was created.")
    updated_at: dt.datetime = strawberry.field(description="Last change.")
    uid: strawberry.Private[UUID]
    home_store_uid: strawberry.Private[UUID | None]
    merged_into_uid: strawberry.Private[UUID | None]

    @classmethod
    def from_view(cls, view: CustomerView) -> Customer:
        return cls(
            id=to_global_id("Customer", view.id),
            uid=view.id,
            home_store_uid=view.home_store_id,
            merged_into_uid=view.merged_into_id,
            name=view.name,
            phone=view.phone,
            email=view.email,
            gender=view.gender,
            birthday=view.birthday,
            company=view.company,
            position=view.position,
            tags=view.tags,
            notes=view.notes,
            attributes=cast(JSON, view.attributes),
            source=view.source,
            card_no=view.card_no,
            status=view.status,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )

    @strawberry.field(description="The store the customer belongs to.")
    async def home_store(self, info: Info) -> Store | None:
        if self.home_store_uid is None:
            return None
        return await loaders.stores(info).load(self.home_store_uid)

    @strawberry.field(description="Where the record was merged into, when `status` is `merged`.")
    def merged_into_id(self) -> strawberry.ID | None:
        return to_global_id("Customer", self.merged_into_uid) if self.merged_into_uid else None

    @strawberry.field(description="RFM scores, value class and lifecycle.")
    async def stats(self, info: Info) -> CustomerStats:
        return await loaders.stats(info).load(self.uid)


@strawberry.type(description="A line of a sale or refund.")
class PurchaseLine:
    line_no: int = strawberry.field(description="1-based position in the receipt.")
    sku: str = strawberry.field(description="Product code.")
    name: str = strawberry.field(description="Product name.")
    category: str = strawberry.field(description="Product category.")
    qty: Decimal = strawberry.field(description="Quantity (negative on refunds).")
    unit_price: Decimal = strawberry.field(description="Unit price.")
    amount: Decimal = strawberry.field(description="Line total.")


@strawberry.type(description="A sale or a refund (消费记录).")
class Purchase(Node):
    kind: str = strawberry.field(description="`sale` or `refund`.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened (with offset).")
    amount: Decimal = strawberry.field(description="Paid total (negative for refunds).")
    currency: str = strawberry.field(description="ISO 4217 currency.")
    channel: str = strawberry.field(description="`pos`, `online`, `mini_program`, …")
    receipt_no: str | None = strawberry.field(description="Receipt number, unique per tenant.")
    lines: list[PurchaseLine] = strawberry.field(description="The lines.")
    replayed: bool = strawberry.field(
        description="True when this answer replays an earlier request (same idempotency key)."
    )
    customer_uid: strawberry.Private[UUID | None]
    store_uid: strawberry.Private[UUID]
    refund_of_uid: strawberry.Private[UUID | None]

    @classmethod
    def from_view(cls, view: PurchaseView) -> Purchase:
        return cls(
            id=to_global_id("Purchase", view.id),
            kind=view.kind,
            occurred_at=view.occurred_at,
            amount=view.amount,
            currency=view.currency,
            channel=view.channel,
            receipt_no=view.receipt_no,
            replayed=view.replayed,
            lines=[
                PurchaseLine(
                    line_no=line.line_no,
                    sku=line.sku,
                    name=line.name,
                    category=line.category,
                    qty=line.qty,
                    unit_price=line.unit_price,
                    amount=line.amount,
                )
                for line in view.lines
            ],
            customer_uid=view.customer_id,
            store_uid=view.store_id,
            refund_of_uid=view.refund_of_id,
        )

    @strawberry.field(description="The customer, if identified.")
    async def customer(self, info: Info) -> Customer | None:
        if self.customer_uid is None:
            return None
        return await loaders.customers(info).load(self.customer_uid)

    @strawberry.field(description="The store where it happened.")
    async def store(self, info: Info) -> Store | None:
        return await loaders.stores(info).load(self.store_uid)

    @strawberry.field(description="For a refund: the sale it refunds.")
    def refund_of_id(self) -> strawberry.ID | None:
        return to_global_id("Purchase", self.refund_of_uid) if self.refund_of_uid else None


@strawberry.type(description="A saved customer segment (a filter evaluated on demand).")
class Segment(Node):
    name: str = strawberry.field(description="Name.")
    description: str = strawberry.field(description="What it is for.")
    filter: JSON = strawberry.field(description="The filter tree (`all`/`any`/`not`, conditions).")
    uid: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Segment:
        return cls(
            id=to_global_id("Segment", row["id"]),
            uid=row["id"],
            name=row["name"],
            description=row["description"],
            filter=row["filter"],
        )

    @strawberry.field(description="How many active customers match now.")
    async def size(self, info: Info) -> int:
        return await loaders.segment_sizes(info).load(self.uid)


@strawberry.type(description="A module (plugin) enabled for the caller's tenant and store.")
class Module:
    id: str = strawberry.field(description="Plugin id (`loyalty`, `surveys`, …).")
    name: str = strawberry.field(description="Display name.")
    version: str = strawberry.field(description="Installed version.")
    description: str = strawberry.field(description="What it does.")


@strawberry.type(description="The tenant (store chain) of the caller.")
class TenantSummary:
    slug: str = strawberry.field(description="Tenant slug.")
    name: str = strawberry.field(description="Chain name.")
    timezone: str = strawberry.field(description="IANA timezone.")
    locale: str = strawberry.field(description="Default locale.")
    currency: str = strawberry.field(description="ISO 4217 currency.")


@strawberry.type(description="Who is calling.")
class Me:
    kind: str = strawberry.field(description="`staff` or `api_key`.")
    id: strawberry.ID = strawberry.field(description="Staff or key id.")
    role: str = strawberry.field(description="Role code.")
    permissions: list[str] = strawberry.field(description="Permissions granted by the role.")
    store_ids: list[strawberry.ID] = strawberry.field(
        description="Stores the caller is limited to; empty: every store."
    )
    tenant: TenantSummary = strawberry.field(description="The caller's tenant.")


@strawberry.type(description="A key figure of a module (plugin KPI).")
class ModuleKpi:
    module: str = strawberry.field(description="Plugin id.")
    key: str = strawberry.field(description="KPI key.")
    value: JSON = strawberry.field(description="Its value for the period.")


@strawberry.type(description="Key figures for a period (and optionally one store).")
class Kpis:
    new_customers: int = strawberry.field(description="Customers created in the period.")
    active_customers: int = strawberry.field(description="Customers with ≥ 1 sale in the period.")
    repeat_customers: int = strawberry.field(description="Active customers with ≥ 2 sales.")
    repeat_rate: Decimal = strawberry.field(description="repeatCustomers / activeCustomers.")
    sales_count: int = strawberry.field(description="Number of sales.")
    net_sales: Decimal = strawberry.field(description="Sales minus refunds.")
    average_ticket: Decimal = strawberry.field(description="netSales / salesCount.")
    value_class_mix: JSON = strawberry.field(description="Customers per value class.")
    modules: list[ModuleKpi] = strawberry.field(description="KPIs of the enabled modules.")
