"""Customers and consent (CORE-5, CORE-9): ``customer``, ``customerByPhone``, ``customers``;
``customerCreate``, ``customerUpdate``, ``customerMerge``, ``customerErase``,
``customerExport``, ``consentSet``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.operations._common import arg, cursor_uuid, runtime_of, uuid_of
from core.customers.schemas import CustomerView
from core.errors import NotFound
from core.graphql import (
    Connection,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    input_data,
    to_global_id,
)
from core.graphql.enums import (
    BirthdayCalendar,
    ConsentChannel,
    ConsentPurpose,
    CustomerSource,
    Gender,
    ValueClass,
)
from core.graphql.types import Customer

__all__ = ["CustomerMutation", "CustomerQuery"]


@strawberry.input(description="Profile fields of a customer.")
class CustomerFields:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Full name.")
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="Mobile number (normalised to E.164)."
    )
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Email.")
    gender: Gender | None = strawberry.field(default=strawberry.UNSET, description="Gender.")
    birthday: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="Date of birth (1900 to today)."
    )
    birthday_calendar: BirthdayCalendar | None = strawberry.field(
        default=strawberry.UNSET,
        description="The calendar the birthday is kept by (default `SOLAR`; `LUNAR`: 农历生日).",
    )
    company: str | None = strawberry.field(default=strawberry.UNSET, description="Employer.")
    position: str | None = strawberry.field(default=strawberry.UNSET, description="Job title.")
    address: str | None = strawberry.field(default=strawberry.UNSET, description="Address.")
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Free tags (标签), at most 50."
    )
    notes: str | None = strawberry.field(default=strawberry.UNSET, description="Staff notes.")
    attributes: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Tenant-defined attributes (a JSON object)."
    )
    card_no: str | None = strawberry.field(
        default=strawberry.UNSET, description="Membership card number."
    )
    home_store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Home store."
    )
    assigned_staff_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Staff member in charge (负责人)."
    )


@strawberry.input(description="A new customer. Phone, email and card are unique in the tenant.")
class CustomerCreateInput(CustomerFields):
    source: CustomerSource | None = strawberry.field(
        default=strawberry.UNSET, description="How the record was obtained (default `POS`)."
    )
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Client key (1–128 characters): a retry with it creates the customer once.",
    )


@strawberry.input(description="Changes to a customer: only the fields given change; null clears.")
class CustomerUpdateInput(CustomerFields):
    id: strawberry.ID = strawberry.field(description="The customer.")


@strawberry.input(description="A duplicate to merge into another customer.")
class CustomerMergeInput:
    source_id: strawberry.ID = strawberry.field(description="The duplicate; it becomes `MERGED`.")
    target_id: strawberry.ID = strawberry.field(description="The customer that remains.")


@strawberry.input(description="The customer whose personal data is erased.")
class CustomerEraseInput:
    id: strawberry.ID = strawberry.field(description="The customer.")


@strawberry.input(description="The customer whose data is exported.")
class CustomerExportInput:
    id: strawberry.ID = strawberry.field(description="The customer.")


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
    value_class: ValueClass | None = strawberry.field(
        default=strawberry.UNSET, description="Value class."
    )
    segment_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Member of this segment."
    )


@strawberry.input(description="A consent given or withdrawn (opt-in per purpose and channel).")
class ConsentSetInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    purpose: ConsentPurpose = strawberry.field(description="What the consent is for.")
    granted: bool = strawberry.field(description="True: given; false: withdrawn.")
    channel: ConsentChannel | None = strawberry.field(
        default=strawberry.UNSET, description="The channel it covers (default `ANY`)."
    )
    source: str | None = strawberry.field(
        default=strawberry.UNSET, description="Where it was collected (`pos`, `reply:TD`, …)."
    )
    proof: str | None = strawberry.field(
        default=strawberry.UNSET, description="Evidence (a form reference, a message id)."
    )


@strawberry.type(description="A consent as recorded.")
class Consent:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    purpose: ConsentPurpose = strawberry.field(description="Purpose.")
    channel: ConsentChannel = strawberry.field(description="Channel (or `ANY`).")
    granted: bool = strawberry.field(description="Given or withdrawn.")
    recorded_at: dt.datetime = strawberry.field(description="When recorded.")


@strawberry.type(description="Result of `customerCreate`.")
class CustomerCreatePayload:
    customer: Customer | None = strawberry.field(description="The new customer.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `customerUpdate`.")
class CustomerUpdatePayload:
    customer: Customer | None = strawberry.field(description="The customer after the change.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `customerMerge`.")
class CustomerMergePayload:
    customer: Customer | None = strawberry.field(description="The customer that remains.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `customerErase`.")
class CustomerErasePayload:
    erased_id: strawberry.ID | None = strawberry.field(description="The erased customer.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `customerExport`: everything held about the customer.")
class CustomerExportPayload:
    data: JSON | None = strawberry.field(description="Core and module data, unmasked.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `consentSet`.")
class ConsentSetPayload:
    consent: Consent | None = strawberry.field(description="The recorded consent.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="A customer by global ID; null when there is none.")
    async def customer(
        self, info: Info, id: Annotated[strawberry.ID, arg("The customer's global ID.")]
    ) -> Customer | None:
        from core.customers.service import get_customer

        tenant, actor = context_of(info).caller()
        actor.require("customers:read")
        try:
            return Customer.from_view(await get_customer(tenant, actor, uuid_of(id, "Customer")))
        except NotFound:
            return None

    @strawberry.field(description="The cashier's look-up: the active customer with this phone.")
    async def customer_by_phone(
        self, info: Info, phone: Annotated[str, arg("Mobile number, in any common format.")]
    ) -> Customer | None:
        from core.customers.service import find_by_phone

        tenant, actor = context_of(info).caller()
        view = await find_by_phone(tenant, actor, phone)
        return Customer.from_view(view) if view else None

    @strawberry.field(description="Active customers, ordered by id (cursor pagination).")
    async def customers(
        self,
        info: Info,
        first: Annotated[int, arg("Page size, 1–100.")] = 20,
        after: Annotated[str | None, arg("Cursor of the last customer seen.")] = None,
        filter: Annotated[CustomerFilterInput | None, arg("Criteria; all must match.")] = None,
    ) -> Connection[Customer]:
        from core.customers.service import search_customers

        tenant, actor = context_of(info).caller()
        check_first(first)
        runtime = runtime_of(info)
        views = await search_customers(
            tenant,
            actor,
            input_data(filter) if filter else None,
            first=first,
            after=cursor_uuid(after),
            peek=True,
            segment_fields=await runtime.segment_fields(tenant) if runtime else None,
        )
        return connection([Customer.from_view(v) for v in views], lambda c: str(c.uid), first)


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(description="Create a customer (客户建档).")
    async def customer_create(
        self, info: Info, input: Annotated[CustomerCreateInput, arg("The new customer.")]
    ) -> CustomerCreatePayload:
        from core.customers.service import create_customer

        tenant, actor = context_of(info).caller()
        data = input_data(input)
        key = data.pop("idempotency_key", None)
        view, errors = await attempt(
            lambda: create_customer(
                tenant, actor, data, idempotency_key=key, runtime=runtime_of(info)
            )
        )
        return CustomerCreatePayload(
            customer=Customer.from_view(view) if view else None, errors=errors
        )

    @strawberry.mutation(description="Change a customer's profile.")
    async def customer_update(
        self, info: Info, input: Annotated[CustomerUpdateInput, arg("The changes.")]
    ) -> CustomerUpdatePayload:
        from core.customers.service import update_customer

        tenant, actor = context_of(info).caller()

        async def run() -> CustomerView:
            data = input_data(input, id="Customer")
            customer_id = data.pop("id")
            return await update_customer(tenant, actor, customer_id, data, runtime=runtime_of(info))

        view, errors = await attempt(run)
        return CustomerUpdatePayload(
            customer=Customer.from_view(view) if view else None,
            errors=errors,
        )

    @strawberry.mutation(description="Merge a duplicate (`sourceId`) into `targetId`.")
    async def customer_merge(
        self, info: Info, input: Annotated[CustomerMergeInput, arg("The two customers.")]
    ) -> CustomerMergePayload:
        from core.customers.merge import merge_customers

        tenant, actor = context_of(info).caller()

        async def run() -> CustomerView:
            data = input_data(input)
            return await merge_customers(tenant, actor, data["source_id"], data["target_id"])

        view, errors = await attempt(run)
        return CustomerMergePayload(
            customer=Customer.from_view(view) if view else None,
            errors=errors,
        )

    @strawberry.mutation(description="Erase a customer's personal data (purchases stay).")
    async def customer_erase(
        self, info: Info, input: Annotated[CustomerEraseInput, arg("The customer.")]
    ) -> CustomerErasePayload:
        from core.privacy import erase_customer

        tenant, actor = context_of(info).caller()

        async def run() -> str:
            customer_id = input_data(input, id="Customer")["id"]
            return await erase_customer(tenant, actor, customer_id, runtime=runtime_of(info))

        _name, errors = await attempt(run)
        return CustomerErasePayload(erased_id=None if errors else input.id, errors=errors)

    @strawberry.mutation(description="Everything held about a customer (audited).")
    async def customer_export(
        self, info: Info, input: Annotated[CustomerExportInput, arg("The customer.")]
    ) -> CustomerExportPayload:
        from core.privacy import export_customer

        tenant, actor = context_of(info).caller()

        async def run() -> dict[str, Any]:
            customer_id = input_data(input, id="Customer")["id"]
            return await export_customer(tenant, actor, customer_id, runtime=runtime_of(info))

        data, errors = await attempt(run)
        return CustomerExportPayload(data=msgspec.to_builtins(data), errors=errors)

    @strawberry.mutation(description="Record a consent given or withdrawn.")
    async def consent_set(
        self, info: Info, input: Annotated[ConsentSetInput, arg("The consent.")]
    ) -> ConsentSetPayload:
        from core.consent import set_consent

        tenant, actor = context_of(info).caller()
        row, errors = await attempt(lambda: set_consent(tenant, actor, input_data(input)))
        consent = (
            Consent(
                customer_id=to_global_id("Customer", row["customer_id"]),
                purpose=ConsentPurpose(row["purpose"]),
                channel=ConsentChannel(row["channel"]),
                granted=row["granted"],
                recorded_at=row["recorded_at"],
            )
            if row
            else None
        )
        return ConsentSetPayload(consent=consent, errors=errors)
