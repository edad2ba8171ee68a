"""Jobs: SAQ on Redis and the same job functions in-process; every job carries its tenant."""

import asyncio
import datetime as dt
import os
import uuid

import pytest

from core import ScheduledJob
from core.auditing import audit
from core.context import Actor
from core.db import tenant_tx
from core.jobs import JobTable, saq_functions, saq_queue, slot_of
from core.tables import AuditLog
from tenants.modules import enable_module
from tests.plugins.conftest import plugin_module


def job_plugin(seen):
    async def tick(tenant):
        seen.append(tenant.id)
        async with tenant_tx(tenant.id):
            await audit(Actor.system("ticker"), "ticker.tick")

    return plugin_module(
        "ticker",
        register_scheduled_jobs=lambda: [
            ScheduledJob(name="ticker.tick", cron="*/5 * * * *", run=tick)
        ],
    )


async def ticks(tenant):
    async with tenant_tx(tenant.id):
        return await AuditLog.count().where(AuditLog.action == "ticker.tick")


def test_slots_identify_the_schedule_window():
    at = dt.datetime(2026, 11, 22, 10, 7, tzinfo=dt.UTC)
    assert slot_of("*/5 * * * *", at) == "20261122T1005"
    assert slot_of("0 18 * * *", at) == "20261121T1800"


async def test_scheduled_jobs_run_per_enabled_tenant(make_runtime, tenant, other_tenant, owner):
    seen = []
    runtime = make_runtime(job_plugin(seen))
    await enable_module(tenant, owner, runtime, "ticker")
    table = JobTable(runtime)
    assert {"core.rfm_nightly", "ticker.tick"} <= set(table.jobs)
    targets = await table.tenants_for_all_tenants("ticker.tick")
    assert [t.id for t in targets] == [tenant.id]
    assert await table.run_for_tenant("ticker.tick", tenant) is True
    assert await table.run_for_tenant("ticker.tick", other_tenant) is False
    assert seen == [tenant.id] and await ticks(tenant) == 1 and await ticks(other_tenant) == 0


def test_job_names_must_carry_the_plugin_prefix(make_runtime):
    bad = plugin_module(
        "badjobs",
        register_scheduled_jobs=lambda: [
            ScheduledJob(name="tick", cron="* * * * *", run=lambda t: None)
        ],
    )
    with pytest.raises(ValueError, match=r"must start with 'badjobs\.'"):
        JobTable(make_runtime(bad))


async def test_saq_runs_tenant_jobs_and_deduplicates_slots(
    make_runtime, tenant, other_tenant, owner
):
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL not set")
    from saq import Worker

    seen = []
    runtime = make_runtime(job_plugin(seen))
    await enable_module(tenant, owner, runtime, "ticker")
    queue = saq_queue(url, name=f"mendian-test-{uuid.uuid4().hex[:8]}")
    functions, crons = saq_functions(JobTable(runtime))
    assert {c.kwargs["job"] for c in crons if c.kwargs} >= {"core.rfm_nightly", "ticker.tick"}
    await queue.connect()
    try:
        fanout = await queue.enqueue("fanout", job="ticker.tick")
        assert fanout is not None
        # One slot: a burst worker stops once a slot finds the queue empty for dequeue_timeout,
        # so with two, a fan-out longer than that (many tenants in the session's database)
        # ended the worker before the jobs it enqueued ran.
        worker = Worker(queue, functions=functions, burst=True, dequeue_timeout=1, concurrency=1)
        await asyncio.wait_for(worker.start(), 30)
        # Other tests' tenants may have the plugin too: the fan-out covers every enabled tenant.
        assert seen.count(tenant.id) == 1 and other_tenant.id not in seen
        assert await ticks(tenant) == 1 and await ticks(other_tenant) == 0
        # The same slot again (a second scheduler, a retry): nothing runs twice.
        await queue.enqueue("fanout", job="ticker.tick")
        await asyncio.wait_for(
            Worker(queue, functions=functions, burst=True, dequeue_timeout=1).start(), 30
        )
        assert seen.count(tenant.id) == 1 and await ticks(tenant) == 1
    finally:
        await queue.disconnect()


