"""Stores (CORE-2): ``stores``; ``storeCreate``, ``storeUpdate``, ``storeClose``."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.operations._common import arg, cursor_uuid
from core.graphql import (
    Connection,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    input_data,
)
from core.graphql.types import Store

__all__ = ["StoreMutation", "StoreQuery"]


@strawberry.input(description="A new store.")
class StoreCreateInput:
    code: str = strawberry.field(description="Short code, unique in the tenant (e.g. `SH01`).")
    name: str = strawberry.field(description="Display name.")
    region: str | None = strawberry.field(default=strawberry.UNSET, description="Region or city.")
    address: str | None = strawberry.field(default=strawberry.UNSET, description="Street address.")
    timezone: str | None = strawberry.field(
        default=strawberry.UNSET, description="IANA timezone, when not the tenant's."
    )


@strawberry.type(description="Result of `storeCreate`.")
class StoreCreatePayload:
    store: Store | None = strawberry.field(description="The new store.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="Changes to a store: only the fields given change.")
class StoreUpdateInput:
    id: strawberry.ID = strawberry.field(description="The store.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name.")
    region: str | None = strawberry.field(default=strawberry.UNSET, description="Region or city.")
    address: str | None = strawberry.field(default=strawberry.UNSET, description="Street address.")
    timezone: str | None = strawberry.field(
        default=strawberry.UNSET, description="IANA timezone; null: the tenant's."
    )
    business_hours: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="The weekly opening hours."
    )


@strawberry.type(description="Result of `storeUpdate`.")
class StoreUpdatePayload:
    store: Store | None = strawberry.field(description="The store after the change.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="The store to close for good.")
class StoreCloseInput:
    id: strawberry.ID = strawberry.field(description="The store.")


@strawberry.type(description="Result of `storeClose`.")
class StoreClosePayload:
    store: Store | None = strawberry.field(description="The closed store.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type
class StoreQuery:
    @strawberry.field(description="The stores the caller can see, by code.")
    async def stores(
        self,
        info: Info,
        first: Annotated[int, arg("Page size, 1–100.")] = 100,
        after: Annotated[str | None, arg("Cursor of the last store seen.")] = None,
    ) -> Connection[Store]:
        from tenants.service import list_stores

        tenant, actor = context_of(info).caller()
        actor.require("stores:read")
        check_first(first)
        rows = await list_stores(tenant, actor)
        start = cursor_uuid(after)
        if start is not None:
            ids = [r["id"] for r in rows]
            rows = rows[ids.index(start) + 1 :] if start in ids else []
        return connection(
            [Store.from_row(r) for r in rows[: first + 1]], lambda s: str(s.uid), first
        )


@strawberry.type
class StoreMutation:
    @strawberry.mutation(description="Open a store.")
    async def store_create(
        self, info: Info, input: Annotated[StoreCreateInput, arg("The new store.")]
    ) -> StoreCreatePayload:
        from tenants.service import create_store

        tenant, actor = context_of(info).caller()
        row, errors = await attempt(lambda: create_store(tenant, actor, input_data(input)))
        return StoreCreatePayload(store=Store.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Change a store (audited).")
    async def store_update(
        self, info: Info, input: Annotated[StoreUpdateInput, arg("The changes.")]
    ) -> StoreUpdatePayload:
        from tenants.stores import update_store

        tenant, actor = context_of(info).caller()

        async def run() -> dict[str, object]:
            data = input_data(input, id="Store")
            return await update_store(tenant, actor, data.pop("id"), data)

        row, errors = await attempt(run)
        return StoreUpdatePayload(store=Store.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Close a store for good: its records stay (audited).")
    async def store_close(
        self, info: Info, input: Annotated[StoreCloseInput, arg("The store.")]
    ) -> StoreClosePayload:
        from tenants.stores import close_store

        tenant, actor = context_of(info).caller()

        async def run() -> dict[str, object]:
            return await close_store(tenant, actor, input_data(input, id="Store")["id"])

        row, errors = await attempt(run)
        return StoreClosePayload(store=Store.from_row(row) if row else None, errors=errors)
