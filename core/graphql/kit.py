"""The GraphQL kit: what the API and plugins share to contribute to the schema (API-1, API-3).

A plugin's ``register_graphql`` returns :class:`GraphQLContribution` objects: root queries and
mutations, and fields on the core's extension points (``Customer``, ``Store``, ``Purchase``).
Field names are snake_case Python names, exposed in camelCase (``loyalty_ledger`` →
``loyaltyLedger``). A contributed field appears only in the schemas of tenants (and stores) that
enabled the plugin, and is checked again at resolve time.

Resolvers read the caller from ``context_of(info)``: the tenant and actor come from the
credential, never from arguments. Expected business failures are returned as ``errors`` in
mutation payloads (:func:`user_errors`); authentication and permission failures are top-level.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.dataloader import DataLoader
from strawberry.types import Info
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from core.context import Actor, TenantInfo
from core.errors import Conflict, MendianError, NotFound, ValidationFailed

if TYPE_CHECKING:
    from core.plugins.runtime import PluginRuntime

__all__ = [
    "DECIMAL",
    "EXTENSION_POINTS",
    "ID_FIELDS",
    "MAX_FIRST",
    "Connection",
    "Edge",
    "GraphQLContribution",
    "Node",
    "NodeResolver",
    "PageInfo",
    "RequestContext",
    "UserError",
    "attempt",
    "check_first",
    "connection",
    "context_of",
    "decode_cursor",
    "encode_cursor",
    "from_global_id",
    "input_data",
    "parse_global_id",
    "to_global_id",
    "user_errors",
]

EXTENSION_POINTS = ("Customer", "Store", "Purchase")
# A decimal as the API accepts it: ASCII digits, an optional sign and fraction — no exponent
# ("1E+2"), no other script's digits (Arabic-Indic, full-width), no NaN or Infinity.
_DECIMAL = re.compile(r"[+-]?[0-9]{1,28}(\.[0-9]{1,12})?", re.ASCII)


def _parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise GraphQLError('a decimal is a string of digits, like "12.30"')
    text = str(value)
    if not _DECIMAL.fullmatch(text):
        raise GraphQLError("a decimal is ASCII digits with an optional sign and fraction (12.30)")
    return Decimal(text)


DECIMAL = strawberry.scalar(
    Decimal,
    name="Decimal",
    description="Decimal (fixed-point)",
    serialize=str,
    parse_value=_parse_decimal,
)
MAX_FIRST = 100

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


NodeResolver = Callable[[Info[Any, Any], UUID], Awaitable[Any]]


@dataclass(frozen=True)
class GraphQLContribution:
    """What a plugin adds to the schema (``register_graphql``).

    Values are ``strawberry.field(resolver=…)`` / ``strawberry.mutation(resolver=…)`` objects
    keyed by their Python (snake_case) name, exposed in camelCase:

    * ``queries`` / ``mutations``: root fields for authenticated callers;
    * ``public_queries`` / ``public_mutations``: also callable without credentials (a survey
      answered by token) — they must establish the tenant themselves;
    * ``fields``: new fields on an extension point (``{"Customer": {"loyalty": …}}``);
    * ``nodes``: how ``node(id:)`` loads each of the plugin's types that implement
      :class:`Node` (``{"LoyaltyReward": load_reward}``, called with ``(info, uuid)``, returning
      the object or ``None``; a schema-rules test fails when a ``Node`` type has no loader);
    * ``types``: types reachable only through interfaces or unions.

    The registry checks every name against the core's and the other plugins' before building a
    schema, and fails startup naming both owners on a clash.
    """

    queries: Mapping[str, StrawberryField] = field(default_factory=dict)
    mutations: Mapping[str, StrawberryField] = field(default_factory=dict)
    public_queries: Mapping[str, StrawberryField] = field(default_factory=dict)
    public_mutations: Mapping[str, StrawberryField] = field(default_factory=dict)
    fields: Mapping[str, Mapping[str, StrawberryField]] = field(default_factory=dict)
    nodes: Mapping[str, NodeResolver] = field(default_factory=dict)
    types: Sequence[type] = ()


@dataclass
class RequestContext:
    """Per request: who calls, for which tenant, with which modules; and its DataLoaders.

    ``runtime`` is the plugin runtime that served the request (the enabled set and each
    module's settings come from it): resolvers read settings with :meth:`settings`, never from
    a process-global.
    """

    tenant: TenantInfo | None
    actor: Actor | None
    enabled: frozenset[str]
    request_id: str
    store_id: UUID | None = None
    cost_limit: int | None = None
    runtime: PluginRuntime | None = None
    client: str | None = None  # the caller's address (login throttling)
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)

    def caller(self) -> tuple[TenantInfo, Actor]:
        """The tenant and actor; the API only runs tenant operations for authenticated calls."""
        if self.tenant is None or self.actor is None:  # pragma: no cover - schema prevents it
            raise PermissionError("authentication required")
        return self.tenant, self.actor

    async def settings(self, plugin_id: str) -> Any:
        """The caller's tenant's validated settings of ``plugin_id`` (its manifest's
        ``settings`` struct, defaults filled in; cached with the enabled set)."""
        tenant, _actor = self.caller()
        if self.runtime is None:  # pragma: no cover - the endpoint always sets it
            raise RuntimeError("no plugin runtime on this request")
        return await self.runtime.plugin_settings(tenant.id, plugin_id)

    def loader(
        self, name: str, load: Callable[[list[K]], Awaitable[Sequence[V | BaseException]]]
    ) -> DataLoader[K, V]:
        """The request's DataLoader ``name`` (created on first use): one batch per tick."""
        found = self.loaders.get(name)
        if found is None:
            found = self.loaders[name] = DataLoader(load_fn=load)
        return found


def context_of(info: Info[Any, Any]) -> RequestContext:
    ctx = info.context
    assert isinstance(ctx, RequestContext)
    return ctx


# --- global IDs and cursors (Relay) -------------------------------------------------------


def to_global_id(type_name: str, value: UUID) -> strawberry.ID:
    """``base64url("Customer:<uuid>")``: opaque, and typed so a Store id is not a Customer."""
    raw = f"{type_name}:{value}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def from_global_id(value: str, type_name: str, *, field: str = "id") -> UUID:
    """The UUID in a global ID of ``type_name``. A malformed, foreign-typed, another tenant's or
    missing ID all raise the same :class:`NotFound` (nothing distinguishes them)."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        kind, _, ident = raw.partition(":")
        if kind == type_name:
            return UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise NotFound(f"no {type_name} with this id", field=field)


def parse_global_id(value: str) -> tuple[str, UUID] | None:
    """``(type name, uuid)`` of any global ID, or ``None`` when malformed."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        kind, _, ident = raw.partition(":")
        return kind, UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


# Input fields that hold global IDs, and the type each must name (``store_ids``: a list).
ID_FIELDS: Mapping[str, str] = {
    "id": "",  # the mutation's own subject: the mutation names the type
    "customer_id": "Customer",
    "source_id": "Customer",
    "target_id": "Customer",
    "referrer_id": "Customer",
    "store_id": "Store",
    "home_store_id": "Store",
    "store_ids": "Store",
    "staff_id": "Staff",
    "assigned_staff_id": "Staff",
    "owner_staff_id": "Staff",
    "task_id": "Task",
    "segment_id": "Segment",
    "refund_of": "Purchase",
    "purchase_id": "Purchase",
}


def _input_value(name: str, value: Any, ids: Mapping[str, str]) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return input_data(value, ids=ids)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        if ids.get(name):
            return [from_global_id(v, ids[name], field=name) for v in value]
        return [_input_value(name, v, ids) for v in value]
    if ids.get(name) and value is not None:
        return from_global_id(value, ids[name], field=name)
    return value


def input_data(
    obj: Any, *, ids: Mapping[str, str] | None = None, **id_types: str
) -> dict[str, Any]:
    """A GraphQL input as the dict a service validates: the fields the client sent (``UNSET``
    ones left out), snake_case keys, enums as their values, global IDs decoded to UUIDs of the
    expected type (a foreign, malformed or missing ID is the same ``not_found``, on the input
    field's name). ``ids`` / ``id_types`` add or override ID fields (``id="Customer"``,
    ``reward_id="LoyaltyReward"``) on top of :data:`ID_FIELDS`."""
    mapping = {**ID_FIELDS, **(ids or {}), **id_types}
    return {
        f.name: _input_value(f.name, getattr(obj, f.name), mapping)
        for f in dataclasses.fields(obj)
        if getattr(obj, f.name) is not strawberry.UNSET
    }


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(value: str | None, *, field: str = "after") -> str | None:
    """The position in a cursor from :func:`encode_cursor`; anything else (characters outside
    base64url, an empty cursor) is ``invalid_cursor`` — never silently the first page."""
    if value is None:
        return None
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
        decoded = raw.decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        decoded = ""
    if not decoded:
        raise ValidationFailed("malformed cursor", field=field, code="invalid_cursor")
    return decoded


def check_first(first: int) -> int:
    """``first`` within 1…:data:`MAX_FIRST`, else ``invalid`` on ``first``."""
    if not 1 <= first <= MAX_FIRST:
        raise ValidationFailed(
            f"first must be between 1 and {MAX_FIRST}", field="first", code="invalid"
        )
    return first


# --- shared types ---------------------------------------------------------------------------


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global ID (opaque, typed).")


@strawberry.type(description="An expected failure: the input at fault, a stable code, a message.")
class UserError:
    field: str | None = strawberry.field(description="Input field at fault (camelCase), if any.")
    code: str = strawberry.field(description="Stable machine-readable code, e.g. `not_found`.")
    message: str = strawberry.field(description="Human-readable explanation.")


R = TypeVar("R")


async def attempt(run: Callable[[], Awaitable[R]]) -> tuple[R | None, list[UserError]]:
    """Run a service call for a mutation: expected failures (validation, not found, conflict)
    become payload errors; permission and authentication failures stay top-level errors."""
    try:
        return await run(), []
    except (ValidationFailed, NotFound, Conflict) as exc:
        return None, user_errors(exc)


def user_errors(exc: MendianError) -> list[UserError]:
    """A business failure as payload errors (all of a validation's field errors)."""
    errors = exc.errors if isinstance(exc, ValidationFailed) else [exc]
    return [
        UserError(
            field=to_camel_case(e.field) if e.field else e.field, code=e.code, message=e.message
        )
        for e in errors
    ]


@strawberry.type(description="Where a page of a connection ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow `endCursor`.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(description="An item of a connection with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of items (cursor pagination, `first` ≤ 100).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items with their cursors.")
    page_info: PageInfo = strawberry.field(description="Whether more items follow.")

    @strawberry.field(description="The items, without cursors.")
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def connection(items: Sequence[T], cursor: Callable[[T], str], first: int) -> Connection[T]:
    """A connection from up to ``first + 1`` items (the extra one only says a next page exists)."""
    page = list(items[:first])
    edges = [Edge(cursor=encode_cursor(cursor(item)), node=item) for item in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(items) > first, end_cursor=edges[-1].cursor if edges else None
        ),
    )
