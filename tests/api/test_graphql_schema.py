"""Schema registry (API-1), committed SDL, the cross-tenant probe and the role matrix (API-2)."""

from __future__ import annotations

import datetime as dt
import types
import uuid
from typing import Any

import pytest
import strawberry
from strawberry.types import Info

from api.graphql.schema import GraphQLContributionError, SchemaRegistry
from api.graphql.sdl import SDL_DIR, export_sdl
from core import PluginManifest, hookimpl
from core.graphql import GraphQLContribution, to_global_id
from core.plugins import PluginRegistry

pytestmark = pytest.mark.usefixtures("db")


def test_committed_sdl_matches_the_schemas():
    """Regenerate with ``mendian graphql sdl --out api/graphql/sdl`` after an intended change."""
    for name, text in export_sdl().items():
        assert (SDL_DIR / name).read_text() == text, f"{name} drifted from the code"


def _graphql_plugin(plugin_id: str, field: str) -> types.ModuleType:
    module = types.ModuleType(f"gql_{plugin_id}")
    module.manifest = PluginManifest(id=plugin_id, name=plugin_id, version="1.0")  # type: ignore[attr-defined]

    def resolve(root: strawberry.Private[object], info: Info) -> int:
        return 7

    def register_graphql() -> list[GraphQLContribution]:
        return [
            GraphQLContribution(fields={"Customer": {field: strawberry.field(resolver=resolve)}})
        ]

    module.register_graphql = hookimpl(register_graphql)  # type: ignore[attr-defined]
    return module


def test_two_plugins_contributing_the_same_field_fail_startup_naming_both():
    registry = PluginRegistry(core_version="0.1.0").load(
        [("alpha", _graphql_plugin("alpha", "points")), ("beta", _graphql_plugin("beta", "points"))]
    )
    with pytest.raises(GraphQLContributionError) as exc:
        SchemaRegistry(registry)
    assert str(exc.value) == "Customer.points is contributed by both 'alpha' and 'beta'"
    clash_with_core = PluginRegistry(core_version="0.1.0").load(
        [("gamma", _graphql_plugin("gamma", "name"))]
    )
    with pytest.raises(GraphQLContributionError) as exc:
        SchemaRegistry(clash_with_core)
    assert str(exc.value) == "Customer.name is contributed by both 'core' and 'gamma'"


def test_two_registries_in_one_process_do_not_interfere():
    """Each registry keeps its plugins' fields to itself: the core's classes are not changed."""
    from core.graphql import Customer

    before = [f.python_name for f in Customer.__strawberry_definition__.fields]
    first = SchemaRegistry(
        PluginRegistry(core_version="0.1.0").load([("alpha", _graphql_plugin("alpha", "alpha_x"))])
    )
    second = SchemaRegistry(
        PluginRegistry(core_version="0.1.0").load([("beta", _graphql_plugin("beta", "beta_x"))])
    )
    a = first.for_modules(frozenset({"alpha", "beta"})).as_str()
    b = second.for_modules(frozenset({"alpha", "beta"})).as_str()
    assert "alphaX" in a and "betaX" not in a
    assert "betaX" in b and "alphaX" not in b
    assert [f.python_name for f in Customer.__strawberry_definition__.fields] == before


def test_a_type_name_taken_twice_fails_startup_naming_both():
    def plugin_with_type(plugin_id: str) -> types.ModuleType:
        module = types.ModuleType(f"gql_type_{plugin_id}")
        module.manifest = PluginManifest(id=plugin_id, name=plugin_id, version="1.0")  # type: ignore[attr-defined]

        @strawberry.type(name="VisitCount", description="a count")
        class VisitCount:
            n: int = strawberry.field(description="n")

        def resolve(info: Info) -> Any:
            return VisitCount(n=1)

        module.register_graphql = hookimpl(  # type: ignore[attr-defined]
            lambda: [
                GraphQLContribution(
                    queries={
                        f"{plugin_id}_visits": strawberry.field(
                            resolver=resolve, graphql_type=VisitCount
                        )
                    }
                )
            ]
        )
        module.register_graphql.__name__ = "register_graphql"
        return module

    registry = PluginRegistry(core_version="0.1.0").load(
        [("alpha", plugin_with_type("alpha")), ("beta", plugin_with_type("beta"))]
    )
    with pytest.raises(GraphQLContributionError) as exc:
        SchemaRegistry(registry)
    assert str(exc.value) == "type VisitCount is defined by both 'alpha' and 'beta'"


def test_schemas_are_cached_per_contributing_module_set():
    registry = PluginRegistry(core_version="0.1.0").load(
        [("alpha", _graphql_plugin("alpha", "alpha_points"))]
    )
    schemas = SchemaRegistry(registry)
    assert schemas.for_modules(frozenset({"alpha", "x"})) is schemas.for_modules(
        frozenset({"alpha"})
    )
    assert schemas.for_modules(frozenset({"x"})) is schemas.for_modules(frozenset())
    assert "alphaPoints" in schemas.for_modules(frozenset({"alpha"})).as_str()
    assert "alphaPoints" not in schemas.for_modules(frozenset()).as_str()


