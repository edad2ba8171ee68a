"""Customer privacy and merges for complaints: export what is held about a customer, erase
their personal data (the record stays, anonymised: the store's figures keep their meaning),
and follow a merge."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core import TenantInfo, execute, fetch, tenant_tx

__all__ = ["erase_customer", "export_customer", "move_customer"]

TABLES = ("complaints_complaint", "complaints_praise", "complaints_damage")


async def export_customer(tenant: TenantInfo, customer_id: UUID) -> dict[str, Any]:
    async with tenant_tx(tenant.id, write=False):
        complaints = await fetch(
            "SELECT number, kind, channel, state, category, summary, description, received_at, "
            "resolution_type, resolution, compensation_points FROM complaints_complaint "
            "WHERE tenant_id = {} AND customer_id = {} ORDER BY received_at",
            tenant.id,
            customer_id,
        )
        praise = await fetch(
            "SELECT channel, text, received_at FROM complaints_praise "
            "WHERE tenant_id = {} AND customer_id = {} ORDER BY received_at",
            tenant.id,
            customer_id,
        )
        damage = await fetch(
            "SELECT sku, product, occurred_at, customer_hurt, injury, responsibility, settlement "
            "FROM complaints_damage WHERE tenant_id = {} AND customer_id = {} ORDER BY occurred_at",
            tenant.id,
            customer_id,
        )
    return {
        "complaints": [dict(r) for r in complaints],
        "praise": [dict(r) for r in praise],
        "damage": [dict(r) for r in damage],
    }


async def erase_customer(tenant: TenantInfo, customer_id: UUID) -> None:
    async with tenant_tx(tenant.id):
        await execute(
            "UPDATE complaints_complaint SET contact_name = '', contact_phone = '', "
            "contact_index = '', description = '', circumstances = '', customer_id = NULL "
            "WHERE tenant_id = {} AND customer_id = {}",
            tenant.id,
            customer_id,
        )
        await execute(
            "UPDATE complaints_praise SET text = '', contact_name = '', contact_phone = '', "
            "customer_id = NULL "
            "WHERE tenant_id = {} AND customer_id = {}",
            tenant.id,
            customer_id,
        )
        await execute(
            "UPDATE complaints_damage SET injury = '', description = '', customer_id = NULL "
            "WHERE tenant_id = {} AND customer_id = {}",
            tenant.id,
            customer_id,
        )


async def move_customer(tenant: TenantInfo, source: UUID, target: UUID) -> None:
    async with tenant_tx(tenant.id):
        for table in TABLES:
            await execute(
                f"UPDATE {table} SET customer_id = {{}} WHERE tenant_id = {{}} AND customer_id = {{}}",
                target,
                tenant.id,
                source,
            )
