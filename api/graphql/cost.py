"""Query cost (API-4): estimated before execution, refused above the tenant's limit, reported.

Each selected field costs 1; a field with a ``first`` argument multiplies the cost of what it
selects by ``first`` (a page of 100 customers with 5 fields costs 1 + 100 * 5). Fragments count
where they are spread; each fragment is costed once per request (memoised), and counting stops
as soon as the limit is passed, so the check costs time in proportion to the document's size,
never to its expansion. The cost and the limit are reported in ``extensions.cost`` (past the
limit: the cost counted when it was passed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

from api.graphql.limits import FragmentMemo

__all__ = ["CostLimit", "CostOf", "query_cost"]

DEFAULT_PAGE = 20


def _first(node: FieldNode, variables: dict[str, Any]) -> int:
    for arg in node.arguments or ():
        if arg.name.value != "first":
            continue
        if isinstance(arg.value, IntValueNode):
            return max(int(arg.value.value), 1)
        if isinstance(arg.value, VariableNode):
            value = variables.get(arg.value.name.value)
            return max(value, 1) if isinstance(value, int) else DEFAULT_PAGE
        return DEFAULT_PAGE
    return 1


class _TooCostly(Exception):
    """The limit is passed: stop counting (``cost`` is what was counted so far)."""

    def __init__(self, cost: int) -> None:
        self.cost = cost


class _Costing:
    """One costing of one document: each fragment's cost computed once (the cost of a
    selection set does not depend on where it is spread), stopping as soon as the limit is
    passed."""

    def __init__(
        self, document: DocumentNode, variables: dict[str, Any], limit: int | None
    ) -> None:
        self.variables = variables
        self.limit = limit
        self.memo = FragmentMemo(document, lambda selection_set, _memo: self.cost(selection_set))

    def check(self, cost: int) -> int:
        if self.limit is not None and cost > self.limit:
            raise _TooCostly(cost)
        return cost

    def cost(self, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                inner = self.cost(selection.selection_set)
                total += 1 + _first(selection, self.variables) * inner
            elif isinstance(selection, InlineFragmentNode):
                total += self.cost(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.memo.spread(selection.name.value)
            self.check(total)
        return total


def _operations(document: DocumentNode, name: str | None) -> Iterator[OperationDefinitionNode]:
    for d in document.definitions:
        if isinstance(d, OperationDefinitionNode) and (
            name is None or (d.name and d.name.value == name)
        ):
            yield d


def query_cost(
    document: DocumentNode,
    variables: dict[str, Any] | None = None,
    operation: str | None = None,
    *,
    limit: int | None = None,
) -> int:
    """The estimated cost of the operation to run (the costliest one when unnamed). With a
    ``limit``, counting stops once it is passed: the answer is then the cost counted so far
    (more than ``limit``, not necessarily all of it)."""
    costing = _Costing(document, variables or {}, limit)
    try:
        return max(
            (costing.cost(op.selection_set) for op in _operations(document, operation)),
            default=0,
        )
    except _TooCostly as exc:
        return exc.cost


def _first_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables a ``first`` argument anywhere in the document takes its value from."""
    names: set[str] = set()
    pending: list[SelectionSetNode] = [
        d.selection_set for d in document.definitions if hasattr(d, "selection_set")
    ]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                for arg in selection.arguments or ():
                    if arg.name.value == "first" and isinstance(arg.value, VariableNode):
                        names.add(arg.value.name.value)
            inner = getattr(selection, "selection_set", None)
            if inner is not None:
                pending.append(inner)
    return tuple(sorted(names))


class CostOf:
    """:func:`query_cost` of one prepared operation, remembered by what it depends on: the
    limit and the values of the variables its ``first`` arguments take (a look-up without
    pages costs the same every time, and is counted once)."""

    MEMO = 64  # variable values remembered per operation

    def __init__(self, document: DocumentNode, operation: str | None) -> None:
        self.document = document
        self.operation = operation
        self.names = _first_variables(document)
        self.known: dict[tuple[Any, ...], int] = {}

    def __call__(self, variables: dict[str, Any] | None, limit: int | None) -> int:
        given = variables or {}
        # what _first makes of a value: an int counts as itself, anything else as the default
        key = (limit, *(v if isinstance(v := given.get(n), int) else None for n in self.names))
        found = self.known.get(key)
        if found is None:
            if len(self.known) >= self.MEMO:
                self.known.clear()
            found = self.known[key] = query_cost(
                self.document, variables, self.operation, limit=limit
            )
        return found


def cost_error(cost: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"query cost {cost} exceeds the limit of {limit}", extensions={"code": "query_too_costly"}
    )


class CostLimit(SchemaExtension):
    """Refuses operations costlier than the request's limit; reports the cost."""

    cost: int | None = None
    limit: int | None = None

    def on_validate(self) -> Iterator[None]:
        # Runs after ``ValidationCache`` validated the document (listed before this extension):
        # strawberry checks ``pre_execution_errors`` before the extensions resume after yield.
        ec = self.execution_context
        if (
            ec.pre_execution_errors is None
            or ec.pre_execution_errors
            or ec.graphql_document is None
        ):
            yield
            return
        self.limit = getattr(ec.context, "cost_limit", None)
        self.cost = query_cost(
            ec.graphql_document, ec.variables, ec.operation_name, limit=self.limit
        )
        if self.limit is not None and self.cost > self.limit:
            ec.pre_execution_errors = [cost_error(self.cost, self.limit)]
        yield

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"requested": self.cost, "limit": self.limit}}
