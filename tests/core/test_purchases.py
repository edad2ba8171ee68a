import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from core.customers import create_customer
from core.db import tenant_tx
from core.errors import IdempotencyMismatch, ValidationFailed
from core.purchases import record_purchase, record_refund
from core.tables import EventOutbox, Purchase, PurchaseLine


def sale(store, customer=None, **extra):
    data = {
        "store_id": str(store),
        "lines": [
            {"sku": "TEA", "unit_price": "12.30", "qty": "2"},
            {"sku": "CUP", "unit_price": "5.05", "qty": "1.5"},
        ],
    }
    if customer:
        data["customer_id"] = str(customer)
    return data | extra


async def count_purchases(tenant):
    async with tenant_tx(tenant.id):
        return await Purchase.count(), await PurchaseLine.count()


async def test_record_computes_exact_amounts_and_emits_event(tenant, owner, store):
    c = await create_customer(tenant, owner, {"name": "x"})
    p = await record_purchase(tenant, owner, sale(store, c.id))
    assert p.amount == Decimal("32.18")  # 24.60 + 7.575 rounded half-up per line → 7.58
    assert [ln.amount for ln in p.lines] == [Decimal("24.60"), Decimal("7.58")]
    assert p.lines[1].qty == Decimal("1.5")
    async with tenant_tx(tenant.id):
        events = await EventOutbox.select(EventOutbox.name).where(
            EventOutbox.subject_id == str(p.id)
        )
    assert [e["name"] for e in events] == ["purchase.recorded"]


async def test_idempotency_key_replays_and_rejects_other_payload(tenant, owner, store):
    first = await record_purchase(tenant, owner, sale(store), idempotency_key="k-1")
    again = await record_purchase(tenant, owner, sale(store), idempotency_key="k-1")
    assert again.id == first.id and again.replayed and not first.replayed
    with pytest.raises(IdempotencyMismatch):
        await record_purchase(tenant, owner, sale(store, note="other"), idempotency_key="k-1")
    assert await count_purchases(tenant) == (1, 2)


async def test_receipt_number_is_idempotent(tenant, owner, store):
    a = await record_purchase(tenant, owner, sale(store, receipt_no="R-1"))
    b = await record_purchase(tenant, owner, sale(store, receipt_no="R-1"))
    assert a.id == b.id
    with pytest.raises(IdempotencyMismatch) as err:
        await record_purchase(tenant, owner, sale(store, receipt_no="R-1", channel="online"))
    assert err.value.field == "receipt_no"


async def test_concurrent_duplicates_write_one_purchase(tenant, owner, store):
    results = await asyncio.gather(
        *(record_purchase(tenant, owner, sale(store), idempotency_key="same") for _ in range(20))
    )
    assert len({r.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert await count_purchases(tenant) == (1, 2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [{"sku": "A", "unit_price": "1.00", "qty": "-1"}]}, "lines.0.qty"),
        ({"lines": [{"sku": "A", "unit_price": "1.001"}]}, "lines.0.unit_price"),
        ({"lines": [{"sku": "A", "unit_price": "-1"}]}, "lines.0.unit_price"),
        ({"lines": []}, "lines"),
        ({"store_id": str(uuid.uuid4())}, "store_id"),
        ({"customer_id": str(uuid.uuid4())}, "customer_id"),
        ({"occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),
        ({"note": "x" * 1001}, "note"),
    ],
)
async def test_bad_purchase_is_rejected_and_nothing_written(tenant, owner, store, change, field):
    with pytest.raises(ValidationFailed) as err:
        await record_purchase(tenant, owner, sale(store) | change)
    assert err.value.field == field
    assert await count_purchases(tenant) == (0, 0)


async def test_partial_then_full_refund_never_exceeds_the_sale(tenant, owner, store):
    c = await create_customer(tenant, owner, {"name": "x"})
    p = await record_purchase(
        tenant, owner, sale(store, c.id, amount="30.00")
    )  # discounted from 32.18
    r1 = await record_refund(
        tenant, owner, {"refund_of": str(p.id), "lines": [{"line_no": 1, "qty": "1"}]}
    )
    # 12.30 of 32.18 gross, paid 30.00 → 11.47 (proportional share of the discount)
    assert r1.amount == Decimal("-11.47")
    assert r1.refund_of_id == p.id and r1.kind == "refund"
    with pytest.raises(ValidationFailed) as err:
        await record_refund(
            tenant, owner, {"refund_of": str(p.id), "lines": [{"line_no": 1, "qty": "2"}]}
        )
    assert err.value.code == "over_refund"
    r2 = await record_refund(tenant, owner, {"refund_of": str(p.id)})
    assert [(ln.line_no, ln.qty) for ln in r2.lines] == [(1, Decimal("-1")), (2, Decimal("-1.5"))]
    with pytest.raises(ValidationFailed) as err:
        await record_refund(tenant, owner, {"refund_of": str(p.id)})
    assert err.value.code == "already_refunded"
    async with tenant_tx(tenant.id):
        rows = await Purchase.select(Purchase.amount_minor)
    assert sum(r["amount_minor"] for r in rows) == 0


async def test_refund_of_unknown_purchase(tenant, owner):
    with pytest.raises(ValidationFailed) as err:
        await record_refund(tenant, owner, {"refund_of": str(uuid.uuid4())})
    assert err.value.code == "unknown_purchase"


async def test_concurrent_refunds_do_not_over_refund(tenant, owner, store):
    p = await record_purchase(
        tenant,
        owner,
        {"store_id": str(store), "lines": [{"sku": "A", "unit_price": "1.00", "qty": "5"}]},
    )
    outcomes = await asyncio.gather(
        *(
            record_refund(
                tenant, owner, {"refund_of": str(p.id), "lines": [{"line_no": 1, "qty": "1"}]}
            )
            for _ in range(8)
        ),
        return_exceptions=True,
    )
    ok = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(ok) == 5
    assert all(isinstance(o, ValidationFailed) for o in outcomes if isinstance(o, Exception))


async def test_store_scoped_actor_cannot_record_in_other_store(tenant, store):
    from core.context import Actor

    cashier = Actor(
        kind="staff",
        id=str(uuid.uuid4()),
        role="cashier",
        permissions=frozenset({"purchases:write"}),
        store_ids=frozenset({uuid.uuid4()}),
    )
    with pytest.raises(ValidationFailed) as err:
        await record_purchase(tenant, cashier, sale(store))
    assert err.value.field == "store_id"


async def test_occurred_at_is_stored_in_utc(tenant, owner, store):
    when = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    p = await record_purchase(tenant, owner, sale(store, occurred_at=when.isoformat()))
    assert p.occurred_at == when
    assert p.occurred_at.utcoffset() == dt.timedelta(0)
