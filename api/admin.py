"""The platform operator's admin REST API (API-6, API-7): ``/admin/…``.

Tenants, their modules (plugins) and API keys, and the installed plugins. Every route needs
``Authorization: Bearer <MENDIAN_ADMIN_TOKEN>`` and acts as ``Actor(kind="platform", id="admin")``;
the services do the work and the auditing. Errors are ``{"errors": [{field, code, message}]}``
with a 4xx status: bad input is never a 5xx. Mount :data:`admin_router` and pass
:data:`admin_exception_handlers` (app-wide) and :data:`admin_openapi_components` (the bearer
security scheme) to the app.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from http import HTTPStatus
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, Router, delete, get, post, put
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException, NotAuthorizedException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from core.config import get_settings
from core.context import Actor, TenantInfo
from core.db import tenant_tx
from core.errors import MendianError, ValidationFailed
from core.plugins import PluginRuntime, get_runtime
from core.tables import Store
from tenants.credentials import create_api_key, list_api_keys, revoke_api_key
from tenants.modules import disable_module, enable_module, list_modules
from tenants.service import (
    TenantInput,
    check_timezone,
    create_tenant,
    get_tenant,
    list_tenants,
    set_tenant_status,
)

__all__ = ["admin_exception_handlers", "admin_openapi_components", "admin_router"]

SECURITY_SCHEME = "adminToken"

# -- request and response bodies ---------------------------------------------------------------

# PostgreSQL text cannot hold NUL: refuse it in input instead of failing in the database.
NO_NUL = r"^[^\x00]*$"
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Code = Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)]


class ErrorDetail(msgspec.Struct):
    """One error: the input ``field`` at fault (``null`` if none), a stable ``code``, a message."""

    field: str | None
    code: str
    message: str


class ErrorResponse(msgspec.Struct):
    """The body of every error response."""

    errors: list[ErrorDetail]


class TenantCreate(TenantInput, forbid_unknown_fields=True, kw_only=True):
    """A new tenant. ``slug`` is its stable, URL-safe name; the rest has defaults."""

    name: Name
    plan: Code = "standard"
    timezone: Annotated[str, Meta(min_length=1, max_length=64)] = "Asia/Shanghai"
    locale: Annotated[str, Meta(min_length=1, max_length=16)] = "zh-CN"
    currency: Annotated[str, Meta(min_length=3, max_length=3)] = "CNY"
    phone_region: Annotated[str, Meta(min_length=2, max_length=2)] = "CN"


class Tenant(msgspec.Struct):
    """A tenant (a store chain)."""

    id: UUID
    slug: str
    name: str
    status: str
    timezone: str
    locale: str
    currency: str
    phone_region: str
    plan: str


class Module(msgspec.Struct):
    """A plugin as one tenant has it: allowed by its plan, enabled, settings (secrets masked),
    store restriction (``null``: every store) and suspension after repeated failures."""

    id: str
    name: str
    version: str
    description: str
    allowed: bool
    enabled: bool
    settings: dict[str, Any]
    store_ids: list[UUID] | None
    suspended_until: dt.datetime | None
    depends: list[str]


class TenantDetail(Tenant):
    """A tenant with every installed plugin's status for it."""

    modules: list[Module]


class ModuleUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Enable (with the plugins it depends on) or disable a plugin for a tenant.

    ``settings`` replaces the stored settings (omitted: kept; ``"********"`` keeps a secret).
    ``stores`` restricts the plugin to these stores, by code or id (omitted: kept). ``cascade``
    also disables the enabled plugins that depend on it; without it that is refused.
    """

    enabled: bool
    settings: dict[str, Any] | None = None
    stores: Annotated[list[Code], Meta(max_length=1000)] | None = None
    cascade: bool = False


class ModuleChange(msgspec.Struct):
    """The plugin's status after the change and which plugins it enabled or disabled."""

    module: Module
    newly_enabled: list[str]
    newly_disabled: list[str]


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new API key with a role, optionally restricted to one store (code or id)."""

    name: Name
    role: Code
    store: Code | None = None


class ApiKeyCreated(msgspec.Struct):
    """A new key. ``key`` is shown this once: only its hash is stored."""

    id: UUID
    key: str
    name: str
    role: str
    store_id: UUID | None


class ApiKey(msgspec.Struct):
    """An API key without its secret (``key_hint``: its last characters)."""

    id: UUID
    name: str
    role: str
    store_id: UUID | None
    key_hint: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class Plugin(msgspec.Struct):
    """An installed plugin: its manifest, with the JSON Schema of its settings."""

    id: str
    name: str
    version: str
    description: str
    source: str
    depends: list[str]
    optional_depends: list[str]
    settings_schema: dict[str, Any]
    secret_settings: list[str]
    permissions: dict[str, str]
    personal_data: bool


class QuarantinedPlugin(msgspec.Struct):
    """A plugin that did not load, and why."""

    id: str
    reason: str
    source: str


class PluginList(msgspec.Struct):
    """Installed plugins (dependencies first) and quarantined ones."""

    installed: list[Plugin]
    quarantined: list[QuarantinedPlugin]


# -- authentication and errors -----------------------------------------------------------------


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
    return _error_response([ErrorDetail(e.field, e.code, e.message) for e in errors], exc.status)


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


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error responses a route can give (always 401)."""
    return {
        s: ResponseSpec(ErrorResponse, generate_examples=False, description=_ERROR_DESCRIPTIONS[s])
        for s in sorted({401, *statuses})
    }


