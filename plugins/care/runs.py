"""Runs: snapshot an audience set-based, then fan it out in chunks through the messaging
pipeline, exactly once.

* **Snapshot** — one ``INSERT … SELECT`` from the core's segment SQL into ``care_target``;
  the unique key (campaign, occurrence, customer) makes a second run of the same occurrence
  (an edit, a pause and re-activation, a retry) add nobody twice.
* **Groups** — a SHA-256 of campaign id and customer id decides control vs treatment (and the
  A/B variant): the same customer lands in the same group every time.
* **Fan-out** — a chunk is one tenant transaction: claim ``pending`` targets (``FOR UPDATE
  SKIP LOCKED`` on PostgreSQL, so concurrent workers split the run), queue the treatment's
  messages with purpose ``marketing`` and idempotency key
  ``care:<campaign>:<occurrence>:<customer>`` (an e-mail with RFC 8058's ``List-Unsubscribe``
  headers), create a revisit's call tasks for its
  high-value customers instead (:mod:`plugins.care.calls`), mark the targets. A worker killed
  mid-chunk rolls the whole chunk back; the next worker does it again — nothing lost, nothing
  doubled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from core import (
    ChannelSet,
    Conflict,
    MessageRequest,
    NotFound,
    SegmentField,
    TenantInfo,
    ValidationFailed,
    birthday_customer_ids_sql,
    customer_zones_sql,
    emit,
    enqueue_messages,
    execute,
    fetch,
    filter_customer_ids_sql,
    is_postgres,
    purchasers_sql,
    segment_customer_ids_sql,
    tenant_tx,
    uuid_expr,
)
from plugins.care.calls import call_tasks
from plugins.care.campaigns import Variant
from plugins.care.pages import one_click_headers, unsubscribe_token
from plugins.care.settings import CareSettings

__all__ = [
    "FanOut",
    "fan_out_chunk",
    "finish_pending",
    "group_of",
    "message_key",
    "run_campaign",
    "start_run",
]

TEMPLATE = "care.message"


def _bucket(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % 10_000


def group_of(campaign_id: UUID, customer_id: UUID, control_pct: int) -> str:
    """``control`` or ``treatment``: deterministic per campaign and customer."""
    return "control" if _bucket(f"{campaign_id}:{customer_id}") < control_pct * 100 else "treatment"


def variant_of(campaign_id: UUID, customer_id: UUID, variants: Sequence[Variant]) -> str:
    if not variants:
        return ""
    total = sum(v.weight for v in variants)
    point = _bucket(f"{campaign_id}:{customer_id}:variant") % total
    for v in variants:
        if point < v.weight:
            return v.key
        point -= v.weight
    return variants[-1].key  # pragma: no cover


def message_key(campaign_id: UUID, occurrence: str, customer_id: UUID) -> str:
    return f"care:{campaign_id}:{occurrence}:{customer_id}"


def audience_filter(campaign: dict[str, Any]) -> dict[str, Any] | None:
    """The kind's own condition on top of the segment (``None``: the segment alone)."""
    s = campaign["settings"]
    if campaign["kind"] == "winback":
        return {"field": "lifecycle", "op": "in", "value": list(s.lifecycles)}
    return None  # a revisit reaches everyone of its segment: high value by call, others by message


def birthday_of(occurrence: str) -> dt.date:
    """The birthday a birthday run greets: its occurrence is ``birthday:<date>`` (or the bare
    ISO date), so a customer is greeted once per birthday however the campaign is edited."""
    try:
        return dt.date.fromisoformat(occurrence.rpartition(":")[2])
    except ValueError:
        raise ValidationFailed(
            "a birthday run's occurrence is birthday:YYYY-MM-DD",
            field="occurrence",
            code="invalid_occurrence",
        ) from None


def hour_of(occurrence: str) -> dt.datetime:
    """The hour (UTC) whose sales a thank-you run thanks: occurrence ``h<YYYY-MM-DDTHH>``."""
    try:
        return dt.datetime.strptime(occurrence, "h%Y-%m-%dT%H").replace(tzinfo=dt.UTC)
    except ValueError:
        raise ValidationFailed(
            "a thank-you run's occurrence is hYYYY-MM-DDTHH (an hour in UTC)",
            field="occurrence",
            code="invalid_occurrence",
        ) from None


