"""Duplicate merge: the source's records move to the target; the source is kept as ``merged``."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from core.auditing import audit
from core.context import Actor, TenantInfo
from core.customers.schemas import CustomerView
from core.customers.service import load_customer_row, to_view
from core.db import json_text, json_value, tenant_tx
from core.errors import ValidationFailed
from core.events import emit
from core.tables import (
    ConsentRecord,
    Customer,
    CustomerStats,
    CustomerStoreStats,
    CustomerTag,
    Interaction,
    Purchase,
    RevisitPlan,
    Task,
)

__all__ = ["merge_customers"]

# Profile fields the target takes from the source when its own are empty.
_FILL = (
    "name",
    "company",
    "position",
    "address",
    "notes",
    "birthday",
    "card_no",
    "home_store_id",
    "assigned_staff_id",
    "phone_enc",
    "phone_hash",
    "email_enc",
    "email_hash",
)


async def merge_customers(
    tenant: TenantInfo, actor: Actor, source_id: UUID, target_id: UUID
) -> CustomerView:
    """Merge ``source`` into ``target``: purchases, interactions, tasks, plans, consent and tags
    move; empty profile fields are filled; plugins re-point their rows on ``customer.merged``."""
    from core.rfm import recompute_customers

    actor.require("customers:merge")
    if source_id == target_id:
        raise ValidationFailed(
            "cannot merge a customer into itself", field="source_id", code="invalid"
        )
    async with tenant_tx(tenant.id):
        source = await load_customer_row(source_id)
        target = await load_customer_row(target_id)
        for table in (Purchase, Interaction, Task, RevisitPlan, ConsentRecord):
            await table.update({table.customer_id: target_id}).where(table.customer_id == source_id)
        tags = list(
            dict.fromkeys([*json_value(target["tags"], []), *json_value(source["tags"], [])])
        )
        fill = {k: source[k] for k in _FILL if not target[k] and source[k]}
        if "birthday" in fill:  # a birthday comes with the calendar it is kept by
            fill["birthday_calendar"] = source["birthday_calendar"]
        if "phone_hash" in fill:
            fill["phone_enc"] = source["phone_enc"]
        elif "phone_enc" in fill:
            del fill["phone_enc"]
        if "email_hash" in fill:
            fill["email_enc"] = source["email_enc"]
        elif "email_enc" in fill:
            del fill["email_enc"]
        now = dt.datetime.now(dt.UTC)
        # Free the source's unique values before the target takes them.
        await Customer.update(
            {
                Customer.status: "merged",
                Customer.merged_into_id: target_id,
                Customer.phone_hash: None,
                Customer.email_hash: None,
                Customer.card_no: None,
                Customer.updated_at: now,
            }
        ).where(Customer.id == source_id)
        await Customer.update(
            {
                **{getattr(Customer, k): v for k, v in fill.items()},
                Customer.tags: json_text(tags),
                Customer.updated_at: now,
            }
        ).where(Customer.id == target_id)
        await CustomerTag.delete().where(CustomerTag.customer_id.is_in([source_id, target_id]))
        if tags:
            await CustomerTag.insert(*(CustomerTag(customer_id=target_id, tag=t) for t in tags))
        await CustomerStats.delete().where(CustomerStats.customer_id == source_id)
        await CustomerStoreStats.delete().where(CustomerStoreStats.customer_id == source_id)
        await recompute_customers(tenant, [target_id])
        await audit(
            actor,
            "customer.merge",
            subject_type="customer",
            subject_id=target_id,
            details={"source_id": str(source_id)},
        )
        await emit(
            "customer.merged", target_id, {"source_id": str(source_id), "target_id": str(target_id)}
        )
        return to_view(await load_customer_row(target_id))
