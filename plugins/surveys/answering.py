"""Answering: a token's form, answers checked against the survey (logic re-run on the
server), the response stored once, and ``surveys.completed`` emitted in the same transaction.

Three ways in, one path: the public page and ``surveyAnswer`` (a link token: an invitation
answers once, an anonymous link many times, never linked to a customer) and
``surveyResponseRecord`` (staff taking the answers by phone or face to face).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import msgspec

from core import (
    Actor,
    Conflict,
    NotFound,
    TenantInfo,
    ValidationFailed,
    active_customer,
    audit,
    claim,
    emit,
    fetch,
    find_tenant,
    insert_rows,
    instant,
    is_postgres,
    is_unique_violation,
    staff_facts,
    store_facts,
    tenant_tx,
)
from plugins.surveys.definitions import (
    CHOICE_TYPES,
    SCALES,
    Answer,
    Definition,
    Question,
    nps_category,
    parse_definition,
    walk,
)
from plugins.surveys.tokens import hash_token, slug_of

__all__ = [
    "Form",
    "RawAnswer",
    "clean_answers",
    "open_form",
    "periods",
    "record_response",
    "submit_answers",
    "typed_answer",
]

MAX_TEXT = 2000


class RawAnswer(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An answer as a client sends it (GraphQL input or the page's form)."""

    question_key: str
    choices: list[str] | None = None
    number: int | None = None
    text: str | None = None
    date: dt.date | None = None


@dataclass(frozen=True)
class Form:
    """What a token opens: the survey and the link (``link`` is the row of ``surveys_link``)."""

    tenant: TenantInfo
    survey_id: UUID
    name: str
    kind: str
    definition: Definition
    link: dict[str, Any]

    @property
    def anonymous(self) -> bool:
        return bool(self.link["kind"] == "anonymous")


def _not_found() -> NotFound:
    return NotFound("this link is not valid or has expired", field="token")


async def open_form(
    token: str, enabled: Any, *, now: dt.datetime | None = None, lock: bool = False
) -> Form:
    """The form behind ``token``. ``enabled(tenant)`` says whether the tenant has surveys.

    ``not_found`` (on ``token``) for a malformed, unknown, expired or another tenant's token,
    a tenant without the module, or a survey that is not published; ``already_answered`` for
    an invitation answered before. Inside a transaction only with ``lock`` (the answering
    one): it opens its own otherwise."""
    now = now or dt.datetime.now(dt.UTC)
    slug = slug_of(token)
    tenant = await find_tenant(slug) if slug else None
    if tenant is None or not await enabled(tenant):
        raise _not_found()
    async with tenant_tx(tenant.id, write=lock):
        rows = await fetch(
            "SELECT l.id, l.kind, l.status, l.survey_id, l.customer_id, l.store_id, l.staff_id, "
            "l.purchase_id, l.complaint_id, l.expires_at, s.name, s.kind AS survey_kind, "
            "s.status AS survey_status, s.definition, s.family_id FROM surveys_link l "
            "JOIN surveys_survey s ON s.tenant_id = l.tenant_id AND s.id = l.survey_id "
            "WHERE l.tenant_id = {} AND l.token_hash = {}"
            + (" FOR UPDATE OF l" if lock and is_postgres() else ""),
            tenant.id,
            hash_token(token),
        )
    if not rows:
        raise _not_found()
    link = rows[0]
    if link["kind"] == "invitation" and link["status"] not in ("sent", "answered"):
        raise _not_found()  # suppressed or not sent yet: the link was never given out
    if link["expires_at"] is not None and link["expires_at"] <= now:
        raise _not_found()
    if link["survey_status"] != "published":
        raise _not_found()
    if link["status"] == "answered":
        raise Conflict("this survey was already answered", field="token", code="already_answered")
    return Form(
        tenant=tenant,
        survey_id=UUID(str(link["survey_id"])),
        name=link["name"],
        kind=link["survey_kind"],
        definition=parse_definition(link["definition"]),
        link=link,
    )


def typed_answer(q: Question, raw: RawAnswer, field: str) -> Answer | None:
    """``raw`` as the question's typed answer; ``None`` when it is empty (skipped)."""

    def bad(message: str) -> ValidationFailed:
        return ValidationFailed(message, field=field, code="invalid_answer")

    if q.type in CHOICE_TYPES:
        chosen = list(dict.fromkeys(raw.choices or []))
        if not chosen:
            return None
        codes = {o.code for o in q.options}
        if any(c not in codes for c in chosen):
            raise bad("not one of the question's options")
        if q.type == "single_choice" and len(chosen) > 1:
            raise bad("one option only")
        return Answer(choices=chosen)
    if q.type in SCALES:
        if raw.number is None:
            return None
        low, high = SCALES[q.type]
        if not low <= raw.number <= high:
            raise bad(f"a number from {low} to {high}")
        return Answer(number=raw.number)
    if q.type == "text":
        text = (raw.text or "").strip()
        if not text:
            return None
        if len(text) > MAX_TEXT:
            raise bad(f"at most {MAX_TEXT} characters")
        return Answer(text=text)
    if raw.date is None:
        return None
    return Answer(date=raw.date)


