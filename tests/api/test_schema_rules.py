"""The API conventions (API-3, STYLE "GraphQL conventions"), checked on the schema of every
module set — core only, each installed plugin alone, all of them, and the public schema — so the
next plugin conforms by construction. A rule that must bend lists the exception with its reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_introspection_type,
    is_specified_scalar_type,
)

from api.graphql.operations import CORE_NODES
from api.graphql.schema import SchemaRegistry
from core import __version__
from core.plugins import PluginRegistry

REGISTRY = PluginRegistry(core_version=__version__).discover()
SCHEMAS = SchemaRegistry(REGISTRY)
MODULE_SETS = {
    "core": frozenset(),
    **{pid: frozenset({pid}) for pid in sorted(SCHEMAS.contributing)},
    "all": frozenset(REGISTRY.plugins),
}

# Field names that always denote a closed set; each must be an enum.
CLOSED_SETS = {
    "status",
    "kind",
    "gender",
    "source",
    "lifecycle",
    "valueClass",
    "channel",
    "purpose",
}
OPEN_ON_PURPOSE = {
    # where a value was collected: free provenance text such as "pos" or "reply:TD"
    ("ConsentSetInput", "source"),
}


def _graphql(name: str) -> GraphQLSchema:
    schema = SCHEMAS.public if name == "public" else SCHEMAS.for_modules(MODULE_SETS[name])
    graphql_schema: GraphQLSchema = schema._schema
    return graphql_schema


def _types(schema: GraphQLSchema) -> Iterator[Any]:
    for t in schema.type_map.values():
        if not is_introspection_type(t) and not is_specified_scalar_type(t):
            yield t


def _is_connection(name: str) -> bool:
    return name.endswith(("Connection", "Edge"))


def _unwrap_nonnull(t: Any) -> Any:
    return t.of_type if isinstance(t, GraphQLNonNull) else t


SETS = [*MODULE_SETS, "public"]


@pytest.mark.parametrize("name", SETS)
def test_every_mutation_takes_one_input_and_returns_its_own_payload(name):
    schema = _graphql(name)
    breaches = []
    for field_name, field in (schema.mutation_type.fields if schema.mutation_type else {}).items():
        expected = field_name[0].upper() + field_name[1:]
        args = list(field.args.items())
        arg_type = _unwrap_nonnull(args[0][1].type) if len(args) == 1 else None
        if not (
            len(args) == 1
            and args[0][0] == "input"
            and isinstance(args[0][1].type, GraphQLNonNull)
            and isinstance(arg_type, GraphQLInputObjectType)
            and arg_type.name == f"{expected}Input"
        ):
            breaches.append(
                f"{field_name}: takes {[a for a, _ in args]}, not input: {expected}Input!"
            )
        payload = _unwrap_nonnull(field.type)
        if not (isinstance(payload, GraphQLObjectType) and payload.name == f"{expected}Payload"):
            breaches.append(f"{field_name}: returns {payload}, not {expected}Payload")
            continue
        errors = payload.fields.get("errors")
        if errors is None or str(errors.type) != "[UserError!]!":
            breaches.append(f"{field_name}: {payload.name} has no errors: [UserError!]!")
    assert breaches == []


@pytest.mark.parametrize("name", SETS)
def test_every_type_field_argument_and_input_field_is_described(name):
    missing = []
    for t in _types(_graphql(name)):
        if t.name in ("Query", "Mutation"):
            pass
        elif not t.description:
            missing.append(t.name)
        fields: dict[str, Any] = getattr(t, "fields", {}) or {}
        for field_name, field in fields.items():
            if not field.description:
                missing.append(f"{t.name}.{field_name}")
            for arg_name, arg in getattr(field, "args", {}).items():
                if not arg.description:
                    missing.append(f"{t.name}.{field_name}({arg_name})")
    assert missing == []


@pytest.mark.parametrize("name", SETS)
def test_everything_with_an_id_is_a_node_that_node_id_loads(name):
    schema = _graphql(name)
    node = schema.type_map.get("Node")
    breaches = []
    for t in _types(schema):
        if not isinstance(t, GraphQLObjectType) or _is_connection(t.name):
            continue
        id_field = t.fields.get("id")
        is_node = isinstance(node, GraphQLInterfaceType) and node in t.interfaces
        if id_field is not None and str(id_field.type) == "ID!" and not is_node:
            breaches.append(f"{t.name} has an id but is not a Node")
        if is_node and t.name not in CORE_NODES and t.name not in SCHEMAS.nodes:
            breaches.append(f"node(id:) cannot load {t.name}")
    assert breaches == []


@pytest.mark.parametrize("name", SETS)
def test_closed_sets_are_enums(name):
    breaches = []
    for t in _types(_graphql(name)):
        if not isinstance(t, (GraphQLObjectType, GraphQLInputObjectType)):
            continue
        for field_name, field in t.fields.items():
            closed = field_name in CLOSED_SETS and (t.name, field_name) not in OPEN_ON_PURPOSE
            if closed and not isinstance(get_named_type(field.type), GraphQLEnumType):
                breaches.append(f"{t.name}.{field_name} is {field.type}, not an enum")
    assert breaches == []


@pytest.mark.parametrize("name", SETS)
def test_lists_of_records_are_connections(name):
    """A list of ``Node`` objects grows without bound: it is a cursor connection."""
    breaches = []
    for t in _types(_graphql(name)):
        if not isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)) or _is_connection(t.name):
            continue
        for field_name, field in t.fields.items():
            inner = _unwrap_nonnull(field.type)
            if isinstance(inner, GraphQLList):
                item = get_named_type(inner)
                if isinstance(item, GraphQLObjectType) and any(
                    i.name == "Node" for i in item.interfaces
                ):
                    breaches.append(f"{t.name}.{field_name} is a list of {item.name}")
    assert breaches == []


def test_connection_arguments_are_first_and_after():
    """Every connection field pages with ``first`` (≤ 100) and ``after``."""
    schema = _graphql("all")
    breaches = []
    for t in _types(schema):
        if not isinstance(t, GraphQLObjectType) or _is_connection(t.name):
            continue
        for field_name, field in t.fields.items():
            target = get_named_type(field.type)
            if target.name.endswith("Connection") and not {"first", "after"} <= set(field.args):
                breaches.append(f"{t.name}.{field_name}")
    assert breaches == []
