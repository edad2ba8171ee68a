"""``mendian demo``: a finished 中秋 greeting campaign (a 10 % control group, a points gift)
snapshotted on the year's Mid-Autumn Festival and fanned out through the real pipeline by the
``care.fan_out`` job, so that its results compare the demo's purchases of treatment and
control in the two weeks after the festival."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from core import Actor, DemoData, TenantInfo, festival_calendar
from plugins.care.settings import CareSettings

__all__ = ["DEMO_SETTINGS", "seed"]

DEMO_SETTINGS: dict[str, Any] = {"approval_threshold": 0, "chunk_size": 1000}


async def seed(tenant: TenantInfo, demo: DemoData, settings: CareSettings) -> None:
    from plugins.care import campaigns, runs

    owner = Actor.system("demo")
    start, now = demo.start.date(), demo.now.date()
    days = (await festival_calendar(tenant, owner)).occurrences("mid_autumn", start, now)
    if not days:
        return
    day = days[-1]
    zone = ZoneInfo(tenant.timezone)
    at = dt.datetime.combine(day, dt.time(10), tzinfo=zone).astimezone(dt.UTC)
    cid = await campaigns.create_campaign(
        tenant,
        owner,
        {
            "name": f"{day.year} 中秋问候",
            "kind": "festival",
            "message": "中秋快乐，阖家团圆！凭本短信到店领取月饼一份。",
            "settings": {"festival": "mid_autumn", "offer": "points", "offer_points": 50},
            "control_pct": 10,
            "window_days": 14,
        },
        idempotency_key=f"demo-mid-autumn-{day.year}",
    )
    await campaigns.activate(tenant, owner, cid)
    campaign = await campaigns.get_campaign(tenant, cid)
    assert campaign is not None
    run_id, created = await runs.start_run(
        tenant,
        campaign,
        f"mid_autumn:{day.isoformat()}",
        {},
        trigger="schedule",
        now=at,
        chunk_size=settings.chunk_size,
    )
    # The fan-out (through the messaging pipeline, which needs the tenant's channels) is the
    # care.fan_out job's: the worker's first minute after `mendian demo` finishes the run.
    del run_id, created
