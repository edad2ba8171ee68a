"""The core's figures per store and period, and the KPIs of the enabled plugins."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from core.context import Actor, TenantInfo
from core.db import tenant_tx
from core.errors import ValidationFailed
from core.money import from_minor
from core.sql import run
from core.types import KpiDefinition

if TYPE_CHECKING:
    from core.plugins.runtime import PluginRuntime

__all__ = [
    "CoreKpis",
    "check_period",
    "core_definitions",
    "core_kpis",
    "plugin_kpis",
    "visible_stores",
]


def check_period(period_from: dt.datetime, period_to: dt.datetime) -> None:
    """Aware bounds, ``to`` after ``from``."""
    if period_from.tzinfo is None or period_to.tzinfo is None:
        raise ValidationFailed(
            "period bounds must carry a timezone offset", field="from", code="naive_datetime"
        )
    if period_to <= period_from:
        raise ValidationFailed("'to' must be after 'from'", field="to", code="invalid_period")


def visible_stores(actor: Actor, store_id: UUID | None) -> list[UUID] | None:
    """The stores figures may cover (CORE-3, one rule for every read with a store): the store
    asked for (it must be one the caller sees), else a store-scoped caller's own stores, else
    ``None`` — every store. Another store is ``unknown_store``, like a missing one."""
    if store_id is not None:
        if not actor.sees_store(store_id):
            raise ValidationFailed("unknown store", field="store_id", code="unknown_store")
        return [store_id]
    if actor.store_ids is not None:
        return sorted(actor.store_ids)
    return None


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
    check_period(period_from, period_to)
    stores = visible_stores(actor, store_id)
    async with tenant_tx(tenant.id, write=False):
        return await _figures(tenant, period_from, period_to, stores, store_id)


def _in_stores(stores: list[UUID] | None, column: str, p: dict[str, Any]) -> str:
    """`` AND <column> IN (...)`` for the stores (none: every store), binding them in ``p``."""
    if stores is None:
        return ""
    names = [f"s{i}" for i in range(len(stores))]
    p |= dict(zip(names, stores, strict=True))
    return f" AND {column} IN ({', '.join(f':{n}' for n in names)})"


def _bounds(tenant: TenantInfo, period_from: dt.datetime, period_to: dt.datetime) -> dict[str, Any]:
    return {"t": tenant.id, "a": period_from.astimezone(dt.UTC), "b": period_to.astimezone(dt.UTC)}


async def _figures(
    tenant: TenantInfo,
    period_from: dt.datetime,
    period_to: dt.datetime,
    stores: list[UUID] | None,
    store_id: UUID | None,
) -> CoreKpis:
    """The core's figures (inside the tenant's transaction)."""
    p = _bounds(tenant, period_from, period_to)
    store_p = _in_stores(stores, "store_id", p)
    home_c = _in_stores(stores, "c.home_store_id", p)
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
    *,
    runtime: PluginRuntime | None,
) -> dict[str, dict[str, Any]]:
    """KPIs contributed by the tenant's enabled plugins (``register_kpis``): ``{plugin: {name: value}}``.
    A store-scoped caller gets its store's figures (a caller of several stores names one)."""
    actor.require("kpis:read")
    if runtime is None:
        return {}
    stores = visible_stores(actor, store_id)
    if stores is not None and len(stores) > 1:
        raise ValidationFailed(
            "name the store for module figures", field="store_id", code="store_required"
        )
    store_id = stores[0] if stores else None
    out: dict[str, dict[str, Any]] = {}
    enabled = await runtime.enabled(tenant.id, store_id)
    for plugin_id, definitions in runtime.registry.collect_for("register_kpis", enabled):
        async with tenant_tx(tenant.id, write=False):
            out[plugin_id] = {
                d.name: await d.compute(tenant, period_from, period_to, store_id)
                for d in definitions or []
            }
    return out


# --- the core's KPIs as definitions: targets, staffKpis and reports treat them like a plugin's


def _pick(name: str) -> Any:
    async def compute(
        tenant: TenantInfo, a: dt.datetime, b: dt.datetime, store: UUID | None
    ) -> Any:
        figures = await _figures(tenant, a, b, [store] if store else None, store)
        return getattr(figures, name)

    return compute


async def _staff_sales(
    tenant: TenantInfo, a: dt.datetime, b: dt.datetime, store: UUID | None
) -> dict[UUID, dict[str, int]]:
    p = _bounds(tenant, a, b)
    store_p = _in_stores([store] if store else None, "store_id", p)
    rows = await run(
        "SELECT staff_id, SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END) AS n, "
        "COALESCE(SUM(amount_minor), 0) AS total FROM purchase WHERE tenant_id = :t "
        f"AND staff_id IS NOT NULL AND occurred_at >= :a AND occurred_at < :b{store_p} "
        "GROUP BY staff_id",
        **p,
    )
    return {UUID(str(r["staff_id"])): {"n": int(r["n"]), "total": int(r["total"])} for r in rows}


async def _sales_count_by_staff(
    tenant: TenantInfo, a: dt.datetime, b: dt.datetime, store: UUID | None
) -> dict[UUID, int]:
    return {k: v["n"] for k, v in (await _staff_sales(tenant, a, b, store)).items()}


