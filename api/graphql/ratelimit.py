"""Rate limits per credential and per tenant (API-4), in Redis so they hold across workers.

Uses the ``limits`` library (moving window). Without Redis the counters live in the process,
which is exact for the embedded single-process default.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

__all__ = ["RateLimited", "RateLimiter"]


class RateLimited(Exception):
    def __init__(self, key: str, retry_after: int) -> None:
        super().__init__(
            f"rate limit exceeded for {key.split(':', 1)[0]}; retry in {retry_after} s"
        )
        self.retry_after = retry_after


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
        self.strategy = MovingWindowRateLimiter(storage)

    async def hit(self, keys: Sequence[str]) -> None:
        for position, key in enumerate(keys):
            item = self.items[min(position, 1)]
            if not await self.strategy.hit(item, "mendian", key):
                stats = await self.strategy.get_window_stats(item, "mendian", key)
                raise RateLimited(key, max(1, math.ceil(stats.reset_time - time.time())))
