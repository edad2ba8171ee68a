"""``mendian bench tenants`` (SPEC §6, issue 16 item 3): one mixed workload — cashier look-ups,
sales, a customer list page with every enabled plugin's fields — spread at random over 10
tenants, then over all 10,000, on the same database and the same server process: what changes
is only how many tenants' caches, enabled sets and schemas the process juggles. Reports both
latencies, the server's memory after each phase, and what selecting a tenant's schema costs
per request. PostgreSQL only (RLS on, the app role)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.bench.http import WrkResult, _healthy, _serve, _wrk

__all__ = ["bench_tenants"]

# Module sets by tenant number: every combination the built-in plugins make, chains without any
_SETS: tuple[tuple[str, ...], ...] = (
    (),
    ("loyalty",),
    ("loyalty", "surveys"),
    ("loyalty", "complaints", "care"),
    ("surveys", "complaints"),
    ("loyalty", "surveys", "complaints", "care"),
    ("care",),
    ("loyalty", "sample"),
)

_LOOKUP = "query($p: String!) { customerByPhone(phone: $p) { id name phone } }"
_SALE = (
    "mutation($i: PurchaseRecordInput!) { purchaseRecord(input: $i) "
    "{ purchase { id } errors { code } } }"
)


def _page_query(modules: tuple[str, ...]) -> str:
    fields = "id name stats { valueClass lifecycle }"
    if "loyalty" in modules:
        fields += " loyalty { points tier { name } }"
    if "surveys" in modules:
        fields += " surveyResponses(first: 3) { nodes { id } }"
    if "sample" in modules:
        fields += " visits"
    return f"query {{ customers(first: 20) {{ nodes {{ {fields} }} }} }}"


@dataclass
class _Seeded:
    slug: str
    key: str
    store: str
    customers: list[str]
    phones: list[str]
    modules: tuple[str, ...]


async def _seed_one(run: str, i: int, runtime: Any) -> _Seeded:
    from core.context import Actor
    from core.customers import create_customer
    from core.graphql import to_global_id
    from core.purchases import record_purchase
    from tenants.credentials import create_api_key
    from tenants.modules import enable_module
    from tenants.service import create_store, create_tenant

    actor = Actor(kind="system", id="bench")
    owner = Actor(kind="staff", id="bench", role="owner", permissions=frozenset({"*"}))
    slug = f"bt{run}-{i:05d}"
    tenant = await create_tenant({"slug": slug, "name": f"连锁{i}"})
    modules = tuple(m for m in _SETS[i % len(_SETS)] if m in runtime.registry.plugins)
    for module in modules:
        await enable_module(tenant, actor, runtime, module)
    store = await create_store(tenant, actor, {"code": "S1", "name": "店"})
    phones = [f"13{i % 10}{i:05d}{k:03d}" for k in range(3)]
    ids = []
    for k, phone in enumerate(phones):
        c = await create_customer(
            tenant, actor, {"name": f"顾客{k}", "phone": phone, "home_store_id": str(store["id"])}
        )
        ids.append(str(to_global_id("Customer", c.id)))
        # a regular, not a first-time buyer: at 10,000 tenants nearly every sale of the run
        # would otherwise be its customer's first (new statistics rows) and skew the tail
        await record_purchase(
            tenant,
            owner,
            {
                "store_id": str(store["id"]),
                "customer_id": str(c.id),
                "lines": [{"sku": "tea", "unit_price": "12.50"}],
            },
            runtime=runtime,
        )
    # a store manager's key: the till's look-ups and sales, and the list page with survey fields
    _id, key = await create_api_key(tenant, actor, name="bench", role="store_manager")
    return _Seeded(slug, key, str(to_global_id("Store", store["id"])), ids, phones, modules)


def _load(state: Path | None, count: int) -> list[_Seeded] | None:
    """Tenants an earlier run seeded and saved (their keys are shown only once)."""
    if state is None or not state.exists():
        return None
    rows = json.loads(state.read_text())
    seeded = [_Seeded(**{**r, "modules": tuple(r["modules"])}) for r in rows]
    return seeded if len(seeded) == count else None


async def _seed(count: int, report: Callable[[str], None]) -> list[_Seeded]:
    from core.bootstrap import close_database, open_database
    from core.config import get_settings
    from core.migrate import migrate
    from core.plugins import load_runtime

    settings = get_settings()
    await migrate(settings)
    await open_database(settings)
    runtime = load_runtime()
    run = uuid.uuid4().hex[:6]
    seeded: list[_Seeded] = []
    started = time.perf_counter()
    try:
        for start in range(0, count, 16):  # 16 at a time: the pool, not the loop, is the limit
            seeded += await asyncio.gather(
                *(_seed_one(run, i, runtime) for i in range(start, min(count, start + 16)))
            )
            if start and start % 2000 == 0:
                report(f"  seeded {start:,} tenants ({time.perf_counter() - started:.0f} s)")
    finally:
        await close_database()
    report(f"seeded {count:,} tenants in {time.perf_counter() - started:.0f} s")
    return seeded


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _script(directory: Path, tenants: list[_Seeded], name: str, *, sweep: bool = False) -> Path:
    """The workload; ``sweep`` walks the tenants in turn instead (a warm-up that reaches each)."""
    rows = []
    for t in tenants:
        rows.append(
            "{"
            f"key={_lua_string(t.key)}, store={_lua_string(t.store)}, "
            f"page={_lua_string(_page_query(t.modules))}, "
            "phones={" + ", ".join(_lua_string(p) for p in t.phones) + "}, "
            "customers={" + ", ".join(_lua_string(c) for c in t.customers) + "}"
            "}"
        )
    path = directory / f"{name}.lua"
    path.write_text(
        "local tenants = {\n"
        + ",\n".join(rows)
        + "\n}\n"
        + f"""
