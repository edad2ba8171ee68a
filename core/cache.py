"""Per-process caches with a size bound (SPEC §6: 10,000 tenants in one process).

Every cache keyed by tenant, key or slug is a :func:`bounded` cache: least recently used
entries leave first once ``maxsize`` is reached, and each entry expires ``seconds`` after it was
written. Before this, each cache bounded itself its own way — two cleared themselves entirely
past 10,000 entries (at 10,000 tenants the key cache then emptied itself every few seconds and
every request went to the database), two were not bounded at all. ``cachetools`` does the
bookkeeping; the sizes are here, in one place, so the benchmark and the tests read them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cachetools import LRUCache, TLRUCache

from core.redis import invalidations_live

__all__ = ["LIVE_SECONDS", "TENANT_ENTRIES", "bounded", "lru"]

# 10,000 tenants times a slug and an id each, with room: a tenant entry is about 2 KiB, so the
# largest of these caches stays around 60 MiB when full (`mendian bench tenants` reports RSS).
TENANT_ENTRIES = 32_768


# How long an entry whose changes are published may be kept while this process hears them.
# At 10,000 tenants a tenant's next request comes tens of seconds later (`mendian bench
# tenants`): with the short TTLs alone nearly every request re-read its tenant, key and
# enabled modules.
LIVE_SECONDS = 600.0


def bounded(
    seconds: float,
    maxsize: int = TENANT_ENTRIES,
    timer: Callable[[], float] = time.monotonic,
    *,
    live_seconds: float | None = None,
    live: Callable[[], bool] = invalidations_live,
) -> TLRUCache[Any, Any]:
    """An LRU cache of at most ``maxsize`` entries, each kept ``seconds`` after it was written
    — or ``live_seconds`` when given and ``live()``: the cache's changes are published on the
    invalidation channel and this process is subscribed (``core.redis``, which drops every
    cache when the subscription is lost)."""

    def expires(_key: Any, _value: Any, now: float) -> float:
        return now + (live_seconds if live_seconds is not None and live() else seconds)

    return TLRUCache(maxsize=maxsize, ttu=expires, timer=timer)


def lru(maxsize: int = TENANT_ENTRIES) -> LRUCache[Any, Any]:
    """An LRU cache of at most ``maxsize`` entries for values that carry their own validity."""
    return LRUCache(maxsize=maxsize)
