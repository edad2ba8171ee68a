"""Answering by token (``surveyForm``, ``surveyAnswer``): once per invitation, anonymous links
never linked to anyone, logic re-checked on the server, foreign and expired tokens not found."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from tests.plugins.surveys.helpers import (
    ANSWER,
    FORM,
    answer_rows,
    answers,
    gql_ok,
    mint_invitation,
    nps_survey,
    response_rows,
    uid,
)

pytestmark = pytest.mark.usefixtures("db")


async def _setup(api, tenant, owner, make_key, enable_plugins):
    from core.customers import create_customer

    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    survey = await nps_survey(api, key)
    customer = await create_customer(tenant, owner, {"name": "王芳"})
    return key, survey, customer


async def test_an_invitation_opens_the_form_and_answers_once(
    api, tenant, owner, make_key, enable_plugins, captured_events
):
    _key, survey, customer = await _setup(api, tenant, owner, make_key, enable_plugins)
    token = await mint_invitation(tenant, uid(survey), customer.id)

    form = await gql_ok(api, FORM, {"t": token, "l": "en"}, None)
    assert form["surveyForm"]["errors"] == []
    shown = form["surveyForm"]["form"]
    assert (shown["kind"], shown["locale"], shown["title"], shown["anonymous"]) == (
        "NPS",
        "en",
        "Satisfaction survey",
        False,
    )
    assert [q["key"] for q in shown["questions"]] == ["nps", "why", "csat", "comment"]
    assert shown["questions"][1]["showIf"] == {
        "connector": "AND",
        "conditions": [{"question": "nps", "operator": "LTE", "values": ["6"]}],
    }

    given = answers(3, why=["wait", "staff"], csat=2, comment="排队太久了")
    first = await gql_ok(api, ANSWER, {"i": {"token": token, "answers": given}}, None)
    assert first["surveyAnswer"] == {"accepted": True, "errors": []}
    again = await gql_ok(api, ANSWER, {"i": {"token": token, "answers": given}}, None)
    assert again["surveyAnswer"] == {
        "accepted": False,
        "errors": [{"field": "token", "code": "already_answered"}],
    }
    form_again = await gql_ok(api, FORM, {"t": token}, None)
    assert form_again["surveyForm"] == {
        "form": None,
        "errors": [{"field": "token", "code": "already_answered"}],
    }

    (row,) = await response_rows(tenant)
    assert (row["nps"], row["nps_category"], row["csat"], row["channel"]) == (
        3,
        "detractor",
        2,
        "link",
    )
    assert str(row["customer_id"]) == str(customer.id)
    stored = [
        (a["question_key"], a["choice"], a["value_int"], a["value_text"])
        for a in await answer_rows(tenant)
    ]
    assert stored == [
        ("nps", None, 3, None),
        ("why", "staff", None, None),
        ("why", "wait", None, None),
        ("csat", None, 2, None),
        ("comment", None, None, "排队太久了"),
    ]
    events = [p for n, p in await captured_events(tenant) if n == "surveys.completed"]
    assert events == [
        {
            "response_id": str(row["id"]),
            "survey_id": str(uid(survey)),
            "survey_kind": "nps",
            "customer_id": str(customer.id),
            "store_id": None,
            "staff_id": None,
            "purchase_id": None,
            "complaint_id": None,
            "channel": "link",
            "answered_at": events[0]["answered_at"],
            "nps": 3,
            "nps_category": "detractor",
            "csat": 2,
            "satisfied": False,
            "comment": "排队太久了",
        }
    ]
    assert dt.datetime.fromisoformat(events[0]["answered_at"]).tzinfo is not None


async def test_logic_is_rechecked_on_the_server(api, tenant, owner, make_key, enable_plugins):
    """A promoter's answer to the detractors-only question is dropped; a required question
    unanswered, an option that does not exist and a value off the scale are refused."""
    _key, survey, customer = await _setup(api, tenant, owner, make_key, enable_plugins)
    token = await mint_invitation(tenant, uid(survey), customer.id)
    for given, error in [
        (
            [{"questionKey": "why", "choices": ["wait"]}],
            {"field": "answers.nps", "code": "required"},
        ),
        (answers(11), {"field": "answers.0", "code": "invalid_answer"}),
        (answers(2, why=["nothing"]), {"field": "answers.1", "code": "invalid_answer"}),
        (
            [{"questionKey": "nope", "text": "x"}],
            {"field": "answers.0.questionKey", "code": "unknown_question"},
        ),
    ]:
        r = await gql_ok(api, ANSWER, {"i": {"token": token, "answers": given}}, None)
        assert r["surveyAnswer"] == {"accepted": False, "errors": [error]}, given
    assert await response_rows(tenant) == []  # nothing written by the refusals

    r = await gql_ok(
        api, ANSWER, {"i": {"token": token, "answers": answers(10, why=["price"])}}, None
    )
    assert r["surveyAnswer"]["accepted"] is True
    assert [a["question_key"] for a in await answer_rows(tenant)] == ["nps"]


async def test_unknown_expired_foreign_and_disabled_tokens_are_not_found(
    api, tenant, other_tenant, owner, make_key, enable_plugins
):
    from core.plugins import get_runtime
    from tenants.modules import disable_module

    _key, survey, customer = await _setup(api, tenant, owner, make_key, enable_plugins)
    expired = await mint_invitation(
        tenant, uid(survey), customer.id, expires_in=-dt.timedelta(seconds=1)
    )
    live = await mint_invitation(tenant, uid(survey), customer.id)
    # the same secret under another tenant's slug, a malformed one, one that never existed
    foreign = f"{other_tenant.slug}.{live.split('.', 1)[1]}"
    nothing = f"{tenant.slug}.{'A' * 43}"
    not_found = {"form": None, "errors": [{"field": "token", "code": "not_found"}]}
    for token in (expired, foreign, nothing, "garbage", ""):
        assert (await gql_ok(api, FORM, {"t": token}, None))["surveyForm"] == not_found, token
        r = await gql_ok(api, ANSWER, {"i": {"token": token, "answers": answers(9)}}, None)
        assert r["surveyAnswer"]["errors"] == [{"field": "token", "code": "not_found"}]
    await disable_module(tenant, owner, get_runtime(), "surveys")
    assert (await gql_ok(api, FORM, {"t": live}, None))["surveyForm"] == not_found
    assert await response_rows(tenant) == []


async def test_an_anonymous_link_answers_many_times_and_links_no_one(
    api, tenant, owner, make_key, enable_plugins
):
    key, survey, _customer = await _setup(api, tenant, owner, make_key, enable_plugins)
    link = await gql_ok(
        api,
        "query($s: ID!) { survey(id: $s) { anonymousLink { url posterUrl } } }",
        {"s": survey},
        key,
    )
    url = link["survey"]["anonymousLink"]["url"]
    assert (
        url.startswith(f"/s/{tenant.slug}.")
        and link["survey"]["anonymousLink"]["posterUrl"] == f"{url}/poster"
    )
    token = url.removeprefix("/s/")
    for score, retry_key in ((9, "a"), (5, "b"), (5, "b")):  # the last is a retry
        r = await gql_ok(
            api,
            ANSWER,
            {"i": {"token": token, "answers": answers(score), "idempotencyKey": retry_key}},
            None,
        )
        assert r["surveyAnswer"] == {"accepted": True, "errors": []}
    rows = await response_rows(tenant)
    assert [(r["nps"], r["channel"], r["customer_id"]) for r in rows] == [
        (9, "anonymous", None),
        (5, "anonymous", None),
    ]


async def test_concurrent_answers_to_one_invitation_store_one_response(
    api, tenant, owner, make_key, enable_plugins, pg_only
):
    _key, survey, customer = await _setup(api, tenant, owner, make_key, enable_plugins)
    token = await mint_invitation(tenant, uid(survey), customer.id)
    results = await asyncio.gather(
        *[api.gql(ANSWER, {"i": {"token": token, "answers": answers(n % 11)}}) for n in range(12)]
    )
    accepted = [r["data"]["surveyAnswer"]["accepted"] for r in results]
    assert accepted.count(True) == 1
    assert {e["code"] for r in results for e in r["data"]["surveyAnswer"]["errors"]} == {
        "already_answered"
    }
    assert len(await response_rows(tenant)) == 1
