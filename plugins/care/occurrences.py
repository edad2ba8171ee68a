"""When a campaign is due by itself (the ``care.schedule`` job).

* ``birthday`` — daily: the customers whose birthday (solar or lunar, by the calendar each
  keeps it by) is today + ``days_before``; occurrence ``birthday:<that date>``, so a customer
  is greeted once per birthday however often the campaign is edited, paused or re-activated.
  "Today" is each customer's own: the local date in their home store's timezone (the
  tenant's without a home store) — see *per store timezone* below.
* ``thank_you`` — hourly: the customers whose sale (their first, or of at least
  ``min_amount``) was recorded in an hour that ended ``delay_hours`` ago; occurrence
  ``h<YYYY-MM-DDTHH>`` (UTC). Hours the scheduler missed (a worker down) are caught up for a
  day, never before the campaign was created.
* ``festival`` — the core festival calendar (lunar, fixed, solar-term and the tenant's own
  festivals): due when today + ``days_before`` is the festival; occurrence
  ``<code>:<festival date>`` (a festival greeting once per occurrence), per store timezone
  like birthdays.
* ``winback``, ``revisit`` — every ``every_days`` (30 by default for win-back): occurrence
  ``p<period number>``, so a customer is reached once per period.
* ``points_expiring`` — weekly, and only when the module's ``points_expiring_sender`` is
  ``care`` (else loyalty's own notice goes: never both).
* ``one_off`` — never by itself (``careCampaignRunNow``).

Starting a run is claim-based: the run's unique (campaign, occurrence) lets one scheduler win.

**Per store timezone** (birthday, festival): each pass looks at every timezone the tenant's
customers live in (:func:`core.store_timezones` and the tenant's own) and asks, per zone,
which occurrence is due on that zone's local date. The run of an occurrence snapshots only the
customers of the zones where it is due (``care_run.zones`` records them); a later pass, when
the day has begun in another store's zone, adds that zone's customers to the same run — same
occurrence, same idempotency key (campaign, occurrence, customer), nobody twice. 中秋 2027 (15
September) starts at 16:00 UTC on the 14th for a store in Asia/Shanghai and at 07:00 UTC on
the 15th for one in America/Los_Angeles. A zone is served during its local day: a scheduler
down for a zone's whole day misses it, as it would in one timezone. The other kinds keep the
tenant's timezone (periods) or UTC hours (thank-you).
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
    store_timezones,
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
    """Start every active campaign's due run (the first chunk now; ``care.fan_out`` goes on),
    or add to a birthday's or festival's run the zones where its day has begun since; the
    occurrences started or added to."""
    from plugins.care.campaigns import get_campaign
    from plugins.care.runs import run_campaign

    today = now.astimezone(ZoneInfo(tenant.timezone)).date()
    async with tenant_tx(tenant.id, write=False):
        active = await fetch(
            "SELECT id FROM care_campaign WHERE tenant_id = {} AND state = 'active' "
            "AND kind IN ('birthday', 'thank_you', 'festival', 'winback', 'revisit', "
            "'points_expiring')",
            tenant.id,
        )
    zone_days: dict[str, dt.date] | None = None
    started: list[str] = []
    for row in active:
        campaign = await get_campaign(tenant, row["id"])
        if campaign is None:  # pragma: no cover - deleted meanwhile
            continue
        # occurrence -> the zones it is due in (None: everyone, the tenant's day)
        due: dict[str, set[str] | None] = {}
        if campaign["kind"] == "thank_you":
            due = dict.fromkeys(thank_you_hours(campaign, now))
        elif campaign["kind"] in LOCAL_KINDS:
            if zone_days is None:
                zones = {tenant.timezone, *(await store_timezones(tenant)).values()}
                zone_days = {z: now.astimezone(ZoneInfo(z)).date() for z in sorted(zones)}
            local: dict[str, set[str]] = {}
            for zone, day in zone_days.items():
                one = await due_occurrence(tenant, campaign, settings, day)
                if one is not None:
                    local.setdefault(one, set()).add(zone)
            due.update(local)
        else:
            one = await due_occurrence(tenant, campaign, settings, today)
            if one is not None:
                due[one] = None
        if not due:
            continue
        async with tenant_tx(tenant.id, write=False):
            seen = {
                r["occurrence"]: r["zones"] or ""
                for r in await fetch(
                    "SELECT occurrence, zones FROM care_run WHERE tenant_id = {} "
                    f"AND campaign_id = {{}} AND occurrence IN ({', '.join('{}' for _ in due)})",
                    tenant.id,
                    campaign["id"],
                    *due,
                )
            }
        for occurrence, zones_due in due.items():
            if occurrence in seen:
                covered = seen[occurrence]
                if zones_due is None or not covered or zones_due <= set(covered.split(",")):
                    continue  # started before, for every zone it is due in now
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
                    now=now,
                    zones=zones_due,
                )
            except (Conflict, ValidationFailed):
                break  # approval required (flagged on the campaign), or its segment is gone
            started.append(occurrence)
    return started


LOCAL_KINDS = ("birthday", "festival")  # due by each store's local date


CATCH_UP = 24  # hours of sales a thank-you campaign still thanks after a scheduler outage


def thank_you_hours(campaign: dict[str, Any], now: dt.datetime) -> list[str]:
    """The hours (UTC, oldest first) whose sales are due for thanks at ``now``: each ended at
    least ``delay_hours`` ago, none more than a day before that, none before the campaign."""
    last = (now - dt.timedelta(hours=campaign["settings"].delay_hours + 1)).replace(
        minute=0, second=0, microsecond=0
    )
    created = campaign["created_at"].astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return [
        f"h{hour:%Y-%m-%dT%H}"
        for back in range(CATCH_UP - 1, -1, -1)
        if (hour := last - dt.timedelta(hours=back)) >= created
    ]
