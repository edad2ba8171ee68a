"""The calendar over GraphQL (CORE-13): real days of 2026 and 2027, overrides, festivals,
settings, store hours through ``storeUpdate``; permissions and store scope."""

from __future__ import annotations

import pytest

from core.graphql import to_global_id

pytestmark = pytest.mark.usefixtures("db")

DAYS = """query($s: ID, $from: Date!, $to: Date!) {
  businessCalendar(from: $from, to: $to, storeId: $s) {
    date workday closed source
    holiday { code name kind source workday }
    lunar { year month day leap label }
    festivals { code name builtin }
    openingHours { opens closes }
  }
}"""


async def _store(api, key, code="SH01", hours=None):
    r = await api.gql(
        "mutation($i: StoreCreateInput!) { storeCreate(input: $i) { store { id } errors { code } } }",
        {"i": {"code": code, "name": code}},
        key=key,
    )
    store = r["data"]["storeCreate"]["store"]["id"]
    if hours is not None:
        u = await api.gql(
            "mutation($i: StoreUpdateInput!) { storeUpdate(input: $i) { store { businessHours } errors { field code } } }",
            {"i": {"id": store, "businessHours": hours}},
            key=key,
        )
        assert u["data"]["storeUpdate"]["errors"] == [], u
    return store


async def test_spring_festival_2026_with_its_makeup_days_and_lunar_dates(api, tenant, make_key):
    key = await make_key(tenant)
    r = await api.gql(DAYS, {"from": "2026-02-14", "to": "2026-02-24"}, key=key)
    days = {d["date"]: d for d in r["data"]["businessCalendar"]}
    assert days["2026-02-14"]["workday"] is True  # Saturday, 调休
    assert days["2026-02-14"]["holiday"]["kind"] == "MAKEUP_WORKDAY"
    assert [d for d, v in days.items() if not v["workday"]] == [
        f"2026-02-{n}" for n in range(15, 24)
    ]
    assert days["2026-02-24"]["workday"] is True
    assert days["2026-02-16"]["lunar"] == {
        "year": 2025,
        "month": 12,
        "day": 29,
        "leap": False,
        "label": "腊月廿九",
    }
    assert {"code": "new_years_eve", "name": "除夕", "builtin": True} in days["2026-02-16"][
        "festivals"
    ]
    assert days["2026-02-17"]["lunar"]["label"] == "正月初一"
    assert days["2026-02-17"]["holiday"]["source"] == "OFFICIAL"


async def test_2027_is_estimated_until_a_tenant_says_otherwise(api, tenant, make_key):
    key = await make_key(tenant)
    day = {"from": "2027-02-07", "to": "2027-02-07"}
    before = (await api.gql(DAYS, day, key=key))["data"]["businessCalendar"][0]
    assert (before["workday"], before["source"]) == (False, "ESTIMATED")  # a Sunday
    set_ = await api.gql(
        'mutation { calendarOverrideSet(input: {kind: WORKDAY, startDate: "2027-02-07", nameZh: "调休"}) { override { id kind startDate endDate } errors { code } } }',
        key=key,
    )
    override = set_["data"]["calendarOverrideSet"]["override"]
    assert override["kind"] == "WORKDAY" and override["endDate"] == "2027-02-07"
    after = (await api.gql(DAYS, day, key=key))["data"]["businessCalendar"][0]
    assert (after["workday"], after["source"]) == (True, "OVERRIDE")
    listed = await api.gql("{ calendarOverrides { nodes { id } } }", key=key)
    assert listed["data"]["calendarOverrides"]["nodes"] == [{"id": override["id"]}]
    node = await api.gql("query($i: ID!) { node(id: $i) { id } }", {"i": override["id"]}, key=key)
    assert node["data"]["node"] == {"id": override["id"]}
    removed = await api.gql(
        "mutation($i: ID!) { calendarOverrideRemove(input: {id: $i}) { removedId errors { code } } }",
        {"i": override["id"]},
        key=key,
    )
    assert removed["data"]["calendarOverrideRemove"] == {"removedId": override["id"], "errors": []}
    again = (await api.gql(DAYS, day, key=key))["data"]["businessCalendar"][0]
    assert again["source"] == "ESTIMATED"


