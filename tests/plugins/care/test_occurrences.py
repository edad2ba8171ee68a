"""Occurrences by the calendar, in the tenant's timezone: 中秋 2026 is 25 September (lunar
8/15); the schedule starts its run once, whatever the number of scheduler passes; the
points-expiring reminder is care's only when the tenant says so."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.plugins.care.helpers import ACTIVATE, CREATE, customers, gql_ok, outbox, uid

pytestmark = pytest.mark.usefixtures("db")


async def _job(tenant, now):
    from core.plugins import get_runtime
    from plugins.care.occurrences import start_due

    runtime = get_runtime()
    return await start_due(
        tenant,
        await runtime.plugin_settings(tenant.id, "care"),
        await runtime.channels(tenant),
        await runtime.segment_fields(tenant),
        now,
    )


async def test_a_festival_greeting_goes_on_the_lunar_date_in_the_tenants_timezone_once(
    api, tenant, owner, make_key, enable_plugins
):
    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    people = await customers(tenant, owner, 5)
    body = await gql_ok(
        api,
        CREATE,
        {
            "i": {
                "name": "中秋问候",
                "kind": "FESTIVAL",
                "message": "中秋快乐，阖家团圆！",
                "settings": {"festival": "mid_autumn"},
            }
        },
        key,
    )
    campaign = body["careCampaignCreate"]["campaign"]["id"]
    # a draft sends nothing, even on the day
    assert await _job(tenant, dt.datetime(2026, 9, 25, 2, tzinfo=dt.UTC)) == []
    await gql_ok(api, ACTIVATE, {"i": {"id": campaign}}, key)
    # 24 September 23:59 in Shanghai (15:59 UTC): not yet
    assert await _job(tenant, dt.datetime(2026, 9, 24, 15, 59, tzinfo=dt.UTC)) == []
    # 25 September 00:30 in Shanghai, still the 24th in UTC: due
    started = await _job(tenant, dt.datetime(2026, 9, 24, 16, 30, tzinfo=dt.UTC))
    assert started == ["mid_autumn:2026-09-25"]
    assert await _job(tenant, dt.datetime(2026, 9, 25, 3, tzinfo=dt.UTC)) == []
    messages = await outbox(tenant)
    assert len(messages) == len(people)
    assert {m["idempotency_key"] for m in messages} == {
        f"care:{uid(campaign)}:mid_autumn:2026-09-25:{p.id}" for p in people
    }
    # one day before, when the campaign says so (the next year's 中秋 is 15 September 2027)
    from plugins.care import campaigns

    await campaigns.update_campaign(tenant, owner, uid(campaign), {"settings": {"days_before": 1}})
    assert await _job(tenant, dt.datetime(2027, 9, 14, 4, tzinfo=dt.UTC)) == [
        "mid_autumn:2027-09-15"
    ]
    assert len(await outbox(tenant)) == 2 * len(people)


async def test_the_points_expiring_reminder_is_sent_by_care_only_when_the_tenant_says_so(
    api, tenant, owner, make_key, enable_plugins
):
    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    await customers(tenant, owner, 2)
    body = await gql_ok(
        api,
        CREATE,
        {"i": {"name": "积分到期", "kind": "POINTS_EXPIRING", "message": "您的积分即将到期"}},
        key,
    )
    campaign = body["careCampaignCreate"]["campaign"]["id"]
    await gql_ok(api, ACTIVATE, {"i": {"id": campaign}}, key)
    now = dt.datetime(2026, 10, 5, 2, tzinfo=dt.UTC)
    assert await _job(tenant, now) == []  # default: loyalty's own notice
    await enable_plugins(tenant, "care", settings={"points_expiring_sender": "care"})
    assert len(await _job(tenant, now)) == 1
    assert len(await outbox(tenant)) == 2
