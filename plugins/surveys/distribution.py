"""Distribution: invitations (per-customer, single-use links) and what sends them — staff
(``surveyInvite``: customers or a segment), a purchase (delay, sampling, stores), a resolved
complaint, a periodic segment run.

Every invitation is first a ``scheduled`` row of ``surveys_link`` with its ``send_after``;
:func:`send_due` (right away when due, and every five minutes as a job) takes the due ones,
applies the re-contact limit across all surveys of the tenant (a customer invited or
answering within ``recontact_days`` is not asked again; complaint follow-ups are exempt, see
README), mints each token and hands the message to the shared pipeline with purpose
``surveys`` — consent, quiet hours and the shared frequency cap are the pipeline's. Each link
records its outcome (``sent`` or ``suppressed`` with the reason), so response rates count
only invitations that went out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import msgspec

from core import (
    Actor,
    ChannelSet,
    Conflict,
    MessageRequest,
    NotFound,
    SegmentField,
    TenantInfo,
    ValidationFailed,
    audit,
    customer_facts,
    enqueue_messages,
    execute,
    fetch,
    json_text,
    json_value,
    segment_customer_ids_sql,
    store_facts,
    tenant_tx,
)
from plugins.surveys.catalog import builtin_complaint_survey
from plugins.surveys.definitions import parse_definition, text_of
from plugins.surveys.settings import SurveysSettings
from plugins.surveys.tokens import hash_token, new_token

__all__ = [
    "INVITATION",
    "InviteResult",
    "invite",
    "on_complaint_resolved",
    "on_purchase",
    "run_segment_triggers",
    "sampled",
    "send_due",
    "set_trigger",
]

INVITATION = "surveys.invitation"
COMPLAINT_FOLLOW_UP = "surveys.complaint_follow_up"
BATCH = 500
MAX_INVITE = 10_000


@dataclass
class InviteResult:
    """What happened to the invitations: queued (of which ``deferred`` wait out quiet hours)
    and suppressed, by reason."""

    queued: int = 0
    deferred: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)

    def add(self, other: InviteResult) -> None:
        self.queued += other.queued
        self.deferred += other.deferred
        self.suppressed.update(other.suppressed)


def sampled(trigger_id: UUID, purchase_id: UUID, percent: int) -> bool:
    """Whether a purchase is in a trigger's sample: decided by a hash of both ids, so a
    re-delivered event decides the same way and the share is ``percent`` over many sales."""
    if percent >= 100:
        return True
    digest = hashlib.sha256(f"{trigger_id}:{purchase_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < percent * 100


async def _schedule(tenant: TenantInfo, rows: Sequence[dict[str, Any]]) -> int:
    """Insert scheduled invitations (``source_key`` de-duplicates: a cause invites once);
    how many are new."""
    new = 0
    for r in rows:
        inserted = await fetch(
            "INSERT INTO surveys_link (tenant_id, id, survey_id, kind, status, customer_id, "
            "store_id, staff_id, purchase_id, complaint_id, trigger, source_key, reason, "
            "send_after, created_at) VALUES ({}, {}, {}, 'invitation', 'scheduled', {}, {}, {}, "
            "{}, {}, {}, {}, '', {}, {}) "
            "ON CONFLICT (tenant_id, source_key) WHERE source_key IS NOT NULL DO NOTHING "
            "RETURNING id",
            tenant.id,
            uuid4(),
            r["survey_id"],
            r["customer_id"],
            r.get("store_id"),
            r.get("staff_id"),
            r.get("purchase_id"),
            r.get("complaint_id"),
            r["trigger"],
            r["source_key"],
            r["send_after"],
            dt.datetime.now(dt.UTC),
        )
        new += len(inserted)
    return new


async def _recently_asked(
    tenant: TenantInfo, customer_ids: list[UUID], since: dt.datetime
) -> set[UUID]:
    """Customers invited (a sent invitation) or answering since ``since``, any survey."""
    if not customer_ids:
        return set()
    marks = ", ".join("{}" for _ in customer_ids)
    rows = await fetch(
        "SELECT customer_id FROM surveys_link WHERE tenant_id = {} AND kind = 'invitation' "
        f"AND status IN ('sent', 'answered') AND sent_at >= {{}} AND customer_id IN ({marks}) "
        "UNION SELECT customer_id FROM surveys_response WHERE tenant_id = {} "
        f"AND answered_at >= {{}} AND customer_id IN ({marks})",
        tenant.id,
        since,
        *customer_ids,
        tenant.id,
        since,
        *customer_ids,
    )
    return {UUID(str(r["customer_id"])) for r in rows}


async def send_due(
    tenant: TenantInfo,
    settings: SurveysSettings,
    channels: ChannelSet,
    now: dt.datetime | None = None,
    *,
    only: Iterable[UUID] | None = None,
) -> InviteResult:
    """Send the due scheduled invitations (``only``: just these links), batch by batch."""
    now = now or dt.datetime.now(dt.UTC)
    total = InviteResult()
    wanted = list(only) if only is not None else None
    while True:
        done = await _send_batch(tenant, settings, channels, now, wanted)
        total.add(done[0])
        if done[1] < BATCH or wanted is not None:
            return total


async def _send_batch(
    tenant: TenantInfo,
    settings: SurveysSettings,
    channels: ChannelSet,
    now: dt.datetime,
    only: list[UUID] | None,
) -> tuple[InviteResult, int]:
    result = InviteResult()
    async with tenant_tx(tenant.id):
        where, args = "", []
        if only is not None:
            if not only:
                return result, 0
            where = " AND l.id IN (" + ", ".join("{}" for _ in only) + ")"
            args = list(only)
        due = await fetch(
            "SELECT l.id, l.survey_id, l.customer_id, l.store_id, l.trigger, s.status, "
            "s.definition FROM surveys_link l JOIN surveys_survey s "
            "ON s.tenant_id = l.tenant_id AND s.id = l.survey_id "
            "WHERE l.tenant_id = {} AND l.kind = 'invitation' AND l.status = 'scheduled' "
            f"AND l.send_after <= {{}}{where} ORDER BY l.send_after, l.id LIMIT {{}}",
            tenant.id,
            now,
            *args,
            BATCH,
        )
        if not due:
            return result, 0
        customers = [UUID(str(r["customer_id"])) for r in due]
        recent: set[UUID] = set()
        if settings.recontact_days:
            recent = await _recently_asked(
                tenant, customers, now - dt.timedelta(days=settings.recontact_days)
            )
        stores = await store_facts(tenant, {UUID(str(r["store_id"])) for r in due if r["store_id"]})
        outcomes: list[tuple[Any, str, str | None]] = []  # (link id, status/reason, token)
        for r in due:
            customer = UUID(str(r["customer_id"]))
            exempt = r["trigger"] == "complaint"
            if r["status"] != "published":
                outcomes.append((r["id"], "survey_closed", None))
                continue
            if not exempt and customer in recent:
                outcomes.append((r["id"], "recontact", None))
                continue
            token = new_token(tenant.slug)
            d = parse_definition(r["definition"])
            store = stores.get(UUID(str(r["store_id"]))) if r["store_id"] else None
            sent = await enqueue_messages(
                tenant,
                [
                    MessageRequest(
                        customer_id=customer,
                        channel=settings.channel,
                        template_key=COMPLAINT_FOLLOW_UP if exempt else INVITATION,
                        idempotency_key=f"surveys:{r['id']}",
                        source="surveys",
                        purpose="surveys",
                        context={
                            "survey": text_of(d.title, tenant.locale) or tenant.name,
                            "url": settings.link(token),
                            "store": store.name if store else "",
                            "days": settings.invitation_days,
                        },
                        store_id=store.id if store else None,
                    )
                ],
                channels,
                now=now,
            )
            if sent.suppressed:
                outcomes.append((r["id"], next(iter(sent.suppressed)), None))
                continue
            if sent.queued or sent.duplicates:
                recent.add(customer)  # the same customer twice in one batch is asked once
                result.queued += sent.queued
                result.deferred += sent.deferred
                outcomes.append((r["id"], "sent", token))
        for link_id, outcome, minted in outcomes:
            if outcome == "sent" and minted is not None:
                await execute(
                    "UPDATE surveys_link SET status = 'sent', token_hash = {}, sent_at = {}, "
                    "expires_at = {} WHERE tenant_id = {} AND id = {}",
                    hash_token(minted),
                    now,
                    now + dt.timedelta(days=settings.invitation_days),
                    tenant.id,
                    link_id,
                )
            else:
                result.suppressed[outcome] += 1
                await execute(
                    "UPDATE surveys_link SET status = 'suppressed', reason = {} "
                    "WHERE tenant_id = {} AND id = {}",
                    outcome,
                    tenant.id,
                    link_id,
                )
    return result, len(due)


async def _published(tenant: TenantInfo, survey_id: UUID, field_name: str) -> dict[str, Any]:
    rows = await fetch(
        "SELECT id, status, kind FROM surveys_survey WHERE tenant_id = {} AND id = {}",
        tenant.id,
        survey_id,
    )
    if not rows:
        raise NotFound("survey not found", field=field_name)
    if rows[0]["status"] != "published":
        raise Conflict("the survey is not published", field=field_name, code="not_published")
    return rows[0]


async def invite(
    tenant: TenantInfo,
    actor: Actor,
    settings: SurveysSettings,
    channels: ChannelSet,
    survey_id: UUID,
    *,
    customer_ids: Sequence[UUID] = (),
    segment_id: UUID | None = None,
    segment_fields: Mapping[str, SegmentField] | None = None,
    store_id: UUID | None = None,
) -> InviteResult:
    """Invite customers (or a saved segment) to a published survey now; each customer once
    per survey version (a second invitation is suppressed as ``already_invited``)."""
    actor.require("surveys:invite")
    if bool(customer_ids) == (segment_id is not None):
        raise ValidationFailed("name customers or a segment", field="customerIds", code="invalid")
    if store_id is not None and (
        not actor.sees_store(store_id) or store_id not in await store_facts(tenant, [store_id])
    ):
        raise NotFound("store not found", field="storeId")
    now = dt.datetime.now(dt.UTC)
    result = InviteResult()
    async with tenant_tx(tenant.id):
        await _published(tenant, survey_id, "surveyId")
        if segment_id is not None:
            try:
                sql, args = await segment_customer_ids_sql(tenant, segment_id, segment_fields or {})
            except NotFound:
                raise NotFound("segment not found", field="segmentId") from None
            rows = await fetch(f"{sql} LIMIT {MAX_INVITE + 1}", *args)
            ids = [UUID(str(r["id"])) for r in rows]
        else:
            ids = list(dict.fromkeys(customer_ids))
            facts = await customer_facts(tenant, ids)
            unknown = [c for c in ids if c not in facts or facts[c].status != "active"]
            if unknown:
                raise NotFound("customer not found", field="customerIds")
        if len(ids) > MAX_INVITE:
            raise ValidationFailed(
                f"at most {MAX_INVITE} customers at once", field="segmentId", code="too_many"
            )
        keys = {c: f"manual:{survey_id}:{c}" for c in ids}
        existing: set[str] = set()
        for i in range(0, len(ids), BATCH):
            chunk = [keys[c] for c in ids[i : i + BATCH]]
            found = await fetch(
                "SELECT source_key FROM surveys_link WHERE tenant_id = {} AND source_key IN ("
                + ", ".join("{}" for _ in chunk)
                + ")",
                tenant.id,
                *chunk,
            )
            existing |= {r["source_key"] for r in found}
        fresh = [c for c in ids if keys[c] not in existing]
        result.suppressed["already_invited"] += len(ids) - len(fresh)
        await _schedule(
            tenant,
            [
                {
                    "survey_id": survey_id,
                    "customer_id": c,
                    "store_id": store_id,
                    "trigger": "manual",
                    "source_key": keys[c],
                    "send_after": now,
                }
                for c in fresh
            ],
        )
        await audit(
            actor,
            "surveys.invite",
            subject_type="survey",
            subject_id=survey_id,
            details={"customers": len(ids), "segment": str(segment_id) if segment_id else None},
        )
        links = await fetch(
            "SELECT id FROM surveys_link WHERE tenant_id = {} AND survey_id = {} "
            "AND status = 'scheduled' AND trigger = 'manual' AND send_after <= {}",
            tenant.id,
            survey_id,
            now,
        )
    for i in range(0, len(links), BATCH):
        batch = [UUID(str(r["id"])) for r in links[i : i + BATCH]]
        result.add(await send_due(tenant, settings, channels, now, only=batch))
    if result.suppressed["already_invited"] == 0:
        del result.suppressed["already_invited"]
    return result


# --- triggers ----------------------------------------------------------------------------


class TriggerInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: str
    active: bool = True
    delay_minutes: int = 0
    sampling_percent: int = 100
    store_ids: list[UUID] = []
    segment_id: UUID | None = None
    every_days: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("purchase", "segment"):
            raise ValueError("kind is purchase or segment")
        if not 0 <= self.delay_minutes <= 60 * 24 * 30:
            raise ValueError("delay_minutes is 0 to 43200 (30 days)")
        if not 1 <= self.sampling_percent <= 100:
            raise ValueError("sampling_percent is 1 to 100")


async def set_trigger(
    tenant: TenantInfo, actor: Actor, survey_id: UUID, data: dict[str, Any]
) -> dict[str, Any]:
    """Create or replace the survey's trigger of that kind (one per survey and kind)."""
    from core import convert

    actor.require("surveys:write")
    t = convert(data, TriggerInput)
    if t.kind == "segment" and (t.segment_id is None or not 1 <= t.every_days <= 366):
        raise ValidationFailed(
            "a segment trigger names a segment and every_days (1-366)",
            field="everyDays" if t.segment_id else "segmentId",
            code="invalid",
        )
    if t.store_ids:
        known = await store_facts(tenant, t.store_ids)
        if any(s not in known or not actor.sees_store(s) for s in t.store_ids):
            raise NotFound("store not found", field="storeIds")
    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        await _published_or_draft(tenant, survey_id)
        if t.segment_id is not None:
            try:
                await segment_customer_ids_sql(tenant, t.segment_id, {})
            except NotFound:
                raise NotFound("segment not found", field="segmentId") from None
            except ValidationFailed:
                pass  # a plugin's condition: checked with the tenant's fields when it runs
        await execute(
            "DELETE FROM surveys_trigger WHERE tenant_id = {} AND survey_id = {} AND kind = {}",
            tenant.id,
            survey_id,
            t.kind,
        )
        row = {
            "tenant_id": tenant.id,
            "id": uuid4(),
            "survey_id": survey_id,
            "kind": t.kind,
            "active": t.active,
            "delay_minutes": t.delay_minutes,
            "sampling_percent": t.sampling_percent,
            "store_ids": json_text([str(s) for s in t.store_ids]),
            "segment_id": t.segment_id,
            "every_days": t.every_days,
            "next_run_at": now if t.kind == "segment" else None,
            "updated_at": now,
        }
        from core import insert_rows

        await insert_rows("surveys_trigger", [row])
        await audit(
            actor,
            "surveys.trigger_set",
            subject_type="survey",
            subject_id=survey_id,
            details={"kind": t.kind, "active": t.active},
        )
    return row