async def _audience_sql(
    tenant: TenantInfo,
    campaign: dict[str, Any],
    fields: Mapping[str, SegmentField],
    occurrence: str,
) -> tuple[str, list[Any]]:
    if campaign["kind"] in ("birthday", "thank_you"):
        s = campaign["settings"]
        if campaign["kind"] == "birthday":
            born, born_args = birthday_customer_ids_sql(tenant, birthday_of(occurrence))
        else:
            start = hour_of(occurrence)
            born, born_args = purchasers_sql(
                tenant,
                start,
                start + dt.timedelta(hours=1),
                min_amount_minor=s.min_amount_minor,
                first_only=s.first_purchase_only,
            )
        if campaign["segment_id"] is None:
            return born, born_args
        try:
            sql, args = await segment_customer_ids_sql(tenant, campaign["segment_id"], fields)
        except NotFound:
            raise ValidationFailed(
                "the campaign's segment no longer exists", field="segmentId", code="not_found"
            ) from None
        return f"SELECT id FROM ({sql}) a WHERE id IN ({born})", [*args, *born_args]
    flt = audience_filter(campaign)
    if campaign["segment_id"] is not None:
        try:
            sql, args = await segment_customer_ids_sql(tenant, campaign["segment_id"], fields)
        except NotFound:
            raise ValidationFailed(
                "the campaign's segment no longer exists", field="segmentId", code="not_found"
            ) from None
        if flt is not None:
            extra, extra_args = filter_customer_ids_sql(tenant, flt, fields)
            return f"SELECT id FROM ({sql}) a WHERE id IN ({extra})", [*args, *extra_args]
        return sql, args
    everyone = {"field": "purchase_count", "op": "gte", "value": 0}
    if not fields:  # the core's fields (a demo, a test): no plugin conditions in these filters
        return filter_customer_ids_sql(tenant, flt or everyone)
    return filter_customer_ids_sql(tenant, flt or everyone, fields)


async def audience_size(
    tenant: TenantInfo,
    campaign: dict[str, Any],
    fields: Mapping[str, SegmentField],
    occurrence: str = "",
) -> int:
    async with tenant_tx(tenant.id, write=False):
        sql, args = await _audience_sql(tenant, campaign, fields, occurrence)
        rows = await fetch(f"SELECT COUNT(*) AS n FROM ({sql}) q", *args)
    return int(rows[0]["n"])


def _covered(zones: str) -> set[str] | None:
    """The zones a run has snapshotted (``None``: everyone)."""
    return set(zones.split(",")) if zones else None


