"""Document limits checked during validation (API-4): fragments, depth, aliases and literals.

Every walk here visits each fragment definition once and remembers what it found (its depth,
its aliases, the spreads it expands to), so a document costs time in proportion to its size,
never to its expansion. strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` walk a
fragment again at every spread: 21 fragments each spreading the next twice (800 bytes) made
them walk 2^21 selections — seconds of CPU during which the worker answered nobody.

A fragment spread inside a cycle counts as nothing here; ``NoFragmentCycles`` (one of
graphql-core's rules, which run beside these) refuses the document anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
    ValueNode,
    VariableDefinitionNode,
    VisitorAction,
)
from graphql.language.visitor import SKIP
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from core.validation import MAX_NESTING

__all__ = [
    "MAX_FRAGMENTS",
    "MAX_FRAGMENT_SPREADS",
    "REQUEST_ERRORS",
    "FragmentMemo",
    "OperationChoice",
    "limit_rules",
    "request_error",
]

MAX_FRAGMENTS = 100  # fragment definitions in one document
MAX_FRAGMENT_SPREADS = 500  # fragment spreads one operation expands to, counted where reached

_BUSY = -1  # a fragment being walked: a spread of it now is a cycle


class FragmentMemo:
    """One value per fragment of ``document``, computed once by ``measure`` (a fragment's
    selection set → its value, calling :meth:`spread` for the spreads inside)."""

    def __init__(
        self, document: DocumentNode, measure: Callable[[SelectionSetNode, FragmentMemo], int]
    ) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measure = measure
        self.values: dict[str, int] = {}

    def spread(self, name: str) -> int:
        value = self.values.get(name)
        if value is not None:
            return max(value, 0)
        fragment = self.fragments.get(name)
        if fragment is None:
            return 0  # unknown: KnownFragmentNames reports it
        self.values[name] = _BUSY
        value = self.measure(fragment.selection_set, self)
        self.values[name] = value
        return value


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def _spreads(selection_set: SelectionSetNode | None, memo: FragmentMemo) -> int:
    if selection_set is None:
        return 0
    total = 0
    for s in selection_set.selections:
        if isinstance(s, FragmentSpreadNode):
            total += 1 + memo.spread(s.name.value)
        elif isinstance(s, (FieldNode, InlineFragmentNode)):
            total += _spreads(s.selection_set, memo)
    return total


def _depth(selection_set: SelectionSetNode | None, memo: FragmentMemo) -> int:
    """Levels of fields with sub-selections below here (introspection fields excluded), as
    strawberry's limiter counts them: ``{ a { b } }`` has depth 1."""
    if selection_set is None:
        return 0
    deepest = 0
    for s in selection_set.selections:
        if isinstance(s, FieldNode):
            if s.name.value.startswith("__") or s.selection_set is None:
                continue
            deepest = max(deepest, 1 + _depth(s.selection_set, memo))
        elif isinstance(s, InlineFragmentNode):
            deepest = max(deepest, _depth(s.selection_set, memo))
        elif isinstance(s, FragmentSpreadNode):
            deepest = max(deepest, memo.spread(s.name.value))
    return deepest


def _aliases(selection_set: SelectionSetNode | None, memo: FragmentMemo) -> int:
    """Aliased fields, counted through fragments (a fragment spread twice counts twice)."""
    if selection_set is None:
        return 0
    total = 0
    for s in selection_set.selections:
        if isinstance(s, FieldNode):
            total += (1 if s.alias else 0) + _aliases(s.selection_set, memo)
        elif isinstance(s, InlineFragmentNode):
            total += _aliases(s.selection_set, memo)
        elif isinstance(s, FragmentSpreadNode):
            total += memo.spread(s.name.value)
    return total


