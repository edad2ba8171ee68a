"""``mendian bench care``: a campaign run's fan-out into the outbox for a large audience on
PostgreSQL. The audience (customers with a phone, their stats and marketing consent) is
generated set-based with ``INSERT … SELECT generate_series``, not through the API; the run is
the real thing — snapshot, control group, chunks through the messaging pipeline (consent,
quiet hours, the shared cap, idempotency keys)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["bench_care", "seed_audience"]


async def seed_audience(tenant: Any, customers: int) -> None:
    """``customers`` active customers with a phone (hash only), a stats row and marketing
    consent on every channel (PostgreSQL)."""
    from core.db import execute, tenant_tx

    async with tenant_tx(tenant.id):
        await execute(
            "INSERT INTO customer (tenant_id, id, name, phone_hash, gender, birthday_calendar, "
            "company, position, address, tags, notes, attributes, source, status, created_at, "
            "updated_at) SELECT {}, gen_random_uuid(), '顾客' || g, md5('p' || g || {}), "
            "'unknown', 'solar', '', '', '', '[]', '', '{{}}', 'pos', 'active', now(), now() "
            "FROM generate_series(1, {}) AS g",
            tenant.id,
            str(tenant.id),
            customers,
        )
        await execute(
            "INSERT INTO customer_stats (tenant_id, id, customer_id, purchase_count, "
            "total_spent_minor, r_score, f_score, m_score, value_class, lifecycle, computed_at) "
            "SELECT tenant_id, gen_random_uuid(), id, 0, 0, 0, 0, 0, 'potential', 'prospect', "
            "now() FROM customer WHERE tenant_id = {}",
            tenant.id,
        )
        await execute(
            "INSERT INTO consent_record (tenant_id, id, customer_id, purpose, channel, granted, "
            "source, proof, recorded_at, seq) SELECT tenant_id, gen_random_uuid(), id, "
            "'marketing', 'any', true, 'bench', '', now(), 1 FROM customer WHERE tenant_id = {}",
            tenant.id,
        )


async def _analyze() -> None:
    from core.db import get_database

    await get_database().engine.run_ddl("ANALYZE")


async def bench_care(echo: Callable[[str], None], *, customers: int = 100_000) -> dict[str, Any]:
    from core.context import Actor
    from core.db import get_database
    from core.plugins import get_runtime
    from core.segments import create_segment
    from plugins.care import campaigns, runs
    from tenants.modules import enable_module
    from tenants.service import create_tenant

    if not get_database().is_postgres:
        raise SystemExit("mendian bench care runs on PostgreSQL (DATABASE_URL=postgres://…)")
    actor = Actor(kind="system", id="bench")
    tenant = await create_tenant({"slug": f"bench-c-{uuid.uuid4().hex[:8]}", "name": "bench"})
    runtime = get_runtime()
    await enable_module(tenant, actor, runtime, "care", settings={"approval_threshold": 0})
    started = time.perf_counter()
    await seed_audience(tenant, customers)
    await _analyze()
    echo(f"seeded {customers} customers in {time.perf_counter() - started:.1f} s")
    segment = await create_segment(
        tenant,
        actor,
        {"name": "all", "filter": {"field": "purchase_count", "op": "gte", "value": 0}},
    )
    cid = await campaigns.create_campaign(
        tenant,
        actor,
        {
            "name": "中秋问候",
            "kind": "one_off",
            "message": "中秋快乐！",
            "segment_id": segment["id"],
            "control_pct": 10,
        },
    )
    campaign = await campaigns.get_campaign(tenant, cid)
    assert campaign is not None
    settings = await runtime.plugin_settings(tenant.id, "care")
    channels = await runtime.channels(tenant)
    fields = await runtime.segment_fields(tenant)
    t0 = time.perf_counter()
    run_id, _ = await runs.start_run(
        tenant, campaign, "once", fields, chunk_size=settings.chunk_size
    )
    await _analyze()  # fresh tables: the planner needs their statistics (autovacuum would)
    t1 = time.perf_counter()
    done = await runs.drain_run(tenant, campaign, run_id, settings, channels)
    t2 = time.perf_counter()
    figures = {
        "audience": customers,
        "snapshot_s": round(t1 - t0, 2),
        "fan_out_s": round(t2 - t1, 2),
        "queued": done.queued,
        "held": done.held,
        "suppressed": sum(done.suppressed.values()),
        "messages_per_s": round(done.queued / (t2 - t1)) if t2 > t1 else 0,
        "targets_per_s": round(done.handled / (t2 - t1)) if t2 > t1 else 0,
    }
    echo(
        f"snapshot of {customers} customers: {figures['snapshot_s']} s; fan-out: "
        f"{done.queued} messages queued, {done.held} held out (control), "
        f"{figures['suppressed']} suppressed in {figures['fan_out_s']} s → "
        f"{figures['messages_per_s']} messages/s into the outbox "
        f"({figures['targets_per_s']} targets/s, chunk {settings.chunk_size})"
    )
    return figures
