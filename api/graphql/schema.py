"""One GraphQL schema per enabled-module set (API-1), built once and cached.

At startup, every installed plugin's ``register_graphql`` contributions are attached to the core's
extension points (``Query``, ``Mutation``, ``Customer``, ``Store``, ``Purchase``), each field
tagged with its plugin. A schema for a module set keeps only the untagged fields and those of
plugins in the set (strawberry's ``Schema.get_fields``), so a disabled module is absent from
validation and introspection. Tagged fields also check enablement when resolved (defence in
depth). Two plugins contributing the same field or type name fail startup, naming both.

Only the plugins that contribute GraphQL distinguish schemas, so a handful of schemas serve
every tenant. Building is synchronous (no await): concurrent requests cannot race on the cache.
"""

from __future__ import annotations

import copy
import logging
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
from graphql import execute as graphql_execute
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import (
    AddValidationRules,
    FieldExtension,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from api.graphql.cost import CostLimit, cost_error, query_cost
from api.graphql.operations import CoreMutation, CoreQuery, PublicMutation, PublicQuery
from api.graphql.types import Customer, Purchase, Store
from core.errors import Forbidden, MendianError
from core.graphql import EXTENSION_POINTS, GraphQLContribution, RequestContext, context_of
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
_ROOTS: dict[str, Any] = {"Query": CoreQuery, "Mutation": CoreMutation}
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


def _attach(cls: Any, plugin_id: str, name: str, original: Any, *, check: bool) -> None:
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
    _definition(cls).fields.append(f)


class ModuleSchema(strawberry.Schema):
    """A schema showing the core plus the fields of ``modules``."""

    def __init__(self, modules: frozenset[str], **kwargs: Any) -> None:
        self.modules = modules
        self._prepared: dict[tuple[str, str | None], DocumentNode] = {}
        super().__init__(**kwargs)

    async def run(
        self,
        query: str,
        variables: dict[str, Any] | None,
        context: RequestContext,
        operation_name: str | None,
    ) -> ExecutionResult:
        """:meth:`execute`, with a fast path for an operation this schema has already run
        through every check: the first time, strawberry parses, validates (depth, aliases,
        tokens, introspection) and costs it; after that the parsed document is executed by
        graphql-core directly — the cost, which depends on the variables, is checked each
        time, with the same error and the same ``extensions.cost`` as the full path."""
        key = (query, operation_name)
        document = self._prepared.get(key)
        if document is None:
            result = await self.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
            )
            if result.data is not None and "cost" in (result.extensions or {}):
                if len(self._prepared) >= PREPARED_OPERATIONS:
                    del self._prepared[next(iter(self._prepared))]
                self._prepared[key] = parse(query)
            return result
        cost = query_cost(document, variables, operation_name)
        extensions = {"cost": {"requested": cost, "limit": context.cost_limit}}
        if context.cost_limit is not None and cost > context.cost_limit:
            return ExecutionResult(
                data=None, errors=[cost_error(cost, context.cost_limit)], extensions=extensions
            )
        outcome = graphql_execute(
            self._schema,
            document,
            variable_values=variables,
            operation_name=operation_name,
            context_value=context,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]  # a bool predicate
        )
        done = await outcome if isawaitable(outcome) else outcome
        if done.errors:
            self.process_errors(done.errors, SimpleNamespace(context=context))
        return ExecutionResult(data=done.data, errors=done.errors, extensions=extensions)

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        return [
            f
            for f in type_definition.fields
            if (owner := _owner(f)) is None or owner in self.modules
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


def _ignore_introspection(context: IgnoreContext) -> bool:
    return context.field_name.startswith("__")


# Built once: the limiters create a validation-rule class per instance, and the validation
# cache is keyed by the rules, so per-request instances would never hit the cache.
_LIMIT_RULES: tuple[type[ASTValidationRule], ...] = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH, should_ignore=_ignore_introspection).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)


def _extensions(*, introspection: bool) -> list[Any]:
    rules = [*_LIMIT_RULES, *([] if introspection else [NoSchemaIntrospectionCustomRule])]
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=2048),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=2048),
        CostLimit,
    ]