async def start_run(
    tenant: TenantInfo,
    campaign: dict[str, Any],
    occurrence: str,
    fields: Mapping[str, SegmentField],
    *,
    trigger: str = "manual",
    now: dt.datetime | None = None,
    chunk_size: int = 1000,
    zones: Collection[str] | None = None,
) -> tuple[UUID, bool]:
    """Open the run of ``occurrence`` and snapshot its audience (one ``INSERT … SELECT``);
    ``(run id, created)``. ``zones``: only the customers living in these timezones (their
    home store's, else the tenant's) — the stores where the festival's day has begun; a later
    call with more zones adds those zones' customers to the same run (``created`` is then
    ``False``). ``None``: everyone (an existing run is then returned as it is)."""
    now = now or dt.datetime.now(dt.UTC)
    wanted = set(zones) if zones is not None else None
    async with tenant_tx(tenant.id):
        existing = await fetch(
            "SELECT id, zones FROM care_run WHERE tenant_id = {} AND campaign_id = {} "
            "AND occurrence = {}",
            tenant.id,
            campaign["id"],
            occurrence,
        )
        created = not existing
        if existing:
            run_id = UUID(str(existing[0]["id"]))
            covered = _covered(existing[0]["zones"] or "")
            if covered is None or (wanted is not None and wanted <= covered):
                return run_id, False
            adding = None if wanted is None else wanted - covered
            covered_now = "" if wanted is None else ",".join(sorted(covered | wanted))
        else:
            run_id = uuid4()
            adding = wanted
            covered_now = ",".join(sorted(wanted)) if wanted is not None else ""
            won = await fetch(  # two schedulers at once: the unique occurrence lets one win
                "INSERT INTO care_run (tenant_id, id, campaign_id, occurrence, trigger, status, "
                "targeted, zones, started_at) VALUES ({}, {}, {}, {}, {}, 'fanning', 0, {}, {}) "
                "ON CONFLICT DO NOTHING RETURNING id",
                tenant.id,
                run_id,
                campaign["id"],
                occurrence,
                trigger,
                covered_now,
                now,
            )
            if not won:  # another scheduler opened it (and snapshots it) meanwhile
                again = await fetch(
                    "SELECT id FROM care_run WHERE tenant_id = {} AND campaign_id = {} "
                    "AND occurrence = {}",
                    tenant.id,
                    campaign["id"],
                    occurrence,
                )
                return UUID(str(again[0]["id"])), False
        sql, args = await _audience_sql(tenant, campaign, fields, occurrence)
        zone_sql, zone_args = customer_zones_sql(tenant, adding)
        last = await fetch(
            "SELECT MAX(chunk) AS last FROM care_target WHERE tenant_id = {} AND run_id = {}",
            tenant.id,
            run_id,
        )
        first_chunk = int(last[0]["last"]) + 1 if last and last[0]["last"] is not None else 0
        await execute(
            "INSERT INTO care_target (tenant_id, id, run_id, campaign_id, occurrence, "
            "customer_id, store_id, chunk, grp, variant, status, reason, created_at) "
            f"SELECT {{}}, {uuid_expr()}, {{}}, {{}}, {{}}, q.id, z.store_id, "
            f"{first_chunk} + (ROW_NUMBER() OVER ()) / {int(chunk_size)}, 'treatment', '', "
            f"'pending', '', {{}} FROM ({sql}) q JOIN ({zone_sql}) z ON z.id = q.id "
            "WHERE 1 = 1 ON CONFLICT DO NOTHING",  # WHERE: SQLite's parser
            tenant.id,
            run_id,
            campaign["id"],
            occurrence,
            now,
            *args,
            *zone_args,
        )
        await execute(
            "UPDATE care_run SET targeted = (SELECT COUNT(*) FROM care_target t "
            "WHERE t.tenant_id = {} AND t.run_id = {}), zones = {}, status = 'fanning', "
            "finished_at = NULL WHERE tenant_id = {} AND id = {}",
            tenant.id,
            run_id,
            covered_now,
            tenant.id,
            run_id,
        )
    return run_id, created


@dataclass
class FanOut:
    handled: int = 0
    queued: int = 0
    held: int = 0
    tasks: int = 0
    duplicates: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)


def _in(values: Sequence[object]) -> str:
    return "(" + ", ".join("{}" for _ in values) + ")"


