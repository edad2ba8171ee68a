"""Every KPI a tenant can read, target and rank staff by: the core's and its enabled plugins'
(``register_kpis``), keyed ``<module>.<name>`` (``core.net_sales``, ``loyalty.points_issued``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from core.context import TenantInfo
from core.errors import ValidationFailed
from core.kpis.figures import core_definitions
from core.types import KpiDefinition

if TYPE_CHECKING:
    from core.plugins.runtime import PluginRuntime

__all__ = ["KpiEntry", "kpi_catalogue", "kpi_entry"]


@dataclass(frozen=True)
class KpiEntry:
    """A KPI with the module that owns it."""

    module: str
    definition: KpiDefinition

    @property
    def key(self) -> str:
        return f"{self.module}.{self.definition.name}"

    def label(self, locale: str) -> str:
        labels = self.definition.label
        return labels.get(locale) or labels.get("zh-CN") or self.definition.description


async def kpi_catalogue(
    tenant: TenantInfo, runtime: PluginRuntime | None, store_id: UUID | None = None
) -> dict[str, KpiEntry]:
    """The KPIs of the core and of the plugins enabled for the tenant (and store)."""
    entries = [KpiEntry("core", d) for d in core_definitions()]
    if runtime is not None:
        enabled = await runtime.enabled(tenant.id, store_id)
        for plugin_id, definitions in runtime.registry.collect_for("register_kpis", enabled):
            entries.extend(KpiEntry(plugin_id, d) for d in definitions or [])
    return {e.key: e for e in entries}


async def kpi_entry(
    tenant: TenantInfo,
    runtime: PluginRuntime | None,
    key: str,
    store_id: UUID | None = None,
    *,
    field: str = "kpi",
) -> KpiEntry:
    """One KPI by key; an unknown one (or a disabled module's) is ``unknown_kpi`` on ``field``."""
    entry = (await kpi_catalogue(tenant, runtime, store_id)).get(key)
    if entry is None:
        raise ValidationFailed(
            f"unknown KPI {key[:100]!r}: use <module>.<name>, e.g. core.net_sales",
            field=field,
            code="unknown_kpi",
        )
    return entry
