"""The GraphQL API end to end over HTTP: contract, per-module schemas, credentials."""

from __future__ import annotations

import pytest

from core.graphql import to_global_id

pytestmark = pytest.mark.usefixtures("db")

RECORD = """
mutation($input: PurchaseRecordInput!) {
  purchaseRecord(input: $input) {
    purchase { id kind amount currency replayed customer { name } store { code } lines { sku qty amount } }
    errors { field code message }
  }
}"""

CREATE_CUSTOMER = """
mutation($input: CustomerCreateInput!) {
  customerCreate(input: $input) { customer { id name phone } errors { field code message } }
}"""

BY_PHONE = "query($p: String!) { customerByPhone(phone: $p) { id name phone stats { purchaseCount totalSpent valueClass } } }"


async def _store(api, key, code="SH01"):
    r = await api.gql(
        "mutation($i: StoreCreateInput!) { storeCreate(input: $i) { store { id code } errors { code } } }",
        {"i": {"code": code, "name": f"Store {code}"}},
        key=key,
    )
    return r["data"]["storeCreate"]["store"]["id"]


async def test_cashier_records_a_purchase_and_finds_the_customer_by_phone(api, tenant, make_key):
    key = await make_key(tenant)
    store_id = await _store(api, key)
    created = await api.gql(
        CREATE_CUSTOMER, {"input": {"name": "王芳", "phone": "13912345678"}}, key=key
    )
    customer = created["data"]["customerCreate"]
    assert customer["errors"] == [] and customer["customer"]["phone"] == "139****5678"
    sale = {
        "storeId": store_id,
        "customerId": customer["customer"]["id"],
        "receiptNo": "R-1",
        "lines": [{"sku": "tea", "unitPrice": "12.50", "qty": "2"}],
    }
    first = await api.gql(RECORD, {"input": {**sale, "idempotencyKey": "k-1"}}, key=key)
    purchase = first["data"]["purchaseRecord"]["purchase"]
    assert first["data"]["purchaseRecord"]["errors"] == []
    assert (purchase["amount"], purchase["currency"], purchase["replayed"]) == (
        "25.00",
        "CNY",
        False,
    )
    assert purchase["customer"] == {"name": "王芳"} and purchase["store"] == {"code": "SH01"}
    assert purchase["lines"] == [{"sku": "tea", "qty": "2", "amount": "25.00"}]
    again = await api.gql(RECORD, {"input": {**sale, "idempotencyKey": "k-1"}}, key=key)
    assert again["data"]["purchaseRecord"]["purchase"]["id"] == purchase["id"]
    assert again["data"]["purchaseRecord"]["purchase"]["replayed"] is True
    other = await api.gql(
        RECORD, {"input": {**sale, "receiptNo": "R-2", "idempotencyKey": "k-1"}}, key=key
    )
    assert other["data"]["purchaseRecord"] == {
        "purchase": None,
        "errors": [
            {
                "field": "idempotencyKey",
                "code": "idempotency_mismatch",
                "message": "this idempotency key was already used for a different purchase",
            }
        ],
    }
    found = await api.gql(BY_PHONE, {"p": "139 1234 5678"}, key=key)
    assert found["data"]["customerByPhone"] == {
        "id": customer["customer"]["id"],
        "name": "王芳",
        "phone": "139****5678",
        "stats": {"purchaseCount": 1, "totalSpent": "25.00", "valueClass": "POTENTIAL"},
    }
    assert found["extensions"]["cost"]["requested"] > 0
    missing = await api.gql(BY_PHONE, {"p": "13900000000"}, key=key)
    assert missing["data"] == {"customerByPhone": None}


