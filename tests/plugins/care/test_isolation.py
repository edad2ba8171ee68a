"""Isolation and the disabled plugin: another tenant's campaigns and runs are invisible and
answer like missing ones; a tenant without the plugin has none of its fields, and its job does
nothing there."""

from __future__ import annotations

import pytest

from tests.plugins.care.helpers import (
    ACTIVATE,
    APPROVE,
    CAMPAIGN,
    PAUSE,
    RUN_NOW,
    UPDATE,
    customers,
    everyone_segment,
    gql_ok,
    one_off,
    targets,
    uid,
)

pytestmark = pytest.mark.usefixtures("db")


async def test_another_tenant_sees_nothing_of_this_ones_campaigns(
    api, tenant, other_tenant, owner, make_key, enable_plugins
):
    from plugins.care import campaigns

    await enable_plugins(tenant, "care")
    await enable_plugins(other_tenant, "care")
    mine, theirs = await make_key(tenant), await make_key(other_tenant)
    await customers(other_tenant, owner, 3)
    their_segment = await everyone_segment(other_tenant, owner)
    campaign = await one_off(api, theirs, their_segment)
    run = (await gql_ok(api, RUN_NOW, {"i": {"id": campaign}}, theirs))["careCampaignRunNow"][
        "run"
    ]["id"]

    assert (await gql_ok(api, "{ careCampaigns { nodes { id } } }", {}, mine))["careCampaigns"][
        "nodes"
    ] == []
    assert (await gql_ok(api, CAMPAIGN, {"id": campaign}, mine))["careCampaign"] is None
    nodes = await gql_ok(
        api,
        "query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }",
        {"a": campaign, "b": run},
        mine,
    )
    assert nodes == {"a": None, "b": None}
    for doc, field in [
        (UPDATE, "careCampaignUpdate"),
        (ACTIVATE, "careCampaignActivate"),
        (PAUSE, "careCampaignPause"),
        (APPROVE, "careCampaignApprove"),
        (RUN_NOW, "careCampaignRunNow"),
    ]:
        variables = {"i": {"id": campaign}}
        if doc is UPDATE:
            variables["i"]["name"] = "mine now"
        body = await gql_ok(api, doc, variables, mine)
        assert (
            body[field]["errors"] == [{"field": "id", "code": "not_found"}]
            or body[field]["errors"][0]["code"] == "not_found"
        ), (field, body)
    # their segment cannot be my campaign's audience
    from tests.plugins.care.helpers import CREATE

    body = await gql_ok(
        api,
        CREATE,
        {"i": {"name": "x", "kind": "ONE_OFF", "message": "m", "segmentId": their_segment}},
        mine,
    )
    assert body["careCampaignCreate"]["errors"][0]["code"] == "not_found"
    # the services, with this tenant and their ids, see nothing either
    assert await campaigns.get_campaign(tenant, uid(campaign)) is None
    assert await targets(tenant) == [] and len(await targets(other_tenant)) == 3
    theirs_now = await campaigns.get_campaign(other_tenant, uid(campaign))
    assert theirs_now is not None and theirs_now["name"] == "中秋问候"


async def test_without_the_plugin_its_fields_are_absent_and_its_job_does_nothing(
    api, tenant, owner, make_key, enable_plugins
):
    from core.jobs import JobTable
    from core.plugins import get_runtime

    key = await make_key(tenant)
    for doc in (
        "{ careCampaigns { nodes { id } } }",
        'mutation { careCampaignPause(input: {id: "x"}) { errors { code } } }',
    ):
        body = await api.gql(doc, {}, key=key)
        assert body["errors"][0]["extensions"]["code"] == "invalid_query", body
    # a run left fanning out while enabled is not touched once the module is disabled
    await enable_plugins(tenant, "care")
    await customers(tenant, owner, 2)
    campaign = await one_off(api, key, await everyone_segment(tenant, owner))
    from plugins.care import campaigns, runs

    found = await campaigns.get_campaign(tenant, uid(campaign))
    from core.plugins import get_runtime as rt

    await runs.start_run(tenant, found, "once", await rt().segment_fields(tenant))
    from tenants.modules import disable_module

    await disable_module(tenant, owner, get_runtime(), "care")
    table = JobTable(get_runtime())
    assert await table.run_for_tenant("care.fan_out", tenant) is False
    assert {r["status"] for r in await targets(tenant)} == {"pending"}
    body = await api.gql("{ careCampaigns { nodes { id } } }", {}, key=key)
    assert body["errors"][0]["extensions"]["code"] == "invalid_query"


async def test_a_customers_campaign_data_is_exported_and_erased(
    api, tenant, owner, make_key, enable_plugins
):
    from plugins.care.results import erase_customer, export_customer

    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    (one, other) = await customers(tenant, owner, 2)
    await gql_ok(
        api,
        RUN_NOW,
        {"i": {"id": await one_off(api, key, await everyone_segment(tenant, owner))}},
        key,
    )
    exported = await export_customer(tenant, one.id)
    assert [c["campaign"] for c in exported["campaigns"]] == ["中秋问候"]
    await erase_customer(tenant, one.id)
    assert (await export_customer(tenant, one.id)) == {"campaigns": []}
    assert [str(r["customer_id"]) for r in await targets(tenant)] == [str(other.id)]
