"""Store and staff management (CORE-2, CORE-3): change, close, move, deactivate, passwords —
each audited; store-scoped callers see only their stores' staff and tasks."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from core.context import Actor
from core.db import json_value, tenant_tx
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.tables import AuditLog, Staff
from tenants.credentials import authenticate_staff, create_staff
from tenants.service import create_store
from tenants.staff import change_password, deactivate_staff, get_staff, list_staff, update_staff
from tenants.stores import close_store, update_store

PASSWORD = "a-long-password-1"


async def audited(tenant, action):
    async with tenant_tx(tenant.id, write=False):
        return [r["subject_id"] for r in await AuditLog.select().where(AuditLog.action == action)]


async def member(tenant, owner, login, role="cashier", stores=()):
    return await create_staff(
        tenant,
        owner,
        {
            "login": login,
            "name": login,
            "password": PASSWORD,
            "role": role,
            "store_ids": [str(s) for s in stores],
        },
    )


async def test_a_store_changes_and_closes_and_takes_no_more_sales(tenant, owner):
    from core.purchases import record_purchase

    store = (await create_store(tenant, owner, {"code": "S1", "name": "one"}))["id"]
    changed = await update_store(
        tenant, owner, store, {"name": "一号店", "timezone": "Asia/Urumqi", "region": "新疆"}
    )
    assert (changed["name"], changed["timezone"], changed["region"]) == (
        "一号店",
        "Asia/Urumqi",
        "新疆",
    )
    with pytest.raises(ValidationFailed) as err:
        await update_store(tenant, owner, store, {"timezone": "Mars/Base"})
    assert err.value.code == "invalid_timezone"
    closed = await close_store(tenant, owner, store)
    assert closed["closed_at"] is not None
    with pytest.raises(Conflict):
        await close_store(tenant, owner, store)
    with pytest.raises(ValidationFailed) as sale:
        await record_purchase(
            tenant, owner, {"store_id": str(store), "lines": [{"sku": "a", "unit_price": "1"}]}
        )
    assert sale.value.code == "unknown_store"
    assert await audited(tenant, "store.update") == [str(store)]
    assert await audited(tenant, "store.close") == [str(store)]


async def test_another_tenants_or_stores_store_is_not_found(tenant, other_tenant, owner):
    theirs = (await create_store(other_tenant, owner, {"code": "B", "name": "b"}))["id"]
    with pytest.raises(NotFound):
        await update_store(tenant, owner, theirs, {"name": "mine"})
    s1 = (await create_store(tenant, owner, {"code": "S1", "name": "one"}))["id"]
    s2 = (await create_store(tenant, owner, {"code": "S2", "name": "two"}))["id"]
    manager = Actor(
        kind="staff",
        id=str(uuid.uuid4()),
        role="store_manager",
        permissions=frozenset({"stores:write", "stores:read", "staff:read", "staff:write"}),
        store_ids=frozenset({s1}),
    )
    with pytest.raises(NotFound):
        await close_store(tenant, manager, s2)


async def test_staff_move_change_role_and_are_audited(tenant, owner):
    s1 = (await create_store(tenant, owner, {"code": "S1", "name": "one"}))["id"]
    s2 = (await create_store(tenant, owner, {"code": "S2", "name": "two"}))["id"]
    li = await member(tenant, owner, "li", stores=[s1])
    moved = await update_staff(
        tenant, owner, li, {"store_ids": [s2], "role": "store_manager", "name": "李店长"}
    )
    assert (moved["role"], moved["name"]) == ("store_manager", "李店长")
    assert [uuid.UUID(str(s)) for s in json_value(moved["store_ids"], [])] == [s2]
    assert moved["credentials_changed_at"] is not None
    with pytest.raises(ValidationFailed) as err:
        await update_staff(tenant, owner, li, {"role": "wizard"})
    assert err.value.code == "unknown_role"
    with pytest.raises(ValidationFailed) as err:
        await update_staff(tenant, owner, li, {"store_ids": [uuid.uuid4()]})
    assert err.value.code == "unknown_store"
    assert await audited(tenant, "staff.update") == [str(li)]


async def test_only_an_owner_makes_an_owner_and_the_last_owner_stays(tenant, owner):
    hq = Actor(
        kind="staff",
        id=str(uuid.uuid4()),
        role="hq_manager",
        permissions=frozenset({"staff:write", "staff:read"}),
    )
    boss = await member(tenant, owner, "boss", role="owner")
    zhang = await member(tenant, owner, "zhang")
    with pytest.raises(Forbidden):
        await update_staff(tenant, hq, zhang, {"role": "owner"})
    with pytest.raises(ValidationFailed) as err:
        await update_staff(tenant, owner, boss, {"role": "cashier"})
    assert err.value.code == "last_owner"
    assert (await get_staff(tenant, boss))["role"] == "owner"


async def test_a_deactivated_member_cannot_log_in(tenant, owner):
    wang = await member(tenant, owner, "wang")
    await authenticate_staff(tenant.slug, "wang", PASSWORD)
    gone = await deactivate_staff(tenant, owner, wang)
    assert gone["active"] is False
    with pytest.raises(Forbidden):
        await authenticate_staff(tenant.slug, "wang", PASSWORD)
    with pytest.raises(ValidationFailed):
        await deactivate_staff(tenant, owner, wang)
    assert await audited(tenant, "staff.deactivate") == [str(wang)]


async def test_passwords_change_with_the_current_one_or_by_a_reset(tenant, owner):
    zhao = await member(tenant, owner, "zhao")
    me = Actor(kind="staff", id=str(zhao), role="cashier", permissions=frozenset())
    with pytest.raises(ValidationFailed) as err:
        await change_password(tenant, me, zhao, "another-password", current_password="wrong-one")
    assert err.value.code == "wrong_password"
    await change_password(tenant, me, zhao, "another-password", current_password=PASSWORD)
    await authenticate_staff(tenant.slug, "zhao", "another-password")
    with pytest.raises(Forbidden):
        await authenticate_staff(tenant.slug, "zhao", PASSWORD)
    await change_password(tenant, owner, zhao, "reset-password-9")  # an owner's reset
    await authenticate_staff(tenant.slug, "zhao", "reset-password-9")
    with pytest.raises(ValidationFailed):
        await change_password(tenant, owner, zhao, "short")
    other = Actor(kind="staff", id=str(uuid.uuid4()), role="cashier", permissions=frozenset())
    with pytest.raises(Forbidden):
        await change_password(tenant, other, zhao, "hijacked-password")
    assert await audited(tenant, "staff.password") == [str(zhao), str(zhao)]
    async with tenant_tx(tenant.id, write=False):
        row = await Staff.select(Staff.credentials_changed_at).where(Staff.id == zhao).first()
    assert row["credentials_changed_at"] > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


async def test_store_scoped_callers_see_their_stores_staff_and_tasks(tenant, owner):
    from core.activity import create_task, list_tasks

    s1 = (await create_store(tenant, owner, {"code": "S1", "name": "one"}))["id"]
    s2 = (await create_store(tenant, owner, {"code": "S2", "name": "two"}))["id"]
    await member(tenant, owner, "a1", stores=[s1])
    await member(tenant, owner, "b2", stores=[s2])
    await member(tenant, owner, "hq1", role="hq_manager")
    due = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    t1 = await create_task(tenant, owner, {"title": "call", "due_at": due, "store_id": str(s1)})
    await create_task(tenant, owner, {"title": "call", "due_at": due, "store_id": str(s2)})
    manager = Actor(
        kind="staff",
        id=str(uuid.uuid4()),
        role="store_manager",
        permissions=frozenset({"staff:read", "tasks:read"}),
        store_ids=frozenset({s1}),
    )
    logins = sorted(r["login"] for r in await list_staff(tenant, manager))
    assert logins == ["a1", "hq1"]  # chain-wide staff work in every store
    assert [r["id"] for r in await list_tasks(tenant, manager, overdue=True)] == [t1]
    assert await list_tasks(tenant, manager, store_id=s2) == []


async def test_a_token_follows_the_member_as_they_are_now(tenant, owner):
    """A staff token is checked against the member on every request: deactivation and a
    password change refuse earlier tokens at once; a new role or store list applies at once."""
    from tenants.credentials import issue_staff_token, resolve_staff_token

    one = (await create_store(tenant, owner, {"code": "T1", "name": "one"}))["id"]
    two = (await create_store(tenant, owner, {"code": "T2", "name": "two"}))["id"]
    staff_id = await member(tenant, owner, "till9", stores=[one])
    _, actor = await authenticate_staff(tenant.slug, "till9", PASSWORD)
    token, _ = issue_staff_token(tenant, actor)
    _, seen = await resolve_staff_token(token)
    assert (seen.role, seen.store_ids) == ("cashier", frozenset({one}))

    await update_staff(tenant, owner, staff_id, {"role": "store_manager", "store_ids": [str(two)]})
    _, seen = await resolve_staff_token(token)
    assert (seen.role, seen.store_ids) == ("store_manager", frozenset({two}))

    # A password change refuses the tokens issued before it (a second later: tokens carry
    # whole seconds), and a fresh login works.
    async with tenant_tx(tenant.id):
        await Staff.update(
            {Staff.credentials_changed_at: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)}
        ).where(Staff.id == staff_id)
    with pytest.raises(Forbidden) as err:
        await resolve_staff_token(token)
    assert err.value.code == "invalid_credentials"

    async with tenant_tx(tenant.id):
        await Staff.update({Staff.credentials_changed_at: None}).where(Staff.id == staff_id)
    await resolve_staff_token(token)
    await deactivate_staff(tenant, owner, staff_id)
    with pytest.raises(Forbidden):
        await resolve_staff_token(token)