async def test_validation_failures_are_payload_errors_and_nothing_is_written(api, tenant, make_key):
    key = await make_key(tenant)
    store_id = await _store(api, key)
    bad = await api.gql(
        RECORD,
        {"input": {"storeId": store_id, "lines": [{"sku": "x", "unitPrice": "1.001"}]}},
        key=key,
    )
    assert bad["data"]["purchaseRecord"]["purchase"] is None
    assert [e["code"] for e in bad["data"]["purchaseRecord"]["errors"]] == ["invalid_amount"]
    dup = await api.gql(
        'mutation { storeCreate(input: {code: "SH01", name: "again"}) { store { id } errors { field code } } }',
        key=key,
    )
    assert dup["data"]["storeCreate"] == {
        "store": None,
        "errors": [{"field": "code", "code": "duplicate"}],
    }
    page = await api.gql("{ customers(first: 5) { edges { node { id } } } }", key=key)
    assert page["data"]["customers"]["edges"] == []


async def test_customers_connection_pages_with_cursors(api, tenant, make_key):
    key = await make_key(tenant)
    for i in range(5):
        await api.gql(
            CREATE_CUSTOMER, {"input": {"name": f"c{i}", "phone": f"1391234000{i}"}}, key=key
        )
    query = "query($after: String) { customers(first: 2, after: $after) { nodes { name } pageInfo { hasNextPage endCursor } } }"
    seen, after, pages = [], None, 0
    while True:
        page = (await api.gql(query, {"after": after}, key=key))["data"]["customers"]
        seen += [n["name"] for n in page["nodes"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == ["c0", "c1", "c2", "c3", "c4"] and pages == 3
    too_many = await api.gql("{ customers(first: 101) { nodes { id } } }", key=key)
    assert too_many["errors"][0]["extensions"]["code"] == "invalid"
    assert too_many["errors"][0]["message"] == "first must be between 1 and 100"


async def test_another_tenants_ids_look_exactly_like_missing_ones(
    api, tenant, other_tenant, make_key
):
    mine, theirs = await make_key(tenant), await make_key(other_tenant)
    created = await api.gql(
        CREATE_CUSTOMER, {"input": {"name": "B", "phone": "13912340001"}}, key=theirs
    )
    foreign = created["data"]["customerCreate"]["customer"]["id"]
    import uuid

    missing = to_global_id("Customer", uuid.uuid4())
    for gid in (foreign, missing):
        q = await api.gql(
            "query($id: ID!) { customer(id: $id) { name } node(id: $id) { id } }",
            {"id": gid},
            key=mine,
        )
        assert q["data"] == {"customer": None, "node": None}
        m = await api.gql(
            'mutation($id: ID!) { customerUpdate(input: {id: $id, name: "x"}) { customer { id } errors { field code message } } }',
            {"id": gid},
            key=mine,
        )
        assert m["data"]["customerUpdate"] == {
            "customer": None,
            "errors": [{"field": "id", "code": "not_found", "message": "customer not found"}],
        }
    phone = await api.gql(BY_PHONE, {"p": "13912340001"}, key=mine)
    assert phone["data"]["customerByPhone"] is None


async def test_each_tenant_sees_exactly_its_modules(
    api, tenant, other_tenant, make_key, enable_plugins
):
    await enable_plugins(tenant, "sample")
    with_sample, without = await make_key(tenant), await make_key(other_tenant)
    introspect = '{ __type(name: "Customer") { fields { name } } q: __type(name: "Query") { fields { name } } }'
    a = (await api.gql(introspect, key=with_sample))["data"]
    b = (await api.gql(introspect, key=without))["data"]
    assert "visits" in {f["name"] for f in a["__type"]["fields"]}
    assert "visits" not in {f["name"] for f in b["__type"]["fields"]}
    assert "sampleVisitTotal" in {f["name"] for f in a["q"]["fields"]}
    assert "sampleVisitTotal" not in {f["name"] for f in b["q"]["fields"]}
    refused = await api.gql("{ sampleVisitTotal }", key=without)
    assert refused["data"] is None
    assert (
        refused["errors"][0]["message"] == "Cannot query field 'sampleVisitTotal' on type 'Query'."
    )
    modules = await api.gql("{ modules { id version } }", key=with_sample)
    assert modules["data"]["modules"] == [{"id": "sample", "version": "1.2.0"}]
    assert (await api.gql("{ modules { id } }", key=without))["data"]["modules"] == []


async def test_sample_plugin_fields_resolve_through_purchases(
    api, tenant, make_key, enable_plugins, deliver_events
):
    await enable_plugins(tenant, "sample")
    key = await make_key(tenant)
    store_id = await _store(api, key)
    created = await api.gql(
        CREATE_CUSTOMER, {"input": {"name": "V", "phone": "13912340002"}}, key=key
    )
    cid = created["data"]["customerCreate"]["customer"]["id"]
    for n in range(2):
        await api.gql(
            RECORD,
            {
                "input": {
                    "storeId": store_id,
                    "customerId": cid,
                    "lines": [{"sku": "a", "unitPrice": "1"}],
                },
                "key": f"v{n}",
            },
            key=key,
        )
    await deliver_events(tenant)
    r = await api.gql(
        "query($id: ID!) { customer(id: $id) { visits } sampleVisitTotal }", {"id": cid}, key=key
    )
    assert r["data"] == {"customer": {"visits": 2}, "sampleVisitTotal": 2}


async def test_staff_login_token_and_roles(api, tenant, make_key):
    owner_key = await make_key(tenant)
    store_id = await _store(api, owner_key)
    made = await api.gql(
        "mutation($i: StaffCreateInput!) { staffCreate(input: $i) { staff { login role storeIds } errors { field code } } }",
        {
            "i": {
                "login": "li",
                "name": "Li",
                "password": "long-password-1",
                "role": "cashier",
                "storeIds": [store_id],
            }
        },
        key=owner_key,
    )
    assert made["data"]["staffCreate"] == {
        "staff": {"login": "li", "role": "cashier", "storeIds": [store_id]},
        "errors": [],
    }
    login = 'mutation($t: String!, $p: String!) { staffLogin(input: {tenant: $t, login: "li", password: $p}) { token expiresAt errors { code } } }'
    wrong = await api.gql(login, {"t": tenant.slug, "p": "nope-nope-nope"})
    assert wrong["data"]["staffLogin"] == {
        "token": None,
        "expiresAt": None,
        "errors": [{"code": "invalid_credentials"}],
    }
    ok = await api.gql(login, {"t": tenant.slug, "p": "long-password-1"})
    token = ok["data"]["staffLogin"]["token"]
    me = await api.gql("{ me { kind role storeIds tenant { slug } } }", key=token)
    assert me["data"]["me"] == {
        "kind": "STAFF",
        "role": "cashier",
        "storeIds": [store_id],
        "tenant": {"slug": tenant.slug},
    }
    denied = await api.gql(
        'mutation { storeCreate(input: {code: "X1", name: "x"}) { store { id } } }', key=token
    )
    assert denied["data"] is None
    assert denied["errors"][0]["extensions"]["code"] == "forbidden"
    assert denied["errors"][0]["message"] == "permission 'stores:write' is required"
    tampered = await api.http.post(
        "/graphql",
        json={"query": "{ me { role } }"},
        headers={"Authorization": f"Bearer {token[:-2]}xx"},
    )
    assert tampered.status_code == 401
    assert tampered.json()["errors"][0]["extensions"]["code"] == "unauthenticated"


async def test_revoked_key_is_refused(api, tenant, owner):
    from tenants.credentials import create_api_key, revoke_api_key

    key_id, key = await create_api_key(tenant, owner, name="pos", role="cashier")
    assert (await api.gql("{ me { role } }", key=key))["data"]["me"] == {"role": "cashier"}
    await revoke_api_key(tenant, owner, key_id)
    await api.gql("{ me { role } }", key=key, status=401)