def clean_answers(
    d: Definition, raws: Sequence[RawAnswer | Mapping[str, Any]]
) -> tuple[list[Question], dict[str, Answer]]:
    """Type-check every answer, run the logic, and keep the answers of the questions asked;
    a required question that is asked and unanswered is ``required`` on ``answers.<key>``."""
    by_key = {q.key: q for q in d.questions}
    typed: dict[str, Answer] = {}
    for i, item in enumerate(raws):
        raw = item if isinstance(item, RawAnswer) else msgspec.convert(item, RawAnswer)
        q = by_key.get(raw.question_key)
        if q is None:
            raise ValidationFailed(
                f"no question {raw.question_key!r}",
                field=f"answers.{i}.questionKey",
                code="unknown_question",
            )
        if raw.question_key in typed:
            raise ValidationFailed(
                "answered twice", field=f"answers.{i}.questionKey", code="duplicate"
            )
        answer = typed_answer(q, raw, f"answers.{i}")
        if answer is not None:
            typed[q.key] = answer
    asked = walk(d, typed)
    kept = {q.key: typed[q.key] for q in asked if q.key in typed}
    missing = [q.key for q in asked if q.required and q.key not in kept]
    if missing:
        raise ValidationFailed(
            "required questions are unanswered",
            field=f"answers.{missing[0]}",
            code="required",
        )
    if not kept:
        raise ValidationFailed("no answer given", field="answers", code="required")
    return asked, kept


def periods(at: dt.datetime, timezone: str) -> tuple[str, str, str]:
    """The local day, ISO week's Monday and month's first day of ``at`` in ``timezone``:
    computed once when the answer is stored, so trends group on plain columns and read the
    same on SQLite and PostgreSQL."""
    local = at.astimezone(zoneinfo.ZoneInfo(timezone)).date()
    monday = local - dt.timedelta(days=local.weekday())
    return local.isoformat(), monday.isoformat(), local.replace(day=1).isoformat()


@dataclass(frozen=True)
class Origin:
    """Where a response comes from: the link (if any) and who and what it is about."""

    channel: str
    link_id: UUID | None = None
    customer_id: UUID | None = None
    store_id: UUID | None = None
    staff_id: UUID | None = None
    recorded_by: str = ""
    purchase_id: UUID | None = None
    complaint_id: UUID | None = None