async def test_plugin_fields_also_check_enablement_when_resolved(tenant, owner):
    """Defence in depth: even executed against a schema that has the field, a caller without
    the module is refused."""
    from core.graphql import RequestContext
    from core.plugins import load_runtime

    schemas = SchemaRegistry(load_runtime(strict=False).registry)
    schema = schemas.for_modules(frozenset({"sample"}))
    context = RequestContext(tenant=tenant, actor=owner, enabled=frozenset(), request_id="r")
    result = await schema.execute("{ sampleVisitTotal }", context_value=context)
    assert result.errors and result.errors[0].message == "module 'sample' is not enabled"


# --- cross-tenant probe -------------------------------------------------------------------------


@pytest.fixture
async def victim(other_tenant, owner, enable_plugins):
    """Tenant B with one of everything."""
    from core.activity import create_task
    from core.customers.service import create_customer
    from core.purchases import record_purchase
    from core.segments import create_segment
    from plugins.loyalty.ledger import adjust
    from plugins.loyalty.rewards import create_reward, redeem_reward
    from tenants.credentials import create_staff
    from tenants.service import create_store

    await enable_plugins(other_tenant, "sample")
    store = (await create_store(other_tenant, owner, {"code": "B1", "name": "B store"}))["id"]
    customer = await create_customer(
        other_tenant,
        owner,
        {"name": "B customer", "phone": "13987654321", "home_store_id": str(store)},
    )
    purchase = await record_purchase(
        other_tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(customer.id),
            "lines": [{"sku": "a", "unit_price": "5"}],
        },
    )
    segment = await create_segment(
        other_tenant,
        owner,
        {
            "name": "B segment",
            "filter": {"all": [{"field": "value_class", "op": "eq", "value": "potential"}]},
        },
    )
    task = await create_task(
        other_tenant,
        owner,
        {"title": "call", "due_at": "2030-01-01T00:00:00+08:00", "customer_id": str(customer.id)},
    )
    staff = await create_staff(
        other_tenant,
        owner,
        {"login": "bstaff", "name": "B", "password": "b-password-123", "role": "cashier"},
    )
    reward = await create_reward(other_tenant, owner, {"code": "B", "name": "b", "points_cost": 1})
    await adjust(other_tenant, owner, customer.id, 10, "seed", "seed")
    moved, coupon = await redeem_reward(other_tenant, owner, customer.id, reward["id"], "b")
    from core.calendars import set_festival, set_override

    override = await set_override(
        other_tenant, owner, {"kind": "closure", "start_date": "2026-03-01", "store_id": str(store)}
    )
    festival = await set_festival(
        other_tenant,
        owner,
        {"code": "b_anniv", "name_zh": "B店庆", "rule": {"kind": "fixed", "month": 6, "day": 18}},
    )
    from core.activity import log_interaction
    from core.kpis import set_target

    target = await set_target(
        other_tenant,
        owner,
        kpi="core.net_sales",
        period="month",
        period_start=dt.date(2026, 2, 1),
        target="100",
        store_id=store,
        runtime=None,
    )
    interaction = await log_interaction(
        other_tenant, owner, {"customer_id": str(customer.id), "channel": "phone", "content": "x"}
    )
    survey, response, survey_token = await _survey_of(other_tenant, owner, enable_plugins, customer)
    from core.webhooks import create_webhook

    webhook, _secret = await create_webhook(
        other_tenant, owner, url="https://example.com/b-hook", events=["purchase.recorded"]
    )
    campaign, run = await _campaign_of(other_tenant, owner, enable_plugins, segment["id"])
    complaint, praise, damage, complaint_token = await _complaint_of(
        other_tenant, owner, enable_plugins, store, customer.id, staff
    )
    return {
        "complaint": to_global_id("Complaint", complaint),
        "praise": to_global_id("ComplaintPraise", praise),
        "damage": to_global_id("ComplaintDamage", damage),
        "complaint_token": complaint_token,
        "store_code": "B1",
        "webhook": to_global_id("WebhookSubscription", webhook["id"]),
        "tenant": other_tenant,
        "store": to_global_id("Store", store),
        "customer": to_global_id("Customer", customer.id),
        "purchase": to_global_id("Purchase", purchase.id),
        "segment": to_global_id("Segment", segment["id"]),
        "reward": to_global_id("LoyaltyReward", reward["id"]),
        "coupon": coupon["code"],
        "coupon_id": to_global_id("LoyaltyCoupon", coupon["id"]),
        "override": to_global_id("CalendarOverride", override.id),
        "festival": to_global_id("CalendarFestival", festival.id),
        "entry": to_global_id("LoyaltyEntry", moved.id),
        "interaction": to_global_id("Interaction", interaction),
        "task": to_global_id("Task", task),
        "staff": to_global_id("Staff", staff),
        "phone": "13987654321",
        "kpi_target": to_global_id("KpiTarget", target["id"]),
        "survey": to_global_id("Survey", survey),
        "survey_response": to_global_id("SurveyResponse", response),
        "survey_token": survey_token,
        "campaign": to_global_id("CareCampaign", campaign),
        "care_run": to_global_id("CareRun", run),
    }


