"""The core's GraphQL object types (API-3): Relay nodes, descriptions everywhere, exact money.

Relations (``Customer.homeStore``, ``Customer.stats``, ``Purchase.customer`` …) resolve through
the request's DataLoaders (:mod:`core.graphql.loaders`): one statement and one tenant transaction
per batch, so the statements a page needs do not grow with its size.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, cast
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.customers.schemas import CustomerView
from core.db import json_value
from core.graphql import loaders
from core.graphql.enums import (
    ActorKind,
    BirthdayCalendar,
    ContactChannel,
    CustomerSource,
    CustomerStatus,
    Gender,
    KpiPeriod,
    KpiTargetStatus,
    LifecycleStage,
    PurchaseKind,
    SalesChannel,
    TaskStatus,
    ValueClass,
)
from core.graphql.kit import Connection, Node, check_first, connection, decode_cursor, to_global_id
from core.purchases import PurchaseView

__all__ = [
    "Customer",
    "CustomerStats",
    "Interaction",
    "KpiTarget",
    "KpiTargetProgress",
    "Kpis",
    "Me",
    "Module",
    "ModuleKpi",
    "Purchase",
    "PurchaseLine",
    "Segment",
    "Staff",
    "Store",
    "Task",
    "TenantSummary",
]


@strawberry.type(description="A store (门店) of the chain.")
class Store(Node):
    code: str = strawberry.field(description="Short code, unique in the tenant (e.g. `SH01`).")
    name: str = strawberry.field(description="Display name.")
    region: str = strawberry.field(description="Region or city.")
    address: str = strawberry.field(description="Street address.")
    timezone: str | None = strawberry.field(
        description="IANA timezone when it differs from the tenant's."
    )
    business_hours: JSON = strawberry.field(
        description="Opening hours per weekday (`mon` … `sun`): lists of `[open, close]` times."
    )
    closed_at: dt.datetime | None = strawberry.field(
        description="When the store closed for good (its records stay); null while open."
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
            business_hours=cast(JSON, json_value(row.get("business_hours"), {})),
            closed_at=row.get("closed_at"),
        )


@strawberry.type(description="A staff member (员工).")
class Staff(Node):
    login: str = strawberry.field(description="Login name, unique in the tenant.")
    name: str = strawberry.field(description="Display name.")
    role: str = strawberry.field(
        description="Role code (owner, hq_manager, store_manager, cashier, service_agent, or a "
        "tenant-defined role)."
    )
    store_ids: list[strawberry.ID] = strawberry.field(
        description="Stores the member works in; empty: every store."
    )
    active: bool = strawberry.field(description="False once deactivated.")
    uid: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Staff:
        return cls(
            id=to_global_id("Staff", row["id"]),
            uid=row["id"],
            login=row["login"],
            name=row["name"],
            role=row["role"],
            store_ids=[
                to_global_id("Store", UUID(str(s))) for s in json_value(row["store_ids"], [])
            ],
            active=bool(row["active"]),
        )


@strawberry.type(description="RFM scores, value class and lifecycle (分类分级), kept current.")
class CustomerStats:
    purchase_count: int = strawberry.field(description="Net number of sales.")
    total_spent: Decimal = strawberry.field(description="Net spend, in the tenant's currency.")
    first_purchase_at: dt.datetime | None = strawberry.field(description="First sale.")
    last_purchase_at: dt.datetime | None = strawberry.field(description="Latest sale.")
    r_score: int = strawberry.field(description="Recency score 1–5 (0: no purchase).")
    f_score: int = strawberry.field(description="Frequency score 1–5.")
    m_score: int = strawberry.field(description="Monetary score 1–5.")
    value_class: ValueClass = strawberry.field(description="Value class (分类).")
    lifecycle: LifecycleStage = strawberry.field(description="Lifecycle stage.")


@strawberry.type(description="A customer (客户档案). Phone and email are masked.")
class Customer(Node):
    name: str = strawberry.field(description="Full name (or pseudonym once erased).")
    phone: str | None = strawberry.field(description="Masked mobile number (`139****7777`).")
    email: str | None = strawberry.field(description="Masked email.")
    gender: Gender = strawberry.field(description="Gender, as stated.")
    birthday: dt.date | None = strawberry.field(description="Date of birth.")
    birthday_calendar: BirthdayCalendar = strawberry.field(
        description="Solar, or lunar when the customer keeps a lunar birthday (农历生日)."
    )
    company: str = strawberry.field(description="Employer.")
    position: str = strawberry.field(description="Job title.")
    tags: list[str] = strawberry.field(description="Free tags (标签).")
    notes: str = strawberry.field(description="Staff notes.")
    attributes: JSON = strawberry.field(description="Tenant-defined attributes.")
    source: CustomerSource = strawberry.field(description="How the record was obtained.")
    card_no: str | None = strawberry.field(description="Membership card number.")
    status: CustomerStatus = strawberry.field(description="Whether the record is in use.")
    created_at: dt.datetime = strawberry.field(description="When the record was created.")
    updated_at: dt.datetime = strawberry.field(description="Last change.")
    uid: strawberry.Private[UUID]
    home_store_uid: strawberry.Private[UUID | None]
    assigned_staff_uid: strawberry.Private[UUID | None]
    merged_into_uid: strawberry.Private[UUID | None]

    @classmethod
    def from_view(cls, view: CustomerView) -> Customer:
        return cls(
            id=to_global_id("Customer", view.id),
            uid=view.id,
            home_store_uid=view.home_store_id,
            assigned_staff_uid=view.assigned_staff_id,
            merged_into_uid=view.merged_into_id,
            name=view.name,
            phone=view.phone,
            email=view.email,
            gender=Gender(view.gender),
            birthday=view.birthday,
            birthday_calendar=BirthdayCalendar(view.birthday_calendar),
            company=view.company,
            position=view.position,
            tags=view.tags,
            notes=view.notes,
            attributes=cast(JSON, view.attributes),
            source=CustomerSource(view.source),
            card_no=view.card_no,
            status=CustomerStatus(view.status),
            created_at=view.created_at,
            updated_at=view.updated_at,
        )

    @strawberry.field(description="The store the customer belongs to.")
    async def home_store(self, info: Info) -> Store | None:
        if self.home_store_uid is None:
            return None
        return await loaders.stores(info).load(self.home_store_uid)

    @strawberry.field(description="The staff member in charge of the customer (负责人).")
    async def assigned_staff(self, info: Info) -> Staff | None:
        if self.assigned_staff_uid is None:
            return None
        return await loaders.staff(info).load(self.assigned_staff_uid)

    @strawberry.field(description="Contacts with the customer (沟通记录), newest first.")
    async def interactions(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 1–100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor of the last item seen.")
        ] = None,
    ) -> Connection[Interaction]:
        from core.activity import list_interactions
        from core.graphql.kit import context_of

        tenant, actor = context_of(info).caller()
        check_first(first)
        rows = await list_interactions(
            tenant, actor, customer_id=self.uid, first=first, after=decode_cursor(after)
        )
        return connection([Interaction.from_row(r) for r in rows], Interaction.cursor, first)

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
    kind: PurchaseKind = strawberry.field(description="Sale or refund.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened (with offset).")
    amount: Decimal = strawberry.field(description="Paid total (negative for refunds).")
    currency: str = strawberry.field(description="ISO 4217 currency.")
    channel: SalesChannel = strawberry.field(description="Where it was sold.")
    receipt_no: str | None = strawberry.field(description="Receipt number, unique per tenant.")
    lines: list[PurchaseLine] = strawberry.field(description="The lines.")
    replayed: bool = strawberry.field(
        description="True when this answer replays an earlier request (same idempotency key)."
    )
    customer_uid: strawberry.Private[UUID | None]
    store_uid: strawberry.Private[UUID]
    staff_uid: strawberry.Private[UUID | None]
    refund_of_uid: strawberry.Private[UUID | None]

    @classmethod
    def from_view(cls, view: PurchaseView) -> Purchase:
        return cls(
            id=to_global_id("Purchase", view.id),
            kind=PurchaseKind(view.kind),
            occurred_at=view.occurred_at,
            amount=view.amount,
            currency=view.currency,
            channel=SalesChannel(view.channel),
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
            staff_uid=view.staff_id,
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

    @strawberry.field(description="The cashier or sales staff member who served it.")
    async def staff(self, info: Info) -> Staff | None:
        if self.staff_uid is None:
            return None
        return await loaders.staff(info).load(self.staff_uid)

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
    kind: ActorKind = strawberry.field(description="Staff member or API key.")
    actor_id: str = strawberry.field(
        description="The staff member's or API key's own id (as in the audit log)."
    )
    role: str = strawberry.field(description="Role code.")
    permissions: list[str] = strawberry.field(description="Permissions granted by the role.")
    store_ids: list[strawberry.ID] = strawberry.field(
        description="Stores the caller is limited to; empty: every store."
    )
    tenant: TenantSummary = strawberry.field(description="The caller's tenant.")
    staff_uid: strawberry.Private[UUID | None]

    @strawberry.field(description="The staff member, when a staff member is calling.")
    async def staff(self, info: Info) -> Staff | None:
        return await loaders.staff(info).load(self.staff_uid) if self.staff_uid else None


@strawberry.type(description="A key figure of a module (plugin KPI).")
class ModuleKpi:
    module: str = strawberry.field(description="Plugin id.")
    key: str = strawberry.field(description="KPI key.")
    value: JSON = strawberry.field(description="Its value for the period.")


@strawberry.type(description="The target of a KPI for a store (or the chain) and a period.")
class KpiTarget(Node):
    kpi: str = strawberry.field(description="The KPI, `<module>.<name>` (`core.net_sales`).")
    period: KpiPeriod = strawberry.field(description="Month or week.")
    period_start: dt.date = strawberry.field(description="First day (a 1st, or a Monday).")
    target: Decimal = strawberry.field(description="The value to reach.")
    store_uid: strawberry.Private[UUID | None]

    @strawberry.field(description="The store; null: the chain.")
    async def store(self, info: Info) -> Store | None:
        return await loaders.stores(info).load(self.store_uid) if self.store_uid else None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> KpiTarget:
        return cls(
            id=to_global_id("KpiTarget", row["id"]),
            kpi=row["kpi"],
            period=KpiPeriod(row["period"]),
            period_start=row["period_start"]
            if isinstance(row["period_start"], dt.date)
            else dt.date.fromisoformat(str(row["period_start"])),
            target=Decimal(str(row["target"])),
            store_uid=UUID(str(row["store_id"])) if row["store_id"] else None,
        )


@strawberry.type(description="A target's progress now.")
class KpiTargetProgress:
    target: KpiTarget = strawberry.field(description="The target.")
    label: str = strawberry.field(description="The KPI's name, in the tenant's language.")
    value: Decimal | None = strawberry.field(description="The value so far in the period.")
    progress: Decimal | None = strawberry.field(description="value / target (1 = reached).")
    elapsed: Decimal = strawberry.field(description="Share of the period gone (0 to 1).")
    projected: Decimal | None = strawberry.field(
        description="The period's value at the current pace (for a rate or score: its value)."
    )
    status: KpiTargetStatus = strawberry.field(description="Upcoming, on track, at risk, met…")
    at_risk: bool = strawberry.field(description="Projected to miss, or missed.")


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
    targets: list[KpiTargetProgress] = strawberry.field(
        description="The targets whose period overlaps the period asked for, with progress."
    )


@strawberry.type(description="A contact with a customer (沟通记录): a call, a visit, a message.")
class Interaction(Node):
    channel: ContactChannel = strawberry.field(description="How the contact was made.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened.")
    content: str = strawberry.field(description="What was said or done.")
    feedback: str = strawberry.field(description="The customer's feedback.")
    uid: strawberry.Private[UUID]
    customer_uid: strawberry.Private[UUID]
    store_uid: strawberry.Private[UUID | None]
    staff_uid: strawberry.Private[UUID | None]
    task_uid: strawberry.Private[UUID | None]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Interaction:
        return cls(
            id=to_global_id("Interaction", row["id"]),
            uid=row["id"],
            channel=ContactChannel(row["channel"]),
            occurred_at=row["occurred_at"],
            content=row["content"],
            feedback=row["feedback"],
            customer_uid=row["customer_id"],
            store_uid=row["store_id"],
            staff_uid=row["staff_id"],
            task_uid=row["task_id"],
        )

    @staticmethod
    def cursor(item: Interaction) -> str:
        return f"{item.occurred_at.isoformat()}|{item.uid}"

    @strawberry.field(description="The customer.")
    async def customer(self, info: Info) -> Customer | None:
        return await loaders.customers(info).load(self.customer_uid)

    @strawberry.field(description="The store, if any.")
    async def store(self, info: Info) -> Store | None:
        return await loaders.stores(info).load(self.store_uid) if self.store_uid else None

    @strawberry.field(description="The staff member who made the contact.")
    async def staff(self, info: Info) -> Staff | None:
        return await loaders.staff(info).load(self.staff_uid) if self.staff_uid else None

    @strawberry.field(description="The follow-up task this contact fulfilled, if any.")
    async def task(self, info: Info) -> Task | None:
        return await loaders.tasks(info).load(self.task_uid) if self.task_uid else None


@strawberry.type(description="A follow-up task (回访任务) with a due time and an owner.")
class Task(Node):
    title: str = strawberry.field(description="What to do.")
    notes: str = strawberry.field(description="Notes.")
    due_at: dt.datetime = strawberry.field(description="When it is due.")
    status: TaskStatus = strawberry.field(description="Open or done.")
    completed_at: dt.datetime | None = strawberry.field(description="When it was completed.")
    overdue: bool = strawberry.field(description="Open and past its due time.")
    uid: strawberry.Private[UUID]
    customer_uid: strawberry.Private[UUID | None]
    store_uid: strawberry.Private[UUID | None]
    owner_uid: strawberry.Private[UUID | None]
    plan_uid: strawberry.Private[UUID | None]

    @classmethod
    def from_row(cls, row: dict[str, Any], now: dt.datetime | None = None) -> Task:
        now = now or dt.datetime.now(dt.UTC)
        return cls(
            id=to_global_id("Task", row["id"]),
            uid=row["id"],
            title=row["title"],
            notes=row["notes"],
            due_at=row["due_at"],
            status=TaskStatus(row["status"]),
            completed_at=row["completed_at"],
            overdue=row["status"] == "open" and row["due_at"] < now,
            customer_uid=row["customer_id"],
            store_uid=row["store_id"],
            owner_uid=row["owner_staff_id"],
            plan_uid=row["revisit_plan_id"],
        )

    @staticmethod
    def cursor(item: Task) -> str:
        return f"{item.due_at.isoformat()}|{item.uid}"

    @strawberry.field(description="The customer, if the task is about one.")
    async def customer(self, info: Info) -> Customer | None:
        return await loaders.customers(info).load(self.customer_uid) if self.customer_uid else None

    @strawberry.field(description="The store, if any.")
    async def store(self, info: Info) -> Store | None:
        return await loaders.stores(info).load(self.store_uid) if self.store_uid else None

    @strawberry.field(description="Who does it.")
    async def owner(self, info: Info) -> Staff | None:
        return await loaders.staff(info).load(self.owner_uid) if self.owner_uid else None

    @strawberry.field(description="True when a revisit plan (定期回访) created the task.")
    def recurring(self) -> bool:
        return self.plan_uid is not None
