"""Jobs (PLUG-8, CORE-11): the same job functions run by SAQ on Redis (``mendian worker``) or
in-process on the embedded default.

Every job carries its tenant: a scheduled job fans out to one job per tenant that has the
owning plugin enabled, keyed ``<job>:<tenant>:<slot>`` so that two schedulers (or a retry) never
run the same tenant's slot twice — SAQ refuses a second job with a live key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

from croniter import croniter

from core.context import TenantInfo
from core.messaging import ChannelSet
from core.plugins import PluginRuntime
from core.rfm import recompute_all
from core.tables import Tenant
from core.types import ScheduledJob

__all__ = ["BUILTIN_JOBS", "DeliveryKicker", "JobTable", "run_worker", "saq_queue"]

log = logging.getLogger("mendian.jobs")
DELIVERY_BATCH = 500
DELIVERY_LOCK_SECONDS = 90  # > the job's 60 s timeout
KICK_SECONDS = 2.0  # an enqueue that takes longer is dropped (Redis away): the pump delivers


async def _rfm_nightly(tenant: TenantInfo) -> None:
    await recompute_all(tenant)


async def _weekly_reports(
    tenant: TenantInfo, runtime: PluginRuntime, channels: ChannelSet, now: dt.datetime
) -> None:
    from core.reports import send_weekly_reports

    await send_weekly_reports(tenant, runtime=runtime, channels=channels, now=now)


BUILTIN_JOBS: tuple[ScheduledJob, ...] = (
    ScheduledJob(
        name="core.rfm_nightly",
        cron="0 18 * * *",
        run=_rfm_nightly,
        description="RFM, value class and lifecycle for every customer (02:00 Asia/Shanghai)",
    ),
    ScheduledJob(
        name="core.weekly_reports",
        cron="5 * * * *",
        run=_weekly_reports,
        description="Mondays from 08:00 store-local: each store's weekly report to its "
        "managers, the chain's to operations managers (e-mail, once per week and recipient)",
    ),
)


class JobTable:
    """Every scheduled job: the core's and the installed plugins' (``register_scheduled_jobs``)."""

    def __init__(self, runtime: PluginRuntime) -> None:
        self.runtime = runtime
        self.jobs: dict[str, tuple[str | None, ScheduledJob]] = {
            j.name: (None, j) for j in BUILTIN_JOBS
        }
        for plugin_id, jobs in runtime.registry.collect_all("register_scheduled_jobs"):
            for job in jobs or []:
                if job.name in self.jobs:
                    raise ValueError(f"scheduled job {job.name!r} is registered twice")
                if not job.name.startswith(f"{plugin_id}."):
                    raise ValueError(
                        f"job {job.name!r} of plugin {plugin_id} must start with '{plugin_id}.'"
                    )
                self.jobs[job.name] = (plugin_id, job)

    async def tenants_for_all_tenants(self, name: str) -> list[TenantInfo]:
        """The active tenants a job runs for (crosses tenants on purpose: the scheduler's fan-out)."""
        plugin_id, _job = self.jobs[name]
        tenants = [
            TenantInfo.from_row(dict(r))
            for r in await Tenant.select().where(Tenant.status == "active")
        ]
        if plugin_id is None:
            return tenants
        return [t for t in tenants if plugin_id in await self.runtime.enabled(t.id)]

    async def run_for_tenant(self, name: str, tenant: TenantInfo) -> bool:
        """Run one job for one tenant; False if its plugin is not enabled there (any more)."""
        plugin_id, job = self.jobs[name]
        if plugin_id is not None and plugin_id not in await self.runtime.enabled(tenant.id):
            return False
        await job.run(tenant, **await self._offered(job, plugin_id, tenant))
        return True

    async def _offered(
        self, job: ScheduledJob, plugin_id: str | None, tenant: TenantInfo
    ) -> dict[str, Any]:
        """What the runtime offers a job, as it does hooks: ``settings`` (the plugin's own),
        ``channels`` (the tenant's message channels) and ``now`` — each only if ``run``
        declares it."""
        wanted = inspect.signature(job.run).parameters
        offered: dict[str, Any] = {}
        if "settings" in wanted and plugin_id is not None:
            offered["settings"] = await self.runtime.plugin_settings(tenant.id, plugin_id)
        if "channels" in wanted:
            offered["channels"] = await self.runtime.channels(tenant)
        if "modules" in wanted:
            offered["modules"] = await self.runtime.enabled(tenant.id)
        if "segment_fields" in wanted:
            offered["segment_fields"] = await self.runtime.segment_fields(tenant)
        if "now" in wanted:
            offered["now"] = dt.datetime.now(dt.UTC)
        if "runtime" in wanted and plugin_id is None:  # the core's jobs only
            offered["runtime"] = self.runtime
        return offered


def slot_of(cron: str, now: dt.datetime) -> str:
    """The schedule slot ``now`` belongs to (its most recent fire time), for de-duplication keys."""
    return croniter(cron, now).get_prev(dt.datetime).strftime("%Y%m%dT%H%M")


# --- SAQ ---------------------------------------------------------------------------------


def saq_queue(url: str, name: str = "mendian") -> Any:
    import redis.asyncio as redis_asyncio
    from saq.queue.redis import RedisQueue

    from core.redis import client_options

    # Our client options (bounded connect, a retry on a dead pooled connection), not SAQ's
    # defaults: after a Redis restart, delivery kicks resume without failing once per connection.
    return RedisQueue(redis_asyncio.from_url(url, **client_options()), name=name)


class DeliveryKicker:
    """With Redis: once a transaction that wrote events commits, enqueue that tenant's delivery
    job right away instead of waiting for the minute pump (which stays as the safety net).

    Per tenant and second, one immediate job (key ``deliver:<tenant>:<second>:<process>``) at the first
    commit, and at a second commit in the same second one trailing job scheduled for the next
    second: that commit may land after the immediate job has drained, and the trailing job
    starts after it. A lone commit costs one enqueue (over 10,000 tenants nearly every sale is
    its tenant's only one that second); a burst costs two a second per process, de-duplicated
    here without Redis."""

    def __init__(self, queue: Any) -> None:
        from core.redis import OutageLog

        self.queue = queue
        self._pending: set[asyncio.Task[None]] = set()
        self._kicked: dict[UUID, tuple[int, bool]] = {}  # tenant → last second, trailing queued
        # The immediate job's key is this process's: another process's lone commit in the same
        # second (which enqueues no trailing job) must not find its kick taken by ours.
        self.process = uuid4().hex[:8]
        self._outage = OutageLog("event delivery kicks", "the worker's minute pump delivers")

    def __call__(self, tenant_id: UUID) -> None:
        second = int(time.time())
        last = self._kicked.get(tenant_id)
        if last == (second, True):
            return
        trailing = last == (second, False)  # the second commit this second
        if len(self._kicked) > 10_000:
            self._kicked.clear()
        self._kicked[tenant_id] = (second, trailing)
        task = asyncio.get_running_loop().create_task(
            self._enqueue(tenant_id, second, trailing=trailing)
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _enqueue(self, tenant_id: UUID, second: int, *, trailing: bool) -> None:
        key, scheduled = (
            (f"deliver:{tenant_id}:{second + 1}:trailing", second + 1)
            if trailing
            else (f"deliver:{tenant_id}:{second}:{self.process}", 0)
        )
        try:
            await asyncio.wait_for(
                self.queue.enqueue(
                    "deliver_events",
                    tenant_id=str(tenant_id),
                    key=key,
                    scheduled=scheduled,
                    timeout=60,
                ),
                KICK_SECONDS,
            )
        except Exception as exc:  # Redis away: the pump (or a later kick) delivers; none lost
            self._outage.failed(exc)  # logged once per outage, not per commit
        else:
            self._outage.ok()


async def single_deliverer(
    tenant_id: UUID, drain: Callable[[], Awaitable[tuple[int, bool]]]
) -> int:
    """Run ``drain`` (→ ``(delivered, finished)``) as the tenant's only deliverer, leaving no
    kick unserved. Every caller first raises the tenant's *dirty* flag, then tries the lock;
    the holder clears the flag before each drain and, after releasing the lock, takes it again
    if the flag is up. A caller that finds the lock taken returns at once: its flag was raised
    before the holder released, so the holder (or its next round) sees it."""
    from redis.exceptions import LockError

    from core.redis import get_redis, key

    client = get_redis()
    if client is None:
        return (await drain())[0]
    dirty = key(tenant_id, "delivery", "dirty")
    await client.set(dirty, "1", ex=3600)
    delivered = 0
    while True:
        lock = client.lock(key(tenant_id, "delivery", "lock"), timeout=DELIVERY_LOCK_SECONDS)
        if not await lock.acquire(blocking=False):
            return delivered
        try:
            while await client.delete(dirty):
                try:
                    done, finished = await drain()
                except BaseException:
                    await client.set(dirty, "1", ex=3600)  # the next kick (or the pump) retries
                    raise
                delivered += done
                if not finished:
                    await client.set(dirty, "1", ex=3600)
                    return delivered
        finally:
            try:
                await lock.release()
            except LockError:  # expired under a stalled drain: a later kick takes over
                log.warning("event delivery lock for tenant %s had expired", tenant_id)
        if not await client.exists(dirty):
            return delivered


def saq_functions(table: JobTable) -> tuple[list[Callable[..., Awaitable[Any]]], list[Any]]:
    from saq import CronJob
    from saq.types import Context

    from core.messaging import channels_for, send_due
    from core.plugins.delivery import deliver_pending

    async def _tenant(tenant_id: str) -> TenantInfo | None:
        row = await Tenant.select().where(Tenant.id == UUID(tenant_id)).first()
        return TenantInfo.from_row(dict(row)) if row and row["status"] == "active" else None

    async def tenant_job(ctx: Context, *, job: str, tenant_id: str) -> bool:
        tenant = await _tenant(tenant_id)
        return bool(tenant) and await table.run_for_tenant(job, tenant)  # type: ignore[arg-type]

    async def deliver_events(ctx: Context, *, tenant_id: str) -> int:
        """Deliver the tenant's backlog; one deliverer per tenant at a time (see
        :func:`single_deliverer`), so the kicks of a burst of sales do not race on one page."""
        tenant = await _tenant(tenant_id)
        if tenant is None:
            return 0
        worker = ctx.get("worker")
        stopping = worker.event.is_set if worker is not None else (lambda: False)
        deadline = time.monotonic() + 50

        async def drain() -> tuple[int, bool]:
            delivered = 0
            while True:
                stats = await deliver_pending(table.runtime, tenant, limit=DELIVERY_BATCH)
                delivered += stats.delivered
                if stats.events < DELIVERY_BATCH or not (stats.delivered or stats.dispatched):
                    return delivered, True
                if stopping() or time.monotonic() > deadline:
                    return delivered, False  # the next kick, or the minute pump, goes on

        return await single_deliverer(tenant.id, drain)

    async def send_messages(ctx: Context, *, tenant_id: str) -> int:
        tenant = await _tenant(tenant_id)
        if tenant is None:
            return 0
        channels = await channels_for(tenant, table.runtime)
        sent = 0
        while (stats := await send_due(tenant, channels)).claimed:
            sent += stats.sent
        return sent

    async def fanout(ctx: Context, *, job: str) -> int:
        """One job per enabled tenant for the current slot; a slot already fanned out (another
        scheduler, a retry) is skipped: ``SET NX`` on ``mendian:<tenant>:jobs:<job>:<slot>``."""
        from core.redis import get_redis, key

        queue = ctx["worker"].queue
        client = get_redis()
        slot = slot_of(table.jobs[job][1].cron, dt.datetime.now(dt.UTC))
        count = 0
        for tenant in await table.tenants_for_all_tenants(job):
            if client is not None and not await client.set(
                key(tenant.id, "jobs", f"{job}:{slot}"), "1", nx=True, ex=2 * 86400
            ):
                continue
            if await queue.enqueue(
                "tenant_job",
                job=job,
                tenant_id=str(tenant.id),
                key=f"{job}:{tenant.id}:{slot}",
                timeout=3600,
            ):
                count += 1
        return count

    async def pump(ctx: Context) -> int:
        """Every minute: event delivery and message sending for every active tenant."""
        queue = ctx["worker"].queue
        minute = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M")
        for row in await Tenant.select(Tenant.id).where(Tenant.status == "active"):
            tid = str(row["id"])
            await queue.enqueue(
                "deliver_events", tenant_id=tid, key=f"deliver:{tid}:{minute}", timeout=60
            )
            await queue.enqueue(
                "send_messages", tenant_id=tid, key=f"send:{tid}:{minute}", timeout=600
            )
        return 0

    functions: list[Callable[..., Awaitable[Any]]] = [
        tenant_job,
        deliver_events,
        send_messages,
        fanout,
        pump,
    ]
    for fn in functions:  # SAQ names jobs by __qualname__: make the closures' names plain
        fn.__qualname__ = fn.__name__
    crons = [
        CronJob(fanout, cron=job.cron, kwargs={"job": name})
        for name, (_p, job) in table.jobs.items()
    ]
    crons.append(CronJob(pump, cron="* * * * *"))
    return functions, crons


async def run_worker(runtime: PluginRuntime, *, burst: bool = False) -> None:
    """The SAQ worker with ``REDIS_URL``; else the in-process loops (until cancelled)."""
    from core.config import get_settings

    table = JobTable(runtime)
    url = get_settings().redis_url
    if url is None:
        await run_in_process(table)
        return
    from saq import Worker

    queue = saq_queue(url)
    functions, crons = saq_functions(table)
    worker = Worker(
        queue,
        functions=functions,
        cron_jobs=crons,
        burst=burst,
        concurrency=8,
        dequeue_timeout=1 if burst else 0,
        # SAQ waits this long for every task (its own upkeep loops too) before cancelling: a
        # drain stops between pages, and batches commit within about a second; a page still
        # running is cancelled and rolled back (nothing is lost; a webhook may be sent again).
        shutdown_grace_period_s=5,
    )
    await worker.start()


async def run_in_process(table: JobTable, *, tick: float = 30.0) -> None:
    """Embedded scheduler: fires each job at its cron times for each tenant (no Redis)."""
    from core.messaging import channels_for, send_due
    from core.plugins.dispatcher import EventDispatcher

    async def messages() -> None:
        while True:
            try:
                for row in await Tenant.select().where(Tenant.status == "active"):
                    tenant = TenantInfo.from_row(dict(row))
                    channels = await channels_for(tenant, table.runtime)
                    while (await send_due(tenant, channels)).claimed:
                        pass
            except Exception:
                log.exception("message sending failed")
            await asyncio.sleep(2)

    dispatcher = EventDispatcher(table.runtime)
    from core.events import set_event_listener

    set_event_listener(dispatcher.kick)
    await asyncio.gather(dispatcher.run(), messages(), _cron_loop(table, tick))


async def _cron_loop(table: JobTable, tick: float) -> None:
    last: dict[str, str] = {}
    while True:
        now = dt.datetime.now(dt.UTC)
        for name, (_plugin, job) in table.jobs.items():
            slot = slot_of(job.cron, now)
            if last.setdefault(name, slot) != slot:
                last[name] = slot
                for tenant in await table.tenants_for_all_tenants(name):
                    try:
                        await table.run_for_tenant(name, tenant)
                    except Exception:
                        log.exception("job %s failed for tenant %s", name, tenant.slug)
        await asyncio.sleep(tick)
