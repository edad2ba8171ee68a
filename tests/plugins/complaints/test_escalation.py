"""The SLA job (issue 13 item 4): ``escalate_due`` along the store's ladder, the services
called directly at chosen instants. A complaint filed by phone on Saturday 2026-12-05 at 20:00
at store A (open 09:00-21:00 every day) warns at Monday 14:00 and breaches at Monday 20:00
(acknowledging, see test_sla.py), warns at Thursday 14:00 and breaches at Friday 20:00
(resolving). The ladder: store A's manager (and the handler) at the warning, HQ at breach;
store B's manager is never told about store A. Each escalation is recorded and notified once,
also when two workers run the job at the same time (PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path
from uuid import UUID

import pytest

from tests.plugins.complaints.sla_helpers import (
    DAILY_9_21,
    SATURDAY_EVENING,
    acknowledged,
    file_complaint,
    local,
    make_staff,
    make_store,
    resolve,
    row_of,
)

pytestmark = pytest.mark.usefixtures("db")

FILED = SATURDAY_EVENING
ACK_WARN, ACK_DUE = local("2026-12-07", "14:00"), local("2026-12-07", "20:00")
RESOLVE_WARN, RESOLVE_DUE = local("2026-12-10", "14:00"), local("2026-12-11", "20:00")
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
async def chain(runtime, tenant, owner, enable_plugins):
    """Complaints enabled; stores A and B with a manager each, an agent at A, an HQ manager;
    the job's settings and channels as the scheduler offers them."""
    await enable_plugins(tenant, "complaints")
    a = await make_store(tenant, owner, "A", DAILY_9_21)
    b = await make_store(tenant, owner, "B", DAILY_9_21)
    staff = {
        "manager_a": await make_staff(tenant, owner, "manager_a", "store_manager", [a]),
        "manager_b": await make_staff(tenant, owner, "manager_b", "store_manager", [b]),
        "agent_a": await make_staff(tenant, owner, "agent_a", "service_agent", [a]),
        "hq": await make_staff(tenant, owner, "hq", "hq_manager"),
    }
    settings = await runtime.plugin_settings(tenant.id, "complaints")
    channels = await runtime.channels(tenant)

    async def job(now: dt.datetime) -> int:
        from plugins.complaints.escalation import escalate_due

        return await escalate_due(tenant, settings, channels, now)

    return {"a": a, "b": b, "staff": staff, "settings": settings, "channels": channels, "job": job}


async def _escalations(tenant, complaint_id=None):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT id, complaint_id, stage, trigger, cycle, level, notified FROM "
            "complaints_escalation WHERE tenant_id = {}"
            + (" AND complaint_id = {}" if complaint_id else "")
            + " ORDER BY at, stage, trigger",
            tenant.id,
            *([complaint_id] if complaint_id else []),
        )
    return [
        (
            r["stage"],
            r["trigger"],
            r["cycle"],
            r["level"],
            {UUID(s) for s in json.loads(r["notified"])},
        )
        for r in rows
    ]


async def _notices(tenant):
    """The staff notices in the outbox: (staff id, status), in the order queued."""
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT staff_id, status, template_key, customer_id FROM message "
            "WHERE tenant_id = {} AND source = 'complaints' ORDER BY created_at, staff_id",
            tenant.id,
        )
    assert {(r["template_key"], r["customer_id"]) for r in rows} <= {
        ("complaints.escalation", None)
    }
    return [(UUID(str(r["staff_id"])), r["status"]) for r in rows]


