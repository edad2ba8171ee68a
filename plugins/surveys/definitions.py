"""What a survey is: questions of seven explicit types, texts per locale, and conditional logic
(Formbricks-style condition groups), validated in two steps — the shape whenever a draft is
saved, the references when it is published.

Logic: a question may carry ``show_if`` (it is asked only when the condition group holds) and
``jumps`` (after it is answered, the first jump whose condition holds moves on to a *later*
question or to the end). Conditions name earlier questions only (a jump's may also name its own
question), so a published survey can neither loop nor depend on an answer not given yet; the
publish check rejects a reference to a missing or later question (``unknown_question``,
``forward_reference``) and a jump backwards (``logic_cycle``). The operators allowed depend on
the type of the question a condition names, as in Formbricks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core import ValidationFailed, convert

__all__ = [
    "CHOICE_TYPES",
    "LOCALES",
    "OPERATORS",
    "SCALES",
    "Answer",
    "Condition",
    "ConditionGroup",
    "Definition",
    "Jump",
    "Option",
    "Question",
    "SurveyInput",
    "check_publishable",
    "nps_category",
    "parse_definition",
    "text_of",
    "walk",
]

LOCALES = ("zh-CN", "en")
QuestionType = Literal["single_choice", "multiple_choice", "rating", "nps", "csat", "text", "date"]
CHOICE_TYPES = ("single_choice", "multiple_choice")
SCALES: Mapping[str, tuple[int, int]] = {"rating": (1, 5), "nps": (0, 10), "csat": (1, 5)}
_PRESENCE = ("is_submitted", "is_skipped")
_NUMERIC = ("equals", "not_equals", "lt", "lte", "gt", "gte", *_PRESENCE)
OPERATORS: Mapping[str, tuple[str, ...]] = {
    "single_choice": ("equals", "not_equals", "is_any_of", *_PRESENCE),
    "multiple_choice": ("includes_any", "includes_all", *_PRESENCE),
    "rating": _NUMERIC,
    "nps": _NUMERIC,
    "csat": _NUMERIC,
    "text": ("contains", *_PRESENCE),
    "date": ("before", "after", *_PRESENCE),
}

Key = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Texts = Annotated[dict[str, Annotated[str, Meta(max_length=2000)]], Meta(max_length=2)]


class Option(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Key
    text: Texts


class Condition(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    question: Key
    operator: str
    values: Annotated[list[Annotated[str, Meta(max_length=200)]], Meta(max_length=20)] = []


class ConditionGroup(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    connector: Literal["and", "or"] = "and"
    conditions: Annotated[list[Condition], Meta(min_length=1, max_length=10)]


class Jump(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    when: ConditionGroup
    to: Annotated[str, Meta(pattern=r"^(end|[a-z][a-z0-9_]{0,31})$")]


class Question(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    key: Key
    type: QuestionType
    text: Texts
    required: bool = False
    options: Annotated[list[Option], Meta(max_length=30)] = []
    show_if: ConditionGroup | None = None
    jumps: Annotated[list[Jump], Meta(max_length=10)] = []


class Definition(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What is frozen at publication: texts and questions."""

    locales: Annotated[list[Literal["zh-CN", "en"]], Meta(min_length=1, max_length=2)] = (
        msgspec.field(default_factory=lambda: ["zh-CN"])
    )
    title: Texts = {}
    intro: Texts = {}
    thanks: Texts = {}
    questions: Annotated[list[Question], Meta(max_length=50)] = []

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)


class SurveyInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``surveyCreate`` / ``surveyUpdate`` as the service validates it."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    kind: Literal["nps", "csat", "general"] = "general"
    definition: Definition = msgspec.field(default_factory=Definition)


def _bad(message: str, field: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, field=field, code=code)


def parse_definition(raw: Any) -> Definition:
    """A stored definition (JSON text or dict) as a :class:`Definition`."""
    if isinstance(raw, (str, bytes)):
        return msgspec.json.decode(raw, type=Definition)
    return msgspec.convert(raw, Definition)


