"""The register, the report, the KPIs and the weekly report's section, on real calendar days in
Asia/Shanghai with clock-time SLAs (24 hours to acknowledge, 72 to resolve), so every figure
can be worked out by hand:

Week of Monday 2026-11-09 at store S1 (c0 is the week before, for the trend):

====  ===================  ==========  ==========  ===================  =====================
 id    received (local)     category    ack after   resolved after       notes
====  ===================  ==========  ==========  ===================  =====================
 c0    Tue 11-03 10:00      quality     1 h         2 h                  previous week
 c1    Mon 11-09 10:00      quality     1 h         4 h                  SKU-J
 c2    Tue 11-10 09:00      overcharge  26 h (late) 73 h (late)          li involved
 c3    Wed 11-11 20:00      quality     2 h         12 h, reopened, 24 h SKU-J
 c4    Thu 11-12 23:30      quality     never       never (overdue)      SKU-J, handler qian
 s1    Fri 11-13 10:00      suggestion
====  ===================  ==========  ==========  ===================  =====================
"""

from __future__ import annotations

import datetime as dt

import pytest

from core import to_global_id
from tests.plugins.complaints.sla_helpers import (
    Clock,
    file_complaint,
    local,
    make_staff,
    make_store,
)

pytestmark = pytest.mark.usefixtures("db")

