"""schemathesis against the GraphQL schema (per module set) and the OpenAPI document, in-process:
generated operations must never produce a server error.

schemathesis runs the app in its own event loop with the app's lifespan (which opens its own
database pool), so the test data is prepared beforehand in fixtures.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from api.app import create_app

pytestmark = pytest.mark.usefixtures("db")

# Our custom scalars: exact decimals travel as strings; JSON takes any literal.
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
        st.text(max_size=12),
    ).map(schemathesis.graphql.nodes.String),
)
schemathesis.graphql.scalar(
    "JSON",
    st.one_of(
        st.text(max_size=20).map(schemathesis.graphql.nodes.String),
        st.integers().map(schemathesis.graphql.nodes.Int),
        st.booleans().map(schemathesis.graphql.nodes.Boolean),
    ),
)

EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture(params=["core", "sample", "loyalty"])
async def graphql_target(request, db, tenant, make_key, enable_plugins) -> dict[str, Any]:
    """A tenant with the module set under test, its owner key and the app."""
    if request.param != "core":
        await enable_plugins(tenant, request.param)
    key = await make_key(tenant)
    return {"app": create_app(db.settings, background=False), "key": key, "set": request.param}


def _fuzz(schema: Any, examples: int, call: Any) -> None:
    """Draw ``examples`` generated operations (across every operation of the schema) and call
    each. (schemathesis' own pytest loader does not run on this pytest; its strategies do.)"""

    @settings(EXAMPLES, max_examples=examples)
    @given(case=schema.as_strategy())
    def run(case: Any) -> None:
        call(case)

    run()


def test_graphql_never_fails_with_a_server_error(graphql_target):
    headers = {"Authorization": f"Bearer {graphql_target['key']}"}
    schema = schemathesis.graphql.from_asgi("/graphql", graphql_target["app"], headers=headers)
    operations = {"core": 9 + 15, "sample": 9 + 15 + 1, "loyalty": 9 + 15 + 8}  # roots
    assert len(list(schema.get_all_operations())) == operations[graphql_target["set"]]

    answered: list[str] = []

    def call(case: Any) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, response.text
        body = response.json()
        if body.get("data"):
            answered.append(case.operation.label)
        internal = [e for e in body.get("errors") or [] if e["extensions"]["code"] == "internal"]
        assert not internal, (case.body, body)

    _fuzz(schema, 200, call)
    assert len(set(answered)) >= 10  # the generated operations really executed, widely


def test_rest_never_fails_with_a_server_error(db):
    app = create_app(db.settings, background=False)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    headers = {"Authorization": f"Bearer {db.settings.admin_token}"}

    def call(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    _fuzz(schema, 150, call)
