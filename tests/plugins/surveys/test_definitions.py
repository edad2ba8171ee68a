"""Surveys and questions: shape checked on save, logic checked at publish (no cycles, no
reference to a later or missing question, operators per type), drafts change, published
surveys do not (a new version instead)."""

from __future__ import annotations

import copy

import pytest

from tests.plugins.surveys.helpers import (
    CLOSE,
    CREATE,
    PUBLISH,
    UPDATE,
    gql_ok,
    nps_questions,
    nps_survey,
    texts,
)

pytestmark = pytest.mark.usefixtures("db")


def _with(questions, index, **changes):
    qs = copy.deepcopy(questions)
    qs[index].update(changes)
    return qs


COND = {"question": "nps", "operator": "LTE", "values": ["6"]}
BAD_LOGIC = [
    # a condition on a later question
    (
        _with(
            nps_questions(),
            0,
            showIf={"conditions": [{"question": "csat", "operator": "IS_SUBMITTED"}]},
        ),
        "questions.0.showIf.conditions.0.question",
        "forward_reference",
    ),
    # a condition on a question that does not exist
    (
        _with(
            nps_questions(),
            1,
            showIf={"conditions": [{"question": "ghost", "operator": "IS_SKIPPED"}]},
        ),
        "questions.1.showIf.conditions.0.question",
        "unknown_question",
    ),
    # a jump backwards would loop
    (
        _with(nps_questions(), 2, jumps=[{"when": {"conditions": [COND]}, "to": "nps"}]),
        "questions.2.jumps.0.to",
        "logic_cycle",
    ),
    # a jump to itself too
    (
        _with(nps_questions(), 2, jumps=[{"when": {"conditions": [COND]}, "to": "csat"}]),
        "questions.2.jumps.0.to",
        "logic_cycle",
    ),
    # CONTAINS is a text operator, not an NPS one
    (
        _with(
            nps_questions(),
            1,
            showIf={"conditions": [{"question": "nps", "operator": "CONTAINS", "values": ["x"]}]},
        ),
        "questions.1.showIf.conditions.0.operator",
        "invalid_operator",
    ),
    # NPS is 0-10
    (
        _with(
            nps_questions(),
            1,
            showIf={"conditions": [{"question": "nps", "operator": "LT", "values": ["11"]}]},
        ),
        "questions.1.showIf.conditions.0.values",
        "invalid_value",
    ),
    # an option code the choice question does not have
    (
        _with(
            nps_questions(),
            2,
            showIf={
                "conditions": [{"question": "why", "operator": "INCLUDES_ANY", "values": ["tea"]}]
            },
        ),
        "questions.2.showIf.conditions.0.values",
        "invalid_value",
    ),
    # an English text missing in a bilingual survey
    (_with(nps_questions(), 3, text=texts("还有什么建议？")), "questions.3.text", "missing_text"),
    # an NPS survey without an NPS question
    (nps_questions()[2:], "questions", "no_score"),
]


async def test_publishing_refuses_bad_logic_and_leaves_the_draft(
    api, tenant, make_key, enable_plugins
):
    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    for questions, field, code in BAD_LOGIC:
        survey = await nps_survey(api, key, publish=False, questions=questions)
        r = await gql_ok(api, PUBLISH, {"i": {"id": survey}}, key)
        assert r["surveyPublish"]["survey"] is None
        assert [(e["field"], e["code"]) for e in r["surveyPublish"]["errors"]] == [(field, code)]
        status = await gql_ok(
            api, "query($s: ID!) { survey(id: $s) { status } }", {"s": survey}, key
        )
        assert status["survey"]["status"] == "DRAFT"


async def test_a_forward_jump_with_or_conditions_publishes(api, tenant, make_key, enable_plugins):
    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    jump = {
        "when": {
            "connector": "OR",
            "conditions": [
                {"question": "nps", "operator": "GTE", "values": ["9"]},
                {"question": "nps", "operator": "IS_SKIPPED"},
            ],
        },
        "to": "comment",
    }
    questions = _with(nps_questions(), 0, jumps=[jump])
    survey = await nps_survey(api, key, questions=questions)
    shown = await gql_ok(
        api,
        "query($s: ID!) { survey(id: $s) { status questions { key jumps { to when { connector conditions { operator values } } } } } }",
        {"s": survey},
        key,
    )
    assert shown["survey"]["status"] == "PUBLISHED"
    assert shown["survey"]["questions"][0]["jumps"] == [
        {
            "to": "comment",
            "when": {
                "connector": "OR",
                "conditions": [
                    {"operator": "GTE", "values": ["9"]},
                    {"operator": "IS_SKIPPED", "values": []},
                ],
            },
        }
    ]


async def test_shape_errors_are_refused_when_saving(api, tenant, make_key, enable_plugins):
    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    dup = [*nps_questions(), nps_questions()[0]]
    r = await api.gql(CREATE, {"i": {"name": "x", "questions": dup}}, key=key)
    assert [(e["field"], e["code"]) for e in r["data"]["surveyCreate"]["errors"]] == [
        ("questions.4.key", "duplicate")
    ]
    bad_key = _with(nps_questions(), 0, key="Bad Key")
    r = await api.gql(CREATE, {"i": {"name": "x", "questions": bad_key}}, key=key)
    assert r["data"]["surveyCreate"]["errors"][0]["code"] == "invalid"
    count = await gql_ok(api, "{ surveys { nodes { id } } }", {}, key)
    assert count["surveys"]["nodes"] == []


