"""Rate limits per credential and per tenant (API-4), shared through Redis across workers.

Fixed windows, each counted in one shared counter (Redis with ``REDIS_URL``, else in-process).
A Redis round trip on every request would cost a third of the API's throughput, so each worker
counts locally and adds its hits to the shared counters in the background, every
``FLUSH_SECONDS``, all keys in one script call (one round trip). Far from the limit a request never
waits for Redis. Once a worker's count of a key (the shared total at its last flush plus its
own hits since) passes ``NEAR`` of the limit, every hit on that key waits for the shared count
— all of a request's near keys in one round trip — and is refused past the limit. So the limit
holds across workers, exceeded at most by what each worker accepts of a key before its next
flush of that key brings its count up to date: at most one flush interval's hits, and never
more than ``NEAR`` of the limit.

While Redis is away, a request never fails for it: each worker counts its own hits (so each
enforces the full limit alone), tries Redis again every ``REDIS_RETRY_SECONDS``, and adds the
hits it counted meanwhile to the shared counter when Redis is back. The outage is logged once.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as redis_asyncio
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from core.redis import REDIS_ERRORS, OutageLog, client_options

__all__ = ["RateLimited", "RateLimiter"]

FLUSH_SECONDS = 0.1
REDIS_RETRY_SECONDS = 1.0  # while Redis is away, how often a flush tries it again
REDIS_TIMEOUT_SECONDS = 0.5  # a Redis that accepts but does not answer costs a hit this, at most
NEAR = 0.8  # share of the limit from which every hit is checked against the shared count
MAX_COUNTERS = 100_000  # windows counted at once per worker; past it the oldest are forgotten


class RateLimited(Exception):
    def __init__(self, key: str, retry_after: int) -> None:
        super().__init__(
            f"rate limit exceeded for {key.split(':', 1)[0]}; retry in {retry_after} s"
        )
        self.retry_after = retry_after


@dataclass(eq=False)
class _Counter:
    name: str  # the shared counter's key: the limit key and its window
    span: int  # the window's length in seconds (the shared counter expires with it)
    ends: float = 0.0  # when its window ends
    known: int = 0  # the shared total at the last flush
    pending: int = 0  # local hits not yet added to it
    unshared: int = 0  # hits counted here while Redis was away, added to it once it is back


class _SharedCounts(Protocol):
    async def add(self, counters: Sequence[tuple[str, int, int]]) -> list[int]:
        """Adds each ``(name, amount, span)`` to its counter; the new totals, in order."""
        ...

    async def close(self) -> None: ...


# One command for any number of counters: a pipeline of INCRBY/EXPIRE pairs cost redis-py some
# 40 µs a counter to encode and parse, and over 10,000 tenants nearly every counter in a flush
# is another tenant's (py-spy: 4 % of the server's time in the flush).
_ADD = """
local totals = {}
for i, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[2 * i - 1])
  local total = redis.call('INCRBY', key, amount)
  if total == amount then redis.call('EXPIRE', key, ARGV[2 * i]) end
  totals[i] = total
end
return totals
"""


class _RedisCounts:
    """All counters of a flush in one round trip and one command: a script that adds to each
    and gives a new counter its window's expiry."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: dict[int, tuple[redis_asyncio.Redis, AsyncScript]] = {}  # per event loop

    def _client(self) -> tuple[redis_asyncio.Redis, AsyncScript]:
        loop = id(asyncio.get_running_loop())
        found = self._clients.get(loop)
        if found is None:
            client = redis_asyncio.from_url(
                self.url,
                decode_responses=True,
                **{
                    **client_options(),
                    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                    "socket_timeout": REDIS_TIMEOUT_SECONDS,
                    # no second try: a script that ran but timed out would count twice, and a
                    # hit near the limit would wait past REDIS_TIMEOUT_SECONDS
                    "retry": Retry(NoBackoff(), 0),
                    "retry_on_error": [],
                },
            )
            found = self._clients[loop] = (client, client.register_script(_ADD))
        return found

    async def add(self, counters: Sequence[tuple[str, int, int]]) -> list[int]:
        _, script = self._client()
        args: list[int] = []
        for _, amount, span in counters:
            args += (amount, span)
        totals = await script(keys=[name for name, _, _ in counters], args=args)
        return [int(total) for total in totals]

    async def close(self) -> None:
        found = self._clients.pop(id(asyncio.get_running_loop()), None)
        if found is not None:
            with suppress(*REDIS_ERRORS):
                await found[0].aclose()


class _LocalCounts:
    """No Redis configured: the counters live in this process (``limits``' memory storage)."""

    def __init__(self) -> None:
        self.storage = MemoryStorage()

    async def add(self, counters: Sequence[tuple[str, int, int]]) -> list[int]:
        return [await self.storage.incr(name, span, amount) for name, amount, span in counters]

    async def close(self) -> None:
        return None


