import uuid

import pytest

from core.customers import (
    create_customer,
    find_by_phone,
    get_customer,
    merge_customers,
    search_customers,
    update_customer,
)
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.tables import Customer


async def test_create_normalises_phone_and_masks_it(tenant, owner):
    c = await create_customer(
        tenant, owner, {"name": " 王芳 ", "phone": "139 1234 7777", "tags": ["vip", "vip"]}
    )
    assert c.name == "王芳"
    assert c.phone == "139****7777"
    assert c.tags == ["vip"]
    full = await get_customer(tenant, owner, c.id, unmask=True)
    assert full.phone == "+8613912347777"


async def test_find_by_phone_accepts_any_format(tenant, owner):
    c = await create_customer(tenant, owner, {"name": "李雷", "phone": "+86 139-1234-0001"})
    found = await find_by_phone(tenant, owner, "13912340001")
    assert found is not None and found.id == c.id
    assert await find_by_phone(tenant, owner, "13912340002") is None


async def test_duplicate_phone_in_tenant_conflicts_and_writes_nothing(tenant, owner):
    await create_customer(tenant, owner, {"name": "A", "phone": "13912340003"})
    with pytest.raises(Conflict) as err:
        await create_customer(tenant, owner, {"name": "B", "phone": "13912340003"})
    assert err.value.field == "phone"
    assert [c.name for c in await search_customers(tenant, owner, {"name_prefix": "B"})] == []


async def test_same_phone_in_two_tenants(tenant, other_tenant, owner):
    a = await create_customer(tenant, owner, {"phone": "13912340004"})
    b = await create_customer(other_tenant, owner, {"phone": "13912340004"})
    assert a.id != b.id


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"phone": "12345"}, "phone", "invalid_phone"),
        ({"email": "not-an-email"}, "email", "invalid_email"),
        ({"name": "x" * 201}, "name", "invalid"),
        ({"notes": "x" * 5001}, "notes", "invalid"),
        ({"gender": "robot"}, "gender", "invalid"),
        ({"home_store_id": str(uuid.uuid4())}, "home_store_id", "unknown_store"),
        ({"tags": ["ok", ""]}, "tags[1]", "invalid"),
        ({"attributes": {"k": "x" * 9000}}, "attributes", "too_large"),
        ({"unknown": 1}, None, "invalid"),
    ],
)
async def test_bad_input_is_rejected_and_nothing_written(tenant, owner, db, data, field, code):
    from core.db import tenant_tx

    with pytest.raises(ValidationFailed) as err:
        await create_customer(tenant, owner, {"name": "Bad"} | data)
    assert err.value.code == code
    if field:
        assert err.value.field == field
    async with tenant_tx(tenant.id):
        assert await Customer.count() == 0


async def test_update_changes_only_given_fields(tenant, owner, store):
    c = await create_customer(
        tenant, owner, {"name": "张三", "phone": "13912340005", "company": "ACME"}
    )
    u = await update_customer(
        tenant,
        owner,
        c.id,
        {"email": "ZS@Example.com", "home_store_id": str(store), "tags": ["新客"]},
    )
    assert (u.company, u.email, u.home_store_id, u.tags) == (
        "ACME",
        "z***@example.com",
        store,
        ["新客"],
    )
    assert u.phone == "139****7777"[:0] + "139****0005"
    assert [x.id for x in await search_customers(tenant, owner, {"tag": "新客"})] == [c.id]


async def test_update_to_taken_phone_conflicts(tenant, owner):
    await create_customer(tenant, owner, {"phone": "13912340006"})
    c = await create_customer(tenant, owner, {"phone": "13912340007"})
    with pytest.raises(Conflict):
        await update_customer(tenant, owner, c.id, {"phone": "13912340006"})
    assert (await get_customer(tenant, owner, c.id, unmask=True)).phone == "+8613912340007"


async def test_search_by_name_prefix_tag_and_card(tenant, owner):
    await create_customer(tenant, owner, {"name": "王小明", "tags": ["vip"], "card_no": "C1"})
    await create_customer(tenant, owner, {"name": "王大明"})
    await create_customer(tenant, owner, {"name": "李明", "tags": ["vip"]})
    assert sorted(c.name for c in await search_customers(tenant, owner, {"name_prefix": "王"})) == [
        "王大明",
        "王小明",
    ]
    assert sorted(c.name for c in await search_customers(tenant, owner, {"tag": "vip"})) == [
        "李明",
        "王小明",
    ]
    assert [c.name for c in await search_customers(tenant, owner, {"card_no": "C1"})] == ["王小明"]


async def test_search_paginates_by_keyset(tenant, owner):
    for i in range(5):
        await create_customer(tenant, owner, {"name": f"p{i}"})
    first = await search_customers(tenant, owner, first=2)
    rest = await search_customers(tenant, owner, first=10, after=first[-1].id)
    assert len(first) == 2 and len(rest) == 3
    assert not {c.id for c in first} & {c.id for c in rest}
    with pytest.raises(ValidationFailed):
        await search_customers(tenant, owner, first=101)


async def test_merge_moves_records_and_frees_phone(tenant, owner, store):
    from core.purchases import record_purchase

    src = await create_customer(tenant, owner, {"name": "", "phone": "13912340008", "tags": ["a"]})
    dst = await create_customer(tenant, owner, {"name": "Target", "tags": ["b"]})
    await record_purchase(
        tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(src.id),
            "lines": [{"sku": "X", "unit_price": "10.00"}],
        },
    )
    merged = await merge_customers(tenant, owner, src.id, dst.id)
    assert merged.name == "Target"
    assert merged.tags == ["b", "a"]
    assert merged.phone == "139****0008"
    assert (await find_by_phone(tenant, owner, "13912340008")).id == dst.id
    with pytest.raises(NotFound):
        await merge_customers(tenant, owner, src.id, dst.id)
    from core.db import tenant_tx
    from core.tables import CustomerStats, Purchase

    async with tenant_tx(tenant.id):
        assert await Purchase.count().where(Purchase.customer_id == dst.id) == 1
        stats = await CustomerStats.select().where(CustomerStats.customer_id == dst.id).first()
    assert stats["purchase_count"] == 1 and stats["total_spent_minor"] == 1000


async def test_permissions_are_checked(tenant):
    from core.context import Actor

    cashier = Actor(
        kind="staff",
        id=str(uuid.uuid4()),
        role="cashier",
        permissions=frozenset({"customers:read"}),
    )
    with pytest.raises(Forbidden):
        await create_customer(tenant, cashier, {"name": "x"})
    c = await create_customer(tenant, Actor.system(), {"name": "x", "phone": "13912340009"})
    with pytest.raises(Forbidden):
        await get_customer(tenant, cashier, c.id, unmask=True)
