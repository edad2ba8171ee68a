"""Distribution: invitations through the shared messaging pipeline (purpose ``surveys``:
consent, quiet hours, the shared cap), the re-contact limit across every survey, triggers
after a purchase (delay, sampling, stores), a resolved complaint (the complaints plugin's
published event payload) and a periodic segment — each invitation once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid

import pytest

from core import to_global_id
from tests.plugins.surveys.helpers import (
    ANSWER,
    INVITE,
    TRIGGER,
    answers,
    gql_ok,
    nps_survey,
    response_rows,
    uid,
)

pytestmark = pytest.mark.usefixtures("db")

TOKEN = re.compile(r"/s/([a-z0-9-]+\.[A-Za-z0-9_-]{43})")


async def _customer(tenant, owner, phone, *, consent=True, name="顾客"):
    from core.consent import set_consent
    from core.customers import create_customer

    c = await create_customer(tenant, owner, {"name": name, "phone": phone})
    if consent:
        await set_consent(
            tenant, owner, {"customer_id": str(c.id), "purpose": "surveys", "granted": True}
        )
    return c


async def _links(tenant):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        return await fetch(
            "SELECT customer_id, status, reason, trigger, staff_id, purchase_id, store_id, "
            "complaint_id FROM surveys_link WHERE tenant_id = {} AND kind = 'invitation' "
            "ORDER BY created_at",
            tenant.id,
        )


async def _sale(tenant, owner, store, customer, staff=None):
    from core.purchases import record_purchase

    data = {
        "store_id": str(store),
        "customer_id": str(customer),
        "lines": [{"sku": "tea", "unit_price": "25"}],
    }
    if staff:
        data["staff_id"] = str(staff)
    return await record_purchase(tenant, owner, data)


async def test_a_purchase_sends_an_nps_invitation_that_answers_once_with_the_staff_recorded(
    api,
    tenant,
    owner,
    make_key,
    enable_plugins,
    deliver_events,
    send_messages,
    captured_messages,
):
    from tenants.credentials import create_staff
    from tenants.service import create_store

    await enable_plugins(tenant, "surveys", settings={"public_url": "https://s.example.cn"})
    key = await make_key(tenant)
    survey = await nps_survey(api, key)
    here = (await create_store(tenant, owner, {"code": "A", "name": "徐家汇店"}))["id"]
    there = (await create_store(tenant, owner, {"code": "B", "name": "静安店"}))["id"]
    cashier = await create_staff(
        tenant,
        owner,
        {"login": "c1", "name": "小李", "password": "password-123456", "role": "cashier"},
    )
    t = await gql_ok(
        api,
        TRIGGER,
        {"i": {"surveyId": survey, "kind": "PURCHASE", "storeIds": [to_global_id("Store", here)]}},
        key,
    )
    assert t["surveyTriggerSet"]["trigger"] == {
        "kind": "PURCHASE",
        "active": True,
        "delayMinutes": 0,
        "samplingPercent": 100,
        "storeIds": [to_global_id("Store", here)],
        "segmentId": None,
        "everyDays": 0,
    }
    buyer = await _customer(tenant, owner, "13800138001", name="王芳")
    elsewhere = await _customer(tenant, owner, "13800138002")

    sale = await _sale(tenant, owner, here, buyer.id, cashier)
    await _sale(tenant, owner, there, elsewhere.id)  # not a store of the trigger
    await deliver_events(tenant)
    await _sale(tenant, owner, here, buyer.id)  # asked already: the re-contact limit
    await deliver_events(tenant)
    await deliver_events(tenant)  # a repeated delivery invites nobody twice
    links = await _links(tenant)
    assert [(str(r["customer_id"]), r["status"], r["reason"]) for r in links] == [
        (str(buyer.id), "sent", ""),
        (str(buyer.id), "suppressed", "recontact"),
    ]
    assert str(links[0]["staff_id"]) == str(cashier) and str(links[0]["purchase_id"]) == str(
        sale.id
    )

    assert await send_messages(tenant) == 1
    (message,) = await captured_messages(tenant)
    assert "王芳" in message["body"] and "徐家汇店" in message["body"]
    url = re.search(r"https://s\.example\.cn/s/\S+", message["body"]).group(0).rstrip("（")
    token = TOKEN.search(url).group(1)
    assert token.startswith(f"{tenant.slug}.")
    r = await gql_ok(
        api, ANSWER, {"i": {"token": token, "answers": answers(4, why=["wait"])}}, None
    )
    assert r["surveyAnswer"]["accepted"] is True
    (row,) = await response_rows(tenant)
    assert (str(row["staff_id"]), str(row["store_id"]), str(row["purchase_id"])) == (
        str(cashier),
        str(here),
        str(sale.id),
    )


async def test_a_delayed_trigger_waits_and_the_job_sends_it(
    api, tenant, owner, make_key, enable_plugins, deliver_events, runtime
):
    from core.messaging import channels_for
    from plugins.surveys.distribution import send_due
    from tenants.service import create_store

    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    survey = await nps_survey(api, key)
    store = (await create_store(tenant, owner, {"code": "A", "name": "A"}))["id"]
    await gql_ok(
        api, TRIGGER, {"i": {"surveyId": survey, "kind": "PURCHASE", "delayMinutes": 120}}, key
    )
    buyer = await _customer(tenant, owner, "13800138011")
    await _sale(tenant, owner, store, buyer.id)
    await deliver_events(tenant)
    assert [r["status"] for r in await _links(tenant)] == ["scheduled"]
    settings = await runtime.plugin_settings(tenant.id, "surveys")
    channels = await channels_for(tenant, runtime)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=60)
    assert (await send_due(tenant, settings, channels, soon)).queued == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=121)
    done = await send_due(tenant, settings, channels, later)
    assert (done.queued, dict(done.suppressed)) == (1, {})
    assert [r["status"] for r in await _links(tenant)] == ["sent"]


def test_sampling_is_decided_per_purchase_deterministically():
    from plugins.surveys.distribution import sampled

    trigger = uuid.UUID(int=7)
    purchases = [uuid.UUID(int=i) for i in range(2000)]
    first = [sampled(trigger, p, 30) for p in purchases]
    assert first == [sampled(trigger, p, 30) for p in purchases]
    assert 0.26 < sum(first) / len(first) < 0.34
    assert all(sampled(trigger, p, 100) for p in purchases[:50])


async def test_invite_counts_queued_deferred_and_suppressed_by_reason(
    api, tenant, owner, make_key, enable_plugins, runtime
):
    from core.context import MessagingPolicy
    from core.messaging import channels_for
    from plugins.surveys.distribution import invite

    await enable_plugins(tenant, "surveys", settings={"recontact_days": 30})
    key = await make_key(tenant)
    first_survey = await nps_survey(api, key)
    second_survey = await nps_survey(api, key)
    willing = await _customer(tenant, owner, "13800138021")
    unwilling = await _customer(tenant, owner, "13800138022", consent=False)
    asked = await _customer(tenant, owner, "13800138023")
    no_phone = await _customer(tenant, owner, None) if False else None
    r = await gql_ok(
        api,
        INVITE,
        {"i": {"surveyId": first_survey, "customerIds": [to_global_id("Customer", asked.id)]}},
        key,
    )
    assert r["surveyInvite"] == {"queued": 1, "deferred": 0, "suppressed": [], "errors": []}

    ids = [to_global_id("Customer", c.id) for c in (willing, unwilling, asked)]
    r = await gql_ok(api, INVITE, {"i": {"surveyId": second_survey, "customerIds": ids}}, key)
    assert r["surveyInvite"] == {
        "queued": 1,
        "deferred": 0,
        "errors": [],
        "suppressed": [{"reason": "no_consent", "count": 1}, {"reason": "recontact", "count": 1}],
    }
    again = await gql_ok(
        api, INVITE, {"i": {"surveyId": second_survey, "customerIds": ids[:1]}}, key
    )
    assert again["surveyInvite"]["suppressed"] == [{"reason": "already_invited", "count": 1}]
    assert no_phone is None

    # quiet hours all day: the invitation is queued for later (deferred), still counted queued
    quiet = dataclasses.replace(
        tenant, messaging=MessagingPolicy(quiet_start="00:00", quiet_end="23:59")
    )
    late = await _customer(tenant, owner, "13800138024")
    settings = await runtime.plugin_settings(tenant.id, "surveys")
    done = await invite(
        quiet,
        owner,
        settings,
        await channels_for(tenant, runtime),
        uid(second_survey),
        customer_ids=[late.id],
    )
    assert (done.queued, done.deferred, dict(done.suppressed)) == (1, 1, {})


async def test_invite_refuses_drafts_foreign_customers_and_writes_nothing(
    api, tenant, other_tenant, owner, make_key, enable_plugins
):
    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    draft = await nps_survey(api, key, publish=False)
    mine = await _customer(tenant, owner, "13800138031")
    stranger = await _customer(other_tenant, owner, "13800138032")
    r = await gql_ok(
        api,
        INVITE,
        {"i": {"surveyId": draft, "customerIds": [to_global_id("Customer", mine.id)]}},
        key,
    )
    assert r["surveyInvite"]["errors"] == [{"field": "surveyId", "code": "not_published"}]
    live = await nps_survey(api, key)
    r = await gql_ok(
        api,
        INVITE,
        {"i": {"surveyId": live, "customerIds": [to_global_id("Customer", stranger.id)]}},
        key,
    )
    assert r["surveyInvite"]["errors"] == [{"field": "customerIds", "code": "not_found"}]
    r = await gql_ok(api, INVITE, {"i": {"surveyId": live}}, key)
    assert r["surveyInvite"]["errors"] == [{"field": "customerIds", "code": "invalid"}]
    assert await _links(tenant) == []


async def test_a_resolved_complaint_sends_the_builtin_follow_up_once_and_carries_the_complaint(
    api,
    tenant,
    owner,
    make_key,
    enable_plugins,
    deliver_events,
    send_messages,
    captured_messages,
    captured_events,
):
    """The complaints plugin's ``complaints.resolved`` (its published payload, emitted here as
    it would): a "survey" follow-up sends the built-in CSAT survey — even to a customer asked
    recently (complaint follow-ups are exempt from the re-contact limit) — and the answer's
    ``surveys.completed`` carries the complaint and ``satisfied``."""
    from core.db import tenant_tx
    from core.events import emit
    from tenants.service import create_store

    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    store = (await create_store(tenant, owner, {"code": "A", "name": "A"}))["id"]
    customer = await _customer(tenant, owner, "13800138041")
    survey = await nps_survey(api, key)
    await gql_ok(
        api,
        INVITE,
        {"i": {"surveyId": survey, "customerIds": [to_global_id("Customer", customer.id)]}},
        key,
    )
    complaint, handler = uuid.uuid4(), uuid.uuid4()
    async with tenant_tx(tenant.id):
        for follow_up in ("survey", "survey", "call"):
            await emit(
                "complaints.resolved",
                complaint,
                {
                    "complaint_id": str(complaint if follow_up == "survey" else uuid.uuid4()),
                    "customer_id": str(customer.id),
                    "store_id": str(store),
                    "staff_id": str(handler),
                    "resolution": "exchange",
                    "resolved_at": dt.datetime.now(dt.UTC).isoformat(),
                    "follow_up": follow_up,
                },
            )
    await deliver_events(tenant)
    links = await _links(tenant)
    assert [(r["trigger"], r["status"], str(r["complaint_id"])) for r in links] == [
        ("manual", "sent", "None"),
        ("complaint", "sent", str(complaint)),
    ]
    await send_messages(tenant)
    bodies = [m["body"] for m in await captured_messages(tenant)]
    (body,) = [b for b in bodies if "您反映的问题已处理" in b]  # the follow-up, once
    assert len(bodies) == 2
    token = TOKEN.search(body).group(1)
    r = await gql_ok(
        api,
        ANSWER,
        {
            "i": {
                "token": token,
                "answers": [
                    {"questionKey": "resolution", "number": 2},
                    {"questionKey": "comment", "text": "还是不满意"},
                ],
            }
        },
        None,
    )
    assert r["surveyAnswer"]["accepted"] is True
    (done,) = [p for n, p in await captured_events(tenant) if n == "surveys.completed"]
    assert (
        done["complaint_id"],
        done["survey_kind"],
        done["csat"],
        done["satisfied"],
        done["nps_category"],
        done["staff_id"],
        done["comment"],
    ) == (str(complaint), "csat", 2, False, None, str(handler), "还是不满意")


async def test_a_periodic_segment_trigger_invites_the_segment_once_per_run(
    api, tenant, owner, make_key, enable_plugins, runtime
):
    from core.messaging import channels_for
    from core.segments import create_segment
    from plugins.surveys.distribution import run_segment_triggers

    await enable_plugins(tenant, "surveys", settings={"recontact_days": 0})
    key = await make_key(tenant)
    survey = await nps_survey(api, key)
    for i in range(3):
        await _customer(tenant, owner, f"1380013805{i}")
    segment = await create_segment(
        tenant,
        owner,
        {
            "name": "everyone potential",
            "filter": {"all": [{"field": "value_class", "op": "eq", "value": "potential"}]},
        },
    )
    t = await gql_ok(
        api,
        TRIGGER,
        {
            "i": {
                "surveyId": survey,
                "kind": "SEGMENT",
                "segmentId": to_global_id("Segment", segment["id"]),
                "everyDays": 90,
            }
        },
        key,
    )
    assert t["surveyTriggerSet"]["trigger"]["everyDays"] == 90
    settings = await runtime.plugin_settings(tenant.id, "surveys")
    channels = await channels_for(tenant, runtime)
    fields = await runtime.segment_fields(tenant)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    first = await run_segment_triggers(tenant, settings, channels, fields, now)
    assert first.queued == 3
    again = await run_segment_triggers(
        tenant, settings, channels, fields, now + dt.timedelta(days=1)
    )
    assert again.queued == 0  # next run in 90 days
    later = await run_segment_triggers(
        tenant, settings, channels, fields, now + dt.timedelta(days=91)
    )
    assert later.queued == 3
    bad = await gql_ok(api, TRIGGER, {"i": {"surveyId": survey, "kind": "SEGMENT"}}, key)
    assert bad["surveyTriggerSet"]["errors"] == [{"field": "segmentId", "code": "invalid"}]
