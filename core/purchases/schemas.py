"""Purchase inputs and views (CORE-6), validated at the service boundary."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

__all__ = [
    "CHANNELS",
    "LineInput",
    "PurchaseInput",
    "PurchaseLineView",
    "PurchaseView",
    "RefundInput",
    "RefundLine",
]

Channel = Literal["pos", "online", "mini_program", "phone", "other"]
Key = Annotated[str, Meta(min_length=1, max_length=128)]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]


class LineInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sku: Annotated[str, Meta(min_length=1, max_length=64)]
    name: Annotated[str, Meta(max_length=200)] = ""
    category: Annotated[str, Meta(max_length=100)] = ""
    qty: Decimal = Decimal(1)
    unit_price: Decimal


class PurchaseInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    store_id: UUID
    lines: Annotated[list[LineInput], Meta(min_length=1, max_length=500)]
    customer_id: UUID | None = None
    occurred_at: dt.datetime | None = None
    amount: Decimal | None = None  # paid total, if discounts applied
    channel: Channel = "pos"
    staff_id: UUID | None = None
    receipt_no: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    note: Annotated[str, Meta(max_length=1000)] = ""


class RefundLine(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    line_no: Annotated[int, Meta(ge=1)]
    qty: Decimal


class RefundInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    refund_of: UUID
    lines: Annotated[list[RefundLine], Meta(max_length=500)] | None = None  # None: everything left
    occurred_at: dt.datetime | None = None
    receipt_no: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    staff_id: UUID | None = None
    note: Annotated[str, Meta(max_length=1000)] = ""


class PurchaseLineView(msgspec.Struct, kw_only=True):
    line_no: int
    sku: str
    name: str
    category: str
    qty: Decimal
    unit_price: Decimal
    amount: Decimal


class PurchaseView(msgspec.Struct, kw_only=True):
    id: UUID
    kind: str
    customer_id: UUID | None
    store_id: UUID
    staff_id: UUID | None
    occurred_at: dt.datetime
    amount: Decimal
    currency: str
    channel: str
    receipt_no: str | None
    refund_of_id: UUID | None
    lines: list[PurchaseLineView]
    replayed: bool = False
