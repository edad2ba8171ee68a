"""Tenants, stores, staff, roles and API keys (CORE-1 … CORE-3)."""

from piccolo.columns import JSON, UUID, Boolean, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import PlatformTable, TenantScoped


class Tenant(PlatformTable, Table, tablename="tenant"):
    """A store chain subscribing to Mendian. Platform-level: not row-level secured; a Citus
    reference table."""

    id = UUID(primary_key=True)
    slug = Varchar(length=63, unique=True)
    name = Varchar(length=200)
    status = Varchar(length=16, default="active")
    timezone = Varchar(length=64, default="Asia/Shanghai")
    locale = Varchar(length=16, default="zh-CN")
    currency = Varchar(length=3, default="CNY")
    phone_region = Varchar(length=2, default="CN")
    plan = Varchar(length=64, default="standard")
    settings = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())


class Store(TenantScoped, Table, tablename="store"):
    """A store (门店) of a tenant."""

    id = UUID(primary_key=True)
    code = Varchar(length=32)
    name = Varchar(length=200)
    region = Varchar(length=100, default="")
    address = Text(default="")
    timezone = Varchar(length=64, null=True, default=None)
    business_hours = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)  # closed for good: history kept, no sales


class Role(TenantScoped, Table, tablename="role"):
    """A named set of permission strings; built-in roles are created with the tenant."""

    id = UUID(primary_key=True)
    code = Varchar(length=64)
    name = Varchar(length=200)
    permissions = JSON(default="[]")
    builtin = Boolean(default=False)


class Staff(TenantScoped, Table, tablename="staff"):
    """A staff account: login + Argon2id password hash, a role, optional store restriction."""

    id = UUID(primary_key=True)
    login = Varchar(length=64)
    name = Varchar(length=200)
    password_hash = Varchar(length=255, secret=True)
    # Work contacts for notifications (escalations, reports), encrypted like customers' (CORE-10).
    email_enc = Text(null=True, default=None, secret=True)
    phone_enc = Text(null=True, default=None, secret=True)
    role = Varchar(length=64)
    store_ids = JSON(default="[]")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # Tokens issued before this (a password change, a deactivation, a new role) are refused.
    credentials_changed_at = Timestamptz(null=True, default=None)


class ApiKey(TenantScoped, Table, tablename="api_key"):
    """An API key (``mdn_<tenant slug>_<secret>``); only the SHA-256 of the secret is kept."""

    id = UUID(primary_key=True)
    name = Varchar(length=200)
    role = Varchar(length=64)
    store_id = UUID(null=True, default=None)
    key_hash = Varchar(length=64, secret=True)
    key_hint = Varchar(length=16)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
