"""Shared set-up for the KPI and report tests: stores, staff, sales at given times."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.context import Actor
from core.db import tenant_tx
from core.tables import Purchase
from tenants.credentials import create_staff
from tenants.service import create_store

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "a-long-password-1"


def local(y: int, m: int, d: int, h: int = 12) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=SHANGHAI)


async def new_store(tenant, owner, code: str) -> uuid.UUID:
    return uuid.UUID(str((await create_store(tenant, owner, {"code": code, "name": code}))["id"]))


async def member(tenant, owner, login, role="cashier", stores=(), email=None) -> uuid.UUID:
    data = {
        "login": login,
        "name": login,
        "password": PASSWORD,
        "role": role,
        "store_ids": [str(s) for s in stores],
    }
    if email:
        data["email"] = email
    return await create_staff(tenant, owner, data)


def as_staff(staff_id, role="store_manager", stores=None, permissions=None) -> Actor:
    from tenants.roles import BUILTIN_ROLES

    return Actor(
        kind="staff",
        id=str(staff_id),
        role=role,
        permissions=permissions if permissions is not None else BUILTIN_ROLES[role][1],
        store_ids=frozenset(stores) if stores is not None else None,
    )


async def sell(tenant, owner, store, when, amount: str, staff=None, kind="sale") -> None:
    """A sale (or refund, negative amount) at ``when``, written as record_purchase would."""
    from core.purchases import record_purchase

    if kind == "sale":
        data = {
            "store_id": str(store),
            "occurred_at": when.isoformat(),
            "lines": [{"sku": "TEA", "unit_price": amount, "qty": "1"}],
        }
        if staff:
            data["staff_id"] = str(staff)
        await record_purchase(tenant, owner, data)
        return
    async with tenant_tx(tenant.id):  # a refund, directly: the report only sums amounts
        await Purchase.insert(
            Purchase(
                store_id=store,
                kind="refund",
                occurred_at=when,
                amount_minor=int(Decimal(amount) * 100),
                currency=tenant.currency,
                channel="pos",
                receipt_no=f"R{uuid.uuid4().hex[:12]}",
                request_hash="test",
                staff_id=staff,
            )
        )
