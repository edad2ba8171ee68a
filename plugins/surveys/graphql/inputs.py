"""The surveys plugin's GraphQL inputs, and their translation into the services' dicts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from plugins.surveys.graphql.types import (
    SurveyConnector,
    SurveyExportFormat,
    SurveyKind,
    SurveyOperator,
    SurveyQuestionType,
    SurveyRecordChannel,
    SurveyTriggerKind,
)

__all__ = ["definition_of"]

UNSET: Any = strawberry.UNSET


@strawberry.input(description="A text in one locale.")
class SurveyTextInput:
    locale: str = strawberry.field(description="`zh-CN` or `en`.")
    text: str = strawberry.field(description="The text.")


@strawberry.input(description="An option of a choice question.")
class SurveyOptionInput:
    code: str = strawberry.field(description="Stable code: lower case letters, digits, `_`.")
    text: list[SurveyTextInput] = strawberry.field(description="The option per locale.")


@strawberry.input(description="A condition on an earlier answer.")
class SurveyConditionInput:
    question: str = strawberry.field(description="Key of an earlier question.")
    operator: SurveyOperator = strawberry.field(description="The comparison (per question type).")
    values: list[str] | None = strawberry.field(
        default=UNSET, description="Option codes, numbers or dates compared with."
    )


@strawberry.input(description="Conditions joined by AND or OR.")
class SurveyConditionGroupInput:
    conditions: list[SurveyConditionInput] = strawberry.field(description="1 to 10 conditions.")
    connector: SurveyConnector | None = strawberry.field(
        default=UNSET, description="AND (default) or OR."
    )


@strawberry.input(description="After a question: when the condition holds, go on at `to`.")
class SurveyJumpInput:
    when: SurveyConditionGroupInput = strawberry.field(description="When to jump.")
    to: str = strawberry.field(description="A later question's key, or `end`.")


@strawberry.input(description="A question.")
class SurveyQuestionInput:
    key: str = strawberry.field(description="Stable key: lower case letters, digits, `_`.")
    type: SurveyQuestionType = strawberry.field(description="The question's type.")
    text: list[SurveyTextInput] = strawberry.field(description="The question per locale.")
    required: bool | None = strawberry.field(default=UNSET, description="Default false.")
    options: list[SurveyOptionInput] | None = strawberry.field(
        default=UNSET, description="Options of a choice question (2 to 30)."
    )
    show_if: SurveyConditionGroupInput | None = strawberry.field(
        default=UNSET, description="Ask only when this holds."
    )
    jumps: list[SurveyJumpInput] | None = strawberry.field(
        default=UNSET, description="Where to go on after this question."
    )


@strawberry.input(description="A new survey (a draft).")
class SurveyCreateInput:
    name: str = strawberry.field(description="Internal name.")
    kind: SurveyKind | None = strawberry.field(default=UNSET, description="Default GENERAL.")
    locales: list[str] | None = strawberry.field(
        default=UNSET, description='Languages (default `["zh-CN"]`; first is the default).'
    )
    title: list[SurveyTextInput] | None = strawberry.field(default=UNSET, description="Title.")
    intro: list[SurveyTextInput] | None = strawberry.field(default=UNSET, description="Intro.")
    thanks: list[SurveyTextInput] | None = strawberry.field(
        default=UNSET, description="Shown after the last answer."
    )
    questions: list[SurveyQuestionInput] | None = strawberry.field(
        default=UNSET, description="The questions, in order."
    )
    based_on_id: strawberry.ID | None = strawberry.field(
        default=UNSET,
        description="Make the next version of this survey (its questions are copied unless "
        "`questions` is given).",
    )
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description="A retry with this key creates the survey once."
    )


@strawberry.input(description="Changes to a draft survey (omitted fields stay).")
class SurveyUpdateInput:
    id: strawberry.ID = strawberry.field(description="The draft.")
    name: str | None = strawberry.field(default=UNSET, description="Internal name.")
    kind: SurveyKind | None = strawberry.field(default=UNSET, description="What it measures.")
    locales: list[str] | None = strawberry.field(default=UNSET, description="Languages.")
    title: list[SurveyTextInput] | None = strawberry.field(default=UNSET, description="Title.")
    intro: list[SurveyTextInput] | None = strawberry.field(default=UNSET, description="Intro.")
    thanks: list[SurveyTextInput] | None = strawberry.field(default=UNSET, description="Thanks.")
    questions: list[SurveyQuestionInput] | None = strawberry.field(
        default=UNSET, description="The questions (replace all)."
    )


@strawberry.input(description="The survey to publish.")
class SurveyPublishInput:
    id: strawberry.ID = strawberry.field(description="The draft.")


@strawberry.input(description="The survey to close.")
class SurveyCloseInput:
    id: strawberry.ID = strawberry.field(description="The survey.")


@strawberry.input(description="Who to invite now: customers or a saved segment.")
class SurveyInviteInput:
    survey_id: strawberry.ID = strawberry.field(description="A published survey.")
    customer_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Customers (up to 10,000)."
    )
    segment_id: strawberry.ID | None = strawberry.field(default=UNSET, description="A segment.")
    store_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The store the survey is about (quiet hours in its timezone)."
    )


@strawberry.input(description="A survey's trigger (replaces the one of the same kind).")
class SurveyTriggerSetInput:
    survey_id: strawberry.ID = strawberry.field(description="The survey.")
    kind: SurveyTriggerKind = strawberry.field(description="After a purchase, or to a segment.")
    active: bool | None = strawberry.field(default=UNSET, description="Default true.")
    delay_minutes: int | None = strawberry.field(
        default=UNSET, description="Minutes after the purchase (0 to 43,200)."
    )
    sampling_percent: int | None = strawberry.field(
        default=UNSET, description="Share of purchases surveyed, 1 to 100 (default 100)."
    )
    store_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Only these stores' purchases (default: all)."
    )
    segment_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The segment (SEGMENT)."
    )
    every_days: int | None = strawberry.field(
        default=UNSET, description="Days between runs (SEGMENT, 1 to 366)."
    )


@strawberry.input(description="An answer to one question.")
class SurveyAnswerValueInput:
    question_key: str = strawberry.field(description="The question.")
    choices: list[str] | None = strawberry.field(
        default=UNSET, description="Option codes (choice questions)."
    )
    number: int | None = strawberry.field(default=UNSET, description="A scale's value.")
    text: str | None = strawberry.field(default=UNSET, description="A text answer.")
    date: dt.date | None = strawberry.field(default=UNSET, description="A date answer.")


@strawberry.input(description="Answers sent with a survey link's token.")
class SurveyAnswerInput:
    token: str = strawberry.field(description="The token of the link (`<tenant>.<secret>`).")
    answers: list[SurveyAnswerValueInput] = strawberry.field(description="The answers.")
    locale: str | None = strawberry.field(default=UNSET, description="The locale answered in.")
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description="A retry with this key counts once (anonymous links)."
    )


@strawberry.input(description="Answers taken by staff by phone or face to face.")
class SurveyResponseRecordInput:
    survey_id: strawberry.ID = strawberry.field(description="A published survey.")
    channel: SurveyRecordChannel = strawberry.field(description="Phone or in person.")
    answers: list[SurveyAnswerValueInput] = strawberry.field(description="The answers.")
    customer_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The customer (omit for an unnamed one)."
    )
    store_id: strawberry.ID | None = strawberry.field(default=UNSET, description="The store.")
    staff_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The staff member who served the customer."
    )
    answered_at: dt.datetime | None = strawberry.field(
        default=UNSET, description="When the answers were given (default now; never future)."
    )
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description="A retry with this key records the response once."
    )


@strawberry.input(description="An export to download.")
class SurveyExportInput:
    survey_id: strawberry.ID = strawberry.field(description="The survey.")
    format: SurveyExportFormat = strawberry.field(description="CSV or XLSX.")
    from_: dt.datetime | None = strawberry.field(
        name="from", default=UNSET, description="Answered from (inclusive)."
    )
    to: dt.datetime | None = strawberry.field(default=UNSET, description="Answered before.")
    store_id: strawberry.ID | None = strawberry.field(default=UNSET, description="One store.")


def _texts(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {t["locale"]: t["text"] for t in items or []}


def _group(g: dict[str, Any] | None) -> dict[str, Any] | None:
    if g is None:
        return None
    return {
        "connector": g.get("connector") or "and",
        "conditions": [
            {"question": c["question"], "operator": c["operator"], "values": c.get("values") or []}
            for c in g["conditions"]
        ],
    }


def definition_of(data: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The definition dict of a create/update input (``base``: the stored one, for updates)."""
    out = dict(base or {})
    for name in ("title", "intro", "thanks"):
        if name in data:
            out[name] = _texts(data.pop(name))
    if "locales" in data:
        out["locales"] = data.pop("locales") or ["zh-CN"]
    if "questions" in data:
        out["questions"] = [
            {
                "key": q["key"],
                "type": q["type"],
                "text": _texts(q["text"]),
                "required": bool(q.get("required")),
                "options": [
                    {"code": o["code"], "text": _texts(o["text"])} for o in q.get("options") or []
                ],
                "show_if": _group(q.get("show_if")),
                "jumps": [{"when": _group(j["when"]), "to": j["to"]} for j in q.get("jumps") or []],
            }
            for q in data.pop("questions") or []
        ]
    return out


__all__ += [
    "SurveyAnswerInput",
    "SurveyAnswerValueInput",
    "SurveyCloseInput",
    "SurveyCreateInput",
    "SurveyExportInput",
    "SurveyInviteInput",
    "SurveyPublishInput",
    "SurveyRecordChannel",
    "SurveyResponseRecordInput",
    "SurveyTriggerSetInput",
    "SurveyUpdateInput",
]
