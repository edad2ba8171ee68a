"""API-4 and API-5: limits, masking, transport rules, rate limits, statements per page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("db")


def codes(body):
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_depth_limit(api, tenant, make_key):
    key = await make_key(tenant)
    deep = "{ customers { nodes { " + "homeStore { code } " + "} } }"
    assert "errors" not in await api.gql(deep, key=key)
    nested = 'query { node(id: "x") { ...F } } fragment F on Customer { ' + ("id " * 1) + "}"
    assert "errors" not in await api.gql(nested, key=key)
    too_deep = "{ " + "a: customers { edges { node { homeStore { code } } } } " + "}"
    assert "errors" not in await api.gql(too_deep, key=key)
    # 13 levels through the Purchase/Customer cycle is refused before execution.
    body = "stats { valueClass }"
    for _ in range(6):
        body = f"customers {{ nodes {{ {body} }} }}"
    refused = await api.gql("{ " + body + " }", key=key)
    assert refused["data"] is None
    assert "exceeds maximum operation depth" in refused["errors"][0]["message"]


async def test_alias_limit_counts_aliases_inside_fragments(api, tenant, make_key):
    key = await make_key(tenant)
    aliases = " ".join(f"a{i}: name" for i in range(31))
    refused = await api.gql(
        "query { customers { nodes { ...F } } } fragment F on Customer { " + aliases + " }",
        key=key,
    )
    assert refused["data"] is None
    assert refused["errors"][0]["message"] == "31 aliases found. Allowed: 30"


async def test_token_limit(api, tenant, make_key):
    key = await make_key(tenant)
    refused = await api.gql("{ " + "me { role } " * 2000 + "}", key=key)
    assert refused["data"] is None
    assert "token" in refused["errors"][0]["message"].lower()


async def test_cost_limit_is_reported_and_enforced(api, tenant, make_key):
    key = await make_key(tenant)
    cheap = await api.gql("{ customers(first: 10) { nodes { name } } }", key=key)
    assert cheap["extensions"]["cost"] == {"requested": 1 + 10 * (1 + 1), "limit": 5000}
    costly = await api.gql(
        "{ customers(first: 100) { edges { node { name phone email tags stats { rScore fScore mScore valueClass lifecycle purchaseCount } homeStore { code name region } } } } "
        "b: customers(first: 100) { edges { node { name phone email tags stats { rScore fScore mScore valueClass lifecycle purchaseCount } homeStore { code name region } } } } "
        "c: customers(first: 100) { edges { node { name phone email tags stats { rScore fScore mScore valueClass lifecycle purchaseCount } homeStore { code name region } } } } }",
        key=key,
    )
    assert costly["data"] is None
    assert codes(costly) == ["query_too_costly"]
    assert costly["extensions"]["cost"] == {"requested": 3 * 1701, "limit": 5000}
    page = await api.gql("{ customers(first: 100) { nodes { name } } }", key=key)
    assert page["data"] == {"customers": {"nodes": []}}


async def test_a_prepared_operation_still_meets_the_cost_limit_and_reports_errors(
    api, tenant, make_key, caplog
):
    """An operation run once through every check takes the fast path afterwards: the cost
    (which depends on the variables) is still checked and reported, errors are still typed,
    and bugs are still masked and logged."""
    key = await make_key(tenant)
    page = (
        "customers(first: $n) { edges { node { name phone email tags "
        "stats { rScore fScore mScore valueClass lifecycle purchaseCount } } } }"
    )
    query = "query($n: Int!) { " + " ".join(f"{a}: {page}" for a in "abcde") + " }"
    first = await api.gql(query, {"n": 10}, key=key)  # the full path: parsed, validated, costed
    again = await api.gql(query, {"n": 10}, key=key)  # the prepared path
    assert first["data"] == again["data"] == {a: {"edges": []} for a in "abcde"}
    assert first["extensions"]["cost"] == again["extensions"]["cost"]
    assert again["extensions"]["cost"]["limit"] == 5000
    costly = await api.gql(query, {"n": 100}, key=key)
    assert costly["data"] is None and codes(costly) == ["query_too_costly"]
    assert costly["extensions"]["cost"]["requested"] > 5000
    bad = await api.gql(query, {"n": "ten"}, key=key)  # variables are still coerced
    assert bad["data"] is None and "Int cannot represent" in bad["errors"][0]["message"]
    assert codes(bad) == ["invalid_input"]
    assert "resolver failed" not in caplog.text  # the client's mistake, not logged as a bug
    too_many = "query($n: Int!) { customers(first: $n) { nodes { name } } }"
    refusals = [await api.gql(too_many, {"n": 1000}, key=key) for _ in range(2)]
    assert [codes(r) for r in refusals] == [["invalid"]] * 2  # typed on both paths


def test_a_prepared_operations_cost_is_remembered_by_what_it_depends_on(monkeypatch):
    """CostOf answers as query_cost for every limit and page size, counting each combination
    once: the `first` variables (anywhere, fragments too) and the limit are its key."""
    from graphql import parse

    from api.graphql import cost
    from api.graphql.cost import CostOf, query_cost

    document = parse(
        "query($n: Int, $m: Int, $q: String) { a: customers(first: $n, filter: {search: $q}) "
        "{ nodes { name ...F } } } fragment F on Customer { purchases(first: $m) { nodes { id } } }"
    )
    cost_of = CostOf(document, None)
    assert cost_of.names == ("m", "n")
    counted = []
    real = cost.query_cost

    def counting(*args, **kwargs):
        counted.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cost, "query_cost", counting)
    for variables, limit in [
        ({"n": 10, "m": 5, "q": "a"}, 5000),
        ({"n": 10, "m": 5, "q": "b"}, 5000),  # the search does not change the cost
        ({"n": 10, "m": 6}, 5000),
        ({"n": 100, "m": 100}, 5000),  # past the limit: the count where it was passed
        ({"n": 100, "m": 100}, None),
        ({"n": "ten"}, 5000),  # not an int: the default page, as query_cost counts it
        (None, 5000),
    ]:
        assert cost_of(variables, limit) == real(document, variables, None, limit=limit)
    assert len(counted) == 5  # the second search, and no variables after "ten", remembered
    # customers: 1 + 10 * (nodes: 1 + (name 1 + purchases: 1 + 5 * (nodes: 1 + id 1)))
    assert query_cost(document, {"n": 10, "m": 5}) == 1 + 10 * (1 + (1 + (1 + 5 * (1 + 1))))


async def test_anonymous_callers_get_only_public_operations_and_no_introspection(api):
    schema = await api.gql("{ __schema { types { name } } }")
    assert schema["data"] is None
    assert "introspection" in schema["errors"][0]["message"].lower()
    hidden = await api.gql("{ customers { nodes { name } } }")
    assert hidden["errors"][0]["message"] == "Cannot query field 'customers' on type 'Query'."
    assert (await api.gql("{ ping }"))["data"] == {"ping": True}


async def test_no_field_suggestions(api, tenant, make_key):
    key = await make_key(tenant)
    typo = await api.gql('{ customer_by_phone(phone: "1") { id } }', key=key)
    assert "Did you mean" not in typo["errors"][0]["message"]


async def test_only_json_posts_execute_operations(api, tenant, make_key):
    key = await make_key(tenant)
    auth = {"Authorization": f"Bearer {key}"}
    form = await api.http.post(
        "/graphql",
        data={
            "query": 'mutation { storeCreate(input: {code: "F", name: "f"}) { errors { code } } }'
        },
        headers=auth,
    )
    assert form.status_code == 415
    assert form.json()["errors"][0]["extensions"]["code"] == "unsupported_media_type"
    get = await api.http.get("/graphql", params={"query": "{ me { role } }"}, headers=auth)
    assert get.headers["content-type"].startswith("text/html")  # GraphiQL, never an execution
    assert "graphiql" in get.text.lower()
    put = await api.http.put("/graphql", json={"query": "{ ping }"}, headers=auth)
    assert put.status_code == 405 and put.headers["allow"] == "GET, POST"
    malformed = await api.http.post(
        "/graphql", content=b"{not json", headers={**auth, "content-type": "application/json"}
    )
    assert malformed.status_code == 400
    huge = await api.http.post(
        "/graphql",
        content=b'{"query": "' + b" " * 2_000_000 + b'{ me { role } }"}',
        headers={**auth, "content-type": "application/json"},
    )
    assert huge.status_code == 413
    bad_scheme = await api.http.post(
        "/graphql", json={"query": "{ ping }"}, headers={"Authorization": "Basic x"}
    )
    assert bad_scheme.status_code == 401


async def test_internal_errors_are_masked_with_a_request_id(api, tenant, make_key, monkeypatch):
    import core.customers.service as service

    async def broken(*args, **kwargs):
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(service, "find_by_phone", broken)
    key = await make_key(tenant)
    r = await api.http.post(
        "/graphql",
        json={"query": '{ customerByPhone(phone: "13912345678") { id } }'},
        headers={"Authorization": f"Bearer {key}", "X-Request-Id": "req-42"},
    )
    error = r.json()["errors"][0]
    assert error["message"] == "internal error (request id req-42)"
    assert error["extensions"] == {"code": "internal", "requestId": "req-42"}
    assert "secret" not in r.text
    assert r.headers["x-request-id"] == "req-42"


async def test_rate_limit_per_key_answers_429_with_retry_after(api, tenant, make_key):
    from api.graphql.ratelimit import RateLimiter

    limiter = RateLimiter("3/minute", "100/minute", None)
    api.http._transport.app.state.rate_limiter = limiter
    key = await make_key(tenant)
    for _ in range(3):
        await api.gql("{ me { role } }", key=key)
    r = await api.http.post(
        "/graphql", json={"query": "{ me { role } }"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert r.json()["errors"][0]["extensions"]["code"] == "rate_limited"
    other = await make_key(tenant)  # another key of the same tenant still has its own budget
    assert (await api.gql("{ me { role } }", key=other))["data"] == {"me": {"role": "owner"}}


async def test_rate_limits_hold_across_workers_in_redis(tenant):
    import os
    import uuid

    from api.graphql.ratelimit import RateLimited, RateLimiter

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL")
    key = f"cred:test:{uuid.uuid4()}"
    await _clear_of_a_minute_edge()
    worker_a = RateLimiter("10/minute", "100/minute", url)
    worker_b = RateLimiter("10/minute", "100/minute", url)
    try:
        for _ in range(4):
            await worker_a.hit([key])
        for _ in range(6):
            await worker_b.hit([key])
        await worker_a.flush()  # what the next flush interval does on its own
        await worker_b.flush()
        with pytest.raises(RateLimited):  # B's count is 10 (no lag): it asks, and is refused
            await worker_b.hit([key])
        # A last heard 4: its eleventh hit is accepted (the one-interval lag the limiter allows,
        # at most the hits A takes in one interval), and its next flush brings it up to date.
        await worker_a.hit([key])
        await worker_a.flush()
        with pytest.raises(RateLimited):
            await worker_a.hit([key])
    finally:
        await worker_a.close()
        await worker_b.close()


async def test_the_next_flush_interval_shares_the_hits_without_being_asked(tenant):
    import asyncio
    import os
    import uuid

    import api.graphql.ratelimit as ratelimit
    from api.graphql.ratelimit import RateLimited, RateLimiter

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL")
    key = f"cred:test:{uuid.uuid4()}"
    await _clear_of_a_minute_edge()
    worker_a = RateLimiter("10/minute", "100/minute", url)
    worker_b = RateLimiter("10/minute", "100/minute", url)
    try:
        for _ in range(8):
            await worker_a.hit([key, f"tenant:{key}"])
        await asyncio.sleep(ratelimit.FLUSH_SECONDS * 3)
        await worker_b.hit([key])  # 9 and 10: B's first hits are far from the limit for B…
        await worker_b.hit([key])
        await asyncio.sleep(ratelimit.FLUSH_SECONDS * 3)
        with pytest.raises(RateLimited):  # …but after one interval A sees them
            await worker_a.hit([key])
        with pytest.raises(RateLimited):
            await worker_b.hit([key])
        shared = (await worker_b.shared.add([(f"mendian/tenant:{key}/{_window(60)}", 0, 60)]))[0]
        assert shared == 8  # the tenant's counter is shared in the same round trips
    finally:
        await worker_a.close()
        await worker_b.close()


def _window(span: int) -> int:
    import time

    return int(time.time() // span)


async def _clear_of_a_minute_edge() -> None:
    """The tests' hits must fall in one minute window."""
    import asyncio
    import time

    if time.time() % 60 > 55:
        await asyncio.sleep(60 - time.time() % 60 + 0.1)


