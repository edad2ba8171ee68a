"""One GraphQL schema per enabled-module set (API-1), built once and cached.

Each :class:`SchemaRegistry` (one per plugin registry, i.e. per app) gathers every installed
plugin's ``register_graphql`` contributions into its own table of extra fields per extension
point (``Query``, ``Mutation``, ``Customer``, ``Store``, ``Purchase``), each tagged with its
plugin. The core's classes are never changed: a :class:`ModuleSchema` adds the extra fields of
its module set when strawberry asks it for a type's fields (``Schema.get_fields``), so two
registries in one process (different installed sets) do not interfere, and a disabled module is
absent from validation and introspection. Tagged fields also check enablement when resolved
(defence in depth). Names are checked before any schema is built: a root field, an extension
field or a type that two owners (the core or plugins) contribute fails startup naming both.

Only the plugins that contribute GraphQL distinguish schemas, so a handful of schemas serve
every tenant. Building is synchronous (no await): concurrent requests cannot race on the cache.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Iterator
from decimal import Decimal
from inspect import isawaitable
from types import SimpleNamespace
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    parse,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import execute as graphql_execute
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import (
    AddValidationRules,
    FieldExtension,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult
from strawberry.types.base import StrawberryContainer, StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.utils.str_converters import to_camel_case

from api.graphql import plan_check
from api.graphql.cost import CostLimit, CostOf, cost_error
from api.graphql.limits import REQUEST_ERRORS, OperationChoice, limit_rules, request_error
from api.graphql.operations import CORE_NODES, CoreMutation, CoreQuery, PublicMutation, PublicQuery
from api.graphql.plan import Plan, compile_plan
from core.errors import Forbidden, MendianError
from core.graphql import (
    EXTENSION_POINTS,
    Customer,
    GraphQLContribution,
    NodeResolver,
    Purchase,
    RequestContext,
    Store,
    context_of,
)
from core.graphql.kit import DECIMAL
from core.plugins import PluginRegistry

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_TOKENS",
    "GraphQLContributionError",
    "ModuleSchema",
    "SchemaRegistry",
]

log = logging.getLogger("mendian.graphql")

PLUGIN_KEY = "mendian_plugin"
MAX_DEPTH = 12
MAX_TOKENS = 4000
MAX_ALIASES = 30
PREPARED_OPERATIONS = 1024  # per schema: operations run through every check once
_POINTS: dict[str, Any] = {"Customer": Customer, "Store": Store, "Purchase": Purchase}
assert set(_POINTS) == set(EXTENSION_POINTS)


class GraphQLContributionError(RuntimeError):
    """A plugin's GraphQL contribution cannot be installed (a name clash, an unknown target)."""


class PluginEnabled(FieldExtension):
    """Refuses a plugin field when the plugin is not enabled for the caller (defence in depth:
    the field should not even be in the caller's schema)."""

    def __init__(self, plugin_id: str) -> None:
        super().__init__()
        self.plugin_id = plugin_id

    def _check(self, info: Any) -> None:
        if self.plugin_id not in context_of(info).enabled:
            raise Forbidden(f"module {self.plugin_id!r} is not enabled", code="module_disabled")

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        self._check(info)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        self._check(info)
        return await next_(source, info, **kwargs)


def _owner(f: StrawberryField) -> str | None:
    owner = dict(f.metadata or {}).get(PLUGIN_KEY)
    return str(owner) if owner is not None else None


def _definition(cls: Any) -> StrawberryObjectDefinition:
    definition = cls.__strawberry_definition__
    assert isinstance(definition, StrawberryObjectDefinition)
    return definition


def _tagged(cls: Any, plugin_id: str, name: str, original: Any, *, check: bool) -> StrawberryField:
    """A copy of a contributed field, named, owned by ``plugin_id``, for type ``cls``."""
    if not isinstance(original, StrawberryField) or original.base_resolver is None:
        raise GraphQLContributionError(
            f"plugin {plugin_id!r}: {name!r} must be strawberry.field(resolver=…) "
            "or strawberry.mutation(resolver=…)"
        )
    f = copy.copy(original)
    f.python_name = name
    f.name = name
    f.origin = cls
    f.metadata = {**(original.metadata or {}), PLUGIN_KEY: plugin_id}  # type: ignore[assignment]
    f.extensions = [*original.extensions, *([PluginEnabled(plugin_id)] if check else [])]
    return f