async def _complaint_of(tenant, owner, enable_plugins, store, customer, staff):
    """Tenant B's complaint at its store, about its customer, its tracking token, praise
    for its staff and a damaged-goods record."""
    from plugins.complaints.damage import record_damage
    from plugins.complaints.praise import record_praise
    from plugins.complaints.records import create_complaint
    from plugins.complaints.settings import ComplaintsSettings

    await enable_plugins(tenant, "complaints")
    made = await create_complaint(
        tenant,
        owner,
        ComplaintsSettings(),
        {"channel": "phone", "summary": "B", "store_id": store, "customer_id": customer},
    )
    praise = await record_praise(
        tenant, owner, {"store_id": store, "staff_ids": [staff], "channel": "phone", "text": "B"}
    )
    damage = await record_damage(
        tenant, owner, {"store_id": store, "sku": "B-SKU", "complaint_id": made.id}
    )
    return made.id, praise, damage, made.token


async def _campaign_of(tenant, owner, enable_plugins, segment):
    """Tenant B's one-off care campaign to its segment, and its run (snapshotted)."""
    from core.segments import CORE_FIELDS
    from plugins.care.campaigns import create_campaign, get_campaign
    from plugins.care.runs import start_run

    await enable_plugins(tenant, "care")
    campaign = await create_campaign(
        tenant, owner, {"name": "B", "kind": "one_off", "message": "m", "segment_id": segment}
    )
    found = await get_campaign(tenant, campaign)
    run, _ = await start_run(tenant, found, "once", CORE_FIELDS)
    return campaign, run


async def _survey_of(tenant, owner, enable_plugins, customer):
    """Tenant B's published NPS survey, a response to it and a live invitation token."""
    from plugins.surveys.answering import record_response
    from plugins.surveys.catalog import create_survey, publish_survey
    from tests.plugins.surveys.helpers import mint_invitation

    await enable_plugins(tenant, "surveys")
    question = {"key": "nps", "type": "nps", "required": True, "text": {"zh-CN": "推荐吗？"}}
    survey = await create_survey(
        tenant, owner, {"name": "B", "kind": "nps", "definition": {"questions": [question]}}
    )
    await publish_survey(tenant, owner, survey)
    response = await record_response(
        tenant, owner, survey, [{"question_key": "nps", "number": 9}], channel="phone"
    )
    return survey, response, await mint_invitation(tenant, survey, customer.id)


def _errors(body, field):
    assert "errors" not in body, body
    return [e["code"] for e in body["data"][field]["errors"]]


def _missing(body, field):
    """One error saying the referenced object does not exist (``not_found`` / ``unknown_<x>``)."""
    codes = _errors(body, field)
    return len(codes) == 1 and (codes[0] == "not_found" or codes[0].startswith("unknown_"))