CLOCK_TIME = {"business_time": False}
DAILY = {d: ["09:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _settings():
    from plugins.complaints.settings import ComplaintsSettings

    return ComplaintsSettings(business_time=False)


async def _step(clock, at, call, *args, **kw):
    clock.set(at)
    await call(*args, **kw)


async def _week(tenant, owner, monkeypatch):
    """The table above; returns the store, the staff and the complaints."""
    from plugins.complaints import workflow
    from plugins.complaints.praise import record_praise

    settings = _settings()
    store = await make_store(tenant, owner, "S1", DAILY)
    other = await make_store(tenant, owner, "S2", DAILY)
    li = await make_staff(tenant, owner, "li", "cashier", [store])
    wang = await make_staff(tenant, owner, "wang", "cashier", [store])
    zhao = await make_staff(tenant, owner, "zhao", "service_agent", [store])
    qian = await make_staff(tenant, owner, "qian", "service_agent", [store])
    clock = Clock(monkeypatch, local("2026-11-03", "10:00"))

    def explain(cid):
        return workflow.resolve(
            tenant,
            owner,
            settings,
            cid,
            resolution_type="explanation",
            resolution="解释并道歉",
            follow_up="call",
        )

    async def case(received, ack, resolved, **extra):
        cid = await file_complaint(
            tenant, owner, settings, store, received, handler_id=zhao, **extra
        )
        if ack:
            await _step(clock, ack, workflow.acknowledge, tenant, owner, settings, cid)
        if resolved:
            clock.set(resolved)
            await explain(cid)
        return cid

    quality = {"category": "goods.quality", "sku": "SKU-J", "product": "果汁 1L"}
    c0 = await case(
        local("2026-11-03", "10:00"),
        local("2026-11-03", "11:00"),
        local("2026-11-03", "12:00"),
        category="goods.quality",
    )
    c1 = await case(
        local("2026-11-09", "10:00"),
        local("2026-11-09", "11:00"),
        local("2026-11-09", "14:00"),
        **quality,
    )
    c2 = await file_complaint(
        tenant,
        owner,
        settings,
        store,
        local("2026-11-10", "09:00"),
        handler_id=zhao,
        channel="in_store",
        category="service.cashier.overcharge",
        staff_involved=[li],
    )
    await _step(
        clock, local("2026-11-11", "11:00"), workflow.acknowledge, tenant, owner, settings, c2
    )
    clock.set(local("2026-11-13", "10:00"))
    await workflow.resolve(
        tenant, owner, settings, c2, resolution_type="return", resolution="退款", follow_up="call"
    )
    c3 = await case(
        local("2026-11-11", "20:00"),
        local("2026-11-11", "22:00"),
        local("2026-11-12", "08:00"),
        **quality,
    )
    await _step(clock, local("2026-11-12", "12:00"), workflow.reopen, tenant, owner, settings, c3)
    clock.set(local("2026-11-12", "20:00"))
    await explain(c3)
    c4 = await file_complaint(
        tenant, owner, settings, store, local("2026-11-12", "23:30"), handler_id=qian, **quality
    )
    await file_complaint(
        tenant,
        owner,
        settings,
        store,
        local("2026-11-13", "10:00"),
        kind="suggestion",
        summary="希望增加停车位",
    )
    # another store's complaint about the same juice counts only for the chain
    await file_complaint(tenant, owner, settings, other, local("2026-11-10", "12:00"), **quality)
    for at, staff in (
        (local("2026-11-10", "12:00"), [li]),
        (local("2026-11-14", "16:00"), [li, wang]),
    ):
        await record_praise(
            tenant,
            owner,
            {
                "store_id": store,
                "staff_ids": staff,
                "channel": "in_store",
                "text": "服务热情",
                "received_at": at,
            },
            now=at,
        )
    return {
        "store": store,
        "other": other,
        "li": li,
        "wang": wang,
        "zhao": zhao,
        "qian": qian,
        "c": [c0, c1, c2, c3, c4],
    }


async def test_the_report_of_a_week_worked_out_by_hand(tenant, owner, monkeypatch):
    from plugins.complaints.reports import report

    w = await _week(tenant, owner, monkeypatch)
    found = await report(
        tenant,
        owner,
        _settings(),
        w["store"],
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 15),
        periods=1,
        now=local("2026-11-20", "12:00"),
    )
    now, before = found.periods
    assert (found.start, found.end) == (local("2026-11-09", "00:00"), local("2026-11-16", "00:00"))
    assert (before.start, before.end) == (
        local("2026-11-02", "00:00"),
        local("2026-11-09", "00:00"),
    )
    c = now.counts
    assert (c.received, c.suggestions, c.open) == (4, 1, 1)
    assert (c.ack_met, c.ack_missed, c.ack_hit_rate) == (2, 2, 50.0)
    assert (c.resolve_met, c.resolve_missed, c.resolve_hit_rate) == (2, 2, 50.0)
    assert (c.resolved, c.reopened, c.reopen_rate) == (3, 1, 33.3)
    assert (now.median_ack_hours, now.median_resolve_hours) == (2.0, 24.0)
    # on the store's 09:00-21:00 days: ack c1 1 h, c2 Tue 12 h + Wed 2 h = 14 h, c3 20:00-21:00
    # 1 h; resolve c1 4 h, c2 12 + 12 + 12 + 1 = 37 h, c3 Wed 1 h + Thu 09:00-20:00 11 h = 12 h
    assert (now.median_ack_business_hours, now.median_resolve_business_hours) == (1.0, 12.0)
    assert (before.median_ack_business_hours, before.median_resolve_business_hours) == (1.0, 2.0)
    assert now.praise == 2
    assert (before.counts.received, before.counts.resolve_hit_rate, before.counts.ack_hit_rate) == (
        1,
        100.0,
        100.0,
    )
    assert (before.median_ack_hours, before.median_resolve_hours, before.praise) == (1.0, 2.0, 0)
    by = {(b.dimension, b.key): b.count for b in found.breakdowns}
    assert by == {
        ("category", "goods.quality"): 3,
        ("category", "service.cashier.overcharge"): 1,
        ("channel", "phone"): 3,
        ("channel", "in_store"): 1,
        ("resolution", "explanation"): 2,
        ("resolution", "return"): 1,
        ("resolution", ""): 1,
    }
    [flag] = found.flagged
    assert (flag.sku, flag.product, flag.count, flag.store_ids) == (
        "SKU-J",
        "果汁 1L",
        3,
        (w["store"],),
    )
    assert (flag.first_at, flag.last_at) == (
        local("2026-11-09", "10:00"),
        local("2026-11-12", "23:30"),
    )
    assert [p["received_at"] for p in found.praise] == [
        local("2026-11-14", "16:00"),
        local("2026-11-10", "12:00"),
    ]


async def test_business_hour_medians_count_only_the_stores_open_hours(
    api, tenant, owner, make_key, enable_plugins, monkeypatch
):
    """Saturday 2026-12-05 20:30 at a store open 09:00-21:00: acknowledged Sunday 10:00 is
    0.5 + 1 = 1.5 business hours (13.5 clock hours), resolved Monday 10:00 is 0.5 + 12 + 1 =
    13.5 (37.5 clock). A second complaint at a store with a lunch break (09:00-12:00,
    13:00-21:00), received Monday 11:30 and acknowledged 14:00: 0.5 + 1 = 1.5 business hours
    (2.5 clock).
    The medians of the two: (1.5 + 1.5) / 2 and the one resolved, 13.5."""
    from plugins.complaints import workflow
    from plugins.complaints.reports import report

    await enable_plugins(tenant, "complaints", settings=CLOCK_TIME)
    settings = _settings()
    late = await make_store(tenant, owner, "S1", DAILY)
    lunch = await make_store(
        tenant, owner, "S2", {d: ["09:00-12:00", "13:00-21:00"] for d in DAILY}
    )
    clock = Clock(monkeypatch, local("2026-12-05", "20:30"))
    first = await file_complaint(tenant, owner, settings, late, local("2026-12-05", "20:30"))
    await _step(
        clock, local("2026-12-06", "10:00"), workflow.acknowledge, tenant, owner, settings, first
    )
    clock.set(local("2026-12-07", "10:00"))
    await workflow.resolve(
        tenant,
        owner,
        settings,
        first,
        resolution_type="explanation",
        resolution="已解释",
        follow_up="call",
    )
    second = await file_complaint(tenant, owner, settings, lunch, local("2026-12-07", "11:30"))
    await _step(
        clock, local("2026-12-07", "14:00"), workflow.acknowledge, tenant, owner, settings, second
    )

    def figures(found):
        f = found.periods[0]
        return (
            f.median_ack_hours,
            f.median_ack_business_hours,
            f.median_resolve_hours,
            f.median_resolve_business_hours,
        )

    days = (dt.date(2026, 12, 5), dt.date(2026, 12, 7))
    now = local("2026-12-08", "12:00")
    alone = await report(tenant, owner, settings, late, *days, periods=0, now=now)
    assert figures(alone) == (13.5, 1.5, 37.5, 13.5)
    both = await report(tenant, owner, settings, None, *days, periods=0, now=now)
    assert figures(both) == (8.0, 1.5, 37.5, 13.5)  # clock: (13.5 + 2.5) / 2
    body = await api.gql(
        REPORT,
        {"s": to_global_id("Store", lunch), "f": "2026-12-05", "t": "2026-12-07", "n": 0},
        key=await make_key(tenant),
    )
    got = body["data"]["complaintReport"]["figures"]
    assert (
        got["medianAcknowledgeHours"],
        got["medianAcknowledgeBusinessHours"],
        got["medianResolveBusinessHours"],
    ) == (2.5, 1.5, None)


async def test_the_chain_report_counts_every_store_and_flags_by_setting(tenant, owner, monkeypatch):
    from plugins.complaints.reports import report
    from plugins.complaints.settings import ComplaintsSettings

    await _week(tenant, owner, monkeypatch)
    strict = ComplaintsSettings(business_time=False, sku_flag_count=5)
    chain = await report(
        tenant,
        owner,
        _settings(),
        None,
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 15),
        periods=0,
        now=local("2026-11-20", "12:00"),
    )
    assert chain.current.counts.received == 5 and len(chain.periods) == 1
    [flag] = chain.flagged
    assert flag.count == 4 and len(flag.store_ids) == 2
    unflagged = await report(
        tenant,
        owner,
        strict,
        None,
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 15),
        periods=0,
        now=local("2026-11-20", "12:00"),
    )
    assert unflagged.flagged == []
    # the window is the setting's: 30 days before the period's end, so a month later it is gone
    later = await report(
        tenant,
        owner,
        _settings(),
        None,
        dt.date(2026, 12, 14),
        dt.date(2026, 12, 20),
        periods=0,
        now=local("2026-12-21", "12:00"),
    )
    assert later.flagged == []