local lookup = {_lua_string(_LOOKUP)}
local sale = {_lua_string(_SALE)}
local n = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  prefix = "{uuid.uuid4().hex}-" .. tid
  math.randomseed(tid * 7919)
end
local function body(query, variables)
  local q = string.gsub(query, '"', '\\\\"')
  return '{{"query":"' .. q .. '","variables":' .. variables .. '}}'
end
request = function()
  n = n + 1
  local t
  if {"true" if sweep else "false"} then
    t = tenants[((n - 1) * 2 + tid - 1) % #tenants + 1]  -- wrk -t2: thread 1 odd, 2 even
  else
    t = tenants[math.random(#tenants)]
  end
  local roll = math.random(10)
  local payload
  if roll <= 6 then
    payload = body(lookup, '{{"p":"' .. t.phones[math.random(#t.phones)] .. '"}}')
  elseif roll <= 8 then
    local c = t.customers[math.random(#t.customers)]
    payload = body(sale, '{{"i":{{"idempotencyKey":"' .. prefix .. '-' .. n .. '","storeId":"'
      .. t.store .. '","customerId":"' .. c
      .. '","lines":[{{"sku":"tea","unitPrice":"12.50","qty":"2"}}]}}}}')
  else
    payload = body(t.page, '{{}}')
  end
  return wrk.format("POST", "/graphql", {{["Content-Type"]="application/json",
    ["Authorization"]="Bearer " .. t.key}}, payload)
end
"""
    )
    return path


def _rss_mib(pid: int) -> float:
    """Resident memory of the server process and its children (uvicorn's worker)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def _check(url: str, tenants: list[_Seeded]) -> None:
    """Every query of the workload answers without errors for a sample of module sets."""
    import httpx

    seen: set[tuple[str, ...]] = set()
    for t in tenants:
        if t.modules in seen:
            continue
        seen.add(t.modules)
        r = httpx.post(
            url,
            json={"query": _page_query(t.modules)},
            headers={"Authorization": f"Bearer {t.key}"},
            timeout=10,
        )
        body = r.json()
        if r.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"page query failed for {t.modules}: {body}")


async def _selection_cost(tenants: list[_Seeded], samples: int) -> float:
    """Microseconds to pick a tenant's schema the way each request does (enabled set from the
    runtime's cache, then the schema for that set), warm, over random tenants."""
    from api.graphql.schema import SchemaRegistry
    from core.bootstrap import close_database, open_database
    from core.config import get_settings
    from core.plugins import load_runtime
    from tenants.service import get_tenant

    await open_database(get_settings())
    try:
        runtime = load_runtime()
        schemas = SchemaRegistry(runtime.registry)
        infos = [await get_tenant(t.slug) for t in tenants]
        for info in infos:  # warm: the per-request path reads caches, not the database
            schemas.for_modules(await runtime.enabled(info.id))
        picks = [random.choice(infos) for _ in range(samples)]  # noqa: S311 - a sample
        started = time.perf_counter()
        for info in picks:
            schemas.for_modules(await runtime.enabled(info.id))
        return (time.perf_counter() - started) / samples * 1e6
    finally:
        await close_database()


def bench_tenants(
    report: Callable[[str], None],
    *,
    tenants: int = 10_000,
    few: int = 10,
    seconds: int = 20,
    connections: int = 16,
    state: Path | None = None,
) -> None:
    import shutil

    from core.config import get_settings

    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian: apt install wrk)")
    if get_settings().database.dialect != "postgres":
        raise RuntimeError("bench tenants measures PostgreSQL: set DATABASE_URL=postgres://…")
    seeded = _load(state, tenants)
    if seeded is None:
        seeded = asyncio.run(_seed(tenants, report))
        if state is not None:
            state.write_text(json.dumps([dataclasses.asdict(t) for t in seeded]))
            state.chmod(0o600)  # API keys
    else:
        report(f"reusing {tenants:,} tenants saved in {state}")
    env = {
        **os.environ,
        "MENDIAN_RATE_LIMIT_KEY": "100000000/minute",
        "MENDIAN_RATE_LIMIT_TENANT": "100000000/minute",
    }
    results: dict[str, tuple[WrkResult, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scripts = {
            f"{few} tenants": (seeded[:few], _script(Path(tmp), seeded[:few], "few")),
            f"{tenants:,} tenants": (seeded, _script(Path(tmp), seeded, "all")),
        }
        server = _serve("api.app:create_app", 8714, env)
        try:
            url = "http://127.0.0.1:8714/graphql"
            _healthy(8714)
            _check(url, seeded)
            started_rss = _rss_mib(server.pid)
            for name, (group, script) in scripts.items():
                # warm-up: every tenant of the phase at least once (its caches, its rows)
                sweep = _script(Path(tmp), group, f"sweep-{len(group)}", sweep=True)
                _wrk(url, sweep, 3 + len(group) // 300, connections)
                results[name] = (_wrk(url, script, seconds, connections), _rss_mib(server.pid))
        finally:
            server.terminate()
            server.wait(10)
    selection = asyncio.run(_selection_cost(seeded, 20_000))
    report(
        f"mixed workload (60 % customerByPhone, 20 % purchaseRecord, 20 % customers(first: 20) "
        f"with the tenant's plugin fields), {len(_SETS)} module sets, PostgreSQL with RLS, "
        f"wrk {connections} connections x {seconds} s, 1 server process "
        f"(RSS {started_rss:.0f} MiB before the load):"
    )
    for name, (r, rss) in results.items():
        report(
            f"  over {name:16s} {r.rps:7.0f} req/s   p50 {r.p50_ms:6.2f} ms   "
            f"p99 {r.p99_ms:6.2f} ms   errors {r.errors}   server RSS after {rss:.0f} MiB"
        )
    (a, _), (b, _) = results.values()
    report(f"  p50 ratio {b.p50_ms / a.p50_ms:.2f}, p99 ratio {b.p99_ms / a.p99_ms:.2f} (bar 1.2)")
    share = selection * b.rps / 1e6
    report(
        f"  schema selection per request (enabled set + schema, warm, random tenant): "
        f"{selection:.1f} µs = {share:.2%} of the server's time at {b.rps:.0f} req/s (bar 3 %)"
    )
