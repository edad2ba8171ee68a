"""``mendian bench api``: ``customerByPhone`` over HTTP with wrk, Mendian's GraphQL endpoint next
to a minimal litestar + asyncpg endpoint (``api.bench.baseline``) with the same isolation,
measured in the same run on the same data (PostgreSQL, RLS on)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

__all__ = ["bench_api", "bench_loyalty"]

QUERY = "query($phone: String!) { customerByPhone(phone: $phone) { id name phone } }"
# The till with loyalty enabled (issue 16): the member's points and tier in the same look-up.
LOYALTY_QUERY = (
    "query($phone: String!) { customerByPhone(phone: $phone) "
    "{ id name phone loyalty { points tier { name } } } }"
)
TIERS = [
    {"code": "silver", "name": "银卡", "threshold": 0},
    {"code": "gold", "name": "金卡", "threshold": 1000},
]


@dataclass
class WrkResult:
    rps: float
    requests: int
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(url: str, script: Path, seconds: int, connections: int) -> WrkResult:
    wrk = shutil.which("wrk") or "wrk"
    out = subprocess.run(  # noqa: S603 - fixed arguments, no user input
        [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket = re.search(r"Socket errors: (.*)", out)
    errors = int(bad.group(1)) if bad else 0
    if socket:
        errors += sum(int(n) for n in re.findall(r"\d+", socket.group(1)))
    return WrkResult(rps, requests, p50, p99, errors)


async def _seed(customers: int) -> tuple[str, list[str]]:
    from core.bootstrap import close_database, open_database
    from core.config import get_settings
    from core.context import Actor
    from core.customers import create_customer
    from core.db import execute, tenant_tx
    from core.migrate import migrate
    from core.plugins import load_runtime
    from tenants.credentials import create_api_key
    from tenants.modules import enable_module
    from tenants.service import create_store, create_tenant

    settings = get_settings()
    await migrate(settings)
    await open_database(settings)
    actor = Actor(kind="system", id="bench")
    tenant = await create_tenant({"slug": f"bench-{uuid.uuid4().hex[:8]}", "name": "bench"})
    await enable_module(tenant, actor, load_runtime(), "loyalty", settings={"tiers": TIERS})
    store = await create_store(tenant, actor, {"code": "B1", "name": "bench"})
    phones = [f"139{i:08d}" for i in range(customers)]
    for i, phone in enumerate(phones):
        await create_customer(
            tenant, actor, {"name": f"顾客{i}", "phone": phone, "home_store_id": str(store["id"])}
        )
    async with tenant_tx(tenant.id):  # every member has points; every other one is gold
        await execute(
            "INSERT INTO loyalty_account (tenant_id, id, customer_id, points, growth, tier) "
            "SELECT tenant_id, gen_random_uuid(), id, 100 + (random() * 5000)::int, 0, "
            "CASE WHEN random() < 0.5 THEN 'gold' ELSE 'silver' END "
            "FROM customer WHERE tenant_id = {}",
            tenant.id,
        )
    _id, key = await create_api_key(tenant, actor, name="bench", role="cashier")
    await close_database()
    return key, phones


def _script(directory: Path, key: str, phones: list[str], query: str = QUERY) -> Path:
    listed = ", ".join(f'"{p}"' for p in phones[:200])
    path = directory / f"lookup-{len(query)}.lua"
    path.write_text(
        f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
local phones = {{{listed}}}
request = function()
  local p = phones[math.random(#phones)]
  return wrk.format(nil, nil, nil, '{{"query":"{query}","variables":{{"phone":"' .. p .. '"}}}}')
end
"""
    )
    return path


def _serve(
    target: str, port: int, env: dict[str, str], workers: int = 1
) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--log-level", "warning"]
    args += ["--no-access-log", "--workers", str(workers)]
    if target.endswith("create_app"):
        args.append("--factory")
    return subprocess.Popen(args, env=env)  # noqa: S603 - our own interpreter and module


def _healthy(port: int) -> None:
    """Wait (up to 30 s) until the server on ``port`` answers ``/health``."""
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not come up")
        time.sleep(0.3)


