"""Key figures (CORE-14): ``kpis(from, to, storeId)`` with target progress, ``staffKpis``
(per staff member, ranked), ``kpiTargetSet`` / ``kpiTargetRemove``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, cast

import msgspec
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.operations._common import arg, runtime_of, uuid_of
from core.graphql import UserError, attempt, context_of, input_data, loaders
from core.graphql.enums import KpiPeriod, KpiTargetStatus
from core.graphql.types import Kpis, KpiTarget, KpiTargetProgress, ModuleKpi, Staff

__all__ = ["KpiMutation", "KpiQuery"]


def _json(value: Any) -> JSON:
    return cast(JSON, msgspec.to_builtins(value))


@strawberry.type(description="One staff member's figures for a period (绩效考核).")
class StaffKpis:
    staff: Staff = strawberry.field(description="The staff member.")
    rank: int = strawberry.field(description="1 = best by `rankBy`; members without it last.")
    values: list[ModuleKpi] = strawberry.field(
        description="Each KPI with a staff dimension, `module` and `key` as in `kpis`."
    )

    @strawberry.field(description="One figure by `<module>.<name>`; null if none.")
    def value(self, kpi: Annotated[str, arg("The KPI, e.g. `core.net_sales`.")]) -> JSON | None:
        module, _, key = kpi.partition(".")
        for v in self.values:
            if v.module == module and v.key == key:
                return v.value
        return None


@strawberry.type
class KpiQuery:
    @strawberry.field(
        description="Key figures for `[from, to)`, for one store or (without `storeId`) the "
        "stores the caller sees — a store-scoped caller gets its own stores' figures — with "
        "the progress of the targets whose period overlaps it."
    )
    async def kpis(
        self,
        info: Info,
        from_: Annotated[
            dt.datetime, strawberry.argument(name="from", description="Period start.")
        ],
        to: Annotated[dt.datetime, arg("Period end (exclusive).")],
        store_id: Annotated[strawberry.ID | None, arg("One store; omitted: all visible.")] = None,
    ) -> Kpis:
        from core.kpis import core_kpis, plugin_kpis, target_progress

        tenant, actor = context_of(info).caller()
        store = uuid_of(store_id, "Store", "storeId") if store_id else None
        runtime = runtime_of(info)
        core = await core_kpis(tenant, actor, from_, to, store)
        modules = await plugin_kpis(tenant, actor, from_, to, store, runtime=runtime)
        targets = await target_progress(tenant, actor, from_, to, store, runtime=runtime)
        return Kpis(
            new_customers=core.new_customers,
            active_customers=core.active_customers,
            repeat_customers=core.repeat_customers,
            repeat_rate=core.repeat_rate,
            sales_count=core.sales_count,
            net_sales=core.net_sales,
            average_ticket=core.average_ticket,
            value_class_mix=cast(JSON, core.value_class_mix),
            modules=[
                ModuleKpi(module=plugin, key=key, value=_json(value))
                for plugin, values in sorted(modules.items())
                for key, value in sorted(values.items())
            ],
            targets=[
                KpiTargetProgress(
                    target=KpiTarget.from_row(t.target),
                    label=t.label,
                    value=t.value,
                    progress=t.progress,
                    elapsed=t.elapsed,
                    projected=t.projected,
                    status=KpiTargetStatus(t.status),
                    at_risk=t.at_risk,
                )
                for t in targets
            ],
        )

    @strawberry.field(
        description="Each staff member's figures for `[from, to)` in one store (a store "
        "manager: their store; without `storeId`, a chain-wide caller gets every member), "
        "ranked by `rankBy`: sales, sign-ups, tasks on time, and what the enabled modules "
        "measure per member (complaints handled, praise, survey scores)."
    )
    async def staff_kpis(
        self,
        info: Info,
        from_: Annotated[
            dt.datetime, strawberry.argument(name="from", description="Period start.")
        ],
        to: Annotated[dt.datetime, arg("Period end (exclusive).")],
        store_id: Annotated[
            strawberry.ID | None, arg("The store; omitted: your store or all.")
        ] = None,
        rank_by: Annotated[
            str, arg("The KPI to rank by, `<module>.<name>` with a staff dimension.")
        ] = "core.net_sales",
    ) -> list[StaffKpis]:
        from core.kpis import staff_kpis

        tenant, actor = context_of(info).caller()
        actor.require("staff:read")
        store = uuid_of(store_id, "Store", "storeId") if store_id else None
        rows = await staff_kpis(
            tenant, actor, from_, to, store, runtime=runtime_of(info), rank_by=rank_by
        )
        members = await loaders.staff(info).load_many([r.staff.id for r in rows])
        return [
            StaffKpis(
                staff=member,
                rank=r.rank,
                values=[
                    ModuleKpi(module=k.split(".", 1)[0], key=k.split(".", 1)[1], value=_json(v))
                    for k, v in sorted(r.values.items())
                ],
            )
            for r, member in zip(rows, members, strict=True)
            if member is not None
        ]


@strawberry.input(description="A KPI's target for a store (or the chain) and a month or week.")
class KpiTargetSetInput:
    kpi: str = strawberry.field(description="The KPI, `<module>.<name>` (`core.new_customers`).")
    period: KpiPeriod = strawberry.field(description="Month or week.")
    period_start: dt.date = strawberry.field(description="Its first day: a 1st, or a Monday.")
    target: Decimal = strawberry.field(description="The value to reach (≥ 0).")
    store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The store; omitted: the chain."
    )


@strawberry.type(description="Result of `kpiTargetSet`.")
class KpiTargetSetPayload:
    target: KpiTarget | None = strawberry.field(description="The target as saved.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="The target to remove.")
class KpiTargetRemoveInput:
    id: strawberry.ID = strawberry.field(description="The target (`KpiTarget`).")


@strawberry.type(description="Result of `kpiTargetRemove`.")
class KpiTargetRemovePayload:
    removed_id: strawberry.ID | None = strawberry.field(description="The removed target.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type
class KpiMutation:
    @strawberry.mutation(
        description="Set a KPI's target for a store or the chain and a month or week (again: "
        "changes it). Needs `kpis:write`; audited."
    )
    async def kpi_target_set(
        self, info: Info, input: Annotated[KpiTargetSetInput, arg("The target.")]
    ) -> KpiTargetSetPayload:
        from core.kpis import set_target

        tenant, actor = context_of(info).caller()

        async def run() -> dict[str, Any]:
            data = input_data(input, store_id="Store")
            return await set_target(
                tenant,
                actor,
                kpi=data["kpi"],
                period=data["period"],
                period_start=data["period_start"],
                target=data["target"],
                store_id=data.get("store_id"),
                runtime=runtime_of(info),
            )

        row, errors = await attempt(run)
        return KpiTargetSetPayload(target=KpiTarget.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Remove a KPI target (needs `kpis:write`; audited).")
    async def kpi_target_remove(
        self, info: Info, input: Annotated[KpiTargetRemoveInput, arg("The target.")]
    ) -> KpiTargetRemovePayload:
        from core.kpis import remove_target

        tenant, actor = context_of(info).caller()

        async def run() -> strawberry.ID:
            await remove_target(tenant, actor, input_data(input, id="KpiTarget")["id"])
            return input.id

        removed, errors = await attempt(run)
        return KpiTargetRemovePayload(removed_id=removed, errors=errors)