async def test_a_complaint_warns_the_stores_manager_then_breaches_to_hq_each_once(
    tenant, owner, chain
):
    staff, job = chain["staff"], chain["job"]
    cid = await file_complaint(tenant, owner, chain["settings"], chain["a"], FILED)

    assert await job(ACK_WARN - MINUTE) == 0
    assert await _escalations(tenant) == [] and await _notices(tenant) == []

    assert await job(ACK_WARN) == 1
    assert await _escalations(tenant) == [("acknowledge", "warning", 0, 1, {staff["manager_a"]})]
    assert await _notices(tenant) == [(staff["manager_a"], "queued")]
    assert (await row_of(tenant, cid))["level"] == 1

    assert await job(ACK_DUE - MINUTE) == 0
    assert await job(ACK_DUE) == 1
    assert await _escalations(tenant) == [
        ("acknowledge", "warning", 0, 1, {staff["manager_a"]}),
        ("acknowledge", "breach", 0, 2, {staff["hq"]}),
    ]
    assert await _notices(tenant) == [(staff["manager_a"], "queued"), (staff["hq"], "queued")]
    assert (await row_of(tenant, cid))["level"] == 2

    # reruns, however late, record and notify nothing more on the acknowledge stage
    assert await job(ACK_DUE) == 0
    assert await job(ACK_DUE + dt.timedelta(hours=3)) == 0
    assert len(await _notices(tenant)) == 2

    # still not acknowledged at the resolve deadlines: those escalate too, each once
    assert await job(RESOLVE_DUE) == 2
    assert await job(RESOLVE_DUE) == 0
    assert [e[:4] for e in await _escalations(tenant)][2:] == [
        ("resolve", "breach", 0, 2),
        ("resolve", "warning", 0, 1),
    ]
    assert sorted(await _notices(tenant)) == sorted(
        [(staff["manager_a"], "queued")] * 2 + [(staff["hq"], "queued")] * 2
    )
    assert (await row_of(tenant, cid))["level"] == 2  # never lowered by a later warning
    from plugins.complaints.timeline import timeline

    actions = (await timeline(tenant, [cid]))[cid]
    assert [a["action"] for a in actions].count("escalated") == 4


async def test_an_acknowledged_complaint_escalates_only_its_resolve_stage_with_the_handler(
    tenant, owner, chain, monkeypatch
):
    from plugins.complaints import workflow

    staff, job, settings = chain["staff"], chain["job"], chain["settings"]
    cid, clock = await acknowledged(tenant, owner, settings, chain["a"], monkeypatch)
    assert await job(ACK_DUE + dt.timedelta(hours=1)) == 0
    clock.set(local("2026-12-06", "10:00"))
    await workflow.assign(tenant, owner, settings, cid, staff["agent_a"])

    assert await job(RESOLVE_WARN - MINUTE) == 0
    assert await job(RESOLVE_WARN) == 1
    assert await job(RESOLVE_DUE) == 1
    assert await job(RESOLVE_DUE) == 0
    assert await _escalations(tenant) == [
        ("resolve", "warning", 0, 1, {staff["agent_a"], staff["manager_a"]}),
        ("resolve", "breach", 0, 2, {staff["hq"]}),
    ]
    assert sorted(await _notices(tenant)) == sorted(
        [(staff["agent_a"], "queued"), (staff["manager_a"], "queued"), (staff["hq"], "queued")]
    )


async def test_a_waiting_complaint_and_a_suggestion_never_escalate(
    tenant, owner, chain, monkeypatch
):
    from plugins.complaints import workflow

    job, settings = chain["job"], chain["settings"]
    waiting, clock = await acknowledged(tenant, owner, settings, chain["a"], monkeypatch)
    clock.set(local("2026-12-06", "09:00"))
    await workflow.wait(tenant, owner, settings, waiting)
    suggestion = await file_complaint(
        tenant, owner, settings, chain["a"], FILED, kind="suggestion", summary="希望增加停车位"
    )
    for now in (ACK_WARN, ACK_DUE, RESOLVE_WARN, RESOLVE_DUE, local("2027-03-01", "12:00")):
        assert await job(now) == 0
    assert await _escalations(tenant) == [] and await _notices(tenant) == []
    assert (await row_of(tenant, waiting))["level"] == 0
    assert (await row_of(tenant, suggestion))["level"] == 0

    # once the customer answers, the clock runs again: 1 day waited (Sun 09:00 → Mon 09:00,
    # 12 business hours) moves the resolve warning from Thu 14:00 to Fri 14:00
    clock.set(local("2026-12-07", "09:00"))
    await workflow.resume(tenant, owner, settings, waiting)
    assert await job(RESOLVE_WARN) == 0
    assert await job(RESOLVE_WARN + dt.timedelta(days=1)) == 1


