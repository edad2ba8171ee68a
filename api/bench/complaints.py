"""``mendian bench complaints``: the complaints SLA job (issue 13 item 4) over many open
complaints on PostgreSQL. The complaints are generated set-based (``INSERT … SELECT
generate_series`` into ``complaints_complaint``, never through the API), received over the
last four days with clock-time due times (24 h to acknowledge, 72 h to resolve, warnings at
75 %), so that a realistic share is past its warning or breach; then one ``escalate_due`` run
is timed — escalations recorded, staff notices queued — and a second run, which must record
nothing (idempotent)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["SHARES", "bench_complaints", "seed_complaints"]

# g % 100 → state: received (not acknowledged), in progress with a handler, waiting for the
# customer, a suggestion (received; suggestions never escalate)
SHARES = {"received": 40, "in_progress": 45, "waiting": 8, "suggestion": 7}
AGE_HOURS = 96


async def seed_complaints(
    tenant: Any,
    stores: Sequence[uuid.UUID],
    handlers: Sequence[uuid.UUID],
    n: int,
    now: Any,
    *,
    age_hours: float = AGE_HOURS,
) -> None:
    """``n`` open complaints spread over ``stores`` (``handlers[i]`` handles those of
    ``stores[i]`` in progress), received evenly over the ``age_hours`` before ``now``, in the
    shares of :data:`SHARES` (PostgreSQL)."""
    from core.db import execute, tenant_tx

    received = SHARES["received"]
    working = received + SHARES["in_progress"]
    waiting = working + SHARES["waiting"]
    async with tenant_tx(tenant.id):
        await execute(
            "WITH g AS (SELECT g, 1 + g % {}::int AS s, "
            # an even spread of ages that is not in step with the states (7919 is prime)
            "{}::timestamptz - ((g::bigint * 7919) % {}::int) * ({}::float8 / {}::int) "
            "* interval '1 hour' AS at, (CASE WHEN g % 100 < {}::int THEN 'received' "
            "WHEN g % 100 < {}::int THEN 'in_progress' WHEN g % 100 < {}::int THEN 'waiting' "
            "ELSE 'suggestion' END) AS st FROM generate_series(1, {}::int) AS g) "
            "INSERT INTO complaints_complaint (tenant_id, id, number, kind, channel, state, "
            "severity, category, store_id, summary, handler_id, hq_only, level, received_at, "
            "acknowledged_at, business_time, ack_minutes, resolve_minutes, ack_warn_at, "
            "ack_due_at, resolve_warn_at, resolve_due_at, waiting_since, pauses, cycle, "
            "cycle_started_at, created_by, created_at, updated_at) "
            "SELECT {}, gen_random_uuid(), 'B-' || lpad(g::text, 8, '0'), "
            "CASE WHEN st = 'suggestion' THEN 'suggestion' ELSE 'complaint' END, "
            "(ARRAY['phone', 'in_store', 'letter', 'wechat', 'email'])[1 + g % 5], "
            "CASE WHEN st = 'suggestion' THEN 'received' ELSE st END, 'normal', "
            "'service.attitude', ({}::uuid[])[s], '收银员态度不好', "
            "CASE WHEN st IN ('in_progress', 'waiting') THEN ({}::uuid[])[s] END, false, 0, at, "
            "CASE WHEN st IN ('in_progress', 'waiting') THEN LEAST(at + interval '1 hour', "
            "{}::timestamptz) END, false, 1440, 4320, at + interval '18 hours', "
            "at + interval '24 hours', "
            # a waiting complaint is never due while it waits (sla.py pushes it ten years out)
            "CASE WHEN st = 'suggestion' THEN NULL WHEN st = 'waiting' THEN at + interval "
            "'3650 days 54 hours' ELSE at + interval '54 hours' END, "
            "CASE WHEN st = 'suggestion' THEN NULL WHEN st = 'waiting' THEN at + interval "
            "'3650 days 72 hours' ELSE at + interval '72 hours' END, "
            "CASE WHEN st = 'waiting' THEN {}::timestamptz - interval '1 hour' END, '[]', 0, "
            "at, 'bench', at, at FROM g",
            len(stores),
            now,
            n,
            age_hours,
            n,
            received,
            working,
            waiting,
            n,
            tenant.id,
            list(stores),
            list(handlers),
            now,
            now,
        )


async def _staff(tenant: Any, actor: Any, stores: list[uuid.UUID]) -> dict[str, list[uuid.UUID]]:
    from tenants.credentials import create_staff

    async def one(login: str, role: str, store_ids: list[uuid.UUID], i: int) -> uuid.UUID:
        return await create_staff(
            tenant,
            actor,
            {
                "login": login,
                "name": login,
                "password": "bench-password-0",
                "role": role,
                "store_ids": [str(s) for s in store_ids],
                "phone": f"1380000{i:04d}",
            },
        )

    out: dict[str, list[uuid.UUID]] = {"store_manager": [], "service_agent": [], "hq_manager": []}
    for i, store in enumerate(stores):
        out["store_manager"].append(await one(f"mgr{i}", "store_manager", [store], 2 * i))
        out["service_agent"].append(await one(f"agent{i}", "service_agent", [store], 2 * i + 1))
    for i in range(2):
        out["hq_manager"].append(await one(f"hq{i}", "hq_manager", [], 9000 + i))
    return out


async def _counts(tenant: Any) -> tuple[dict[tuple[str, str], int], int, int]:
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        escalations = await fetch(
            "SELECT stage, trigger, COUNT(*) AS n FROM complaints_escalation "
            "WHERE tenant_id = {} GROUP BY stage, trigger",
            tenant.id,
        )
        messages = await fetch(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT idempotency_key) AS keys FROM message "
            "WHERE tenant_id = {} AND source = 'complaints'",
            tenant.id,
        )
    return (
        {(r["stage"], r["trigger"]): int(r["n"]) for r in escalations},
        int(messages[0]["n"]),
        int(messages[0]["keys"]),
    )


async def bench_complaints(
    echo: Callable[[str], None], *, complaints: int = 10_000, stores: int = 20
) -> dict[str, Any]:
    import datetime as dt

    from core.context import Actor
    from core.db import get_database
    from core.plugins import get_runtime
    from plugins.complaints.escalation import escalate_due
    from tenants.modules import enable_module
    from tenants.service import create_store, create_tenant

    if not get_database().is_postgres:
        raise SystemExit("mendian bench complaints runs on PostgreSQL (DATABASE_URL=postgres://…)")
    actor = Actor(kind="system", id="bench")
    tenant = await create_tenant({"slug": f"bench-cmp-{uuid.uuid4().hex[:8]}", "name": "bench"})
    runtime = get_runtime()
    await enable_module(tenant, actor, runtime, "complaints")
    store_ids = [
        uuid.UUID(
            str((await create_store(tenant, actor, {"code": f"S{i}", "name": f"店{i}"}))["id"])
        )
        for i in range(stores)
    ]
    staff = await _staff(tenant, actor, store_ids)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    await seed_complaints(tenant, store_ids, staff["service_agent"], complaints, now)
    await get_database().owner_engine.run_ddl("ANALYZE complaints_complaint")
    echo(
        f"seeded {complaints} open complaints over {stores} stores in "
        f"{time.perf_counter() - started:.1f} s ({', '.join(f'{k} {v} %' for k, v in SHARES.items())}"
        f", received over the last {AGE_HOURS} h)"
    )
    settings = await runtime.plugin_settings(tenant.id, "complaints")
    channels = await runtime.channels(tenant)
    t0 = time.perf_counter()
    first = await escalate_due(tenant, settings, channels, now)
    t1 = time.perf_counter()
    second = await escalate_due(tenant, settings, channels, now)
    t2 = time.perf_counter()
    by, messages, keys = await _counts(tenant)
    stages = {f"{s} {t}": n for (s, t), n in sorted(by.items())}
    figures: dict[str, Any] = {
        "complaints": complaints,
        "escalations": first,
        "first_run_s": round(t1 - t0, 2),
        "second_run": second,
        "second_run_s": round(t2 - t1, 2),
        "notices": messages,
        "by": stages,
    }
    echo(
        f"escalate_due: {first} escalations recorded in {figures['first_run_s']} s "
        f"({', '.join(f'{k}: {v}' for k, v in stages.items())}); "
        f"{messages} staff notices queued ({messages - keys} duplicate keys)"
    )
    echo(f"second run: {second} escalations in {figures['second_run_s']} s")
    return figures
