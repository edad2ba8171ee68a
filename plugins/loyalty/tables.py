"""Loyalty tables: an append-only ledger and one account row per customer (the running sums)."""

from piccolo.columns import UUID, BigInt, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import TenantScoped

__all__ = ["LoyaltyAccount", "LoyaltyCoupon", "LoyaltyEntry", "LoyaltyReferral", "LoyaltyReward"]


class LoyaltyAccount(TenantScoped, Table, tablename="loyalty_account"):
    """Balances per customer: the sums of the ledger, kept in the same transaction as each
    entry. ``points`` can never go negative (a CHECK on PostgreSQL, a trigger on SQLite)."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    points = BigInt(default=0)
    growth = BigInt(default=0)
    pending = BigInt(default=0)  # earned, not yet spendable (the return window)
    tier = Varchar(length=32, default="")
    tier_since = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class LoyaltyEntry(TenantScoped, Table, tablename="loyalty_entry"):
    """One movement of points (signed) and growth value. Never updated nor deleted."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    kind = Varchar(
        length=16
    )  # earn, redeem, reverse, adjust, expire, activate, restore, merge_*, gift
    points = BigInt(default=0)
    growth = BigInt(default=0)
    source = Varchar(length=16)  # purchase, refund, redemption, manual
    source_id = UUID(null=True, default=None)
    idempotency_key = Varchar(length=100, null=True, default=None)
    request_hash = Varchar(length=64, default="")
    reversal_of = UUID(null=True, default=None)
    actor = Varchar(length=64, default="")
    reason = Varchar(length=500, default="")
    pending = BigInt(default=0)  # moves of pending points (a pending award, its activation)
    available_at = Timestamptz(null=True, default=None)  # pending awards: when they activate
    expires_at = Timestamptz(null=True, default=None)  # awards only: when unspent points lapse
    purchase_id = UUID(null=True, default=None)  # a redemption paying for a sale; its restores
    created_at = Timestamptz(default=TimestamptzNow())


class LoyaltyReward(TenantScoped, Table, tablename="loyalty_reward"):
    """A catalogue item bought with points (a coupon is issued for it)."""

    id = UUID(primary_key=True)
    code = Varchar(length=32)
    name = Varchar(length=200)
    description = Text(default="")
    points_cost = BigInt()
    stock = BigInt(null=True, default=None)  # None: unlimited
    per_customer_limit = Integer(null=True, default=None)  # None: unlimited
    valid_days = Integer(default=30)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class LoyaltyCoupon(TenantScoped, Table, tablename="loyalty_coupon"):
    """A reward redeemed by a customer (or given away by another plugin's offer, e.g. a care
    campaign's gift): a code to present, valid until a date. ``entry_id`` is the ledger entry
    that paid for it (a gift's is a 0-point ``gift`` entry); ``source_key`` the gift's offer key
    (unique; ``''`` for a coupon bought with points)."""

    id = UUID(primary_key=True)
    reward_id = UUID()
    customer_id = UUID()
    code = Varchar(length=32)
    status = Varchar(length=16)  # issued, used
    entry_id = UUID()
    valid_until = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())
    source_key = Varchar(length=200, default="")


class LoyaltyReferral(TenantScoped, Table, tablename="loyalty_referral"):
    """Who referred a customer (one referrer per customer); the referrer earns the programme's
    referral bonus once, on the referred customer's first sale."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    referrer_id = UUID()
    actor = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
