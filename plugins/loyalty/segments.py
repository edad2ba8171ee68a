"""Segment conditions loyalty contributes (CORE-8): tier, points balance, points expiring.

They belong to loyalty: a tenant without it cannot save a segment that names them. Each is a
subquery over loyalty's own tables (``:tenant`` and ``:now`` are bound by the compiler).
"""

from __future__ import annotations

from core import SegmentCondition

__all__ = ["CONDITIONS"]

# What FIFO leaves of each award: awards in expiry order, a running sum of their points; an
# award still has points while that sum exceeds everything the customer has spent.
_EXPIRING = (
    "SELECT a.customer_id FROM (SELECT e.customer_id, e.expires_at, SUM(e.points) OVER ("
    "PARTITION BY e.customer_id ORDER BY e.expires_at, e.created_at, e.id) AS running "
    "FROM loyalty_entry e WHERE e.tenant_id = :tenant AND e.points > 0 "
    "AND e.expires_at IS NOT NULL) a JOIN (SELECT customer_id, -SUM(points) AS spent "
    "FROM loyalty_entry WHERE tenant_id = :tenant AND points < 0 GROUP BY customer_id) d "
    "ON d.customer_id = a.customer_id WHERE a.expires_at > :now AND a.expires_at {op} {v} "
    "AND a.running > d.spent "
    "UNION SELECT e.customer_id FROM loyalty_entry e WHERE e.tenant_id = :tenant "
    "AND e.points > 0 AND e.expires_at > :now AND e.expires_at {op} {v} "
    "AND NOT EXISTS (SELECT 1 FROM loyalty_entry x WHERE x.tenant_id = e.tenant_id "
    "AND x.customer_id = e.customer_id AND x.points < 0)"
)

CONDITIONS = [
    SegmentCondition(
        name="loyalty_tier",
        kind="subquery",
        sql="",
        description="membership tier code (会员等级)",
        ops=("eq", "ne", "in"),
        subquery="SELECT customer_id FROM loyalty_account WHERE tenant_id = :tenant "
        "AND tier {op} {v}",
    ),
    SegmentCondition(
        name="loyalty_points",
        kind="subquery",
        sql="",
        description="spendable points balance",
        ops=("eq", "gt", "gte", "lt", "lte"),
        value_kind="int",
        subquery="SELECT customer_id FROM loyalty_account WHERE tenant_id = :tenant "
        "AND points {op} {v}",
    ),
    SegmentCondition(
        name="loyalty_points_expiring_days",
        kind="subquery",
        sql="",
        description="has points that expire within this many days",
        ops=("lte",),
        value_kind="days_ahead",
        subquery=_EXPIRING,
    ),
]