async def _published_or_draft(tenant: TenantInfo, survey_id: UUID) -> None:
    rows = await fetch(
        "SELECT status FROM surveys_survey WHERE tenant_id = {} AND id = {}", tenant.id, survey_id
    )
    if not rows:
        raise NotFound("survey not found", field="surveyId")
    if rows[0]["status"] == "closed":
        raise Conflict("the survey is closed", field="surveyId", code="closed")


async def triggers_of(
    tenant: TenantInfo, survey_ids: list[UUID]
) -> dict[UUID, list[dict[str, Any]]]:
    """The triggers of several surveys (one statement)."""
    out: dict[UUID, list[dict[str, Any]]] = {s: [] for s in survey_ids}
    if not survey_ids:
        return out
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT * FROM surveys_trigger WHERE tenant_id = {} AND survey_id IN ("
            + ", ".join("{}" for _ in survey_ids)
            + ") ORDER BY kind",
            tenant.id,
            *survey_ids,
        )
    for r in rows:
        r["store_ids"] = [UUID(s) for s in json_value(r["store_ids"], [])]
        r["active"] = bool(r["active"])
        out[UUID(str(r["survey_id"]))].append(r)
    return out


async def on_purchase(
    tenant: TenantInfo, event: Mapping[str, Any], settings: SurveysSettings, channels: ChannelSet
) -> None:
    """A sale with a known customer: each active purchase trigger whose stores include the
    sale's and whose sample includes it schedules one invitation ``delay_minutes`` after the
    sale; one due now is sent at once. The purchase's staff member rides along (staff KPIs)."""
    if event.get("kind", "sale") != "sale" or not event.get("customer_id"):
        return
    purchase_id = UUID(event["purchase_id"])
    store_id = UUID(event["store_id"]) if event.get("store_id") else None
    occurred = dt.datetime.fromisoformat(event["occurred_at"]).astimezone(dt.UTC)
    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        triggers = await fetch(
            "SELECT t.id, t.survey_id, t.delay_minutes, t.sampling_percent, t.store_ids "
            "FROM surveys_trigger t JOIN surveys_survey s ON s.tenant_id = t.tenant_id "
            "AND s.id = t.survey_id WHERE t.tenant_id = {} AND t.kind = 'purchase' "
            "AND t.active = {} AND s.status = 'published'",
            tenant.id,
            True,
        )
        rows = []
        for t in triggers:
            stores = {UUID(s) for s in json_value(t["store_ids"], [])}
            if stores and store_id not in stores:
                continue
            if not sampled(UUID(str(t["id"])), purchase_id, int(t["sampling_percent"])):
                continue
            rows.append(
                {
                    "survey_id": t["survey_id"],
                    "customer_id": UUID(event["customer_id"]),
                    "store_id": store_id,
                    "staff_id": UUID(event["staff_id"]) if event.get("staff_id") else None,
                    "purchase_id": purchase_id,
                    "trigger": "purchase",
                    "source_key": f"purchase:{t['survey_id']}:{purchase_id}",
                    "send_after": max(occurred + dt.timedelta(minutes=int(t["delay_minutes"])), now)
                    if int(t["delay_minutes"])
                    else now,
                }
            )
        if rows:
            await _schedule(tenant, rows)
    if any(r["send_after"] <= now for r in rows):
        await send_due(tenant, settings, channels, now)


