import datetime as dt
import uuid
from decimal import Decimal

import pytest

from core.activity import (
    complete_task,
    create_revisit_plan,
    create_task,
    log_interaction,
    overdue_tasks,
)
from core.consent import has_consent, is_opt_out_reply, set_consent
from core.customers import create_customer, find_by_phone, get_customer
from core.db import tenant_tx
from core.errors import NotFound, ValidationFailed
from core.kpis import core_kpis
from core.privacy import erase_customer, export_customer
from core.purchases import record_purchase
from core.tables import AuditLog, Purchase, Task

NOW = dt.datetime.now(dt.UTC)


async def test_revisit_plan_creates_next_task_on_completion(tenant, owner, store):
    c = await create_customer(tenant, owner, {"name": "c"})
    plan = await create_revisit_plan(
        tenant,
        owner,
        {
            "customer_id": str(c.id),
            "interval_days": 30,
            "store_id": str(store),
            "first_due_at": (NOW - dt.timedelta(days=1)).isoformat(),
        },
    )
    overdue = await overdue_tasks(tenant, owner, store_id=store)
    assert [t["revisit_plan_id"] for t in overdue] == [plan]
    next_id = await complete_task(tenant, owner, overdue[0]["id"], note="called, happy")
    assert next_id is not None
    async with tenant_tx(tenant.id):
        nxt = await Task.select().where(Task.id == next_id).first()
    assert nxt["status"] == "open" and nxt["revisit_plan_id"] == plan
    assert dt.timedelta(days=29) < nxt["due_at"] - NOW < dt.timedelta(days=31)
    assert await overdue_tasks(tenant, owner, store_id=store) == []
    with pytest.raises(ValidationFailed):
        await complete_task(tenant, owner, overdue[0]["id"])


async def test_interactions_and_tasks_validate_references(tenant, owner):
    c = await create_customer(tenant, owner, {"name": "c"})
    await log_interaction(
        tenant,
        owner,
        {
            "customer_id": str(c.id),
            "channel": "wechat",
            "content": "asked about tea",
            "feedback": "wants discounts",
        },
    )
    with pytest.raises(NotFound):
        await log_interaction(
            tenant, owner, {"customer_id": str(uuid.uuid4()), "channel": "phone", "content": "x"}
        )
    with pytest.raises(ValidationFailed) as err:
        await log_interaction(
            tenant, owner, {"customer_id": str(c.id), "channel": "fax", "content": "x"}
        )
    assert err.value.field == "channel"
    with pytest.raises(ValidationFailed) as err:
        await create_task(tenant, owner, {"title": "t", "due_at": "2026-01-01T00:00:00"})
    assert err.value.code == "naive_datetime"
    t = await create_task(
        tenant,
        owner,
        {
            "title": "t",
            "customer_id": str(c.id),
            "due_at": (NOW - dt.timedelta(hours=1)).isoformat(),
        },
    )
    assert [x["id"] for x in await overdue_tasks(tenant, owner)] == [t]


async def test_consent_latest_record_wins_and_is_audited(tenant, owner):
    c = await create_customer(tenant, owner, {"name": "c"})
    assert not await has_consent(tenant, c.id, "marketing", "sms")
    await set_consent(
        tenant,
        owner,
        {
            "customer_id": str(c.id),
            "purpose": "marketing",
            "granted": True,
            "source": "membership_form",
            "proof": "form #12",
        },
    )
    assert await has_consent(tenant, c.id, "marketing", "sms")
    await set_consent(
        tenant,
        owner,
        {
            "customer_id": str(c.id),
            "purpose": "marketing",
            "channel": "sms",
            "granted": False,
            "source": "reply:TD",
        },
    )
    assert not await has_consent(tenant, c.id, "marketing", "sms")
    assert await has_consent(tenant, c.id, "marketing", "email")
    assert is_opt_out_reply(" 退订 ") and is_opt_out_reply("TD") and not is_opt_out_reply("好的")
    async with tenant_tx(tenant.id):
        actions = (
            await AuditLog.select(AuditLog.action)
            .where(AuditLog.subject_id == str(c.id))
            .order_by(AuditLog.at)
        )
    assert [a["action"] for a in actions] == ["consent.grant", "consent.withdraw"]


async def test_export_holds_everything_and_erase_keeps_purchases_under_pseudonym(
    tenant, owner, store
):
    c = await create_customer(
        tenant,
        owner,
        {
            "name": "周杰",
            "phone": "13912345678",
            "email": "z@example.com",
            "address": "上海",
            "notes": "likes tea",
        },
    )
    p = await record_purchase(
        tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(c.id),
            "lines": [{"sku": "T", "unit_price": "8.80"}],
        },
    )
    await set_consent(
        tenant, owner, {"customer_id": str(c.id), "purpose": "surveys", "granted": True}
    )
    await log_interaction(
        tenant, owner, {"customer_id": str(c.id), "channel": "phone", "content": "hello"}
    )
    data = await export_customer(tenant, owner, c.id)
    assert data["customer"]["phone"] == "+8613912345678"
    assert data["customer"]["email"] == "z@example.com"
    assert [x["amount"] for x in data["purchases"]] == ["8.80"]
    assert (
        len(data["purchase_lines"]) == 1
        and len(data["consent"]) == 1
        and len(data["interactions"]) == 1
    )

    name = await erase_customer(tenant, owner, c.id)
    erased = await get_customer(tenant, owner, c.id)
    assert (
        erased.name,
        erased.phone,
        erased.email,
        erased.address,
        erased.notes,
        erased.status,
    ) == (name, None, None, "", "", "erased")
    assert await find_by_phone(tenant, owner, "13912345678") is None
    async with tenant_tx(tenant.id):
        kept = (
            await Purchase.select(Purchase.id, Purchase.customer_id)
            .where(Purchase.id == p.id)
            .first()
        )
        actions = {a["action"] for a in await AuditLog.select(AuditLog.action)}
    assert kept["customer_id"] == c.id
    assert {"customer.export", "customer.erase"} <= actions
    again = await export_customer(tenant, owner, c.id)
    assert (
        "周杰" not in str(again) and "13912345678" not in str(again) and "hello" not in str(again)
    )


async def test_core_kpis(tenant, owner, store):
    a = await create_customer(tenant, owner, {"name": "a", "home_store_id": str(store)})
    b = await create_customer(tenant, owner, {"name": "b"})
    for cust, price in ((a, "10.00"), (a, "20.00"), (b, "30.00")):
        await record_purchase(
            tenant,
            owner,
            {
                "store_id": str(store),
                "customer_id": str(cust.id),
                "lines": [{"sku": "x", "unit_price": price}],
            },
        )
    k = await core_kpis(tenant, owner, NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1))
    assert (k.new_customers, k.active_customers, k.repeat_customers, k.sales_count) == (2, 2, 1, 3)
    assert (k.repeat_rate, k.net_sales, k.average_ticket) == (
        Decimal("0.5000"),
        Decimal("60.00"),
        Decimal("20.00"),
    )
    assert k.value_class_mix == {"high_value": 0, "regular": 1, "potential": 1}
    per_store = await core_kpis(
        tenant, owner, NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1), store
    )
    assert per_store.new_customers == 1
    with pytest.raises(ValidationFailed):
        await core_kpis(tenant, owner, NOW, NOW - dt.timedelta(days=1))