async def test_a_published_survey_never_changes_a_new_version_replaces_it(
    api, tenant, make_key, enable_plugins
):
    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    v1 = await nps_survey(api, key)
    refused = await gql_ok(api, UPDATE, {"i": {"id": v1, "name": "renamed"}}, key)
    assert refused["surveyUpdate"] == {
        "survey": None,
        "errors": [{"field": "id", "code": "not_draft"}],
    }
    again = await gql_ok(api, PUBLISH, {"i": {"id": v1}}, key)
    assert again["surveyPublish"]["errors"] == [
        {"field": "id", "code": "not_draft", "message": "the survey is already published"}
    ]

    v2 = await gql_ok(
        api, CREATE, {"i": {"name": "门店满意度 v2", "basedOnId": v1, "kind": "NPS"}}, key
    )
    draft = v2["surveyCreate"]["survey"]
    assert (draft["version"], draft["status"], [q["key"] for q in draft["questions"]]) == (
        2,
        "DRAFT",
        ["nps", "why", "csat", "comment"],
    )
    changed = await gql_ok(
        api, UPDATE, {"i": {"id": draft["id"], "questions": nps_questions()[:1]}}, key
    )
    assert [q["key"] for q in changed["surveyUpdate"]["survey"]["questions"]] == ["nps"]
    done = await gql_ok(api, PUBLISH, {"i": {"id": draft["id"]}}, key)
    assert done["surveyPublish"]["survey"]["status"] == "PUBLISHED"
    old = await gql_ok(
        api,
        "query($s: ID!) { survey(id: $s) { status version questions { key } } }",
        {"s": v1},
        key,
    )
    assert old["survey"] == {
        "status": "CLOSED",
        "version": 1,
        "questions": [{"key": k} for k in ("nps", "why", "csat", "comment")],
    }
    closed = await gql_ok(api, CLOSE, {"i": {"id": draft["id"]}}, key)
    assert closed["surveyClose"]["survey"]["status"] == "CLOSED"
    listed = await gql_ok(
        api,
        "{ surveys(status: CLOSED, first: 1) { nodes { version } pageInfo { hasNextPage endCursor } } }",
        {},
        key,
    )
    assert listed["surveys"]["nodes"] == [{"version": 2}]
    rest = await gql_ok(
        api,
        "query($a: String) { surveys(status: CLOSED, after: $a) { nodes { version } } }",
        {"a": listed["surveys"]["pageInfo"]["endCursor"]},
        key,
    )
    assert rest["surveys"]["nodes"] == [{"version": 1}]


async def test_creating_twice_with_one_key_creates_once(api, tenant, make_key, enable_plugins):
    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    body = {"i": {"name": "x", "idempotencyKey": "k-1"}}
    a = await gql_ok(api, CREATE, body, key)
    b = await gql_ok(api, CREATE, body, key)
    assert a["surveyCreate"]["survey"]["id"] == b["surveyCreate"]["survey"]["id"]
    c = await gql_ok(api, CREATE, {"i": {"name": "y", "idempotencyKey": "k-1"}}, key)
    assert c["surveyCreate"]["errors"][0]["code"] == "idempotency_mismatch"


def test_the_walk_follows_show_if_and_jumps():
    from plugins.surveys.answering import clean_answers
    from plugins.surveys.definitions import Answer, parse_definition, walk

    d = parse_definition(
        {
            "locales": ["zh-CN"],
            "questions": [
                {
                    "key": "a",
                    "type": "single_choice",
                    "text": {"zh-CN": "a"},
                    "options": [
                        {"code": "y", "text": {"zh-CN": "y"}},
                        {"code": "n", "text": {"zh-CN": "n"}},
                    ],
                    "jumps": [
                        {
                            "when": {
                                "conditions": [
                                    {"question": "a", "operator": "equals", "values": ["n"]}
                                ]
                            },
                            "to": "end",
                        }
                    ],
                },
                {"key": "b", "type": "rating", "text": {"zh-CN": "b"}, "required": True},
                {
                    "key": "c",
                    "type": "text",
                    "text": {"zh-CN": "c"},
                    "show_if": {
                        "conditions": [{"question": "b", "operator": "lt", "values": ["3"]}]
                    },
                },
                {"key": "d", "type": "date", "text": {"zh-CN": "d"}},
            ],
        }
    )
    assert [q.key for q in walk(d, {"a": Answer(choices=["n"])})] == ["a"]
    assert [q.key for q in walk(d, {"a": Answer(choices=["y"]), "b": Answer(number=5)})] == [
        "a",
        "b",
        "d",
    ]
    assert [q.key for q in walk(d, {"b": Answer(number=2)})] == ["a", "b", "c", "d"]
    # "n" ends the survey: the required "b" is not asked, so not required
    asked, kept = clean_answers(
        d, [{"question_key": "a", "choices": ["n"]}, {"question_key": "b", "number": 1}]
    )
    assert [q.key for q in asked] == ["a"] and list(kept) == ["a"]
