"""Query cost (API-4): estimated before execution, refused above the tenant's limit, reported.

Each selected field costs 1; a field with a ``first`` argument multiplies the cost of what it
selects by ``first`` (a page of 100 customers with 5 fields costs 1 + 100 * 5). Fragments count
where they are spread. The cost and the limit are reported in ``extensions.cost``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

__all__ = ["CostLimit", "query_cost"]

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


def _cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    seen: frozenset[str],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            inner = _cost(selection.selection_set, fragments, variables, seen)
            total += 1 + _first(selection, variables) * inner
        elif isinstance(selection, InlineFragmentNode):
            total += _cost(selection.selection_set, fragments, variables, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                total += _cost(fragment.selection_set, fragments, variables, seen | {name})
    return total


def _operations(document: DocumentNode, name: str | None) -> Iterator[OperationDefinitionNode]:
    for d in document.definitions:
        if isinstance(d, OperationDefinitionNode) and (
            name is None or (d.name and d.name.value == name)
        ):
            yield d


def query_cost(
    document: DocumentNode, variables: dict[str, Any] | None = None, operation: str | None = None
) -> int:
    """The estimated cost of the operation to run (the costliest one when unnamed)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    costs = [
        _cost(op.selection_set, fragments, variables or {}, frozenset())
        for op in _operations(document, operation)
    ]
    return max(costs, default=0)


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
        self.cost = query_cost(ec.graphql_document, ec.variables, ec.operation_name)
        if self.limit is not None and self.cost > self.limit:
            ec.pre_execution_errors = [cost_error(self.cost, self.limit)]
        yield

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"requested": self.cost, "limit": self.limit}}