def _wait(url: str, key: str, phone: str, query: str = QUERY) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        try:
            r = httpx.post(
                url,
                json={"query": query, "variables": {"phone": phone}},
                headers={"Authorization": f"Bearer {key}"},
                timeout=5,
            )
            if r.status_code == 200:
                data: dict[str, object] = r.json()["data"]["customerByPhone"]
                return data
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up")
        time.sleep(0.3)


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far, from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _profiled(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the server for ``seconds`` (collapsed stacks), if py-spy is installed."""
    spy = shutil.which("py-spy")
    if spy is None:
        return None
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _top(collapsed: Path, n: int = 12) -> list[str]:
    """The functions most samples were in (self time), from py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        leaf = re.sub(r":\d+\)$", ")", stack.split(";")[-1])
        leaf = re.sub(r"\(/.*?/(site-packages|work/main|lib/python3\.\d+)/", "(", leaf)
        own[leaf] = own.get(leaf, 0) + int(count)
        total += int(count)
    ranked = sorted(own.items(), key=lambda kv: -kv[1])[:n]
    return [f"{100 * c / total:5.1f} %  {name}" for name, c in ranked]


def bench_api(
    report: Callable[[str], None],
    *,
    seconds: int = 15,
    connections: int = 16,
    customers: int = 2000,
    profile: bool = False,
) -> None:
    from core.config import get_settings

    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian: apt install wrk)")
    settings = get_settings()
    if settings.database.dialect != "postgres":
        raise RuntimeError("bench api measures PostgreSQL with RLS: set DATABASE_URL=postgres://…")
    key, phones = asyncio.run(_seed(customers))
    env = {
        **os.environ,
        "MENDIAN_RATE_LIMIT_KEY": "100000000/minute",
        "MENDIAN_RATE_LIMIT_TENANT": "100000000/minute",
    }
    results: dict[tuple[str, str], WrkResult] = {}
    cpu: dict[tuple[str, str], float] = {}  # server CPU µs per request
    profiles: dict[str, list[str]] = {}
    variants = {
        "customerByPhone": QUERY,
        "... with loyalty { points tier { name } }": LOYALTY_QUERY,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, target, port in (
            ("mendian GraphQL", "api.app:create_app", 8711),
            ("litestar + asyncpg baseline", "api.bench.baseline:app", 8712),
        ):
            server = _serve(target, port, env)
            try:
                url = f"http://127.0.0.1:{port}/graphql"
                for variant, query in variants.items():
                    answer = _wait(url, key, phones[7], query)
                    assert answer["name"] == "顾客7" and answer["phone"] == "139****0007", answer
                    if query is LOYALTY_QUERY:
                        loyalty: Any = answer["loyalty"]
                        assert loyalty["points"] > 0 and loyalty["tier"]["name"] in ("银卡", "金卡")
                    script = _script(Path(tmp), key, phones, query)
                    _wrk(url, script, 3, connections)  # warm-up
                    spy = None
                    collapsed = Path(tmp) / f"{port}-{len(query)}.txt"
                    if profile and target.startswith("api.app"):
                        spy = _profiled(server.pid, seconds, collapsed)
                    used = _cpu_seconds(server.pid)
                    results[(variant, name)] = r = _wrk(url, script, seconds, connections)
                    cpu[(variant, name)] = (_cpu_seconds(server.pid) - used) * 1e6 / r.requests
                    if spy is not None:
                        spy.wait(30)
                        if collapsed.exists():
                            profiles[variant] = _top(collapsed)
            finally:
                server.terminate()
                server.wait(10)
    report(
        f"over HTTP, PostgreSQL with RLS, {customers} customers (loyalty enabled), "
        f"wrk {connections} connections x {seconds} s, 1 server worker each:"
    )
    for variant in variants:
        report(f"  {variant}")
        for name in ("mendian GraphQL", "litestar + asyncpg baseline"):
            r = results[(variant, name)]
            report(
                f"    {name:30s} {r.rps:8.0f} req/s   p50 {r.p50_ms:6.2f} ms   "
                f"p99 {r.p99_ms:6.2f} ms   errors {r.errors}   "
                f"server CPU {cpu[(variant, name)]:5.0f} µs/request"
            )
        ours = results[(variant, "mendian GraphQL")]
        base = results[(variant, "litestar + asyncpg baseline")]
        report(f"    ratio: {ours.rps / base.rps:.0%} of the baseline's throughput (bar 80 %)")
        cpu_ratio = (
            cpu[(variant, "litestar + asyncpg baseline")] / cpu[(variant, "mendian GraphQL")]
        )
        report(f"    server CPU per request: the baseline's is {cpu_ratio:.0%} of Mendian's")
        if variant in profiles:
            report("    py-spy, Mendian's server, self time (top 12):")
            for line in profiles[variant]:
                report(f"      {line}")


RECORD = (
    "mutation($input: PurchaseRecordInput!) { purchaseRecord(input: $input) "
    "{ purchase { id } errors { code } } }"
)


async def _seed_loyalty(customers: int) -> tuple[Any, str, str, list[str]]:
    from core.bootstrap import close_database, open_database
    from core.config import get_settings
    from core.context import Actor
    from core.customers import create_customer
    from core.graphql import to_global_id
    from core.migrate import migrate
    from core.plugins import load_runtime
    from tenants.credentials import create_api_key
    from tenants.modules import enable_module
    from tenants.service import create_store, create_tenant

    settings = get_settings()
    await migrate(settings)
    await open_database(settings)
    runtime = load_runtime()
    actor = Actor(kind="system", id="bench")
    tenant = await create_tenant({"slug": f"bench-{uuid.uuid4().hex[:8]}", "name": "bench"})
    await enable_module(tenant, actor, runtime, "loyalty")
    store = await create_store(tenant, actor, {"code": "B1", "name": "bench"})
    ids = []
    for i in range(customers):
        c = await create_customer(tenant, actor, {"name": f"会员{i}", "phone": f"137{i:08d}"})
        ids.append(str(to_global_id("Customer", c.id)))
    _id, key = await create_api_key(tenant, actor, name="bench", role="cashier")
    await close_database()
    return tenant, key, str(to_global_id("Store", store["id"])), ids


async def _accrual_counts(tenant: Any) -> tuple[int, int, int]:
    """(sales, earn entries, points earned) of the tenant."""
    from core.bootstrap import close_database, open_database
    from core.config import get_settings
    from core.db import fetch, tenant_tx

    await open_database(get_settings())
    try:
        async with tenant_tx(tenant.id, write=False):
            sales = await fetch(
                "SELECT COUNT(*) AS n FROM purchase WHERE tenant_id = {} AND kind = 'sale'",
                tenant.id,
            )
            earned = await fetch(
                "SELECT COUNT(*) AS n, COALESCE(SUM(points), 0) AS p FROM loyalty_entry "
                "WHERE tenant_id = {} AND kind = 'earn'",
                tenant.id,
            )
    finally:
        await close_database()
    return int(sales[0]["n"]), int(earned[0]["n"]), int(earned[0]["p"])


def bench_loyalty(
    report: Callable[[str], None],
    *,
    seconds: int = 15,
    connections: int = 16,
    customers: int = 2000,
    workers: int = 2,
) -> None:
    """``purchaseRecord`` with points accrual over HTTP: throughput, latency, and whether every
    sale earned exactly once (accrual runs in the worker from the durable events)."""
    from core.config import get_settings

    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian: apt install wrk)")
    settings = get_settings()
    if settings.database.dialect != "postgres":
        raise RuntimeError("bench loyalty measures PostgreSQL: set DATABASE_URL=postgres://…")
    tenant, key, store, ids = asyncio.run(_seed_loyalty(customers))
    env = {
        **os.environ,
        "MENDIAN_RATE_LIMIT_KEY": "100000000/minute",
        "MENDIAN_RATE_LIMIT_TENANT": "100000000/minute",
    }
    listed = ", ".join(f'"{i}"' for i in ids)
    query = RECORD.replace('"', '\\"')
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "record.lua"
        script.write_text(
            f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
local customers = {{{listed}}}
local n = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  prefix = "{uuid.uuid4().hex}-" .. tid
  math.randomseed(tid)
end
request = function()
  n = n + 1
  local c = customers[math.random(#customers)]
  local body = '{{"query":"{query}","variables":{{"input":{{"idempotencyKey":"' .. prefix .. '-' .. n .. '","storeId":"{store}","customerId":"' .. c .. '","lines":[{{"sku":"tea","unitPrice":"12.50","qty":"2"}}]}}}}}}'
  return wrk.format(nil, nil, nil, body)
end
"""
        )
        server = _serve("api.app:create_app", 8713, env, workers)
        worker = None
        if settings.redis_url:
            worker = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "worker", "--nice", "10"], env=env
            )
        try:
            url = "http://127.0.0.1:8713/graphql"
            _healthy(8713)
            result = _wrk(url, script, seconds, connections)
            ended = time.monotonic()
            while True:
                sales, earns, points = asyncio.run(_accrual_counts(tenant))
                if earns >= sales or time.monotonic() - ended > 180:
                    break
                time.sleep(0.5)
            lag = time.monotonic() - ended
        finally:
            server.terminate()
            server.wait(10)
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    report("  the worker did not stop within 30 s of SIGTERM: killed")
    report(
        f"purchaseRecord with accrual over HTTP, PostgreSQL with RLS, {customers} members, "
        f"wrk {connections} connections x {seconds} s, {workers} server processes"
        f"{' + 1 mendian worker (nice 10)' if worker else ''}:"
    )
    report(
        f"  {result.rps:8.0f} sales/s   p50 {result.p50_ms:6.2f} ms   p99 {result.p99_ms:6.2f} ms"
        f"   HTTP errors {result.errors}"
    )
    report(
        f"  {result.requests} requests, {sales} sales, {earns} accruals ({points} points, expected {sales * 25}); "
        f"lost {sales - earns}, doubled {max(0, earns - sales)}; "
        f"all accrued {lag:.1f} s after the load ended"
    )
