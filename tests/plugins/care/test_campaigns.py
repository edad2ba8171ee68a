"""Campaigns through GraphQL: create with the kind's settings (bad input: a typed error and
nothing written), update, activate, pause, approve a large audience, run now through the
messaging pipeline — each customer once per occurrence, the control group held out."""

from __future__ import annotations

import pytest

from tests.plugins.care.helpers import (
    ACTIVATE,
    APPROVE,
    CAMPAIGN,
    CREATE,
    PAUSE,
    RUN_NOW,
    UPDATE,
    customers,
    everyone_segment,
    gql_ok,
    one_off,
    outbox,
    targets,
)

pytestmark = pytest.mark.usefixtures("db")


async def _count(tenant, table):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        return (
            await fetch(f"SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = {{}}", tenant.id)
        )[0]["n"]


async def test_create_validates_each_kind_and_writes_nothing_on_bad_input(
    api, tenant, owner, make_key, enable_plugins
):
    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    for variables, field, code in [
        ({"name": "x", "kind": "ONE_OFF", "message": "hi"}, "segmentId", "invalid"),
        ({"name": "x", "kind": "FESTIVAL", "message": "hi"}, "settings.festival", "invalid"),
        ({"name": "x", "kind": "REVISIT", "message": "hi"}, "settings.everyDays", "invalid"),
        ({"name": "x", "kind": "BIRTHDAY", "message": ""}, "message", "invalid"),
        ({"name": "x", "kind": "BIRTHDAY", "message": "hi", "controlPct": 80}, "controlPct", None),
        (
            {"name": "x", "kind": "BIRTHDAY", "message": "hi", "settings": {"offer": "POINTS"}},
            "settings.offerPoints",
            None,
        ),
        (
            {"name": "x", "kind": "BIRTHDAY", "message": "hi", "settings": {"daysBefore": 99}},
            None,
            None,
        ),
    ]:
        body = await gql_ok(api, CREATE, {"i": variables}, key)
        result = body["careCampaignCreate"]
        assert result["campaign"] is None and result["errors"], variables
        if field:
            assert result["errors"][0]["field"] == field, result
        if code:
            assert result["errors"][0]["code"] == code, result
    assert await _count(tenant, "care_campaign") == 0

    body = await gql_ok(
        api,
        CREATE,
        {
            "i": {
                "name": "生日祝福",
                "kind": "BIRTHDAY",
                "message": "生日快乐！",
                "controlPct": 10,
                "settings": {"daysBefore": 3, "offer": "POINTS", "offerPoints": 100},
            }
        },
        key,
    )
    c = body["careCampaignCreate"]["campaign"]
    assert c["state"] == "DRAFT" and c["kind"] == "BIRTHDAY" and c["controlPct"] == 10
    assert c["settings"]["daysBefore"] == 3 and c["settings"]["offerPoints"] == 100
    winback = await gql_ok(
        api, CREATE, {"i": {"name": "召回", "kind": "WINBACK", "message": "好久不见"}}, key
    )
    assert winback["careCampaignCreate"]["campaign"]["settings"]["lifecycles"] == [
        "at_risk",
        "churned",
    ]

    changed = await gql_ok(
        api, UPDATE, {"i": {"id": c["id"], "settings": {"daysBefore": 0}, "name": "生日"}}, key
    )
    assert changed["careCampaignUpdate"]["campaign"]["settings"]["daysBefore"] == 0
    assert changed["careCampaignUpdate"]["campaign"]["settings"]["offerPoints"] == 100
    state = await gql_ok(api, ACTIVATE, {"i": {"id": c["id"]}}, key)
    assert state["careCampaignActivate"]["campaign"]["state"] == "ACTIVE"
    bad = await gql_ok(api, UPDATE, {"i": {"id": c["id"], "kind": "FESTIVAL"}}, key)
    assert bad["careCampaignUpdate"]["errors"][0]["code"] == "conflict"
    state = await gql_ok(api, PAUSE, {"i": {"id": c["id"]}}, key)
    assert state["careCampaignPause"]["campaign"]["state"] == "PAUSED"

    listed = await gql_ok(
        api,
        "query($f: CareCampaignFilter) { careCampaigns(first: 1, filter: $f) { nodes { name } "
        "pageInfo { hasNextPage endCursor } } }",
        {"f": None},
        key,
    )
    assert listed["careCampaigns"]["nodes"] == [{"name": "召回"}]
    assert listed["careCampaigns"]["pageInfo"]["hasNextPage"] is True
    after = listed["careCampaigns"]["pageInfo"]["endCursor"]
    rest = await gql_ok(
        api,
        "query($a: String) { careCampaigns(first: 5, after: $a) { nodes { name } } }",
        {"a": after},
        key,
    )
    assert rest["careCampaigns"]["nodes"] == [{"name": "生日"}]
    paused = await gql_ok(
        api,
        "{ careCampaigns(filter: {state: PAUSED}) { nodes { name } } }",
        {},
        key,
    )
    assert paused["careCampaigns"]["nodes"] == [{"name": "生日"}]


