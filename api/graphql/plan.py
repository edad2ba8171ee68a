"""Precompiled execution plans: a query seen before runs without graphql-core's generic executor.

graphql-core's executor works out, on every request, what the document asks for: it picks the
operation, collects and merges the selected fields (fragments, directives, deferred parts), looks
each field up in the schema, and decides per value how to complete it, with abort signals and
incremental delivery woven through. For an operation this schema has already validated, all of
that is known in advance. :func:`compile_plan` works it out once — the fields of every selection
set in order, merged as the spec merges them, each with its definition, resolver and a completion
for its type — and :meth:`Plan.run` only calls resolvers and builds the response.

What stays the same on this path, by construction:

* the resolvers are the ones graphql-core would call (strawberry's, with their field extensions:
  permissions, enablement, masking), with the same arguments (coerced by graphql-core's own
  ``get_argument_values``) and a ``GraphQLResolveInfo`` with the same content;
* variables are coerced by graphql-core's ``get_variable_values``, with the same errors;
* completion follows graphql-core's rules and messages: non-null violations, leaf coercion,
  lists (an iterable; items awaited together), ``is_type_of``, error location and propagation to
  the nearest nullable field (``CollectedErrors``, as graphql-core collects them);
* sibling fields and list items that await are awaited together, with graphql-core's
  ``gather_with_cancel`` and its one-awaitable shortcut, so DataLoader batches form exactly as
  they do on the generic path.

Only queries are planned, and only what can be decided without the variables: no directives
(``@skip``/``@include`` depend on them; ``@defer``/``@stream`` are incremental), no abstract
return types (the runtime type is only known from the value), no introspection fields, no
fragment variables. Anything else — and every mutation, whose root fields run serially and which
cannot be replayed to compare — stays on graphql-core's executor. ``MENDIAN_GRAPHQL_PLAN_CHECK``
makes :class:`~api.graphql.schema.ModuleSchema` answer each query both ways and record any
difference (the test suite runs with it on, so every query the suite sends is compared).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable
from contextlib import suppress
from typing import Any, TypeGuard

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    located_error,
)
from graphql.execution.executor import CollectedErrors
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path, Undefined, gather_with_cancel, inspect, is_iterable
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.execution import optimized_is_awaitable

__all__ = ["Plan", "compile_plan"]

MAX_COERCION_ERRORS = 50  # as graphql-core's execute
is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]] = optimized_is_awaitable  # type: ignore[assignment]


class Unplannable(Exception):
    """The operation needs something only the generic executor does (see the module doc)."""


class _Completion:
    """How a value of one output type is completed (one subclass per kind of type)."""

    __slots__ = ()

    def complete(
        self, run: _Run, field: _Field, info: GraphQLResolveInfo, path: Path, result: Any
    ) -> Any:
        """graphql-core's ``complete_value``: an exception returned is raised, null stays
        null, anything else is completed as the type says (:meth:`value`)."""
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            return None
        return self.value(run, field, info, path, result)

    def value(
        self, run: _Run, field: _Field, info: GraphQLResolveInfo, path: Path, result: Any
    ) -> Any:
        raise NotImplementedError


class _Leaf(_Completion):
    __slots__ = ("type",)

    def __init__(self, type_: GraphQLLeafType) -> None:
        self.type = type_

    def value(
        self, run: _Run, field: _Field, info: GraphQLResolveInfo, path: Path, result: Any
    ) -> Any:
        coerced = self.type.coerce_output_value(result)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(self.type)}.coerce_output_value({inspect(result)})` "
                f"to return non-nullable value, returned: {inspect(coerced)}"
            )
        return coerced


class _NonNull(_Completion):
    __slots__ = ("inner",)

    def __init__(self, inner: _Completion) -> None:
        self.inner = inner

    def complete(
        self, run: _Run, field: _Field, info: GraphQLResolveInfo, path: Path, result: Any
    ) -> Any:
        if isinstance(result, Exception):
            raise result
        completed = self.inner.complete(run, field, info, path, result)
        if completed is None:
            raise TypeError(
                f"Cannot return null for non-nullable field {info.parent_type}.{info.field_name}."
            )
        return completed


class _List(_Completion):
    __slots__ = ("item", "item_type")

    def __init__(self, item: _Completion, item_type: GraphQLOutputType) -> None:
        self.item = item
        self.item_type = item_type

    def value(
        self, run: _Run, field: _Field, info: GraphQLResolveInfo, path: Path, result: Any
    ) -> Any:
        if isinstance(result, AsyncIterable):
            return self._from_async(run, field, info, path, result)
        if not is_iterable(result):
            raise GraphQLError(
                "Expected Iterable, but did not find one for field "
                f"'{info.parent_type}.{info.field_name}'."
            )
        return self._items(run, field, info, path, result)

    async def _from_async(
        self, run: _Run, field: _Field, info: GraphQLResolveInfo, path: Path, result: Any
    ) -> Any:
        completed = self._items(run, field, info, path, [item async for item in result])
        return await completed if is_awaitable(completed) else completed

    def _items(
        self, run: _Run, field: _Field, info: GraphQLResolveInfo, path: Path, items: Any
    ) -> Any:
        completed: list[Any] = []
        pending: list[int] = []
        iterator = iter(items)
        try:
            for index, item in enumerate(iterator):
                item_path = path.add_key(index, None)
                if is_awaitable(item):
                    completed.append(self._awaited_item(run, field, info, item_path, item))
                    pending.append(index)
                    continue
                try:
                    value = self.item.complete(run, field, info, item_path, item)
                except Exception as raw:
                    run.field_error(raw, self.item_type, field, item_path)
                    value = None
                else:
                    if is_awaitable(value):
                        value = self._guarded(run, field, item_path, value)
                        pending.append(index)
                completed.append(value)
        except Exception:
            # what was started, and what the iterator still holds, is settled in the
            # background, as graphql-core does
            awaitables = [completed[i] for i in pending]
            with suppress(Exception):
                awaitables.extend(item for item in iterator if is_awaitable(item))
            if awaitables:
                run.plan.background(awaitables)
            raise
        if not pending:
            return completed
        return run.settle(completed, pending)

    async def _awaited_item(
        self, run: _Run, field: _Field, info: GraphQLResolveInfo, path: Path, item: Any
    ) -> Any:
        try:
            value = self.item.complete(run, field, info, path, await item)
            return await value if is_awaitable(value) else value
        except Exception as raw:
            run.field_error(raw, self.item_type, field, path)
            return None

    async def _guarded(self, run: _Run, field: _Field, path: Path, value: Awaitable[Any]) -> Any:
        try:
            return await value
        except Exception as raw:
            run.field_error(raw, self.item_type, field, path)
            return None


class _Object(_Completion):
    __slots__ = ("fields", "type")

    def __init__(self, type_: GraphQLObjectType) -> None:
        self.type = type_
        self.fields: list[_Field] = []  # filled in after construction (types may recurse)

    def value(
        self, run: _Run, field: _Field, info: GraphQLResolveInfo, path: Path, result: Any
    ) -> Any:
        is_type_of = self.type.is_type_of
        if is_type_of is not None:
            matches = is_type_of(result, info)
            if is_awaitable(matches):
                return self._checked_async(run, field, path, result, matches)
            if not matches:
                raise self._wrong_type(field, result)
        return run.fields(self.fields, result, path)

    async def _checked_async(
        self, run: _Run, field: _Field, path: Path, result: Any, matches: Awaitable[Any]
    ) -> Any:
        if not await matches:
            raise self._wrong_type(field, result)
        done = run.fields(self.fields, result, path)
        return await done if is_awaitable(done) else done

    def _wrong_type(self, field: _Field, result: Any) -> GraphQLError:
        return GraphQLError(
            f"Expected value of type '{self.type}' but got: {inspect(result)}.", field.nodes
        )


class _Field:
    """One response key of a selection set: its merged nodes, definition and completion."""

    __slots__ = (
        "completion",
        "definition",
        "has_args",
        "key",
        "name",
        "nodes",
        "parent",
        "resolve",
        "type",
    )

    def __init__(
        self,
        key: str,
        nodes: list[FieldNode],
        definition: GraphQLField,
        parent: GraphQLObjectType,
        completion: _Completion,
    ) -> None:
        self.key = key
        self.nodes = nodes
        self.name = nodes[0].name.value
        self.definition = definition
        self.parent = parent
        self.type = definition.type
        if definition.resolve is None:
            raise Unplannable(f"{parent.name}.{self.name} has no resolver")
        self.resolve = definition.resolve
        self.has_args = bool(definition.args or nodes[0].arguments)
        self.completion = completion


class _Run:
    """The state of one execution of a plan."""

    __slots__ = ("context", "errors", "helpers", "plan", "variables")

    def __init__(self, plan: Plan, context: Any, variables: Any) -> None:
        self.plan = plan
        self.context = context
        self.variables = variables
        self.errors = CollectedErrors()
        self.helpers = GraphQLResolveInfoHelpers(gather=self._gather, track=self._track)

    async def _gather(self, values: Any) -> list[Any]:
        return await gather_with_cancel(*values)

    def _track(self, values: Any) -> None:
        # graphql-core settles tracked work in the background; its errors are not the answer's
        self.plan.background(v for v in values if is_awaitable(v))

    def field_error(
        self, raw: Exception, type_: GraphQLOutputType, field: _Field, path: Path
    ) -> None:
        """graphql-core's ``handle_field_error``: locate; propagate past a non-null type."""
        error = located_error(raw, field.nodes, path.as_list())
        if is_non_null_type(type_):
            raise error
        self.errors.add(error, path)

    def fields(self, fields: list[_Field], source: Any, path: Path | None) -> Any:
        """The fields of one object, siblings that await awaited together."""
        results: dict[str, Any] = {}
        pending: list[str] = []
        try:
            for field in fields:
                value = self.field(field, source, Path(path, field.key, field.parent.name))
                results[field.key] = value
                if is_awaitable(value):
                    pending.append(field.key)
        except Exception:
            if pending:  # settled in the background, as graphql-core does
                self.plan.background(results[k] for k in pending)
            raise
        if not pending:
            return results
        return self.settle(results, pending)

    async def settle(self, results: Any, pending: list[Any]) -> Any:
        if len(pending) == 1:
            results[pending[0]] = await results[pending[0]]
        else:
            done = await gather_with_cancel(*(results[k] for k in pending))
            for k, value in zip(pending, done, strict=True):
                results[k] = value
        return results

    def field(self, field: _Field, source: Any, path: Path) -> Any:
        plan = self.plan
        info = GraphQLResolveInfo(
            field.name,
            field.nodes,
            field.type,
            field.parent,
            path,
            plan.schema,
            plan.fragments,
            None,
            plan.operation,
            self.variables,
            self.context,
            is_awaitable,
            None,
            self.helpers,
        )
        try:
            args = (
                get_argument_values(field.definition, field.nodes[0], self.variables)
                if field.has_args
                else {}
            )
            result = field.resolve(source, info, **args)
            if is_awaitable(result):
                return self._awaited(field, info, path, result)
            completed = field.completion.complete(self, field, info, path, result)
            if is_awaitable(completed):
                return self._guarded(field, path, completed)
        except Exception as raw:
            self.field_error(raw, field.type, field, path)
            return None
        return completed

    async def _awaited(
        self, field: _Field, info: GraphQLResolveInfo, path: Path, result: Any
    ) -> Any:
        try:
            completed = field.completion.complete(self, field, info, path, await result)
            return await completed if is_awaitable(completed) else completed
        except Exception as raw:
            self.field_error(raw, field.type, field, path)
            return None

    async def _guarded(self, field: _Field, path: Path, completed: Awaitable[Any]) -> Any:
        try:
            return await completed
        except Exception as raw:
            self.field_error(raw, field.type, field, path)
            return None


