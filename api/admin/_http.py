"""The admin API's guard, error responses and shared helpers."""

from __future__ import annotations

import hmac
import re
from http import HTTPStatus
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    SerializationException,
    ValidationException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme

from api.admin.schemas import (
    NO_NUL,
    SECURITY_SCHEME,
    ErrorDetail,
    ErrorResponse,
    Module,
    Tenant,
)
from core.config import get_settings
from core.context import Actor, TenantInfo
from core.db import tenant_tx
from core.errors import DatabaseUnavailable, MendianError, ValidationFailed
from core.plugins import PluginRuntime
from core.tables import Store
from core.validation import check_input
from tenants.modules import list_modules

__all__ = [
    "admin_exception_handlers",
    "admin_guard",
    "admin_openapi_components",
    "error_responses",
    "module_bodies",
    "platform_actor",
    "runtime_of",
    "store_ids",
    "tenant_body",
]


def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Require ``Authorization: Bearer <MENDIAN_ADMIN_TOKEN>`` (compared in constant time)."""
    scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
    expected = get_settings().admin_token.encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise NotAuthorizedException(
            "a valid admin token is required", headers={"WWW-Authenticate": "Bearer"}
        )


def _error_response(
    errors: list[ErrorDetail], status: int, headers: dict[str, str] | None = None
) -> Response[ErrorResponse]:
    return Response(ErrorResponse(errors), status_code=status, headers=headers)


def _mendian_error(_: Request[Any, Any, Any], exc: MendianError) -> Response[ErrorResponse]:
    """A service's typed failure: its status, and every field error of a validation failure."""
    errors = exc.errors if isinstance(exc, ValidationFailed) else [exc]
    retry = {"Retry-After": str(exc.retry_after)} if isinstance(exc, DatabaseUnavailable) else None
    return _error_response(
        [ErrorDetail(e.field, e.code, e.message) for e in errors], exc.status, retry
    )


_MSGSPEC_PATH = re.compile(r"at `\$\.?([^`]*)`")
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]*)`")


def _field(path: object, message: str) -> str | None:
    """The input at fault: ``path`` (``data`` or empty: the whole body), down to the unknown
    field the message names, if any."""
    prefix = None if path in (None, "", "data") else str(path)
    if unknown := _UNKNOWN_FIELD.search(message):
        return f"{prefix}.{unknown.group(1)}" if prefix else unknown.group(1)
    return prefix


def _message(text: str) -> str:
    """msgspec's or litestar's message, made plain: no regex that only rules out NUL, and no
    bare ``'data'`` (litestar's message for a request without a body)."""
    if text == "'data'":
        return "a JSON body is required"
    return text.replace(f"matching regex {NO_NUL!r}", "without NUL characters")


def _msgspec_error(
    _: Request[Any, Any, Any], exc: msgspec.ValidationError
) -> Response[ErrorResponse]:
    """Input that did not convert to its type, with the path msgspec reports."""
    text = str(exc)
    message = _message(text.split(" - at ")[0])
    path = match.group(1) if (match := _MSGSPEC_PATH.search(text)) else None
    return _error_response([ErrorDetail(_field(path, message), "invalid", message)], 400)


def _client_error(_: Request[Any, Any, Any], exc: ClientException) -> Response[ErrorResponse]:
    """Litestar's 4xx: a body or parameter of the wrong type or shape, malformed JSON, a missing
    token, an unknown route… Same status and headers, in the ``errors`` shape."""
    status = exc.status_code
    code = "invalid" if status == 400 else HTTPStatus(status).phrase.lower().replace(" ", "_")
    extra = exc.extra if isinstance(exc, ValidationException) else None
    messages = [
        (item.get("key"), _message(str(item["message"])))
        for item in (extra if isinstance(extra, list) else [])
        if isinstance(item, dict) and "message" in item
    ]
    errors = [ErrorDetail(_field(key, message), code, message) for key, message in messages]
    return _error_response(errors or [ErrorDetail(None, code, exc.detail)], status, exc.headers)


admin_exception_handlers: dict[Any, Any] = {
    MendianError: _mendian_error,
    msgspec.ValidationError: _msgspec_error,
    ValidationException: _client_error,
    ClientException: _client_error,
}

admin_openapi_components = Components(
    security_schemes={
        SECURITY_SCHEME: SecurityScheme(
            type="http", scheme="bearer", description="MENDIAN_ADMIN_TOKEN"
        )
    }
)

_ERROR_DESCRIPTIONS = {
    400: "Invalid input (field-level errors)",
    401: "Missing or wrong admin token",
    404: "Unknown tenant, plugin or key",
    409: "Conflicts with existing data",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error responses a route can give (always 401)."""
    return {
        s: ResponseSpec(ErrorResponse, generate_examples=False, description=_ERROR_DESCRIPTIONS[s])
        for s in sorted({401, *statuses})
    }


# -- helpers -----------------------------------------------------------------------------------


def platform_actor() -> Actor:
    """The platform operator, with a fresh request id for the audit log."""
    return Actor(kind="platform", id="admin")


def tenant_body(info: TenantInfo) -> Tenant:
    return msgspec.convert(info, Tenant, from_attributes=True)


async def module_bodies(tenant: TenantInfo, runtime: PluginRuntime) -> list[Module]:
    return msgspec.convert(await list_modules(tenant, runtime), list[Module], from_attributes=True)


def _as_uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


async def store_ids(tenant: TenantInfo, refs: list[str], field: str) -> list[UUID]:
    """Store ids from store codes or ids (a code wins if both match); unknown ones are a
    field error. Order kept, duplicates dropped."""
    if not refs:
        return []  # restricted to no store (piccolo refuses an empty IN)
    ids = [u for u in map(_as_uuid, refs) if u is not None]
    matches: Any = Store.code.is_in(refs)
    if ids:
        matches = matches | Store.id.is_in(ids)
    async with tenant_tx(tenant.id, write=False):
        rows = await Store.select(Store.id, Store.code).where(matches)
    by_code = {r["code"]: UUID(str(r["id"])) for r in rows}
    known = set(by_code.values())
    out: list[UUID] = []
    for ref in refs:
        store_id = by_code.get(ref) or (u if (u := _as_uuid(ref)) in known else None)
        if store_id is None:
            raise ValidationFailed(f"unknown store {ref!r}", field=field, code="unknown_store")
        if store_id not in out:
            out.append(store_id)
    return out


def runtime_of(state: State) -> PluginRuntime:
    """The plugin runtime the app was built with (``create_app`` puts it in the state)."""
    runtime: PluginRuntime = state.runtime
    return runtime


async def check_body(request: Request[Any, Any, Any]) -> None:
    """Before every admin handler: a JSON body holds no NUL character and is not absurdly
    nested, whatever its fields (settings are free-form JSON) — the rule GraphQL variables
    meet (``core.validation.check_input``). litestar keeps the decoded body for the handler."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    try:
        body = await request.json()
    except RecursionError:  # msgspec's guard, some hundred levels down
        raise ValidationFailed(
            "the request body is nested too deeply", code="invalid_input"
        ) from None
    except SerializationException:
        return  # malformed JSON: the handler's own decoding answers it (400, with the position)
    check_input(body)
