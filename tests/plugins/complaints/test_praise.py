"""Praise (表扬) and damaged goods through GraphQL: recorded, listed newest first with cursors
and filters, seen only within a store-scoped caller's stores; bad input is a typed error with
nothing written; a retry with the same key records once; isolation between tenants and the
disabled plugin (its fields are absent)."""

from __future__ import annotations

import pytest

from core import to_global_id

pytestmark = pytest.mark.usefixtures("db")

PRAISE = """mutation($i: PraiseRecordInput!) { praiseRecord(input: $i) {
  praise { id storeId staffIds channel text customerId contactName contactPhone receivedAt recordedBy }
  errors { field code } } }"""
DAMAGE = """mutation($i: DamageRecordInput!) { damageRecord(input: $i) {
  damage { id storeId sku product occurredAt customerHurt injury responsibility settlement
           settlementAmount complaintId customerId }
  errors { field code } } }"""
LIST = """query($n: Int!, $a: String, $f: PraiseFilter) { praises(first: $n, after: $a, filter: $f) {
  nodes { text receivedAt } pageInfo { hasNextPage endCursor } } }"""


async def _data(api, doc, variables, key):
    body = await api.gql(doc, variables, key=key)
    assert "errors" not in body, body
    (result,) = body["data"].values()
    return result


async def _count(tenant, table):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(f"SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = {{}}", tenant.id)
    return int(rows[0]["n"])


async def _shop(tenant, owner):
    """Two stores, each with a cashier; a chain-wide agent."""
    from tests.plugins.complaints.sla_helpers import make_staff, make_store

    one = await make_store(tenant, owner, "S1", None)
    two = await make_store(tenant, owner, "S2", None)
    li = await make_staff(tenant, owner, "li", "cashier", [one])
    wang = await make_staff(tenant, owner, "wang", "cashier", [two])
    agent = await make_staff(tenant, owner, "agent", "service_agent", [])
    return one, two, li, wang, agent


def _gid(kind, *ids):
    return [to_global_id(kind, i) for i in ids]


