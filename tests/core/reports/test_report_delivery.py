"""The Monday e-mail and the signed links: who gets which report, once, from 08:00 local time;
a link opens its report until it expires or its recipient may no longer see it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.db import tenant_tx
from core.errors import NotFound
from core.links import read_token, sign_token
from core.messaging import channels_for
from core.reports import open_report_link, report_link, send_weekly_reports
from core.tables import Message
from tenants.staff import deactivate_staff, update_staff
from tests.core.reports.helpers import local, member, new_store, sell


async def queued(tenant):
    async with tenant_tx(tenant.id, write=False):
        return [dict(r) for r in await Message.select().order_by(Message.idempotency_key)]


async def test_managers_get_their_store_and_hq_the_chain_once_from_eight(tenant, owner):
    from tenants.stores import update_store

    one = await new_store(tenant, owner, "S1")
    far = await new_store(tenant, owner, "XJ")
    await update_store(tenant, owner, far, {"timezone": "Asia/Urumqi"})  # UTC+6: two hours later
    m1 = await member(tenant, owner, "m1", "store_manager", [one], email="m1@example.com")
    await member(tenant, owner, "m2", "store_manager", [one])  # no e-mail address: not sent
    m3 = await member(tenant, owner, "m3", "store_manager", [far], email="m3@example.com")
    await member(tenant, owner, "c1", "cashier", [one], email="c1@example.com")
    hq = await member(tenant, owner, "hq", "hq_manager", email="hq@example.com")
    await sell(tenant, owner, one, local(2026, 3, 3), "88.00")
    channels = await channels_for(tenant, None)

    async def run(at):
        return await send_weekly_reports(tenant, runtime=None, channels=channels, now=at)

    assert await run(dt.datetime(2026, 3, 9, 7, 55, tzinfo=ZoneInfo("Asia/Shanghai"))) == 0
    assert await run(dt.datetime(2026, 3, 9, 8, 5, tzinfo=ZoneInfo("Asia/Shanghai"))) == 2
    messages = await queued(tenant)
    assert sorted(
        (str(m["staff_id"]), m["channel"], m["transactional"]) for m in messages
    ) == sorted([(str(m1), "email", True), (str(hq), "email", True)])
    mine = next(m for m in messages if m["staff_id"] == m1)
    assert mine["subject"] == "S1 周报 2026-03-02 至 2026-03-08"
    assert "净销售额: ¥88.00" in mine["body"] and "/reports/weekly/" in mine["body"]
    # Later the same Monday: nothing twice. At 08:05 in Urumqi (10:05 in Shanghai): the far store.
    assert await run(dt.datetime(2026, 3, 9, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai"))) == 0
    assert await run(dt.datetime(2026, 3, 9, 8, 5, tzinfo=ZoneInfo("Asia/Urumqi"))) == 1
    assert {m["staff_id"] for m in await queued(tenant)} == {m1, hq, m3}
    assert await run(dt.datetime(2026, 3, 10, 8, 5, tzinfo=ZoneInfo("Asia/Shanghai"))) == 0


async def test_a_link_opens_its_report_while_its_recipient_may_see_it(tenant, owner):
    one = await new_store(tenant, owner, "S1")
    two = await new_store(tenant, owner, "S2")
    m1 = await member(tenant, owner, "m1", "store_manager", [one])
    link = report_link(tenant, one, dt.date(2026, 3, 2), "en", staff_id=m1)
    assert link.page.startswith("http://localhost:8000/reports/weekly/")
    report, locale = await open_report_link(link.token, runtime=None)
    assert (report.store.id, report.week_start, locale) == (one, dt.date(2026, 3, 2), "en")
    await update_staff(tenant, owner, m1, {"store_ids": [str(two)]})  # moved to another store
    with pytest.raises(NotFound):
        await open_report_link(link.token, runtime=None)
    await update_staff(tenant, owner, m1, {"store_ids": [str(one)]})
    await open_report_link(link.token, runtime=None)
    await deactivate_staff(tenant, owner, m1)
    with pytest.raises(NotFound):
        await open_report_link(link.token, runtime=None)
    # A chain link for a store-scoped member does not open the chain report.
    m2 = await member(tenant, owner, "m2", "store_manager", [one])
    with pytest.raises(NotFound):
        await open_report_link(
            report_link(tenant, None, dt.date(2026, 3, 2), "en", staff_id=m2).token, runtime=None
        )


def test_tokens_are_tamper_proof_expiring_and_bound_to_their_purpose():
    now = dt.datetime(2026, 3, 9, tzinfo=dt.UTC)
    token = sign_token("weekly-report", {"a": 1}, expires=now + dt.timedelta(days=1))
    assert read_token("weekly-report", token, now=now) == {
        "a": 1,
        "exp": int((now + dt.timedelta(days=1)).timestamp()),
    }
    body, _, mac = token.partition(".")
    for bad in (
        f"{body}x.{mac}",
        f"{body}.{mac[:-2]}AA",
        "garbage",
        "",
        "a" * 3000,
        f"{body}.",
    ):
        with pytest.raises(NotFound):
            read_token("weekly-report", bad, now=now)
    with pytest.raises(NotFound):
        read_token("survey-export", token, now=now)
    with pytest.raises(NotFound):
        read_token("weekly-report", token, now=now + dt.timedelta(days=2))