class SchemaRegistry:
    """The schemas of one plugin registry: per module set, plus the anonymous one."""

    def __init__(self, registry: PluginRegistry) -> None:
        self.registry = registry
        self.contributing: frozenset[str] = frozenset()
        self._types: list[tuple[str, type]] = []
        self._schemas: dict[frozenset[str], ModuleSchema] = {}
        self._install()
        self.public = ModuleSchema(
            frozenset(self.registry.plugins),
            query=PublicQuery,
            mutation=PublicMutation,
            config=StrawberryConfig(disable_field_suggestions=True),
            extensions=_extensions(introspection=False),
        )
        self.for_modules(frozenset(self.registry.plugins))  # fail at startup, not on a request

    def _install(self) -> None:
        targets = {**_ROOTS, **_POINTS, "PublicMutation": PublicMutation}
        for cls in {*targets.values()}:
            definition = _definition(cls)
            definition.fields[:] = [f for f in definition.fields if _owner(f) is None]
        owners: dict[tuple[str, str], str] = {
            (name, to_camel_case(f.python_name)): "core"
            for name, cls in targets.items()
            for f in _definition(cls).fields
        }
        type_owners: dict[str, str] = {}
        contributing = set()
        for plugin_id, contributions in self.registry.collect_all("register_graphql"):
            for c in contributions or []:
                if not isinstance(c, GraphQLContribution):
                    raise GraphQLContributionError(
                        f"plugin {plugin_id!r}: register_graphql must return GraphQLContribution"
                    )
                contributing.add(plugin_id)
                groups = [
                    ("Query", c.queries, True),
                    ("Mutation", c.mutations, True),
                    ("PublicMutation", c.public_mutations, False),
                    *((point, fields, True) for point, fields in c.fields.items()),
                ]
                for target, fields, check in groups:
                    if target not in targets or (
                        target in ("Query", "Mutation") and (target in c.fields)
                    ):
                        raise GraphQLContributionError(
                            f"plugin {plugin_id!r}: {target!r} is not an extension point "
                            f"({', '.join(EXTENSION_POINTS)})"
                        )
                    for name, f in fields.items():
                        key = (target, to_camel_case(name))
                        if key in owners:
                            raise GraphQLContributionError(
                                f"{target}.{to_camel_case(name)} is contributed by both "
                                f"{owners[key]!r} and {plugin_id!r}"
                            )
                        owners[key] = plugin_id
                        _attach(targets[target], plugin_id, name, f, check=check)
                        if target == "PublicMutation":
                            # Staff and keys can call public operations too.
                            _attach(CoreMutation, plugin_id, name, f, check=False)
                for t in c.types:
                    type_name = _definition(t).name
                    if type_name in type_owners and type_owners[type_name] != plugin_id:
                        raise GraphQLContributionError(
                            f"type {type_name} is contributed by both "
                            f"{type_owners[type_name]!r} and {plugin_id!r}"
                        )
                    type_owners[type_name] = plugin_id
                    self._types.append((plugin_id, t))
        self.contributing = frozenset(contributing)

    def for_modules(self, enabled: frozenset[str]) -> ModuleSchema:
        """The schema for a tenant (store) with these modules enabled."""
        key = enabled & self.contributing
        schema = self._schemas.get(key)
        if schema is None:
            schema = self._schemas[key] = self._build(key)
        return schema

    def _build(self, modules: frozenset[str]) -> ModuleSchema:
        try:
            return ModuleSchema(
                modules,
                query=CoreQuery,
                mutation=CoreMutation,
                types=[t for plugin_id, t in self._types if plugin_id in modules],
                config=StrawberryConfig(disable_field_suggestions=True),
                extensions=_extensions(introspection=True),
            )
        except Exception as exc:
            if "already" in str(exc) or "Duplicated" in type(exc).__name__:
                raise GraphQLContributionError(
                    f"the GraphQL types of {sorted(modules)} clash: {exc}"
                ) from exc
            raise