async def test_praise_is_recorded_and_listed_newest_first(
    api, tenant, owner, make_key, enable_plugins
):
    from core.customers import create_customer

    await enable_plugins(tenant, "complaints")
    key = await make_key(tenant)
    one, two, li, wang, agent = await _shop(tenant, owner)
    customer = await create_customer(tenant, owner, {"name": "王女士"})
    [s1, s2] = _gid("Store", one, two)
    made = await _data(
        api,
        PRAISE,
        {
            "i": {
                "storeId": s1,
                "staffIds": _gid("Staff", li, agent),
                "channel": "LETTER",
                "text": " 收银员耐心找零，态度很好 ",
                "customerId": to_global_id("Customer", customer.id),
                "contactName": "王女士",
                "contactPhone": "13912345678",
                "receivedAt": "2026-11-10T12:00:00+08:00",
            }
        },
        key,
    )
    assert made["errors"] == []
    p = made["praise"]
    assert p["storeId"] == s1 and p["staffIds"] == _gid("Staff", li, agent)
    assert (p["channel"], p["text"], p["contactName"], p["contactPhone"]) == (
        "LETTER",
        "收银员耐心找零，态度很好",
        "王女士",
        "139****5678",
    )
    assert p["receivedAt"] == "2026-11-10T04:00:00+00:00"
    assert p["recordedBy"].startswith("api_key:")
    for day, store, staff in (("11", s2, wang), ("12", s1, li)):
        await _data(
            api,
            PRAISE,
            {
                "i": {
                    "storeId": store,
                    "staffIds": _gid("Staff", staff),
                    "channel": "IN_STORE",
                    "text": f"11-{day}",
                    "receivedAt": f"2026-11-{day}T12:00:00+08:00",
                }
            },
            key,
        )
    page = await _data(api, LIST, {"n": 2}, key)
    assert [n["text"] for n in page["nodes"]] == ["11-12", "11-11"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await _data(api, LIST, {"n": 2, "a": page["pageInfo"]["endCursor"]}, key)
    assert [n["text"] for n in rest["nodes"]] == ["收银员耐心找零，态度很好"]
    assert rest["pageInfo"]["hasNextPage"] is False

    async def texts(f):
        return [n["text"] for n in (await _data(api, LIST, {"n": 10, "f": f}, key))["nodes"]]

    assert await texts({"storeId": s1}) == ["11-12", "收银员耐心找零，态度很好"]
    assert await texts({"staffId": to_global_id("Staff", agent)}) == ["收银员耐心找零，态度很好"]
    assert await texts({"staffId": to_global_id("Staff", wang)}) == ["11-11"]
    assert await texts(
        {"receivedFrom": "2026-11-11T00:00:00+08:00", "receivedTo": "2026-11-12T00:00:00+08:00"}
    ) == ["11-11"]
    node = await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": p["id"]}, key=key)
    assert node["data"]["node"] == {"id": p["id"]}


async def test_a_store_manager_sees_and_records_only_their_stores_praise(
    api, tenant, owner, make_key, enable_plugins
):
    from plugins.complaints.praise import record_praise

    await enable_plugins(tenant, "complaints")
    one, two, li, wang, _agent = await _shop(tenant, owner)
    for store, staff in ((one, li), (two, wang)):
        await record_praise(
            tenant,
            owner,
            {"store_id": store, "staff_ids": [staff], "channel": "phone", "text": str(staff)},
        )
    manager = await make_key(tenant, role="store_manager", store_id=one)
    seen = await _data(api, LIST, {"n": 10}, manager)
    assert [n["text"] for n in seen["nodes"]] == [str(li)]
    other = await _data(api, LIST, {"n": 10, "f": {"storeId": to_global_id("Store", two)}}, manager)
    assert other["nodes"] == []
    refused = await _data(
        api,
        PRAISE,
        {
            "i": {
                "storeId": to_global_id("Store", two),
                "staffIds": _gid("Staff", wang),
                "channel": "PHONE",
                "text": "x",
            }
        },
        manager,
    )
    assert refused == {"praise": None, "errors": [{"field": "storeId", "code": "not_found"}]}
    assert await _count(tenant, "complaints_praise") == 2


async def test_bad_praise_is_a_typed_error_and_nothing_is_written(
    api, tenant, other_tenant, owner, make_key, enable_plugins
):
    from tests.plugins.complaints.sla_helpers import make_staff

    await enable_plugins(tenant, "complaints")
    key = await make_key(tenant)
    one, _two, li, wang, _agent = await _shop(tenant, owner)
    stranger = await make_staff(other_tenant, owner, "stranger", "cashier")
    base = {
        "storeId": to_global_id("Store", one),
        "staffIds": _gid("Staff", li),
        "channel": "PHONE",
        "text": "好",
    }
    cases = [
        ({"text": "  "}, ("text", "invalid")),
        ({"text": "好" * 4001}, ("text", "invalid")),
        ({"staffIds": []}, ("staffIds", "invalid")),
        ({"staffIds": _gid("Staff", wang)}, ("staffIds", "not_in_store")),
        ({"staffIds": _gid("Staff", stranger)}, ("staffIds", "not_found")),
        ({"staffIds": ["bm9wZQ"]}, ("staffIds", "not_found")),
        ({"storeId": to_global_id("Customer", one)}, ("storeId", "not_found")),
        ({"contactPhone": "12"}, ("contactPhone", "invalid_phone")),
        ({"receivedAt": "2099-01-01T00:00:00+08:00"}, ("receivedAt", "out_of_range")),
        ({"customerId": to_global_id("Customer", one)}, ("customerId", "not_found")),
    ]
    for change, (field, code) in cases:
        got = await _data(api, PRAISE, {"i": {**base, **change}}, key)
        assert got["praise"] is None, change
        assert [(e["field"], e["code"]) for e in got["errors"]] == [(field, code)], change
    assert await _count(tenant, "complaints_praise") == 0
    # a retry with the same key records once
    again = {**base, "idempotencyKey": "praise-1"}
    first = await _data(api, PRAISE, {"i": again}, key)
    second = await _data(api, PRAISE, {"i": again}, key)
    assert first["praise"]["id"] == second["praise"]["id"]
    assert await _count(tenant, "complaints_praise") == 1


async def test_damaged_goods_are_recorded_with_responsibility_and_settlement(
    api, tenant, owner, make_key, enable_plugins
):
    from plugins.complaints.records import create_complaint
    from plugins.complaints.settings import ComplaintsSettings

    await enable_plugins(tenant, "complaints")
    key = await make_key(tenant)
    one, two, *_ = await _shop(tenant, owner)
    complaint = await create_complaint(
        tenant,
        owner,
        ComplaintsSettings(),
        {"channel": "in_store", "summary": "碰碎杯子", "store_id": one},
    )
    elsewhere = await create_complaint(
        tenant,
        owner,
        ComplaintsSettings(),
        {"channel": "in_store", "summary": "x", "store_id": two},
    )
    s1 = to_global_id("Store", one)
    made = await _data(
        api,
        DAMAGE,
        {
            "i": {
                "storeId": s1,
                "sku": "SKU-CUP",
                "product": "保温杯",
                "occurredAt": "2026-11-10T13:00:00+08:00",
                "customerHurt": True,
                "injury": "手指划伤，已包扎",
                "responsibility": "STORE",
                "settlement": "店方承担，赠购物卡",
                "settlementAmount": "50.00",
                "complaintId": to_global_id("Complaint", complaint.id),
            }
        },
        key,
    )
    assert made["errors"] == []
    d = made["damage"]
    assert {
        k: d[k] for k in ("storeId", "sku", "customerHurt", "responsibility", "settlementAmount")
    } == {
        "storeId": s1,
        "sku": "SKU-CUP",
        "customerHurt": True,
        "responsibility": "STORE",
        "settlementAmount": "50.00",
    }
    assert d["complaintId"] == to_global_id("Complaint", complaint.id)
    assert d["occurredAt"] == "2026-11-10T05:00:00+00:00"
    base = {"storeId": s1, "sku": "SKU-CUP"}
    cases = [
        ({"sku": ""}, ("sku", "required")),
        ({"settlementAmount": "1.234"}, ("settlementAmount", "invalid_amount")),
        ({"settlementAmount": "-1"}, ("settlementAmount", "out_of_range")),
        ({"injury": "擦伤"}, ("injury", "invalid")),
        ({"complaintId": to_global_id("Complaint", elsewhere.id)}, ("complaintId", "other_store")),
        ({"complaintId": to_global_id("Store", one)}, ("complaintId", "not_found")),
        ({"storeId": to_global_id("Store", complaint.id)}, ("storeId", "not_found")),
        ({"occurredAt": "2099-01-01T00:00:00Z"}, ("occurredAt", "out_of_range")),
    ]
    for change, (field, code) in cases:
        got = await _data(api, DAMAGE, {"i": {**base, **change}}, key)
        assert got["damage"] is None, change
        assert [(e["field"], e["code"]) for e in got["errors"]] == [(field, code)], change
    assert await _count(tenant, "complaints_damage") == 1


DAMAGES = """query($n: Int!, $a: String, $f: DamageFilter) { damages(first: $n, after: $a, filter: $f) {
  nodes { id sku storeId occurredAt customerHurt responsibility settlementAmount }
  pageInfo { hasNextPage endCursor } } }"""


async def test_damages_are_listed_newest_first_with_filters_and_store_scope(
    api, tenant, owner, make_key, enable_plugins
):
    from plugins.complaints.damage import record_damage

    await enable_plugins(tenant, "complaints")
    key = await make_key(tenant)
    one, two, *_ = await _shop(tenant, owner)
    for sku, store, day, hurt, who in (
        ("D-1", one, "10", False, "customer"),
        ("D-2", two, "11", True, "store"),
        ("D-3", one, "12", False, "supplier"),
        ("D-4", one, "12", True, "store"),  # the same instant as D-3: the id breaks the tie
    ):
        await record_damage(
            tenant,
            owner,
            {
                "store_id": store,
                "sku": sku,
                "occurred_at": f"2026-11-{day}T10:00:00+08:00",
                "customer_hurt": hurt,
                "responsibility": who,
                "settlement_amount": "12.50",
            },
        )
    every = await _data(api, DAMAGES, {"n": 10}, key)
    skus = [n["sku"] for n in every["nodes"]]
    assert sorted(skus[:2]) == ["D-3", "D-4"] and skus[2:] == ["D-2", "D-1"]
    assert every["nodes"][2]["storeId"] == to_global_id("Store", two)
    assert every["nodes"][2]["occurredAt"] == "2026-11-11T02:00:00+00:00"
    assert every["nodes"][2]["settlementAmount"] == "12.50"
    paged, after = [], None
    while True:
        page = await _data(api, DAMAGES, {"n": 1, "a": after}, key)
        paged += [n["sku"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == skus  # one at a time, none twice, none lost (the tie included)

    async def found(f):
        return [n["sku"] for n in (await _data(api, DAMAGES, {"n": 10, "f": f}, key))["nodes"]]

    assert sorted(await found({"storeId": to_global_id("Store", one)})) == ["D-1", "D-3", "D-4"]
    assert sorted(await found({"customerHurt": True})) == ["D-2", "D-4"]
    assert await found({"responsibility": "SUPPLIER"}) == ["D-3"]
    assert await found(
        {"occurredFrom": "2026-11-11T00:00:00+08:00", "occurredTo": "2026-11-12T00:00:00+08:00"}
    ) == ["D-2"]

    manager = await make_key(tenant, role="store_manager", store_id=two)
    assert [n["sku"] for n in (await _data(api, DAMAGES, {"n": 10}, manager))["nodes"]] == ["D-2"]
    theirs = {"storeId": to_global_id("Store", one)}
    assert (await _data(api, DAMAGES, {"n": 10, "f": theirs}, manager))["nodes"] == []

    bad = await api.gql(DAMAGES, {"n": 10, "a": "not a cursor!"}, key=key)
    assert bad["data"] is None and "malformed cursor" in bad["errors"][0]["message"]
    too_many = await api.gql(DAMAGES, {"n": 101}, key=key)
    assert too_many["data"] is None and "first" in too_many["errors"][0]["message"]


async def test_isolation_and_the_disabled_plugin(
    api, tenant, other_tenant, owner, make_key, enable_plugins
):
    from core.plugins import get_runtime
    from plugins.complaints.praise import record_praise
    from tenants.modules import disable_module

    await enable_plugins(tenant, "complaints")
    one, _two, li, *_ = await _shop(tenant, owner)
    praise = await record_praise(
        tenant, owner, {"store_id": one, "staff_ids": [li], "channel": "phone", "text": "好"}
    )
    await enable_plugins(other_tenant, "complaints")
    other = await make_key(other_tenant)
    gid = to_global_id("ComplaintPraise", praise)
    assert (await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid}, key=other))[
        "data"
    ] == {"node": None}
    assert (await _data(api, LIST, {"n": 10}, other))["nodes"] == []
    from plugins.complaints.damage import record_damage

    await record_damage(tenant, owner, {"store_id": one, "sku": "SKU-1"})
    assert (await _data(api, DAMAGES, {"n": 10}, other))["nodes"] == []
    register = 'query($s: ID!) { complaintRegister(storeId: $s, date: "2026-11-10") { date } }'
    body = await api.gql(register, {"s": to_global_id("Store", one)}, key=other)
    assert body["data"] == {"complaintRegister": None}
    foreign = await _data(
        api,
        PRAISE,
        {
            "i": {
                "storeId": to_global_id("Store", one),
                "staffIds": _gid("Staff", li),
                "channel": "PHONE",
                "text": "x",
            }
        },
        other,
    )
    assert foreign["errors"] == [{"field": "storeId", "code": "not_found"}]
    assert await _count(other_tenant, "complaints_praise") == 0

    await disable_module(other_tenant, owner, get_runtime(), "complaints")
    for field, doc in (
        ("praises", "query { praises { nodes { id } } }"),
        ("damages", "query { damages { nodes { id } } }"),
        (
            "complaintRegister",
            'query { complaintRegister(storeId: "x", date: "2026-11-10") { date } }',
        ),
        (
            "complaintReport",
            'query { complaintReport(from: "2026-11-09", to: "2026-11-15") { timezone } }',
        ),
        (
            "praiseRecord",
            'mutation { praiseRecord(input: {storeId: "x", staffIds: [], channel: PHONE, text: "y"}) { errors { code } } }',
        ),
        (
            "damageRecord",
            'mutation { damageRecord(input: {storeId: "x", sku: "y"}) { errors { code } } }',
        ),
    ):
        body = await api.gql(doc, key=other)
        assert "errors" in body and field in body["errors"][0]["message"], (doc, body)