def check_shape(data: Mapping[str, Any] | SurveyInput) -> SurveyInput:
    """What saving a draft checks: the types, sizes and per-question shape."""
    survey = convert(data, SurveyInput)
    seen: set[str] = set()
    for i, q in enumerate(survey.definition.questions):
        where = f"questions.{i}"
        if q.key in seen:
            raise _bad(f"question key {q.key!r} is used twice", f"{where}.key", "duplicate")
        seen.add(q.key)
        for loc in q.text:
            if loc not in LOCALES:
                raise _bad(f"unknown locale {loc!r}", f"{where}.text", "unknown_locale")
        if q.type in CHOICE_TYPES:
            codes = [o.code for o in q.options]
            if len(set(codes)) != len(codes):
                raise _bad("option codes must be unique", f"{where}.options", "duplicate")
        elif q.options:
            raise _bad(f"a {q.type} question has no options", f"{where}.options")
    return survey


def check_publishable(survey: SurveyInput) -> None:
    """What publishing checks on top of the shape: at least one question, texts in every
    locale of the survey, choice questions with two options or more, an NPS survey with an NPS
    question (a CSAT survey with a CSAT one), and logic that names only earlier questions with
    operators and values that fit them, jumping only forwards."""
    d = survey.definition
    if not d.questions:
        raise _bad("a survey needs at least one question", "questions", "no_questions")
    wanted = {"nps": "nps", "csat": "csat"}.get(survey.kind)
    if wanted and not any(q.type == wanted for q in d.questions):
        raise _bad(f"an {survey.kind} survey needs an {wanted} question", "questions", "no_score")
    position = {q.key: i for i, q in enumerate(d.questions)}
    for i, q in enumerate(d.questions):
        where = f"questions.{i}"
        for loc in d.locales:
            if not q.text.get(loc, "").strip():
                raise _bad(f"no {loc} text", f"{where}.text", "missing_text")
        if q.type in CHOICE_TYPES:
            if len(q.options) < 2:
                raise _bad("a choice question needs two options", f"{where}.options")
            for j, o in enumerate(q.options):
                if any(not o.text.get(loc, "").strip() for loc in d.locales):
                    raise _bad(
                        "an option needs a text per locale",
                        f"{where}.options.{j}.text",
                        "missing_text",
                    )
        if q.show_if is not None:
            _check_group(d, q.show_if, position, i, f"{where}.showIf", allow_self=False)
        for j, jump in enumerate(q.jumps):
            _check_group(d, jump.when, position, i, f"{where}.jumps.{j}.when", allow_self=True)
            if jump.to != "end":
                if jump.to not in position:
                    raise _bad(
                        f"jump to unknown question {jump.to!r}",
                        f"{where}.jumps.{j}.to",
                        "unknown_question",
                    )
                if position[jump.to] <= i:
                    raise _bad(
                        "a jump goes forwards only (it would loop)",
                        f"{where}.jumps.{j}.to",
                        "logic_cycle",
                    )


def _check_group(
    d: Definition,
    group: ConditionGroup,
    position: Mapping[str, int],
    at: int,
    where: str,
    *,
    allow_self: bool,
) -> None:
    for k, c in enumerate(group.conditions):
        field = f"{where}.conditions.{k}"
        if c.question not in position:
            raise _bad(f"unknown question {c.question!r}", f"{field}.question", "unknown_question")
        if position[c.question] > at or (position[c.question] == at and not allow_self):
            raise _bad(
                "a condition names an earlier question only",
                f"{field}.question",
                "forward_reference",
            )
        target = d.questions[position[c.question]]
        if c.operator not in OPERATORS[target.type]:
            raise _bad(
                f"operator {c.operator!r} does not apply to a {target.type} question",
                f"{field}.operator",
                "invalid_operator",
            )
        _check_values(target, c, f"{field}.values")


