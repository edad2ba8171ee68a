"""Calling hooks from core services when plugins are loaded (and doing nothing when not)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core.context import TenantInfo
from core.plugins.runtime import current_runtime

__all__ = ["has_validators", "validate_hook"]


async def validate_hook(
    tenant: TenantInfo, hook_name: str, store_id: UUID | None = None, **kwargs: Any
) -> None:
    """Run a ``*_validate`` hook on the tenant's enabled plugins: a ``ValidationFailed`` vetoes."""
    runtime = current_runtime()
    if runtime is not None:
        await runtime.validate(tenant, hook_name, store_id, tenant=tenant, **kwargs)


async def has_validators(tenant: TenantInfo, hook_name: str, store_id: UUID | None = None) -> bool:
    """Whether any plugin enabled here implements ``hook_name`` (cached enabled set)."""
    runtime = current_runtime()
    if runtime is None:
        return False
    return bool(runtime.implementations(hook_name, await runtime.enabled(tenant.id, store_id)))
