"""Core KPIs per store and period (CORE-14).

Definitions (written down because every CRM defines them a little differently):

* **new customers** — customers created in the period (by home store when a store is given);
* **active customers** — distinct customers with at least one sale in the period;
* **repeat-purchase rate** — of the active customers, the share with two or more sales in the
  period;
* **average ticket** — net sales (sales minus refunds) divided by the number of sales;
* **value-class mix** — customers per value class now (by home store when a store is given).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from core.context import Actor, TenantInfo
from core.db import tenant_tx
from core.errors import ValidationFailed
from core.money import from_minor
from core.sql import run

__all__ = ["CoreKpis", "core_kpis"]


class CoreKpis(msgspec.Struct, kw_only=True):
    period_from: dt.datetime
    period_to: dt.datetime
    store_id: UUID | None
    new_customers: int
    active_customers: int
    repeat_customers: int
    repeat_rate: Decimal
    sales_count: int
    net_sales: Decimal
    average_ticket: Decimal
    value_class_mix: dict[str, int]


async def core_kpis(
    tenant: TenantInfo,
    actor: Actor,
    period_from: dt.datetime,
    period_to: dt.datetime,
    store_id: UUID | None = None,
) -> CoreKpis:
    actor.require("kpis:read")
    if period_from.tzinfo is None or period_to.tzinfo is None:
        raise ValidationFailed(
            "period bounds must carry a timezone offset", field="from", code="naive_datetime"
        )
    if period_to <= period_from:
        raise ValidationFailed("'to' must be after 'from'", field="to", code="invalid_period")
    if store_id is not None and not actor.sees_store(store_id):
        raise ValidationFailed("unknown store", field="store_id", code="unknown_store")
    p: dict[str, Any] = {
        "t": tenant.id,
        "a": period_from.astimezone(dt.UTC),
        "b": period_to.astimezone(dt.UTC),
    }
    store_p = " AND store_id = :s" if store_id else ""
    home_c = " AND c.home_store_id = :s" if store_id else ""
    if store_id:
        p["s"] = store_id
    async with tenant_tx(tenant.id, write=False):
        new = await run(
            f"SELECT COUNT(*) AS n FROM customer c WHERE c.tenant_id = :t AND c.created_at >= :a "
            f"AND c.created_at < :b AND c.status <> 'merged'{home_c}",
            **p,
        )
        sales = await run(
            "SELECT COUNT(*) AS n, COALESCE(SUM(amount_minor), 0) AS total FROM purchase "
            f"WHERE tenant_id = :t AND occurred_at >= :a AND occurred_at < :b{store_p}",
            **p,
        )
        sale_count = await run(
            "SELECT COUNT(*) AS n FROM purchase WHERE tenant_id = :t AND kind = 'sale' "
            f"AND occurred_at >= :a AND occurred_at < :b{store_p}",
            **p,
        )
        active = await run(
            "SELECT COUNT(*) AS active, COALESCE(SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END), 0) AS repeat FROM ("
            "SELECT customer_id, COUNT(*) AS n FROM purchase WHERE tenant_id = :t AND kind = 'sale' "
            f"AND customer_id IS NOT NULL AND occurred_at >= :a AND occurred_at < :b{store_p} "
            "GROUP BY customer_id) q",
            **p,
        )
        mix = await run(
            "SELECT s.value_class AS k, COUNT(*) AS n FROM customer_stats s JOIN customer c "
            "ON c.tenant_id = s.tenant_id AND c.id = s.customer_id "
            f"WHERE s.tenant_id = :t AND c.status = 'active'{home_c} GROUP BY s.value_class",
            **p,
        )
    n_sales = int(sale_count[0]["n"])
    net = int(sales[0]["total"])
    n_active = int(active[0]["active"])
    n_repeat = int(active[0]["repeat"])
    classes = {"high_value": 0, "regular": 0, "potential": 0} | {r["k"]: int(r["n"]) for r in mix}
    return CoreKpis(
        period_from=period_from,
        period_to=period_to,
        store_id=store_id,
        new_customers=int(new[0]["n"]),
        active_customers=n_active,
        repeat_customers=n_repeat,
        repeat_rate=(Decimal(n_repeat) / n_active).quantize(Decimal("0.0001"))
        if n_active
        else Decimal(0),
        sales_count=n_sales,
        net_sales=from_minor(net, tenant.currency),
        average_ticket=from_minor(round(net / n_sales), tenant.currency) if n_sales else Decimal(0),
        value_class_mix=classes,
    )


async def plugin_kpis(
    tenant: TenantInfo,
    actor: Actor,
    period_from: dt.datetime,
    period_to: dt.datetime,
    store_id: UUID | None = None,
) -> dict[str, dict[str, Any]]:
    """KPIs contributed by the tenant's enabled plugins (``register_kpis``): ``{plugin: {name: value}}``."""
    from core.plugins import current_runtime

    actor.require("kpis:read")
    runtime = current_runtime()
    if runtime is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for plugin_id, definitions in await runtime.collect(tenant, "register_kpis", store_id):
        async with tenant_tx(tenant.id, write=False):
            out[plugin_id] = {
                d.name: await d.compute(tenant, period_from, period_to, store_id)
                for d in definitions or []
            }
    return out