class Plan:
    """A query operation compiled against one schema."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        root: _Object,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.root = root
        self._background: set[Any] = set()

    def background(self, awaitables: Any) -> None:
        future = asyncio.gather(*awaitables, return_exceptions=True)
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    async def run(self, context: Any, raw_variables: dict[str, Any] | None) -> ExecutionResult:
        """Execute the plan: the same ``ExecutionResult`` graphql-core's ``execute`` gives."""
        variables = get_variable_values(
            self.schema,
            self.operation.variable_definitions or (),
            raw_variables or {},
            max_errors=MAX_COERCION_ERRORS,
        )
        if isinstance(variables, list):
            return ExecutionResult(data=None, errors=variables)
        run = _Run(self, context, variables)
        data: Any
        try:
            data = run.fields(self.root.fields, None, None)
            if is_awaitable(data):
                data = await data
        except GraphQLError as error:
            run.errors.add(error, None)
            data = None
        return ExecutionResult(data, run.errors.errors or None)


def compile_plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> Plan | None:
    """The plan of ``document``'s query operation, or ``None`` where the generic executor must
    run it (a mutation, a directive, an abstract type, introspection; see the module doc)."""
    try:
        return _Compiler(schema, document, operation_name).plan()
    except (Unplannable, RecursionError):
        return None