async def test_a_reopened_complaint_escalates_again_in_its_new_cycle(
    tenant, owner, chain, monkeypatch
):
    from plugins.complaints import workflow

    staff, job, settings = chain["staff"], chain["job"], chain["settings"]
    cid, clock = await acknowledged(tenant, owner, settings, chain["a"], monkeypatch)
    assert await job(RESOLVE_WARN) == 1
    clock.set(local("2026-12-10", "15:00"))
    await resolve(tenant, owner, settings, cid)
    assert await job(RESOLVE_DUE) == 0  # resolved: no breach
    clock.set(local("2026-12-12", "10:00"))  # Saturday; cycle 1 warns 54 h later: Wed 16:00
    await workflow.reopen(tenant, owner, settings, cid)
    assert await job(local("2026-12-16", "15:59")) == 0
    assert await job(local("2026-12-16", "16:00")) == 1
    assert await _escalations(tenant) == [
        ("resolve", "warning", 0, 1, {staff["manager_a"]}),
        ("resolve", "warning", 1, 1, {staff["manager_a"]}),
    ]


async def test_a_media_complaint_goes_to_hq_at_intake_and_its_warnings_too(tenant, owner, chain):
    from plugins.complaints.records import create_complaint

    staff, job = chain["staff"], chain["job"]
    created = await create_complaint(
        tenant,
        owner,
        chain["settings"],
        {"channel": "media", "summary": "晚报记者来电", "store_id": chain["a"]},
        channels=chain["channels"],
        now=FILED,
    )
    assert await _escalations(tenant) == [("intake", "media", 0, 2, {staff["hq"]})]
    assert await job(ACK_WARN) == 1
    assert (await _escalations(tenant))[1] == ("acknowledge", "warning", 0, 2, {staff["hq"]})
    assert await _notices(tenant) == [(staff["hq"], "queued")] * 2
    assert (await row_of(tenant, created.id))["level"] == 2


async def test_done_when_filed_by_phone_on_saturday_evening_the_job_escalates_each_once(
    tenant, owner, chain
):
    """Issue 13's "Done when", at the service level: the SLA job runs every five minutes
    from the filing on Saturday 20:00 to Monday 21:00. The complaint is due Monday 20:00 (24
    of the store's business hours, not Sunday 20:00), reaches store A's manager at the first
    run past 75 % (Monday 14:00) and HQ at the first run past the due time, once each."""
    staff, job = chain["staff"], chain["job"]
    cid = await file_complaint(tenant, owner, chain["settings"], chain["a"], FILED)
    row = await row_of(tenant, cid)
    assert (row["ack_warn_at"], row["ack_due_at"]) == (ACK_WARN, ACK_DUE)
    fired: dict[dt.datetime, int] = {}
    now = FILED
    while now <= local("2026-12-07", "21:00"):
        if n := await job(now):
            fired[now] = n
        now += dt.timedelta(minutes=5)
    assert fired == {ACK_WARN: 1, ACK_DUE: 1}
    assert await _escalations(tenant) == [
        ("acknowledge", "warning", 0, 1, {staff["manager_a"]}),
        ("acknowledge", "breach", 0, 2, {staff["hq"]}),
    ]
    assert await _notices(tenant) == [(staff["manager_a"], "queued"), (staff["hq"], "queued")]


# --- two workers at once (PostgreSQL) ----------------------------------------------------

N = 200


async def _due_chain(tenant, chain):
    """``N`` complaints seeded set-based (the bench's generator) over stores A and B, and the
    escalations they are due at ``now``: every complaint is past all its deadlines then."""
    from api.bench.complaints import seed_complaints
    from core.db import fetch, tenant_tx

    staff = chain["staff"]
    seeded_at = dt.datetime.now(dt.UTC)
    await seed_complaints(
        tenant, [chain["a"], chain["b"]], [staff["agent_a"], staff["manager_b"]], N, seeded_at
    )
    async with tenant_tx(tenant.id, write=False):
        states = await fetch(
            "SELECT state, kind, COUNT(*) AS n FROM complaints_complaint WHERE tenant_id = {} "
            "GROUP BY state, kind",
            tenant.id,
        )
    by = {(r["state"], r["kind"]): int(r["n"]) for r in states}
    # not acknowledged: 2 stages x (warning, breach); in progress: the resolve stage's two
    expected = 4 * by[("received", "complaint")] + 2 * by[("in_progress", "complaint")]
    assert by[("waiting", "complaint")] > 0 and by[("received", "suggestion")] > 0
    return seeded_at + dt.timedelta(hours=100), expected