async def fan_out_chunk(
    tenant: TenantInfo,
    campaign: dict[str, Any],
    run_id: UUID,
    settings: CareSettings,
    channels: ChannelSet,
    number: int,
    *,
    now: dt.datetime | None = None,
) -> FanOut:
    """Handle the pending targets of one chunk of the run in one transaction (numbered at
    the snapshot: each claim reads one chunk's index range, however large the run)."""
    now = now or dt.datetime.now(dt.UTC)
    out = FanOut()
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres() else ""
    async with tenant_tx(tenant.id):
        rows = await fetch(
            "SELECT id, customer_id, occurrence FROM care_target WHERE tenant_id = {} "
            f"AND run_id = {{}} AND chunk = {{}} AND status = 'pending'{lock}",
            tenant.id,
            run_id,
            number,
        )
        if not rows:
            return out
        cid = campaign["id"]
        variants: list[Variant] = campaign["variants"]
        texts = {v.key: v.message for v in variants}
        channel_key = campaign["channel"] or settings.channel
        channel = channels.get(channel_key)
        consent_channel = channel.consent_channel
        held: list[Any] = []
        by_variant: dict[str, list[Any]] = {}
        requests: list[MessageRequest] = []
        key_of: dict[str, Any] = {}
        control_pct = int(campaign["control_pct"])
        treated = [
            r
            for r in rows
            if group_of(cid, UUID(str(r["customer_id"])), control_pct) == "treatment"
        ]
        called = await call_tasks(tenant, campaign, run_id, treated)  # revisit: high value
        for r in rows:
            customer = UUID(str(r["customer_id"]))
            variant = variant_of(cid, customer, variants)
            by_variant.setdefault(variant, []).append(r["id"])
            if group_of(cid, customer, control_pct) == "control":
                held.append(r["id"])
                continue
            if r["id"] in called:
                continue
            key = message_key(cid, r["occurrence"], customer)
            key_of[key] = r["id"]
            link = settings.unsubscribe_link(
                unsubscribe_token(tenant.slug, customer, consent_channel, now)
            )
            requests.append(
                MessageRequest(
                    customer_id=customer,
                    channel=channel_key,
                    template_key=TEMPLATE,
                    idempotency_key=key,
                    source="care",
                    purpose="marketing",
                    context={
                        "text": texts.get(variant, campaign["message"]),
                        "campaign": str(cid),
                        "unsubscribe_url": link,
                    },
                    headers=one_click_headers(link) if channel.address == "email" else {},
                )
            )
        result = await enqueue_messages(tenant, requests, channels, now=now)
        status: dict[Any, tuple[str, str]] = {}
        for key, target in key_of.items():
            found = result.by_key.get(key)
            if found is None:
                status[target] = ("duplicate", "")
            elif found[1] == "suppressed":
                status[target] = ("suppressed", found[2])
            else:
                status[target] = ("queued", "")
        offer = campaign["settings"].offer
        if offer:
            for key, target in key_of.items():
                if status[target][0] == "queued":
                    customer_key = key.rsplit(":", 1)[1]
                    await emit(
                        "care.offer_granted",
                        customer_key,
                        {
                            "key": key,
                            "campaign_id": str(cid),
                            "occurrence": key.split(":", 2)[2].rsplit(":", 1)[0],
                            "customer_id": customer_key,
                            "offer": offer,
                            "points": campaign["settings"].offer_points,
                            "coupon": campaign["settings"].offer_coupon,
                        },
                    )
        groups: dict[tuple[str, str, str], list[Any]] = {}
        for target in held:
            groups.setdefault(("held", "", "control"), []).append(target)
        for target in called:
            groups.setdefault(("task", "", "treatment"), []).append(target)
        for target, (st, reason) in status.items():
            groups.setdefault((st, reason, "treatment"), []).append(target)
        for (st, reason, grp), ids in groups.items():
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                await execute(
                    "UPDATE care_target SET status = {}, reason = {}, grp = {}, handled_at = {} "
                    "WHERE tenant_id = {} AND run_id = {} AND chunk = {} "
                    f"AND id IN {_in(chunk)}",
                    st,
                    reason,
                    grp,
                    now,
                    tenant.id,
                    run_id,
                    number,
                    *chunk,
                )
        for variant, ids in by_variant.items():
            if variant:
                for i in range(0, len(ids), 500):
                    chunk = ids[i : i + 500]
                    await execute(
                        "UPDATE care_target SET variant = {} WHERE tenant_id = {} "
                        f"AND run_id = {{}} AND chunk = {{}} AND id IN {_in(chunk)}",
                        variant,
                        tenant.id,
                        run_id,
                        number,
                        *chunk,
                    )
    out.handled = len(rows)
    out.held = len(held)
    out.tasks = len(called)
    out.queued = result.queued
    out.duplicates = result.duplicates
    out.suppressed = result.suppressed
    return out


