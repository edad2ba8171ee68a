"""A campaign-sized batch survives a killed worker: no message lost, none doubled (CORE-11)."""

import asyncio
import os
import signal
import sys
import uuid

from core.consent import set_consent
from core.customers import create_customer
from core.db import tenant_tx
from core.messaging import BUILTIN_CHANNELS, ChannelSet, MessageRequest, enqueue_many
from core.sql import run
from core.tables import Message, MessageLog

N = 10_000


async def counts(tenant):
    async with tenant_tx(tenant.id, write=False):
        logged = await MessageLog.count()
        distinct = (
            await run(
                "SELECT COUNT(DISTINCT idempotency_key) AS n FROM message_log WHERE tenant_id = :t",
                t=tenant.id,
            )
        )[0]["n"]
        sent = await Message.count().where(Message.status == "sent")
    return logged, int(distinct), sent


async def worker(db, tenant):
    env = os.environ | {
        "DATABASE_URL": db.settings.database.as_url(),
        "MENDIAN_MESSAGE_LEASE_SECONDS": "2",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from api.cli import run; run()",
        "worker",
        "--drain",
        "--tenant",
        tenant.slug,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_killed_worker_loses_and_doubles_nothing(db, tenant, owner):
    customers = []
    for i in range(50):
        c = await create_customer(tenant, owner, {"name": f"c{i}", "phone": f"139{i:08d}"})
        await set_consent(
            tenant, owner, {"customer_id": str(c.id), "purpose": "marketing", "granted": True}
        )
        customers.append(c)
    campaign = uuid.uuid4().hex[:8]
    requests = [
        MessageRequest(
            customer_id=customers[i % 50].id,
            channel="log",
            template_key="generic",
            idempotency_key=f"{campaign}:{i}",
            source="care",
            transactional=True,
            context={"subject": "s", "text": f"message {i}"},
        )
        for i in range(N)
    ]
    result = await enqueue_many(tenant, requests, ChannelSet(BUILTIN_CHANNELS))
    assert result.queued == N
    async with tenant_tx(tenant.id):  # due now, whatever the hour (quiet hours tested elsewhere)
        await run(
            "UPDATE message SET not_before = created_at - 86400 * INTERVAL '1 second' WHERE tenant_id = :t"
            if db.is_postgres
            else "UPDATE message SET not_before = '2000-01-01 00:00:00+00:00' WHERE tenant_id = :t",
            t=tenant.id,
        )

    first = await worker(db, tenant)
    while (await counts(tenant))[0] < N // 5:
        await asyncio.sleep(0.05)
        assert first.returncode is None, (await first.stderr.read()).decode()[-2000:]
    first.send_signal(signal.SIGKILL)
    await first.wait()
    killed_at = await counts(tenant)
    assert 0 < killed_at[0] < N
    async with tenant_tx(tenant.id, write=False):
        in_flight = await Message.count().where(
            Message.status == "sending"
        )  # claimed, not recorded

    await asyncio.sleep(2.1)  # the dead worker's leases expire
    second = await worker(db, tenant)
    _out, err = await second.communicate()
    assert second.returncode == 0, err.decode()[-2000:]
    logged, distinct, sent = await counts(tenant)
    assert (logged, distinct, sent) == (N, N, N)
    async with tenant_tx(tenant.id, write=False):
        retried = await Message.count().where(Message.attempts > 1)
    # Every message the killed worker had claimed but not recorded was claimed again (and, as
    # the counts above show, still logged exactly once).
    assert retried >= in_flight
