"""Delivery of outbox events to the tenant's enabled plugins and webhooks (CORE-15).

For every undelivered event, each enabled plugin implementing ``on_<event name>`` (dots become
underscores: ``purchase.recorded`` → ``on_purchase_recorded``) gets the event once:

1. a ``pending`` marker row is ensured for (event, plugin) — unique per tenant;
2. the hook runs inside a tenant transaction that also flips that row to ``done``
   (``… WHERE status = 'pending'``): the plugin's writes and the marker commit together, so a
   crash or a concurrent deliverer can never apply the event twice;
3. a failure (exception or timeout) rolls the plugin's writes back, records a problem and
   schedules a retry with exponential backoff — forever, until the plugin is fixed.

The event is marked dispatched when every handler is done. Webhook subscribers are handlers too
(``webhook:<id>``): an HMAC-SHA256-signed POST, at least once, with ``X-Mendian-Event-Id`` for
the receiver's de-duplication.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec

from core.context import TenantInfo
from core.db import fetch, json_value, tenant_tx
from core.plugins.runtime import PluginRuntime
from core.tables import EventDelivery, EventOutbox, WebhookSubscription

__all__ = [
    "DeliveryStats",
    "deliver_pending",
    "delivery_outstanding",
    "hook_name_for",
    "sign_webhook",
]

log = logging.getLogger("mendian.events")
MAX_BACKOFF = dt.timedelta(minutes=30)
MAX_PAGES = 20
HANDLER_BATCH = 50  # plugin handlers committed together (one failure: each on its own)
BATCH_SECONDS = 1.0  # a batch commits early past this
MARKER_CHUNK = 1_000  # marker rows per INSERT (9 parameters each)


async def delivery_outstanding(
    tenant: TenantInfo, plugin_id: str, event_name: str, subject_id: object
) -> bool:
    """Whether ``plugin_id`` may still receive event ``event_name`` about ``subject_id``: a
    delivery of it is pending (retrying), or it is not yet dispatched. A handler that depends on
    an earlier event (a refund's reversal on its sale's accrual) fails while this is true, and
    is retried after it."""
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT o.dispatched_at AS dispatched, d.status AS status FROM event_outbox o "
            "LEFT JOIN event_delivery d ON d.tenant_id = o.tenant_id AND d.event_id = o.id "
            "AND d.plugin_id = {} WHERE o.tenant_id = {} AND o.name = {} AND o.subject_id = {}",
            plugin_id,
            tenant.id,
            event_name,
            str(subject_id),
        )
    return any(
        r["status"] == "pending" or (r["status"] is None and r["dispatched"] is None) for r in rows
    )


def hook_name_for(event_name: str) -> str:
    return "on_" + event_name.replace(".", "_")


def sign_webhook(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class DeliveryStats:
    events: int = 0
    delivered: int = 0
    failed: int = 0
    dispatched: int = 0


class _AlreadyDone(Exception):
    """Another deliverer finished this (event, plugin) first: roll ours back."""


Handler = Callable[[], Awaitable[Any]]


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(seconds=2 ** min(attempts, 12)), MAX_BACKOFF)


async def _markers(
    tenant: TenantInfo, wanted: list[tuple[UUID, str]]
) -> dict[tuple[UUID, str], dict[str, Any]]:
    """Ensure a ``pending`` marker for every (event, handler) of a page and read them all: one
    transaction, two statements (a concurrent deliverer's markers are kept: ``DO NOTHING``)."""
    if not wanted:
        return {}
    async with tenant_tx(tenant.id):
        for start in range(0, len(wanted), MARKER_CHUNK):  # within PostgreSQL's parameter limit
            await EventDelivery.insert(
                *(
                    EventDelivery(event_id=event_id, plugin_id=handler)
                    for event_id, handler in wanted[start : start + MARKER_CHUNK]
                )
            ).on_conflict(
                target=(EventDelivery.tenant_id, EventDelivery.event_id, EventDelivery.plugin_id),
                action="DO NOTHING",
            )
        rows = await EventDelivery.select().where(
            EventDelivery.event_id.is_in(list({event_id for event_id, _h in wanted}))
        )
    return {(row["event_id"], row["plugin_id"]): dict(row) for row in rows}


async def _attempt(
    runtime: PluginRuntime,
    tenant: TenantInfo,
    event: dict[str, Any],
    handler_id: str,
    run: Handler,
    marker: dict[str, Any],
) -> bool:
    now = dt.datetime.now(dt.UTC)
    try:
        async with tenant_tx(tenant.id):
            # Claim first: the flip holds the marker's row lock until this transaction ends, so
            # a concurrent deliverer waits here, then finds it done (or, after our rollback,
            # pending again) — a handler never runs twice at once for the same event.
            done = (
                await EventDelivery.update(
                    {
                        EventDelivery.status: "done",
                        EventDelivery.done_at: now,
                        EventDelivery.attempts: marker["attempts"] + 1,
                        EventDelivery.last_error: "",
                    }
                )
                .where(EventDelivery.id == marker["id"], EventDelivery.status == "pending")
                .returning(EventDelivery.id)
            )
            if not done:
                raise _AlreadyDone
            await asyncio.wait_for(run(), runtime.hook_timeout)
    except _AlreadyDone:
        return True
    except Exception as exc:
        attempts = marker["attempts"] + 1
        async with tenant_tx(tenant.id):
            await EventDelivery.update(
                {
                    EventDelivery.attempts: attempts,
                    EventDelivery.last_error: f"{type(exc).__name__}: {exc}"[:2000],
                    EventDelivery.next_attempt_at: now + _backoff(attempts),
                }
            ).where(EventDelivery.id == marker["id"], EventDelivery.status == "pending")
        if not handler_id.startswith("webhook:"):
            await runtime.record_failure(
                tenant, handler_id, hook_name_for(event["name"]), exc, event["id"]
            )
        return False
    if not handler_id.startswith("webhook:"):
        await runtime.record_success(tenant, handler_id)
    return True


Due = tuple[dict[str, Any], str, Handler, dict[str, Any]]  # event, handler id, run, marker


async def _attempt_batch(
    runtime: PluginRuntime, tenant: TenantInfo, batch: list[Due]
) -> int | None:
    """Run plugin handlers in order in one transaction — each claims its marker first — and
    commit once, after the batch or after ``BATCH_SECONDS`` (what is left goes to the next
    batch, so a slow plugin never holds locks long nor outlives the job's timeout). Returns how
    many items from the start were committed; ``None`` when one failed: everything rolled back,
    and the caller runs those items one by one, in order (:func:`_attempt`)."""
    now = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    taken = 0
    try:
        async with tenant_tx(tenant.id):
            for _event, _handler, run, marker in batch:
                claimed = await fetch(
                    "UPDATE event_delivery SET status = 'done', done_at = {}, "
                    "attempts = attempts + 1, last_error = '' "
                    "WHERE tenant_id = {} AND id = {} AND status = 'pending' RETURNING id",
                    now,
                    tenant.id,
                    marker["id"],
                )
                if claimed:  # else a concurrent deliverer did it
                    await asyncio.wait_for(run(), runtime.hook_timeout)
                taken += 1
                if time.monotonic() - started > BATCH_SECONDS:
                    break
    except Exception:
        return None
    for plugin_id in {handler for _e, handler, _r, _m in batch[:taken]}:
        await runtime.record_success(tenant, plugin_id)
    return taken


def _webhook_handler(
    sub: dict[str, Any], event: dict[str, Any], payload: dict[str, Any]
) -> Handler:
    async def post() -> None:
        import httpx

        from core.webhooks import check_address, reveal_secret

        await check_address(sub["url"])  # again at each POST: DNS may have changed
        secret = reveal_secret(sub["secret"], UUID(str(sub["tenant_id"])))

        body = msgspec.json.encode(
            {
                "id": str(event["id"]),
                "name": event["name"],
                "payload": payload,
                "created_at": event["created_at"],
            }
        )
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                sub["url"],
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Mendian-Event": event["name"],
                    "X-Mendian-Event-Id": str(event["id"]),
                    "X-Mendian-Signature": sign_webhook(secret, body),
                },
            )
            response.raise_for_status()

    return post


