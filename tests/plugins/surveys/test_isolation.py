"""Isolation and the disabled plugin: another tenant's surveys, responses and tokens are
invisible and answer like missing ones, through GraphQL and the services; a tenant without
the plugin has none of its fields, and its hooks do nothing there."""

from __future__ import annotations

import pytest

from core import to_global_id
from tests.plugins.surveys.helpers import (
    INVITE,
    RECORD,
    RESULTS,
    TRIGGER,
    answers,
    gql_ok,
    mint_invitation,
    nps_survey,
    response_rows,
    uid,
)

pytestmark = pytest.mark.usefixtures("db")


async def test_another_tenant_sees_nothing_of_this_ones_surveys(
    api, tenant, other_tenant, owner, make_key, enable_plugins
):
    from core.customers import create_customer
    from plugins.surveys import catalog, scoring

    await enable_plugins(tenant, "surveys")
    await enable_plugins(other_tenant, "surveys")
    mine, theirs = await make_key(tenant), await make_key(other_tenant)
    survey = await nps_survey(api, theirs)
    customer = await create_customer(other_tenant, owner, {"name": "B"})
    r = await gql_ok(
        api, RECORD, {"i": {"surveyId": survey, "channel": "PHONE", "answers": answers(9)}}, theirs
    )
    response = r["surveyResponseRecord"]["response"]["id"]

    assert (await gql_ok(api, "{ surveys { nodes { id } } }", {}, mine))["surveys"]["nodes"] == []
    assert (await gql_ok(api, "query($s: ID!) { survey(id: $s) { id } }", {"s": survey}, mine))[
        "survey"
    ] is None
    assert (await gql_ok(api, RESULTS, {"s": survey}, mine))["surveyResults"] is None
    nodes = await gql_ok(
        api,
        "query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }",
        {"a": survey, "b": response},
        mine,
    )
    assert nodes == {"a": None, "b": None}
    for doc, variables, field, error_field in [
        (
            RECORD,
            {"i": {"surveyId": survey, "channel": "PHONE", "answers": answers(9)}},
            "surveyResponseRecord",
            "surveyId",
        ),
        (
            INVITE,
            {"i": {"surveyId": survey, "customerIds": [to_global_id("Customer", customer.id)]}},
            "surveyInvite",
            "surveyId",
        ),
        (TRIGGER, {"i": {"surveyId": survey, "kind": "PURCHASE"}}, "surveyTriggerSet", "surveyId"),
        (
            "mutation($i: SurveyPublishInput!) { surveyPublish(input: $i) { errors { field code } } }",
            {"i": {"id": survey}},
            "surveyPublish",
            "id",
        ),
        (
            "mutation($i: SurveyCloseInput!) { surveyClose(input: $i) { errors { field code } } }",
            {"i": {"id": survey}},
            "surveyClose",
            "id",
        ),
        (
            "mutation($i: SurveyExportInput!) { surveyExport(input: $i) { errors { field code } } }",
            {"i": {"surveyId": survey, "format": "CSV"}},
            "surveyExport",
            "surveyId",
        ),
    ]:
        body = await gql_ok(api, doc, variables, mine)
        assert body[field]["errors"] == [{"field": error_field, "code": "not_found"}], field
    # the services, with tenant A and B's ids, see nothing either
    assert await catalog.get_survey(tenant, uid(survey)) is None
    assert (await scoring.results(tenant, owner, uid(survey))).responses == 0
    assert len(await response_rows(other_tenant)) == 1 and await response_rows(tenant) == []


async def test_without_the_plugin_its_fields_are_absent_and_its_hooks_do_nothing(
    api, tenant, owner, make_key, enable_plugins, deliver_events
):
    from core.customers import create_customer
    from core.purchases import record_purchase
    from tenants.service import create_store

    key = await make_key(tenant)
    for doc in (
        "{ surveys { nodes { id } } }",
        "query($c: ID!) { customer(id: $c) { surveyResponses { nodes { id } } } }",
    ):
        body = await api.gql(
            doc,
            {
                "c": to_global_id(
                    "Customer", (await create_customer(tenant, owner, {"name": "x"})).id
                )
            },
            key=key,
        )
        assert body["errors"][0]["extensions"]["code"] == "invalid_query", body
    # a token of a tenant without the module opens nothing, even a once valid one
    await enable_plugins(tenant, "surveys")
    survey = await nps_survey(api, key)
    await gql_ok(api, TRIGGER, {"i": {"surveyId": survey, "kind": "PURCHASE"}}, key)
    c = await create_customer(tenant, owner, {"name": "y"})
    token = await mint_invitation(tenant, uid(survey), c.id)
    from core.plugins import get_runtime
    from tenants.modules import disable_module

    await disable_module(tenant, owner, get_runtime(), "surveys")
    assert (await api.http.get(f"/s/{token}")).status_code == 404
    store = (await create_store(tenant, owner, {"code": "S", "name": "s"}))["id"]
    await record_purchase(
        tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(c.id),
            "lines": [{"sku": "x", "unit_price": "1"}],
        },
    )
    await deliver_events(tenant)
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        links = await fetch(
            "SELECT trigger FROM surveys_link WHERE tenant_id = {} AND kind = 'invitation'",
            tenant.id,
        )
    assert [r["trigger"] for r in links] == ["manual"]  # the minted one: no purchase invitation


async def test_a_store_scoped_caller_records_and_reads_only_its_stores(
    api, tenant, owner, make_key, enable_plugins
):
    from tenants.service import create_store

    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    survey = await nps_survey(api, key)
    a = (await create_store(tenant, owner, {"code": "A", "name": "A"}))["id"]
    b = (await create_store(tenant, owner, {"code": "B", "name": "B"}))["id"]
    cashier = await make_key(tenant, role="cashier", store_id=a)
    ok = await gql_ok(
        api,
        RECORD,
        {
            "i": {
                "surveyId": survey,
                "channel": "IN_PERSON",
                "storeId": to_global_id("Store", a),
                "answers": answers(8),
            }
        },
        cashier,
    )
    assert ok["surveyResponseRecord"]["errors"] == [] and ok["surveyResponseRecord"]["response"][
        "storeId"
    ] == to_global_id("Store", a)
    other = await gql_ok(
        api,
        RECORD,
        {
            "i": {
                "surveyId": survey,
                "channel": "IN_PERSON",
                "storeId": to_global_id("Store", b),
                "answers": answers(8),
            }
        },
        cashier,
    )
    assert other["surveyResponseRecord"]["errors"] == [{"field": "storeId", "code": "not_found"}]
    # a cashier records but does not read results or run surveys
    denied = await api.gql(RESULTS, {"s": survey}, key=cashier)
    assert denied["errors"][0]["extensions"]["code"] == "forbidden"
    denied = await api.gql(
        'mutation { surveyCreate(input: {name: "x"}) { errors { code } } }', key=cashier
    )
    assert denied["errors"][0]["extensions"]["code"] == "forbidden"
    assert len(await response_rows(tenant)) == 1
