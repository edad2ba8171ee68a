"""Resolvers: ``careCampaigns``, ``careCampaign`` (with ``runs`` and ``results``), the
mutations and the ``node(id:)`` loaders."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID, uuid4

import strawberry
from strawberry.types import Info

from core import (
    Connection,
    MessageRequest,
    NotFound,
    UserError,
    ValidationFailed,
    attempt,
    check_first,
    connection,
    context_of,
    decode_cursor,
    enqueue_messages,
    fetch,
    from_global_id,
    input_data,
    tenant_tx,
)
from plugins.care import campaigns, results, runs
from plugins.care.graphql.inputs import (
    CareCampaignActivateInput,
    CareCampaignApproveInput,
    CareCampaignCreateInput,
    CareCampaignFilter,
    CareCampaignPauseInput,
    CareCampaignRunNowInput,
    CareCampaignUpdateInput,
    settings_data,
)
from plugins.care.graphql.types import (
    CareCampaign,
    CareResults,
    CareRun,
    campaign_view,
    results_view,
    run_view,
)
from plugins.care.occurrences import due_occurrence
from plugins.care.settings import CareSettings

IDS = {"id": "CareCampaign", "segment_id": "Segment", "test_staff_ids": "Staff"}
INLINE_CHUNKS = 5  # a run-now fans out this many chunks in the request; the job does the rest


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


def _cursor(after: str | None) -> tuple[dt.datetime, UUID] | None:
    cursor = decode_cursor(after)
    if cursor is None:
        return None
    try:
        at, _, uid = cursor.partition("|")
        return dt.datetime.fromisoformat(at), UUID(uid)
    except ValueError:
        raise ValidationFailed("malformed cursor", field="after", code="invalid_cursor") from None


async def _settings(info: Info) -> CareSettings:
    found: CareSettings = await context_of(info).settings("care")
    return found


async def _view(tenant: Any, uid: UUID | None) -> CareCampaign | None:
    if uid is None:
        return None
    row = await campaigns.get_campaign(tenant, uid)
    return campaign_view(row, tenant.currency) if row else None


# --- queries -----------------------------------------------------------------------------


async def resolve_campaigns(
    info: Info,
    first: Annotated[int, _arg("Page size, 1-100.")] = 20,
    after: Annotated[str | None, _arg("Cursor of the last campaign seen.")] = None,
    filter: Annotated[CareCampaignFilter | None, _arg("Only these campaigns.")] = None,
) -> Connection[CareCampaign]:
    tenant, actor = context_of(info).caller()
    check_first(first)
    f = input_data(filter) if filter is not None else {}
    rows = await campaigns.list_campaigns(
        tenant,
        actor,
        kind=f.get("kind"),
        state=f.get("state"),
        after=_cursor(after),
        limit=first + 1,
    )
    return connection(
        [campaign_view(r, tenant.currency) for r in rows],
        lambda c: f"{c.created_at.isoformat()}|{c.uid}",
        first,
    )


async def resolve_campaign(
    info: Info, id: Annotated[strawberry.ID, _arg("The campaign.")]
) -> CareCampaign | None:
    tenant, actor = context_of(info).caller()
    actor.require("care:read")
    try:
        uid = from_global_id(id, "CareCampaign")
    except NotFound:
        return None
    return await _view(tenant, uid)


_RUN_COLUMNS = "id, campaign_id, occurrence, trigger, status, targeted, started_at, finished_at"


async def resolve_runs(
    root: CareCampaign, info: Info, first: int, after: str | None
) -> Connection[CareRun]:
    tenant, actor = context_of(info).caller()
    actor.require("care:read")
    check_first(first)
    where: list[str] = ["tenant_id = {}", "campaign_id = {}"]
    args: list[Any] = [tenant.id, root.uid]
    cursor = _cursor(after)
    if cursor:
        where.append("(started_at < {} OR (started_at = {} AND id < {}))")
        args += [cursor[0], cursor[0], cursor[1]]
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {_RUN_COLUMNS} FROM care_run WHERE {' AND '.join(where)} "
            f"ORDER BY started_at DESC, id DESC LIMIT {first + 1}",
            *args,
        )
    return connection(
        [run_view(r) for r in rows], lambda r: f"{r.started_at.isoformat()}|{r.uid}", first
    )


async def resolve_campaign_results(root: CareCampaign, info: Info) -> CareResults:
    tenant, actor = context_of(info).caller()
    actor.require("care:read")
    found = await results.campaign_results(tenant, root.raw)
    return results_view(found, tenant.currency, actor.sees_store)


async def resolve_run_results(root: CareRun, info: Info) -> CareResults:
    tenant, actor = context_of(info).caller()
    actor.require("care:read")
    campaign = await campaigns.get_campaign(tenant, root.campaign_uid)
    if campaign is None:  # pragma: no cover - a run belongs to a campaign of the tenant
        raise NotFound("campaign not found")
    found = await results.campaign_results(tenant, campaign, root.uid)
    return results_view(found, tenant.currency, actor.sees_store)


# --- mutations ---------------------------------------------------------------------------


@strawberry.type(description="Result of `careCampaignCreate`.")
class CareCampaignCreatePayload:
    campaign: CareCampaign | None = strawberry.field(description="The new draft.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `careCampaignUpdate`.")
class CareCampaignUpdatePayload:
    campaign: CareCampaign | None = strawberry.field(description="The campaign as changed.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `careCampaignActivate`.")
class CareCampaignActivatePayload:
    campaign: CareCampaign | None = strawberry.field(description="The active campaign.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `careCampaignPause`.")
class CareCampaignPausePayload:
    campaign: CareCampaign | None = strawberry.field(description="The paused campaign.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `careCampaignApprove`.")
class CareCampaignApprovePayload:
    campaign: CareCampaign | None = strawberry.field(description="The approved campaign.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `careCampaignRunNow`.")
class CareCampaignRunNowPayload:
    run: CareRun | None = strawberry.field(description="The run (null for a test send).")
    test_queued: int = strawberry.field(description="Test messages queued to staff members.")
    errors: list[UserError] = strawberry.field(
        description="`approval_required`, `paused`, `not_found`, or what is wrong."
    )


def _campaign_input(data: dict[str, Any], currency: str) -> dict[str, Any]:
    out = dict(data)
    if "message_channel" in out:
        out["channel"] = out.pop("message_channel") or "log"
    if "settings" in out:
        out["settings"] = settings_data(out["settings"] or {}, currency)
    if "variants" in out:
        out["variants"] = [
            {k: v for k, v in variant.items() if v is not None} for variant in out["variants"] or []
        ]
    for name in ("message", "control_pct", "window_days", "name"):
        if name in out and out[name] is None:
            raise ValidationFailed(f"{name} cannot be null", field=name)
    return out


async def resolve_create(
    info: Info, input: Annotated[CareCampaignCreateInput, _arg("The new campaign.")]
) -> CareCampaignCreatePayload:
    tenant, actor = context_of(info).caller()
    settings = await _settings(info)

    async def run() -> UUID:
        data = _campaign_input(input_data(input, ids=IDS), tenant.currency)
        key = data.pop("idempotency_key", None)
        data.setdefault("channel", settings.channel)
        return await campaigns.create_campaign(tenant, actor, data, idempotency_key=key)

    uid, errors = await attempt(run)
    return CareCampaignCreatePayload(campaign=await _view(tenant, uid), errors=errors)


async def resolve_update(
    info: Info, input: Annotated[CareCampaignUpdateInput, _arg("The changes.")]
) -> CareCampaignUpdatePayload:
    tenant, actor = context_of(info).caller()

    async def run() -> UUID:
        data = _campaign_input(input_data(input, ids=IDS), tenant.currency)
        return await campaigns.update_campaign(tenant, actor, data.pop("id"), data)

    uid, errors = await attempt(run)
    return CareCampaignUpdatePayload(campaign=await _view(tenant, uid), errors=errors)


async def resolve_activate(
    info: Info, input: Annotated[CareCampaignActivateInput, _arg("The campaign.")]
) -> CareCampaignActivatePayload:
    tenant, actor = context_of(info).caller()
    uid, errors = await attempt(
        lambda: campaigns.activate(tenant, actor, input_data(input, ids=IDS)["id"])
    )
    return CareCampaignActivatePayload(campaign=await _view(tenant, uid), errors=errors)


async def resolve_pause(
    info: Info, input: Annotated[CareCampaignPauseInput, _arg("The campaign.")]
) -> CareCampaignPausePayload:
    tenant, actor = context_of(info).caller()
    uid, errors = await attempt(
        lambda: campaigns.pause(tenant, actor, input_data(input, ids=IDS)["id"])
    )
    return CareCampaignPausePayload(campaign=await _view(tenant, uid), errors=errors)


async def resolve_approve(
    info: Info, input: Annotated[CareCampaignApproveInput, _arg("The campaign.")]
) -> CareCampaignApprovePayload:
    tenant, actor = context_of(info).caller()
    actor.require("care:approve")
    uid, errors = await attempt(
        lambda: campaigns.approve(tenant, actor, input_data(input, ids=IDS)["id"])
    )
    return CareCampaignApprovePayload(campaign=await _view(tenant, uid), errors=errors)


async def _run_row(tenant: Any, run_id: UUID) -> CareRun | None:
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {_RUN_COLUMNS} FROM care_run WHERE tenant_id = {{}} AND id = {{}}",
            tenant.id,
            run_id,
        )
    return run_view(rows[0]) if rows else None


async def resolve_run_now(
    info: Info, input: Annotated[CareCampaignRunNowInput, _arg("What to run.")]
) -> CareCampaignRunNowPayload:
    ctx = context_of(info)
    tenant, actor = ctx.caller()
    actor.require("care:send")
    settings = await _settings(info)
    runtime = ctx.runtime
    assert runtime is not None

    async def run() -> tuple[UUID | None, int]:
        data = input_data(input, ids=IDS)
        campaign = await campaigns.get_campaign(tenant, data["id"])
        if campaign is None:
            raise NotFound("campaign not found", field="id")
        channels = await runtime.channels(tenant)
        staff = data.get("test_staff_ids") or []
        if staff:
            if len(staff) > 20:
                raise ValidationFailed(
                    "a test goes to at most 20 staff members", field="testStaffIds"
                )
            test = uuid4().hex[:12]
            texts = [campaign["message"]] + [v.message for v in campaign["variants"]]
            done = await enqueue_messages(
                tenant,
                [
                    MessageRequest(
                        customer_id=None,
                        staff_id=s,
                        channel=campaign["channel"] or settings.channel,
                        template_key=runs.TEMPLATE,
                        idempotency_key=f"care:{campaign['id']}:test:{test}:{s}:{i}",
                        source="care",
                        purpose="service",
                        transactional=True,
                        context={
                            "text": f"[测试] {text}",
                            "campaign": str(campaign["id"]),
                            "unsubscribe_url": "/u/…",  # a staff test: no customer to stop
                        },
                    )
                    for s in staff
                    for i, text in enumerate(t for t in texts if t)
                ],
                channels,
            )
            return None, done.queued
        today = dt.datetime.now(dt.UTC).astimezone(tenant_zone(tenant)).date()
        occurrence = (
            data.get("occurrence")
            or (
                "once"
                if campaign["kind"] == "one_off"
                else await due_occurrence(tenant, campaign, settings, today)
                if campaign["kind"] == "birthday"
                else None
            )
            or today.isoformat()
        )
        if not 1 <= len(occurrence) <= 64:
            raise ValidationFailed("an occurrence has 1-64 characters", field="occurrence")
        run_id = await runs.run_campaign(
            tenant,
            campaign,
            occurrence,
            settings,
            channels,
            await runtime.segment_fields(tenant),
            inline_chunks=INLINE_CHUNKS,
        )
        return run_id, 0

    done, errors = await attempt(run)
    if done is None:
        return CareCampaignRunNowPayload(run=None, test_queued=0, errors=errors)
    run_id, queued = done
    return CareCampaignRunNowPayload(
        run=await _run_row(tenant, run_id) if run_id else None, test_queued=queued, errors=[]
    )


def tenant_zone(tenant: Any) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(tenant.timezone)


# --- node(id:) ---------------------------------------------------------------------------


async def load_campaign(info: Info, uid: UUID) -> CareCampaign | None:
    tenant, actor = context_of(info).caller()
    actor.require("care:read")
    return await _view(tenant, uid)


async def load_run(info: Info, uid: UUID) -> CareRun | None:
    tenant, actor = context_of(info).caller()
    actor.require("care:read")
    return await _run_row(tenant, uid)