async def test_the_register_of_a_day_in_the_stores_timezone(tenant, owner, monkeypatch):
    from plugins.complaints import workflow
    from plugins.complaints.damage import record_damage
    from plugins.complaints.praise import record_praise
    from plugins.complaints.reports import register

    settings = _settings()
    store = await make_store(tenant, owner, "S1", DAILY)
    other = await make_store(tenant, owner, "S2", DAILY)
    li = await make_staff(tenant, owner, "li", "cashier", [store])
    clock = Clock(monkeypatch, local("2026-11-07", "20:30"))

    async def filed(at, **extra):
        return await file_complaint(tenant, owner, settings, store, at, **extra)

    r4 = await filed(local("2026-11-07", "20:00"))  # resolve due Tue 20:00: due that day
    await workflow.acknowledge(tenant, owner, settings, r4)
    r0 = await filed(local("2026-11-09", "10:00"))  # never acknowledged: overdue since Tue 10:00
    r1 = await filed(local("2026-11-09", "23:50"))  # Monday's, acknowledged
    await _step(
        clock, local("2026-11-10", "00:30"), workflow.acknowledge, tenant, owner, settings, r1
    )
    r2 = await filed(local("2026-11-10", "00:10"))  # Tuesday's, though Monday in UTC
    r3 = await filed(local("2026-11-10", "09:00"), summary="等顾客提供小票")
    await _step(
        clock, local("2026-11-10", "09:30"), workflow.acknowledge, tenant, owner, settings, r3
    )
    await _step(clock, local("2026-11-10", "10:00"), workflow.wait, tenant, owner, settings, r3)
    r5 = await filed(local("2026-11-10", "11:00"), kind="suggestion", summary="增加停车位")
    await file_complaint(tenant, owner, settings, other, local("2026-11-10", "11:00"))
    for at in (local("2026-11-09", "12:00"), local("2026-11-10", "12:00")):
        await record_praise(
            tenant,
            owner,
            {
                "store_id": store,
                "staff_ids": [li],
                "channel": "phone",
                "text": "耐心",
                "received_at": at,
            },
            now=at,
        )
    damage = await record_damage(
        tenant,
        owner,
        {
            "store_id": store,
            "sku": "SKU-CUP",
            "product": "保温杯",
            "responsibility": "customer",
            "settlement": "照价赔偿",
            "settlement_amount": "159.00",
            "occurred_at": local("2026-11-10", "13:00"),
        },
        now=local("2026-11-10", "13:05"),
    )

    day = await register(
        tenant, owner, settings, store, dt.date(2026, 11, 10), now=local("2026-11-10", "15:00")
    )
    assert (day.timezone, day.workday) == ("Asia/Shanghai", True)
    assert (day.start, day.end) == (local("2026-11-10", "00:00"), local("2026-11-11", "00:00"))
    assert [r["id"] for r in day.complaints] == [r2, r3, r5]
    assert [(a.row["id"], a.reasons) for a in day.attention] == [
        (r4, ("due_today",)),
        (r0, ("overdue",)),
        (r3, ("waiting",)),
    ]
    assert [p["received_at"] for p in day.praise] == [local("2026-11-10", "12:00")]
    assert [(d["id"], str(d["settlement_amount"])) for d in day.damages] == [(damage, "159.00")]
    assert r1 not in [r["id"] for r in day.complaints]
    # the day after, seen at its end: r2 (acknowledge due Wed 00:10) is overdue too
    wednesday = await register(
        tenant, owner, settings, store, dt.date(2026, 11, 11), now=local("2026-11-12", "09:00")
    )
    reasons = {a.row["id"]: a.reasons for a in wednesday.attention}
    assert reasons[r2] == ("overdue",) and reasons[r3] == ("waiting",) and r1 not in reasons
    assert wednesday.complaints == [] and wednesday.praise == [] and wednesday.damages == []