async def test_statements_do_not_grow_with_page_size(
    api, tenant, make_key, enable_plugins, statements
):
    """Counted at the driver (issue 16, item 5): raw SQL per row would show too."""
    from core.customers.service import create_customer
    from tenants.service import create_store

    await enable_plugins(tenant, "sample", "loyalty", "surveys")
    from core.context import Actor

    owner = Actor(kind="staff", id="t", role="owner")
    store = await create_store(tenant, owner, {"code": "S1", "name": "s"})
    for i in range(60):
        await create_customer(
            tenant,
            owner,
            {"name": f"n{i}", "phone": f"139000{i:05d}", "home_store_id": str(store["id"])},
        )
    key = await make_key(tenant)

    async def count(first: int) -> int:
        query = (
            "query($n: Int!) { customers(first: $n) { nodes { name visits homeStore { code } "
            "stats { valueClass } loyalty { points tier { name } } "
            "surveyResponses(first: 3) { nodes { id } } } } }"
        )
        await api.gql(query, {"n": first}, key=key)  # warm per-process caches (tenant, modules)
        statements.reset()
        body = await api.gql(query, {"n": first}, key=key)
        assert len(body["data"]["customers"]["nodes"]) == first
        return statements.count

    few, many = await count(5), await count(50)
    assert few == many
    assert few >= 3  # the counter sees the statements (the page, the plugin fields' loaders)


