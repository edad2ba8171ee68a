"""The core's root fields (API-7): queries, mutations, and the public (anonymous) mutations.

Mutations return payloads whose ``errors`` carry expected failures (validation, not found,
conflicts); missing permissions are top-level errors. Another tenant's IDs behave exactly as
missing ones: the services run inside the caller's tenant transaction (and RLS on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, cast
from uuid import UUID

import msgspec
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql import inputs, loaders
from api.graphql.types import (
    Customer,
    Kpis,
    Me,
    Module,
    ModuleKpi,
    Node,
    Purchase,
    Segment,
    Staff,
    Store,
    TenantSummary,
)
from core.errors import Conflict, NotFound, ValidationFailed
from core.graphql import (
    Connection,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    decode_cursor,
    from_global_id,
    parse_global_id,
    to_global_id,
    user_errors,
)

__all__ = ["CoreMutation", "CoreQuery", "PublicMutation"]

BUSINESS = (ValidationFailed, NotFound, Conflict)


def _uuid(value: str, type_name: str, field: str = "id") -> UUID:
    return from_global_id(value, type_name, field=field)


# --- payloads ---------------------------------------------------------------------------------


@strawberry.type(description="Result of `storeCreate`.")
class StorePayload:
    store: Store | None = strawberry.field(description="The new store.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `staffCreate`.")
class StaffPayload:
    staff: Staff | None = strawberry.field(description="The new staff member.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `staffLogin`: a short-lived bearer token.")
class StaffLoginPayload:
    token: str | None = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: dt.datetime | None = strawberry.field(description="When the token expires.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of a customer mutation.")
class CustomerPayload:
    customer: Customer | None = strawberry.field(description="The customer after the change.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `customerErase`.")
class CustomerErasePayload:
    erased_id: strawberry.ID | None = strawberry.field(description="The erased customer.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `customerExport`: everything held about the customer.")
class CustomerExportPayload:
    data: JSON | None = strawberry.field(description="Core and module data, unmasked.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="A consent as recorded.")
class Consent:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    purpose: str = strawberry.field(description="Purpose.")
    channel: str = strawberry.field(description="Channel (or `any`).")
    granted: bool = strawberry.field(description="Given or withdrawn.")
    recorded_at: dt.datetime = strawberry.field(description="When recorded.")


@strawberry.type(description="Result of `consentSet`.")
class ConsentPayload:
    consent: Consent | None = strawberry.field(description="The recorded consent.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `purchaseRecord` / `purchaseRefund`.")
class PurchasePayload:
    purchase: Purchase | None = strawberry.field(description="The sale or refund.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `interactionLog`.")
class InteractionPayload:
    interaction_id: strawberry.ID | None = strawberry.field(description="The logged contact.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `taskCreate` / `taskComplete`.")
class TaskPayload:
    task_id: strawberry.ID | None = strawberry.field(description="The task.")
    next_task_id: strawberry.ID | None = strawberry.field(
        description="For a revisit plan: the next task created on completion."
    )
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `segmentCreate`.")
class SegmentPayload:
    segment: Segment | None = strawberry.field(description="The new segment.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


# --- queries ----------------------------------------------------------------------------------


@strawberry.type(name="Query", description="Read the tenant's data.")
class CoreQuery:
    @strawberry.field(description="Who is calling, for which tenant.")
    def me(self, info: Info) -> Me:
        tenant, actor = context_of(info).caller()
        return Me(
            kind=actor.kind,
            id=strawberry.ID(actor.id),
            role=actor.role,
            permissions=sorted(actor.permissions),
            store_ids=sorted(to_global_id("Store", s) for s in actor.store_ids or ()),
            tenant=TenantSummary(
                slug=tenant.slug,
                name=tenant.name,
                timezone=tenant.timezone,
                locale=tenant.locale,
                currency=tenant.currency,
            ),
        )

    @strawberry.field(description="The modules enabled for the caller's tenant (and store).")
    def modules(self, info: Info) -> list[Module]:
        from core.plugins import get_runtime

        registry = get_runtime().registry
        out = []
        for plugin_id in sorted(context_of(info).enabled):
            m = registry.manifest(plugin_id)
            out.append(Module(id=m.id, name=m.name, version=m.version, description=m.description))
        return out

    @strawberry.field(description="The stores the caller can see.")
    async def stores(self, info: Info) -> list[Store]:
        from tenants.service import list_stores

        tenant, actor = context_of(info).caller()
        actor.require("stores:read")
        return [Store.from_row(r) for r in await list_stores(tenant, actor)]

    @strawberry.field(description="A customer by global ID; null when there is none.")
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        from core.customers.service import get_customer

        tenant, actor = context_of(info).caller()
        actor.require("customers:read")
        try:
            return Customer.from_view(await get_customer(tenant, actor, _uuid(id, "Customer")))
        except NotFound:
            return None

    @strawberry.field(description="The cashier's look-up: the active customer with this phone.")
    async def customer_by_phone(self, info: Info, phone: str) -> Customer | None:
        from core.customers.service import find_by_phone

        tenant, actor = context_of(info).caller()
        view = await find_by_phone(tenant, actor, phone)
        return Customer.from_view(view) if view else None

    @strawberry.field(description="Active customers, ordered by id (cursor pagination).")
    async def customers(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: inputs.CustomerFilterInput | None = None,
    ) -> Connection[Customer]:
        from core.customers.service import search_customers

        tenant, actor = context_of(info).caller()
        check_first(first)
        cursor = decode_cursor(after)
        try:
            after_id = UUID(cursor) if cursor else None
        except ValueError:
            raise ValidationFailed(
                "malformed cursor", field="after", code="invalid_cursor"
            ) from None
        views = await search_customers(
            tenant,
            actor,
            inputs.plain(filter) if filter else None,
            first=first,
            after=after_id,
            peek=True,
        )
        return connection([Customer.from_view(v) for v in views], lambda c: str(c.uid), first)

    @strawberry.field(description="Saved segments.")
    async def segments(self, info: Info) -> list[Segment]:
        from core.segments import list_segments

        tenant, actor = context_of(info).caller()
        return [Segment.from_row(r) for r in await list_segments(tenant, actor)]

    @strawberry.field(description="Key figures for `[from, to)`, optionally for one store.")
    async def kpis(
        self,
        info: Info,
        from_: Annotated[
            dt.datetime, strawberry.argument(name="from", description="Period start.")
        ],
        to: Annotated[dt.datetime, strawberry.argument(description="Period end (exclusive).")],
        store_id: strawberry.ID | None = None,
    ) -> Kpis:
        from core.kpis import core_kpis, plugin_kpis

        tenant, actor = context_of(info).caller()
        store = _uuid(store_id, "Store", "storeId") if store_id else None
        core = await core_kpis(tenant, actor, from_, to, store)
        modules = await plugin_kpis(tenant, actor, from_, to, store)
        return Kpis(
            new_customers=core.new_customers,
            active_customers=core.active_customers,
            repeat_customers=core.repeat_customers,
            repeat_rate=core.repeat_rate,
            sales_count=core.sales_count,
            net_sales=core.net_sales,
            average_ticket=core.average_ticket,
            value_class_mix=cast(JSON, core.value_class_mix),
            modules=[
                ModuleKpi(module=plugin, key=key, value=msgspec.to_builtins(value))
                for plugin, values in sorted(modules.items())
                for key, value in sorted(values.items())
            ],
        )

    @strawberry.field(description="Any object by global ID; null when there is none.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        parsed = parse_global_id(id)
        if parsed is None:
            return None
        kind, uid = parsed
        tenant, actor = context_of(info).caller()
        try:
            if kind == "Customer":
                return await loaders.customers(info).load(uid)
            if kind == "Store":
                store = await loaders.stores(info).load(uid)
                return store if store is not None and actor.sees_store(store.uid) else None
            if kind == "Purchase":
                from core.purchases import get_purchase

                return Purchase.from_view(await get_purchase(tenant, actor, uid))
            if kind == "Segment":
                from core.segments import list_segments

                rows = [r for r in await list_segments(tenant, actor) if r["id"] == uid]
                return Segment.from_row(rows[0]) if rows else None
        except NotFound:
            return None
        return None


# --- mutations --------------------------------------------------------------------------------


def _staff_type(row: dict[str, Any]) -> Staff:
    from core.db import json_value

    return Staff(
        id=to_global_id("Staff", row["id"]),
        login=row["login"],
        name=row["name"],
        role=row["role"],
        store_ids=[to_global_id("Store", UUID(str(s))) for s in json_value(row["store_ids"], [])],
        active=bool(row["active"]),
    )


@strawberry.type(name="Query", description="Operations open to callers without credentials.")
class PublicQuery:
    @strawberry.field(description="Always true: the API answers.")
    def ping(self) -> bool:
        return True


@strawberry.type(name="Mutation", description="Operations open to callers without credentials.")
class PublicMutation:
    @strawberry.mutation(description="Log a staff member in: a bearer token valid 30 minutes.")
    async def staff_login(self, tenant: str, login: str, password: str) -> StaffLoginPayload:
        from core.errors import Forbidden
        from tenants.credentials import authenticate_staff, issue_staff_token

        try:
            tenant_info, actor = await authenticate_staff(tenant, login, password)
        except Forbidden as exc:
            return StaffLoginPayload(token=None, expires_at=None, errors=user_errors(exc))
        token, expires = issue_staff_token(tenant_info, actor)
        return StaffLoginPayload(token=token, expires_at=expires, errors=[])


@strawberry.type(name="Mutation", description="Change the tenant's data.")
class CoreMutation(PublicMutation):
    @strawberry.mutation(description="Open a store.")
    async def store_create(self, info: Info, input: inputs.StoreCreateInput) -> StorePayload:
        from tenants.service import create_store

        tenant, actor = context_of(info).caller()
        row, errors = await attempt(lambda: create_store(tenant, actor, inputs.plain(input)))
        return StorePayload(store=Store.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Add a staff member.")
    async def staff_create(self, info: Info, input: inputs.StaffCreateInput) -> StaffPayload:
        from core.db import tenant_tx
        from core.tables import Staff as StaffTable
        from tenants.credentials import create_staff

        tenant, actor = context_of(info).caller()
        staff_id, errors = await attempt(lambda: create_staff(tenant, actor, inputs.plain(input)))
        if staff_id is None:
            return StaffPayload(staff=None, errors=errors)
        async with tenant_tx(tenant.id, write=False):
            row = await StaffTable.select().where(StaffTable.id == staff_id).first()
        assert row is not None
        return StaffPayload(staff=_staff_type(row), errors=[])

    @strawberry.mutation(description="Create a customer (客户建档).")
    async def customer_create(
        self, info: Info, input: inputs.CustomerCreateInput
    ) -> CustomerPayload:
        from core.customers.service import create_customer

        tenant, actor = context_of(info).caller()
        view, errors = await attempt(lambda: create_customer(tenant, actor, inputs.plain(input)))
        return CustomerPayload(customer=Customer.from_view(view) if view else None, errors=errors)

    @strawberry.mutation(description="Change a customer's profile.")
    async def customer_update(
        self, info: Info, id: strawberry.ID, input: inputs.CustomerUpdateInput
    ) -> CustomerPayload:
        from core.customers.service import update_customer

        tenant, actor = context_of(info).caller()
        view, errors = await attempt(
            lambda: update_customer(tenant, actor, _uuid(id, "Customer"), inputs.plain(input))
        )
        return CustomerPayload(customer=Customer.from_view(view) if view else None, errors=errors)

    @strawberry.mutation(description="Merge a duplicate (`sourceId`) into `targetId`.")
    async def customer_merge(
        self, info: Info, source_id: strawberry.ID, target_id: strawberry.ID
    ) -> CustomerPayload:
        from core.customers.merge import merge_customers

        tenant, actor = context_of(info).caller()
        view, errors = await attempt(
            lambda: merge_customers(
                tenant,
                actor,
                _uuid(source_id, "Customer", "sourceId"),
                _uuid(target_id, "Customer", "targetId"),
            )
        )
        return CustomerPayload(customer=Customer.from_view(view) if view else None, errors=errors)

    @strawberry.mutation(description="Erase a customer's personal data (purchases stay).")
    async def customer_erase(self, info: Info, id: strawberry.ID) -> CustomerErasePayload:
        from core.privacy import erase_customer

        tenant, actor = context_of(info).caller()
        _name, errors = await attempt(lambda: erase_customer(tenant, actor, _uuid(id, "Customer")))
        return CustomerErasePayload(erased_id=None if errors else id, errors=errors)

    @strawberry.mutation(description="Everything held about a customer (audited).")
    async def customer_export(self, info: Info, id: strawberry.ID) -> CustomerExportPayload:
        from core.privacy import export_customer

        tenant, actor = context_of(info).caller()
        data, errors = await attempt(lambda: export_customer(tenant, actor, _uuid(id, "Customer")))
        return CustomerExportPayload(data=msgspec.to_builtins(data), errors=errors)

    @strawberry.mutation(description="Record a consent given or withdrawn.")
    async def consent_set(self, info: Info, input: inputs.ConsentSetInput) -> ConsentPayload:
        from core.consent import set_consent

        tenant, actor = context_of(info).caller()
        row, errors = await attempt(lambda: set_consent(tenant, actor, inputs.plain(input)))
        consent = (
            Consent(
                customer_id=to_global_id("Customer", row["customer_id"]),
                purpose=row["purpose"],
                channel=row["channel"],
                granted=row["granted"],
                recorded_at=row["recorded_at"],
            )
            if row
            else None
        )
        return ConsentPayload(consent=consent, errors=errors)

    @strawberry.mutation(
        description="Record a sale. Idempotent on `receiptNo` and on `idempotencyKey`: a retry "
        "returns the first result with `replayed: true`; the same key with another payload is "
        "`idempotency_mismatch`."
    )
    async def purchase_record(
        self, info: Info, input: inputs.PurchaseRecordInput, idempotency_key: str | None = None
    ) -> PurchasePayload:
        from core.purchases import record_purchase

        tenant, actor = context_of(info).caller()
        view, errors = await attempt(
            lambda: record_purchase(
                tenant, actor, inputs.plain(input), idempotency_key=idempotency_key
            )
        )
        return PurchasePayload(purchase=Purchase.from_view(view) if view else None, errors=errors)

    @strawberry.mutation(description="Refund some or all remaining lines of a sale.")
    async def purchase_refund(
        self, info: Info, input: inputs.PurchaseRefundInput, idempotency_key: str | None = None
    ) -> PurchasePayload:
        from core.purchases import record_refund

        tenant, actor = context_of(info).caller()
        view, errors = await attempt(
            lambda: record_refund(
                tenant, actor, inputs.plain(input), idempotency_key=idempotency_key
            )
        )
        return PurchasePayload(purchase=Purchase.from_view(view) if view else None, errors=errors)

    @strawberry.mutation(description="Log a contact with a customer (回访).")
    async def interaction_log(
        self, info: Info, input: inputs.InteractionLogInput
    ) -> InteractionPayload:
        from core.activity import log_interaction

        tenant, actor = context_of(info).caller()
        uid, errors = await attempt(lambda: log_interaction(tenant, actor, inputs.plain(input)))
        return InteractionPayload(
            interaction_id=to_global_id("Interaction", uid) if uid else None, errors=errors
        )

    @strawberry.mutation(description="Create a follow-up task.")
    async def task_create(self, info: Info, input: inputs.TaskCreateInput) -> TaskPayload:
        from core.activity import create_task

        tenant, actor = context_of(info).caller()
        uid, errors = await attempt(lambda: create_task(tenant, actor, inputs.plain(input)))
        return TaskPayload(
            task_id=to_global_id("Task", uid) if uid else None, next_task_id=None, errors=errors
        )

    @strawberry.mutation(description="Complete a task (a revisit plan schedules the next one).")
    async def task_complete(self, info: Info, id: strawberry.ID, note: str = "") -> TaskPayload:
        from core.activity import complete_task

        tenant, actor = context_of(info).caller()

        async def run() -> UUID | None:
            return await complete_task(tenant, actor, _uuid(id, "Task"), note=note)

        try:
            next_id = await run()
        except BUSINESS as exc:
            return TaskPayload(task_id=None, next_task_id=None, errors=user_errors(exc))
        return TaskPayload(
            task_id=id,
            next_task_id=to_global_id("Task", next_id) if next_id else None,
            errors=[],
        )

    @strawberry.mutation(description="Save a segment.")
    async def segment_create(self, info: Info, input: inputs.SegmentCreateInput) -> SegmentPayload:
        from core.segments import create_segment

        tenant, actor = context_of(info).caller()
        row, errors = await attempt(lambda: create_segment(tenant, actor, inputs.plain(input)))
        return SegmentPayload(segment=Segment.from_row(row) if row else None, errors=errors)