# -- helpers -----------------------------------------------------------------------------------


def _actor() -> Actor:
    """The platform operator, with a fresh request id for the audit log."""
    return Actor(kind="platform", id="admin")


def _tenant(info: TenantInfo) -> Tenant:
    return msgspec.convert(info, Tenant, from_attributes=True)


async def _modules(tenant: TenantInfo, runtime: PluginRuntime) -> list[Module]:
    return msgspec.convert(await list_modules(tenant, runtime), list[Module], from_attributes=True)


def _as_uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


async def _store_ids(tenant: TenantInfo, refs: list[str], field: str) -> list[UUID]:
    """Store ids from store codes or ids (a code wins if both match); unknown ones are a
    field error. Order kept, duplicates dropped."""
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


# -- tenants -----------------------------------------------------------------------------------


@post(
    "/tenants",
    operation_id="adminTenantCreate",
    summary="Create a tenant",
    description="Creates the tenant with its built-in roles. A taken slug is a 409.",
    responses=_errors(400, 409),
)
async def tenant_create(data: JSONBody[TenantCreate]) -> Tenant:
    """``POST /admin/tenants``."""
    try:
        check_timezone(data.timezone)
    except OSError:  # e.g. "Asia" (a directory of the tz database): not a timezone either
        raise ValidationFailed(
            f"unknown timezone {data.timezone!r}", field="timezone", code="invalid_timezone"
        ) from None
    return _tenant(await create_tenant(data, _actor()))


@get(
    "/tenants",
    operation_id="adminTenantList",
    summary="List tenants",
    description="Every tenant, by slug.",
    responses=_errors(),
)
async def tenant_list() -> list[Tenant]:
    """``GET /admin/tenants``."""
    return [_tenant(t) for t in await list_tenants()]


@get(
    "/tenants/{slug:str}",
    operation_id="adminTenantGet",
    summary="Get a tenant and its modules",
    description="The tenant (by slug or id) with every installed plugin's status for it.",
    responses=_errors(404),
)
async def tenant_get(slug: FromPath[str]) -> TenantDetail:
    """``GET /admin/tenants/{slug}``."""
    tenant = await get_tenant(slug)
    modules = await _modules(tenant, get_runtime())
    return TenantDetail(**msgspec.structs.asdict(_tenant(tenant)), modules=modules)


@post(
    "/tenants/{slug:str}/suspend",
    status_code=200,
    operation_id="adminTenantSuspend",
    summary="Suspend a tenant",
    description="Its API keys and staff logins are refused until it is activated again.",
    responses=_errors(404),
)
async def tenant_suspend(slug: FromPath[str]) -> Tenant:
    """``POST /admin/tenants/{slug}/suspend``."""
    return _tenant(await set_tenant_status(slug, "suspended", _actor()))


@post(
    "/tenants/{slug:str}/activate",
    status_code=200,
    operation_id="adminTenantActivate",
    summary="Activate a tenant",
    description="Lifts a suspension.",
    responses=_errors(404),
)
async def tenant_activate(slug: FromPath[str]) -> Tenant:
    """``POST /admin/tenants/{slug}/activate``."""
    return _tenant(await set_tenant_status(slug, "active", _actor()))


# -- modules -----------------------------------------------------------------------------------


