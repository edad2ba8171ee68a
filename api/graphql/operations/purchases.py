"""Sales and refunds (CORE-6): ``purchaseRecord`` and ``purchaseRefund``, idempotent on the
receipt number and on ``idempotencyKey``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.graphql.operations._common import arg, runtime_of
from core.graphql import UserError, attempt, context_of, input_data
from core.graphql.enums import SalesChannel
from core.graphql.types import Purchase

__all__ = ["PurchaseMutation"]

KEY_DESCRIPTION = (
    "Client key (1–128 characters): a retry with it returns the first result with "
    "`replayed: true`; the same key with another payload is `idempotency_mismatch`."
)


@strawberry.input(description="A line of a sale.")
class PurchaseLineInput:
    sku: str = strawberry.field(description="Product code.")
    unit_price: Decimal = strawberry.field(description="Unit price (exact decimal).")
    qty: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Quantity (default 1; up to 3 decimals)."
    )
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
    channel: SalesChannel | None = strawberry.field(
        default=strawberry.UNSET, description="Where it was sold (default `POS`)."
    )
    staff_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Cashier or sales staff."
    )
    receipt_no: str | None = strawberry.field(
        default=strawberry.UNSET, description="Receipt number: a second sale with it is a replay."
    )
    note: str | None = strawberry.field(default=strawberry.UNSET, description="Note.")
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET, description=KEY_DESCRIPTION
    )


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
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET, description=KEY_DESCRIPTION
    )


@strawberry.type(description="Result of `purchaseRecord`.")
class PurchaseRecordPayload:
    purchase: Purchase | None = strawberry.field(description="The sale.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `purchaseRefund`.")
class PurchaseRefundPayload:
    purchase: Purchase | None = strawberry.field(description="The refund.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type
class PurchaseMutation:
    @strawberry.mutation(
        description="Record a sale. Idempotent on `receiptNo` and on `idempotencyKey`."
    )
    async def purchase_record(
        self, info: Info, input: Annotated[PurchaseRecordInput, arg("The sale.")]
    ) -> PurchaseRecordPayload:
        from core.purchases import record_purchase

        tenant, actor = context_of(info).caller()
        data = input_data(input)
        key = data.pop("idempotency_key", None)
        view, errors = await attempt(
            lambda: record_purchase(
                tenant, actor, data, idempotency_key=key, runtime=runtime_of(info)
            )
        )
        return PurchaseRecordPayload(
            purchase=Purchase.from_view(view) if view else None, errors=errors
        )

    @strawberry.mutation(description="Refund some or all remaining lines of a sale.")
    async def purchase_refund(
        self, info: Info, input: Annotated[PurchaseRefundInput, arg("The refund.")]
    ) -> PurchaseRefundPayload:
        from core.purchases import record_refund

        tenant, actor = context_of(info).caller()
        data = input_data(input)
        key = data.pop("idempotency_key", None)
        view, errors = await attempt(
            lambda: record_refund(tenant, actor, data, idempotency_key=key)
        )
        return PurchaseRefundPayload(
            purchase=Purchase.from_view(view) if view else None, errors=errors
        )
