"""Export and erasure of a customer's data (CORE-9). Plugins add theirs through hooks
(``customer_export_data`` / ``customer_erase_data``), passed in here as callables."""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from core.auditing import audit
from core.context import Actor, TenantInfo
from core.customers.service import load_customer_row, to_view
from core.db import json_text, tenant_tx
from core.events import emit
from core.money import from_minor
from core.tables import (
    ConsentRecord,
    Customer,
    CustomerStats,
    CustomerTag,
    Interaction,
    Purchase,
    PurchaseLine,
    RevisitPlan,
    Task,
)

if TYPE_CHECKING:
    from core.plugins.runtime import PluginRuntime

__all__ = ["erase_customer", "export_customer"]


def _plain(
    rows: Sequence[dict[str, Any]], drop: tuple[str, ...] = ("tenant_id",)
) -> list[dict[str, Any]]:
    return [msgspec.to_builtins({k: v for k, v in r.items() if k not in drop}) for r in rows]


async def export_customer(
    tenant: TenantInfo,
    actor: Actor,
    customer_id: UUID,
    *,
    runtime: PluginRuntime | None = None,
) -> dict[str, Any]:
    """Everything held about the customer, core and plugins (every installed plugin of
    ``runtime``), as JSON-ready data; audited."""
    actor.require("customers:export")
    async with tenant_tx(tenant.id):
        row = await load_customer_row(customer_id, active_only=False)
        profile = msgspec.to_builtins(to_view(row, unmask=True))
        purchases = (
            await Purchase.select()
            .where(Purchase.customer_id == customer_id)
            .order_by(Purchase.occurred_at)
        )
        ids = [p["id"] for p in purchases]
        lines = (
            await PurchaseLine.select().where(PurchaseLine.purchase_id.is_in(ids)) if ids else []
        )
        for p in purchases:
            p["amount"] = str(from_minor(p.pop("amount_minor"), p["currency"]))
        data: dict[str, Any] = {
            "exported_at": dt.datetime.now(dt.UTC).isoformat(),
            "tenant": tenant.slug,
            "customer": profile,
            "statistics": _plain(
                await CustomerStats.select().where(CustomerStats.customer_id == customer_id)
            ),
            "purchases": _plain(purchases, ("tenant_id", "request_hash", "idempotency_key")),
            "purchase_lines": _plain(lines),
            "interactions": _plain(
                await Interaction.select().where(Interaction.customer_id == customer_id)
            ),
            "tasks": _plain(await Task.select().where(Task.customer_id == customer_id)),
            "revisit_plans": _plain(
                await RevisitPlan.select().where(RevisitPlan.customer_id == customer_id)
            ),
            "consent": _plain(
                await ConsentRecord.select().where(ConsentRecord.customer_id == customer_id)
            ),
            "plugins": {},
        }
        for plugin_id, result in await _privacy_hook(
            runtime, tenant, "customer_export_data", customer_id
        ):
            data["plugins"][plugin_id] = result
        await audit(actor, "customer.export", subject_type="customer", subject_id=customer_id)
    return data


async def _privacy_hook(
    runtime: PluginRuntime | None, tenant: TenantInfo, hook: str, customer_id: UUID
) -> list[tuple[str, Any]]:
    """Call a privacy hook on every installed plugin holding the tenant's data — enabled or not,
    since disabling a plugin keeps its data. Runs in the caller's transaction: a failing plugin
    fails the export/erasure as a whole (nothing half-erased)."""
    if runtime is None:
        return []
    results = []
    for plugin_id, fn in runtime.implementations(hook, frozenset(runtime.registry.plugins)):
        offered = {"tenant": tenant, "customer_id": customer_id}
        kwargs = await runtime.offer(tenant, plugin_id, offered, fn)
        value = fn(**kwargs)
        if inspect.isawaitable(value):
            value = await value
        results.append((plugin_id, value))
    return results


def pseudonym(tenant_id: UUID, customer_id: UUID) -> str:
    return "erased-" + hashlib.sha256(tenant_id.bytes + customer_id.bytes).hexdigest()[:12]


async def erase_customer(
    tenant: TenantInfo,
    actor: Actor,
    customer_id: UUID,
    *,
    runtime: PluginRuntime | None = None,
) -> str:
    """Remove personal fields in core and every plugin; purchases (financial records) stay,
    attached to a pseudonymous row. Returns the pseudonym. Audited."""
    actor.require("customers:erase")
    async with tenant_tx(tenant.id):
        await load_customer_row(customer_id, active_only=False)
        name = pseudonym(tenant.id, customer_id)
        await Customer.update(
            {
                Customer.name: name,
                Customer.phone_enc: None,
                Customer.phone_hash: None,
                Customer.email_enc: None,
                Customer.email_hash: None,
                Customer.gender: "unknown",
                Customer.birthday: None,
                Customer.birthday_calendar: "solar",
                Customer.company: "",
                Customer.position: "",
                Customer.address: "",
                Customer.tags: json_text([]),
                Customer.notes: "",
                Customer.attributes: json_text({}),
                Customer.card_no: None,
                Customer.assigned_staff_id: None,
                Customer.status: "erased",
                Customer.updated_at: dt.datetime.now(dt.UTC),
            }
        ).where(Customer.id == customer_id)
        await CustomerTag.delete().where(CustomerTag.customer_id == customer_id)
        await Interaction.update({Interaction.content: "[erased]", Interaction.feedback: ""}).where(
            Interaction.customer_id == customer_id
        )
        await Task.update({Task.notes: ""}).where(Task.customer_id == customer_id)
        await RevisitPlan.update({RevisitPlan.active: False}).where(
            RevisitPlan.customer_id == customer_id
        )
        await ConsentRecord.update({ConsentRecord.proof: ""}).where(
            ConsentRecord.customer_id == customer_id
        )
        await Purchase.update({Purchase.note: ""}).where(Purchase.customer_id == customer_id)
        await _privacy_hook(runtime, tenant, "customer_erase_data", customer_id)
        await audit(actor, "customer.erase", subject_type="customer", subject_id=customer_id)
        await emit("customer.erased", customer_id, {"customer_id": str(customer_id)})
    return name