async def test_store_hours_lunch_break_and_a_shift_past_midnight(api, tenant, make_key):
    key = await make_key(tenant)
    hours = {
        "mon": ["09:00-12:00", "13:00-18:00"],
        "fri": ["18:00-02:00"],
        "sat": ["10:00-24:00"],
    }
    store = await _store(api, key, hours=hours)
    r = await api.gql(DAYS, {"s": store, "from": "2026-03-02", "to": "2026-03-02"}, key=key)
    monday = r["data"]["businessCalendar"][0]
    assert [(p["opens"], p["closes"]) for p in monday["openingHours"]] == [
        ("2026-03-02T01:00:00+00:00", "2026-03-02T04:00:00+00:00"),
        ("2026-03-02T05:00:00+00:00", "2026-03-02T10:00:00+00:00"),
    ]
    bad = await api.gql(
        "mutation($i: StoreUpdateInput!) { storeUpdate(input: $i) { store { id } errors { field code } } }",
        {"i": {"id": store, "businessHours": {"mon": ["09:00-12:00", "11:00-13:00"]}}},
        key=key,
    )
    assert bad["data"]["storeUpdate"] == {
        "store": None,
        "errors": [{"field": "businessHours.mon[1]", "code": "overlap"}],
    }


async def test_calendar_writes_need_calendar_manage_and_store_scope(api, tenant, owner, make_key):
    from tenants.service import create_store

    s1 = (await create_store(tenant, owner, {"code": "S1", "name": "one"}))["id"]
    s2 = (await create_store(tenant, owner, {"code": "S2", "name": "two"}))["id"]
    manager = await make_key(tenant, role="store_manager", store_id=s1)
    hq = await make_key(tenant, role="hq_manager")
    closure = 'mutation($s: ID!) { calendarOverrideSet(input: {kind: CLOSURE, startDate: "2026-04-01", storeId: $s}) { override { id } errors { code } } }'
    denied = await api.gql(closure, {"s": to_global_id("Store", s1)}, key=manager)
    assert denied["errors"][0]["extensions"]["code"] == "forbidden"
    done = await api.gql(closure, {"s": to_global_id("Store", s1)}, key=hq)
    assert done["data"]["calendarOverrideSet"]["errors"] == []
    other_store = await api.gql(
        DAYS,
        {"s": to_global_id("Store", s2), "from": "2026-04-01", "to": "2026-04-01"},
        key=manager,
    )
    assert other_store["errors"][0]["extensions"]["code"] == "not_found"
    mine = await api.gql(
        DAYS,
        {"s": to_global_id("Store", s1), "from": "2026-04-01", "to": "2026-04-01"},
        key=manager,
    )
    assert mine["data"]["businessCalendar"][0]["closed"] is True


async def test_tenant_festivals_and_settings(api, tenant, make_key):
    key = await make_key(tenant)
    made = await api.gql(
        'mutation { calendarFestivalSet(input: {code: "member_day", nameZh: "会员日", rule: {kind: "monthly", day: 18}}) { festival { code festivalId builtin } errors { field code } } }',
        key=key,
    )
    festival = made["data"]["calendarFestivalSet"]["festival"]
    assert festival["code"] == "member_day" and festival["builtin"] is False
    r = await api.gql(DAYS, {"from": "2026-03-18", "to": "2026-03-18"}, key=key)
    assert {"code": "member_day", "name": "会员日", "builtin": False} in r["data"][
        "businessCalendar"
    ][0]["festivals"]
    bad = await api.gql(
        'mutation { calendarFestivalSet(input: {code: "mid_autumn", nameZh: "x", rule: {kind: "monthly", day: 1}}) { errors { field code } } }',
        key=key,
    )
    assert bad["data"]["calendarFestivalSet"]["errors"][0]["field"] == "code"
    settings = await api.gql(
        "mutation { calendarSettingsSet(input: {holidayRegion: NONE}) { settings { holidayRegion holidayPolicy } errors { code } } }",
        key=key,
    )
    assert settings["data"]["calendarSettingsSet"]["settings"] == {
        "holidayRegion": "NONE",
        "holidayPolicy": "AUTO",
    }
    weekly = await api.gql(DAYS, {"from": "2026-02-16", "to": "2026-02-16"}, key=key)
    assert weekly["data"]["businessCalendar"][0]["workday"] is True  # no Chinese holidays now
