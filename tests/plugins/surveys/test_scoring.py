"""Scores, exactly: NPS, CSAT, averages and counts against a hand computation, trends per week
and month in the tenant's timezone around period boundaries, store scope — the same figures on
SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core import to_global_id
from tests.plugins.surveys.helpers import RECORD, RESULTS, answers, gql_ok, nps_survey, uid

pytestmark = pytest.mark.usefixtures("db")

STORES = """mutation { a: storeCreate(input: {code: "A", name: "A店"}) { store { id } }
                       b: storeCreate(input: {code: "B", name: "B店"}) { store { id } } }"""

# (nps, csat, why, store, answered at UTC) — in Asia/Shanghai (UTC+8) the first is Sunday
# 25 Oct, the second Monday 26 Oct (a new ISO week), the fourth Sunday 1 Nov (a new month).
ROWS = [
    (10, 5, None, "a", "2026-10-25T15:59:59+00:00"),
    (9, 4, None, "a", "2026-10-25T16:00:00+00:00"),
    (8, 3, None, "a", "2026-10-31T15:59:59+00:00"),
    (6, 2, ["wait"], "a", "2026-10-31T16:00:00+00:00"),
    (2, 5, ["wait", "price"], "b", "2026-10-31T16:00:01+00:00"),
    (10, 4, None, "b", "2026-11-02T08:00:00+00:00"),
    (7, 1, None, "b", "2026-11-03T08:00:00+00:00"),
]


async def _responses(api, key):
    survey = await nps_survey(api, key)
    stores = await gql_ok(api, STORES, {}, key)
    ids = {k: stores[k]["store"]["id"] for k in ("a", "b")}
    for nps, csat, why, store, at in ROWS:
        r = await gql_ok(
            api,
            RECORD,
            {
                "i": {
                    "surveyId": survey,
                    "channel": "PHONE",
                    "storeId": ids[store],
                    "answeredAt": at,
                    "answers": answers(nps, why=why, csat=csat),
                }
            },
            key,
        )
        assert r["surveyResponseRecord"]["errors"] == [], r
    return survey, ids


def _ordered(points):
    """Trend points come by period, then per store (by id), then the chain line."""
    return sorted(
        points, key=lambda p: (p[0], p[1] is None, str(uid(p[1], "Store")) if p[1] else "")
    )


async def test_results_match_a_hand_computation(api, tenant, make_key, enable_plugins):
    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    survey, stores = await _responses(api, key)
    got = (await gql_ok(api, RESULTS, {"s": survey}, key))["surveyResults"]
    # promoters 10, 9, 10 = 3; passives 8, 7 = 2; detractors 6, 2 = 2: (3 - 2) / 7 = 14.2857…
    assert got["responses"] == 7
    assert got["nps"] == {"score": 14.3, "promoters": 3, "passives": 2, "detractors": 2, "total": 7}
    # CSAT 5, 4, 3, 2, 5, 4, 1: satisfied 4 of 7 = 57.142…; average 24 / 7 = 3.428…
    assert got["csat"] == {"score": 57.1, "satisfied": 4, "total": 7}
    by_key = {q["key"]: q for q in got["questions"]}
    assert [q["key"] for q in got["questions"]] == ["nps", "why", "csat"]
    assert by_key["csat"]["average"] == 3.43
    assert by_key["csat"]["distribution"] == [
        {"value": 1, "count": 1},
        {"value": 2, "count": 1},
        {"value": 3, "count": 1},
        {"value": 4, "count": 2},
        {"value": 5, "count": 2},
    ]
    assert by_key["nps"]["average"] == 7.43  # 52 / 7
    assert by_key["why"] == {
        "key": "why",
        "type": "MULTIPLE_CHOICE",
        "answered": 2,
        "average": None,
        "distribution": [],
        "options": [{"code": "price", "count": 1}, {"code": "wait", "count": 2}],
    }

    # weeks start on Monday in Shanghai: 19 Oct (one response), 26 Oct (four), 2 Nov (two)
    a, b = stores["a"], stores["b"]
    week = [
        (p["periodStart"], p["storeId"], p["responses"], p["nps"]["score"]) for p in got["week"]
    ]
    assert week == _ordered(
        [
            ("2026-10-19", a, 1, 100.0),
            ("2026-10-19", None, 1, 100.0),
            ("2026-10-26", a, 3, 0.0),  # 9, 8, 6
            ("2026-10-26", b, 1, -100.0),  # 2
            ("2026-10-26", None, 4, -25.0),  # 9, 8, 6, 2
            ("2026-11-02", b, 2, 50.0),  # 10, 7
            ("2026-11-02", None, 2, 50.0),
        ]
    )
    month = [
        (p["periodStart"], p["storeId"], p["responses"], p["nps"]["total"]) for p in got["month"]
    ]
    assert month == _ordered(
        [
            ("2026-10-01", a, 3, 3),
            ("2026-10-01", None, 3, 3),
            ("2026-11-01", a, 1, 1),
            ("2026-11-01", b, 3, 3),
            ("2026-11-01", None, 4, 4),
        ]
    )

    # a period and a store: store B from 1 Nov (Shanghai) on
    part = (
        await gql_ok(
            api, RESULTS, {"s": survey, "store": b, "from": "2026-11-01T00:00:00+08:00"}, key
        )
    )["surveyResults"]
    assert (part["responses"], part["nps"]["score"], part["csat"]) == (
        3,
        0.0,
        {"score": 66.7, "satisfied": 2, "total": 3},
    )
    empty = (await gql_ok(api, RESULTS, {"s": survey, "to": "2026-01-01T00:00:00Z"}, key))[
        "surveyResults"
    ]
    assert (empty["responses"], empty["nps"]["score"], empty["csat"]["score"], empty["week"]) == (
        0,
        None,
        None,
        [],
    )


async def test_a_store_scoped_caller_sees_its_stores_results_only(
    api, tenant, make_key, enable_plugins
):
    from core import from_global_id

    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    survey, stores = await _responses(api, key)
    manager = await make_key(
        tenant, role="store_manager", store_id=from_global_id(stores["a"], "Store")
    )
    mine = (await gql_ok(api, RESULTS, {"s": survey}, manager))["surveyResults"]
    assert (mine["responses"], mine["nps"]["score"]) == (4, 25.0)  # 10, 9, 8, 6
    assert {p["storeId"] for p in mine["week"]} == {stores["a"], None}
    other = await gql_ok(api, RESULTS, {"s": survey, "store": stores["b"]}, manager)
    assert other["surveyResults"] is None


def test_rounding_is_half_away_from_zero_with_one_decimal():
    from plugins.surveys.scoring import Nps, percent

    assert Nps.of(0, 15, 1).score == Decimal("-6.3")  # -6.25
    assert Nps.of(1, 15, 0).score == Decimal("6.3")
    assert Nps.of(1, 0, 2).score == Decimal("-33.3")
    assert Nps.of(0, 0, 3).score == Decimal("-100.0")
    assert Nps.of(0, 0, 0).score is None
    assert percent(2, 3) == Decimal("66.7") and percent(0, 0) is None


async def test_periods_are_fixed_in_the_tenants_timezone(db):
    import datetime as dt

    from plugins.surveys.answering import periods

    at = dt.datetime(2026, 11, 29, 16, 0, tzinfo=dt.UTC)
    assert periods(at, "Asia/Shanghai") == ("2026-11-30", "2026-11-30", "2026-11-01")
    assert periods(at, "UTC") == ("2026-11-29", "2026-11-23", "2026-11-01")
    assert periods(at, "America/Los_Angeles") == ("2026-11-29", "2026-11-23", "2026-11-01")


def test_global_ids_of_stores_in_trends():
    import uuid

    assert to_global_id("Store", uuid.UUID(int=1))
