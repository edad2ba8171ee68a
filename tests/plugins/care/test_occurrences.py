"""Occurrences by the calendar, in the tenant's timezone: 中秋 2026 is 25 September (lunar
8/15); the schedule starts its run once, whatever the number of scheduler passes; the
points-expiring reminder is care's only when the tenant says so."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.plugins.care.helpers import ACTIVATE, CREATE, customers, gql_ok, outbox, uid
from tests.plugins.care.helpers import schedule as _job

pytestmark = pytest.mark.usefixtures("db")


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


async def test_a_birthday_greeting_goes_days_before_each_birthday_solar_or_lunar_once_a_year(
    api, tenant, owner, make_key, enable_plugins
):
    """A solar birthday on 5 December, a lunar one on 十月廿七 (born 1985-12-08: 5 December in
    2026, 24 November in 2027) and a 29 February one (28 February in a common year: the
    tenant's default rule); greeted three days before, once per birthday whatever the
    campaign's edits."""
    from core.consent import set_consent
    from core.customers import create_customer
    from plugins.care import campaigns

    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    born = {
        "solar": ("1990-12-05", "solar"),
        "lunar": ("1985-12-08", "lunar"),
        "leap": ("1992-02-29", "solar"),
        "other": ("1990-12-06", "solar"),
    }
    people = {}
    for i, (name, (day, calendar)) in enumerate(born.items()):
        c = await create_customer(
            tenant,
            owner,
            {
                "name": name,
                "phone": f"1390000{i:04d}",
                "birthday": day,
                "birthday_calendar": calendar,
            },
        )
        await set_consent(
            tenant, owner, {"customer_id": str(c.id), "purpose": "marketing", "granted": True}
        )
        people[name] = c.id
    body = await gql_ok(
        api,
        CREATE,
        {
            "i": {
                "name": "生日祝福",
                "kind": "BIRTHDAY",
                "message": "生日快乐！",
                "settings": {"daysBefore": 3},
            }
        },
        key,
    )
    campaign = body["careCampaignCreate"]["campaign"]["id"]
    await gql_ok(api, ACTIVATE, {"i": {"id": campaign}}, key)

    async def greeted() -> list[tuple[str, str]]:
        names = {v: k for k, v in people.items()}
        return sorted(
            (m["idempotency_key"].split(":")[3], names[m["customer_id"]])
            for m in await outbox(tenant)
        )

    # 2 December 2026, 09:00 in Shanghai: the birthdays of 5 December
    assert await _job(tenant, dt.datetime(2026, 12, 2, 1, tzinfo=dt.UTC)) == ["birthday:2026-12-05"]
    assert await greeted() == [("2026-12-05", "lunar"), ("2026-12-05", "solar")]
    # the same day again, and the next day after an edit to two days before: nobody twice
    assert await _job(tenant, dt.datetime(2026, 12, 2, 8, tzinfo=dt.UTC)) == []
    await campaigns.update_campaign(tenant, owner, uid(campaign), {"settings": {"days_before": 2}})
    assert await _job(tenant, dt.datetime(2026, 12, 3, 1, tzinfo=dt.UTC)) == []
    assert len(await greeted()) == 2
    await campaigns.update_campaign(tenant, owner, uid(campaign), {"settings": {"days_before": 3}})
    # 29 February in a common year: on 28 February 2027, so due on the 25th
    assert await _job(tenant, dt.datetime(2027, 2, 25, 1, tzinfo=dt.UTC)) == ["birthday:2027-02-28"]
    # the next year: the lunar birthday moves to 24 November, the solar one stays
    assert await _job(tenant, dt.datetime(2027, 11, 21, 1, tzinfo=dt.UTC)) == [
        "birthday:2027-11-24"
    ]
    assert await _job(tenant, dt.datetime(2027, 12, 2, 1, tzinfo=dt.UTC)) == ["birthday:2027-12-05"]
    assert await greeted() == [
        ("2026-12-05", "lunar"),
        ("2026-12-05", "solar"),
        ("2027-02-28", "leap"),
        ("2027-11-24", "lunar"),
        ("2027-12-05", "solar"),
    ]


async def test_a_thank_you_goes_after_the_delay_to_first_time_buyers_once(
    api, tenant, owner, make_key, enable_plugins, store
):
    """``first_purchase_only`` with a 2-hour delay: a first-time buyer is thanked once the
    hour of the sale ended two hours ago; a returning customer and a second sale are not; an
    amount threshold in another campaign thanks the big basket only."""
    from core.purchases import record_purchase

    await enable_plugins(tenant, "care")
    key = await make_key(tenant)
    new, regular, small = await customers(tenant, owner, 3)

    async def sale(customer, price: str, at: dt.datetime | None = None) -> None:
        await record_purchase(
            tenant,
            owner,
            {
                "store_id": str(store),
                "customer_id": str(customer.id),
                "lines": [{"sku": "tea", "unit_price": price}],
                **({"occurred_at": at.isoformat()} if at else {}),
            },
        )

    # history imported now: a sale of five days ago is nobody's reason for thanks today
    await sale(regular, "20.00", dt.datetime.now(dt.UTC) - dt.timedelta(days=5))
    ids = {}
    created = dt.datetime.now(dt.UTC)
    for name, settings in (
        ("首购感谢", {"firstPurchaseOnly": True, "delayHours": 2}),
        ("大单感谢", {"minAmount": "500.00", "delayHours": 2}),
    ):
        body = await gql_ok(
            api,
            CREATE,
            {
                "i": {
                    "name": name,
                    "kind": "THANK_YOU",
                    "message": "感谢光临！",
                    "settings": settings,
                }
            },
            key,
        )
        ids[name] = uid(body["careCampaignCreate"]["campaign"]["id"])
        await gql_ok(
            api, ACTIVATE, {"i": {"id": body["careCampaignCreate"]["campaign"]["id"]}}, key
        )
    await sale(new, "30.00")
    await sale(new, "600.00")
    await sale(regular, "25.00")
    await sale(small, "499.99")
    recorded = dt.datetime.now(dt.UTC)
    hour = f"h{recorded:%Y-%m-%dT%H}"
    # an hour after the sale's hour ended is not yet two hours
    assert await _job(tenant, recorded.replace(minute=59) + dt.timedelta(hours=1)) == []
    # the hours since the campaigns were created (one, or two across an hour's turn), each once
    hours = sorted({f"h{created:%Y-%m-%dT%H}", hour})
    started = await _job(tenant, recorded + dt.timedelta(hours=3))
    assert sorted(started) == sorted(hours * len(ids))
    # a quarter of an hour later nothing more is due (from the hour's start: at :50, +3h15
    # would reach the next, empty hour, due then by right)
    assert await _job(tenant, recorded.replace(minute=0) + dt.timedelta(hours=3, minutes=15)) == []
    names = {new.id: "new", regular.id: "regular", small.id: "small"}
    sent = sorted(
        (m["idempotency_key"].split(":")[1], names[m["customer_id"]]) for m in await outbox(tenant)
    )
    first, big = str(ids["首购感谢"]), str(ids["大单感谢"])
    assert sent == sorted([(first, "new"), (first, "small"), (big, "new")])