def _uuid(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


async def _store(
    tenant: TenantInfo,
    survey_id: UUID,
    family_id: UUID,
    d: Definition,
    kind: str,
    origin: Origin,
    asked: list[Question],
    answers: Mapping[str, Answer],
    locale: str,
    now: dt.datetime,
    response_id: UUID,
) -> dict[str, Any]:
    """Insert the response and its answers and emit ``surveys.completed`` (inside the open
    transaction); the event's payload."""
    order = {q.key: i for i, q in enumerate(d.questions)}
    first = {
        t: next((answers[q.key] for q in asked if q.type == t and q.key in answers), None)
        for t in ("nps", "csat", "text")
    }
    nps = first["nps"].number if first["nps"] else None
    csat = first["csat"].number if first["csat"] else None
    day, week, month = periods(now, tenant.timezone)
    await insert_rows(
        "surveys_response",
        [
            {
                "tenant_id": tenant.id,
                "id": response_id,
                "survey_id": survey_id,
                "family_id": family_id,
                "link_id": origin.link_id,
                "customer_id": origin.customer_id,
                "store_id": origin.store_id,
                "staff_id": origin.staff_id,
                "recorded_by": origin.recorded_by,
                "purchase_id": origin.purchase_id,
                "complaint_id": origin.complaint_id,
                "channel": origin.channel,
                "locale": locale,
                "nps": nps,
                "nps_category": nps_category(nps),
                "csat": csat,
                "answered_at": now,
                "local_day": day,
                "week_start": week,
                "month_start": month,
            }
        ],
    )
    rows: list[dict[str, Any]] = []
    for key, a in answers.items():
        q = d.question(key)
        assert q is not None
        base = {
            "tenant_id": tenant.id,
            "response_id": response_id,
            "survey_id": survey_id,
            "store_id": origin.store_id,
            "answered_at": now,
            "question_key": key,
            "qtype": q.type,
            "position": order[key],
        }
        values = (
            [
                {"part": i, "choice": c, "value_int": None, "value_text": None, "value_date": None}
                for i, c in enumerate(a.choices)
            ]
            if a.choices
            else [
                {
                    "part": 0,
                    "choice": None,
                    "value_int": a.number,
                    "value_text": a.text,
                    "value_date": a.date.isoformat() if a.date else None,
                }
            ]
        )
        rows += [{"id": uuid4(), **base, **v} for v in values]
    await insert_rows("surveys_answer", rows)
    payload = {
        "response_id": str(response_id),
        "survey_id": str(survey_id),
        "survey_kind": kind,
        "customer_id": str(origin.customer_id) if origin.customer_id else None,
        "store_id": str(origin.store_id) if origin.store_id else None,
        "staff_id": str(origin.staff_id) if origin.staff_id else None,
        "purchase_id": str(origin.purchase_id) if origin.purchase_id else None,
        "complaint_id": str(origin.complaint_id) if origin.complaint_id else None,
        "channel": origin.channel,
        "answered_at": now.isoformat(),
        "nps": nps,
        "nps_category": nps_category(nps),
        "csat": csat,
        "satisfied": None if csat is None else csat >= 4,
        "comment": first["text"].text if first["text"] else "",
    }
    await emit("surveys.completed", response_id, payload)
    return payload


async def submit_answers(
    token: str,
    raws: Sequence[RawAnswer | Mapping[str, Any]],
    enabled: Any,
    *,
    locale: str = "zh-CN",
    idempotency_key: str | None = None,
) -> UUID:
    """Answer through a link (the public page and ``surveyAnswer``): the response's id.

    An invitation is claimed in the answering transaction (a conditional update: of two
    concurrent answers exactly one wins, the other is ``already_answered``); an anonymous
    link stores a response each time, never linked to a customer (``idempotencyKey`` keeps a
    retry from counting twice)."""
    slug = slug_of(token)
    tenant = await find_tenant(slug) if slug else None
    if tenant is None:
        raise _not_found()
    now = dt.datetime.now(dt.UTC)
    response_id = uuid4()
    try:
        # one transaction: the link (locked), the answers checked (a refusal rolls back
        # before anything is written), the claim, the rows and the event
        async with tenant_tx(tenant.id):
            form = await open_form(token, enabled, now=now, lock=True)
            asked, answers = clean_answers(form.definition, raws)
            link = form.link
            if form.anonymous:
                earlier = await claim(
                    "surveys.answer",
                    idempotency_key,
                    {"token": hash_token(token), "answers": [msgspec.to_builtins(r) for r in raws]},
                    response_id,
                )
                if earlier is not None:
                    return earlier
                origin = Origin(
                    channel="anonymous",
                    link_id=UUID(str(link["id"])),
                    store_id=_uuid(link["store_id"]),
                )
            else:
                won = await fetch(
                    "UPDATE surveys_link SET status = 'answered', answered_at = {}, "
                    "response_id = {} WHERE tenant_id = {} AND id = {} AND status = 'sent' "
                    "RETURNING id",
                    now,
                    response_id,
                    tenant.id,
                    link["id"],
                )
                if not won:
                    raise Conflict(
                        "this survey was already answered", field="token", code="already_answered"
                    )
                origin = Origin(
                    channel="link",
                    link_id=UUID(str(link["id"])),
                    customer_id=_uuid(link["customer_id"]),
                    store_id=_uuid(link["store_id"]),
                    staff_id=_uuid(link["staff_id"]),
                    purchase_id=_uuid(link["purchase_id"]),
                    complaint_id=_uuid(link["complaint_id"]),
                )
            await _store(
                tenant,
                form.survey_id,
                UUID(str(link["family_id"])),
                form.definition,
                form.kind,
                origin,
                asked,
                answers,
                locale if locale in form.definition.locales else form.definition.locales[0],
                now,
                response_id,
            )
    except Exception as exc:
        if is_unique_violation(exc):  # the same invitation answered concurrently
            raise Conflict(
                "this survey was already answered", field="token", code="already_answered"
            ) from None
        raise
    return response_id


async def record_response(
    tenant: TenantInfo,
    actor: Actor,
    survey_id: UUID,
    raws: Sequence[RawAnswer | Mapping[str, Any]],
    *,
    channel: str,
    customer_id: UUID | None = None,
    store_id: UUID | None = None,
    staff_id: UUID | None = None,
    invitation_id: UUID | None = None,
    idempotency_key: str | None = None,
    answered_at: dt.datetime | None = None,
) -> UUID:
    """Answers taken by staff by phone or face to face (电话回访), attributed to the staff
    member who recorded them; ``answered_at`` when they were given (a paper card entered
    later; default now, never in the future); with ``invitation_id`` the invitation counts
    as answered (and carries its purchase, store and staff)."""
    actor.require("surveys:record")
    if channel not in ("phone", "in_person"):
        raise ValidationFailed("phone or in_person", field="channel", code="invalid")
    if store_id is not None and not actor.sees_store(store_id):
        raise NotFound("store not found", field="storeId")
    if customer_id is not None:
        await active_customer(tenant, customer_id)
    if store_id is not None and store_id not in await store_facts(tenant, [store_id]):
        raise NotFound("store not found", field="storeId")
    if staff_id is not None and staff_id not in await staff_facts(tenant, [staff_id]):
        raise NotFound("staff member not found", field="staffId")
    response_id = uuid4()
    now = instant(answered_at, "answered_at", future=dt.timedelta(minutes=5))
    async with tenant_tx(tenant.id):
        earlier = await claim(
            "surveys.record",
            idempotency_key,
            {
                "survey": str(survey_id),
                "channel": channel,
                "customer": str(customer_id),
                "store": str(store_id),
                "staff": str(staff_id),
                "invitation": str(invitation_id),
                "at": answered_at.isoformat() if answered_at else None,
                "answers": [
                    msgspec.to_builtins(r) if isinstance(r, RawAnswer) else r for r in raws
                ],
            },
            response_id,
        )
        if earlier is not None:
            return earlier
        rows = await fetch(
            "SELECT kind, status, definition, family_id FROM surveys_survey "
            "WHERE tenant_id = {} AND id = {}",
            tenant.id,
            survey_id,
        )
        if not rows:
            raise NotFound("survey not found", field="surveyId")
        if rows[0]["status"] != "published":
            raise Conflict("the survey is not open", field="surveyId", code="not_published")
        d = parse_definition(rows[0]["definition"])
        asked, answers = clean_answers(d, raws)
        origin = Origin(
            channel=channel,
            customer_id=customer_id,
            store_id=store_id,
            staff_id=staff_id,
            recorded_by=actor.id,
        )
        if invitation_id is not None:
            origin = await _claim_invitation(
                tenant, actor, survey_id, invitation_id, customer_id, origin, response_id, now
            )
        await _store(
            tenant,
            survey_id,
            UUID(str(rows[0]["family_id"])),
            d,
            rows[0]["kind"],
            origin,
            asked,
            answers,
            d.locales[0],
            now,
            response_id,
        )
        await audit(
            actor,
            "surveys.record",
            subject_type="survey_response",
            subject_id=response_id,
            details={"channel": channel},
        )
    return response_id


async def _claim_invitation(
    tenant: TenantInfo,
    actor: Actor,
    survey_id: UUID,
    invitation_id: UUID,
    customer_id: UUID | None,
    origin: Origin,
    response_id: UUID,
    now: dt.datetime,
) -> Origin:
    rows = await fetch(
        "UPDATE surveys_link SET status = 'answered', answered_at = {}, response_id = {} "
        "WHERE tenant_id = {} AND id = {} AND survey_id = {} AND kind = 'invitation' "
        "AND status IN ('sent', 'scheduled', 'suppressed') "
        "RETURNING customer_id, store_id, staff_id, purchase_id, complaint_id",
        now,
        response_id,
        tenant.id,
        invitation_id,
        survey_id,
    )
    if not rows:
        found = await fetch(
            "SELECT status FROM surveys_link WHERE tenant_id = {} AND id = {} AND survey_id = {} "
            "AND kind = 'invitation'",
            tenant.id,
            invitation_id,
            survey_id,
        )
        if found:
            raise Conflict("already answered", field="invitationId", code="already_answered")
        raise NotFound("invitation not found", field="invitationId")
    r = rows[0]
    if customer_id is not None and _uuid(r["customer_id"]) != customer_id:
        raise ValidationFailed(
            "the invitation is another customer's", field="invitationId", code="mismatch"
        )
    store = _uuid(r["store_id"]) or origin.store_id
    if store is not None and not actor.sees_store(store):
        raise NotFound("invitation not found", field="invitationId")
    return Origin(
        channel=origin.channel,
        link_id=None,
        customer_id=_uuid(r["customer_id"]),
        store_id=store,
        staff_id=origin.staff_id or _uuid(r["staff_id"]),
        recorded_by=origin.recorded_by,
        purchase_id=_uuid(r["purchase_id"]),
        complaint_id=_uuid(r["complaint_id"]),
    )