async def deliver_pending(
    runtime: PluginRuntime, tenant: TenantInfo, *, limit: int = 500, now: dt.datetime | None = None
) -> DeliveryStats:
    """Deliver the tenant's undelivered events (oldest first); safe to run concurrently.

    Reads ``limit`` events at a time; when a whole page is stuck (every handler waiting for its
    retry), it reads on past it — up to ``MAX_PAGES`` pages — so a failing plugin's backlog
    never starves newer events."""
    stats = DeliveryStats()
    now = now or dt.datetime.now(dt.UTC)
    after: tuple[dt.datetime, UUID] | None = None
    for _page in range(MAX_PAGES):
        async with tenant_tx(tenant.id, write=False):
            query = EventOutbox.select().where(EventOutbox.dispatched_at.is_null())
            if after is not None:
                query = query.where(
                    (EventOutbox.created_at > after[0])
                    | ((EventOutbox.created_at == after[0]) & (EventOutbox.id > after[1]))
                )
            events = await query.order_by(EventOutbox.created_at, EventOutbox.id).limit(limit)
            subs = await WebhookSubscription.select().where(WebhookSubscription.active.eq(True))
        progress = stats.delivered + stats.dispatched
        await _deliver_page(runtime, tenant, [dict(e) for e in events], subs, now, stats)
        if len(events) < limit or stats.delivered + stats.dispatched > progress:
            return stats
        after = (events[-1]["created_at"], events[-1]["id"])
    return stats