async def test_rate_limiter_batches_far_from_the_limit_and_checks_near_it(monkeypatch):
    import api.graphql.ratelimit as ratelimit
    from api.graphql.ratelimit import RateLimited, RateLimiter

    monkeypatch.setattr(ratelimit, "FLUSH_SECONDS", 60.0)  # no background flush in this test
    await _clear_of_a_minute_edge()
    limiter = RateLimiter("50/minute", "1000/minute", None)
    calls: list[int] = []
    original = limiter.shared.add

    async def counting(counters):
        calls.append(len(counters))
        return await original(counters)

    limiter.shared.add = counting  # type: ignore[method-assign]
    try:
        for _ in range(40):
            await limiter.hit(["cred:k", "tenant:t"])
        assert calls == []  # far from the limit no hit waits for the shared count
        await limiter.flush()
        assert calls == [2]  # both keys' 40 hits in one round trip
        for _ in range(10):
            await limiter.hit(["cred:k", "tenant:t"])
        assert calls == [2] + [1] * 10  # near the limit (> 80 %) every hit waits, for that key only
        with pytest.raises(RateLimited):
            await limiter.hit(["cred:k", "tenant:t"])
        await limiter.flush()
        assert calls[-1] == 1  # the tenant's hits since, shared; nothing is flushed twice
        assert (await original([("mendian/tenant:t/" + str(_window(60)), 0, 60)])) == [51]
    finally:
        await limiter.close()