REGISTER = """query($s: ID!, $d: Date!, $n: Int) { complaintRegister(storeId: $s, date: $d) {
  storeId date timezone workday
  complaints(first: $n) { nodes { id summary receiverId handlerId receivedAt } }
  actionNeeded { complaint { id } reasons }
  praise { nodes { text staffIds } } damages { nodes { sku settlementAmount } }
  flaggedProducts { sku count } } }"""
REPORT = """query($s: ID, $f: Date!, $t: Date!, $n: Int!) {
  complaintReport(storeId: $s, from: $f, to: $t, periods: $n) {
    storeId timezone
    figures { firstDay lastDay received suggestions open acknowledgeHitRate resolveHitRate
              medianAcknowledgeHours medianResolveHours medianAcknowledgeBusinessHours
              medianResolveBusinessHours reopenRate praise }
    byCategory { key name count } byChannel { key name count } byResolution { key name count }
    praise { nodes { text } pageInfo { hasNextPage } } flaggedProducts { sku product count storeIds }
    trend { firstDay lastDay received resolveHitRate } } }"""


async def test_the_report_over_graphql_and_store_scope(
    api, tenant, owner, make_key, enable_plugins, monkeypatch
):
    await enable_plugins(tenant, "complaints", settings=CLOCK_TIME)
    w = await _week(tenant, owner, monkeypatch)
    store, other = to_global_id("Store", w["store"]), to_global_id("Store", w["other"])
    hq = await make_key(tenant)
    week = {"s": store, "f": "2026-11-09", "t": "2026-11-15", "n": 2}
    body = await api.gql(REPORT, week, key=hq)
    assert "errors" not in body, body
    got = body["data"]["complaintReport"]
    assert got["figures"] == {
        "firstDay": "2026-11-09",
        "lastDay": "2026-11-15",
        "received": 4,
        "suggestions": 1,
        "open": 1,
        "acknowledgeHitRate": 50.0,
        "resolveHitRate": 50.0,
        "medianAcknowledgeHours": 2.0,
        "medianResolveHours": 24.0,
        "medianAcknowledgeBusinessHours": 1.0,
        "medianResolveBusinessHours": 12.0,
        "reopenRate": 33.3,
        "praise": 2,
    }
    assert got["byCategory"] == [
        {"key": "goods.quality", "name": "商品质量低劣", "count": 3},
        {"key": "service.cashier.overcharge", "name": "多收款", "count": 1},
    ]
    assert got["byChannel"][0] == {"key": "phone", "name": "电话", "count": 3}
    assert {r["key"]: r["count"] for r in got["byResolution"]} == {
        "explanation": 2,
        "return": 1,
        "": 1,
    }
    assert got["flaggedProducts"] == [
        {"sku": "SKU-J", "product": "果汁 1L", "count": 3, "storeIds": [store]}
    ]
    assert got["trend"] == [
        {"firstDay": "2026-10-26", "lastDay": "2026-11-01", "received": 0, "resolveHitRate": None},
        {"firstDay": "2026-11-02", "lastDay": "2026-11-08", "received": 1, "resolveHitRate": 100.0},
    ]
    assert got["praise"] == {
        "nodes": [{"text": "服务热情"}, {"text": "服务热情"}],
        "pageInfo": {"hasNextPage": False},
    }
    paged = """query($s: ID, $a: String) { complaintReport(storeId: $s, from: "2026-11-09", to: "2026-11-15") {
      praise(first: 1, after: $a) { nodes { receivedAt } pageInfo { hasNextPage endCursor } } } }"""
    one = (await api.gql(paged, {"s": store}, key=hq))["data"]["complaintReport"]["praise"]
    assert one["nodes"] == [{"receivedAt": "2026-11-14T08:00:00+00:00"}]
    assert one["pageInfo"]["hasNextPage"] is True
    two = await api.gql(paged, {"s": store, "a": one["pageInfo"]["endCursor"]}, key=hq)
    rest = two["data"]["complaintReport"]["praise"]
    assert rest["nodes"] == [{"receivedAt": "2026-11-10T04:00:00+00:00"}]
    assert rest["pageInfo"]["hasNextPage"] is False
    # the chain, for HQ
    chain = await api.gql(REPORT, {**week, "s": None}, key=hq)
    assert chain["data"]["complaintReport"]["figures"]["received"] == 5
    # a store manager: their store, not the other's (null), not the chain (a typed error)
    manager = await make_key(tenant, role="store_manager", store_id=w["store"])
    mine = await api.gql(REPORT, week, key=manager)
    assert mine["data"]["complaintReport"]["figures"]["received"] == 4
    assert (await api.gql(REPORT, {**week, "s": other}, key=manager))["data"] == {
        "complaintReport": None
    }
    refused = await api.gql(REPORT, {**week, "s": None}, key=manager)
    assert refused["errors"][0]["extensions"]["code"] == "store_required"
    backwards = await api.gql(REPORT, {**week, "f": "2026-11-16"}, key=hq)
    assert backwards["errors"][0]["extensions"]["code"] == "invalid_period"
    # the register of Tuesday, by the store manager; the other store's is null
    tuesday = await api.gql(REGISTER, {"s": store, "d": "2026-11-10"}, key=manager)
    day = tuesday["data"]["complaintRegister"]
    assert [c["id"] for c in day["complaints"]["nodes"]] == [to_global_id("Complaint", w["c"][2])]
    assert day["complaints"]["nodes"][0]["handlerId"] == to_global_id("Staff", w["zhao"])
    assert day["praise"]["nodes"] == [
        {"text": "服务热情", "staffIds": [to_global_id("Staff", w["li"])]}
    ]
    assert day["flaggedProducts"] == []  # one complaint about SKU-J at S1 by Tuesday's end
    assert (await api.gql(REGISTER, {"s": other, "d": "2026-11-10"}, key=manager))["data"] == {
        "complaintRegister": None
    }
    thursday = await api.gql(REGISTER, {"s": store, "d": "2026-11-12"}, key=manager)
    assert thursday["data"]["complaintRegister"]["flaggedProducts"] == [
        {"sku": "SKU-J", "count": 3}
    ]


