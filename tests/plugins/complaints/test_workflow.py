"""Seed 003's procedure end to end through GraphQL: a complaint filed by phone, acknowledged,
assigned, resolved with 50 points paid by loyalty once, a "dissatisfied" follow-up that reopens
and escalates it (a second one to HQ); bad input is a typed error with nothing written;
visibility (store scope, HQ-only media complaints), isolation and the disabled plugin."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from core import from_global_id, to_global_id

pytestmark = pytest.mark.usefixtures("db")

FIELDS = (
    "id number state kind channel level storeId hqOnly contactPhone compensationPoints "
    "acknowledgeDueAt resolveDueAt overdue reopenCount satisfied followUp "
    "timeline { action step note } escalations { stage trigger level notifiedStaffIds }"
)
CREATE = (
    "mutation($i: ComplaintCreateInput!) { complaintCreate(input: $i) { complaint { "
    + FIELDS
    + " } errors { field code message } } }"
)


def _op(name: str) -> str:
    field = name[0].lower() + name[1:]
    return (
        f"mutation($i: {name}Input!) {{ {field}(input: $i) {{ complaint {{ {FIELDS} }} "
        "errors { field code message } } }"
    )


async def _ok(api, doc, variables, key):
    body = await api.gql(doc, variables, key=key)
    assert "errors" not in body, body
    (result,) = body["data"].values()
    return result


async def _staff(tenant, owner, role, stores, login):
    from tenants.credentials import create_staff

    return await create_staff(
        tenant,
        owner,
        {
            "login": login,
            "name": login,
            "password": "correct horse battery",
            "role": role,
            "store_ids": stores,
            "email": f"{login}@example.com",
        },
    )


async def _count(tenant, table):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(f"SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = {{}}", tenant.id)
    return int(rows[0]["n"])


async def test_the_procedure_end_to_end(
    api, tenant, owner, store, make_key, enable_plugins, deliver_events
):
    from core.customers import create_customer
    from core.db import fetch, tenant_tx

    await enable_plugins(tenant, "complaints", "loyalty")
    key = await make_key(tenant)
    manager = await _staff(tenant, owner, "store_manager", [store], "mgr")
    hq = await _staff(tenant, owner, "hq_manager", [], "hq")
    handler = await _staff(tenant, owner, "service_agent", [store], "agent")
    customer = await create_customer(tenant, owner, {"name": "王女士", "phone": "13912345678"})

    made = await _ok(
        api,
        CREATE,
        {
            "i": {
                "channel": "PHONE",
                "summary": "收银多收款",
                "category": "service.cashier.overcharge",
                "storeId": to_global_id("Store", store),
                "contactPhone": "13912345678",
                "contactName": "王女士",
                "sku": "SKU-1",
            }
        },
        key,
    )
    assert made["errors"] == []
    c = made["complaint"]
    assert (c["state"], c["channel"], c["level"], c["hqOnly"]) == ("RECEIVED", "PHONE", 0, False)
    assert c["contactPhone"] == "139****5678"  # masked
    assert [t["step"] for t in c["timeline"]] == ["RECEIVE"]
    assert c["acknowledgeDueAt"] and c["resolveDueAt"] and not c["overdue"]
    cid = c["id"]

    # the caller becomes the customer: linked by the phone
    linked = await _ok(api, _op("ComplaintCustomerLink"), {"i": {"id": cid}}, key)
    assert linked["errors"] == []
    # resolving before acknowledging/assigning? received → resolved is not a step
    bad = await _ok(
        api,
        _op("ComplaintResolve"),
        {"i": {"id": cid, "resolutionType": "COMPENSATION", "resolution": "补偿"}},
        key,
    )
    assert bad["complaint"] is None and bad["errors"][0]["code"] == "invalid_state"

    ack = await _ok(api, _op("ComplaintAcknowledge"), {"i": {"id": cid, "note": "感谢反映"}}, key)
    assert ack["complaint"]["state"] == "ACKNOWLEDGED"
    assigned = await _ok(
        api,
        _op("ComplaintAssign"),
        {"i": {"id": cid, "handlerId": to_global_id("Staff", handler)}},
        key,
    )
    assert assigned["complaint"]["state"] == "IN_PROGRESS"
    resolved = await _ok(
        api,
        _op("ComplaintResolve"),
        {
            "i": {
                "id": cid,
                "resolutionType": "COMPENSATION",
                "resolution": "退还多收款并补偿积分",
                "compensationPoints": 50,
                "followUp": "CALL",
            }
        },
        key,
    )
    assert resolved["errors"] == []
    assert resolved["complaint"]["state"] == "RESOLVED"
    assert resolved["complaint"]["compensationPoints"] == 50
    await deliver_events(tenant)
    await deliver_events(tenant)  # a redelivery pays nothing twice
    async with tenant_tx(tenant.id, write=False):
        entries = await fetch(
            "SELECT points FROM loyalty_entry WHERE tenant_id = {} AND customer_id = {} "
            "AND source = 'complaints'",
            tenant.id,
            customer.id,
        )
    assert [int(e["points"]) for e in entries] == [50]

    # dissatisfied: reopened, escalated one level (to the store's manager)
    first = await _ok(api, _op("ComplaintFollowUp"), {"i": {"id": cid, "satisfied": False}}, key)
    c = first["complaint"]
    assert (c["state"], c["reopenCount"], c["level"], c["satisfied"]) == (
        "IN_PROGRESS",
        1,
        1,
        False,
    )
    assert [(e["stage"], e["trigger"], e["level"]) for e in c["escalations"]] == [
        ("follow_up", "dissatisfied", 1)
    ]
    told = {from_global_id(s, "Staff") for s in c["escalations"][0]["notifiedStaffIds"]}
    assert told == {handler, manager}
    # resolved again (no second compensation), dissatisfied again: HQ
    again = await _ok(
        api,
        _op("ComplaintResolve"),
        {"i": {"id": cid, "resolutionType": "EXPLANATION", "resolution": "店长致电解释"}},
        key,
    )
    assert again["errors"] == []
    twice = await _ok(
        api,
        _op("ComplaintResolve"),
        {
            "i": {
                "id": cid,
                "resolutionType": "COMPENSATION",
                "resolution": "x",
                "compensationPoints": 10,
            }
        },
        key,
    )
    assert twice["errors"][0]["code"] == "invalid_state"
    second = await _ok(api, _op("ComplaintFollowUp"), {"i": {"id": cid, "satisfied": False}}, key)
    c = second["complaint"]
    assert c["level"] == 2
    assert c["escalations"][-1]["level"] == 2
    assert {from_global_id(s, "Staff") for s in c["escalations"][-1]["notifiedStaffIds"]} == {hq}
    third = await _ok(
        api,
        _op("ComplaintResolve"),
        {"i": {"id": cid, "resolutionType": "EXCHANGE", "resolution": "换货"}},
        key,
    )
    assert third["errors"] == []
    happy = await _ok(api, _op("ComplaintFollowUp"), {"i": {"id": cid, "satisfied": True}}, key)
    assert happy["complaint"]["state"] == "FOLLOWED_UP"
    closed = await _ok(api, _op("ComplaintClose"), {"i": {"id": cid}}, key)
    assert closed["complaint"]["state"] == "CLOSED"
    steps = [t["action"] for t in closed["complaint"]["timeline"]]
    assert steps[:5] == ["received", "linked", "acknowledged", "assigned", "resolved"]
    assert steps.count("escalated") == 2 and steps.count("reopened") == 2
    assert steps[-1] == "closed"
    # the staff were told through messaging, once per escalation and person
    async with tenant_tx(tenant.id, write=False):
        notices = await fetch(
            "SELECT staff_id FROM message WHERE tenant_id = {} AND template_key = {}",
            tenant.id,
            "complaints.escalation",
        )
    assert sorted(str(n["staff_id"]) for n in notices) == sorted(
        str(s) for s in (handler, manager, hq)
    )


async def test_bad_input_is_a_typed_error_and_nothing_is_written(
    api, tenant, store, make_key, enable_plugins
):
    await enable_plugins(tenant, "complaints")
    key = await make_key(tenant)
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    for variables, field, code in [
        ({"channel": "PHONE", "summary": ""}, "summary", "invalid"),
        ({"channel": "PHONE", "summary": "x", "category": "nope"}, "category", "unknown_category"),
        ({"channel": "PHONE", "summary": "x", "contactPhone": "12"}, "contactPhone", None),
        ({"channel": "PHONE", "summary": "x", "occurredAt": future}, "occurredAt", "invalid"),
        (
            {"channel": "PHONE", "summary": "x", "storeId": to_global_id("Store", uuid.uuid4())},
            "storeId",
            "not_found",
        ),
    ]:
        result = await _ok(api, CREATE, {"i": variables}, key)
        assert result["complaint"] is None, variables
        assert result["errors"][0]["field"] == field, result
        if code:
            assert result["errors"][0]["code"] == code
    assert await _count(tenant, "complaints_complaint") == 0
    assert await _count(tenant, "complaints_action") == 0


async def test_store_scope_and_hq_only_media_complaints(
    api, tenant, owner, make_key, enable_plugins
):
    from tenants.service import create_store

    await enable_plugins(tenant, "complaints")
    a = uuid.UUID(str((await create_store(tenant, owner, {"code": "A", "name": "A"}))["id"]))
    b = uuid.UUID(str((await create_store(tenant, owner, {"code": "B", "name": "B"}))["id"]))
    hq_key = await make_key(tenant)
    a_key = await make_key(tenant, "store_manager", a)
    for store, channel in ((a, "PHONE"), (b, "PHONE"), (a, "MEDIA")):
        made = await _ok(
            api,
            CREATE,
            {
                "i": {
                    "channel": channel,
                    "summary": channel,
                    "storeId": to_global_id("Store", store),
                }
            },
            hq_key,
        )
        assert made["errors"] == []
    media = made["complaint"]
    assert media["hqOnly"] is True and media["level"] == 2  # straight to HQ
    assert [(e["stage"], e["trigger"]) for e in media["escalations"]] == [("intake", "media")]
    listing = "query { complaints(first: 10) { nodes { summary storeId } } }"
    everything = (await api.gql(listing, key=hq_key))["data"]["complaints"]["nodes"]
    assert len(everything) == 3
    mine = (await api.gql(listing, key=a_key))["data"]["complaints"]["nodes"]
    assert [(n["summary"], n["storeId"]) for n in mine] == [("PHONE", to_global_id("Store", a))]
    one = "query($id: ID!) { complaint(id: $id) { id } }"
    assert (await api.gql(one, {"id": media["id"]}, key=a_key))["data"]["complaint"] is None
    # HQ assigns the media complaint to store A: now the store's
    moved = await _ok(
        api,
        _op("ComplaintTransfer"),
        {"i": {"id": media["id"], "storeId": to_global_id("Store", a)}},
        hq_key,
    )
    assert moved["complaint"]["hqOnly"] is False
    assert (await api.gql(one, {"id": media["id"]}, key=a_key))["data"]["complaint"]
    overdue = "query { complaints(first: 10, filter: {overdue: true}) { nodes { id } } }"
    assert (await api.gql(overdue, key=hq_key))["data"]["complaints"]["nodes"] == []


async def test_isolation_and_the_disabled_plugin(
    api, tenant, other_tenant, owner, make_key, enable_plugins
):
    await enable_plugins(tenant, "complaints")
    key = await make_key(tenant)
    made = await _ok(api, CREATE, {"i": {"channel": "LETTER", "summary": "信件投诉"}}, key)
    cid = made["complaint"]["id"]
    await enable_plugins(other_tenant, "complaints")
    other = await make_key(other_tenant)
    one = "query($id: ID!) { complaint(id: $id) { id } node(id: $id) { id } }"
    body = await api.gql(one, {"id": cid}, key=other)
    assert body["data"] == {"complaint": None, "node": None}
    ack = await _ok(api, _op("ComplaintAcknowledge"), {"i": {"id": cid}}, other)
    assert ack["errors"][0]["code"] == "not_found"
    listing = "query { complaints(first: 5) { nodes { id } } }"
    assert (await api.gql(listing, key=other))["data"]["complaints"]["nodes"] == []
    # a tenant without the module has no such fields
    from core.plugins import get_runtime
    from tenants.modules import disable_module

    await disable_module(other_tenant, owner, get_runtime(), "complaints")
    body = await api.gql(listing, key=other)
    assert "errors" in body and "complaints" in body["errors"][0]["message"]


async def test_categories_follow_the_seed_and_the_tenant(api, tenant, make_key, enable_plugins):
    await enable_plugins(
        tenant,
        "complaints",
        settings={
            "categories": [
                {"code": "service.parking", "zh": "停车难", "en": "Parking"},
                {"code": "goods.expired", "zh": "临期过期商品", "en": "Expired goods"},
                {"code": "other", "zh": "其他", "active": False},
            ]
        },
    )
    key = await make_key(tenant)
    body = await api.gql(
        "query { complaintCategories { code parentCode name nameEn builtin active } }", key=key
    )
    found = {c["code"]: c for c in body["data"]["complaintCategories"]}
    assert found["service.cashier.short_change"]["parentCode"] == "service.cashier"
    assert found["service.cashier.short_change"]["name"] == "少找钱"
    assert found["service.parking"] == {
        "code": "service.parking",
        "parentCode": "service",
        "name": "停车难",
        "nameEn": "Parking",
        "builtin": False,
        "active": True,
    }
    assert found["goods.expired"]["name"] == "临期过期商品" and found["goods.expired"]["builtin"]
    assert found["other"]["active"] is False
    made = await _ok(
        api, CREATE, {"i": {"channel": "WECHAT", "summary": "x", "category": "other"}}, key
    )
    assert made["errors"][0]["code"] == "unknown_category"
