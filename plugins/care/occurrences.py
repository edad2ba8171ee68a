"""When a campaign is due by itself (the ``care.schedule`` job), in the tenant's timezone.

* ``birthday`` — daily: the customers whose birthday (solar or lunar, by the calendar each
  keeps it by) is today + ``days_before``; occurrence ``birthday:<that date>``, so a customer
  is greeted once per birthday however often the campaign is edited, paused or re-activated.
* ``festival`` — the core festival calendar (lunar, fixed, solar-term and the tenant's own
  festivals): due when today + ``days_before`` is the festival; occurrence
  ``<code>:<festival date>`` (a festival greeting once per occurrence).
* ``winback``, ``revisit`` — every ``every_days`` (30 by default for win-back): occurrence
  ``p<period number>``, so a customer is reached once per period.
* ``points_expiring`` — weekly, and only when the module's ``points_expiring_sender`` is
  ``care`` (else loyalty's own notice goes: never both).
* ``one_off`` — never by itself (``careCampaignRunNow``).

Starting a run is claim-based: the run's unique (campaign, occurrence) lets one scheduler win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from core import (
    Actor,
    ChannelSet,
    Conflict,
    SegmentField,
    TenantInfo,
    ValidationFailed,
    festival_calendar,
    fetch,
    tenant_tx,
)
from plugins.care.settings import CareSettings

__all__ = ["due_occurrence", "start_due"]

EPOCH = dt.date(2020, 1, 6)  # a Monday: periods count from here


async def due_occurrence(
    tenant: TenantInfo, campaign: dict[str, Any], settings: CareSettings, today: dt.date
) -> str | None:
    """The occurrence ``campaign`` is due for on ``today`` (local), or ``None``."""
    kind, s = campaign["kind"], campaign["settings"]
    if kind == "birthday":
        return f"birthday:{(today + dt.timedelta(days=s.days_before)).isoformat()}"
    if kind == "festival":
        target = today + dt.timedelta(days=s.days_before)
        calendar = await festival_calendar(tenant, Actor.system("care"))
        try:
            dates = calendar.occurrences(s.festival, target, target)
        except ValidationFailed:
            return None  # an unknown (or removed) festival: nothing is due
        return f"{s.festival}:{target.isoformat()}" if dates else None
    if kind in ("winback", "revisit"):
        every = s.every_days or 30
        return f"p{(today - EPOCH).days // every}"
    if kind == "points_expiring":
        if settings.points_expiring_sender != "care":
            return None
        return f"w{(today - EPOCH).days // 7}"
    return None


async def start_due(
    tenant: TenantInfo,
    settings: CareSettings,
    channels: ChannelSet,
    fields: Mapping[str, SegmentField],
    now: dt.datetime,
) -> list[str]:
    """Start every active campaign's due run (the first chunk now; ``care.fan_out`` goes on);
    the occurrences started."""
    from plugins.care.campaigns import get_campaign
    from plugins.care.runs import run_campaign

    today = now.astimezone(ZoneInfo(tenant.timezone)).date()
    async with tenant_tx(tenant.id, write=False):
        active = await fetch(
            "SELECT id FROM care_campaign WHERE tenant_id = {} AND state = 'active' "
            "AND kind IN ('birthday', 'festival', 'winback', 'revisit', 'points_expiring')",
            tenant.id,
        )
    started: list[str] = []
    for row in active:
        campaign = await get_campaign(tenant, row["id"])
        if campaign is None:  # pragma: no cover - deleted meanwhile
            continue
        occurrence = await due_occurrence(tenant, campaign, settings, today)
        if occurrence is None:
            continue
        async with tenant_tx(tenant.id, write=False):
            seen = await fetch(
                "SELECT 1 AS x FROM care_run WHERE tenant_id = {} AND campaign_id = {} "
                "AND occurrence = {}",
                tenant.id,
                campaign["id"],
                occurrence,
            )
        if seen:
            continue
        try:
            await run_campaign(
                tenant,
                campaign,
                occurrence,
                settings,
                channels,
                fields,
                trigger="schedule",
                inline_chunks=1,
            )
        except (Conflict, ValidationFailed):
            continue  # approval required (flagged on the campaign), or its segment is gone
        started.append(occurrence)
    return started
