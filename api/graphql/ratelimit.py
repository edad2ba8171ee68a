"""Rate limits per credential and per tenant (API-4), shared through Redis across workers.

Fixed windows counted in the ``limits`` storage (Redis with ``REDIS_URL``, else in-process).
A Redis round trip on every request cost a third of the API's throughput, so each worker counts
locally and adds its hits to the shared counter in batches: at a window's first hit, every
``FLUSH_SECONDS``, and on every hit once the known total nears the limit — far from the limit a
request costs no round trip; near it the decision is made on the shared count, so the limit
holds across workers (it can be exceeded by at most the hits one worker takes within one flush
interval while far below the limit, i.e. never by more than ``NEAR`` of it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string

__all__ = ["RateLimited", "RateLimiter"]

FLUSH_SECONDS = 0.1
NEAR = 0.8  # share of the limit from which every hit is checked against the shared count


class RateLimited(Exception):
    def __init__(self, key: str, retry_after: int) -> None:
        super().__init__(
            f"rate limit exceeded for {key.split(':', 1)[0]}; retry in {retry_after} s"
        )
        self.retry_after = retry_after


@dataclass
class _Counter:
    window: int
    known: int = 0  # the shared total at the last flush
    pending: int = 0  # local hits not yet added to it
    flushed_at: float = 0.0


class RateLimiter:
    """``hit([credential key, tenant key])``: the first key gets ``per_key``, later ones
    ``per_tenant``; raises :class:`RateLimited` with the seconds to wait."""

    def __init__(self, per_key: str, per_tenant: str, redis_url: str | None) -> None:
        self.items: tuple[RateLimitItem, RateLimitItem] = (parse(per_key), parse(per_tenant))
        storage = (
            storage_from_string(f"async+{redis_url}", implementation="redispy")
            if redis_url
            else MemoryStorage()
        )
        assert isinstance(storage, Storage)
        self.storage = storage
        self._counters: dict[str, _Counter] = {}

    async def hit(self, keys: Sequence[str]) -> None:
        now = time.time()
        for position, key in enumerate(keys):
            item = self.items[min(position, 1)]
            span = item.get_expiry()
            window = int(now // span)
            counter = self._counters.get(key)
            if counter is None or counter.window != window:
                counter = self._counters[key] = _Counter(window=window)
                if len(self._counters) > 100_000:
                    self._counters = {key: counter}
            counter.pending += 1
            total = counter.known + counter.pending
            if (
                counter.flushed_at == 0.0
                or total > item.amount * NEAR
                or now - counter.flushed_at >= FLUSH_SECONDS
            ):
                total = await self._flush(key, counter, span, now)
            if total > item.amount:
                raise RateLimited(key, max(1, math.ceil((window + 1) * span - now)))

    async def _flush(self, key: str, counter: _Counter, span: int, now: float) -> int:
        amount, counter.pending = counter.pending, 0
        counter.flushed_at = now
        counter.known = await self.storage.incr(
            f"mendian/{key}/{counter.window}", span, amount=amount
        )
        return counter.known