# Every root field of the all-plugins schema, with a call using tenant B's IDs through tenant
# A's key and what tenant A must see. A root field missing here fails the build.
PROBES = {
    "complaints": (
        "{ complaints { nodes { id } } }",
        {},
        lambda b, v, a: b["data"]["complaints"] == {"nodes": []},
    ),
    "complaint": (
        "query($cmp: ID!) { complaint(id: $cmp) { id } node(id: $cmp) { id } }",
        {},
        lambda b, v, a: b["data"] == {"complaint": None, "node": None},
    ),
    "complaintCategories": (
        "{ complaintCategories { code } }",
        {},
        lambda b, v, a: len(b["data"]["complaintCategories"]) > 10,
    ),
    "complaintSubmit": (
        'mutation($ts: String!, $sc: String!) { complaintSubmit(input: {tenant: $ts, store: $sc, name: "x", phone: "13912345678", what: "x", occurredAt: "2026-01-01T00:00:00+08:00"}) { token errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "complaintSubmit"),  # B's store code is no form of A's
    ),
    "complaintStatus": (
        "query($ct: String!) { complaintStatus(token: $ct) { complaint { number } errors { code } } }",
        {},
        lambda b, v, a: (
            b["data"]["complaintStatus"] == {"complaint": None, "errors": [{"code": "not_found"}]}
        ),
    ),
    "complaintCreate": (
        'mutation($s: ID!) { complaintCreate(input: {channel: PHONE, summary: "x", storeId: $s}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "complaintCreate"),
    ),
    "complaintAcknowledge": (
        "mutation($cmp: ID!) { complaintAcknowledge(input: {id: $cmp}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "complaintAcknowledge"),
    ),
    "complaintAssign": (
        "mutation($cmp: ID!, $st: ID!) { complaintAssign(input: {id: $cmp, handlerId: $st}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "complaintAssign"),
    ),
    "complaintTransfer": (
        "mutation($cmp: ID!) { complaintTransfer(input: {id: $cmp, toHq: true}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "complaintTransfer"),
    ),
    "complaintWait": (
        "mutation($cmp: ID!) { complaintWait(input: {id: $cmp}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "complaintWait"),
    ),
    "complaintResume": (
        "mutation($cmp: ID!) { complaintResume(input: {id: $cmp}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "complaintResume"),
    ),
    "complaintResolve": (
        'mutation($cmp: ID!) { complaintResolve(input: {id: $cmp, resolutionType: EXPLANATION, resolution: "x"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "complaintResolve"),
    ),
    "complaintFollowUp": (
        "mutation($cmp: ID!) { complaintFollowUp(input: {id: $cmp, satisfied: false}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "complaintFollowUp"),
    ),
    "complaintReopen": (
        "mutation($cmp: ID!) { complaintReopen(input: {id: $cmp}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "complaintReopen"),
    ),
    "complaintClose": (
        "mutation($cmp: ID!) { complaintClose(input: {id: $cmp}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "complaintClose"),
    ),
    "complaintNoteAdd": (
        'mutation($cmp: ID!) { complaintNoteAdd(input: {id: $cmp, note: "x"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "complaintNoteAdd"),
    ),
    "complaintCustomerLink": (
        "mutation($cmp: ID!, $c: ID!) { complaintCustomerLink(input: {id: $cmp, customerId: $c}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "complaintCustomerLink"),
    ),
    "praises": (
        "query($s: ID!, $pr: ID!) { all: praises { nodes { id } } theirs: praises(filter: {storeId: $s}) { nodes { id } } node(id: $pr) { id } }",
        {},
        lambda b, v, a: b["data"] == {"all": {"nodes": []}, "theirs": {"nodes": []}, "node": None},
    ),
    "damages": (
        "query($s: ID!, $dm: ID!) { all: damages { nodes { id } } theirs: damages(filter: {storeId: $s}) { nodes { id } } node(id: $dm) { id } }",
        {},
        lambda b, v, a: b["data"] == {"all": {"nodes": []}, "theirs": {"nodes": []}, "node": None},
    ),
    "complaintRegister": (
        'query($s: ID!) { complaintRegister(storeId: $s, date: "2026-11-10") { date } }',
        {},
        lambda b, v, a: b["data"] == {"complaintRegister": None},
    ),
    "complaintReport": (
        'query($s: ID!) { theirs: complaintReport(storeId: $s, from: "2026-11-09", to: "2026-11-15") { timezone } chain: complaintReport(from: "2026-11-09", to: "2026-11-15") { figures { received praise } } }',
        {},
        lambda b, v, a: (
            b["data"] == {"theirs": None, "chain": {"figures": {"received": 0, "praise": 0}}}
        ),
    ),
    "praiseRecord": (
        'mutation($s: ID!, $st: ID!) { praiseRecord(input: {storeId: $s, staffIds: [$st], channel: PHONE, text: "x"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "praiseRecord"),
    ),
    "damageRecord": (
        'mutation($s: ID!, $cmp: ID!) { damageRecord(input: {storeId: $s, sku: "x", complaintId: $cmp}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "damageRecord"),
    ),
    "me": (
        "{ me { tenant { slug } } }",
        {},
        lambda b, v, a: b["data"]["me"]["tenant"]["slug"] == a.slug,
    ),
    "ping": ("{ ping }", {}, lambda b, v, a: b["data"]["ping"] is True),
    "modules": (
        "{ modules { id } }",
        {},
        lambda b, v, a: (
            b["data"]["modules"]
            == [
                {"id": "care"},
                {"id": "complaints"},
                {"id": "loyalty"},
                {"id": "sample"},
                {"id": "surveys"},
            ]
        ),
    ),
    "stores": (
        "{ stores { nodes { code } } }",
        {},
        lambda b, v, a: b["data"]["stores"] == {"nodes": []},
    ),
    "staffMembers": (
        "{ staffMembers { nodes { login } } }",
        {},
        lambda b, v, a: b["data"]["staffMembers"] == {"nodes": []},
    ),
    "tasks": (
        "query($s: ID!) { all: tasks { nodes { id } } theirs: tasks(filter: {storeId: $s}) { nodes { id } } }",
        {},
        lambda b, v, a: b["data"] == {"all": {"nodes": []}, "theirs": {"nodes": []}},
    ),
    "segmentFields": (
        "{ segmentFields { field } }",
        {},
        lambda b, v, a: "loyalty_tier" in [f["field"] for f in b["data"]["segmentFields"]],
    ),
    "customer": (
        "query($c: ID!) { customer(id: $c) { name } }",
        {},
        lambda b, v, a: b["data"]["customer"] is None,
    ),
    "node": (
        "query($c: ID!, $s: ID!, $p: ID!, $g: ID!, $t: ID!, $st: ID!, $w: ID!, $cp: ID!, $e: ID!, $i: ID!, $sv: ID!, $sr: ID!, $wh: ID!, $cm: ID!, $cr: ID!) { c: node(id: $c) { id } s: node(id: $s) { id } p: node(id: $p) { id } g: node(id: $g) { id } t: node(id: $t) { id } st: node(id: $st) { id } w: node(id: $w) { id } cp: node(id: $cp) { id } e: node(id: $e) { id } i: node(id: $i) { id } sv: node(id: $sv) { id } sr: node(id: $sr) { id } wh: node(id: $wh) { id } cm: node(id: $cm) { id } cr: node(id: $cr) { id } }",
        {},
        lambda b, v, a: (
            b["data"]
            == dict.fromkeys(
                ["c", "s", "p", "g", "t", "st", "w", "cp", "e", "i", "sv", "sr", "wh", "cm", "cr"]
            )
        ),
    ),
    "customerByPhone": (
        "query($phone: String!) { customerByPhone(phone: $phone) { id } }",
        {},
        lambda b, v, a: b["data"]["customerByPhone"] is None,
    ),
    "customers": (
        "query($s: ID!) { all: customers { nodes { id } } mine: customers(filter: {homeStoreId: $s}) { nodes { id } } }",
        {},
        lambda b, v, a: b["data"] == {"all": {"nodes": [{"id": v["c2"]}]}, "mine": {"nodes": []}},
    ),
    "segments": (
        "{ segments { nodes { name } } }",
        {},
        lambda b, v, a: b["data"]["segments"] == {"nodes": []},
    ),
    "kpis": (
        'query($s: ID!) { kpis(from: "2020-01-01T00:00:00+08:00", to: "2040-01-01T00:00:00+08:00", storeId: $s) { salesCount activeCustomers newCustomers } }',
        {},
        lambda b, v, a: (
            b["data"]["kpis"] == {"salesCount": 0, "activeCustomers": 0, "newCustomers": 0}
        ),
    ),
    "staffKpis": (
        'query($s: ID!) { staffKpis(from: "2020-01-01T00:00:00+08:00", to: "2040-01-01T00:00:00+08:00", storeId: $s) { rank } }',
        {},
        lambda b, v, a: b["data"]["staffKpis"] == [],
    ),
    "weeklyReport": (
        'query($s: ID!) { weeklyReport(storeId: $s, weekStart: "2026-03-02") { url } }',
        {},
        lambda b, v, a: (
            b["data"] is None and b["errors"][0]["extensions"]["code"] == "unknown_store"
        ),
    ),
    "kpiTargetSet": (
        'mutation($s: ID!) { kpiTargetSet(input: {kpi: "core.net_sales", period: MONTH, periodStart: "2026-02-01", target: "1", storeId: $s}) { errors { code } } }',
        {},
        lambda b, v, a: _errors(b, "kpiTargetSet") == ["unknown_store"],
    ),
    "webhookSubscriptions": (
        "{ webhookSubscriptions { nodes { url } } }",
        {},
        lambda b, v, a: b["data"]["webhookSubscriptions"] == {"nodes": []},
    ),
    "webhookSubscriptionCreate": (
        'mutation { webhookSubscriptionCreate(input: {url: "https://example.com/a", events: ["purchase.recorded"]}) { subscription { url } errors { code } } }',
        {},
        lambda b, v, a: _errors(b, "webhookSubscriptionCreate") == [],
    ),
    "webhookSubscriptionUpdate": (
        "mutation($wh: ID!) { webhookSubscriptionUpdate(input: {id: $wh, active: false}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "webhookSubscriptionUpdate"),
    ),
    "webhookSubscriptionRotateSecret": (
        "mutation($wh: ID!) { webhookSubscriptionRotateSecret(input: {id: $wh}) { secret errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "webhookSubscriptionRotateSecret"),
    ),
    "webhookSubscriptionDelete": (
        "mutation($wh: ID!) { webhookSubscriptionDelete(input: {id: $wh}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "webhookSubscriptionDelete"),
    ),
    "kpiTargetRemove": (
        "mutation($kt: ID!) { kpiTargetRemove(input: {id: $kt}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "kpiTargetRemove"),
    ),
    "sampleVisitTotal": (
        "{ sampleVisitTotal }",
        {},
        lambda b, v, a: b["data"]["sampleVisitTotal"] == 0,
    ),
    "loyaltyCouponUse": (
        "mutation($cc: String!) { loyaltyCouponUse(input: {code: $cc}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "loyaltyCouponUse"),
    ),
    "loyaltyRewards": (
        "{ loyaltyRewards { nodes { code } } }",
        {},
        lambda b, v, a: b["data"]["loyaltyRewards"] == {"nodes": []},
    ),
    "loyaltyRewardCreate": (
        'mutation { loyaltyRewardCreate(input: {code: "R1", name: "r", pointsCost: 5}) { errors { code } } }',
        {},
        lambda b, v, a: _errors(b, "loyaltyRewardCreate") == [],
    ),
    "loyaltyRewardRedeem": (
        'mutation($c: ID!, $w: ID!) { loyaltyRewardRedeem(input: {customerId: $c, rewardId: $w, idempotencyKey: "p3"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "loyaltyRewardRedeem"),
    ),
    "loyaltyLedger": (
        "query($c: ID!) { loyaltyLedger(customerId: $c) { nodes { points } } }",
        {},
        lambda b, v, a: b["data"]["loyaltyLedger"]["nodes"] == [],
    ),
    "loyaltyRedeem": (
        'mutation($c: ID!) { loyaltyRedeem(input: {customerId: $c, points: 1, idempotencyKey: "p1"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "loyaltyRedeem"),
    ),
    "loyaltyAdjust": (
        'mutation($c: ID!) { loyaltyAdjust(input: {customerId: $c, points: 5, reason: "x", idempotencyKey: "p2"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "loyaltyAdjust"),
    ),
    "loyaltyReferralRecord": (
        "mutation($c: ID!, $c2: ID!) { loyaltyReferralRecord(input: {customerId: $c2, referrerId: $c}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "loyaltyReferralRecord"),
    ),
    "careCampaigns": (
        "{ careCampaigns { nodes { id } } }",
        {},
        lambda b, v, a: b["data"]["careCampaigns"] == {"nodes": []},
    ),
    "careCampaign": (
        "query($cm: ID!, $cr: ID!) { careCampaign(id: $cm) { id } node(id: $cr) { id } }",
        {},
        lambda b, v, a: b["data"] == {"careCampaign": None, "node": None},
    ),
    "careCampaignCreate": (
        'mutation($g: ID!) { careCampaignCreate(input: {name: "x", kind: ONE_OFF, message: "m", segmentId: $g}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "careCampaignCreate"),
    ),
    "careCampaignUpdate": (
        'mutation($cm: ID!) { careCampaignUpdate(input: {id: $cm, name: "x"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "careCampaignUpdate"),
    ),
    "careCampaignActivate": (
        "mutation($cm: ID!) { careCampaignActivate(input: {id: $cm}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "careCampaignActivate"),
    ),
    "careCampaignPause": (
        "mutation($cm: ID!) { careCampaignPause(input: {id: $cm}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "careCampaignPause"),
    ),
    "careCampaignApprove": (
        "mutation($cm: ID!) { careCampaignApprove(input: {id: $cm}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "careCampaignApprove"),
    ),
    "careCampaignRunNow": (
        "mutation($cm: ID!) { careCampaignRunNow(input: {id: $cm}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "careCampaignRunNow"),
    ),
    "surveys": (
        "{ surveys { nodes { id } } }",
        {},
        lambda b, v, a: b["data"]["surveys"] == {"nodes": []},
    ),
    "survey": (
        "query($sv: ID!) { survey(id: $sv) { id } }",
        {},
        lambda b, v, a: b["data"]["survey"] is None,
    ),
    "surveyResults": (
        "query($sv: ID!, $s: ID!) { all: surveyResults(surveyId: $sv) { responses } store: surveyResults(surveyId: $sv, storeId: $s) { responses } }",
        {},
        lambda b, v, a: b["data"] == {"all": None, "store": None},
    ),
    "surveyForm": (
        "query($tk: String!) { surveyForm(token: $tk) { form { title } errors { code } } }",
        {},
        lambda b, v, a: (
            b["data"]["surveyForm"] == {"form": None, "errors": [{"code": "not_found"}]}
        ),
    ),
    "surveyAnswer": (
        'mutation($tk: String!) { surveyAnswer(input: {token: $tk, answers: [{questionKey: "nps", number: 9}]}) { accepted errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "surveyAnswer"),
    ),
    "surveyCreate": (
        'mutation($sv: ID!) { surveyCreate(input: {name: "x", basedOnId: $sv}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "surveyCreate"),
    ),
    "surveyUpdate": (
        'mutation($sv: ID!) { surveyUpdate(input: {id: $sv, name: "x"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "surveyUpdate"),
    ),
    "surveyPublish": (
        "mutation($sv: ID!) { surveyPublish(input: {id: $sv}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "surveyPublish"),
    ),
    "surveyClose": (
        "mutation($sv: ID!) { surveyClose(input: {id: $sv}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "surveyClose"),
    ),
    "surveyInvite": (
        "mutation($sv: ID!, $c2: ID!) { surveyInvite(input: {surveyId: $sv, customerIds: [$c2]}) { queued errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "surveyInvite"),
    ),
    "surveyTriggerSet": (
        "mutation($sv: ID!) { surveyTriggerSet(input: {surveyId: $sv, kind: PURCHASE}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "surveyTriggerSet"),
    ),
    "surveyResponseRecord": (
        'mutation($sv: ID!) { surveyResponseRecord(input: {surveyId: $sv, channel: PHONE, answers: [{questionKey: "nps", number: 9}]}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "surveyResponseRecord"),
    ),
    "surveyExport": (
        "mutation($sv: ID!) { surveyExport(input: {surveyId: $sv, format: CSV}) { url errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "surveyExport"),
    ),
    "storeCreate": (
        'mutation { storeCreate(input: {code: "B1", name: "mine"}) { store { code } errors { code } } }',
        {},
        lambda b, v, a: b["data"]["storeCreate"] == {"store": {"code": "B1"}, "errors": []},
    ),
    "businessCalendar": (
        'query($s: ID!) { businessCalendar(from: "2026-02-14", to: "2026-02-16", storeId: $s) { date } }',
        {},
        lambda b, v, a: b["data"] is None and b["errors"][0]["extensions"]["code"] == "not_found",
    ),
    "calendarOverrides": (
        "{ calendarOverrides { nodes { id } } }",
        {},
        lambda b, v, a: b["data"]["calendarOverrides"] == {"nodes": []},
    ),
    "calendarFestivals": (
        "{ calendarFestivals { code builtin } }",
        {},
        lambda b, v, a: all(f["builtin"] for f in b["data"]["calendarFestivals"]),
    ),
    "calendarOverrideSet": (
        'mutation($s: ID!) { calendarOverrideSet(input: {kind: CLOSURE, startDate: "2026-03-01", storeId: $s}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "calendarOverrideSet"),
    ),
    "calendarOverrideRemove": (
        "mutation($o: ID!) { calendarOverrideRemove(input: {id: $o}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "calendarOverrideRemove"),
    ),
    "calendarFestivalSet": (
        'mutation($f: ID!) { calendarFestivalSet(input: {id: $f, code: "anniv", nameZh: "店庆", rule: {kind: "fixed", month: 6, day: 18}}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "calendarFestivalSet"),
    ),
    "calendarFestivalRemove": (
        "mutation($f: ID!) { calendarFestivalRemove(input: {id: $f}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "calendarFestivalRemove"),
    ),
    "calendarSettingsSet": (
        "mutation { calendarSettingsSet(input: {leapDayBirthday: MAR1}) { settings { leapDayBirthday } errors { code } } }",
        {},
        lambda b, v, a: (
            b["data"]["calendarSettingsSet"]
            == {"settings": {"leapDayBirthday": "MAR1"}, "errors": []}
        ),
    ),
    "storeUpdate": (
        'mutation($s: ID!) { storeUpdate(input: {id: $s, name: "mine now"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "storeUpdate"),
    ),
    "storeClose": (
        "mutation($s: ID!) { storeClose(input: {id: $s}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "storeClose"),
    ),
    "staffUpdate": (
        'mutation($st: ID!) { staffUpdate(input: {id: $st, name: "x"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "staffUpdate"),
    ),
    "staffDeactivate": (
        "mutation($st: ID!) { staffDeactivate(input: {id: $st}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "staffDeactivate"),
    ),
    "staffUnlock": (
        "mutation($st: ID!) { staffUnlock(input: {id: $st}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "staffUnlock"),
    ),
    "staffPasswordChange": (
        'mutation($st: ID!) { staffPasswordChange(input: {id: $st, newPassword: "a-new-password-1"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "staffPasswordChange"),
    ),
    "staffCreate": (
        'mutation($s: ID!) { staffCreate(input: {login: "x1", name: "x", password: "long-password-1", role: "cashier", storeIds: [$s]}) { errors { code } } }',
        {},
        lambda b, v, a: _errors(b, "staffCreate") == ["unknown_store"],
    ),
    "staffLogin": (
        'mutation($t: String!) { staffLogin(input: {tenant: $t, login: "bstaff", password: "wrong-password-1"}) { token errors { code } } }',
        {},
        lambda b, v, a: _errors(b, "staffLogin") == ["invalid_credentials"],
    ),
    "customerCreate": (
        'mutation($s: ID!) { customerCreate(input: {name: "x", homeStoreId: $s}) { errors { code } } }',
        {},
        lambda b, v, a: _errors(b, "customerCreate") == ["unknown_store"],
    ),
    "customerUpdate": (
        'mutation($c: ID!) { customerUpdate(input: {id: $c, name: "x"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "customerUpdate"),
    ),
    "customerMerge": (
        "mutation($c: ID!, $c2: ID!) { customerMerge(input: {sourceId: $c, targetId: $c2}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "customerMerge"),
    ),
    "customerErase": (
        "mutation($c: ID!) { customerErase(input: {id: $c}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "customerErase"),
    ),
    "customerExport": (
        "mutation($c: ID!) { customerExport(input: {id: $c}) { data errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "customerExport"),
    ),
    "consentSet": (
        "mutation($c: ID!) { consentSet(input: {customerId: $c, purpose: MARKETING, granted: true}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "consentSet"),
    ),
    "purchaseRecord": (
        'mutation($s: ID!, $c: ID!) { purchaseRecord(input: {storeId: $s, customerId: $c, lines: [{sku: "a", unitPrice: "1"}]}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "purchaseRecord"),
    ),
    "purchaseRefund": (
        "mutation($p: ID!) { purchaseRefund(input: {refundOf: $p}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "purchaseRefund"),
    ),
    "interactionLog": (
        'mutation($c: ID!) { interactionLog(input: {customerId: $c, channel: PHONE, content: "x"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "interactionLog"),
    ),
    "taskCreate": (
        'mutation($c: ID!) { taskCreate(input: {title: "x", dueAt: "2030-01-01T00:00:00+08:00", customerId: $c}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "taskCreate"),
    ),
    "taskComplete": (
        "mutation($t: ID!) { taskComplete(input: {id: $t}) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "taskComplete"),
    ),
    "segmentCreate": (
        'mutation($s: ID!) { segmentCreate(input: {name: "B segment", filter: {all: [{field: "home_store_id", op: "eq", value: $s}]}}) { errors { code } } }',
        {},
        lambda b, v, a: (
            _errors(b, "segmentCreate") == ["invalid_value"]
        ),  # segment filters take raw ids
    ),
}


