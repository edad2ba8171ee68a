"""Segment conditions loyalty contributes (``segments.py``): tier, points balance, points
expiring within N days (what FIFO leaves of each award); they belong to loyalty, so a tenant
without it cannot name them."""

from __future__ import annotations

import pytest

from tests.plugins.loyalty.helpers import sell

pytestmark = pytest.mark.usefixtures("db")

TIERS = [
    {"code": "silver", "name": "银卡", "threshold": 100},
    {"code": "gold", "name": "金卡", "threshold": 500},
]


def _is(field, op, value):
    return {"field": field, "op": op, "value": value}


async def test_loyalty_conditions_select_by_tier_points_and_fifo_expiry(
    runtime, tenant, owner, store, enable_plugins, deliver_events
):
    from core.customers import create_customer
    from core.segments import create_segment, list_segments, segment_size
    from plugins.loyalty.ledger import balances, redeem

    async def customer(name, *sales, spend=0):
        c = await create_customer(tenant, owner, {"name": name})
        for price, expiry_days in sales:
            await enable_plugins(
                tenant, "loyalty", settings={"tiers": TIERS, "expiry_days": expiry_days}
            )
            await sell(tenant, owner, store, c.id, price)
            await deliver_events(tenant)  # accrued under these settings
        if spend:
            await redeem(tenant, owner, c.id, spend, f"spend-{name}")
        return c.id

    silver = await customer("silver", ("150", 10))  # 150 points lapsing in 10 days
    gold = await customer("gold", ("600", 60))  # 600 lapsing in 60 days
    spent = await customer("spent", ("50", 10), spend=50)  # nothing left to lapse
    # FIFO spends the soonest-expiring first: the 30 lapsing in 10 days went, 70 last 60 days.
    late = await customer("late", ("30", 10), ("70", 60), spend=30)
    # Bought first but lapsing last: the 30 spent came from the 70 lapsing in 10 days.
    soon = await customer("soon", ("30", 60), ("70", 10), spend=30)
    await customer("nobody")  # no account at all
    assert await balances(tenant, [silver, gold, spent, late, soon]) == {
        silver: (150, 150),
        gold: (600, 600),
        spent: (0, 50),
        late: (70, 100),
        soon: (70, 100),
    }
    fields = await runtime.segment_fields(tenant)

    async def size(name, flt):
        segment = await create_segment(tenant, owner, {"name": name, "filter": flt}, fields=fields)
        return await segment_size(tenant, owner, segment["id"], fields)

    assert await size("silver", _is("loyalty_tier", "eq", "silver")) == 3  # silver, late, soon
    assert await size("gold", _is("loyalty_tier", "in", ["gold"])) == 1
    assert await size("not silver", _is("loyalty_tier", "ne", "silver")) == 2  # gold, spent
    assert await size("100+", _is("loyalty_points", "gte", 100)) == 2  # silver, gold
    assert await size("some", _is("loyalty_points", "gt", 0)) == 4
    assert await size("none", _is("loyalty_points", "eq", 0)) == 1  # spent
    assert await size("under 100", _is("loyalty_points", "lt", 100)) == 3
    assert await size("lapsing 20", _is("loyalty_points_expiring_days", "lte", 20)) == 2
    assert await size("lapsing 5", _is("loyalty_points_expiring_days", "lte", 5)) == 0
    assert await size("lapsing 90", _is("loyalty_points_expiring_days", "lte", 90)) == 4
    both = {
        "all": [
            _is("loyalty_tier", "eq", "silver"),
            _is("loyalty_points_expiring_days", "lte", 20),
        ]
    }
    assert await size("silver lapsing", both) == 2  # silver and soon, not late

    from core import ValidationFailed

    for flt, field, code in (
        (_is("loyalty_points", "gt", "many"), "filter.value", "invalid_value"),
        (_is("loyalty_points_expiring_days", "gt", 5), "filter.op", "invalid_operator"),
        (_is("loyalty_points_expiring_days", "lte", -1), "filter.value", "invalid_value"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            await create_segment(tenant, owner, {"name": "bad", "filter": flt}, fields=fields)
        assert (exc.value.field, exc.value.code) == (field, code)
    saved = [s["name"] for s in await list_segments(tenant, owner)]
    assert len(saved) == 11 and "bad" not in saved  # the refused filters saved nothing


async def test_a_tenant_without_loyalty_cannot_name_its_conditions(
    runtime, tenant, other_tenant, owner, enable_plugins
):
    """Without loyalty the conditions are unknown: saving a segment naming one is
    ``unknown_field`` and saves nothing; a segment saved while loyalty was on stops resolving
    once it is disabled."""
    from core import ValidationFailed
    from core.segments import create_segment, list_segments, segment_size
    from tenants.modules import disable_module

    bare = await runtime.segment_fields(other_tenant)
    for name, value in (
        ("loyalty_tier", "silver"),
        ("loyalty_points", 1),
        ("loyalty_points_expiring_days", 7),
    ):
        op = "lte" if name == "loyalty_points_expiring_days" else "eq"
        flt = {"any": [_is("purchase_count", "gt", 0), _is(name, op, value)]}
        with pytest.raises(ValidationFailed) as exc:
            await create_segment(other_tenant, owner, {"name": name, "filter": flt}, fields=bare)
        assert (exc.value.field, exc.value.code, exc.value.message) == (
            "filter.any.1.field",
            "unknown_field",
            f"unknown field {name!r}",
        )
    assert await list_segments(other_tenant, owner) == []

    await enable_plugins(tenant, "loyalty")
    fields = await runtime.segment_fields(tenant)
    saved = await create_segment(
        tenant, owner, {"name": "members", "filter": _is("loyalty_points", "gte", 0)}, fields=fields
    )
    assert await segment_size(tenant, owner, saved["id"], fields) == 0
    await disable_module(tenant, owner, runtime, "loyalty")
    with pytest.raises(ValidationFailed) as exc:
        await segment_size(tenant, owner, saved["id"], await runtime.segment_fields(tenant))
    assert (exc.value.field, exc.value.code) == ("filter.field", "unknown_field")
