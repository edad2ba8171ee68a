import uuid

import pytest

from core.customers import create_customer
from core.db import tenant_tables, tenant_tx
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.purchases import record_purchase
from tenants.credentials import (
    authenticate_staff,
    create_api_key,
    create_staff,
    list_api_keys,
    resolve_api_key,
    revoke_api_key,
)
from tenants.service import (
    create_store,
    create_tenant,
    delete_tenant,
    get_tenant,
    list_stores,
    set_tenant_status,
)
from tests.conftest import make_tenant


async def test_create_tenant_defaults_and_duplicate_slug(db):
    t = await make_tenant(slug=f"chain-{uuid.uuid4().hex[:6]}")
    assert (t.currency, t.locale, t.timezone, t.phone_region, t.status) == (
        "CNY",
        "zh-CN",
        "Asia/Shanghai",
        "CN",
        "active",
    )
    with pytest.raises(Conflict):
        await create_tenant({"slug": t.slug, "name": "again"})


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"locale": "fr"}, "locale"),
        ({"currency": "XXX"}, "currency"),
        ({"phone_region": "ZZ"}, "phone_region"),
        ({"name": ""}, "name"),
    ],
)
async def test_bad_tenant_input(db, data, field):
    with pytest.raises(ValidationFailed) as err:
        await create_tenant({"slug": f"t-{uuid.uuid4().hex[:8]}", "name": "x"} | data)
    assert err.value.field == field


async def test_the_slug_status_is_reserved_and_creates_nothing(db):
    from core.db import platform_tx
    from core.tables import Tenant

    with pytest.raises(ValidationFailed) as err:
        await create_tenant({"slug": "status", "name": "状态连锁"})
    assert (err.value.field, err.value.code) == ("slug", "reserved")
    async with platform_tx():
        assert not await Tenant.exists().where(Tenant.slug == "status")
    # a slug that merely starts with it is an ordinary slug
    made = await create_tenant({"slug": f"status-{uuid.uuid4().hex[:6]}", "name": "x"})
    assert made.slug.startswith("status-")


async def test_store_codes_are_unique_per_tenant(tenant, other_tenant, owner):
    await create_store(tenant, owner, {"code": "SH01", "name": "a"})
    await create_store(other_tenant, owner, {"code": "SH01", "name": "b"})
    with pytest.raises(Conflict):
        await create_store(tenant, owner, {"code": "SH01", "name": "c"})
    assert [s["name"] for s in await list_stores(tenant, owner)] == ["a"]


async def test_staff_login_and_store_scope(tenant, owner, store):
    await create_staff(
        tenant,
        owner,
        {
            "login": "cashier1",
            "name": "C",
            "password": "correct horse battery",
            "role": "cashier",
            "store_ids": [str(store)],
        },
    )
    t, actor = await authenticate_staff(tenant.slug, "cashier1", "correct horse battery")
    assert t.id == tenant.id and actor.role == "cashier" and actor.store_ids == frozenset({store})
    assert actor.can("purchases:write") and not actor.can("customers:export")
    for slug, login, pw in (
        (tenant.slug, "cashier1", "wrong password!"),
        (tenant.slug, "ghost", "whatever12345"),
        # a fresh unknown slug: failed logins are remembered (in Redis) across test runs
        (f"no-such-{uuid.uuid4().hex[:8]}", "cashier1", "correct horse battery"),
    ):
        with pytest.raises(Forbidden) as err:
            await authenticate_staff(slug, login, pw)
        assert err.value.message == "invalid login or password"
    with pytest.raises(ValidationFailed) as err:
        await create_staff(
            tenant, owner, {"login": "x1", "name": "x", "password": "short", "role": "cashier"}
        )
    assert err.value.field == "password"
    with pytest.raises(ValidationFailed) as err:
        await create_staff(
            tenant,
            owner,
            {"login": "x2", "name": "x", "password": "long enough pw", "role": "king"},
        )
    assert err.value.code == "unknown_role"


async def test_api_keys_hashed_revocable_and_refused_when_suspended(tenant, owner):
    key_id, key = await create_api_key(tenant, owner, name="POS", role="cashier")
    assert key.startswith(f"mdn_{tenant.slug}_") and len(key) == len(f"mdn_{tenant.slug}_") + 43
    t, actor = await resolve_api_key(key)
    assert (t.id, actor.kind, actor.role) == (tenant.id, "api_key", "cashier")
    listed = await list_api_keys(tenant)
    assert [k["key_hint"] for k in listed] == [key[-4:]] and "key_hash" not in listed[0]
    from core.tables import ApiKey

    async with tenant_tx(tenant.id):
        stored = await ApiKey.select(ApiKey.key_hash).first()
    assert key not in str(stored)
    await set_tenant_status(tenant.slug, "suspended")
    with pytest.raises(Forbidden):
        await resolve_api_key(key)
    await set_tenant_status(tenant.slug, "active")
    await revoke_api_key(tenant, owner, key_id)
    with pytest.raises(Forbidden):
        await resolve_api_key(key)
    with pytest.raises(Forbidden):
        await resolve_api_key(key.replace(tenant.slug, "other"))


async def test_delete_tenant_removes_every_row(tenant, other_tenant, owner, store):
    c = await create_customer(tenant, owner, {"name": "x", "phone": "13912340000"})
    await record_purchase(
        tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(c.id),
            "lines": [{"sku": "a", "unit_price": "1"}],
        },
    )
    survivor = await create_customer(other_tenant, owner, {"name": "stay"})
    removed = await delete_tenant(tenant.slug)
    assert removed > 10
    with pytest.raises(NotFound):
        await get_tenant(tenant.slug)
    async with tenant_tx(tenant.id):
        for table in tenant_tables():
            assert await table.count() == 0, table._meta.tablename
    async with tenant_tx(other_tenant.id):
        from core.tables import Customer

        assert await Customer.count().where(Customer.id == survivor.id) == 1