async def _net_sales_by_staff(
    tenant: TenantInfo, a: dt.datetime, b: dt.datetime, store: UUID | None
) -> dict[UUID, Decimal]:
    return {
        k: from_minor(v["total"], tenant.currency)
        for k, v in (await _staff_sales(tenant, a, b, store)).items()
    }


async def _average_ticket_by_staff(
    tenant: TenantInfo, a: dt.datetime, b: dt.datetime, store: UUID | None
) -> dict[UUID, Decimal]:
    return {
        k: from_minor(round(v["total"] / v["n"]), tenant.currency)
        for k, v in (await _staff_sales(tenant, a, b, store)).items()
        if v["n"]
    }


async def _new_customers_by_staff(
    tenant: TenantInfo, a: dt.datetime, b: dt.datetime, store: UUID | None
) -> dict[UUID, int]:
    """Customers a staff member signed up in the period (``created_by_staff_id``)."""
    p = _bounds(tenant, a, b)
    home_c = _in_stores([store] if store else None, "home_store_id", p)
    rows = await run(
        "SELECT created_by_staff_id AS s, COUNT(*) AS n FROM customer WHERE tenant_id = :t "
        "AND created_by_staff_id IS NOT NULL AND created_at >= :a AND created_at < :b "
        f"AND status <> 'merged'{home_c} GROUP BY created_by_staff_id",
        **p,
    )
    return {UUID(str(r["s"])): int(r["n"]) for r in rows}


async def _tasks(
    tenant: TenantInfo, a: dt.datetime, b: dt.datetime, store: UUID | None
) -> dict[UUID, tuple[int, int]]:
    """Per staff member: tasks (follow-ups and revisits, 回访) completed in the period, and how
    many of them by their due time."""
    p = _bounds(tenant, a, b)
    store_p = _in_stores([store] if store else None, "store_id", p)
    rows = await run(
        "SELECT completed_by AS s, COUNT(*) AS n, "
        "SUM(CASE WHEN completed_at <= due_at THEN 1 ELSE 0 END) AS on_time FROM task "
        "WHERE tenant_id = :t AND status = 'done' AND completed_by IS NOT NULL "
        f"AND completed_at >= :a AND completed_at < :b{store_p} GROUP BY completed_by",
        **p,
    )
    return {UUID(str(r["s"])): (int(r["n"]), int(r["on_time"] or 0)) for r in rows}


async def _tasks_done(
    tenant: TenantInfo, a: dt.datetime, b: dt.datetime, store: UUID | None
) -> int:
    return sum(n for n, _ in (await _tasks(tenant, a, b, store)).values())


async def _tasks_done_by_staff(
    tenant: TenantInfo, a: dt.datetime, b: dt.datetime, store: UUID | None
) -> dict[UUID, int]:
    return {k: n for k, (n, _) in (await _tasks(tenant, a, b, store)).items()}


def _share(part: int, whole: int) -> Decimal:
    return (Decimal(part) / whole).quantize(Decimal("0.0001"))


async def _tasks_on_time(
    tenant: TenantInfo, a: dt.datetime, b: dt.datetime, store: UUID | None
) -> Decimal | None:
    done = list((await _tasks(tenant, a, b, store)).values())
    total = sum(n for n, _ in done)
    return _share(sum(t for _, t in done), total) if total else None


async def _tasks_on_time_by_staff(
    tenant: TenantInfo, a: dt.datetime, b: dt.datetime, store: UUID | None
) -> dict[UUID, Decimal]:
    return {k: _share(t, n) for k, (n, t) in (await _tasks(tenant, a, b, store)).items() if n}


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def core_definitions() -> list[KpiDefinition]:
    """The core's KPIs (module ``core``), with their staff dimension where a sale, a sign-up
    or a task names the staff member."""
    return [
        KpiDefinition(
            "new_customers",
            "Customers created in the period",
            _pick("new_customers"),
            by_staff=_new_customers_by_staff,
            label=_label("新客户", "New customers"),
        ),
        KpiDefinition(
            "active_customers",
            "Customers with at least one sale in the period",
            _pick("active_customers"),
            label=_label("活跃客户", "Active customers"),
        ),
        KpiDefinition(
            "repeat_rate",
            "Share of active customers with two or more sales",
            _pick("repeat_rate"),
            label=_label("复购率", "Repeat-purchase rate"),
            accumulates=False,
        ),
        KpiDefinition(
            "sales_count",
            "Sales in the period",
            _pick("sales_count"),
            by_staff=_sales_count_by_staff,
            label=_label("销售笔数", "Sales"),
        ),
        KpiDefinition(
            "net_sales",
            "Sales minus refunds",
            _pick("net_sales"),
            by_staff=_net_sales_by_staff,
            label=_label("净销售额", "Net sales"),
        ),
        KpiDefinition(
            "average_ticket",
            "Net sales per sale",
            _pick("average_ticket"),
            by_staff=_average_ticket_by_staff,
            label=_label("客单价", "Average ticket"),
            accumulates=False,
        ),
        KpiDefinition(
            "tasks_done",
            "Follow-up and revisit tasks completed in the period",
            _tasks_done,
            by_staff=_tasks_done_by_staff,
            label=_label("完成回访任务", "Tasks done"),
        ),
        KpiDefinition(
            "tasks_on_time",
            "Share of the tasks completed in the period that were done by their due time",
            _tasks_on_time,
            by_staff=_tasks_on_time_by_staff,
            label=_label("按时完成率", "Tasks on time"),
            accumulates=False,
        ),
    ]
