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

from cachetools import LRUCache, TTLCache

__all__ = ["TENANT_ENTRIES", "bounded", "lru"]

# 10,000 tenants times a slug and an id each, with room: a tenant entry is about 2 KiB, so the
# largest of these caches stays around 60 MiB when full (`mendian bench tenants` reports RSS).
TENANT_ENTRIES = 32_768


def bounded(
    seconds: float, maxsize: int = TENANT_ENTRIES, timer: Callable[[], float] = time.monotonic
) -> TTLCache[Any, Any]:
    """An LRU cache of at most ``maxsize`` entries, each kept ``seconds`` after it was written."""
    return TTLCache(maxsize=maxsize, ttl=seconds, timer=timer)


def lru(maxsize: int = TENANT_ENTRIES) -> LRUCache[Any, Any]:
    """An LRU cache of at most ``maxsize`` entries for values that carry their own validity."""
    return LRUCache(maxsize=maxsize)