async def on_complaint_resolved(
    tenant: TenantInfo, event: Mapping[str, Any], settings: SurveysSettings, channels: ChannelSet
) -> None:
    """The complaints plugin resolved a complaint and chose a survey follow-up: send the
    tenant's follow-up survey (the built-in CSAT one by default) at once, carrying the
    complaint, its store and its handler."""
    if event.get("follow_up") != "survey" or not event.get("customer_id"):
        return
    survey_id = (
        UUID(settings.complaint_survey_id)
        if settings.complaint_survey_id
        else await builtin_complaint_survey(tenant)
    )
    now = dt.datetime.now(dt.UTC)
    complaint = UUID(event["complaint_id"])
    async with tenant_tx(tenant.id):
        await _schedule(
            tenant,
            [
                {
                    "survey_id": survey_id,
                    "customer_id": UUID(event["customer_id"]),
                    "store_id": UUID(event["store_id"]) if event.get("store_id") else None,
                    "staff_id": UUID(event["staff_id"]) if event.get("staff_id") else None,
                    "complaint_id": complaint,
                    "trigger": "complaint",
                    "source_key": f"complaint:{complaint}",
                    "send_after": now,
                }
            ],
        )
    await send_due(tenant, settings, channels, now)


async def run_segment_triggers(
    tenant: TenantInfo,
    settings: SurveysSettings,
    channels: ChannelSet,
    segment_fields: Mapping[str, SegmentField],
    now: dt.datetime,
) -> InviteResult:
    """Periodic surveys: each active segment trigger due now invites its segment (each
    customer once per run) and is due again ``every_days`` later."""
    async with tenant_tx(tenant.id):
        due = await fetch(
            "SELECT t.id, t.survey_id, t.segment_id, t.every_days, t.next_run_at "
            "FROM surveys_trigger t JOIN surveys_survey s ON s.tenant_id = t.tenant_id "
            "AND s.id = t.survey_id WHERE t.tenant_id = {} AND t.kind = 'segment' "
            "AND t.active = {} AND s.status = 'published' AND t.next_run_at <= {}",
            tenant.id,
            True,
            now,
        )
        for t in due:
            run = t["next_run_at"].astimezone(dt.UTC).strftime("%Y%m%d")
            try:
                sql, args = await segment_customer_ids_sql(
                    tenant, UUID(str(t["segment_id"])), segment_fields
                )
            except (NotFound, ValidationFailed):
                await execute(
                    "UPDATE surveys_trigger SET active = {} WHERE tenant_id = {} AND id = {}",
                    False,
                    tenant.id,
                    t["id"],
                )
                continue
            ids = [UUID(str(r["id"])) for r in await fetch(f"{sql} LIMIT {MAX_INVITE}", *args)]
            await _schedule(
                tenant,
                [
                    {
                        "survey_id": t["survey_id"],
                        "customer_id": c,
                        "trigger": "segment",
                        "source_key": f"segment:{t['id']}:{run}:{c}",
                        "send_after": now,
                    }
                    for c in ids
                ],
            )
            await execute(
                "UPDATE surveys_trigger SET next_run_at = {} WHERE tenant_id = {} AND id = {}",
                now + dt.timedelta(days=int(t["every_days"])),
                tenant.id,
                t["id"],
            )
    return await send_due(tenant, settings, channels, now)
