"""Schema registry (API-1), committed SDL, the cross-tenant probe and the role matrix (API-2)."""

from __future__ import annotations

import types
import uuid

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
    _moved, coupon = await redeem_reward(other_tenant, owner, customer.id, reward["id"], "b")
    return {
        "tenant": other_tenant,
        "store": to_global_id("Store", store),
        "customer": to_global_id("Customer", customer.id),
        "purchase": to_global_id("Purchase", purchase.id),
        "segment": to_global_id("Segment", segment["id"]),
        "reward": to_global_id("LoyaltyReward", reward["id"]),
        "coupon": coupon["code"],
        "task": to_global_id("Task", task),
        "staff": to_global_id("Staff", staff),
        "phone": "13987654321",
    }


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
    "me": (
        "{ me { tenant { slug } } }",
        {},
        lambda b, v, a: b["data"]["me"]["tenant"]["slug"] == a.slug,
    ),
    "ping": ("{ ping }", {}, lambda b, v, a: b["data"]["ping"] is True),
    "modules": (
        "{ modules { id } }",
        {},
        lambda b, v, a: b["data"]["modules"] == [{"id": "loyalty"}, {"id": "sample"}],
    ),
    "stores": ("{ stores { code } }", {}, lambda b, v, a: b["data"]["stores"] == []),
    "customer": (
        "query($c: ID!) { customer(id: $c) { name } }",
        {},
        lambda b, v, a: b["data"]["customer"] is None,
    ),
    "node": (
        "query($c: ID!, $s: ID!, $p: ID!, $g: ID!) { c: node(id: $c) { id } s: node(id: $s) { id } p: node(id: $p) { id } g: node(id: $g) { id } }",
        {},
        lambda b, v, a: b["data"] == {"c": None, "s": None, "p": None, "g": None},
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
    "segments": ("{ segments { name } }", {}, lambda b, v, a: b["data"]["segments"] == []),
    "kpis": (
        'query($s: ID!) { kpis(from: "2020-01-01T00:00:00+08:00", to: "2040-01-01T00:00:00+08:00", storeId: $s) { salesCount activeCustomers newCustomers } }',
        {},
        lambda b, v, a: (
            b["data"]["kpis"] == {"salesCount": 0, "activeCustomers": 0, "newCustomers": 0}
        ),
    ),
    "sampleVisitTotal": (
        "{ sampleVisitTotal }",
        {},
        lambda b, v, a: b["data"]["sampleVisitTotal"] == 0,
    ),
    "loyaltyCouponUse": (
        "mutation($cc: String!) { loyaltyCouponUse(code: $cc) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "loyaltyCouponUse"),
    ),
    "loyaltyRewards": (
        "{ loyaltyRewards { code } }",
        {},
        lambda b, v, a: b["data"]["loyaltyRewards"] == [],
    ),
    "loyaltyRewardCreate": (
        'mutation { loyaltyRewardCreate(input: {code: "R1", name: "r", pointsCost: 5}) { errors { code } } }',
        {},
        lambda b, v, a: _errors(b, "loyaltyRewardCreate") == [],
    ),
    "loyaltyRewardRedeem": (
        'mutation($c: ID!, $w: ID!) { loyaltyRewardRedeem(customerId: $c, rewardId: $w, idempotencyKey: "p3") { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "loyaltyRewardRedeem"),
    ),
    "loyaltyLedger": (
        "query($c: ID!) { loyaltyLedger(customerId: $c) { nodes { points } } }",
        {},
        lambda b, v, a: b["data"]["loyaltyLedger"]["nodes"] == [],
    ),
    "loyaltyRedeem": (
        'mutation($c: ID!) { loyaltyRedeem(customerId: $c, points: 1, idempotencyKey: "p1") { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "loyaltyRedeem"),
    ),
    "loyaltyAdjust": (
        'mutation($c: ID!) { loyaltyAdjust(customerId: $c, points: 5, reason: "x", idempotencyKey: "p2") { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "loyaltyAdjust"),
    ),
    "loyaltyReferralRecord": (
        "mutation($c: ID!, $c2: ID!) { loyaltyReferralRecord(customerId: $c2, referrerId: $c) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "loyaltyReferralRecord"),
    ),
    "storeCreate": (
        'mutation { storeCreate(input: {code: "B1", name: "mine"}) { store { code } errors { code } } }',
        {},
        lambda b, v, a: b["data"]["storeCreate"] == {"store": {"code": "B1"}, "errors": []},
    ),
    "staffCreate": (
        'mutation($s: ID!) { staffCreate(input: {login: "x1", name: "x", password: "long-password-1", role: "cashier", storeIds: [$s]}) { errors { code } } }',
        {},
        lambda b, v, a: _errors(b, "staffCreate") == ["unknown_store"],
    ),
    "staffLogin": (
        'mutation($t: String!) { staffLogin(tenant: $t, login: "bstaff", password: "wrong-password-1") { token errors { code } } }',
        {},
        lambda b, v, a: _errors(b, "staffLogin") == ["invalid_credentials"],
    ),
    "customerCreate": (
        'mutation($s: ID!) { customerCreate(input: {name: "x", homeStoreId: $s}) { errors { code } } }',
        {},
        lambda b, v, a: _errors(b, "customerCreate") == ["unknown_store"],
    ),
    "customerUpdate": (
        'mutation($c: ID!) { customerUpdate(id: $c, input: {name: "x"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "customerUpdate"),
    ),
    "customerMerge": (
        "mutation($c: ID!, $c2: ID!) { customerMerge(sourceId: $c, targetId: $c2) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "customerMerge"),
    ),
    "customerErase": (
        "mutation($c: ID!) { customerErase(id: $c) { errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "customerErase"),
    ),
    "customerExport": (
        "mutation($c: ID!) { customerExport(id: $c) { data errors { code } } }",
        {},
        lambda b, v, a: _missing(b, "customerExport"),
    ),
    "consentSet": (
        'mutation($c: ID!) { consentSet(input: {customerId: $c, purpose: "marketing", granted: true}) { errors { code } } }',
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
        'mutation($c: ID!) { interactionLog(input: {customerId: $c, channel: "phone", content: "x"}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "interactionLog"),
    ),
    "taskCreate": (
        'mutation($c: ID!) { taskCreate(input: {title: "x", dueAt: "2030-01-01T00:00:00+08:00", customerId: $c}) { errors { code } } }',
        {},
        lambda b, v, a: _missing(b, "taskCreate"),
    ),
    "taskComplete": (
        "mutation($t: ID!) { taskComplete(id: $t) { errors { code } } }",
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

    await enable_plugins(tenant, "sample", "loyalty")  # the all-plugins schema: every root field
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
        "phone": victim["phone"],
    }
    for name, (document, _extra, check) in PROBES.items():
        used = {k: v for k, v in variables.items() if f"${k}" in document}
        if name == "staffLogin":
            used = {"t": victim["tenant"].slug}
        body = await api.gql(document, used, key=None if name == "ping" else key)
        assert check(body, variables, tenant), (name, body)
        # Indistinguishable: the same call with IDs that exist nowhere answers the same.
        fresh = {k: _fresh(v) for k, v in used.items()}
        if fresh != used and name != "customers":
            again = await api.gql(document, fresh, key=key)
            assert _strip(again) == _strip(body), (name, body, again)


def _fresh(value):
    from core.graphql import parse_global_id

    parsed = parse_global_id(value)
    return to_global_id(parsed[0], uuid.uuid4()) if parsed else value


def _strip(body):
    return {k: v for k, v in body.items() if k != "extensions"}


# --- authorization matrix -----------------------------------------------------------------------

ROLE_OPERATIONS = {
    "storeCreate": 'mutation { storeCreate(input: {code: "Z%s", name: "z"}) { errors { code } } }',
    "customerCreate": 'mutation { customerCreate(input: {name: "z"}) { errors { code } } }',
    "customerExport": "mutation($c: ID!) { customerExport(id: $c) { errors { code } } }",
    "customerErase": "mutation($c: ID!) { customerErase(id: $c) { errors { code } } }",
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
