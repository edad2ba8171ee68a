"""Throttling for public endpoints (a survey page, a complaint form): fixed windows per key,
shared through Redis when ``REDIS_URL`` is set, counted in-process otherwise — and in-process
while Redis is away (logged once per outage), so a Redis outage never refuses a customer.
"""

from __future__ import annotations

import logging
import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string

__all__ = ["RateLimited", "throttle"]

log = logging.getLogger("mendian.throttle")
_memory = MemoryStorage()
_shared: dict[str, Storage] = {}
_degraded = False


class RateLimited(Exception):
    """Too many requests for ``key``: retry in ``retry_after`` seconds (HTTP 429)."""

    def __init__(self, key: str, retry_after: int) -> None:
        super().__init__(f"too many requests; retry in {retry_after} s")
        self.key = key
        self.retry_after = retry_after


def _storage() -> Storage:
    from core.config import get_settings

    url = get_settings().redis_url
    if not url:
        return _memory
    found = _shared.get(url)
    if found is None:
        storage = storage_from_string(f"async+{url}", implementation="redispy")
        assert isinstance(storage, Storage)
        found = _shared[url] = storage
    return found


async def throttle(key: str, rate: str) -> None:
    """Count one hit on ``key`` (e.g. ``surveys:token:<hash>``) against ``rate`` (``limits``
    notation, ``"20/minute"``); raise :class:`RateLimited` past it."""
    global _degraded
    item = parse(rate)
    span = item.get_expiry()
    window = int(time.time() // span)
    name = f"mendian/throttle/{key}/{window}"
    try:
        count = await _storage().incr(name, span)
        if _degraded:
            log.warning("throttle: Redis is back; counting shared again")
            _degraded = False
    except Exception as exc:  # Redis away: count here rather than refuse or fail
        if not _degraded:
            log.warning("throttle: Redis unavailable (%s); counting in-process", exc)
            _degraded = True
        count = await _memory.incr(name, span)
    if count > item.amount:
        raise RateLimited(key, max(1, math.ceil((window + 1) * span - time.time())))