async def test_bounding_the_counters_never_drops_hits_not_yet_shared(monkeypatch):
    import api.graphql.ratelimit as ratelimit
    from api.graphql.ratelimit import RateLimiter

    monkeypatch.setattr(ratelimit, "FLUSH_SECONDS", 60.0)
    monkeypatch.setattr(ratelimit, "MAX_COUNTERS", 4)
    await _clear_of_a_minute_edge()
    limiter = RateLimiter("50/minute", "1000/minute", None)
    try:
        await limiter.hit(["cred:owed"])
        for i in range(20):  # far more keys than the bound, all of them owed until the flush
            await limiter.hit([f"cred:{i}"])
        await limiter.flush()
        for i in range(20):  # now shared: the bound applies
            await limiter.hit([f"cred:more{i}"])
            await limiter.flush()
        assert len(limiter._counters) <= 4
        window = _window(60)
        totals = await limiter.shared.add(
            [(f"mendian/cred:owed/{window}", 0, 60), (f"mendian/cred:7/{window}", 0, 60)]
        )
        assert totals == [1, 1]
    finally:
        await limiter.close()


# --- fragment bombs (issue 17, finding 1) ---------------------------------------------------


def fragment_bomb(levels: int, leaf: str = "ping") -> str:
    """``levels`` fragments, each spreading the next twice: 2^levels copies of ``leaf``."""
    parts = ["query { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on Query {{ {leaf} }}")
    return " ".join(parts)