@put(
    "/tenants/{slug:str}/modules/{plugin_id:str}",
    operation_id="adminModuleSet",
    summary="Enable, configure or disable a module",
    description=(
        "Enabling also enables the plugins it depends on (listed in `newly_enabled`) and "
        "validates `settings` against the plugin's schema. Disabling keeps the data; enabled "
        "dependents are refused (409) unless `cascade`. Disabling a disabled module is a no-op."
    ),
    responses=_errors(400, 404, 409),
)
async def module_set(
    slug: FromPath[str], plugin_id: FromPath[str], data: JSONBody[ModuleUpdate]
) -> ModuleChange:
    """``PUT /admin/tenants/{slug}/modules/{plugin_id}``."""
    tenant = await get_tenant(slug)
    runtime = get_runtime()
    enabled: list[str] = []
    disabled: list[str] = []
    if data.enabled:
        stores = None if data.stores is None else await _store_ids(tenant, data.stores, "stores")
        enabled = await enable_module(
            tenant,
            _actor(),
            runtime,
            plugin_id,
            settings=data.settings,
            store_ids=stores,
            include_dependencies=True,
        )
    elif data.settings is not None or data.stores is not None:
        raise ValidationFailed("settings and stores apply only when enabling", field="enabled")
    else:
        try:
            disabled = await disable_module(
                tenant, _actor(), runtime, plugin_id, cascade=data.cascade
            )
        except ValidationFailed as exc:
            if exc.code != "not_enabled":
                raise
    module = next(m for m in await _modules(tenant, runtime) if m.id == plugin_id)
    return ModuleChange(module=module, newly_enabled=enabled, newly_disabled=disabled)


# -- API keys ----------------------------------------------------------------------------------


@post(
    "/tenants/{slug:str}/api-keys",
    operation_id="adminApiKeyCreate",
    summary="Create an API key",
    description="The key is returned this once; only its hash is stored.",
    responses=_errors(400, 404),
)
async def api_key_create(slug: FromPath[str], data: JSONBody[ApiKeyCreate]) -> ApiKeyCreated:
    """``POST /admin/tenants/{slug}/api-keys``."""
    tenant = await get_tenant(slug)
    store_id = (await _store_ids(tenant, [data.store], "store"))[0] if data.store else None
    key_id, key = await create_api_key(
        tenant, _actor(), name=data.name, role=data.role, store_id=store_id
    )
    return ApiKeyCreated(id=key_id, key=key, name=data.name, role=data.role, store_id=store_id)


@get(
    "/tenants/{slug:str}/api-keys",
    operation_id="adminApiKeyList",
    summary="List API keys",
    description="Every key of the tenant, revoked ones included, without secrets.",
    responses=_errors(404),
)
async def api_key_list(slug: FromPath[str]) -> list[ApiKey]:
    """``GET /admin/tenants/{slug}/api-keys``."""
    return msgspec.convert(await list_api_keys(await get_tenant(slug)), list[ApiKey])


@delete(
    "/tenants/{slug:str}/api-keys/{key_id:uuid}",
    operation_id="adminApiKeyRevoke",
    summary="Revoke an API key",
    description="The key is refused from now on. An unknown or already revoked key is a 404.",
    responses=_errors(404),
)
async def api_key_revoke(slug: FromPath[str], key_id: FromPath[UUID]) -> None:
    """``DELETE /admin/tenants/{slug}/api-keys/{key_id}``."""
    await revoke_api_key(await get_tenant(slug), _actor(), key_id)


# -- plugins -----------------------------------------------------------------------------------


@get(
    "/plugins",
    operation_id="adminPluginList",
    summary="List installed and quarantined plugins",
    description="Manifests with settings schemas, dependencies first; quarantined ones with why.",
    responses=_errors(),
)
async def plugin_list() -> PluginList:
    """``GET /admin/plugins``."""
    registry = get_runtime().registry
    installed = []
    for pid in registry.dependency_order():
        loaded = registry.plugins[pid]
        m = loaded.manifest
        installed.append(
            Plugin(
                id=m.id,
                name=m.name,
                version=m.version,
                description=m.description,
                source=loaded.source,
                depends=list(m.depends),
                optional_depends=list(m.optional_depends),
                settings_schema=m.settings_schema(),
                secret_settings=list(m.secret_settings),
                permissions=dict(m.permissions),
                personal_data=m.personal_data,
            )
        )
    quarantined = msgspec.convert(
        sorted(registry.quarantined.values(), key=lambda q: q.id),
        list[QuarantinedPlugin],
        from_attributes=True,
    )
    return PluginList(installed=installed, quarantined=quarantined)


admin_router = Router(
    path="/admin",
    route_handlers=[
        tenant_create,
        tenant_list,
        tenant_get,
        tenant_suspend,
        tenant_activate,
        module_set,
        api_key_create,
        api_key_list,
        api_key_revoke,
        plugin_list,
    ],
    guards=[admin_guard],
    exception_handlers=admin_exception_handlers,
    security=[{SECURITY_SCHEME: []}],
    tags=["admin"],
)
