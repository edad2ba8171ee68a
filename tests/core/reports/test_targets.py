"""KPI targets: set for a store or the chain and a month or week (real calendar days), progress
at a given moment, projection at the current pace, at risk; who may set them."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from core.db import tenant_tx
from core.errors import Forbidden, NotFound, ValidationFailed
from core.kpis import period_window, remove_target, set_target, target_progress
from core.tables import AuditLog, KpiTarget
from tests.core.reports.helpers import SHANGHAI, as_staff, local, member, new_store, sell


def test_periods_are_local_calendar_months_and_weeks():
    # February 2026 has 28 days; March 2026 starts on a Sunday; a week is Monday to Monday.
    start, end = period_window("month", dt.date(2026, 2, 1), "Asia/Shanghai")
    assert (start, end) == (
        dt.datetime(2026, 2, 1, tzinfo=SHANGHAI),
        dt.datetime(2026, 3, 1, tzinfo=SHANGHAI),
    )
    assert end - start == dt.timedelta(days=28)
    start, end = period_window("month", dt.date(2024, 2, 1), "Asia/Urumqi")
    assert end - start == dt.timedelta(days=29)  # a leap year
    start, end = period_window("week", dt.date(2026, 12, 28), "Asia/Shanghai")
    assert end.date() == dt.date(2027, 1, 4)


async def test_a_month_target_is_projected_at_the_current_pace(tenant, owner):
    store = await new_store(tenant, owner, "S1")
    target = await set_target(
        tenant,
        owner,
        kpi="core.net_sales",
        period="month",
        period_start=dt.date(2026, 2, 1),
        target="1000",
        store_id=store,
        runtime=None,
    )
    assert (target["kpi"], target["target"], target["store_id"]) == (
        "core.net_sales",
        Decimal("1000"),
        store,
    )
    await sell(tenant, owner, store, local(2026, 2, 3), "300.00")
    await sell(tenant, owner, store, local(2026, 2, 10), "100.00")
    await sell(tenant, owner, store, local(2026, 2, 20), "900.00")  # after "now" below

    # On 15 February at 00:00 (Shanghai), half of February (14 of 28 days) is gone.
    now = dt.datetime(2026, 2, 15, tzinfo=SHANGHAI)
    [p] = await target_progress(
        tenant, owner, local(2026, 2, 1, 0), local(2026, 3, 1, 0), store, runtime=None, now=now
    )
    assert (p.value, p.elapsed, p.projected, p.progress) == (
        Decimal("400.00"),
        Decimal("0.5000"),
        Decimal("800.0000"),
        Decimal("0.4000"),
    )
    assert (p.status, p.at_risk) == ("at_risk", True)
    # At the month's end the whole month counts: 1,300 of 1,000 is met.
    [p] = await target_progress(
        tenant,
        owner,
        local(2026, 2, 1, 0),
        local(2026, 3, 1, 0),
        store,
        runtime=None,
        now=dt.datetime(2026, 3, 2, tzinfo=SHANGHAI),
    )
    assert (p.value, p.status, p.at_risk, p.progress) == (
        Decimal("1300.00"),
        "met",
        False,
        Decimal("1.3000"),
    )
    # Before the month: upcoming, nothing computed.
    [p] = await target_progress(
        tenant,
        owner,
        local(2026, 2, 1, 0),
        local(2026, 3, 1, 0),
        store,
        runtime=None,
        now=dt.datetime(2026, 1, 20, tzinfo=SHANGHAI),
    )
    assert (p.status, p.value) == ("upcoming", None)
    # The chain's targets are separate from the store's.
    assert (
        await target_progress(
            tenant, owner, local(2026, 2, 1, 0), local(2026, 3, 1, 0), None, runtime=None, now=now
        )
        == []
    )


async def test_a_rate_is_not_projected_and_setting_again_changes_it(tenant, owner):
    store = await new_store(tenant, owner, "S1")
    first = await set_target(
        tenant,
        owner,
        kpi="core.average_ticket",
        period="week",
        period_start=dt.date(2026, 3, 2),
        target="80",
        store_id=store,
        runtime=None,
    )
    again = await set_target(
        tenant,
        owner,
        kpi="core.average_ticket",
        period="week",
        period_start=dt.date(2026, 3, 2),
        target="60",
        store_id=store,
        runtime=None,
    )
    assert first["id"] == again["id"] and again["target"] == Decimal("60")
    await sell(tenant, owner, store, local(2026, 3, 2), "70.00")
    [p] = await target_progress(
        tenant,
        owner,
        local(2026, 3, 2, 0),
        local(2026, 3, 9, 0),
        store,
        runtime=None,
        now=local(2026, 3, 4, 0),
    )
    assert (p.value, p.projected, p.status) == (Decimal("70.00"), Decimal("70.00"), "on_track")
    async with tenant_tx(tenant.id, write=False):
        assert await KpiTarget.count() == 1
        assert await AuditLog.count().where(AuditLog.action == "kpi_target.set") == 2


async def test_concurrent_first_settings_keep_one_target(tenant, owner):
    results = await asyncio.gather(
        *(
            set_target(
                tenant,
                owner,
                kpi="core.new_customers",
                period="month",
                period_start=dt.date(2026, 4, 1),
                target=str(n),
                runtime=None,
            )
            for n in (10, 20, 30, 40)
        )
    )
    assert len({r["id"] for r in results}) == 1
    async with tenant_tx(tenant.id, write=False):
        rows = await KpiTarget.select()
    assert len(rows) == 1 and rows[0]["target"] in {"10", "20", "30", "40"}


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"period_start": dt.date(2026, 2, 2)}, "period_start", "invalid_period_start"),
        (
            {"period": "week", "period_start": dt.date(2026, 3, 3)},
            "period_start",
            "invalid_period_start",
        ),
        ({"period": "year"}, "period", "invalid_period"),
        ({"kpi": "core.nothing"}, "kpi", "unknown_kpi"),
        ({"kpi": "loyalty.points_issued"}, "kpi", "unknown_kpi"),  # loyalty is not enabled
        ({"target": "-1"}, "target", "out_of_range"),
        ({"target": "NaN"}, "target", "out_of_range"),
        ({"target": "1e16"}, "target", "out_of_range"),
        ({"target": "lots"}, "target", "invalid"),
    ],
)
async def test_bad_targets_are_refused_and_nothing_is_written(tenant, owner, change, field, code):
    data = {
        "kpi": "core.net_sales",
        "period": "month",
        "period_start": dt.date(2026, 2, 1),
        "target": "100",
    } | change
    with pytest.raises(ValidationFailed) as err:
        await set_target(tenant, owner, runtime=None, **data)
    assert (err.value.field, err.value.code) == (field, code)
    async with tenant_tx(tenant.id, write=False):
        assert await KpiTarget.count() == 0


async def test_a_map_valued_kpi_cannot_have_a_target(tenant, owner, runtime, enable_plugins):
    await enable_plugins(tenant, "loyalty")
    with pytest.raises(ValidationFailed) as err:
        await set_target(
            tenant,
            owner,
            kpi="loyalty.members_per_tier",
            period="month",
            period_start=dt.date(2026, 2, 1),
            target="5",
            runtime=runtime,
        )
    assert err.value.code == "not_targetable"
    made = await set_target(
        tenant,
        owner,
        kpi="loyalty.points_issued",
        period="month",
        period_start=dt.date(2026, 2, 1),
        target="5000",
        runtime=runtime,
    )
    assert made["kpi"] == "loyalty.points_issued"


async def test_who_sets_and_sees_targets(tenant, other_tenant, owner):
    one = await new_store(tenant, owner, "S1")
    two = await new_store(tenant, owner, "S2")
    hq = as_staff(await member(tenant, owner, "hq", "hq_manager"), "hq_manager")
    manager = as_staff(await member(tenant, owner, "m1", "store_manager", [one]), stores={one})
    month = {
        "kpi": "core.net_sales",
        "period": "month",
        "period_start": dt.date(2026, 2, 1),
        "target": "100",
        "runtime": None,
    }
    for_two = await set_target(tenant, hq, store_id=two, **month)
    await set_target(tenant, hq, store_id=one, **month)
    with pytest.raises(Forbidden):  # store managers read targets; HQ sets them
        await set_target(tenant, manager, store_id=one, **month)
    seen = await target_progress(
        tenant,
        manager,
        local(2026, 2, 1, 0),
        local(2026, 3, 1, 0),
        None,
        runtime=None,
        now=local(2026, 2, 10),
    )
    assert [p.target["store_id"] for p in seen] == [one]
    with pytest.raises(NotFound):  # another tenant's target is not there
        await remove_target(other_tenant, owner, for_two["id"])
    await remove_target(tenant, hq, for_two["id"])
    with pytest.raises(NotFound):
        await remove_target(tenant, hq, for_two["id"])