class RateLimiter:
    """``hit([credential key, tenant key])``: the first key gets ``per_key``, later ones
    ``per_tenant``; raises :class:`RateLimited` with the seconds to wait."""

    def __init__(self, per_key: str, per_tenant: str, redis_url: str | None) -> None:
        self.items: tuple[RateLimitItem, RateLimitItem] = (parse(per_key), parse(per_tenant))
        self.shared: _SharedCounts = _RedisCounts(redis_url) if redis_url else _LocalCounts()
        self._counters: dict[str, _Counter] = {}  # by shared name: this window's, per key
        self._dirty: dict[str, _Counter] = {}  # counters with hits not yet flushed
        self._flusher: asyncio.Task[None] | None = None
        self._away_until = 0.0  # Redis failed: count locally until then
        self._outage = OutageLog("rate limits", "each worker counts its own hits")

    async def hit(self, keys: Sequence[str]) -> None:
        now = time.time()
        near: list[tuple[str, _Counter, RateLimitItem, float]] = []
        for position, key in enumerate(keys):
            item = self.items[min(position, 1)]
            span = item.get_expiry()
            window = int(now // span)
            counter = self._counter(f"mendian/{key}/{window}", span, now)
            counter.pending += 1
            if counter.known + counter.pending > item.amount * NEAR:
                near.append((key, counter, item, (window + 1) * span - now))
            else:
                self._dirty[counter.name] = counter
        if self._dirty and self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later())
        if near:
            totals = await self._flush([counter for _, counter, _, _ in near], now)
            for (key, _, item, remaining), total in zip(near, totals, strict=True):
                if total > item.amount:
                    raise RateLimited(key, max(1, math.ceil(remaining)))

    async def flush(self) -> None:
        """Adds every hit counted here to the shared counters now (also done at shutdown)."""
        dirty = [c for c in self._dirty.values() if c.pending or c.unshared]
        self._dirty = {}
        if dirty:
            await self._flush(dirty, time.time())

    async def close(self) -> None:
        """Shutdown: the hits not yet shared are added, then the connection closed."""
        if self._flusher is not None:  # asleep (see _flush_later): nothing lost by cancelling
            self._flusher.cancel()
            self._flusher = None
        await self.flush()
        await self.shared.close()

    def _counter(self, name: str, span: int, now: float) -> _Counter:
        counter = self._counters.get(name)
        if counter is None:
            if len(self._counters) >= MAX_COUNTERS:
                self._forget(now)
            counter = self._counters[name] = _Counter(name, span, ends=(now // span + 1) * span)
        return counter

    def _forget(self, now: float) -> None:
        """Bound the counters: ended windows go first, then the oldest current ones (each then
        starts again from the shared count at its next flush); never one with hits owed."""
        keep = {n: c for n, c in self._counters.items() if c.ends > now or n in self._dirty}
        if len(keep) >= MAX_COUNTERS:
            clean = [n for n in keep if n not in self._dirty]
            for name in clean[: len(keep) - MAX_COUNTERS // 2]:
                del keep[name]
        self._counters = keep

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        self._flusher = None  # past its sleep the task is never cancelled: its hits are in flight
        await self.flush()
        if self._dirty and self._flusher is None:  # hits arrived during the flush
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush(self, counters: Sequence[_Counter], now: float) -> list[int]:
        """The counters' shared totals after adding their pending hits (local ones while Redis
        is away). Flushes may overlap (the background one and a near-limit hit's): each takes
        what it sends out of the counters first, and gives it back if it cannot send it."""
        hits = [counter.pending for counter in counters]
        owed = [counter.unshared for counter in counters]
        for counter in counters:
            counter.pending = counter.unshared = 0
        if now >= self._away_until:
            try:
                totals = await self.shared.add(
                    [
                        (counter.name, own + extra, counter.span)
                        for counter, own, extra in zip(counters, hits, owed, strict=True)
                    ]
                )
            except BaseException as exc:
                self._count_locally(counters, hits, owed)
                if not isinstance(exc, REDIS_ERRORS):
                    raise
                self._away_until = now + REDIS_RETRY_SECONDS
                self._outage.failed(exc)
            else:
                self._outage.ok()
                for counter, total in zip(counters, totals, strict=True):
                    counter.known = max(counter.known, total)
                return totals
        else:
            self._count_locally(counters, hits, owed)
        return [counter.known for counter in counters]

    def _count_locally(
        self, counters: Sequence[_Counter], hits: Sequence[int], owed: Sequence[int]
    ) -> None:
        """Redis is away: the hits count here, and stay owed to the shared counter (the counter
        stays due, so the first flush after Redis is back sends them)."""
        for counter, own, extra in zip(counters, hits, owed, strict=True):
            counter.known += own
            counter.unshared += own + extra
            if counter.unshared:
                self._dirty[counter.name] = counter