def _root_fields() -> set[str]:
    from core.plugins import load_runtime

    registry = load_runtime(strict=False).registry
    schemas = SchemaRegistry(registry)
    names: set[str] = set()
    for schema in (schemas.for_modules(frozenset(registry.plugins)), schemas.public):
        graphql_schema = schema._schema
        for root in (graphql_schema.query_type, graphql_schema.mutation_type):
            names |= set(root.fields) if root else set()
    return names


def test_every_root_field_has_a_cross_tenant_probe():
    assert set(PROBES) == _root_fields()


async def test_cross_tenant_probe(api, tenant, owner, make_key, victim, enable_plugins):
    from core.customers.service import create_customer

    # the all-plugins schema: every root field
    await enable_plugins(tenant, "sample", "loyalty", "surveys", "care", "complaints")
    key = await make_key(tenant)
    own = await create_customer(tenant, owner, {"name": "A customer"})
    variables = {
        "c": victim["customer"],
        "c2": to_global_id("Customer", own.id),  # merge B's customer into one of A's
        "s": victim["store"],
        "p": victim["purchase"],
        "g": victim["segment"],
        "w": victim["reward"],
        "cc": victim["coupon"],
        "t": victim["task"],
        "st": victim["staff"],
        "cp": victim["coupon_id"],
        "e": victim["entry"],
        "i": victim["interaction"],
        "o": victim["override"],
        "f": victim["festival"],
        "phone": victim["phone"],
        "kt": victim["kpi_target"],
        "sv": victim["survey"],
        "sr": victim["survey_response"],
        "wh": victim["webhook"],
        "cm": victim["campaign"],
        "cr": victim["care_run"],
        "cmp": victim["complaint"],
        "pr": victim["praise"],
        "dm": victim["damage"],
        # B's secret under A's slug: a token names its tenant, another tenant's is not_found
        "tk": f"{tenant.slug}.{victim['survey_token'].split('.', 1)[1]}",
        "ct": f"{tenant.slug}.{victim['complaint_token'].split('.', 1)[1]}",
        # the public form: B's store code under A's slug (B's own slug is B's public form)
        "ts": tenant.slug,
        "sc": victim["store_code"],
    }
    for name, (document, _extra, check) in PROBES.items():
        used = {k: v for k, v in variables.items() if f"${k}" in document}
        if name == "staffLogin":
            used = {"t": victim["tenant"].slug}
        public = name in (
            "ping",
            "surveyForm",
            "surveyAnswer",
            "complaintSubmit",
            "complaintStatus",
        )
        body = await api.gql(document, used, key=None if public else key)
        assert check(body, variables, tenant), (name, body)
        # Indistinguishable: the same call with IDs that exist nowhere answers the same.
        fresh = {k: _fresh(v) for k, v in used.items()}
        if fresh != used and name != "customers":
            again = await api.gql(document, fresh, key=key)
            assert _strip(again) == _strip(body), (name, body, again)
        await _hostile_probe(api, name, document, used, None if name == "ping" else key)


