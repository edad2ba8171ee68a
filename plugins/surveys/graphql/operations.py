"""Resolvers: queries, mutations, ``Customer.surveyResponses`` and the ``node(id:)`` loaders."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
import strawberry
from strawberry.types import Info

import core  # core.throttle: `from core import throttle` reads as the submodule to import-linter
from core import (
    Connection,
    Customer,
    NotFound,
    RateLimited,
    UserError,
    ValidationFailed,
    attempt,
    check_first,
    connection,
    context_of,
    decode_cursor,
    find_tenant,
    from_global_id,
    input_data,
    instant,
)
from plugins.surveys import answering, catalog, distribution, exports, responses, scoring
from plugins.surveys.graphql.inputs import (
    SurveyAnswerInput,
    SurveyCloseInput,
    SurveyCreateInput,
    SurveyExportInput,
    SurveyInviteInput,
    SurveyPublishInput,
    SurveyResponseRecordInput,
    SurveyTriggerSetInput,
    SurveyUpdateInput,
    definition_of,
)
from plugins.surveys.graphql.types import (
    Survey,
    SurveyCsat,
    SurveyForm,
    SurveyFormResult,
    SurveyKind,
    SurveyLink,
    SurveyNps,
    SurveyOptionCount,
    SurveyPeriod,
    SurveyQuestionResult,
    SurveyQuestionType,
    SurveyResponse,
    SurveyStatus,
    SurveySuppression,
    SurveyTrendPoint,
    SurveyTrigger,
    SurveyValueCount,
    csat_view,
    link_view,
    nps_view,
    question_view,
    response_view,
    survey_view,
    trigger_view,
)
from plugins.surveys.settings import SurveysSettings
from plugins.surveys.tokens import hash_token, slug_of

IDS = {
    "id": "Survey",
    "survey_id": "Survey",
    "based_on_id": "Survey",
    "customer_ids": "Customer",
    "store_ids": "Store",
}


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


# --- Survey fields that need the request -------------------------------------------------


async def _settings(info: Info) -> SurveysSettings:
    found: SurveysSettings = await context_of(info).settings("surveys")
    return found


async def resolve_anonymous_link(
    root: Survey,
    info: Info,
    store_id: Annotated[
        strawberry.ID | None,
        _arg("A store: its counter's link (QR poster); omitted: the survey's."),
    ] = None,
) -> SurveyLink | None:
    tenant, actor = context_of(info).caller()
    actor.require("surveys:read")
    store = None
    if store_id is not None:
        from core import store_facts

        store = from_global_id(store_id, "Store", field="storeId")
        if not actor.sees_store(store) or store not in await store_facts(tenant, [store]):
            return None
    token = await catalog.anonymous_link(tenant, root.uid, store)
    if token is None:
        return None
    return link_view((await _settings(info)).link(token))


async def resolve_triggers(root: Survey, info: Info) -> list[SurveyTrigger]:
    ctx = context_of(info)
    tenant, _actor = ctx.caller()
    loader: Any = ctx.loader("surveys.triggers", lambda ids: _triggers(tenant, ids))
    found: list[SurveyTrigger] = await loader.load(root.uid)
    return found


async def _triggers(tenant: Any, ids: list[UUID]) -> list[list[SurveyTrigger]]:
    rows = await distribution.triggers_of(tenant, ids)
    return [[trigger_view(r) for r in rows[i]] for i in ids]


# --- queries -----------------------------------------------------------------------------


async def resolve_surveys(
    info: Info,
    first: Annotated[int, _arg("Page size, 1-100.")] = 20,
    after: Annotated[str | None, _arg("Cursor of the last survey seen.")] = None,
    status: Annotated[SurveyStatus | None, _arg("Only surveys in this state.")] = None,
) -> Connection[Survey]:
    tenant, actor = context_of(info).caller()
    check_first(first)
    rows = await catalog.list_surveys(
        tenant,
        actor,
        status=status.value if status else None,
        after=_cursor(after),
        limit=first + 1,
    )
    return connection(
        [survey_view(r) for r in rows], lambda s: f"{s.created_at.isoformat()}|{s.uid}", first
    )


async def resolve_survey(
    info: Info, id: Annotated[strawberry.ID, _arg("The survey.")]
) -> Survey | None:
    tenant, actor = context_of(info).caller()
    actor.require("surveys:read")
    try:
        uid = from_global_id(id, "Survey")
    except NotFound:
        return None
    row = await catalog.get_survey(tenant, uid)
    return survey_view(row) if row else None


@strawberry.type(description="A survey's results for a period and store.")
class SurveyResults:
    responses: int = strawberry.field(description="Responses.")
    nps: SurveyNps = strawberry.field(description="NPS of the responses with an NPS answer.")
    csat: SurveyCsat = strawberry.field(description="CSAT of the responses with a CSAT answer.")
    questions: list[SurveyQuestionResult] = strawberry.field(description="Per question.")
    found: strawberry.Private[Any]

    @strawberry.field(description="Scores per period, per store and (store null) chain-wide.")
    def trend(
        self, period: Annotated[SurveyPeriod, _arg("WEEK (from Monday) or MONTH.")]
    ) -> list[SurveyTrendPoint]:
        from core import to_global_id

        points = scoring.trend(self.found, period.value)
        return [
            SurveyTrendPoint(
                period_start=p.period_start,
                store_id=to_global_id("Store", p.store_id) if p.store_id else None,
                responses=p.responses,
                nps=nps_view(p.nps),
                csat=csat_view(p.csat),
            )
            for p in points
        ]


async def resolve_results(
    info: Info,
    survey_id: Annotated[strawberry.ID, _arg("The survey (version).")],
    from_: Annotated[
        dt.datetime | None, strawberry.argument(name="from", description="Answered from.")
    ] = None,
    to: Annotated[dt.datetime | None, _arg("Answered before (exclusive).")] = None,
    store_id: Annotated[strawberry.ID | None, _arg("One store; omitted: all visible.")] = None,
) -> SurveyResults | None:
    tenant, actor = context_of(info).caller()
    actor.require("surveys:read")
    try:
        uid = from_global_id(survey_id, "Survey", field="surveyId")
        store = from_global_id(store_id, "Store", field="storeId") if store_id else None
        if store is not None and not actor.sees_store(store):
            return None
    except NotFound:
        return None
    if await catalog.get_survey(tenant, uid) is None:
        return None
    start = instant(from_, "from", future=None) if from_ else None
    end = instant(to, "to", future=None) if to else None
    found = await scoring.results(tenant, actor, uid, start, end, store)
    return SurveyResults(
        responses=found.responses,
        nps=nps_view(found.nps),
        csat=csat_view(found.csat),
        questions=[
            SurveyQuestionResult(
                key=q.key,
                type=SurveyQuestionType(q.type),
                answered=q.answered,
                average=float(q.average) if q.average is not None else None,
                options=[SurveyOptionCount(code=c, count=n) for c, n in q.options],
                distribution=[SurveyValueCount(value=v, count=n) for v, n in q.distribution],
            )
            for q in found.questions
        ],
        found=found,
    )


async def _public_tenant(info: Info, token: str) -> Any:
    """The tenant of a token, when it has surveys enabled (``None`` otherwise), throttled per
    token and per client address."""
    ctx = context_of(info)
    slug = slug_of(token)
    tenant = await find_tenant(slug) if slug else None
    runtime = ctx.runtime
    if tenant is None or runtime is None or "surveys" not in await runtime.enabled(tenant.id):
        return None
    settings: SurveysSettings = await runtime.plugin_settings(tenant.id, "surveys")
    await core.throttle(f"surveys:{tenant.id}:token:{hash_token(token)[:20]}", settings.token_rate)
    await core.throttle(
        f"surveys:{tenant.id}:client:{ctx.client or 'unknown'}", settings.client_rate
    )
    return tenant


def _enabled_for(info: Info) -> Any:
    runtime = context_of(info).runtime

    async def enabled(tenant: Any) -> bool:
        return runtime is not None and "surveys" in await runtime.enabled(tenant.id)

    return enabled


def _limited(exc: RateLimited) -> list[UserError]:
    return [
        UserError(
            field="token",
            code="rate_limited",
            message=f"too many requests; retry in {exc.retry_after} s",
        )
    ]


async def resolve_form(
    info: Info,
    token: Annotated[str, _arg("The link's token (`<tenant>.<secret>`).")],
    locale: Annotated[str | None, _arg("Preferred locale (`zh-CN`, `en`).")] = None,
) -> SurveyFormResult:
    try:
        await _public_tenant(info, token)
    except RateLimited as exc:
        return SurveyFormResult(form=None, errors=_limited(exc))

    async def run() -> SurveyForm:
        form = await answering.open_form(token, _enabled_for(info))
        d = form.definition
        loc = locale if locale in d.locales else d.locales[0]
        from plugins.surveys.definitions import text_of

        return SurveyForm(
            kind=SurveyKind(form.kind),
            locale=loc,
            locales=list(d.locales),
            title=text_of(d.title, loc) or form.name,
            intro=text_of(d.intro, loc),
            thanks=text_of(d.thanks, loc),
            anonymous=form.anonymous,
            questions=[question_view(q, loc) for q in d.questions],
        )

    form, errors = await attempt(run)
    return SurveyFormResult(form=form, errors=errors)


async def resolve_customer_responses(
    root: Customer,
    info: Info,
    first: Annotated[int, _arg("Page size, 1-100.")] = 10,
    after: Annotated[str | None, _arg("Cursor of the last response seen.")] = None,
) -> Connection[SurveyResponse]:
    ctx = context_of(info)
    tenant, actor = ctx.caller()
    actor.require("surveys:read")
    check_first(first)
    cursor = _cursor(after)

    async def load(ids: list[UUID]) -> list[list[dict[str, Any]]]:
        found = await responses.customer_responses(tenant, actor, ids, first, cursor)
        return [found[i] for i in ids]

    rows = await ctx.loader(f"surveys.customer_responses:{first}:{after}", load).load(root.uid)
    answers = await ctx.loader("surveys.answers", lambda ids: _answers(tenant, ids)).load_many(
        [r["id"] for r in rows]
    )
    return connection(
        [response_view(r, a) for r, a in zip(rows, answers, strict=True)],
        lambda r: f"{r.answered_at.isoformat()}|{r.uid}",
        first,
    )


async def _answers(tenant: Any, ids: list[UUID]) -> list[list[dict[str, Any]]]:
    found = await responses.answers_of(tenant, ids)
    return [found.get(i, []) for i in ids]


# --- mutations ---------------------------------------------------------------------------


@strawberry.type(description="Result of `surveyCreate`.")
class SurveyCreatePayload:
    survey: Survey | None = strawberry.field(description="The new draft.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `surveyUpdate`.")
class SurveyUpdatePayload:
    survey: Survey | None = strawberry.field(description="The draft as changed.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `surveyPublish`.")
class SurveyPublishPayload:
    survey: Survey | None = strawberry.field(description="The published survey.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `surveyClose`.")
class SurveyClosePayload:
    survey: Survey | None = strawberry.field(description="The closed survey.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `surveyInvite`: invitations queued and suppressed.")
class SurveyInvitePayload:
    queued: int = strawberry.field(description="Invitations handed to the messaging pipeline.")
    deferred: int = strawberry.field(
        description="Of the queued, those waiting for the end of quiet hours."
    )
    suppressed: list[SurveySuppression] = strawberry.field(description="Not sent, by reason.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `surveyTriggerSet`.")
class SurveyTriggerSetPayload:
    trigger: SurveyTrigger | None = strawberry.field(description="The trigger as set.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `surveyResponseRecord`.")
class SurveyResponseRecordPayload:
    response: SurveyResponse | None = strawberry.field(description="The response recorded.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `surveyAnswer`.")
class SurveyAnswerPayload:
    accepted: bool = strawberry.field(description="True when the response was stored.")
    errors: list[UserError] = strawberry.field(
        description="`not_found`, `already_answered`, `rate_limited`, or what is wrong with an "
        "answer (`required`, `invalid_answer`, `unknown_question`)."
    )


@strawberry.type(description="Result of `surveyExport`: a link to download, valid 5 minutes.")
class SurveyExportPayload:
    url: str | None = strawberry.field(description="Download it once from here.")
    expires_at: dt.datetime | None = strawberry.field(description="Until when.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


async def _survey(tenant: Any, uid: UUID | None) -> Survey | None:
    if uid is None:
        return None
    row = await catalog.get_survey(tenant, uid)
    return survey_view(row) if row else None


def _survey_input(data: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("name", "kind"):
        if name in data:
            out[name] = data.pop(name)
    if {"title", "intro", "thanks", "locales", "questions"} & set(data):
        out["definition"] = definition_of(data, base)
    return out


async def resolve_create(
    info: Info, input: Annotated[SurveyCreateInput, _arg("The new survey.")]
) -> SurveyCreatePayload:
    tenant, actor = context_of(info).caller()

    async def run() -> UUID:
        data = input_data(input, ids=IDS)
        based_on = data.pop("based_on_id", None)
        key = data.pop("idempotency_key", None)
        return await catalog.create_survey(
            tenant, actor, _survey_input(data), based_on=based_on, idempotency_key=key
        )

    uid, errors = await attempt(run)
    return SurveyCreatePayload(survey=await _survey(tenant, uid), errors=errors)


async def resolve_update(
    info: Info, input: Annotated[SurveyUpdateInput, _arg("The changes.")]
) -> SurveyUpdatePayload:
    tenant, actor = context_of(info).caller()

    async def run() -> UUID:
        data = input_data(input, ids=IDS)
        survey_id = data.pop("id")
        current = await catalog.get_survey(tenant, survey_id)
        if current is None:
            raise NotFound("survey not found", field="id")
        base = msgspec.to_builtins(current["definition"])
        return await catalog.update_survey(tenant, actor, survey_id, _survey_input(data, base))

    uid, errors = await attempt(run)
    return SurveyUpdatePayload(survey=await _survey(tenant, uid), errors=errors)


async def resolve_publish(
    info: Info, input: Annotated[SurveyPublishInput, _arg("The draft.")]
) -> SurveyPublishPayload:
    tenant, actor = context_of(info).caller()
    uid, errors = await attempt(
        lambda: catalog.publish_survey(tenant, actor, input_data(input, ids=IDS)["id"])
    )
    return SurveyPublishPayload(survey=await _survey(tenant, uid), errors=errors)


async def resolve_close(
    info: Info, input: Annotated[SurveyCloseInput, _arg("The survey.")]
) -> SurveyClosePayload:
    tenant, actor = context_of(info).caller()
    uid, errors = await attempt(
        lambda: catalog.close_survey(tenant, actor, input_data(input, ids=IDS)["id"])
    )
    return SurveyClosePayload(survey=await _survey(tenant, uid), errors=errors)


async def resolve_invite(
    info: Info, input: Annotated[SurveyInviteInput, _arg("Who to invite.")]
) -> SurveyInvitePayload:
    ctx = context_of(info)
    tenant, actor = ctx.caller()

    async def run() -> distribution.InviteResult:
        data = input_data(input, ids=IDS)
        runtime = ctx.runtime
        assert runtime is not None
        return await distribution.invite(
            tenant,
            actor,
            await _settings(info),
            await runtime.channels(tenant),
            data["survey_id"],
            customer_ids=data.get("customer_ids") or [],
            segment_id=data.get("segment_id"),
            segment_fields=await runtime.segment_fields(tenant),
            store_id=data.get("store_id"),
        )

    done, errors = await attempt(run)
    if done is None:
        return SurveyInvitePayload(queued=0, deferred=0, suppressed=[], errors=errors)
    return SurveyInvitePayload(
        queued=done.queued,
        deferred=done.deferred,
        suppressed=[
            SurveySuppression(reason=r, count=n) for r, n in sorted(done.suppressed.items()) if n
        ],
        errors=[],
    )


async def resolve_trigger_set(
    info: Info, input: Annotated[SurveyTriggerSetInput, _arg("The trigger.")]
) -> SurveyTriggerSetPayload:
    tenant, actor = context_of(info).caller()

    async def run() -> dict[str, Any]:
        data = input_data(input, ids=IDS)
        survey_id = data.pop("survey_id")
        row = await distribution.set_trigger(tenant, actor, survey_id, data)
        row["store_ids"] = data.get("store_ids") or []
        return row

    row, errors = await attempt(run)
    return SurveyTriggerSetPayload(trigger=trigger_view(row) if row else None, errors=errors)


def _raws(items: list[dict[str, Any]]) -> list[answering.RawAnswer]:
    return [answering.RawAnswer(**a) for a in items]


async def resolve_record(
    info: Info, input: Annotated[SurveyResponseRecordInput, _arg("The answers taken.")]
) -> SurveyResponseRecordPayload:
    tenant, actor = context_of(info).caller()

    async def run() -> SurveyResponse | None:
        data = input_data(input, ids=IDS)
        uid = await answering.record_response(
            tenant,
            actor,
            data["survey_id"],
            _raws(data["answers"]),
            channel=data["channel"],
            customer_id=data.get("customer_id"),
            store_id=data.get("store_id"),
            staff_id=data.get("staff_id"),
            idempotency_key=data.get("idempotency_key"),
            answered_at=data.get("answered_at"),
        )
        row = await responses.response(tenant, actor, uid, recorded=True)
        if row is None:
            return None
        return response_view(row, (await responses.answers_of(tenant, [uid])).get(uid, []))

    found, errors = await attempt(run)
    return SurveyResponseRecordPayload(response=found, errors=errors)


async def resolve_answer(
    info: Info, input: Annotated[SurveyAnswerInput, _arg("The token and answers.")]
) -> SurveyAnswerPayload:
    try:
        await _public_tenant(info, input.token)
    except RateLimited as exc:
        return SurveyAnswerPayload(accepted=False, errors=_limited(exc))

    async def run() -> UUID:
        data = input_data(input)
        return await answering.submit_answers(
            data["token"],
            _raws(data["answers"]),
            _enabled_for(info),
            locale=data.get("locale") or "zh-CN",
            idempotency_key=data.get("idempotency_key"),
        )

    uid, errors = await attempt(run)
    return SurveyAnswerPayload(accepted=uid is not None, errors=errors)


async def resolve_export(
    info: Info, input: Annotated[SurveyExportInput, _arg("What to export.")]
) -> SurveyExportPayload:
    tenant, actor = context_of(info).caller()

    async def run() -> tuple[str, dt.datetime]:
        data = input_data(input, ids=IDS)
        params = {
            "from": instant(data["from_"], "from", future=None).isoformat()
            if data.get("from_")
            else None,
            "to": instant(data["to"], "to", future=None).isoformat() if data.get("to") else None,
            "store_id": str(data["store_id"]) if data.get("store_id") else None,
        }
        if data.get("store_id") and not actor.sees_store(data["store_id"]):
            raise NotFound("store not found", field="storeId")
        return await exports.create_download(
            tenant, actor, data["survey_id"], data["format"], params
        )

    done, errors = await attempt(run)
    if done is None:
        return SurveyExportPayload(url=None, expires_at=None, errors=errors)
    token, expires = done
    settings = await _settings(info)
    return SurveyExportPayload(
        url=f"{settings.public_url.rstrip('/')}/p/surveys/download/{token}",
        expires_at=expires,
        errors=[],
    )


# --- node(id:) ---------------------------------------------------------------------------


async def load_survey(info: Info, uid: UUID) -> Survey | None:
    tenant, actor = context_of(info).caller()
    actor.require("surveys:read")
    return await _survey(tenant, uid)


async def load_response(info: Info, uid: UUID) -> SurveyResponse | None:
    tenant, actor = context_of(info).caller()
    row = await responses.response(tenant, actor, uid)
    if row is None:
        return None
    return response_view(row, (await responses.answers_of(tenant, [uid])).get(uid, []))
