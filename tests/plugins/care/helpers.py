"""Shared drivers for the care tests: GraphQL documents, customers with consent, a segment."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from core import from_global_id, to_global_id

CAMPAIGN_FIELDS = (
    "id name kind state segmentId messageChannel message controlPct windowDays approval "
    "settings { daysBefore festival offer offerPoints lifecycles minAmount } "
    "variants { key message weight }"
)
CREATE = (
    "mutation($i: CareCampaignCreateInput!) { careCampaignCreate(input: $i) { campaign { "
    + CAMPAIGN_FIELDS
    + " } errors { field code message } } }"
)
UPDATE = (
    "mutation($i: CareCampaignUpdateInput!) { careCampaignUpdate(input: $i) { campaign { "
    + CAMPAIGN_FIELDS
    + " } errors { field code message } } }"
)
ACTIVATE = (
    "mutation($i: CareCampaignActivateInput!) { careCampaignActivate(input: $i) { "
    "campaign { id state } errors { field code } } }"
)
PAUSE = (
    "mutation($i: CareCampaignPauseInput!) { careCampaignPause(input: $i) { "
    "campaign { id state } errors { field code } } }"
)
APPROVE = (
    "mutation($i: CareCampaignApproveInput!) { careCampaignApprove(input: $i) { "
    "campaign { id approval } errors { field code } } }"
)
RUN_NOW = (
    "mutation($i: CareCampaignRunNowInput!) { careCampaignRunNow(input: $i) { "
    "run { id occurrence status targeted } testQueued errors { field code message } } }"
)
GROUP = (
    "targeted queued sent delivered failed suppressed { reason count } purchasers "
    "purchaseRate spend tasks offersGranted offersRedeemed"
)
CAMPAIGN = (
    "query($id: ID!) { careCampaign(id: $id) { id name state runs { nodes { id occurrence "
    "status targeted results { treatment { targeted } control { targeted } } } } "
    "results { treatment { " + GROUP + " } control { " + GROUP + " } "
    "variants { key result { targeted queued } } uplift pValue pending } } }"
)


async def gql_ok(api: Any, doc: str, variables: dict[str, Any], key: str | None) -> dict[str, Any]:
    body = await api.gql(doc, variables, key=key)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def uid(global_id: str, type_name: str = "CareCampaign") -> UUID:
    return from_global_id(global_id, type_name)


async def customers(tenant, owner, n: int, *, consent: bool = True, prefix: str = "137"):
    from core.consent import set_consent
    from core.customers import create_customer

    out = []
    for i in range(n):
        c = await create_customer(tenant, owner, {"name": f"顾客{i}", "phone": f"{prefix}{i:08d}"})
        if consent:
            await set_consent(
                tenant, owner, {"customer_id": str(c.id), "purpose": "marketing", "granted": True}
            )
        out.append(c)
    return out


SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS_9_18 = {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {
    "holiday_policy": "closed"
}


def local(day: str, hhmm: str) -> dt.datetime:
    """``local("2026-12-04", "20:00")``: that wall-clock time in Asia/Shanghai."""
    return dt.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=SHANGHAI)


async def make_store(tenant: Any, owner: Any, code: str, hours: dict[str, Any] | None) -> UUID:
    """A store open ``hours`` in Asia/Shanghai, set through the core's calendar service."""
    from core.calendars import set_business_hours
    from tenants.service import create_store

    row = await create_store(tenant, owner, {"code": code, "name": f"门店 {code}"})
    store_id = UUID(str(row["id"]))
    await set_business_hours(tenant, owner, store_id, hours, timezone="Asia/Shanghai")
    return store_id


async def make_staff(tenant: Any, owner: Any, login: str, role: str, stores=()) -> UUID:
    from tenants.credentials import create_staff

    return await create_staff(
        tenant,
        owner,
        {
            "login": login,
            "name": login,
            "password": "correct horse battery",
            "role": role,
            "store_ids": [str(s) for s in stores],
        },
    )


async def everyone_segment(tenant, owner, name: str = "全部顾客") -> str:
    from core.segments import create_segment

    seg = await create_segment(
        tenant,
        owner,
        {"name": name, "filter": {"field": "purchase_count", "op": "gte", "value": 0}},
    )
    return to_global_id("Segment", seg["id"])


async def one_off(api, key, segment: str, **extra: Any) -> str:
    data = await gql_ok(
        api,
        CREATE,
        {
            "i": {
                "name": "中秋问候",
                "kind": "ONE_OFF",
                "message": "中秋快乐！",
                "segmentId": segment,
                **extra,
            }
        },
        key,
    )
    assert data["careCampaignCreate"]["errors"] == [], data
    return str(data["careCampaignCreate"]["campaign"]["id"])


async def targets(tenant) -> list[dict[str, Any]]:
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        return await fetch(
            "SELECT customer_id, grp, variant, status, reason, occurrence, run_id "
            "FROM care_target WHERE tenant_id = {} ORDER BY customer_id",
            tenant.id,
        )


async def outbox(tenant) -> list[dict[str, Any]]:
    from core.db import tenant_tx
    from core.sql import run

    async with tenant_tx(tenant.id, write=False):
        return await run(
            "SELECT idempotency_key, customer_id, status, reason, purpose, body FROM message "
            "WHERE tenant_id = :t AND source = 'care' ORDER BY idempotency_key",
            t=tenant.id,
        )


async def schedule(tenant, now: dt.datetime) -> list[str]:
    """One pass of the ``care.schedule`` job at ``now``: the occurrences started or added to."""
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


async def active_festival(api, key, festival: str = "mid_autumn") -> str:
    """An active festival greeting campaign (中秋 by default); its global id."""
    body = await gql_ok(
        api,
        CREATE,
        {
            "i": {
                "name": "中秋问候",
                "kind": "FESTIVAL",
                "message": "中秋快乐！",
                "settings": {"festival": festival},
            }
        },
        key,
    )
    campaign = str(body["careCampaignCreate"]["campaign"]["id"])
    await gql_ok(api, ACTIVATE, {"i": {"id": campaign}}, key)
    return campaign