def _types_reached(field: StrawberryField) -> Iterator[Any]:
    """The object/input/enum classes a field's type and arguments name (unwrapping lists,
    optionals and lazy types; a generic's specialization, ``Connection[X]``, is named after its
    item, so its own fields are walked instead)."""
    pending: list[Any] = [field.type, *(a.type for a in field.arguments)]
    seen: set[int] = set()
    while pending:
        t = pending.pop()
        if isinstance(t, LazyType):
            t = t.resolve_type()
        if isinstance(t, StrawberryContainer):
            pending.append(t.of_type)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        definition = getattr(t, "__strawberry_definition__", None)
        if definition is None:
            continue
        if getattr(definition, "concrete_of", None) is not None:  # Connection[X]: walk X
            pending.extend(getattr(definition, "type_var_map", {}).values())
            continue
        yield t


def _graphql_name(t: Any) -> str | None:
    definition = getattr(t, "__strawberry_definition__", None)
    name = getattr(definition, "name", None)
    return str(name) if name else None


class ModuleSchema(strawberry.Schema):
    """A schema showing the core plus the fields of ``modules``: ``extra`` maps a core class
    to the plugin fields its registry holds for it; ``nodes`` the plugins' ``node`` loaders."""

    def __init__(
        self,
        modules: frozenset[str],
        *,
        extra: dict[Any, list[StrawberryField]] | None = None,
        nodes: dict[str, tuple[str, NodeResolver]] | None = None,
        **kwargs: Any,
    ) -> None:
        self.modules = modules
        self._extra = extra or {}
        self._nodes = nodes or {}
        self._prepared: dict[tuple[str, str | None], tuple[DocumentNode, CostOf, Plan | None]] = {}
        kwargs.setdefault("scalar_overrides", {Decimal: DECIMAL})  # strict digits (issue 17)
        super().__init__(**kwargs)

    def node_loader(self, type_name: str) -> NodeResolver | None:
        """How ``node(id:)`` loads a plugin type, if its plugin is in this schema's set."""
        found = self._nodes.get(type_name)
        return found[1] if found is not None and found[0] in self.modules else None

    async def run(
        self,
        query: str,
        variables: dict[str, Any] | None,
        context: RequestContext,
        operation_name: str | None,
    ) -> ExecutionResult:
        """:meth:`execute`, with a fast path for an operation this schema has already run
        through every check: the first time, strawberry parses, validates (depth, aliases,
        tokens, introspection) and costs it, and the operation is compiled into a
        :class:`~api.graphql.plan.Plan`; after that the plan runs it (graphql-core's executor
        where no plan can be made, see :mod:`api.graphql.plan`). The cost, which depends on
        the variables, is checked each time, with the same error and the same
        ``extensions.cost`` as the full path."""
        key = (query, operation_name)
        prepared = self._prepared.get(key)
        if prepared is None:
            try:
                result = await self.execute(
                    query,
                    variable_values=variables,
                    context_value=context,
                    operation_name=operation_name,
                )
            except REQUEST_ERRORS as exc:  # raised by strawberry before validation
                return ExecutionResult(data=None, errors=[request_error(exc, operation_name)])
            if result.data is not None and "cost" in (result.extensions or {}):
                if len(self._prepared) >= PREPARED_OPERATIONS:
                    del self._prepared[next(iter(self._prepared))]
                document = parse(query)
                plan = compile_plan(self._schema, document, operation_name)
                self._prepared[key] = (document, CostOf(document, operation_name), plan)
                if plan is not None and plan_check.enabled:
                    compiled = plan
                    await plan_check.compare(
                        query,
                        result,
                        compiled.run(_fresh(context), variables),
                        lambda: self._both(compiled, document, variables, context, operation_name),
                    )
            return result
        document, cost_of, plan = prepared
        cost = cost_of(variables, context.cost_limit)
        extensions = {"cost": {"requested": cost, "limit": context.cost_limit}}
        if context.cost_limit is not None and cost > context.cost_limit:
            return ExecutionResult(
                data=None, errors=[cost_error(cost, context.cost_limit)], extensions=extensions
            )
        if plan is not None:
            done = await plan.run(context, variables)
            if plan_check.enabled:
                await plan_check.compare(
                    query,
                    done,
                    self._generic(document, variables, _fresh(context), operation_name),
                    lambda: self._both(plan, document, variables, context, operation_name),
                )
        else:
            done = await self._generic(document, variables, context, operation_name)
        if done.errors:
            self.process_errors(done.errors, SimpleNamespace(context=context))
        return ExecutionResult(data=done.data, errors=done.errors, extensions=extensions)

    async def _both(
        self,
        plan: Plan,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        context: RequestContext,
        operation_name: str | None,
    ) -> tuple[Any, Any]:
        """The plan's answer and graphql-core's, one right after the other (the check's
        second look, for answers that depend on the clock)."""
        planned = await plan.run(_fresh(context), variables)
        return planned, await self._generic(document, variables, _fresh(context), operation_name)

    async def _generic(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        context: RequestContext,
        operation_name: str | None,
    ) -> GraphQLExecutionResult:
        """graphql-core's executor on a document already validated."""
        outcome = graphql_execute(
            self._schema,
            document,
            variable_values=variables,
            operation_name=operation_name,
            context_value=context,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]  # a bool predicate
        )
        return await outcome if isawaitable(outcome) else outcome

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        extra = self._extra.get(type_definition.origin, ())
        return [
            *type_definition.fields,
            *(f for f in extra if _owner(f) in self.modules),
        ]

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Expected failures are not logged as errors; bugs are, with the request id."""
        for error in errors:
            if error.original_error is None or isinstance(
                error.original_error, (MendianError, GraphQLError)
            ):
                continue
            ctx = getattr(execution_context, "context", None)
            log.error(
                "graphql resolver failed (request %s)",
                getattr(ctx, "request_id", "?"),
                exc_info=error.original_error,
            )


def _fresh(context: RequestContext) -> RequestContext:
    """The same caller with no DataLoader results yet (a comparison's own reads)."""
    return dataclasses.replace(context, loaders={})


# Built once: graphql-core's validation cache is keyed by the rule classes, so per-request
# classes would never hit it. Ours, not strawberry's QueryDepthLimiter / MaxAliasesLimiter: those
# walk a fragment again at every spread (exponential in a document of fragments spreading each
# other); these walk each fragment once, and also bound fragments and spreads.
_LIMIT_RULES: tuple[type[ASTValidationRule], ...] = limit_rules(
    max_depth=MAX_DEPTH, max_aliases=MAX_ALIASES
)


def _extensions(*, introspection: bool) -> list[Any]:
    rules = [*_LIMIT_RULES, *([] if introspection else [NoSchemaIntrospectionCustomRule])]
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=2048),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=2048),
        OperationChoice,
        CostLimit,
    ]


