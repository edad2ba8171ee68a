"""A real campaign run survives a killed worker (CORE-11): the fan-out job is killed with
SIGKILL mid-run, another one finishes it — every treatment customer has exactly one message
in the outbox, the control group none, no target is left pending."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from tests.plugins.care.helpers import uid

N = 3000
CHUNK = 50

SCRIPT = """
import asyncio, sys
from api.cli._common import run_command

async def main():
    from core.jobs import JobTable
    from core.lookups import find_tenant
    from core.plugins import get_runtime
    tenant = await find_tenant(sys.argv[1])
    await JobTable(get_runtime()).run_for_tenant("care.fan_out", tenant)

run_command(main)
"""


async def _state(tenant):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        targets = await fetch(
            "SELECT status, grp, COUNT(*) AS n FROM care_target WHERE tenant_id = {} "
            "GROUP BY status, grp",
            tenant.id,
        )
        messages = await fetch(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT idempotency_key) AS keys, "
            "COUNT(DISTINCT customer_id) AS customers FROM message WHERE tenant_id = {} "
            "AND source = 'care'",
            tenant.id,
        )
    by = {(r["status"], r["grp"]): int(r["n"]) for r in targets}
    return by, {k: int(v) for k, v in messages[0].items()}


async def _worker(db, tenant):
    env = os.environ | {"DATABASE_URL": db.settings.database.as_url()}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SCRIPT,
        tenant.slug,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_a_killed_fan_out_worker_loses_and_doubles_nothing(
    pg_only, api, tenant, owner, make_key, enable_plugins
):
    from api.bench.care import seed_audience
    from core.db import tenant_tx
    from core.plugins import get_runtime
    from plugins.care import campaigns, runs
    from tests.plugins.care.helpers import everyone_segment, one_off

    db = pg_only
    await enable_plugins(tenant, "care", settings={"chunk_size": CHUNK})
    key = await make_key(tenant)
    await seed_audience(tenant, N)
    campaign_id = await one_off(api, key, await everyone_segment(tenant, owner), controlPct=10)
    campaign = await campaigns.get_campaign(tenant, uid(campaign_id))
    run_id, _ = await runs.start_run(
        tenant,
        campaign,
        "2026-中秋",
        await get_runtime().segment_fields(tenant),
        chunk_size=CHUNK,
    )

    first = await _worker(db, tenant)
    while True:
        by, _ = await _state(tenant)
        handled = N - sum(n for (status, _g), n in by.items() if status == "pending")
        if handled >= N // 5:
            break
        assert first.returncode is None, (await first.stderr.read()).decode()[-2000:]
        await asyncio.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    killed_by, killed_messages = await _state(tenant)
    pending_at_kill = sum(n for (s, _g), n in killed_by.items() if s == "pending")
    assert 0 < pending_at_kill < N
    # every handled target's message is there, and no message without its target marked
    queued_at_kill = killed_by.get(("queued", "treatment"), 0)
    assert killed_messages["n"] == killed_messages["keys"] == queued_at_kill

    second = await _worker(db, tenant)
    _out, err = await second.communicate()
    assert second.returncode == 0, err.decode()[-2000:]
    by, messages = await _state(tenant)
    treatment = by.get(("queued", "treatment"), 0)
    control = by.get(("held", "control"), 0)
    assert treatment + control == N and ("pending", "treatment") not in by
    assert messages == {"n": treatment, "keys": treatment, "customers": treatment}
    assert 0.05 * N < control < 0.15 * N
    async with tenant_tx(tenant.id, write=False):
        from core.db import fetch

        done = await fetch(
            "SELECT status FROM care_run WHERE tenant_id = {} AND id = {}", tenant.id, run_id
        )
    assert done[0]["status"] == "done"
    print(
        f"\nkilled-worker figures: audience {N}, chunk {CHUNK}, killed with "
        f"{N - pending_at_kill} handled / {queued_at_kill} queued; after the second worker "
        f"{treatment} queued, {control} held out, duplicates {messages['n'] - messages['keys']}"
    )
