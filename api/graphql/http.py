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
from litestar import asgi
from litestar.types import (
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from api.graphql.ratelimit import RateLimited
from api.graphql.schema import SchemaRegistry
from core.config import get_settings
from core.context import Actor, TenantInfo
from core.errors import Forbidden, MendianError
from core.graphql import RequestContext
from core.plugins import get_runtime

__all__ = ["graphql_endpoint"]

log = logging.getLogger("mendian.graphql")
JSON = "application/json"


class GraphQLBody(msgspec.Struct):
    query: str
    variables: dict[str, Any] | None = None
    operationName: str | None = None
    extensions: dict[str, Any] | None = None


MAX_BODY = 1_048_576  # as the app's request_max_body_size
Reply = tuple[int, bytes, dict[str, str]]


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, msgspec.json.encode(body), {"content-type": JSON, **(headers or {})}


def _refusal(code: str, message: str, status: int, request_id: str, **headers: str) -> Reply:
    return _json(
        {"errors": [{"message": message, "extensions": {"code": code, "requestId": request_id}}]},
        status,
        {"X-Request-Id": request_id, **headers},
    )


async def _credentials(headers: dict[str, str]) -> tuple[TenantInfo, Actor] | None:
    """The caller: an API key or a staff token (``Authorization: Bearer …``), or anonymous."""
    from tenants.credentials import KEY_PREFIX, resolve_api_key, resolve_staff_token

    header = headers.get("authorization", "")
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


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or ``None`` past ``MAX_BODY``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        assert isinstance(chunk, bytes)
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _execute(scope: Scope, receive: Receive) -> Reply:
    """One ``POST /graphql``: media type, body, caller, rate limit, schema, execution."""
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    request_id = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
    if headers.get("content-type", "").split(";")[0].strip().lower() != JSON:
        return _refusal(
            "unsupported_media_type", "send the operation as application/json", 415, request_id
        )
    raw = await _read_body(receive)
    if raw is None:
        return _refusal("too_large", f"the request body exceeds {MAX_BODY} bytes", 413, request_id)
    try:
        body = msgspec.json.decode(raw, type=GraphQLBody)
    except msgspec.DecodeError as exc:
        return _refusal("bad_request", f"malformed GraphQL request: {exc}", 400, request_id)
    try:
        caller = await _credentials(headers)
    except Forbidden as exc:
        return _refusal("unauthenticated", exc.message, 401, request_id)
    settings = get_settings()
    state = scope["app"].state
    schemas: SchemaRegistry = state.graphql
    if caller is None:
        tenant, actor, enabled, store_id = None, None, frozenset[str](), None
        schema = schemas.public
        client = scope.get("client")
        limit_keys = [f"ip:{client[0] if client else '?'}"]
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
        await state.rate_limiter.hit(limit_keys)
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


def _graphiql() -> Reply:
    """GraphiQL, for staff exploring the API in development (not served in production)."""
    if get_settings().environment == "production":
        return 404, b"GraphiQL is not served in production", {"content-type": "text/plain"}
    from strawberry.http.ides import get_graphql_ide_html

    html = get_graphql_ide_html("graphiql").encode()
    return 200, html, {"content-type": "text/html; charset=utf-8"}


@asgi("/graphql", copy_scope=False)
async def graphql_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """``POST /graphql`` executes an operation; ``GET /graphql`` serves GraphiQL. A plain ASGI
    route: the endpoint parses and answers everything itself, so litestar's per-request
    machinery (signature model, response objects) stays out of the hot path."""
    method = scope.get("method", "")
    if method == "POST":
        status, body, headers = await _execute(scope, receive)
    elif method in ("GET", "HEAD"):
        status, body, headers = _graphiql()
    else:
        status, body, headers = (
            405,
            b"method not allowed",
            {
                "content-type": "text/plain",
                "allow": "GET, POST",
            },
        )
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in {**headers, "content-length": str(len(body))}.items()
        ],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {
        "type": "http.response.body",
        "body": b"" if method == "HEAD" else body,
        "more_body": False,
    }
    await send(end)