KPIS = """query($s: ID) { kpis(from: "2026-11-09T00:00:00+08:00", to: "2026-11-16T00:00:00+08:00", storeId: $s) {
  modules { module key value } } }"""
STAFF = """query($s: ID, $r: String!) { staffKpis(from: "2026-11-09T00:00:00+08:00", to: "2026-11-16T00:00:00+08:00", storeId: $s, rankBy: $r) {
  rank staff { login } values { module key value } } }"""


async def test_kpis_and_staff_kpis(api, tenant, owner, make_key, enable_plugins, monkeypatch):
    await enable_plugins(tenant, "complaints", settings=CLOCK_TIME)
    w = await _week(tenant, owner, monkeypatch)
    key = await make_key(tenant)
    store = to_global_id("Store", w["store"])
    body = await api.gql(KPIS, {"s": store}, key=key)
    assert "errors" not in body, body
    got = {
        m["key"]: m["value"] for m in body["data"]["kpis"]["modules"] if m["module"] == "complaints"
    }
    assert got == {
        "complaints_received": 4,
        "complaints_resolved": 3,  # c1, c2, c3 (c0 was resolved the week before)
        "complaint_sla_hit_rate": 50.0,
        "complaint_ack_hit_rate": 50.0,
        "complaint_median_resolve_hours": 24.0,
        "complaint_median_ack_hours": 2.0,
        "complaint_reopen_rate": 33.3,
        "praise_received": 2,
    }
    body = await api.gql(STAFF, {"s": store, "r": "complaints.praise_received"}, key=key)
    assert "errors" not in body, body
    rows = {
        r["staff"]["login"]: (
            r["rank"],
            {v["key"]: v["value"] for v in r["values"] if v["module"] == "complaints"},
        )
        for r in body["data"]["staffKpis"]
    }
    assert rows["li"] == (1, {"praise_received": 2, "complaints_received": 1})
    assert rows["wang"] == (2, {"praise_received": 1})
    assert rows["zhao"][1] == {
        "complaints_resolved": 3,
        "complaint_sla_hit_rate": 66.7,  # c1, c3 in time, c2 late
        "complaint_ack_hit_rate": 66.7,
        "complaint_median_resolve_hours": 24.0,
    }
    assert rows["qian"][1] == {"complaint_sla_hit_rate": 0.0, "complaint_ack_hit_rate": 0.0}
    ranked = await api.gql(STAFF, {"s": store, "r": "complaints.complaint_sla_hit_rate"}, key=key)
    assert [r["staff"]["login"] for r in ranked["data"]["staffKpis"]][:2] == ["zhao", "qian"]