async def _exactly_once(tenant, expected: int) -> None:
    """Each due escalation recorded once, each of its notices queued once."""
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        escalations = await fetch(
            "SELECT id, complaint_id, stage, trigger, cycle, notified FROM complaints_escalation "
            "WHERE tenant_id = {}",
            tenant.id,
        )
        messages = await fetch(
            "SELECT idempotency_key, staff_id FROM message WHERE tenant_id = {} "
            "AND source = 'complaints'",
            tenant.id,
        )
    keys = {(r["complaint_id"], r["stage"], r["trigger"], r["cycle"]) for r in escalations}
    assert len(escalations) == len(keys) == expected
    wanted = sorted(
        f"complaints:esc:{r['id']}:{s}" for r in escalations for s in json.loads(r["notified"])
    )
    assert sorted(r["idempotency_key"] for r in messages) == wanted
    assert len(wanted) >= expected  # everyone was told someone


async def test_two_concurrent_jobs_record_and_notify_each_escalation_once(
    pg_only, tenant, chain, monkeypatch
):
    """Both jobs read the same due complaints before either writes (a rendezvous after each
    due-complaints query), then race to record them. Only the unique key with ``ON CONFLICT
    DO NOTHING`` settles it: the loser's insert waits on the winner's rows and inserts
    nothing, so it notifies nobody. Without the ``ON CONFLICT`` clause the loser's insert
    raises a unique violation (the gather fails); without the unique key as well, both
    would record all ``expected`` escalations (2x) with different ids, and since a notice's
    idempotency key carries the escalation's id, every staff notice would be queued twice —
    each assertion below fails in those cases."""
    from plugins.complaints import escalation

    now, expected = await _due_chain(tenant, chain)
    real_fetch = escalation.fetch
    barrier = asyncio.Barrier(2)
    met = 0

    async def rendezvous_fetch(sql, *args):
        nonlocal met
        rows = await real_fetch(sql, *args)
        if "FROM complaints_complaint c WHERE" in sql:  # the job's due-complaints query
            try:
                await asyncio.wait_for(barrier.wait(), 5)
                met += 1
            except (TimeoutError, asyncio.BrokenBarrierError):
                pass
        return rows

    monkeypatch.setattr(escalation, "fetch", rendezvous_fetch)
    first, second = await asyncio.gather(chain["job"](now), chain["job"](now))
    assert met >= 2 * 4  # the two jobs met after every due-complaints query (4 passes)
    assert first + second == expected
    await _exactly_once(tenant, expected)
    monkeypatch.setattr(escalation, "fetch", real_fetch)
    assert await chain["job"](now) == 0


WORKER = """
import asyncio, datetime as dt, pathlib, sys
from api.cli._common import run_command

async def main():
    from core.lookups import find_tenant
    from core.plugins import get_runtime
    from plugins.complaints.escalation import escalate_due
    tenant = await find_tenant(sys.argv[1])
    runtime = get_runtime()
    settings = await runtime.plugin_settings(tenant.id, "complaints")
    channels = await runtime.channels(tenant)
    ready = pathlib.Path(sys.argv[3])
    (ready / sys.argv[4]).touch()
    while len(list(ready.iterdir())) < 2:  # start together
        await asyncio.sleep(0.001)
    print(await escalate_due(tenant, settings, channels, dt.datetime.fromisoformat(sys.argv[2])))

run_command(main)
"""


async def test_two_worker_processes_record_and_notify_each_escalation_once(pg_only, tenant, chain):
    """The same race between two processes (each its own connections), started together."""
    now, expected = await _due_chain(tenant, chain)
    env = os.environ | {"DATABASE_URL": pg_only.settings.database.as_url()}
    with tempfile.TemporaryDirectory() as ready:
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                WORKER,
                tenant.slug,
                now.isoformat(),
                ready,
                f"w{i}",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for i in range(2)
        ]
        results = [await w.communicate() for w in workers]
        assert len(list(Path(ready).iterdir())) == 2
    for w, (_out, err) in zip(workers, results, strict=True):
        assert w.returncode == 0, err.decode()[-2000:]
    counts = [int(out.decode().strip().splitlines()[-1]) for out, _err in results]
    assert sum(counts) == expected
    await _exactly_once(tenant, expected)
