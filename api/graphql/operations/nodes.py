"""``node(id:)``: any object by global ID — the core's types and every enabled module's
(``GraphQLContribution.nodes``). Another tenant's, another store's (for a store-scoped caller),
a malformed and a missing ID all answer ``null``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from api.graphql.operations._common import arg
from core.errors import NotFound
from core.graphql import Node, context_of, loaders, parse_global_id
from core.graphql.types import Interaction, Purchase, Segment

__all__ = ["CORE_NODES", "NodeQuery"]


async def _customer(info: Info, uid: UUID) -> Any:
    return await loaders.customers(info).load(uid)


async def _store(info: Info, uid: UUID) -> Any:
    store = await loaders.stores(info).load(uid)
    _tenant, actor = context_of(info).caller()
    return store if store is not None and actor.sees_store(store.uid) else None


async def _staff(info: Info, uid: UUID) -> Any:
    _tenant, actor = context_of(info).caller()
    actor.require("staff:read")
    return await loaders.staff(info).load(uid)


async def _purchase(info: Info, uid: UUID) -> Any:
    from core.purchases import get_purchase

    tenant, actor = context_of(info).caller()
    return Purchase.from_view(await get_purchase(tenant, actor, uid))


async def _segment(info: Info, uid: UUID) -> Any:
    from core.segments import list_segments

    tenant, actor = context_of(info).caller()
    rows = [r for r in await list_segments(tenant, actor) if r["id"] == uid]
    return Segment.from_row(rows[0]) if rows else None


async def _kpi_target(info: Info, uid: UUID) -> Any:
    from core.db import tenant_tx
    from core.graphql.types import KpiTarget
    from core.tables import KpiTarget as KpiTargetTable

    tenant, actor = context_of(info).caller()
    actor.require("kpis:read")
    async with tenant_tx(tenant.id, write=False):
        row = await KpiTargetTable.select().where(KpiTargetTable.id == uid).first()
    if row is None:
        return None
    if row["store_id"] is not None and not actor.sees_store(row["store_id"]):
        return None
    if row["store_id"] is None and actor.store_ids is not None:
        return None
    return KpiTarget.from_row(dict(row))


async def _task(info: Info, uid: UUID) -> Any:
    return await loaders.tasks(info).load(uid)


async def _interaction(info: Info, uid: UUID) -> Any:
    from core.activity import get_interaction

    tenant, actor = context_of(info).caller()
    return Interaction.from_row(await get_interaction(tenant, actor, uid))


CORE_NODES: dict[str, Callable[[Info, UUID], Awaitable[Any]]] = {
    "Customer": _customer,
    "Store": _store,
    "KpiTarget": _kpi_target,
    "Staff": _staff,
    "Purchase": _purchase,
    "Segment": _segment,
    "Task": _task,
    "Interaction": _interaction,
}


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by global ID; null when there is none.")
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, arg("A global ID of any type.")]
    ) -> Node | None:
        parsed = parse_global_id(id)
        if parsed is None:
            return None
        kind, uid = parsed
        load = CORE_NODES.get(kind) or info.schema.node_loader(kind)  # type: ignore[attr-defined]
        if load is None:
            return None
        try:
            found = await load(info, uid)
        except NotFound:
            return None
        return found if isinstance(found, Node) else None
