"""The ledger's storage (``ledger/_store.py``): rules the database itself enforces."""

from __future__ import annotations

import uuid

import pytest

from tests.plugins.loyalty.helpers import buy, customer_and_store

pytestmark = pytest.mark.usefixtures("db")


async def test_points_never_go_negative_in_the_database(tenant, owner, runtime, enable_plugins):
    from core.customers import create_customer
    from core.db import fetch, tenant_tx
    from plugins.loyalty.tables import LoyaltyAccount

    await enable_plugins(tenant, "loyalty")
    c = await create_customer(tenant, owner, {"name": "n"})
    with pytest.raises(Exception, match=r"negative|loyalty_points_nonnegative"):
        async with tenant_tx(tenant.id):
            await fetch(
                "INSERT INTO loyalty_account (id, tenant_id, customer_id, points, growth, updated_at) "
                "VALUES ({}, {}, {}, -5, 0, CURRENT_TIMESTAMP)",
                uuid.uuid4(),
                tenant.id,
                c.id,
            )
    async with tenant_tx(tenant.id, write=False):
        assert await LoyaltyAccount.count() == 0


async def test_ledger_entries_cannot_be_changed(
    tenant, owner, api, make_key, enable_plugins, deliver_events
):
    from core.db import fetch, tenant_tx
    from plugins.loyalty.tables import LoyaltyEntry

    await enable_plugins(tenant, "loyalty")
    key = await make_key(tenant)
    customer, store = await customer_and_store(api, key, "13912345003")
    await buy(api, key, customer, store, "10")
    await deliver_events(tenant)
    with pytest.raises(Exception, match=r"never changed|permission denied"):
        async with tenant_tx(tenant.id):
            await fetch("UPDATE loyalty_entry SET points = 1000 WHERE tenant_id = {}", tenant.id)
    async with tenant_tx(tenant.id, write=False):
        assert [r["points"] for r in await LoyaltyEntry.select(LoyaltyEntry.points)] == [10]
