"""Purchases (购买记录) and their lines; refunds reference the original (CORE-6)."""

from piccolo.columns import UUID, BigInt, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import TenantScoped


class Purchase(TenantScoped, Table, tablename="purchase"):
    """A sale or a refund. Refunds have ``kind='refund'``, negative amounts and ``refund_of_id``."""

    id = UUID(primary_key=True)
    customer_id = UUID(null=True, default=None)
    store_id = UUID()
    staff_id = UUID(null=True, default=None)
    kind = Varchar(length=8, default="sale")
    refund_of_id = UUID(null=True, default=None)
    occurred_at = Timestamptz()
    amount_minor = BigInt()
    currency = Varchar(length=3)
    channel = Varchar(length=32, default="pos")
    receipt_no = Varchar(length=64, null=True, default=None)
    idempotency_key = Varchar(length=128, null=True, default=None)
    request_hash = Varchar(length=64)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class PurchaseLine(TenantScoped, Table, tablename="purchase_line"):
    """A line item; ``qty_milli`` is thousandths (1.5 kg = 1500), prices in minor units."""

    id = UUID(primary_key=True)
    purchase_id = UUID()
    line_no = Integer()
    sku = Varchar(length=64)
    name = Varchar(length=200, default="")
    category = Varchar(length=100, default="")
    qty_milli = BigInt()
    unit_price_minor = BigInt()
    amount_minor = BigInt()
    refund_of_line_id = UUID(null=True, default=None)