@pytest.mark.parametrize("caller", ["anonymous", "key"])
async def test_a_fragment_bomb_is_refused_in_milliseconds_before_execution(
    api, tenant, make_key, caller
):
    """21 fragments each spreading the next twice (about 800 bytes) used to make the depth,
    alias and cost checks walk 2^21 selections: 13.5 s of CPU with the worker blocked."""
    import time

    key = await make_key(tenant) if caller == "key" else None
    bomb = fragment_bomb(21)
    assert len(bomb) < 1000
    started = time.perf_counter()
    refused = await api.gql(bomb, key=key)
    elapsed = time.perf_counter() - started
    assert refused["data"] is None
    assert refused["errors"][0]["message"] == (
        "the operation expands to 4194303 fragment spreads. Allowed: 500"
    )
    assert codes(refused)[0] == "query_too_complex"
    assert "cost" not in refused["extensions"]  # refused in validation, never costed or run
    assert elapsed < 1.0, elapsed  # (it took 13.5 s; a generous bound on a shared machine)


async def test_limits_count_through_fragments_exactly_and_each_fragment_once(api, tenant, make_key):
    from graphql import parse

    from api.graphql.cost import query_cost

    key = await make_key(tenant)
    # 2^7 = 128 copies of the leaf through 255 spreads: within the spread bound, so the cost,
    # depth and alias checks decide — each counting every copy, each fragment walked once.
    assert query_cost(parse(fragment_bomb(7))) == 128
    assert query_cost(parse(fragment_bomb(20))) == 2**20  # memoised: instant, still exact
    # With a limit, counting stops at the first total past it: F8 (4,096) spread twice.
    assert query_cost(parse(fragment_bomb(20)), limit=5000) == 8192
    aliased = await api.gql(fragment_bomb(7, leaf="a: me { role }"), key=key)
    assert [e["message"] for e in aliased["errors"]] == ["128 aliases found. Allowed: 30"]
    page = "customers(first: 100) { nodes { name phone email } }"
    costly = await api.gql(fragment_bomb(5, leaf=page), key=key)
    assert codes(costly) == ["query_too_costly"]
    assert costly["extensions"]["cost"]["requested"] > 5000
    deep = "stats { valueClass }"
    for _ in range(6):
        deep = f"customers {{ nodes {{ {deep} }} }}"
    too_deep = await api.gql(fragment_bomb(3, leaf=deep), key=key)
    assert too_deep["data"] is None  # (the core schema has no cycle that deep: it is invalid too)
    assert too_deep["errors"][0]["message"] == "'anonymous' exceeds maximum operation depth of 12"
    fine = await api.gql(fragment_bomb(3, leaf="me { role }"), key=key)
    assert fine["data"] == {"me": {"role": "owner"}}
    assert fine["extensions"]["cost"] == {"requested": 8 * 2, "limit": 5000}


async def test_fragment_definitions_are_bounded(api):
    many = "query { ...F0 } " + " ".join(f"fragment F{i} on Query {{ ping }}" for i in range(101))
    refused = await api.gql(many)
    assert refused["data"] is None
    assert "101 fragments found. Allowed: 100" in [e["message"] for e in refused["errors"]]


async def test_the_statement_counter_sees_raw_sql(tenant, statements):
    """``core.fetch`` bypasses piccolo on PostgreSQL: the driver-level count still sees it."""
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        statements.reset()
        for _ in range(3):
            await fetch("SELECT 1 AS one")
        assert statements.count == 3