async def test_a_run_reaches_each_customer_once_per_occurrence_and_holds_out_the_control_group(
    api, tenant, owner, make_key, enable_plugins, send_messages
):
    from plugins.care.runs import group_of

    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    people = await customers(tenant, owner, 40)
    await customers(tenant, owner, 3, consent=False, prefix="136")
    campaign = await one_off(api, key, await everyone_segment(tenant, owner), controlPct=25)

    first = await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    run = first["careCampaignRunNow"]["run"]
    assert first["careCampaignRunNow"]["errors"] == []
    assert run["targeted"] == 43 and run["status"] == "DONE" and run["occurrence"] == "once"

    rows = await targets(tenant)
    from tests.plugins.care.helpers import uid

    cid = uid(campaign)
    for r in rows:  # the same hash decides every time
        assert r["grp"] == group_of(cid, r["customer_id"], 25)
    control = [r for r in rows if r["grp"] == "control"]
    assert 3 <= len(control) <= 20 and all(r["status"] == "held" for r in control)
    treated = [r for r in rows if r["grp"] == "treatment"]
    suppressed = [r for r in treated if r["status"] == "suppressed"]
    assert {r["reason"] for r in suppressed} <= {"no_consent"}
    messages = await outbox(tenant)
    assert len(messages) == len(treated)
    assert {str(m["customer_id"]) for m in messages} == {str(r["customer_id"]) for r in treated}
    assert all(
        m["purpose"] == "marketing" and m["body"].startswith("中秋快乐！ 退订：/u/")
        for m in messages
        if m["status"] == "queued"
    )
    held = {str(r["customer_id"]) for r in control}
    assert not held & {str(m["customer_id"]) for m in messages}

    # run again, pause, edit, re-activate, run again: nobody twice
    again = await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    assert again["careCampaignRunNow"]["run"]["id"] == run["id"]
    await gql_ok(api, ACTIVATE, {"i": {"id": campaign}}, key)
    await gql_ok(api, PAUSE, {"i": {"id": campaign}}, key)
    paused = await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    assert paused["careCampaignRunNow"]["errors"][0]["code"] == "paused"
    await gql_ok(api, UPDATE, {"i": {"id": campaign, "message": "中秋节快乐"}}, key)
    await gql_ok(api, ACTIVATE, {"i": {"id": campaign}}, key)
    await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    assert len(await outbox(tenant)) == len(messages)
    # a new occurrence is a new run, but a customer still gets one message per occurrence
    other = await gql_ok(api, RUN_NOW, {"i": {"id": campaign, "occurrence": "2027"}}, key)
    assert other["careCampaignRunNow"]["run"]["id"] != run["id"]
    assert len(await outbox(tenant)) == 2 * len(messages)

    sent = await send_messages(tenant)
    assert sent == 2 * (len(treated) - len(suppressed))
    body = await gql_ok(api, CAMPAIGN, {"id": campaign}, key)
    found = body["careCampaign"]
    assert len(found["runs"]["nodes"]) == 2
    res = found["results"]
    assert res["control"]["targeted"] == 2 * len(control) and res["control"]["queued"] == 0
    assert res["treatment"]["sent"] == sent and res["treatment"]["delivered"] == sent
    assert res["treatment"]["suppressed"] == (
        [{"reason": "no_consent", "count": 2 * len(suppressed)}] if suppressed else []
    )
    assert res["pending"] == 0
    assert len(people) == 40


