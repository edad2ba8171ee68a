"""Store management (门店, CORE-2) beyond opening one (``tenants.service.create_store``):
change, close; timezone and business hours. Every change is audited. A closed store keeps its
history and takes no new sales."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from core.auditing import audit
from core.calendars import parse_business_hours
from core.context import Actor, TenantInfo
from core.db import json_text, tenant_tx
from core.errors import Conflict, NotFound, ValidationFailed
from core.tables import Store
from core.validation import convert
from tenants.service import check_timezone

__all__ = ["StorePatch", "close_store", "get_store", "update_store"]


class StorePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Only the fields given change; ``timezone: null`` goes back to the tenant's."""

    name: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    region: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    address: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    timezone: str | UnsetType | None = UNSET
    business_hours: dict[str, Any] | UnsetType = UNSET


async def get_store(tenant: TenantInfo, actor: Actor, store_id: UUID) -> dict[str, Any]:
    """One store the caller sees; another store (or tenant) is :class:`NotFound`."""
    actor.require("stores:read")
    async with tenant_tx(tenant.id, write=False):
        row = await Store.select().where(Store.id == store_id).first()
    if row is None or not actor.sees_store(row["id"]):
        raise NotFound("store not found", field="id")
    return dict(row)


async def update_store(
    tenant: TenantInfo, actor: Actor, store_id: UUID, patch: StorePatch | dict[str, Any]
) -> dict[str, Any]:
    """Change a store's name, region, address, timezone or business hours (audited)."""
    actor.require("stores:write")
    data = convert(patch, StorePatch)
    changes: dict[Any, Any] = {}
    for name in data.__struct_fields__:
        value = getattr(data, name)
        if value is UNSET:
            continue
        if name == "timezone" and value is not None:
            check_timezone(value)
        if name == "business_hours":
            value = json_text(_business_hours(value))
        changes[getattr(Store, name)] = value
    async with tenant_tx(tenant.id):
        row = await Store.select().where(Store.id == store_id).first()
        if row is None or not actor.sees_store(row["id"]):
            raise NotFound("store not found", field="id")
        if row["closed_at"] is not None:
            raise ValidationFailed("this store is closed", field="id", code="store_closed")
        if changes:
            await Store.update(changes).where(Store.id == store_id)
            await audit(
                actor,
                "store.update",
                subject_type="store",
                subject_id=store_id,
                details={"fields": sorted(c._meta.name for c in changes)},
            )
        updated = await Store.select().where(Store.id == store_id).first()
    assert updated is not None
    return dict(updated)


async def close_store(tenant: TenantInfo, actor: Actor, store_id: UUID) -> dict[str, Any]:
    """Close a store for good (audited): its records stay, it takes no new sales."""
    actor.require("stores:write")
    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        row = await Store.select().where(Store.id == store_id).first()
        if row is None or not actor.sees_store(row["id"]):
            raise NotFound("store not found", field="id")
        if row["closed_at"] is not None:
            raise Conflict("this store is already closed", field="id", code="store_closed")
        await Store.update({Store.closed_at: now}).where(Store.id == store_id)
        await audit(actor, "store.close", subject_type="store", subject_id=store_id)
    return dict(row) | {"closed_at": now}


def _business_hours(value: dict[str, Any]) -> dict[str, Any]:
    """The weekly schedule, validated by the calendars service (overlaps, ``24:00``, shifts
    past midnight; field errors name ``business_hours.mon[1]``)."""
    parsed = parse_business_hours(value)
    return parsed.as_json() if parsed else {}