async def _hostile_probe(api, name, document, used, key):
    """Issue 17: every root field refuses a NUL character or absurd nesting in its variables
    and its literals as ``invalid_input`` on the field — never ``internal``, never a 5xx."""
    import re

    def refused(body, field):
        assert body["data"] is None, (name, body)
        assert [
            (e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]
        ] == [("invalid_input", field)], (name, body)

    for variable, value in used.items():
        refused(await api.gql(document, {**used, variable: value + "\x00"}, key=key), variable)
        deep: object = value
        for _ in range(40):
            deep = [deep]
        body = await api.gql(document, {**used, variable: deep}, key=key)
        refused(body, variable + ".0" * 32)
    literal = re.search(r'(\w+): "([^"]*)"', document)
    if literal is not None:
        poisoned = document[: literal.end(2)] + "\\u0000" + document[literal.end(2) :]
        body = await api.gql(poisoned, used, key=key)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "invalid_input"


def _fresh(value):
    from core.graphql import parse_global_id

    parsed = parse_global_id(value)
    return to_global_id(parsed[0], uuid.uuid4()) if parsed else value


def _strip(body):
    """The body without what differs per request (the request id, the cost)."""
    errors = [
        {**e, "extensions": {k: v for k, v in e.get("extensions", {}).items() if k != "requestId"}}
        for e in body.get("errors", [])
    ]
    return {k: v for k, v in body.items() if k != "extensions"} | (
        {"errors": errors} if errors else {}
    )


