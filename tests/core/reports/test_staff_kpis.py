"""Per staff member figures (绩效考核): sales served, sign-ups, tasks on time; ranked; a store
manager sees only their store's staff."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.activity import complete_task, create_task
from core.customers import create_customer
from core.errors import Forbidden, ValidationFailed
from core.kpis import staff_kpis
from tests.core.reports.helpers import as_staff, local, member, new_store, sell

A, B = local(2026, 3, 2, 0), local(2026, 3, 9, 0)  # Monday to Monday, Shanghai


async def test_staff_are_ranked_by_what_they_served(tenant, owner, other_tenant):
    one = await new_store(tenant, owner, "S1")
    two = await new_store(tenant, owner, "S2")
    li = await member(tenant, owner, "li", stores=[one])
    wang = await member(tenant, owner, "wang", stores=[one])
    idle = await member(tenant, owner, "idle", stores=[one])
    zhao = await member(tenant, owner, "zhao", stores=[two])
    await sell(tenant, owner, one, local(2026, 3, 3), "100.00", staff=li)
    await sell(tenant, owner, one, local(2026, 3, 4), "50.00", staff=li)
    await sell(tenant, owner, one, local(2026, 3, 5), "190.00", staff=wang)
    await sell(tenant, owner, one, local(2026, 3, 5), "-30.00", staff=wang, kind="refund")
    await sell(tenant, owner, one, local(2026, 3, 9, 1), "999.00", staff=li)  # next week
    await sell(tenant, owner, two, local(2026, 3, 6), "70.00", staff=zhao)
    await sell(
        other_tenant, owner, await new_store(other_tenant, owner, "X"), local(2026, 3, 3), "5000.00"
    )

    rows = await staff_kpis(tenant, owner, A, B, one, runtime=None)
    assert [(r.rank, r.staff.login) for r in rows] == [(1, "wang"), (2, "li"), (3, "idle")]
    assert rows[0].values["core.net_sales"] == Decimal("160.00")  # 190 - 30 refunded
    assert rows[0].values["core.sales_count"] == 1
    assert rows[1].values["core.net_sales"] == Decimal("150.00")
    assert rows[1].values["core.sales_count"] == 2
    assert rows[1].values["core.average_ticket"] == Decimal("75.00")
    assert rows[2].values == {}  # listed, last, without figures
    by_count = await staff_kpis(tenant, owner, A, B, one, runtime=None, rank_by="core.sales_count")
    assert [r.staff.login for r in by_count] == ["li", "wang", "idle"]
    # The chain: every member, zhao's sale included; nobody of the other tenant.
    chain = await staff_kpis(tenant, owner, A, B, None, runtime=None)
    assert {r.staff.login for r in chain} == {"li", "wang", "idle", "zhao"}
    assert idle in {r.staff.id for r in chain}


async def test_sign_ups_and_tasks_on_time_count_for_who_did_them(tenant, owner):
    one = await new_store(tenant, owner, "S1")
    li = await member(tenant, owner, "li", stores=[one])
    wang = await member(tenant, owner, "wang", stores=[one])
    li_actor = as_staff(li, "cashier", {one})
    now = dt.datetime.now(dt.UTC)
    for phone in ("+8613900000001", "+8613900000002"):
        await create_customer(
            tenant, li_actor, {"name": "客户", "phone": phone, "home_store_id": str(one)}
        )
    await create_customer(tenant, owner, {"name": "HQ 录入", "home_store_id": str(one)})
    wang_actor = as_staff(wang, "store_manager", {one})
    on_time = await create_task(
        tenant,
        owner,
        {"title": "回访", "due_at": (now + dt.timedelta(days=1)).isoformat(), "store_id": str(one)},
    )
    late = await create_task(
        tenant,
        owner,
        {"title": "回访", "due_at": (now - dt.timedelta(days=1)).isoformat(), "store_id": str(one)},
    )
    await complete_task(tenant, wang_actor, on_time)
    await complete_task(tenant, wang_actor, late)

    a, b = now - dt.timedelta(days=2), now + dt.timedelta(days=1)
    rows = {
        r.staff.login: r.values
        for r in await staff_kpis(
            tenant, owner, a, b, one, runtime=None, rank_by="core.new_customers"
        )
    }
    assert rows["li"]["core.new_customers"] == 2
    assert "core.new_customers" not in rows["wang"]
    assert rows["wang"]["core.tasks_done"] == 2
    assert rows["wang"]["core.tasks_on_time"] == Decimal("0.5000")


async def test_a_store_manager_sees_their_stores_staff_only(tenant, owner):
    one = await new_store(tenant, owner, "S1")
    two = await new_store(tenant, owner, "S2")
    await member(tenant, owner, "li", stores=[one])
    await member(tenant, owner, "zhao", stores=[two])
    manager = as_staff(await member(tenant, owner, "boss1", "store_manager", [one]), stores={one})
    rows = await staff_kpis(tenant, manager, A, B, None, runtime=None)
    assert {r.staff.login for r in rows} == {"li", "boss1"}
    with pytest.raises(ValidationFailed) as err:
        await staff_kpis(tenant, manager, A, B, two, runtime=None)
    assert err.value.code == "unknown_store"
    two_stores = as_staff(
        await member(tenant, owner, "area", "store_manager", [one, two]), stores={one, two}
    )
    with pytest.raises(ValidationFailed) as err:
        await staff_kpis(tenant, two_stores, A, B, None, runtime=None)
    assert err.value.code == "store_required"
    cashier = as_staff(await member(tenant, owner, "c1", stores=[one]), "cashier", {one})
    with pytest.raises(Forbidden):
        await staff_kpis(tenant, cashier, A, B, one, runtime=None)


async def test_ranking_by_an_unknown_kpi_names_the_choices(tenant, owner):
    with pytest.raises(ValidationFailed) as err:
        await staff_kpis(tenant, owner, A, B, None, runtime=None, rank_by="core.nothing")
    assert (err.value.field, err.value.code) == ("rank_by", "unknown_kpi")
    assert "core.net_sales" in err.value.message
    with pytest.raises(ValidationFailed):  # no staff dimension
        await staff_kpis(tenant, owner, A, B, None, runtime=None, rank_by="core.repeat_rate")