async def _close_if_done(tenant: TenantInfo, run_id: UUID, now: dt.datetime) -> bool:
    async with tenant_tx(tenant.id):
        left = await fetch(
            "SELECT 1 AS x FROM care_target WHERE tenant_id = {} AND run_id = {} "
            "AND status = 'pending' LIMIT 1",
            tenant.id,
            run_id,
        )
        if left:
            return False
        await execute(
            "UPDATE care_run SET status = 'done', finished_at = {} WHERE tenant_id = {} "
            "AND id = {} AND status = 'fanning'",
            now,
            tenant.id,
            run_id,
        )
    return True


async def drain_run(
    tenant: TenantInfo,
    campaign: dict[str, Any],
    run_id: UUID,
    settings: CareSettings,
    channels: ChannelSet,
    *,
    max_chunks: int | None = None,
) -> FanOut:
    """Fan out chunk after chunk until the run is done (or ``max_chunks`` were handled)."""
    total = FanOut()
    async with tenant_tx(tenant.id, write=False):
        found = await fetch(
            "SELECT MAX(chunk) AS last FROM care_target WHERE tenant_id = {} AND run_id = {}",
            tenant.id,
            run_id,
        )
    last = found[0]["last"]
    handled_chunks = 0
    for chunk in range(int(last) + 1 if last is not None else 0):
        if max_chunks is not None and handled_chunks >= max_chunks:
            break
        part = await fan_out_chunk(tenant, campaign, run_id, settings, channels, chunk)
        if not part.handled:
            continue  # done before (or taken by another worker right now)
        handled_chunks += 1
        total.handled += part.handled
        total.queued += part.queued
        total.held += part.held
        total.tasks += part.tasks
        total.duplicates += part.duplicates
        total.suppressed.update(part.suppressed)
    await _close_if_done(tenant, run_id, dt.datetime.now(dt.UTC))
    return total


async def run_campaign(
    tenant: TenantInfo,
    campaign: dict[str, Any],
    occurrence: str,
    settings: CareSettings,
    channels: ChannelSet,
    fields: Mapping[str, SegmentField],
    *,
    trigger: str = "manual",
    inline_chunks: int | None = None,
    now: dt.datetime | None = None,
    zones: Collection[str] | None = None,
) -> UUID:
    """Check the approval rule, snapshot (only the customers of ``zones`` when given: see
    :func:`start_run`) and fan out (``inline_chunks`` now; the rest by the ``care.fan_out``
    job)."""
    if campaign["state"] == "paused":
        raise Conflict("the campaign is paused", field="id", code="paused")
    if campaign["approval"] != "approved" and settings.approval_threshold:
        size = await audience_size(tenant, campaign, fields, occurrence)
        if size > settings.approval_threshold:
            async with tenant_tx(tenant.id):
                await execute(
                    "UPDATE care_campaign SET approval = 'required' WHERE tenant_id = {} "
                    "AND id = {}",
                    tenant.id,
                    campaign["id"],
                )
            raise Conflict(
                f"an audience of {size} (over {settings.approval_threshold}) needs approval "
                "by an owner or HQ first",
                field="id",
                code="approval_required",
            )
    run_id, _created = await start_run(
        tenant,
        campaign,
        occurrence,
        fields,
        trigger=trigger,
        now=now,
        chunk_size=settings.chunk_size,
        zones=zones,
    )
    await drain_run(tenant, campaign, run_id, settings, channels, max_chunks=inline_chunks)
    return run_id


async def finish_pending(
    tenant: TenantInfo, settings: CareSettings, channels: ChannelSet, *, max_chunks: int = 600
) -> int:
    """The ``care.fan_out`` job: go on with every run still fanning out (a run left by a
    killed worker included); returns the targets handled."""
    from plugins.care.campaigns import get_campaign

    async with tenant_tx(tenant.id, write=False):
        runs = await fetch(
            "SELECT id, campaign_id FROM care_run WHERE tenant_id = {} AND status = 'fanning' "
            "ORDER BY started_at",
            tenant.id,
        )
    handled = 0
    for r in runs:
        campaign = await get_campaign(tenant, UUID(str(r["campaign_id"])))
        if campaign is None or campaign["state"] == "paused":
            continue
        done = await drain_run(
            tenant, campaign, UUID(str(r["id"])), settings, channels, max_chunks=max_chunks
        )
        handled += done.handled
    return handled