async def test_committed_events_are_delivered_without_waiting_for_the_pump(
    make_runtime, tenant, owner
):
    """With Redis the app enqueues the tenant's delivery job right after the commit."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL not set")
    from saq import Worker

    from core.customers.service import create_customer
    from core.events import set_event_listener
    from core.jobs import DeliveryKicker
    from tests.plugins.conftest import plugin_module

    heard = []

    async def on_customer_created(tenant, event):
        heard.append(event["customer_id"])

    runtime = make_runtime(plugin_module("listener", on_customer_created=on_customer_created))
    await enable_module(tenant, owner, runtime, "listener")
    queue = saq_queue(url, name=f"mendian-test-{uuid.uuid4().hex[:8]}")
    await queue.connect()
    set_event_listener(DeliveryKicker(queue))
    try:
        customer = await create_customer(tenant, owner, {"name": "kicked"})
        await asyncio.sleep(0.2)  # the kick's enqueue task
        functions, _crons = saq_functions(JobTable(runtime))
        worker = Worker(queue, functions=functions, burst=True, dequeue_timeout=1)
        await asyncio.wait_for(worker.start(), 30)
        assert heard == [str(customer.id)]
    finally:
        set_event_listener(None)
        await queue.disconnect()


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL not set")
    return url


async def test_one_deliverer_per_tenant_and_no_kick_left_unserved():
    """Ten concurrent delivery jobs for one tenant never drain at the same time, and a kick that
    arrives while the holder drains (and so returns at once) makes the holder drain again."""
    _redis_url()
    from core.jobs import single_deliverer

    tenant_id = uuid.uuid4()
    active, peak, drains = 0, 0, 0
    kicked_during_first: list[int] = []

    async def drain() -> tuple[int, bool]:
        nonlocal active, peak, drains
        active += 1
        peak = max(peak, active)
        drains += 1
        if drains == 1:  # a commit's kick lands mid-drain: the lock is held, it returns
            kicked_during_first.append(await single_deliverer(tenant_id, drain))
        await asyncio.sleep(0.02)
        active -= 1
        return 1, True

    results = await asyncio.gather(*(single_deliverer(tenant_id, drain) for _ in range(10)))
    assert peak == 1
    assert kicked_during_first == [0]  # the mid-drain kick did not drain itself…
    assert 2 <= drains <= 11 and sum(results) == drains  # …the holder drained again for it


async def test_a_kick_enqueues_an_immediate_and_a_trailing_delivery_once_a_second():
    """The trailing job (next second) serves a commit that lands after the immediate job ran;
    a lone commit needs none, and more commits in the same second cost no Redis round trip."""
    import time

    from core.jobs import DeliveryKicker

    queue = saq_queue(_redis_url(), name=f"mendian-test-{uuid.uuid4().hex[:8]}")
    await queue.connect()
    try:
        kicker = DeliveryKicker(queue)
        tenant_id = uuid.uuid4()
        while time.time() % 1 > 0.8:  # not at the edge of a second
            await asyncio.sleep(0.05)
        second = int(time.time())
        kicker(tenant_id)
        await asyncio.gather(*kicker._pending)
        now = await queue.job(f"deliver:{tenant_id}:{second}:{kicker.process}")
        assert now is not None and now.scheduled == 0
        assert await queue.job(f"deliver:{tenant_id}:{second + 1}:trailing") is None
        for _ in range(4):
            kicker(tenant_id)
            assert len(kicker._pending) <= 1  # the second commit's enqueue, then nothing
        await asyncio.gather(*kicker._pending)
        trailing = await queue.job(f"deliver:{tenant_id}:{second + 1}:trailing")
        assert trailing is not None and trailing.scheduled == second + 1
        other_process = DeliveryKicker(queue)  # its lone commit in the same second gets its own
        other_process(tenant_id)
        await asyncio.gather(*other_process._pending)
        assert await queue.job(f"deliver:{tenant_id}:{second}:{other_process.process}")
    finally:
        await queue.disconnect()
