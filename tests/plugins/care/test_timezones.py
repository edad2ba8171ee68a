"""Festival and birthday greetings go when the day begins in each customer's store timezone:
one run per occurrence, grown zone by zone, every customer once. 中秋 2027 is lunar 8/15 =
15 September 2027 (``from_lunar``); it begins at 16:00 UTC on the 14th in Asia/Shanghai and at
07:00 UTC on the 15th in America/Los_Angeles (PDT)."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

import pytest

from tests.plugins.care.helpers import (
    ACTIVATE,
    CREATE,
    active_festival,
    gql_ok,
    outbox,
    targets,
    uid,
)
from tests.plugins.care.helpers import schedule as _job

pytestmark = pytest.mark.usefixtures("db")

UTC = dt.UTC


async def _fan_out(tenant):
    from core.plugins import get_runtime
    from plugins.care.runs import finish_pending

    runtime = get_runtime()
    return await finish_pending(
        tenant, await runtime.plugin_settings(tenant.id, "care"), await runtime.channels(tenant)
    )


async def _chain(tenant, owner, birthday: str | None = None) -> dict[str, list[UUID]]:
    """Two customers of a Shanghai store, two of a Los Angeles store, one without a home
    store (the tenant's Asia/Shanghai), all consenting."""
    from core.consent import set_consent
    from core.customers import create_customer
    from tenants.service import create_store

    sh = await create_store(tenant, owner, {"code": "SH", "name": "上海店"})
    la = await create_store(
        tenant, owner, {"code": "LA", "name": "洛杉矶店", "timezone": "America/Los_Angeles"}
    )
    people: dict[str, list[UUID]] = {"sh": [], "la": [], "none": []}
    plan = [("sh", sh["id"]), ("sh", sh["id"]), ("la", la["id"]), ("la", la["id"]), ("none", None)]
    for i, (where, store) in enumerate(plan):
        data = {"name": f"顾客{i}", "phone": f"1380000{i:04d}"}
        if store is not None:
            data["home_store_id"] = str(store)
        if birthday:
            data["birthday"] = birthday
        c = await create_customer(tenant, owner, data)
        await set_consent(
            tenant, owner, {"customer_id": str(c.id), "purpose": "marketing", "granted": True}
        )
        people[where].append(c.id)
    people["stores"] = [UUID(str(sh["id"])), UUID(str(la["id"]))]
    return people


async def _greeted(tenant) -> list[str]:
    return sorted(str(m["customer_id"]) for m in await outbox(tenant))


async def test_a_mid_autumn_greeting_starts_when_the_day_begins_in_each_stores_timezone(
    api, tenant, owner, make_key, enable_plugins
):
    from core import from_lunar

    assert tenant.timezone == "Asia/Shanghai"
    assert from_lunar(2027, 8, 15) == dt.date(2027, 9, 15)  # 中秋 2027
    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    people = await _chain(tenant, owner)
    campaign = await active_festival(api, key)
    shanghai = sorted(str(c) for c in people["sh"] + people["none"])
    everyone = sorted(str(c) for c in people["sh"] + people["la"] + people["none"])

    # 23:59 on the 14th in Shanghai: nobody yet
    assert await _job(tenant, dt.datetime(2027, 9, 14, 15, 59, tzinfo=UTC)) == []
    # 00:30 on the 15th in Shanghai (09:30 on the 14th in Los Angeles): Shanghai's customers
    # and the one without a store (the tenant's timezone)
    assert await _job(tenant, dt.datetime(2027, 9, 14, 16, 30, tzinfo=UTC)) == [
        "mid_autumn:2027-09-15"
    ]
    assert await _greeted(tenant) == shanghai
    # later passes while Los Angeles is still on the 14th add nobody
    assert await _job(tenant, dt.datetime(2027, 9, 15, 3, tzinfo=UTC)) == []
    assert await _job(tenant, dt.datetime(2027, 9, 15, 6, 59, tzinfo=UTC)) == []
    assert await _greeted(tenant) == shanghai
    # 00:30 on the 15th in Los Angeles: its customers join the same run
    assert await _job(tenant, dt.datetime(2027, 9, 15, 7, 30, tzinfo=UTC)) == [
        "mid_autumn:2027-09-15"
    ]
    assert await _greeted(tenant) == everyone
    # re-running (more passes, the fan-out job) adds nobody
    assert await _job(tenant, dt.datetime(2027, 9, 15, 7, 45, tzinfo=UTC)) == []
    assert await _job(tenant, dt.datetime(2027, 9, 16, 6, tzinfo=UTC)) == []
    assert await _fan_out(tenant) == 0
    messages = await outbox(tenant)
    assert sorted(m["idempotency_key"] for m in messages) == sorted(
        f"care:{uid(campaign)}:mid_autumn:2027-09-15:{c}" for c in everyone
    )
    rows = await targets(tenant)
    assert len(rows) == 5 and len({str(r["run_id"]) for r in rows}) == 1
    assert {r["status"] for r in rows} == {"queued"}

    from core import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        run = await fetch(
            "SELECT targeted, status, zones FROM care_run WHERE tenant_id = {}", tenant.id
        )
        stores = await fetch(
            "SELECT customer_id, store_id FROM care_target WHERE tenant_id = {}", tenant.id
        )
    assert [(r["targeted"], r["status"], r["zones"]) for r in run] == [
        (5, "done", "America/Los_Angeles,Asia/Shanghai")
    ]
    sh, la = people["stores"]
    home = {str(r["customer_id"]): r["store_id"] for r in stores}
    assert {str(c): home[str(c)] for c in people["la"]} == {str(c): la for c in people["la"]}
    assert {UUID(str(home[str(c)])) for c in people["sh"]} == {sh}
    assert home[str(people["none"][0])] is None


async def test_a_birthday_greeting_goes_on_the_birthday_in_the_customers_store_timezone(
    api, tenant, owner, make_key, enable_plugins
):
    """Born 10 March: greeted on 10 March 2027 local — from 16:00 UTC on the 9th in Shanghai,
    from 08:00 UTC on the 10th in Los Angeles (PST: its summer time starts on the 14th)."""
    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    people = await _chain(tenant, owner, birthday="1990-03-10")
    body = await gql_ok(
        api, CREATE, {"i": {"name": "生日祝福", "kind": "BIRTHDAY", "message": "生日快乐！"}}, key
    )
    campaign = body["careCampaignCreate"]["campaign"]["id"]
    await gql_ok(api, ACTIVATE, {"i": {"id": campaign}}, key)
    shanghai = sorted(str(c) for c in people["sh"] + people["none"])

    assert "birthday:2027-03-10" in await _job(tenant, dt.datetime(2027, 3, 9, 16, 5, tzinfo=UTC))
    assert await _greeted(tenant) == shanghai
    await _job(tenant, dt.datetime(2027, 3, 10, 7, 55, tzinfo=UTC))  # 23:55 on the 9th in LA
    assert await _greeted(tenant) == shanghai
    assert "birthday:2027-03-10" in await _job(tenant, dt.datetime(2027, 3, 10, 8, 5, tzinfo=UTC))
    assert await _job(tenant, dt.datetime(2027, 3, 10, 8, 20, tzinfo=UTC)) == []
    messages = await outbox(tenant)
    assert sorted(m["idempotency_key"] for m in messages) == sorted(
        f"care:{uid(campaign)}:birthday:2027-03-10:{c}"
        for c in people["sh"] + people["la"] + people["none"]
    )


async def test_running_a_festival_by_hand_reaches_every_zone_and_the_schedule_adds_nobody_after(
    api, tenant, owner, make_key, enable_plugins
):
    """Shanghai's customers were greeted by the schedule; a manual run of the same occurrence
    (``careCampaignRunNow``) adds Los Angeles' before its day begins; its pass adds nobody."""
    from tests.plugins.care.helpers import RUN_NOW

    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    people = await _chain(tenant, owner)
    campaign = await active_festival(api, key)
    await _job(tenant, dt.datetime(2027, 9, 14, 16, 30, tzinfo=UTC))
    assert len(await _greeted(tenant)) == 3
    done = await gql_ok(
        api, RUN_NOW, {"i": {"id": campaign, "occurrence": "mid_autumn:2027-09-15"}}, key
    )
    assert done["careCampaignRunNow"]["run"]["targeted"] == 5
    everyone = sorted(str(c) for c in people["sh"] + people["la"] + people["none"])
    assert await _greeted(tenant) == everyone
    assert await _job(tenant, dt.datetime(2027, 9, 15, 7, 30, tzinfo=UTC)) == []
    assert await _greeted(tenant) == everyone