# --- authorization matrix -----------------------------------------------------------------------

ROLE_OPERATIONS = {
    "storeCreate": 'mutation { storeCreate(input: {code: "Z%s", name: "z"}) { errors { code } } }',
    "customerCreate": 'mutation { customerCreate(input: {name: "z"}) { errors { code } } }',
    "customerExport": "mutation($c: ID!) { customerExport(input: {id: $c}) { errors { code } } }",
    "customerErase": "mutation($c: ID!) { customerErase(input: {id: $c}) { errors { code } } }",
    "purchaseRecord": 'mutation($s: ID!) { purchaseRecord(input: {storeId: $s, lines: [{sku: "a", unitPrice: "1"}]}) { errors { code } } }',
    "segmentCreate": 'mutation { segmentCreate(input: {name: "s%s", filter: {all: [{field: "value_class", op: "eq", value: "regular"}]}}) { errors { code } } }',
    "kpis": '{ kpis(from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { salesCount } }',
    "customers": "{ customers { nodes { id } } }",
    "staffCreate": 'mutation { staffCreate(input: {login: "l%s", name: "n", password: "long-password-1", role: "cashier"}) { errors { code } } }',
}

ALLOWED = {
    "owner": set(ROLE_OPERATIONS),
    "hq_manager": set(ROLE_OPERATIONS),
    "store_manager": {"customerCreate", "purchaseRecord", "kpis", "customers"},
    "cashier": {"customerCreate", "purchaseRecord", "customers"},
    "service_agent": {"customerCreate", "customers"},
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
async def test_authorization_matrix(api, tenant, owner, make_key, role):
    from core.customers.service import create_customer
    from tenants.service import create_store

    store = (await create_store(tenant, owner, {"code": f"R{uuid.uuid4().hex[:6]}", "name": "r"}))[
        "id"
    ]
    key = await make_key(
        tenant, role=role, store_id=None if role in ("owner", "hq_manager") else store
    )
    for name, template in ROLE_OPERATIONS.items():
        customer = await create_customer(tenant, owner, {"name": "victim"})
        document = template.replace("%s", uuid.uuid4().hex[:6])
        variables = {
            k: v
            for k, v in {
                "c": to_global_id("Customer", customer.id),
                "s": to_global_id("Store", store),
            }.items()
            if f"${k}" in document
        }
        body = await api.gql(document, variables, key=key)
        denied = [e for e in body.get("errors", []) if e["extensions"]["code"] == "forbidden"]
        assert (not denied) == (name in ALLOWED[role]), (role, name, body)
        if name in ALLOWED[role] and body.get("data") and isinstance(body["data"].get(name), dict):
            assert body["data"][name].get("errors", []) == [], (role, name, body)
