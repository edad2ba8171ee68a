"""Quiet hours in the tenant's or store's timezone (CORE-11)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from core.context import MessagingPolicy

__all__ = ["next_allowed"]


def _hm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def next_allowed(policy: MessagingPolicy, timezone: str, now: dt.datetime) -> dt.datetime:
    """``now`` if outside quiet hours, else the end of the quiet window (in UTC)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    start, end = _hm(policy.quiet_start), _hm(policy.quiet_end)
    t = local.time()
    quiet = (start <= t or t < end) if start > end else (start <= t < end)
    if not quiet or start == end:
        return now
    end_day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(end_day, end, tzinfo=zone).astimezone(dt.UTC)
