"""The API process's garbage collector, kept to short pauses.

CPython's full collection walks every tracked object; with 10,000 tenants' entries in the
caches that is a 100 to 190 ms pause holding every request in flight, and at the default young
threshold (700 allocations) request objects still alive at a young collection are promoted
until a full collection runs every few seconds (``mendian bench tenants``: p99 190 ms over
10,000 tenants against 45 ms over 10). So:

- a young threshold of ``YOUNG_THRESHOLD``: most of a request's objects die before the young
  collection that would have promoted them, and young pauses stay under ~10 ms;
- what has lived through a ``SETTLE_SECONDS`` interval (cache entries, pools, schemas) is
  collected once and then frozen (``gc.freeze``), so later collections skip it — the garbage
  among it is collected first, so freezing keeps nothing that was already unreachable;
- every ``RECLAIM_SECONDS`` the frozen objects are unfrozen and collected once (one long
  pause an hour), so a cycle that became garbage after it was frozen (a closed connection, say)
  is reclaimed too. Objects without cycles are freed by reference counting, frozen or not.
"""

from __future__ import annotations

import asyncio
import gc
import time

__all__ = ["Collector"]

YOUNG_THRESHOLD = 10_000
SETTLE_SECONDS = 60.0
RECLAIM_SECONDS = 3600.0


class Collector:
    def __init__(self) -> None:
        self._reclaimed_at = time.monotonic()

    def start(self) -> None:
        """At startup: everything loaded so far lives as long as the process."""
        gc.collect()
        gc.freeze()
        threshold = gc.get_threshold()
        gc.set_threshold(max(threshold[0], YOUNG_THRESHOLD), *threshold[1:])
        self._reclaimed_at = time.monotonic()

    def settle(self, now: float | None = None) -> None:
        """Collect what is not frozen, then freeze the survivors (hourly: everything)."""
        now = time.monotonic() if now is None else now
        if now - self._reclaimed_at >= RECLAIM_SECONDS:
            gc.unfreeze()
            self._reclaimed_at = now
        gc.collect()
        gc.freeze()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(SETTLE_SECONDS)
            self.settle()