def _literal_problem(value: ValueNode, field: str) -> tuple[str, str] | None:
    """``(field, message)`` for a NUL in a string literal or a literal nested too deep (the
    same rule as :func:`core.validation.check_input` applies to variables)."""
    stack: list[tuple[ValueNode, str, int]] = [(value, field, 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, StringValueNode):
            if "\x00" in node.value:
                return path, "text must not contain NUL characters"
        elif isinstance(node, (ListValueNode, ObjectValueNode)):
            if depth >= MAX_NESTING:
                return path, f"input nested deeper than {MAX_NESTING} levels"
            if isinstance(node, ListValueNode):
                stack.extend((v, f"{path}.{i}", depth + 1) for i, v in enumerate(node.values))
            else:
                stack.extend((f.value, f"{path}.{f.name.value}", depth + 1) for f in node.fields)
    return None


class LiteralInput(ValidationRule):
    """Literal arguments and variable defaults meet the rule variables meet at the HTTP edge:
    no NUL characters, no deeper than ``MAX_NESTING`` (``invalid_input`` on the field)."""

    def _check(self, value: ValueNode | None, field: str) -> None:
        problem = _literal_problem(value, field) if value is not None else None
        if problem is not None:
            self.report_error(
                GraphQLError(
                    problem[1],
                    value,
                    extensions={"code": "invalid_input", "field": problem[0]},
                )
            )

    def enter_argument(self, node: ArgumentNode, *_args: object) -> VisitorAction:
        self._check(node.value, node.name.value)
        return SKIP

    def enter_variable_definition(
        self, node: VariableDefinitionNode, *_args: object
    ) -> VisitorAction:
        self._check(node.default_value, node.variable.name.value)
        return SKIP


def limit_rules(*, max_depth: int, max_aliases: int) -> tuple[type[ValidationRule], ...]:
    """The validation rules for these limits (built once: graphql-core's validation cache is
    keyed by the rule classes)."""

    class FragmentLimit(ValidationRule):
        """At most ``MAX_FRAGMENTS`` fragments, each operation expanding at most
        ``MAX_FRAGMENT_SPREADS`` spreads."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            memo = FragmentMemo(document, _spreads)
            if len(memo.fragments) > MAX_FRAGMENTS:
                context.report_error(
                    GraphQLError(
                        f"{len(memo.fragments)} fragments found. Allowed: {MAX_FRAGMENTS}",
                        extensions={"code": "query_too_complex"},
                    )
                )
                return
            for op in _operations(document):
                spreads = _spreads(op.selection_set, memo)
                if spreads > MAX_FRAGMENT_SPREADS:
                    context.report_error(
                        GraphQLError(
                            f"the operation expands to {spreads} fragment spreads. "
                            f"Allowed: {MAX_FRAGMENT_SPREADS}",
                            [op],
                            extensions={"code": "query_too_complex"},
                        )
                    )

    class DepthLimit(ValidationRule):
        """At most ``max_depth`` levels, through fragments (strawberry's message)."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            memo = FragmentMemo(context.document, _depth)
            for op in _operations(context.document):
                if _depth(op.selection_set, memo) > max_depth:
                    name = op.name.value if op.name else "anonymous"
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}", [op]
                        )
                    )

    class AliasLimit(ValidationRule):
        """At most ``max_aliases`` aliases in the document, through fragments."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            memo = FragmentMemo(context.document, _aliases)
            total = sum(_aliases(op.selection_set, memo) for op in _operations(context.document))
            if total > max_aliases:
                context.report_error(GraphQLError(f"{total} aliases found. Allowed: {max_aliases}"))

    return LiteralInput, FragmentLimit, DepthLimit, AliasLimit


class OperationChoice(SchemaExtension):
    """A document with several operations needs ``operationName`` (GraphQL spec, "GetOperation"):
    strawberry would run the first one. (An ``operationName`` the document lacks is refused in
    ``ModuleSchema.run``: strawberry raises before validation.)"""

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        document = ec.graphql_document
        # ``operation_name`` falls back to the first operation's name: ask what the client sent.
        provided = getattr(ec, "_provided_operation_name", None)
        if (
            not ec.pre_execution_errors
            and document is not None
            and provided is None
            and len(_operations(document)) > 1
        ):
            ec.pre_execution_errors = [
                GraphQLError("Must provide operation name if query contains multiple operations.")
            ]
        yield


# What strawberry raises (instead of answering) before validation: the client's mistakes.
REQUEST_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


def request_error(exc: Exception, operation_name: str | None) -> GraphQLError:
    """One of :data:`REQUEST_ERRORS` as the GraphQL error the client gets."""
    if isinstance(exc, MissingQueryError):
        return GraphQLError("the request has no query")
    if isinstance(exc, InvalidOperationTypeError):
        return GraphQLError(f"{exc.operation_type.value} operations are not supported")
    if operation_name is None:
        return GraphQLError("the document contains no operation")
    return GraphQLError(f"Unknown operation named '{operation_name}'.")