def _check_values(target: Question, c: Condition, field: str) -> None:
    if c.operator in _PRESENCE:
        if c.values:
            raise _bad(f"{c.operator} takes no value", field, "invalid_value")
        return
    many = c.operator in ("is_any_of", "includes_any", "includes_all")
    if not c.values or (len(c.values) > 1 and not many):
        raise _bad(
            "a value is required" if not c.values else "one value only", field, "invalid_value"
        )
    if target.type in CHOICE_TYPES:
        codes = {o.code for o in target.options}
        if any(v not in codes for v in c.values):
            raise _bad("a value names no option of the question", field, "invalid_value")
    elif target.type in SCALES:
        low, high = SCALES[target.type]
        if not all(v.lstrip("-").isdigit() and low <= int(v) <= high for v in c.values):
            raise _bad(f"a value between {low} and {high}", field, "invalid_value")
    elif target.type == "date":
        try:
            dt.date.fromisoformat(c.values[0])
        except ValueError:
            raise _bad("a date (YYYY-MM-DD)", field, "invalid_value") from None


# --- answers and the walk through the logic --------------------------------------------------


class Answer(msgspec.Struct, kw_only=True):
    """A validated answer: ``choices`` for choice questions, ``number`` for scales, ``text``,
    ``date``."""

    choices: list[str] = []
    number: int | None = None
    text: str | None = None
    date: dt.date | None = None


def _holds(c: Condition, answers: Mapping[str, Answer], questions: Mapping[str, Question]) -> bool:
    a = answers.get(c.question)
    if c.operator == "is_submitted":
        return a is not None
    if c.operator == "is_skipped":
        return a is None
    if a is None:
        return False
    q = questions[c.question]
    if q.type in CHOICE_TYPES:
        chosen = set(a.choices)
        wanted = set(c.values)
        return {
            "equals": chosen == wanted,
            "not_equals": chosen != wanted,
            "is_any_of": bool(chosen & wanted),
            "includes_any": bool(chosen & wanted),
            "includes_all": wanted <= chosen,
        }[c.operator]
    if q.type in SCALES:
        n, v = a.number, int(c.values[0])
        assert n is not None
        return {
            "equals": n == v,
            "not_equals": n != v,
            "lt": n < v,
            "lte": n <= v,
            "gt": n > v,
            "gte": n >= v,
        }[c.operator]
    if q.type == "text":
        return c.values[0].casefold() in (a.text or "").casefold()
    assert a.date is not None
    day = dt.date.fromisoformat(c.values[0])
    return a.date < day if c.operator == "before" else a.date > day


def holds(
    group: ConditionGroup, answers: Mapping[str, Answer], questions: Mapping[str, Question]
) -> bool:
    results = (_holds(c, answers, questions) for c in group.conditions)
    return all(results) if group.connector == "and" else any(results)


def walk(d: Definition, answers: Mapping[str, Answer]) -> list[Question]:
    """The questions asked given ``answers``, in order: ``show_if`` evaluated, jumps
    followed (answers to questions that are not asked are dropped by the caller)."""
    by_key = {q.key: q for q in d.questions}
    asked: list[Question] = []
    skip_to: str | None = None
    for q in d.questions:
        if skip_to is not None:
            if q.key != skip_to:
                continue
            skip_to = None
        if q.show_if is not None and not holds(q.show_if, answers, by_key):
            continue
        asked.append(q)
        for jump in q.jumps:
            if holds(jump.when, answers, by_key):
                if jump.to == "end":
                    return asked
                skip_to = jump.to
                break
    return asked


def logic_sources(d: Definition) -> set[str]:
    """Keys of the questions other questions' logic depends on (a page of the form ends after
    each, so the next page can be chosen on the server)."""
    keys: set[str] = set()
    for q in d.questions:
        if q.jumps:
            keys.add(q.key)
        groups = ([q.show_if] if q.show_if else []) + [j.when for j in q.jumps]
        for g in groups:
            keys |= {c.question for c in g.conditions}
    return keys


def nps_category(score: int | None) -> str | None:
    """Promoter 9-10, passive 7-8, detractor 0-6 (the NPS definition)."""
    if score is None:
        return None
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def text_of(texts: Mapping[str, str], locale: str, fallbacks: Iterable[str] = LOCALES) -> str:
    """The text in ``locale``, else the first fallback that has one."""
    if texts.get(locale):
        return texts[locale]
    return next((texts[loc] for loc in fallbacks if texts.get(loc)), "")
