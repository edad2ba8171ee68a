import datetime as dt
import uuid

import pytest

from core.context import RFMThresholds
from core.customers import create_customer, search_customers
from core.db import tenant_tx
from core.errors import Conflict, ValidationFailed
from core.purchases import record_purchase
from core.rfm import recompute_all
from core.segments import create_segment, list_segments, segment_size
from core.tables import CustomerStats, CustomerStoreStats

NOW = dt.datetime.now(dt.UTC)


async def buy(tenant, owner, store, customer, days_ago, amount):
    await record_purchase(
        tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(customer),
            "occurred_at": (NOW - dt.timedelta(days=days_ago)).isoformat(),
            "lines": [{"sku": "S", "unit_price": amount}],
        },
    )


async def stats_of(tenant, customer_id):
    async with tenant_tx(tenant.id):
        return await CustomerStats.select().where(CustomerStats.customer_id == customer_id).first()


async def test_scores_value_class_and_lifecycle(tenant, owner, store):
    vip = await create_customer(tenant, owner, {"name": "vip"})
    for i in range(8):  # 8 purchases ≥ 8 → F4; 8,000.00 spent ≥ 5,000.00 → M4
        await buy(tenant, owner, store, vip.id, 5 + i, "1000.00")
    once = await create_customer(tenant, owner, {"name": "once"})
    await buy(tenant, owner, store, once.id, 100, "20.00")
    gone = await create_customer(tenant, owner, {"name": "gone"})
    await buy(tenant, owner, store, gone.id, 200, "20.00")
    await buy(tenant, owner, store, gone.id, 300, "20.00")
    never = await create_customer(tenant, owner, {"name": "never"})

    s = await stats_of(tenant, vip.id)
    assert (
        s["purchase_count"],
        s["total_spent_minor"],
        s["r_score"],
        s["f_score"],
        s["m_score"],
    ) == (8, 800000, 5, 4, 4)
    assert (s["value_class"], s["lifecycle"]) == ("high_value", "loyal")
    s = await stats_of(tenant, once.id)
    assert (s["r_score"], s["f_score"], s["value_class"], s["lifecycle"]) == (
        3,
        1,
        "potential",
        "at_risk",
    )
    s = await stats_of(tenant, gone.id)
    assert (s["r_score"], s["f_score"], s["value_class"], s["lifecycle"]) == (
        2,
        2,
        "regular",
        "churned",
    )
    s = await stats_of(tenant, never.id)
    assert (s["purchase_count"], s["value_class"], s["lifecycle"]) == (0, "potential", "prospect")
    async with tenant_tx(tenant.id):
        per_store = await CustomerStoreStats.select().where(
            CustomerStoreStats.customer_id == vip.id
        )
    assert [(r["store_id"], r["purchase_count"]) for r in per_store] == [(store, 8)]


async def test_bulk_recompute_applies_tenant_thresholds(tenant, owner, store, db):
    c = await create_customer(tenant, owner, {"name": "c"})
    await buy(tenant, owner, store, c.id, 1, "10.00")
    assert (await stats_of(tenant, c.id))["m_score"] == 1
    strict = tenant.__class__(
        **{**tenant.__dict__, "rfm": RFMThresholds(monetary_minor=(100, 200, 500, 900))}
    )
    await recompute_all(strict)
    assert (await stats_of(tenant, c.id))["m_score"] == 5


async def test_segments_compile_to_sql(tenant, owner, store):
    a = await create_customer(
        tenant, owner, {"name": "a", "tags": ["vip"], "home_store_id": str(store)}
    )
    b = await create_customer(tenant, owner, {"name": "b"})
    for _ in range(8):
        await buy(tenant, owner, store, a.id, 3, "900.00")
    await buy(tenant, owner, store, b.id, 60, "10.00")
    seg = await create_segment(
        tenant,
        owner,
        {
            "name": "VIP active",
            "filter": {
                "all": [
                    {"field": "value_class", "op": "eq", "value": "high_value"},
                    {"field": "days_since_last_purchase", "op": "lte", "value": 30},
                    {
                        "any": [
                            {"field": "tag", "op": "in", "value": ["vip", "x"]},
                            {"not": {"field": "gender", "value": "male"}},
                        ]
                    },
                ]
            },
        },
    )
    assert await segment_size(tenant, owner, seg["id"]) == 1
    assert [
        c.id for c in await search_customers(tenant, owner, {"segment_id": str(seg["id"])})
    ] == [a.id]
    assert [c.id for c in await search_customers(tenant, owner, {"value_class": "high_value"})] == [
        a.id
    ]
    lapsed = await create_segment(
        tenant,
        owner,
        {
            "name": "lapsed",
            "filter": {"field": "days_since_last_purchase", "op": "gt", "value": 30},
        },
    )
    assert await segment_size(tenant, owner, lapsed["id"]) == 1
    money = await create_segment(
        tenant,
        owner,
        {"name": "big", "filter": {"field": "total_spent", "op": "gte", "value": "7200.00"}},
    )
    assert await segment_size(tenant, owner, money["id"]) == 1
    assert [s["name"] for s in await list_segments(tenant, owner)] == [
        "VIP active",
        "big",
        "lapsed",
    ]
    with pytest.raises(Conflict):
        await create_segment(
            tenant, owner, {"name": "big", "filter": {"field": "f_score", "op": "gt", "value": 1}}
        )


