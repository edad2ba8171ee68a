"""Segment conditions surveys contributes (CORE-8): the customer's last NPS category, last
CSAT score, and whether they answered a survey (any version of it). Each is a subquery over the
plugin's own tables (``:tenant`` bound by the compiler); anonymous responses have no customer
and never match."""

from __future__ import annotations

from core import SegmentCondition

__all__ = ["CONDITIONS"]

# The latest response of each customer that carries the score.
_LAST = (
    "SELECT r.customer_id FROM surveys_response r WHERE r.tenant_id = :tenant "
    "AND r.customer_id IS NOT NULL AND r.{col} IS NOT NULL AND r.{col} {op} {v} "
    "AND NOT EXISTS (SELECT 1 FROM surveys_response x WHERE x.tenant_id = r.tenant_id "
    "AND x.customer_id = r.customer_id AND x.{col} IS NOT NULL "
    "AND (x.answered_at > r.answered_at OR (x.answered_at = r.answered_at AND x.id > r.id)))"
)

CONDITIONS = [
    SegmentCondition(
        name="surveys_last_nps_category",
        kind="subquery",
        sql="",
        description="category of the customer's last NPS answer (promoter, passive, detractor)",
        choices=("promoter", "passive", "detractor"),
        ops=("eq", "ne", "in"),
        subquery=_LAST.replace("{col}", "nps_category"),
    ),
    SegmentCondition(
        name="surveys_last_csat",
        kind="subquery",
        sql="",
        description="the customer's last CSAT score (1-5)",
        ops=("eq", "gt", "gte", "lt", "lte"),
        value_kind="int",
        subquery=_LAST.replace("{col}", "csat"),
    ),
    SegmentCondition(
        name="surveys_answered",
        kind="subquery",
        sql="",
        description="answered this survey (its id; any of its versions)",
        ops=("eq", "in"),
        subquery="SELECT customer_id FROM surveys_response WHERE tenant_id = :tenant "
        "AND customer_id IS NOT NULL AND (CAST(survey_id AS TEXT) {op} {v} "
        "OR CAST(family_id AS TEXT) {op} {v})",
    ),
]