async def test_the_weekly_report_section_renders(
    tenant, owner, runtime, enable_plugins, monkeypatch
):
    from core.reports import render_html, weekly_report

    await enable_plugins(tenant, "complaints", settings=CLOCK_TIME)
    w = await _week(tenant, owner, monkeypatch)
    report = await weekly_report(
        tenant,
        owner,
        w["store"],
        dt.date(2026, 11, 9),
        runtime=runtime,
        now=local("2026-11-20", "12:00"),
    )
    [section] = [s for s in report.sections if s.key == "complaints.complaints"]
    assert not section.failed
    figures = {f.key: (f.value, f.previous) for f in section.data.figures}
    assert figures == {
        "received": (4, 1),
        "resolve_sla": (0.5, 1.0),
        "ack_sla": (0.5, 1.0),
        "median_ack_hours": (2.0, 1.0),
        "median_resolve_hours": (24.0, 2.0),
        "reopen_rate": (0.333, 0.0),
        "praise": (2, 0),
    }
    tables = {t.key: t for t in section.data.tables}
    assert set(tables) == {"main_complaints", "handling", "praise", "flagged_products"}
    assert [r[:2] for r in tables["main_complaints"].rows] == [["商品质量低劣", 3], ["多收款", 1]]
    assert [r[2:] for r in tables["praise"].rows] == [["li、wang", "服务热情"], ["li", "服务热情"]]
    assert tables["flagged_products"].rows == [
        ["SKU-J", "果汁 1L", 3, dt.date(2026, 11, 9), dt.date(2026, 11, 12), "门店 S1"]
    ]
    html = render_html(report, "zh-CN")
    assert "顾客投诉与表扬" in html and "需反馈供应商的商品" in html and "SKU-J" in html
    assert "表扬（例会通报）" in html and "li、wang" in html
