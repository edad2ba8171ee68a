"""Tenants and their API keys: ``/admin/tenants…``."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from api.admin._http import (
    error_responses,
    module_bodies,
    platform_actor,
    runtime_of,
    store_ids,
    tenant_body,
)
from api.admin.schemas import (
    ApiKey,
    ApiKeyCreate,
    ApiKeyCreated,
    Tenant,
    TenantCreate,
    TenantDetail,
)
from core.errors import ValidationFailed
from tenants.credentials import create_api_key, list_api_keys, revoke_api_key
from tenants.service import (
    check_timezone,
    create_tenant,
    get_tenant,
    list_tenants,
    set_tenant_status,
)

# -- tenants -----------------------------------------------------------------------------------


@post(
    "/tenants",
    operation_id="adminTenantCreate",
    summary="Create a tenant",
    description="Creates the tenant with its built-in roles. A taken slug is a 409.",
    responses=error_responses(400, 409),
)
async def tenant_create(data: JSONBody[TenantCreate], state: State) -> Tenant:
    """``POST /admin/tenants``."""
    try:
        check_timezone(data.timezone)
    except OSError:  # e.g. "Asia" (a directory of the tz database): not a timezone either
        raise ValidationFailed(
            f"unknown timezone {data.timezone!r}", field="timezone", code="invalid_timezone"
        ) from None
    return tenant_body(await create_tenant(data, platform_actor(), runtime=runtime_of(state)))


@get(
    "/tenants",
    operation_id="adminTenantList",
    summary="List tenants",
    description="Every tenant, by slug.",
    responses=error_responses(),
)
async def tenant_list() -> list[Tenant]:
    """``GET /admin/tenants``."""
    return [tenant_body(t) for t in await list_tenants()]


@get(
    "/tenants/{slug:str}",
    operation_id="adminTenantGet",
    summary="Get a tenant and its modules",
    description="The tenant (by slug or id) with every installed plugin's status for it.",
    responses=error_responses(404),
)
async def tenant_get(slug: FromPath[str], state: State) -> TenantDetail:
    """``GET /admin/tenants/{slug}``."""
    tenant = await get_tenant(slug)
    modules = await module_bodies(tenant, runtime_of(state))
    return TenantDetail(**msgspec.structs.asdict(tenant_body(tenant)), modules=modules)


@post(
    "/tenants/{slug:str}/suspend",
    status_code=200,
    operation_id="adminTenantSuspend",
    summary="Suspend a tenant",
    description="Its API keys and staff logins are refused until it is activated again.",
    responses=error_responses(404),
)
async def tenant_suspend(slug: FromPath[str]) -> Tenant:
    """``POST /admin/tenants/{slug}/suspend``."""
    return tenant_body(await set_tenant_status(slug, "suspended", platform_actor()))


@post(
    "/tenants/{slug:str}/activate",
    status_code=200,
    operation_id="adminTenantActivate",
    summary="Activate a tenant",
    description="Lifts a suspension.",
    responses=error_responses(404),
)
async def tenant_activate(slug: FromPath[str]) -> Tenant:
    """``POST /admin/tenants/{slug}/activate``."""
    return tenant_body(await set_tenant_status(slug, "active", platform_actor()))


# -- API keys ----------------------------------------------------------------------------------


@post(
    "/tenants/{slug:str}/api-keys",
    operation_id="adminApiKeyCreate",
    summary="Create an API key",
    description="The key is returned this once; only its hash is stored.",
    responses=error_responses(400, 404),
)
async def api_key_create(slug: FromPath[str], data: JSONBody[ApiKeyCreate]) -> ApiKeyCreated:
    """``POST /admin/tenants/{slug}/api-keys``."""
    tenant = await get_tenant(slug)
    store_id = (await store_ids(tenant, [data.store], "store"))[0] if data.store else None
    key_id, key = await create_api_key(
        tenant, platform_actor(), name=data.name, role=data.role, store_id=store_id
    )
    return ApiKeyCreated(id=key_id, key=key, name=data.name, role=data.role, store_id=store_id)


@get(
    "/tenants/{slug:str}/api-keys",
    operation_id="adminApiKeyList",
    summary="List API keys",
    description="Every key of the tenant, revoked ones included, without secrets.",
    responses=error_responses(404),
)
async def api_key_list(slug: FromPath[str]) -> list[ApiKey]:
    """``GET /admin/tenants/{slug}/api-keys``."""
    return msgspec.convert(await list_api_keys(await get_tenant(slug)), list[ApiKey])


@delete(
    "/tenants/{slug:str}/api-keys/{key_id:uuid}",
    operation_id="adminApiKeyRevoke",
    summary="Revoke an API key",
    description="The key is refused from now on. An unknown or already revoked key is a 404.",
    responses=error_responses(404),
)
async def api_key_revoke(slug: FromPath[str], key_id: FromPath[UUID]) -> None:
    """``DELETE /admin/tenants/{slug}/api-keys/{key_id}``."""
    await revoke_api_key(await get_tenant(slug), platform_actor(), key_id)