async def test_a_large_audience_needs_approval_by_an_owner_and_it_is_audited(
    api, tenant, owner, make_key, enable_plugins
):
    from core.db import fetch, tenant_tx

    await enable_plugins(tenant, "care", settings={"approval_threshold": 10})
    key = await make_key(tenant)
    await customers(tenant, owner, 12)
    campaign = await one_off(api, key, await everyone_segment(tenant, owner))
    body = await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    assert body["careCampaignRunNow"]["errors"][0]["code"] == "approval_required"
    assert await targets(tenant) == []
    shown = await gql_ok(
        api, "query($id: ID!) { careCampaign(id: $id) { approval } }", {"id": campaign}, key
    )
    assert shown["careCampaign"]["approval"] == "REQUIRED"

    manager = await make_key(tenant, role="store_manager")
    denied = await api.gql(APPROVE, {"i": {"id": campaign}}, key=manager)
    assert denied["errors"][0]["extensions"]["code"] == "forbidden"

    ok = await gql_ok(api, APPROVE, {"i": {"id": campaign}}, key)
    assert ok["careCampaignApprove"]["campaign"]["approval"] == "APPROVED"
    body = await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    assert body["careCampaignRunNow"]["run"]["targeted"] == 12
    async with tenant_tx(tenant.id, write=False):
        audit = await fetch(
            "SELECT action FROM audit_log WHERE tenant_id = {} AND action = 'care.campaign_approve'",
            tenant.id,
        )
    assert len(audit) == 1


async def test_a_test_send_goes_to_staff_only(api, tenant, owner, make_key, enable_plugins, store):
    from tenants.credentials import create_staff

    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    await customers(tenant, owner, 3)
    campaign = await one_off(api, key, await everyone_segment(tenant, owner))
    sid = await create_staff(
        tenant,
        owner,
        {
            "login": "m1",
            "name": "店长",
            "password": "password-123456",
            "email": "m@example.cn",
            "phone": "13800000001",
            "role": "store_manager",
            "store_ids": [str(store)],
        },
    )
    from core import to_global_id

    body = await gql_ok(
        api, RUN_NOW, {"i": {"id": campaign, "testStaffIds": [to_global_id("Staff", sid)]}}, key
    )
    assert body["careCampaignRunNow"]["run"] is None
    assert body["careCampaignRunNow"]["testQueued"] == 1
    assert await targets(tenant) == []


async def test_a_points_gift_is_granted_by_loyalty_once_per_customer_and_occurrence(
    api, tenant, owner, make_key, enable_plugins, deliver_events
):
    from core.db import fetch, tenant_tx

    await enable_plugins(tenant, "care", "loyalty")
    key = await make_key(tenant)
    people = await customers(tenant, owner, 6)
    campaign = await one_off(
        api,
        key,
        await everyone_segment(tenant, owner),
        controlPct=20,
        settings={"offer": "POINTS", "offerPoints": 88},
    )
    await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    await deliver_events(tenant)
    await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)  # the same occurrence: no-op
    await deliver_events(tenant)
    treated = {str(r["customer_id"]) for r in await targets(tenant) if r["grp"] == "treatment"}
    async with tenant_tx(tenant.id, write=False):
        entries = await fetch(
            "SELECT customer_id, points FROM loyalty_entry WHERE tenant_id = {} "
            "AND source = 'care'",
            tenant.id,
        )
    assert sorted(str(e["customer_id"]) for e in entries) == sorted(treated)
    assert {e["points"] for e in entries} == {88} and len(people) == 6


async def test_ab_variants_split_the_treatment_and_are_reported_like_the_control_group(
    api, tenant, owner, make_key, enable_plugins
):
    """Variants given at creation and changed by an update (a generic ``list[Variant]``
    conversion): each treatment customer gets their variant's text, counted per variant."""
    from tests.plugins.care.helpers import CAMPAIGN, UPDATE

    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    await customers(tenant, owner, 20)
    variants = [{"key": "a", "message": "甲：中秋快乐", "weight": 1}]
    campaign = await one_off(api, key, await everyone_segment(tenant, owner), variants=variants)
    changed = await gql_ok(
        api,
        UPDATE,
        {
            "i": {
                "id": campaign,
                "variants": [*variants, {"key": "b", "message": "乙：团圆", "weight": 1}],
            }
        },
        key,
    )
    assert changed["careCampaignUpdate"]["errors"] == []
    assert [v["key"] for v in changed["careCampaignUpdate"]["campaign"]["variants"]] == ["a", "b"]
    await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, key)
    rows = await targets(tenant)
    texts = {str(m["customer_id"]): m["body"] for m in await outbox(tenant)}
    for r in rows:
        assert texts[str(r["customer_id"])].startswith({"a": "甲", "b": "乙"}[r["variant"]])
    res = (await gql_ok(api, CAMPAIGN, {"id": campaign}, key))["careCampaign"]["results"]
    counts = {v["key"]: v["result"]["targeted"] for v in res["variants"]}
    assert counts == {k: sum(r["variant"] == k for r in rows) for k in ("a", "b")}
    assert sum(counts.values()) == 20
