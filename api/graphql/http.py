"""``POST /graphql``: credentials, rate limits, schema selection, execution, masked errors.

The handler is shared by every request, so nothing per request is stored on it: the schema is
looked up per request from the caller's enabled-module set. Only ``application/json`` POSTs
execute operations (no GET, no form posts: CSRF-safe). ``GET /graphql`` serves GraphiQL outside
production.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import os
import secrets
from pathlib import Path
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
from core.db import read_session
from core.errors import DatabaseUnavailable, Forbidden, MendianError, ValidationFailed
from core.graphql import RequestContext
from core.plugins import PluginRuntime
from core.validation import check_input

__all__ = ["graphql_endpoint"]

log = logging.getLogger("mendian.graphql")
JSON = "application/json"


class GraphQLBody(msgspec.Struct):
    query: str
    variables: dict[str, Any] | None = None
    operationName: str | None = None
    extensions: dict[str, Any] | None = None


class _RequestIds:
    """Request ids: this process's random prefix and a counter (32 hex digits, as a uuid4's
    hex; unique without a system call per request). A forked child draws its own prefix."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.counter = itertools.count()

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_new_request_id = _RequestIds()

# An answer this large may wait for the client to take it (past the transport's buffer): the
# request's read transaction ends before it is sent.
HELD_WHILE_SENDING = 65_536
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
    if isinstance(original, DatabaseUnavailable):
        extensions = {"code": original.code, "replayable": original.replayable}
    elif isinstance(original, MendianError):
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
    request_id = headers.get("x-request-id", "")[:64] or _new_request_id()
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
    except RecursionError:  # msgspec's guard, some hundred levels down
        return _refusal("bad_request", "the request body is nested too deeply", 400, request_id)
    try:
        return await _run(scope, headers, body, request_id)
    except DatabaseUnavailable as exc:  # resolving the caller or its modules
        return _unavailable(exc, request_id)


def _unavailable(exc: DatabaseUnavailable, request_id: str) -> Reply:
    """503 with ``Retry-After``: the client retries (with the same idempotency key)."""
    return _json(
        {
            "errors": [
                {
                    "message": exc.message,
                    "extensions": {
                        "code": exc.code,
                        "replayable": exc.replayable,
                        "requestId": request_id,
                    },
                }
            ],
            "data": None,
        },
        503,
        {"X-Request-Id": request_id, "Retry-After": str(exc.retry_after)},
    )


async def _run(scope: Scope, headers: dict[str, str], body: GraphQLBody, request_id: str) -> Reply:
    """The caller, its rate limit, its schema, and the operation."""
    try:
        caller = await _credentials(headers)
    except Forbidden as exc:
        return _refusal("unauthenticated", exc.message, 401, request_id)
    settings = get_settings()
    state = scope["app"].state
    schemas: SchemaRegistry = state.graphql
    runtime: PluginRuntime = state.runtime
    client = scope.get("client")
    address = client[0] if client else None  # the proxy's, unless uvicorn --proxy-headers
    if caller is None:
        tenant, actor, enabled, store_id = None, None, frozenset[str](), None
        schema = schemas.public
        limit_keys = [f"ip:{address or '?'}"]
    else:
        tenant, actor = caller
        actor = dataclasses.replace(actor, request_id=request_id)
        store_id = (
            next(iter(actor.store_ids)) if actor.store_ids and len(actor.store_ids) == 1 else None
        )
        enabled = await runtime.enabled(tenant.id, store_id)
        schema = schemas.for_modules(enabled)
        limit_keys = [f"cred:{actor.kind}:{actor.id}", f"tenant:{tenant.id}"]
    try:
        await state.rate_limiter.hit(limit_keys)
    except RateLimited as exc:
        return _refusal(
            "rate_limited", str(exc), 429, request_id, **{"Retry-After": str(exc.retry_after)}
        )
    try:
        # Before any resolver: what no field may hold (NUL, absurd nesting) is refused here for
        # every variable; literals meet the same rule in validation (``LiteralInput``).
        for name, value in (body.variables or {}).items():
            check_input(name, name)
            check_input(value, name)  # a variable nests as deep as a literal argument may
    except ValidationFailed as exc:
        extensions = {"code": exc.code, "field": exc.field, "requestId": request_id}
        return _json(
            {"errors": [{"message": exc.message, "extensions": extensions}], "data": None},
            headers={"X-Request-Id": request_id},
        )
    context = RequestContext(
        tenant=tenant,
        actor=actor,
        enabled=enabled,
        request_id=request_id,
        store_id=store_id,
        cost_limit=(tenant.query_cost_limit if tenant else None) or settings.query_cost_limit,
        runtime=runtime,
        client=address,
    )
    result = await schema.run(body.query, body.variables, context, body.operationName)
    payload: dict[str, Any] = {}
    if result.errors:
        payload["errors"] = [_error(e, request_id) for e in result.errors]
    payload["data"] = result.data
    payload["extensions"] = {**(result.extensions or {}), "requestId": request_id}
    lost = [
        e.original_error
        for e in result.errors or []
        if isinstance(e.original_error, DatabaseUnavailable)
    ]
    if lost:  # the same body, as a 503 the client (and its proxies) know to retry
        return _json(
            payload,
            503,
            {"X-Request-Id": request_id, "Retry-After": str(lost[0].retry_after)},
        )
    return _json(payload, headers={"X-Request-Id": request_id})


@functools.cache
def graphiql_html() -> str:
    """GraphiQL with every asset local: ``graphiql.html`` is strawberry's GraphiQL page with
    its script and style URLs pointing at the same files, byte for byte, vendored under
    ``/static/graphiql/`` (``core/pages/static/graphiql/VERSIONS.json``; the page's integrity
    hashes still match). Offline tills and many stores' networks in mainland China reach no
    CDN, so nothing is fetched from one, and a test fails if the page names any."""
    return (Path(__file__).parent / "graphiql.html").read_text(encoding="utf-8")


def _graphiql() -> Reply:
    """GraphiQL, for staff exploring the API in development (not served in production)."""
    if get_settings().environment == "production":
        return 404, b"GraphiQL is not served in production", {"content-type": "text/plain"}
    return 200, graphiql_html().encode(), {"content-type": "text/html; charset=utf-8"}


@asgi("/graphql", copy_scope=False)
async def graphql_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """``POST /graphql`` executes an operation; ``GET /graphql`` serves GraphiQL. A plain ASGI
    route: the endpoint parses and answers everything itself, so litestar's per-request
    machinery (signature model, response objects) stays out of the hot path. An operation's
    reads share one read-only transaction (:func:`core.db.read_session`), ended once the
    answer is sent: the ``COMMIT`` of a transaction that wrote nothing decides nothing the
    client waits for."""
    method = str(scope.get("method", ""))
    if method == "POST":
        async with read_session() as end_reads:
            status, body, headers = await _execute(scope, receive)
            if len(body) > HELD_WHILE_SENDING:  # a slow client could hold the transaction
                await end_reads()
            await _answer(send, method, status, body, headers)
        return
    if method in ("GET", "HEAD"):
        await _answer(send, method, *_graphiql())
        return
    headers = {"content-type": "text/plain", "allow": "GET, POST"}
    await _answer(send, method, 405, b"method not allowed", headers)


async def _answer(
    send: Send, method: str, status: int, body: bytes, headers: dict[str, str]
) -> None:
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
