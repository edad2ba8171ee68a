"""``POST /graphql``: credentials, rate limits, schema selection, execution, masked errors.

The handler is shared by every request, so nothing per request is stored on it: the schema is
looked up per request from the caller's enabled-module set. Only ``application/json`` POSTs
execute operations (no GET, no form posts: CSRF-safe). ``GET /graphql`` serves GraphiQL outside
production.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Any

import msgspec
from graphql import GraphQLError
from litestar import Request, Response, get, post
from litestar.datastructures import State

from api.graphql.ratelimit import RateLimited
from api.graphql.schema import SchemaRegistry
from core.config import get_settings
from core.context import Actor, TenantInfo
from core.errors import Forbidden, MendianError
from core.graphql import RequestContext
from core.plugins import get_runtime

__all__ = ["graphiql", "graphql_endpoint"]

log = logging.getLogger("mendian.graphql")
JSON = "application/json"


class GraphQLBody(msgspec.Struct):
    query: str
    variables: dict[str, Any] | None = None
    operationName: str | None = None
    extensions: dict[str, Any] | None = None


def _json(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return Response(msgspec.json.encode(body), status_code=status, media_type=JSON, headers=headers)


def _refusal(
    code: str, message: str, status: int, request_id: str, **headers: str
) -> Response[bytes]:
    return _json(
        {"errors": [{"message": message, "extensions": {"code": code, "requestId": request_id}}]},
        status,
        {"X-Request-Id": request_id, **headers},
    )


async def _credentials(request: Request[Any, Any, Any]) -> tuple[TenantInfo, Actor] | None:
    from tenants.credentials import KEY_PREFIX, resolve_api_key, resolve_staff_token

    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Forbidden("expected 'Authorization: Bearer <key or token>'", code="unauthenticated")
    token = token.strip()
    if token.startswith(KEY_PREFIX):
        return await resolve_api_key(token)
    return await resolve_staff_token(token)


def _error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = error.original_error
    out: dict[str, Any] = {"message": error.message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = error.path
    if isinstance(original, MendianError):
        extensions = {
            "code": original.code,
            **({"field": original.field} if original.field else {}),
        }
    elif isinstance(original, GraphQLError):
        # graphql-core's own input errors (a variable of the wrong type): the client's mistake.
        extensions = {"code": "invalid_input"}
    elif original is not None:
        # A bug: the client learns nothing but the request id; the log has the traceback.
        out["message"] = f"internal error (request id {request_id})"
        extensions = {"code": "internal"}
    else:
        extensions = {"code": "invalid_query", **(error.extensions or {})}
    out["extensions"] = {**extensions, "requestId": request_id}
    return out


@post("/graphql", operation_id="graphql", include_in_schema=False, status_code=200)
async def graphql_endpoint(request: Request[Any, Any, State]) -> Response[bytes]:
    """Execute a GraphQL operation against the caller's schema."""
    request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != JSON:
        return _refusal(
            "unsupported_media_type", "send the operation as application/json", 415, request_id
        )
    try:
        body = msgspec.json.decode(await request.body(), type=GraphQLBody)
    except msgspec.DecodeError as exc:
        return _refusal("bad_request", f"malformed GraphQL request: {exc}", 400, request_id)
    try:
        caller = await _credentials(request)
    except Forbidden as exc:
        return _refusal("unauthenticated", exc.message, 401, request_id)
    settings = get_settings()
    schemas: SchemaRegistry = request.app.state.graphql
    if caller is None:
        tenant, actor, enabled, store_id = None, None, frozenset[str](), None
        schema = schemas.public
        limit_keys = [f"ip:{request.client.host if request.client else '?'}"]
    else:
        tenant, actor = caller
        actor = dataclasses.replace(actor, request_id=request_id)
        store_id = (
            next(iter(actor.store_ids)) if actor.store_ids and len(actor.store_ids) == 1 else None
        )
        enabled = await get_runtime().enabled(tenant.id, store_id)
        schema = schemas.for_modules(enabled)
        limit_keys = [f"cred:{actor.kind}:{actor.id}", f"tenant:{tenant.id}"]
    try:
        await request.app.state.rate_limiter.hit(limit_keys)
    except RateLimited as exc:
        return _refusal(
            "rate_limited", str(exc), 429, request_id, **{"Retry-After": str(exc.retry_after)}
        )
    context = RequestContext(
        tenant=tenant,
        actor=actor,
        enabled=enabled,
        request_id=request_id,
        store_id=store_id,
        cost_limit=(tenant.query_cost_limit if tenant else None) or settings.query_cost_limit,
    )
    result = await schema.run(body.query, body.variables, context, body.operationName)
    payload: dict[str, Any] = {}
    if result.errors:
        payload["errors"] = [_error(e, request_id) for e in result.errors]
    payload["data"] = result.data
    payload["extensions"] = {**(result.extensions or {}), "requestId": request_id}
    return _json(payload, headers={"X-Request-Id": request_id})


@get("/graphql", operation_id="graphiql", include_in_schema=False, media_type="text/html")
async def graphiql() -> Response[str]:
    """GraphiQL, for staff exploring the API in development (not served in production)."""
    if get_settings().environment == "production":
        return Response(
            "GraphiQL is not served in production", status_code=404, media_type="text/plain"
        )
    from strawberry.http.ides import get_graphql_ide_html

    return Response(get_graphql_ide_html("graphiql"), media_type="text/html")
