"""Modules (plugins) per tenant and the installed plugins: ``/admin/…/modules``, ``/admin/plugins``."""

from __future__ import annotations

import msgspec
from litestar import get, put
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from api.admin._http import (
    error_responses,
    module_bodies,
    platform_actor,
    runtime_of,
    store_ids,
)
from api.admin.schemas import (
    ModuleChange,
    ModuleUpdate,
    Plugin,
    PluginList,
    QuarantinedPlugin,
)
from core.errors import ValidationFailed
from tenants.modules import disable_module, enable_module
from tenants.service import (
    get_tenant,
)

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
    responses=error_responses(400, 404, 409),
)
async def module_set(
    slug: FromPath[str], plugin_id: FromPath[str], data: JSONBody[ModuleUpdate], state: State
) -> ModuleChange:
    """``PUT /admin/tenants/{slug}/modules/{plugin_id}``."""
    tenant = await get_tenant(slug)
    runtime = runtime_of(state)
    enabled: list[str] = []
    disabled: list[str] = []
    if data.enabled:
        stores = None if data.stores is None else await store_ids(tenant, data.stores, "stores")
        enabled = await enable_module(
            tenant,
            platform_actor(),
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
                tenant, platform_actor(), runtime, plugin_id, cascade=data.cascade
            )
        except ValidationFailed as exc:
            if exc.code != "not_enabled":
                raise
    module = next(m for m in await module_bodies(tenant, runtime) if m.id == plugin_id)
    return ModuleChange(module=module, newly_enabled=enabled, newly_disabled=disabled)


# -- plugins -----------------------------------------------------------------------------------


@get(
    "/plugins",
    operation_id="adminPluginList",
    summary="List installed and quarantined plugins",
    description="Manifests with settings schemas, dependencies first; quarantined ones with why.",
    responses=error_responses(),
)
async def plugin_list(state: State) -> PluginList:
    """``GET /admin/plugins``."""
    registry = runtime_of(state).registry
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