@pytest.mark.parametrize(
    ("flt", "field", "code"),
    [
        ({"field": "nope", "value": 1}, "filter.field", "unknown_field"),
        ({"field": "value_class", "op": "gt", "value": "x"}, "filter.op", "invalid_operator"),
        ({"field": "value_class", "value": "rich"}, "filter.value", "invalid_value"),
        ({"field": "f_score", "value": "1; DROP TABLE customer"}, "filter.value", "invalid_value"),
        ({"all": []}, "filter", "invalid_filter"),
        ({"field": "home_store_id", "value": "not-a-uuid"}, "filter.value", "invalid_value"),
        (
            {"not": {"not": {"not": {"not": {"not": {"not": {"field": "f_score", "value": 1}}}}}}},
            None,
            "too_deep",
        ),
    ],
)
async def test_bad_segment_filters_are_rejected(tenant, owner, flt, field, code):
    with pytest.raises(ValidationFailed) as err:
        await create_segment(tenant, owner, {"name": f"s{uuid.uuid4().hex}", "filter": flt})
    assert err.value.code == code
    if field:
        assert err.value.field == field
    assert await list_segments(tenant, owner) == []


async def test_bulk_recompute_in_chunks_equals_one_pass(tenant, owner, store, db):
    """The nightly recompute runs a chunk of customers per transaction (a million in one
    statement outran the statement timeout): chunks of 2 give what one pass gives."""
    from core.db import fetch

    people = [await create_customer(tenant, owner, {"name": f"c{i}"}) for i in range(7)]
    for i, c in enumerate(people):
        for _ in range(i % 4):
            await buy(tenant, owner, store, c.id, 1, f"{10 + i}.00")

    async def snapshot():
        async with tenant_tx(tenant.id, write=False):
            rows = await fetch(
                "SELECT customer_id, purchase_count, total_spent_minor, r_score, f_score, "
                "m_score, value_class, lifecycle FROM customer_stats WHERE tenant_id = {} "
                "ORDER BY customer_id",
                tenant.id,
            )
        return [dict(r) for r in rows]

    strict = tenant.__class__(
        **{**tenant.__dict__, "rfm": RFMThresholds(monetary_minor=(1000, 2000, 3000, 4000))}
    )
    await recompute_all(strict, chunk=10_000)
    whole = await snapshot()
    await recompute_all(tenant)  # back to the defaults
    await recompute_all(strict, chunk=2)
    assert await snapshot() == whole
    assert len(whole) == 7 and {r["purchase_count"] for r in whole} == {0, 1, 2, 3}


async def test_a_recompute_writes_only_the_rows_that_change(tenant, owner, store, db):
    """The nightly run leaves unchanged statistics alone (``computed_at`` stays), re-scores
    what thresholds moved, and drops a per-store row whose purchases are gone."""
    from core.db import execute, fetch

    a = await create_customer(tenant, owner, {"name": "a"})
    b = await create_customer(tenant, owner, {"name": "b"})
    await buy(tenant, owner, store, a.id, 1, "10.00")
    await buy(tenant, owner, store, b.id, 1, "10.00")
    await recompute_all(tenant)

    async def computed() -> dict[uuid.UUID, object]:
        async with tenant_tx(tenant.id, write=False):
            rows = await fetch(
                "SELECT customer_id, computed_at FROM customer_stats WHERE tenant_id = {}",
                tenant.id,
            )
        return {uuid.UUID(str(r["customer_id"])): r["computed_at"] for r in rows}

    before = await computed()
    await recompute_all(tenant)
    assert await computed() == before  # nothing changed: nothing written

    strict = tenant.__class__(
        **{**tenant.__dict__, "rfm": RFMThresholds(monetary_minor=(100, 200, 500, 900))}
    )
    async with tenant_tx(tenant.id):  # b's purchases leave this store (as a merge moves rows)
        await execute(
            "DELETE FROM purchase_line WHERE tenant_id = {} AND purchase_id IN "
            "(SELECT id FROM purchase WHERE tenant_id = {} AND customer_id = {})",
            tenant.id,
            tenant.id,
            b.id,
        )
        await execute(
            "DELETE FROM purchase WHERE tenant_id = {} AND customer_id = {}", tenant.id, b.id
        )
    await recompute_all(strict)
    after = await computed()
    assert after[a.id] != before[a.id] and (await stats_of(tenant, a.id))["m_score"] == 5
    async with tenant_tx(tenant.id, write=False):
        per_store = await CustomerStoreStats.select(CustomerStoreStats.customer_id)
    assert [r["customer_id"] for r in per_store] == [a.id]
