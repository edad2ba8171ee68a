"""The request's DataLoaders (API-5): one statement and one tenant transaction per batch.

Every relation of the core types goes through one of these, so listing 100 customers with their
stores and stats takes the same number of statements as listing 5.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from core.customers.service import to_view
from core.db import tenant_tx
from core.graphql.kit import context_of
from core.tables import Customer, CustomerStats, Staff, Store, Task

if TYPE_CHECKING:
    from core.graphql import types

__all__ = ["customers", "segment_sizes", "staff", "stats", "stores", "tasks"]


def _by_id(rows: Sequence[dict[str, Any]], ids: Sequence[UUID], key: str = "id") -> list[Any]:
    found = {r[key]: r for r in rows}
    return [found.get(i) for i in ids]


def stores(info: Info) -> DataLoader[UUID, types.Store | None]:
    ctx = context_of(info)
    tenant, _actor = ctx.caller()

    async def load(ids: list[UUID]) -> list[types.Store | None]:
        from core.graphql.types import Store as StoreType

        async with tenant_tx(tenant.id, write=False):
            rows = await Store.select().where(Store.id.is_in(list(set(ids))))
        return [StoreType.from_row(r) if r else None for r in _by_id(rows, ids)]

    return ctx.loader("stores", load)


def staff(info: Info) -> DataLoader[UUID, types.Staff | None]:
    """Staff members by id (any store: a sale's cashier is shown to whoever sees the sale)."""
    ctx = context_of(info)
    tenant, _actor = ctx.caller()

    async def load(ids: list[UUID]) -> list[types.Staff | None]:
        from core.graphql.types import Staff as StaffType

        async with tenant_tx(tenant.id, write=False):
            rows = await Staff.select(exclude_secrets=True).where(Staff.id.is_in(list(set(ids))))
        return [StaffType.from_row(r) if r else None for r in _by_id(rows, ids)]

    return ctx.loader("staff", load)


def tasks(info: Info) -> DataLoader[UUID, types.Task | None]:
    """Tasks by id; another store's task is ``None`` for a store-scoped caller."""
    ctx = context_of(info)
    tenant, actor = ctx.caller()

    async def load(ids: list[UUID]) -> list[types.Task | None]:
        from core.graphql.types import Task as TaskType

        actor.require("tasks:read")
        async with tenant_tx(tenant.id, write=False):
            rows = await Task.select().where(Task.id.is_in(list(set(ids))))
        visible = [r for r in rows if actor.sees_store(r["store_id"])]
        return [TaskType.from_row(r) if r else None for r in _by_id(visible, ids)]

    return ctx.loader("tasks", load)


def customers(info: Info) -> DataLoader[UUID, types.Customer | None]:
    ctx = context_of(info)
    tenant, actor = ctx.caller()

    async def load(ids: list[UUID]) -> list[types.Customer | None]:
        from core.graphql.types import Customer as CustomerType

        actor.require("customers:read")
        async with tenant_tx(tenant.id, write=False):
            rows = await Customer.select().where(Customer.id.is_in(list(set(ids))))
        return [CustomerType.from_view(to_view(dict(r))) if r else None for r in _by_id(rows, ids)]

    return ctx.loader("customers", load)


def stats(info: Info) -> DataLoader[UUID, types.CustomerStats]:
    ctx = context_of(info)
    tenant, _actor = ctx.caller()

    async def load(ids: list[UUID]) -> list[types.CustomerStats]:
        from core.graphql.enums import LifecycleStage, ValueClass
        from core.graphql.types import CustomerStats as StatsType
        from core.money import from_minor

        async with tenant_tx(tenant.id, write=False):
            rows = await CustomerStats.select().where(
                CustomerStats.customer_id.is_in(list(set(ids)))
            )
        out = []
        for row in _by_id(rows, ids, key="customer_id"):
            r = row or {}
            out.append(
                StatsType(
                    purchase_count=r.get("purchase_count", 0),
                    total_spent=from_minor(r.get("total_spent_minor", 0), tenant.currency),
                    first_purchase_at=r.get("first_purchase_at"),
                    last_purchase_at=r.get("last_purchase_at"),
                    r_score=r.get("r_score", 0),
                    f_score=r.get("f_score", 0),
                    m_score=r.get("m_score", 0),
                    value_class=ValueClass(r.get("value_class", "potential")),
                    lifecycle=LifecycleStage(r.get("lifecycle", "prospect")),
                )
            )
        return out

    return ctx.loader("stats", load)


def segment_sizes(info: Info) -> DataLoader[UUID, int]:
    ctx = context_of(info)
    tenant, actor = ctx.caller()

    async def load(ids: list[UUID]) -> list[int]:
        from core.segments import CORE_FIELDS, segment_size

        runtime = ctx.runtime
        fields = await runtime.segment_fields(tenant) if runtime else CORE_FIELDS
        return [await segment_size(tenant, actor, i, fields) for i in ids]

    return ctx.loader("segment_sizes", load)
