"""Revisit calls (定期回访): a revisit campaign's high-value customers become call tasks for their
assigned staff member, else their home store's manager, due on the store's next business day;
everyone else gets the message. Once per customer and occurrence, on real calendar days."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

import pytest

from tests.plugins.care.helpers import (
    ACTIVATE,
    CAMPAIGN,
    CREATE,
    WEEKDAYS_9_18,
    customers,
    gql_ok,
    local,
    make_staff,
    make_store,
    outbox,
    targets,
)
from tests.plugins.care.test_occurrences import _job

pytestmark = pytest.mark.usefixtures("db")


async def _classes(tenant, classes: dict[UUID, str]) -> None:
    """Give customers a value class, as the RFM recompute would."""
    from core.db import tenant_tx
    from core.tables import CustomerStats

    async with tenant_tx(tenant.id):
        await CustomerStats.delete().where(CustomerStats.customer_id.is_in(list(classes)))
        for customer, value_class in classes.items():
            await CustomerStats.insert(
                CustomerStats(customer_id=customer, value_class=value_class, purchase_count=3)
            )


async def _place(tenant, customer: UUID, store: UUID | None, staff: UUID | None) -> None:
    from core.db import tenant_tx
    from core.tables import Customer

    async with tenant_tx(tenant.id):
        await Customer.update(
            {Customer.home_store_id: store, Customer.assigned_staff_id: staff}
        ).where(Customer.id == customer)


async def _tasks(tenant) -> dict[UUID, tuple]:
    from core.db import tenant_tx
    from core.tables import Task

    async with tenant_tx(tenant.id, write=False):
        rows = await Task.select()
    return {
        UUID(str(r["customer_id"])): (
            r["owner_staff_id"],
            r["store_id"],
            r["due_at"].astimezone(dt.UTC),
            r["status"],
        )
        for r in rows
    }


async def _revisit(api, key) -> str:
    body = await gql_ok(
        api,
        CREATE,
        {
            "i": {
                "name": "季度回访",
                "kind": "REVISIT",
                "message": "好久不见，欢迎回店看看！",
                "settings": {"everyDays": 90, "highValueClasses": ["high_value"]},
            }
        },
        key,
    )
    assert body["careCampaignCreate"]["errors"] == []
    campaign = body["careCampaignCreate"]["campaign"]["id"]
    await gql_ok(api, ACTIVATE, {"i": {"id": campaign}}, key)
    return campaign


async def test_high_value_customers_become_call_tasks_due_the_next_business_day_once(
    api, tenant, owner, make_key, enable_plugins
):
    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    shop = await make_store(tenant, owner, "A", WEEKDAYS_9_18)  # closed on weekends, holidays
    manager = await make_staff(tenant, owner, "wang", "store_manager", [shop])
    await make_staff(tenant, owner, "hq", "store_manager")  # chain-wide: not the store's
    li = await make_staff(tenant, owner, "li", "cashier", [shop])
    assigned, by_store, regular, roaming, nobody = await customers(tenant, owner, 5)
    await _place(tenant, assigned.id, shop, li)
    await _place(tenant, by_store.id, shop, None)
    await _place(tenant, regular.id, shop, li)
    await _place(tenant, nobody.id, None, None)
    await _classes(
        tenant,
        {
            assigned.id: "high_value",
            by_store.id: "high_value",
            regular.id: "regular",
            roaming.id: "potential",
            nobody.id: "high_value",
        },
    )
    campaign = await _revisit(api, key)
    friday_evening = local("2026-12-04", "20:00")
    assert await _job(tenant, friday_evening) != []
    monday_close = local("2026-12-07", "18:00").astimezone(dt.UTC)
    monday_late = local("2026-12-07", "23:59").astimezone(dt.UTC)  # the tenant: around the clock
    assert await _tasks(tenant) == {
        assigned.id: (li, shop, monday_close, "open"),
        by_store.id: (manager, shop, monday_close, "open"),
        nobody.id: (None, None, monday_late, "open"),
    }
    sent = {m["customer_id"] for m in await outbox(tenant)}
    assert sent == {regular.id, roaming.id}
    status = {r["customer_id"]: r["status"] for r in await targets(tenant)}
    assert status == {
        assigned.id: "task",
        by_store.id: "task",
        nobody.id: "task",
        regular.id: "queued",
        roaming.id: "queued",
    }
    # a re-run of the occurrence (another scheduler pass, the fan-out job) adds nothing
    assert await _job(tenant, friday_evening + dt.timedelta(minutes=15)) == []
    from core.plugins import get_runtime
    from plugins.care.runs import finish_pending

    runtime = get_runtime()
    await finish_pending(
        tenant, await runtime.plugin_settings(tenant.id, "care"), await runtime.channels(tenant)
    )
    assert len(await _tasks(tenant)) == 3 and len(await outbox(tenant)) == 2
    res = (await gql_ok(api, CAMPAIGN, {"id": campaign}, key))["careCampaign"]["results"]
    assert (res["treatment"]["targeted"], res["treatment"]["tasks"]) == (5, 3)
    assert (res["treatment"]["queued"], res["control"]["targeted"]) == (2, 0)


async def test_a_call_before_the_national_day_is_due_after_the_holiday_and_redone_once(
    api, tenant, owner, enable_plugins
):
    """30 Sep 2026 (Wednesday) evening: 1-7 October are the National Day holiday, the store is
    closed on holidays: due Thursday 8 October at closing. A worker killed mid-chunk rolls its
    tasks back with the chunk: the chunk done again creates each task once."""
    from core import Actor, TaskRequest, business_calendar, create_tasks
    from core.db import tenant_tx
    from plugins.care.calls import due_on_next_business_day

    await enable_plugins(tenant, "care")
    shop = await make_store(tenant, owner, "B", WEEKDAYS_9_18)
    calendar = await business_calendar(tenant, Actor.system("test"), shop)
    assert due_on_next_business_day(calendar, local("2026-09-30", "20:00")) == local(
        "2026-10-08", "18:00"
    )
    assert due_on_next_business_day(calendar, local("2026-10-09", "10:00")) == local(
        "2026-10-10",
        "18:00",  # Saturday 10 October is a make-up working day (调休)
    )
    [person] = await customers(tenant, owner, 1)

    request = TaskRequest(
        key="care:x:p1:y", title="回访", due_at=local("2026-10-08", "18:00"), customer_id=person.id
    )

    class Killed(Exception):
        pass

    with pytest.raises(Killed):
        async with tenant_tx(tenant.id):
            assert len(await create_tasks(tenant, [request])) == 1
            raise Killed
    assert await _tasks(tenant) == {}
    async with tenant_tx(tenant.id):
        assert len(await create_tasks(tenant, [request, request])) == 1
    async with tenant_tx(tenant.id):
        assert await create_tasks(tenant, [request]) == {}
    assert list(await _tasks(tenant)) == [person.id]
