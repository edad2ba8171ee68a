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
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from core.context import Actor, TenantInfo
from core.errors import Conflict, MendianError, NotFound, ValidationFailed

__all__ = [
    "EXTENSION_POINTS",
    "MAX_FIRST",
    "Connection",
    "Edge",
    "GraphQLContribution",
    "PageInfo",
    "RequestContext",
    "UserError",
    "attempt",
    "connection",
    "context_of",
    "decode_cursor",
    "encode_cursor",
    "from_global_id",
    "to_global_id",
    "user_errors",
]

EXTENSION_POINTS = ("Customer", "Store", "Purchase")
MAX_FIRST = 100

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


@dataclass(frozen=True)
class GraphQLContribution:
    """What a plugin adds to the schema. Values are ``strawberry.field(resolver=…)`` /
    ``strawberry.mutation(resolver=…)`` objects keyed by their Python name; ``fields`` maps an
    extension point (``"Customer"``) to its new fields. ``public_mutations`` are callable
    without credentials (a survey answered by token) and must establish the tenant themselves.
    ``types`` lists types reachable only through interfaces or unions."""

    queries: Mapping[str, Any] = field(default_factory=dict)
    mutations: Mapping[str, Any] = field(default_factory=dict)
    public_mutations: Mapping[str, Any] = field(default_factory=dict)
    fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    types: Sequence[type] = ()


@dataclass
class RequestContext:
    """Per request: who calls, for which tenant, with which modules; and its DataLoaders."""

    tenant: TenantInfo | None
    actor: Actor | None
    enabled: frozenset[str]
    request_id: str
    store_id: UUID | None = None
    cost_limit: int | None = None
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)

    def caller(self) -> tuple[TenantInfo, Actor]:
        """The tenant and actor; the API only runs tenant operations for authenticated calls."""
        if self.tenant is None or self.actor is None:  # pragma: no cover - schema prevents it
            raise PermissionError("authentication required")
        return self.tenant, self.actor

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


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(value: str | None, *, field: str = "after") -> str | None:
    if value is None:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("malformed cursor", field=field, code="invalid_cursor") from None


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_FIRST:
        raise ValidationFailed(
            f"first must be between 1 and {MAX_FIRST}", field="first", code="invalid"
        )
    return first


# --- shared types ---------------------------------------------------------------------------


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
