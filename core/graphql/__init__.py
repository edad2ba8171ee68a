"""The GraphQL kit: what the API and plugins share to build the schema (API-1, API-3).

A plugin's ``register_graphql`` returns :class:`GraphQLContribution` objects: root queries and
mutations, fields on the core's extension points (``Customer``, ``Store``, ``Purchase``) and
loaders for its :class:`Node` types. Field names are snake_case Python names, exposed in
camelCase (``loyalty_ledger`` → ``loyaltyLedger``). A contributed field appears only in the
schemas of tenants (and stores) that enabled the plugin, and is checked again at resolve time.

Resolvers read the caller from ``context_of(info)``: the tenant and actor come from the
credential, never from arguments; the plugin's settings from ``await
context_of(info).settings(plugin_id)``. Expected business failures are returned as ``errors``
in mutation payloads (:func:`attempt`); authentication and permission failures are top-level.
The core's object types (:class:`Customer`, :class:`Store`, :class:`Staff`,
:class:`Purchase` …) are importable here, so a plugin's types can point at them, and their
DataLoaders are in :mod:`core.graphql.loaders`.
"""

from core.graphql import enums, loaders
from core.graphql.kit import (
    EXTENSION_POINTS,
    ID_FIELDS,
    MAX_FIRST,
    Connection,
    Edge,
    GraphQLContribution,
    Node,
    NodeResolver,
    PageInfo,
    RequestContext,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    decode_cursor,
    encode_cursor,
    from_global_id,
    input_data,
    parse_global_id,
    to_global_id,
    user_errors,
)
from core.graphql.types import (
    Customer,
    CustomerStats,
    Interaction,
    Kpis,
    Me,
    Module,
    ModuleKpi,
    Purchase,
    PurchaseLine,
    Segment,
    Staff,
    Store,
    Task,
    TenantSummary,
)

__all__ = [
    "EXTENSION_POINTS",
    "ID_FIELDS",
    "MAX_FIRST",
    "Connection",
    "Customer",
    "CustomerStats",
    "Edge",
    "GraphQLContribution",
    "Interaction",
    "Kpis",
    "Me",
    "Module",
    "ModuleKpi",
    "Node",
    "NodeResolver",
    "PageInfo",
    "Purchase",
    "PurchaseLine",
    "RequestContext",
    "Segment",
    "Staff",
    "Store",
    "Task",
    "TenantSummary",
    "UserError",
    "attempt",
    "check_first",
    "connection",
    "context_of",
    "decode_cursor",
    "encode_cursor",
    "enums",
    "from_global_id",
    "input_data",
    "loaders",
    "parse_global_id",
    "to_global_id",
    "user_errors",
]
