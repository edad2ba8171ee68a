"""Module (plugin) enablement per tenant and store (PLUG-1, PLUG-2, PLUG-6).

The platform operator decides which installed plugins a tenant may use (``allowed``, stored in
the tenant's settings; unset means every installed plugin). The tenant enables within that.
Enabling shows, then enables, the plugin's dependencies; it validates settings against the
plugin's schema with field-level errors and never runs DDL (tables exist from ``mendian
migrate``). Disabling keeps the data; disabling a plugin others depend on is refused unless
cascaded. Purging a disabled plugin's data is separate and audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec

from core.auditing import audit
from core.context import Actor, TenantInfo
from core.db import json_text, json_value, platform_tx, tenant_tx
from core.errors import Conflict, NotFound, ValidationFailed
from core.plugins import PluginRuntime
from core.tables import Store, Tenant, TenantModule
from core.validation import convert
from tenants.service import forget_tenant_everywhere, get_tenant

__all__ = [
    "ModuleStatus",
    "disable_module",
    "enable_module",
    "list_modules",
    "plan_enable",
    "purge_module_data",
    "set_allowed_modules",
]

SECRET_MASK = "********"  # noqa: S105 - the placeholder shown instead of a secret


@dataclass(frozen=True)
class ModuleStatus:
    id: str
    name: str
    version: str
    description: str
    allowed: bool
    enabled: bool
    settings: dict[str, Any]
    store_ids: list[UUID] | None
    suspended_until: dt.datetime | None
    depends: tuple[str, ...]
    settings_schema: dict[str, Any]


async def _allowed(tenant: TenantInfo, runtime: PluginRuntime) -> set[str]:
    row = await Tenant.select(Tenant.settings).where(Tenant.id == tenant.id).first()
    settings = json_value(row["settings"] if row else None, {})
    allowed = settings.get("modules_allowed")
    return (
        set(runtime.registry.plugins)
        if allowed is None
        else set(allowed) & set(runtime.registry.plugins)
    )


async def set_allowed_modules(
    tenant_slug: str, plugin_ids: list[str] | None, runtime: PluginRuntime
) -> None:
    """Platform operator: which plugins the tenant may enable (``None``: all installed)."""
    unknown = set(plugin_ids or []) - set(runtime.registry.plugins)
    if unknown:
        raise ValidationFailed(f"unknown plugins: {', '.join(sorted(unknown))}", field="modules")
    tenant = await get_tenant(tenant_slug)
    async with platform_tx():
        row = await Tenant.select(Tenant.settings).where(Tenant.id == tenant.id).first()
        settings = dict(json_value(row["settings"] if row else None, {}))
        settings["modules_allowed"] = sorted(plugin_ids) if plugin_ids is not None else None
        await Tenant.update({Tenant.settings: json_text(settings)}).where(Tenant.id == tenant.id)
    await forget_tenant_everywhere(tenant)  # other processes keep a tenant long: tell them


def _check_installed(runtime: PluginRuntime, plugin_id: str) -> None:
    if plugin_id not in runtime.registry.plugins:
        reason = runtime.registry.quarantined.get(plugin_id)
        if reason:
            raise ValidationFailed(
                f"plugin {plugin_id} is quarantined: {reason.reason}",
                field="plugin_id",
                code="quarantined",
            )
        raise NotFound(f"no installed plugin {plugin_id!r}", field="plugin_id")


async def plan_enable(tenant: TenantInfo, runtime: PluginRuntime, plugin_id: str) -> list[str]:
    """What enabling ``plugin_id`` would enable: itself and its not-yet-enabled dependencies."""
    _check_installed(runtime, plugin_id)
    enabled = await runtime.enabled(tenant.id)
    return [p for p in runtime.registry.dependency_closure(plugin_id) if p not in enabled]


def _validate_settings(
    runtime: PluginRuntime, plugin_id: str, settings: dict[str, Any], previous: dict[str, Any]
) -> dict[str, Any]:
    manifest = runtime.registry.manifest(plugin_id)
    merged = dict(settings)
    for name in manifest.secret_settings:  # "********" means "keep what is stored"
        if merged.get(name) == SECRET_MASK and name in previous:
            merged[name] = previous[name]
    if manifest.settings is None:
        if merged:
            raise ValidationFailed("this plugin has no settings", field="settings", code="invalid")
        return {}
    try:
        value = convert(merged, manifest.settings)
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.message, field=f"settings.{exc.field}" if exc.field else "settings", code=exc.code
        ) from None
    return dict(msgspec.to_builtins(value))


async def enable_module(
    tenant: TenantInfo,
    actor: Actor,
    runtime: PluginRuntime,
    plugin_id: str,
    *,
    settings: dict[str, Any] | None = None,
    store_ids: list[UUID] | None = None,
    include_dependencies: bool = False,
) -> list[str]:
    """Enable (or re-configure) a plugin; returns the plugins newly enabled."""
    actor.require("modules:write")
    _check_installed(runtime, plugin_id)
    async with tenant_tx(tenant.id):
        if plugin_id not in await _allowed(tenant, runtime):
            raise ValidationFailed(
                f"plugin {plugin_id} is not in this tenant's plan",
                field="plugin_id",
                code="not_allowed",
            )
        closure = await plan_enable(tenant, runtime, plugin_id)
        missing = [p for p in closure if p != plugin_id]
        if missing and not include_dependencies:
            raise ValidationFailed(
                f"{plugin_id} needs {', '.join(missing)} enabled too",
                field="plugin_id",
                code="dependencies_required",
            )
        not_allowed = [p for p in missing if p not in await _allowed(tenant, runtime)]
        if not_allowed:
            raise ValidationFailed(
                f"dependencies not in this tenant's plan: {', '.join(not_allowed)}",
                field="plugin_id",
                code="not_allowed",
            )
        if store_ids is not None:
            found = await Store.count().where(Store.id.is_in(store_ids)) if store_ids else 0
            if found != len(set(store_ids)):
                raise ValidationFailed("unknown store", field="stores", code="unknown_store")
        rows = {r["plugin_id"]: dict(r) for r in await TenantModule.select()}
        changed: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = []
        now = dt.datetime.now(dt.UTC)
        for pid in [*missing, plugin_id]:
            row = rows.get(pid)
            previous = dict(json_value(row["settings"], {})) if row else {}
            wanted = settings if (pid == plugin_id and settings is not None) else previous
            clean = _validate_settings(runtime, pid, wanted, previous)
            values = {
                TenantModule.enabled: True,
                TenantModule.settings: json_text(clean),
                TenantModule.store_ids: json_text([str(s) for s in store_ids])
                if pid == plugin_id and store_ids is not None
                else (row["store_ids"] if row else None),
                TenantModule.updated_at: now,
                TenantModule.suspended_until: None,
                TenantModule.failure_count: 0,
            }
            was_enabled = bool(row and row["enabled"])
            if row is None:
                fields: dict[str, Any] = {c._meta.name: v for c, v in values.items()}
                await TenantModule.insert(TenantModule(plugin_id=pid, **fields))
            else:
                await TenantModule.update(values).where(TenantModule.id == row["id"])
            changed.append((pid, clean, previous, was_enabled))
            await audit(
                actor,
                "module.enable" if not was_enabled else "module.configure",
                subject_type="module",
                subject_id=pid,
                details={"stores": [str(s) for s in store_ids] if store_ids else None},
            )
    await runtime.publish_invalidation(tenant.id)
    for pid, clean, previous, was_enabled in changed:
        # Hooks get the plugin's validated settings struct (the runtime converts them).
        module = frozenset({pid})
        if not was_enabled:
            await runtime.notify(tenant, "on_plugin_enabled", plugins=module, tenant=tenant)
        elif clean != previous:
            await runtime.notify(
                tenant,
                "on_plugin_settings_changed",
                plugins=module,
                tenant=tenant,
                previous=runtime.registry.manifest(pid).typed_settings(previous),
            )
    return [pid for pid, _c, _p, was in changed if not was]


async def disable_module(
    tenant: TenantInfo,
    actor: Actor,
    runtime: PluginRuntime,
    plugin_id: str,
    *,
    cascade: bool = False,
) -> list[str]:
    """Disable a plugin (data kept). Enabled dependents: refused, or disabled too with ``cascade``."""
    actor.require("modules:write")
    _check_installed(runtime, plugin_id)
    enabled = await runtime.enabled(tenant.id)
    if plugin_id not in enabled and not any(
        s.enabled for p, s in (await runtime.states(tenant.id)).items() if p == plugin_id
    ):
        raise ValidationFailed(f"{plugin_id} is not enabled", field="plugin_id", code="not_enabled")
    to_disable = [plugin_id]
    stack = [plugin_id]
    while stack:
        for dep in runtime.registry.dependents(stack.pop()):
            if dep in enabled and dep not in to_disable:
                to_disable.append(dep)
                stack.append(dep)
    if len(to_disable) > 1 and not cascade:
        raise Conflict(
            f"{', '.join(to_disable[1:])} depend on {plugin_id}: disable them first or cascade",
            field="plugin_id",
            code="has_dependents",
        )
    async with tenant_tx(tenant.id):
        await TenantModule.update(
            {TenantModule.enabled: False, TenantModule.updated_at: dt.datetime.now(dt.UTC)}
        ).where(TenantModule.plugin_id.is_in(to_disable))
        for pid in to_disable:
            await audit(actor, "module.disable", subject_type="module", subject_id=pid)
    await runtime.publish_invalidation(tenant.id)
    await runtime.notify(tenant, "on_plugin_disabled", plugins=frozenset(to_disable), tenant=tenant)
    return to_disable


async def list_modules(tenant: TenantInfo, runtime: PluginRuntime) -> list[ModuleStatus]:
    async with tenant_tx(tenant.id, write=False):
        allowed = await _allowed(tenant, runtime)
    states = await runtime.states(tenant.id)
    out = []
    for pid in runtime.registry.dependency_order():
        m = runtime.registry.manifest(pid)
        s = states.get(pid)
        out.append(
            ModuleStatus(
                id=pid,
                name=m.name,
                version=m.version,
                description=m.description,
                allowed=pid in allowed,
                enabled=bool(s and s.enabled),
                settings=m.public_settings(m.default_settings() | (s.settings if s else {})),
                store_ids=sorted(s.store_ids) if s and s.store_ids is not None else None,
                suspended_until=s.suspended_until if s else None,
                depends=m.depends,
                settings_schema=m.settings_schema(),
            )
        )
    return out


async def purge_module_data(
    tenant: TenantInfo, actor: Actor, runtime: PluginRuntime, plugin_id: str
) -> int:
    """Delete every row the (disabled) plugin holds for the tenant; audited. Returns rows removed."""
    import importlib

    actor.require("modules:write")
    _check_installed(runtime, plugin_id)
    if plugin_id in await runtime.enabled(tenant.id):
        raise Conflict(
            "disable the plugin before purging its data", field="plugin_id", code="enabled"
        )
    manifest = runtime.registry.manifest(plugin_id)
    removed = 0
    async with tenant_tx(tenant.id):
        if manifest.piccolo_app:
            module = importlib.import_module(manifest.piccolo_app)
            for table in reversed(module.APP_CONFIG.table_classes):
                removed += len(await table.delete(force=True).returning(table.id))
        await audit(
            actor,
            "module.purge",
            subject_type="module",
            subject_id=plugin_id,
            details={"rows": removed},
        )
    return removed