class _Compiler:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
    ) -> None:
        self.schema = schema
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        operation: OperationDefinitionNode | None = None
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                if operation_name is None:
                    if operation is not None:
                        raise Unplannable("several operations and no name")
                    operation = definition
                elif definition.name and definition.name.value == operation_name:
                    operation = definition
            elif isinstance(definition, FragmentDefinitionNode):
                if definition.variable_definitions or definition.directives:
                    raise Unplannable("fragment variables or directives")
                self.fragments[definition.name.value] = definition
        if operation is None or operation.operation != OperationType.QUERY:
            raise Unplannable("not a query")
        if operation.directives:
            raise Unplannable("operation directives")
        self.operation = operation

    def plan(self) -> Plan:
        root_type = self.schema.query_type
        if root_type is None:
            raise Unplannable("no query type")
        root = _Object(root_type)
        root.fields = self._fields(root_type, [self.operation.selection_set])
        return Plan(self.schema, self.operation, self.fragments, root)

    def _fields(
        self, parent: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> list[_Field]:
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._collect(parent, selection_set, grouped, visited)
        fields = []
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            if name in ("__schema", "__type"):
                raise Unplannable("introspection")
            definition = self.schema.get_field(parent, name)
            if definition is None:
                raise Unplannable(f"unknown field {parent.name}.{name}")
            children = [n.selection_set for n in nodes if n.selection_set is not None]
            completion = self._completion(definition.type, children)
            fields.append(_Field(key, nodes, definition, parent, completion))
        return fields

    def _collect(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        """graphql-core's ``collect_fields`` for a concrete type and no directives."""
        for selection in selection_set.selections:
            if selection.directives:
                raise Unplannable("directives")
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(parent, selection.type_condition):
                    self._collect(parent, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments.get(name)
                if fragment is None:
                    raise Unplannable(f"unknown fragment {name}")
                if self._applies(parent, fragment.type_condition):
                    self._collect(parent, fragment.selection_set, grouped, visited)

    def _applies(self, parent: GraphQLObjectType, condition: Any) -> bool:
        """graphql-core's ``does_fragment_condition_match``."""
        if condition is None:
            return True
        named = self.schema.get_type(condition.name.value)
        if named is parent:
            return True
        if is_abstract_type(named):
            return bool(self.schema.is_sub_type(named, parent))
        return False

    def _completion(
        self, type_: GraphQLOutputType, children: list[SelectionSetNode]
    ) -> _Completion:
        if is_non_null_type(type_):
            assert isinstance(type_, GraphQLNonNull)
            return _NonNull(self._completion(type_.of_type, children))
        if is_list_type(type_):
            assert isinstance(type_, GraphQLList)
            return _List(self._completion(type_.of_type, children), type_.of_type)
        if is_leaf_type(type_):
            return _Leaf(type_)
        if is_object_type(type_):
            assert isinstance(type_, GraphQLObjectType)
            target = _Object(type_)
            target.fields = self._fields(type_, children)
            return target
        raise Unplannable(f"abstract type {type_}")
