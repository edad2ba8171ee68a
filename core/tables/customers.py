"""Customers (客户档案), tags, statistics and consent (CORE-5, CORE-8, CORE-9)."""

from piccolo.columns import JSON, UUID, BigInt, Boolean, Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import TenantScoped


class Customer(TenantScoped, Table, tablename="customer"):
    """A customer record. Phone and email are stored encrypted with blind indexes (CORE-10)."""

    id = UUID(primary_key=True)
    name = Varchar(length=200, default="")
    phone_enc = Text(null=True, default=None, secret=True)
    phone_hash = Varchar(length=64, null=True, default=None)
    email_enc = Text(null=True, default=None, secret=True)
    email_hash = Varchar(length=64, null=True, default=None)
    gender = Varchar(length=16, default="unknown")
    birthday = Date(null=True, default=None)
    birthday_calendar = Varchar(length=8, default="solar")
    company = Varchar(length=200, default="")
    position = Varchar(length=200, default="")
    address = Text(default="")
    tags = JSON(default="[]")
    notes = Text(default="")
    attributes = JSON(default="{}")
    source = Varchar(length=32, default="pos")
    card_no = Varchar(length=64, null=True, default=None)
    home_store_id = UUID(null=True, default=None)
    assigned_staff_id = UUID(null=True, default=None)
    created_by_staff_id = UUID(null=True, default=None)  # who signed them up (staff KPIs)
    status = Varchar(length=16, default="active")
    merged_into_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CustomerTag(TenantScoped, Table, tablename="customer_tag"):
    """One row per (customer, tag), so that tag search uses an index."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    tag = Varchar(length=64)


class CustomerStats(TenantScoped, Table, tablename="customer_stats"):
    """Chain-wide purchase statistics, RFM scores, value class and lifecycle stage (CORE-8)."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    purchase_count = Integer(default=0)
    total_spent_minor = BigInt(default=0)
    first_purchase_at = Timestamptz(null=True, default=None)
    last_purchase_at = Timestamptz(null=True, default=None)
    r_score = Integer(default=0)
    f_score = Integer(default=0)
    m_score = Integer(default=0)
    value_class = Varchar(length=16, default="potential")
    lifecycle = Varchar(length=16, default="prospect")
    computed_at = Timestamptz(default=TimestamptzNow())


class CustomerStoreStats(TenantScoped, Table, tablename="customer_store_stats"):
    """Per-store RFM (a customer of several stores has one row per store)."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    store_id = UUID()
    purchase_count = Integer(default=0)
    total_spent_minor = BigInt(default=0)
    last_purchase_at = Timestamptz(null=True, default=None)
    r_score = Integer(default=0)
    f_score = Integer(default=0)
    m_score = Integer(default=0)


class ConsentRecord(TenantScoped, Table, tablename="consent_record"):
    """Append-only consent history; the latest row per (customer, purpose, channel) is in force."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    purpose = Varchar(length=32)
    channel = Varchar(length=32)
    granted = Boolean()
    source = Varchar(length=64)
    proof = Text(default="")
    recorded_at = Timestamptz(default=TimestamptzNow())
    seq = BigInt(default=0)
