"""KPIs (CORE-14): the core's figures, the catalogue of every module's KPIs, per-staff figures
and targets.

Definitions (written down because every CRM defines them a little differently):

* **new customers** — customers created in the period (by home store when a store is given);
  per staff member, those they signed up (``customer.created_by_staff_id``);
* **active customers** — distinct customers with at least one sale in the period;
* **repeat-purchase rate** — of the active customers, the share with two or more sales in the
  period;
* **average ticket** — net sales (sales minus refunds) divided by the number of sales;
* **value-class mix** — customers per value class now (by home store when a store is given);
* **tasks done / on time** — follow-up and revisit tasks completed in the period, and the share
  completed by their due time (per staff member: the one who completed them).
"""

from core.kpis.catalogue import KpiEntry, kpi_catalogue, kpi_entry
from core.kpis.figures import (
    CoreKpis,
    check_period,
    core_definitions,
    core_kpis,
    plugin_kpis,
    visible_stores,
)
from core.kpis.staff import StaffKpiRow, staff_kpis
from core.kpis.targets import (
    TargetProgress,
    period_window,
    remove_target,
    set_target,
    target_progress,
)

__all__ = [
    "CoreKpis",
    "KpiEntry",
    "StaffKpiRow",
    "TargetProgress",
    "check_period",
    "core_definitions",
    "core_kpis",
    "kpi_catalogue",
    "kpi_entry",
    "period_window",
    "plugin_kpis",
    "remove_target",
    "set_target",
    "staff_kpis",
    "target_progress",
    "visible_stores",
]
