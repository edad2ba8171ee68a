"""Loyalty tables: an append-only ledger and one account row per customer (the running sums)."""

from piccolo.columns import UUID, BigInt, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import TenantScoped

__all__ = ["LoyaltyAccount", "LoyaltyEntry"]


class LoyaltyAccount(TenantScoped, Table, tablename="loyalty_account"):
    """Balances per customer: the sums of the ledger, kept in the same transaction as each
    entry. ``points`` can never go negative (a CHECK on PostgreSQL, a trigger on SQLite)."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    points = BigInt(default=0)
    growth = BigInt(default=0)
    tier = Varchar(length=32, default="")
    tier_since = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class LoyaltyEntry(TenantScoped, Table, tablename="loyalty_entry"):
    """One movement of points (signed) and growth value. Never updated nor deleted."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    kind = Varchar(length=16)  # earn, redeem, reverse, adjust
    points = BigInt(default=0)
    growth = BigInt(default=0)
    source = Varchar(length=16)  # purchase, refund, redemption, manual
    source_id = UUID(null=True, default=None)
    idempotency_key = Varchar(length=100, null=True, default=None)
    request_hash = Varchar(length=64, default="")
    reversal_of = UUID(null=True, default=None)
    actor = Varchar(length=64, default="")
    reason = Varchar(length=500, default="")
    expires_at = Timestamptz(null=True, default=None)  # awards only: when unspent points lapse
    created_at = Timestamptz(default=TimestamptzNow())