async def _deliver_page(
    runtime: PluginRuntime,
    tenant: TenantInfo,
    events: list[dict[str, Any]],
    subs: list[dict[str, Any]],
    now: dt.datetime,
    stats: DeliveryStats,
) -> None:
    """One page: markers ensured and read in one transaction, each due handler run in its own,
    the events whose handlers are all done marked dispatched in one statement."""
    work: list[tuple[dict[str, Any], dict[str, Handler]]] = []
    for event in events:
        stats.events += 1
        payload = dict(json_value(event["payload"], {}))
        store = payload.get("store_id")
        enabled = await runtime.enabled(tenant.id, UUID(store) if store else None)
        hook = hook_name_for(event["name"])
        handlers: dict[str, Handler] = {}
        if hasattr(runtime.registry.pm.hook, hook):
            for plugin_id, fn in runtime.implementations(hook, enabled):
                handlers[plugin_id] = _plugin_handler(runtime, plugin_id, fn, tenant, payload)
        for sub in subs:
            listens = json_value(sub["events"], [])
            if event["name"] in listens or "*" in listens:
                handlers[f"webhook:{sub['id']}"] = _webhook_handler(dict(sub), event, payload)
        work.append((event, handlers))
    markers = await _markers(
        tenant, [(event["id"], handler) for event, handlers in work for handler in handlers]
    )
    waiting: set[UUID] = set()  # events with a handler not done after this page
    due: list[Due] = []
    for event, handlers in work:
        for handler_id, run in handlers.items():
            marker = markers[(event["id"], handler_id)]
            if marker["status"] == "done":
                continue
            if marker["next_attempt_at"] is not None and marker["next_attempt_at"] > now:
                waiting.add(event["id"])
                continue
            due.append((event, handler_id, run, marker))
    plugins = [d for d in due if not d[1].startswith("webhook:")]
    webhooks = [d for d in due if d[1].startswith("webhook:")]  # HTTP: never inside a batch
    i = 0
    while i < len(plugins):  # in event order: a refund's handler never overtakes its sale's
        chunk = plugins[i : i + HANDLER_BATCH]
        taken = await _attempt_batch(runtime, tenant, chunk) if len(chunk) > 1 else None
        if taken:
            stats.delivered += taken
            i += taken
            continue
        for item in chunk:
            await _single(runtime, tenant, item, stats, waiting)
        i += len(chunk)
    for item in webhooks:
        await _single(runtime, tenant, item, stats, waiting)
    dispatched = [event["id"] for event, _h in work if event["id"] not in waiting]
    if dispatched:
        async with tenant_tx(tenant.id):
            await EventOutbox.update({EventOutbox.dispatched_at: dt.datetime.now(dt.UTC)}).where(
                EventOutbox.id.is_in(dispatched)
            )
        stats.dispatched += len(dispatched)


async def _single(
    runtime: PluginRuntime, tenant: TenantInfo, item: Due, stats: DeliveryStats, waiting: set[UUID]
) -> None:
    event, handler_id, run, marker = item
    if await _attempt(runtime, tenant, event, handler_id, run, marker):
        stats.delivered += 1
    else:
        stats.failed += 1
        waiting.add(event["id"])


def _plugin_handler(
    runtime: PluginRuntime,
    plugin_id: str,
    fn: Callable[..., Any],
    tenant: TenantInfo,
    payload: dict[str, Any],
) -> Handler:
    async def run() -> None:
        kwargs = await runtime.offer(tenant, plugin_id, {"tenant": tenant, "event": payload}, fn)
        result = fn(**kwargs)
        if asyncio.iscoroutine(result):
            await result

    return run
