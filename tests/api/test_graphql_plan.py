"""Precompiled plans (issue 16) answer exactly as graphql-core's executor: the same data, the
same errors (message, path, locations), the same null propagation, the same DataLoader batches —
checked here on a schema built to exercise each rule, and across the suite by the plan check
(``MENDIAN_GRAPHQL_PLAN_CHECK``, on in every test run)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, GraphQLError, execute, parse
from strawberry.dataloader import DataLoader

from api.graphql import plan_check
from api.graphql.plan import compile_plan

BATCHES: list[list[int]] = []


async def _load(keys: list[int]) -> list[int]:
    BATCHES.append(list(keys))
    return [k * 10 for k in keys]


@strawberry.type
class Item:
    n: int
    label: str | None = None

    @strawberry.field
    async def score(self, info: strawberry.Info) -> int:
        loader: DataLoader[int, int] = info.context["loader"]
        return await loader.load(self.n)

    @strawberry.field
    def must(self) -> str:
        return None  # type: ignore[return-value]  # a non-null field answering null

    @strawberry.field
    async def fails(self) -> str | None:
        raise ValueError(f"item {self.n} failed")

    @strawberry.field
    async def fails_hard(self) -> str:
        raise ValueError(f"item {self.n} failed hard")

    @strawberry.field
    def twice(self, by: int = 2, suffix: str = "") -> str:
        return f"{self.n * by}{suffix}"


@strawberry.type
class Box:
    @strawberry.field
    def items(self, count: int) -> list[Item]:
        return [Item(n=i, label=f"#{i}" if i % 2 else None) for i in range(count)]

    @strawberry.field
    async def strict_items(self) -> list[Item]:
        return [Item(n=1), Item(n=2)]

    @strawberry.field
    def lazy(self) -> list[int | None]:
        async def value(i: int) -> int:
            await asyncio.sleep(0)
            if i == 1:
                raise ValueError("no one")
            return i

        return [value(i) for i in range(3)]  # type: ignore[misc]  # awaitable items

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 5  # type: ignore[return-value]


@strawberry.type
class Query:
    @strawberry.field
    def box(self) -> Box:
        return Box()

    @strawberry.field
    def maybe_box(self) -> Box | None:
        return Box()

    @strawberry.field
    def greeting(self, name: str, times: int = 1) -> str:
        return " ".join([f"hello {name}"] * times)

    @strawberry.field
    def wrong(self) -> Item | None:
        return Box()  # type: ignore[return-value]  # not an Item: is_type_of refuses it

    @strawberry.field
    def tracked(self, info: strawberry.Info) -> str:
        async def later() -> None:
            raise ValueError("side work failed")

        info._raw_info.async_helpers.track([later()])  # settled aside; not the answer's error
        return "ok"

    @strawberry.field
    def boom(self) -> str:
        raise GraphQLError("the root is gone")


SCHEMA = strawberry.Schema(query=Query)._schema

QUERIES = [
    ("{ box { items(count: 3) { n label score twice } } }", None),
    ("query($c: Int!) { box { items(count: $c) { n score } } }", {"c": 5}),
    ("query($c: Int!) { box { items(count: $c) { n } } }", {"c": "x"}),  # bad variable
    ("query($c: Int!) { box { items(count: $c) { n } } }", {}),  # missing variable
    ("{ box { items(count: 2) { n fails } } }", None),
    ("{ box { items(count: 2) { n failsHard } } }", None),  # no nullable parent: data null
    ("{ maybeBox { items(count: 2) { n failsHard } } }", None),
    ("{ maybeBox { items(count: 2) { must } } }", None),
    ("{ maybeBox { strictItems { n failsHard } } }", None),
    ("{ box { lazy notAList } }", None),
    ('{ wrong { n } greeting(name: "a") }', None),
    ('{ boom greeting(name: "b") }', None),
    ("{ tracked }", None),
    ('{ a: greeting(name: "x") b: greeting(name: "y", times: 2) __typename }', None),
    (
        'query Q($by: Int) { box { ...F items(count: 2) { t: twice(by: $by, suffix: "!") } } }'
        " fragment F on Box { items(count: 2) { n ... on Item { label } } }",
        {"by": 3},
    ),
    ('query A { greeting(name: "a") } query B { greeting(name: "b") }', None),
]


def _answer(result: ExecutionResult) -> Any:
    errors = sorted(
        (e.message, tuple(e.path or ()), tuple((loc.line, loc.column) for loc in e.locations or ()))
        for e in result.errors or ()
    )
    return result.data, errors


async def _both(query: str, variables: dict[str, Any] | None, name: str | None = None) -> Any:
    document = parse(query)
    plan = compile_plan(SCHEMA, document, name)
    assert plan is not None, query
    BATCHES.clear()
    planned = await plan.run({"loader": DataLoader(load_fn=_load)}, variables)
    planned_batches = list(BATCHES)
    BATCHES.clear()
    outcome = execute(
        SCHEMA,
        document,
        variable_values=variables,
        operation_name=name,
        context_value={"loader": DataLoader(load_fn=_load)},
    )
    generic = await outcome if asyncio.iscoroutine(outcome) else outcome
    assert isinstance(generic, ExecutionResult)
    return _answer(planned), _answer(generic), planned_batches, list(BATCHES)


@pytest.mark.parametrize(("query", "variables"), QUERIES)
async def test_a_plan_answers_as_graphql_core(query: str, variables: dict[str, Any] | None) -> None:
    name = "B" if "query B" in query else None
    planned, generic, planned_batches, generic_batches = await _both(query, variables, name)
    assert planned == generic
    assert planned_batches == generic_batches  # DataLoader batches form the same way


async def test_the_rules_the_plan_keeps() -> None:
    """A few answers spelled out, so the comparison is not between two wrong executors."""
    planned, _generic, batches, _ = await _both(
        "{ box { items(count: 3) { n label score } } }", None
    )
    assert planned == (
        {
            "box": {
                "items": [
                    {"n": 0, "label": None, "score": 0},
                    {"n": 1, "label": "#1", "score": 10},
                    {"n": 2, "label": None, "score": 20},
                ]
            }
        },
        [],
    )
    assert batches == [[0, 1, 2]]  # one batch for the three items
    planned, *_ = await _both("{ maybeBox { items(count: 2) { n failsHard } } }", None)
    # a non-null field's error nulls the nearest nullable parent, and only the first error
    # inside a nulled position is reported (graphql-core's CollectedErrors)
    assert planned == (
        {"maybeBox": None},
        [("item 0 failed hard", ("maybeBox", "items", 0, "failsHard"), ((1, 34),))],
    )
    planned, *_ = await _both("{ box { items(count: 2) { n failsHard } } }", None)
    assert planned == (  # no nullable parent: the whole data is null
        None,
        [("item 0 failed hard", ("box", "items", 0, "failsHard"), ((1, 29),))],
    )
    planned, *_ = await _both("{ box { lazy } }", None)
    assert planned == (
        {"box": {"lazy": [0, None, 2]}},
        [("no one", ("box", "lazy", 1), ((1, 9),))],
    )


@pytest.mark.parametrize(
    "query",
    [
        "mutation { x }",
        "{ box @skip(if: false) { items(count: 1) { n } } }",
        "query($s: Boolean!) { box { items(count: 1) @include(if: $s) { n } } }",
        "{ __schema { queryType { name } } }",
        '{ __type(name: "Item") { name } }',
    ],
)
def test_what_only_the_generic_executor_runs(query: str) -> None:
    assert compile_plan(SCHEMA, parse(query), None) is None


async def test_the_check_reports_a_difference() -> None:
    """The plan check itself can fail: a difference seen twice is recorded; one that does not
    come back when both paths answer again right away (the clock moved) is not."""
    plan_check.mismatches.clear()
    right = ExecutionResult({"a": 1}, None)

    def result(value: int) -> Any:
        async def answer() -> ExecutionResult:
            return ExecutionResult({"a": value}, None)

        return answer()

    async def agree() -> tuple[ExecutionResult, ExecutionResult]:
        return await result(3), await result(3)

    async def differ() -> tuple[ExecutionResult, ExecutionResult]:
        return await result(1), await result(2)

    await plan_check.compare("{ a }", right, result(1), differ)
    assert plan_check.mismatches == []
    await plan_check.compare("{ a }", right, result(2), agree)  # straddled a second: fine
    assert plan_check.mismatches == []
    await plan_check.compare("{ a }", right, result(2), differ)
    assert len(plan_check.mismatches) == 1 and "{ a }" in plan_check.mismatches[0]
    plan_check.mismatches.clear()
