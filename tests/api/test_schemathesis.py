"""schemathesis against the GraphQL schema (per module set) and the OpenAPI document, in-process:
generated operations must never produce a server error.

schemathesis runs the app in its own event loop with the app's lifespan (which opens its own
database pool), so the test data is prepared beforehand in fixtures.
"""

from __future__ import annotations

import copy
from typing import Any

import graphql
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from api.app import create_app

pytestmark = pytest.mark.usefixtures("db")

# Hostile text (issue 17): every string the generator writes may carry a NUL character, which
# PostgreSQL cannot store — the edge must refuse it as ``invalid_input``, never let it reach the
# driver. Plain text stays likely, so most operations still execute.
HOSTILE_TEXT = st.one_of(
    st.text(max_size=20),
    st.text(max_size=10).map(lambda t: f"{t}\x00{t}"),
    st.sampled_from(["\x00", "a\x00b", "\x00" * 3, "' OR 1=1 --", "💥\u200b\ufeff"]),
)


def _nested(depth: int, leaf: str, as_list: bool) -> msgspec.Raw:
    """JSON nested ``depth`` deep, as raw text (too deep for any encoder to write)."""
    opening, closing = ("[", "]") if as_list else ('{"a": ', "}")
    text = opening * depth + msgspec.json.encode(leaf).decode() + closing * depth
    return msgspec.Raw(text.encode())


# JSON nested from a little to far past the limit (32) and past msgspec's recursion guard.
DEEP_JSON = st.builds(
    _nested, st.sampled_from([3, 31, 33, 60, 500, 5_000]), HOSTILE_TEXT, st.booleans()
)


def _literal_nested(depth: int, text: str) -> Any:
    node: Any = schemathesis.graphql.nodes.String(text)
    for _ in range(depth):
        node = schemathesis.graphql.nodes.Object(
            [graphql.ObjectFieldNode(name=graphql.NameNode(value="a"), value=node)]
        )
    return node


schemathesis.graphql.scalar("String", HOSTILE_TEXT.map(schemathesis.graphql.nodes.String))
# Our custom scalars: exact decimals travel as strings; JSON takes any literal, nested deep too.
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
        HOSTILE_TEXT,
    ).map(schemathesis.graphql.nodes.String),
)
schemathesis.graphql.scalar(
    "JSON",
    st.one_of(
        HOSTILE_TEXT.map(schemathesis.graphql.nodes.String),
        st.integers().map(schemathesis.graphql.nodes.Int),
        st.booleans().map(schemathesis.graphql.nodes.Boolean),
        st.builds(_literal_nested, st.sampled_from([2, 31, 33, 120]), HOSTILE_TEXT),
    ),
)


def poison(body: Any, data: st.DataObject) -> Any:
    """``body`` with, sometimes, one value (anywhere in it) replaced by hostile JSON: text with
    NUL characters or a structure nested far too deep."""
    if not data.draw(st.booleans(), label="poison?"):
        return body
    if not isinstance(body, (dict, list)) or not body:
        return data.draw(st.one_of(HOSTILE_TEXT, DEEP_JSON), label="body")
    container: Any = body
    while True:
        keys = list(container) if isinstance(container, dict) else list(range(len(container)))
        key = data.draw(st.sampled_from(keys), label="key")
        inner = container[key]
        if isinstance(inner, (dict, list)) and inner and data.draw(st.booleans(), label="down?"):
            container = inner
            continue
        container[key] = data.draw(st.one_of(HOSTILE_TEXT, DEEP_JSON), label="value")
        return body


EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture(params=["core", "sample", "loyalty", "surveys", "care", "complaints"])
async def graphql_target(request, db, tenant, make_key, enable_plugins) -> dict[str, Any]:
    """A tenant with the module set under test, its owner key and the app."""
    if request.param != "core":
        await enable_plugins(tenant, request.param)
    key = await make_key(tenant)
    return {"app": create_app(db.settings, background=False), "key": key, "set": request.param}


def _fuzz(schema: Any, examples: int, call: Any) -> None:
    """Draw ``examples`` generated operations (across every operation of the schema) and call
    each with a draw source for poisoning it. (schemathesis' own pytest loader does not run on
    this pytest; its strategies do.)"""

    @settings(EXAMPLES, max_examples=examples)
    @given(case=schema.as_strategy(), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        call(case, data)

    run()


def _no_server_error(response: Any, sent: Any) -> dict[str, Any]:
    assert response.status_code < 500, (sent, response.text)
    body: dict[str, Any] = response.json()
    internal = [
        e for e in body.get("errors") or [] if (e.get("extensions") or {}).get("code") == "internal"
    ]
    assert not internal, (sent, body)
    return body


def test_graphql_never_fails_with_a_server_error(graphql_target):
    headers = {"Authorization": f"Bearer {graphql_target['key']}"}
    schema = schemathesis.graphql.from_asgi("/graphql", graphql_target["app"], headers=headers)
    operations = {
        "core": 19 + 32,
        "sample": 19 + 32 + 1,
        "loyalty": 19 + 32 + 8,
        "surveys": 19 + 32 + 13,  # 4 queries (1 public), 9 mutations (1 public)
        "care": 19 + 32 + 8,  # 2 queries, 6 mutations
        "complaints": 19 + 32 + 23,  # 8 queries (1 public), 15 mutations (1 public)
    }  # roots
    assert len(list(schema.get_all_operations())) == operations[graphql_target["set"]]

    answered: list[str] = []
    refused: list[str] = []

    def call(case: Any, data: st.DataObject) -> None:
        # Literals come from the generator (hostile strings and JSON included); variables, which
        # it never writes, are drawn here: a poisoned set next to the query, each checked at
        # the edge whether the operation declares it or not.
        variables = poison({"input": {"name": "x", "tags": ["a", "b"]}, "n": 1}, data)
        sent = {"query": case.body, "variables": variables}
        response = case.call(
            headers={**headers, "content-type": "application/json"},
            data=msgspec.json.encode(sent),
        )
        body = _no_server_error(response, sent)
        if body.get("data"):
            answered.append(case.operation.label)
        codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
        if "invalid_input" in codes:
            refused.append(case.operation.label)

    _fuzz(schema, 200, call)
    assert len(set(answered)) >= 10  # the generated operations really executed, widely
    assert len(refused) >= 20  # and hostile input really reached the edge, and was refused


def test_rest_never_fails_with_a_server_error(db):
    app = create_app(db.settings, background=False)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    headers = {"Authorization": f"Bearer {db.settings.admin_token}"}

    def call(case: Any, data: st.DataObject) -> None:
        if not isinstance(case.body, (dict, list)):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])
            return
        sent = msgspec.json.encode(poison(copy.deepcopy(case.body), data))
        response = case.call(headers={**headers, "content-type": "application/json"}, data=sent)
        assert response.status_code < 500, (sent[:300], response.text)

    _fuzz(schema, 150, call)
