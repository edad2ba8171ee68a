"""Rate limits per credential and per tenant (API-4), shared through Redis across workers.

Fixed windows counted in the ``limits`` storage (Redis with ``REDIS_URL``, else in-process).
A Redis round trip on every request cost a third of the API's throughput, so each worker counts
locally and adds its hits to the shared counter in batches: at a window's first hit, every
``FLUSH_SECONDS``, and on every hit once the known total nears the limit — far from the limit a
request costs no round trip; near it the decision is made on the shared count, so the limit
holds across workers (it can be exceeded by at most the hits one worker takes within one flush
interval while far below the limit, i.e. never by more than ``NEAR`` of it).

While Redis is away, a request never fails for it: each worker counts its own hits (so each
enforces the full limit alone), tries Redis again every ``REDIS_RETRY_SECONDS``, and adds the
hits it counted meanwhile to the shared counter when Redis is back. The outage is logged once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.errors import StorageError
from limits.storage import storage_from_string
from redis.exceptions import RedisError

from core.redis import OutageLog, client_options

__all__ = ["RateLimited", "RateLimiter"]

FLUSH_SECONDS = 0.1
REDIS_RETRY_SECONDS = 1.0  # while Redis is away, how often one hit tries it again
REDIS_TIMEOUT_SECONDS = 0.5  # a Redis that accepts but does not answer costs a hit this, at most
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
    unshared: int = 0  # hits counted here while Redis was away, added to it once it is back
    flushed_at: float = 0.0


class RateLimiter:
    """``hit([credential key, tenant key])``: the first key gets ``per_key``, later ones
    ``per_tenant``; raises :class:`RateLimited` with the seconds to wait."""

    def __init__(self, per_key: str, per_tenant: str, redis_url: str | None) -> None:
        self.items: tuple[RateLimitItem, RateLimitItem] = (parse(per_key), parse(per_tenant))
        storage = (
            storage_from_string(
                f"async+{redis_url}",
                implementation="redispy",
                wrap_exceptions=True,  # every Redis failure is a StorageError
                **{
                    **client_options(),
                    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                    "socket_timeout": REDIS_TIMEOUT_SECONDS,
                },
            )
            if redis_url
            else MemoryStorage()
        )
        assert isinstance(storage, Storage)
        self.storage = storage
        self._counters: dict[str, _Counter] = {}
        self._away_until = 0.0  # Redis failed: count locally until then
        self._outage = OutageLog("rate limits", "each worker counts its own hits")

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
        hits, counter.pending = counter.pending, 0
        counter.flushed_at = now
        if now < self._away_until:
            return self._count_locally(counter, hits)
        try:
            counter.known = await self.storage.incr(
                f"mendian/{key}/{counter.window}", span, amount=hits + counter.unshared
            )
        except (StorageError, RedisError, OSError, TimeoutError) as exc:
            self._away_until = now + REDIS_RETRY_SECONDS
            self._outage.failed(getattr(exc, "storage_error", exc))
            return self._count_locally(counter, hits)
        counter.unshared = 0
        self._outage.ok()
        return counter.known

    @staticmethod
    def _count_locally(counter: _Counter, hits: int) -> int:
        """Redis is away: the hits count here, and are owed to the shared counter."""
        counter.known += hits
        counter.unshared += hits
        return counter.known
