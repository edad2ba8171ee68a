"""The surveys plugin's GraphQL output types and enums (closed sets upper case in the schema,
lower case in Python)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core import Node, UserError, to_global_id
from plugins.surveys.definitions import SCALES, ConditionGroup, Definition, Question, text_of

__all__ = [
    "Survey",
    "SurveyAnswer",
    "SurveyForm",
    "SurveyResponse",
    "SurveyTrigger",
    "question_view",
    "response_view",
    "survey_view",
    "trigger_view",
]


@strawberry.enum(description="What a survey measures: NPS, CSAT, or neither (a questionnaire).")
class SurveyKind(Enum):
    NPS = "nps"
    CSAT = "csat"
    GENERAL = "general"


@strawberry.enum(
    description="Where a survey is in its life: draft, published (answerable), closed."
)
class SurveyStatus(Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


@strawberry.enum(description="The type of a question (NPS is 0-10 and explicit; CSAT is 1-5).")
class SurveyQuestionType(Enum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    RATING = "rating"
    NPS = "nps"
    CSAT = "csat"
    TEXT = "text"
    DATE = "date"


@strawberry.enum(
    description="How a condition compares an earlier answer (allowed per question type)."
)
class SurveyOperator(Enum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    IS_ANY_OF = "is_any_of"
    INCLUDES_ANY = "includes_any"
    INCLUDES_ALL = "includes_all"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    CONTAINS = "contains"
    BEFORE = "before"
    AFTER = "after"
    IS_SUBMITTED = "is_submitted"
    IS_SKIPPED = "is_skipped"


@strawberry.enum(description="Whether all conditions of a group must hold, or any one.")
class SurveyConnector(Enum):
    AND = "and"
    OR = "or"


@strawberry.enum(description="How a response came in.")
class SurveyChannel(Enum):
    LINK = "link"
    ANONYMOUS = "anonymous"
    PHONE = "phone"
    IN_PERSON = "in_person"


@strawberry.enum(description="How staff took the answers.")
class SurveyRecordChannel(Enum):
    PHONE = "phone"
    IN_PERSON = "in_person"


@strawberry.enum(description="NPS category: promoter 9-10, passive 7-8, detractor 0-6.")
class SurveyNpsCategory(Enum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


@strawberry.enum(description="What sends a survey by itself.")
class SurveyTriggerKind(Enum):
    PURCHASE = "purchase"
    SEGMENT = "segment"


@strawberry.enum(description="A trend's period (in the tenant's timezone; weeks start on Monday).")
class SurveyPeriod(Enum):
    WEEK = "week"
    MONTH = "month"


@strawberry.enum(description="A file format for exports.")
class SurveyExportFormat(Enum):
    CSV = "csv"
    XLSX = "xlsx"


@strawberry.type(description="A text in one locale.")
class SurveyText:
    locale: str = strawberry.field(description="`zh-CN` or `en`.")
    text: str = strawberry.field(description="The text.")


def _texts(texts: dict[str, str]) -> list[SurveyText]:
    return [SurveyText(locale=k, text=v) for k, v in sorted(texts.items())]


@strawberry.type(description="An option of a choice question.")
class SurveyOption:
    code: str = strawberry.field(description="Stable code (what answers and results use).")
    text: str = strawberry.field(description="The option's text in the requested locale.")
    texts: list[SurveyText] = strawberry.field(description="The option's text per locale.")


@strawberry.type(description="One condition on an earlier answer.")
class SurveyCondition:
    question: str = strawberry.field(description="Key of the question whose answer is tested.")
    operator: SurveyOperator = strawberry.field(description="The comparison.")
    values: list[str] = strawberry.field(
        description="Option codes, numbers or dates (YYYY-MM-DD) compared with; none for "
        "IS_SUBMITTED / IS_SKIPPED."
    )


@strawberry.type(description="Conditions joined by AND or OR.")
class SurveyConditionGroup:
    connector: SurveyConnector = strawberry.field(description="AND: all hold; OR: any holds.")
    conditions: list[SurveyCondition] = strawberry.field(description="The conditions.")


@strawberry.type(description="After a question: when the condition holds, go on at `to`.")
class SurveyJump:
    when: SurveyConditionGroup = strawberry.field(description="When to jump.")
    to: str = strawberry.field(description="A later question's key, or `end` to finish.")


@strawberry.type(description="A question of a survey.")
class SurveyQuestion:
    key: str = strawberry.field(description="Stable key within the survey.")
    type: SurveyQuestionType = strawberry.field(description="The question's type.")
    required: bool = strawberry.field(description="An answer is required when it is asked.")
    text: str = strawberry.field(description="The question in the requested locale.")
    texts: list[SurveyText] = strawberry.field(description="The question per locale.")
    options: list[SurveyOption] = strawberry.field(description="Options (choice questions).")
    scale_min: int | None = strawberry.field(description="Lowest value (scales).")
    scale_max: int | None = strawberry.field(description="Highest value (scales).")
    show_if: SurveyConditionGroup | None = strawberry.field(
        description="Asked only when this holds (earlier answers only)."
    )
    jumps: list[SurveyJump] = strawberry.field(
        description="After this question, the first jump whose condition holds is followed."
    )


def _group(g: ConditionGroup | None) -> SurveyConditionGroup | None:
    if g is None:
        return None
    return SurveyConditionGroup(
        connector=SurveyConnector(g.connector),
        conditions=[
            SurveyCondition(
                question=c.question, operator=SurveyOperator(c.operator), values=list(c.values)
            )
            for c in g.conditions
        ],
    )


def question_view(q: Question, locale: str) -> SurveyQuestion:
    scale = SCALES.get(q.type)
    return SurveyQuestion(
        key=q.key,
        type=SurveyQuestionType(q.type),
        required=q.required,
        text=text_of(q.text, locale),
        texts=_texts(q.text),
        options=[
            SurveyOption(code=o.code, text=text_of(o.text, locale), texts=_texts(o.text))
            for o in q.options
        ],
        scale_min=scale[0] if scale else None,
        scale_max=scale[1] if scale else None,
        show_if=_group(q.show_if),
        jumps=[SurveyJump(when=_group(j.when), to=j.to) for j in q.jumps],  # type: ignore[arg-type]  # a jump's group is never None
    )


@strawberry.type(description="A public link of a survey: anonymous, or one store's counter QR.")
class SurveyLink:
    url: str = strawberry.field(description="The survey page (`/s/<token>`).")
    poster_url: str = strawberry.field(description="A printable poster with the QR code.")
    qr_svg_url: str = strawberry.field(description="The QR code as SVG.")
    qr_png_url: str = strawberry.field(description="The QR code as PNG.")


def link_view(url: str) -> SurveyLink:
    return SurveyLink(
        url=url, poster_url=f"{url}/poster", qr_svg_url=f"{url}/qr.svg", qr_png_url=f"{url}/qr.png"
    )


@strawberry.type(description="When a survey goes out by itself.")
class SurveyTrigger:
    kind: SurveyTriggerKind = strawberry.field(description="After a purchase, or to a segment.")
    active: bool = strawberry.field(description="Whether it fires.")
    delay_minutes: int = strawberry.field(description="Minutes after the purchase.")
    sampling_percent: int = strawberry.field(
        description="Share of purchases surveyed (decided per purchase, deterministically)."
    )
    store_ids: list[strawberry.ID] = strawberry.field(
        description="Only purchases in these stores (empty: every store)."
    )
    segment_id: strawberry.ID | None = strawberry.field(description="The segment invited.")
    every_days: int = strawberry.field(description="Days between segment runs.")
    next_run_at: dt.datetime | None = strawberry.field(description="The next segment run.")


def trigger_view(r: dict[str, Any]) -> SurveyTrigger:
    stores = r["store_ids"] if isinstance(r["store_ids"], list) else []
    return SurveyTrigger(
        kind=SurveyTriggerKind(r["kind"]),
        active=bool(r["active"]),
        delay_minutes=int(r["delay_minutes"]),
        sampling_percent=int(r["sampling_percent"]),
        store_ids=[to_global_id("Store", UUID(str(s))) for s in stores],
        segment_id=to_global_id("Segment", UUID(str(r["segment_id"]))) if r["segment_id"] else None,
        every_days=int(r["every_days"]),
        next_run_at=r["next_run_at"],
    )


@strawberry.type(description="A survey (one version of it).")
class Survey(Node):
    name: str = strawberry.field(description="Internal name.")
    kind: SurveyKind = strawberry.field(description="What it measures.")
    status: SurveyStatus = strawberry.field(description="Draft, published or closed.")
    version: int = strawberry.field(description="Version number (1, 2, …) within the survey.")
    locales: list[str] = strawberry.field(
        description="Languages it is written in (first: default)."
    )
    title: str = strawberry.field(description="Title in the default locale.")
    titles: list[SurveyText] = strawberry.field(description="Title per locale.")
    questions: list[SurveyQuestion] = strawberry.field(description="The questions, in order.")
    created_at: dt.datetime = strawberry.field(description="When created.")
    published_at: dt.datetime | None = strawberry.field(description="When published.")
    closed_at: dt.datetime | None = strawberry.field(description="When closed.")
    uid: strawberry.Private[UUID]
    family: strawberry.Private[UUID]

    @strawberry.field(
        description="The anonymous link (multi-use, never linked to a customer) of a "
        "published survey; with `storeId`, that store's counter link for its QR poster."
    )
    async def anonymous_link(
        self,
        info: Info,
        store_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="A store (omitted: the survey's)."),
        ] = None,
    ) -> SurveyLink | None:
        from plugins.surveys.graphql.operations import resolve_anonymous_link

        return await resolve_anonymous_link(self, info, store_id)

    @strawberry.field(description="What sends this survey by itself.")
    async def triggers(self, info: Info) -> list[SurveyTrigger]:
        from plugins.surveys.graphql.operations import resolve_triggers

        return await resolve_triggers(self, info)


def survey_view(r: dict[str, Any]) -> Survey:
    d: Definition = r["definition"]
    locale = d.locales[0]
    return Survey(
        id=to_global_id("Survey", r["id"]),
        uid=r["id"],
        family=r["family_id"],
        name=r["name"],
        kind=SurveyKind(r["kind"]),
        status=SurveyStatus(r["status"]),
        version=int(r["version"]),
        locales=list(d.locales),
        title=text_of(d.title, locale) or r["name"],
        titles=_texts(d.title),
        questions=[question_view(q, locale) for q in d.questions],
        created_at=r["created_at"],
        published_at=r["published_at"],
        closed_at=r["closed_at"],
    )


@strawberry.type(description="A survey as a respondent sees it (public, by token).")
class SurveyForm:
    kind: SurveyKind = strawberry.field(description="What it measures.")
    locale: str = strawberry.field(description="The locale of the texts.")
    locales: list[str] = strawberry.field(description="Locales the survey is written in.")
    title: str = strawberry.field(description="Title.")
    intro: str = strawberry.field(description="Introduction.")
    thanks: str = strawberry.field(description="What to show after the last answer.")
    anonymous: bool = strawberry.field(description="True: the response is not linked to anyone.")
    questions: list[SurveyQuestion] = strawberry.field(
        description="Every question with its logic (clients apply it; the server re-checks)."
    )


@strawberry.type(description="Result of `surveyForm`.")
class SurveyFormResult:
    form: SurveyForm | None = strawberry.field(description="The form, when the token opens it.")
    errors: list[UserError] = strawberry.field(
        description="`not_found` (unknown, expired or foreign token) or `already_answered`."
    )


@strawberry.type(description="An answer of a response.")
class SurveyAnswer:
    question_key: str = strawberry.field(description="The question.")
    choices: list[str] = strawberry.field(description="Chosen option codes.")
    number: int | None = strawberry.field(description="A scale's value.")
    text: str | None = strawberry.field(description="A text answer (erased with the customer).")
    date: dt.date | None = strawberry.field(description="A date answer.")


@strawberry.type(description="A completed survey response.")
class SurveyResponse(Node):
    survey_id: strawberry.ID = strawberry.field(description="The survey (version) answered.")
    channel: SurveyChannel = strawberry.field(description="How it came in.")
    answered_at: dt.datetime = strawberry.field(description="When.")
    nps: int | None = strawberry.field(description="The NPS answer (0-10), if any.")
    nps_category: SurveyNpsCategory | None = strawberry.field(description="Its category.")
    csat: int | None = strawberry.field(description="The CSAT answer (1-5), if any.")
    store_id: strawberry.ID | None = strawberry.field(description="The store it is about.")
    staff_id: strawberry.ID | None = strawberry.field(
        description="The staff member who served the customer (the purchase's)."
    )
    answers: list[SurveyAnswer] = strawberry.field(description="The answers, in question order.")
    uid: strawberry.Private[UUID]


def response_view(r: dict[str, Any], answers: list[dict[str, Any]]) -> SurveyResponse:
    return SurveyResponse(
        id=to_global_id("SurveyResponse", r["id"]),
        uid=r["id"],
        survey_id=to_global_id("Survey", r["survey_id"]),
        channel=SurveyChannel(r["channel"]),
        answered_at=r["answered_at"],
        nps=r["nps"],
        nps_category=SurveyNpsCategory(r["nps_category"]) if r["nps_category"] else None,
        csat=r["csat"],
        store_id=to_global_id("Store", r["store_id"]) if r["store_id"] else None,
        staff_id=to_global_id("Staff", r["staff_id"]) if r["staff_id"] else None,
        answers=[
            SurveyAnswer(
                question_key=a["question_key"],
                choices=a["choices"],
                number=a["number"],
                text=a["text"],
                date=a["date"],
            )
            for a in answers
        ],
    )


@strawberry.type(description="Net Promoter Score: % promoters - % detractors.")
class SurveyNps:
    score: float | None = strawberry.field(
        description="-100 to 100, one decimal; null without NPS answers."
    )
    promoters: int = strawberry.field(description="Answers of 9 or 10.")
    passives: int = strawberry.field(description="Answers of 7 or 8.")
    detractors: int = strawberry.field(description="Answers of 0 to 6.")
    total: int = strawberry.field(description="NPS answers.")


@strawberry.type(description="CSAT: % of answers of 4 or 5.")
class SurveyCsat:
    score: float | None = strawberry.field(
        description="0 to 100, one decimal; null without answers."
    )
    satisfied: int = strawberry.field(description="Answers of 4 or 5.")
    total: int = strawberry.field(description="CSAT answers.")


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def nps_view(n: Any) -> SurveyNps:
    return SurveyNps(
        score=_number(n.score),
        promoters=n.promoters,
        passives=n.passives,
        detractors=n.detractors,
        total=n.total,
    )


def csat_view(c: Any) -> SurveyCsat:
    return SurveyCsat(score=_number(c.score), satisfied=c.satisfied, total=c.total)


@strawberry.type(description="How often an option was chosen.")
class SurveyOptionCount:
    code: str = strawberry.field(description="The option's code.")
    count: int = strawberry.field(description="Times chosen.")


@strawberry.type(description="How often a value was given.")
class SurveyValueCount:
    value: int = strawberry.field(description="The value.")
    count: int = strawberry.field(description="Times given.")


@strawberry.type(description="One question's results.")
class SurveyQuestionResult:
    key: str = strawberry.field(description="The question.")
    type: SurveyQuestionType = strawberry.field(description="Its type.")
    answered: int = strawberry.field(description="Responses that answered it.")
    average: float | None = strawberry.field(description="Mean of a scale (two decimals).")
    options: list[SurveyOptionCount] = strawberry.field(description="Counts per option.")
    distribution: list[SurveyValueCount] = strawberry.field(description="Counts per value.")


@strawberry.type(description="Scores of one period, for one store or (store null) the chain.")
class SurveyTrendPoint:
    period_start: dt.date = strawberry.field(description="First day of the period.")
    store_id: strawberry.ID | None = strawberry.field(description="The store; null: all.")
    responses: int = strawberry.field(description="Responses in the period.")
    nps: SurveyNps = strawberry.field(description="NPS in the period.")
    csat: SurveyCsat = strawberry.field(description="CSAT in the period.")


@strawberry.type(description="How many invitations were suppressed for one reason.")
class SurveySuppression:
    reason: str = strawberry.field(
        description="`recontact` (asked within the re-contact limit), `no_consent`, "
        "`frequency_cap`, `no_address`, `unknown_customer`, `already_invited`, `survey_closed`."
    )
    count: int = strawberry.field(description="Invitations.")