class SchemaRegistry:
    """The schemas of one plugin registry: per module set, plus the anonymous one."""

    def __init__(self, registry: PluginRegistry) -> None:
        self.registry = registry
        self.contributing: frozenset[str] = frozenset()
        self._types: list[tuple[str, type]] = []
        self._extra: dict[Any, list[StrawberryField]] = {}
        self._public_extra: dict[Any, list[StrawberryField]] = {}
        self.nodes: dict[str, tuple[str, NodeResolver]] = {}
        self._schemas: dict[frozenset[str], ModuleSchema] = {}
        self._install()
        everything = frozenset(self.registry.plugins)
        self.public = ModuleSchema(
            everything,
            extra=self._public_extra,
            query=PublicQuery,
            mutation=PublicMutation,
            config=StrawberryConfig(disable_field_suggestions=True),
            extensions=_extensions(introspection=False),
        )
        self.for_modules(everything)  # fail at startup, not on a request

    def _install(self) -> None:
        """Gather and check every contribution (names first, then the fields)."""
        roots = {
            "Query": CoreQuery,
            "Mutation": CoreMutation,
            "PublicQuery": PublicQuery,
            "PublicMutation": PublicMutation,
        }
        owners: dict[tuple[str, str], str] = {
            (name, to_camel_case(f.python_name)): "core"
            for name, cls in {**roots, **_POINTS}.items()
            for f in _definition(cls).fields
        }
        type_owners = self._core_type_owners()
        contributing = set()
        for plugin_id, contributions in self.registry.collect_all("register_graphql"):
            for c in contributions or []:
                if not isinstance(c, GraphQLContribution):
                    raise GraphQLContributionError(
                        f"plugin {plugin_id!r}: register_graphql must return GraphQLContribution"
                    )
                contributing.add(plugin_id)
                for point in c.fields:
                    if point not in _POINTS:
                        raise GraphQLContributionError(
                            f"plugin {plugin_id!r}: {point!r} is not an extension point "
                            f"({', '.join(EXTENSION_POINTS)})"
                        )
                groups: list[tuple[str, Any, Any, bool, bool]] = [
                    # (owner name, fields, target class, check enablement, public)
                    ("Query", c.queries, CoreQuery, True, False),
                    ("Mutation", c.mutations, CoreMutation, True, False),
                    ("PublicQuery", c.public_queries, PublicQuery, False, True),
                    ("PublicMutation", c.public_mutations, PublicMutation, False, True),
                    *((p, fields, _POINTS[p], True, False) for p, fields in c.fields.items()),
                ]
                for target, fields, cls, check, public in groups:
                    for name, f in fields.items():
                        camel = to_camel_case(name)
                        keys = [(target, camel)]
                        if public:  # public operations are on the authenticated roots too
                            keys.append(("Query" if target == "PublicQuery" else "Mutation", camel))
                        for key in keys:
                            if key in owners:
                                raise GraphQLContributionError(
                                    f"{key[0]}.{camel} is contributed by both "
                                    f"{owners[key]!r} and {plugin_id!r}"
                                )
                            owners[key] = plugin_id
                        tagged = _tagged(cls, plugin_id, name, f, check=check)
                        if public:
                            self._public_extra.setdefault(cls, []).append(tagged)
                            inner = CoreQuery if target == "PublicQuery" else CoreMutation
                            self._extra.setdefault(inner, []).append(
                                _tagged(inner, plugin_id, name, f, check=False)
                            )
                        else:
                            self._extra.setdefault(cls, []).append(tagged)
                        for t in _types_reached(tagged):
                            self._claim_type(type_owners, t, plugin_id)
                for t in c.types:
                    self._claim_type(type_owners, t, plugin_id)
                    self._types.append((plugin_id, t))
                for type_name, load in c.nodes.items():
                    if type_name in CORE_NODES or type_name in self.nodes:
                        other = "core" if type_name in CORE_NODES else self.nodes[type_name][0]
                        raise GraphQLContributionError(
                            f"node type {type_name} is loaded by both {other!r} and {plugin_id!r}"
                        )
                    self.nodes[type_name] = (plugin_id, load)
        self.contributing = frozenset(contributing)

    @staticmethod
    def _core_type_owners() -> dict[str, tuple[str, Any]]:
        """Every type the core's roots reach, by GraphQL name (walked through their fields)."""
        owners: dict[str, tuple[str, Any]] = {}
        pending: list[Any] = [CoreQuery, CoreMutation, PublicQuery, PublicMutation]
        while pending:
            cls = pending.pop()
            name = _graphql_name(cls)
            if name is None or name in owners:
                continue
            owners[name] = ("core", cls)
            definition = cls.__strawberry_definition__
            for f in getattr(definition, "fields", ()):
                pending.extend(_types_reached(f))
        for root in ("Query", "Mutation"):
            owners.pop(root, None)
        return owners

    @staticmethod
    def _claim_type(owners: dict[str, tuple[str, Any]], t: Any, plugin_id: str) -> None:
        """Record that ``plugin_id`` uses type ``t``; another class of the same GraphQL name
        (the core's or another plugin's) is a clash, reported before strawberry sees it."""
        name = _graphql_name(t)
        if name is None:
            return
        found = owners.get(name)
        if found is None:
            owners[name] = (plugin_id, t)
            pending = [t]
            while pending:  # the types it reaches belong to it too, unless already owned
                cls = pending.pop()
                for f in getattr(cls.__strawberry_definition__, "fields", ()):
                    for inner in _types_reached(f):
                        inner_name = _graphql_name(inner)
                        if inner_name is None:
                            continue
                        other = owners.get(inner_name)
                        if other is None:
                            owners[inner_name] = (plugin_id, inner)
                            pending.append(inner)
                        elif other[1] is not inner:
                            raise GraphQLContributionError(
                                f"type {inner_name} is defined by both {other[0]!r} and "
                                f"{plugin_id!r}"
                            )
        elif found[1] is not t:
            raise GraphQLContributionError(
                f"type {name} is defined by both {found[0]!r} and {plugin_id!r}"
            )

    def for_modules(self, enabled: frozenset[str]) -> ModuleSchema:
        """The schema for a tenant (store) with these modules enabled."""
        key = enabled & self.contributing
        schema = self._schemas.get(key)
        if schema is None:
            schema = self._schemas[key] = self._build(key)
        return schema

    def _build(self, modules: frozenset[str]) -> ModuleSchema:
        return ModuleSchema(
            modules,
            extra=self._extra,
            nodes=self.nodes,
            query=CoreQuery,
            mutation=CoreMutation,
            types=[t for plugin_id, t in self._types if plugin_id in modules],
            config=StrawberryConfig(disable_field_suggestions=True),
            extensions=_extensions(introspection=True),
        )
