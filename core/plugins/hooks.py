"""Calling validate hooks from core services (and doing nothing when no plugins are loaded)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.context import TenantInfo

if TYPE_CHECKING:
    from core.plugins.runtime import PluginRuntime

__all__ = ["has_validators", "validate_hook"]


async def validate_hook(
    runtime: PluginRuntime | None,
    tenant: TenantInfo,
    hook_name: str,
    store_id: UUID | None = None,
    **kwargs: Any,
) -> None:
    """Run a ``*_validate`` hook on the tenant's enabled plugins: a ``ValidationFailed`` vetoes."""
    if runtime is not None:
        await runtime.validate(tenant, hook_name, store_id, tenant=tenant, **kwargs)


async def has_validators(
    runtime: PluginRuntime | None, tenant: TenantInfo, hook_name: str, store_id: UUID | None = None
) -> bool:
    """Whether any plugin enabled here implements ``hook_name`` (cached enabled set)."""
    if runtime is None:
        return False
    return bool(runtime.implementations(hook_name, await runtime.enabled(tenant.id, store_id)))
