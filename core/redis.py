"""The process's Redis client, when ``REDIS_URL`` is set (``None`` on the embedded default), and
the invalidation channel every process listens on.

Redis is an accelerator, never a dependency of a request: while it is away, rate limits are
counted per process, event delivery waits for the worker's minute pump, and cache invalidations
fall back to their TTLs. Each user logs the outage once (:class:`OutageLog`), not per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import redis.asyncio as redis_asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from core.config import get_settings

__all__ = [
    "INVALIDATE_CHANNEL",
    "REDIS_ERRORS",
    "OutageLog",
    "client_options",
    "close_redis",
    "get_redis",
    "key",
    "listen_for_invalidations",
    "on_invalidation",
    "publish_invalidation",
]

log = logging.getLogger("mendian.redis")

# What a Redis call raises when the server is away (refused, reset, timed out, loading…).
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
CONNECT_SECONDS = 2.0
PUBLISH_SECONDS = 1.0
RECONNECT_SECONDS = 1.0


def client_options() -> dict[str, Any]:
    """Options for every Redis client of ours: a bounded connect, and a second try on another
    connection when a pooled one turns out dead (after a Redis restart, each connection pooled
    before it fails once — without the retry, each failure looks like a new outage)."""
    return {
        "socket_connect_timeout": CONNECT_SECONDS,
        "retry": Retry(NoBackoff(), 2),
        "retry_on_error": [RedisConnectionError],
    }


# One client per event loop: a connection belongs to the loop that opened it (the app's, a
# worker's, a test client's portal).
_clients: dict[int, redis_asyncio.Redis] = {}


def get_redis() -> redis_asyncio.Redis | None:
    url = get_settings().redis_url
    if url is None:
        return None
    loop = id(asyncio.get_running_loop())
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = redis_asyncio.from_url(
            url, decode_responses=True, **client_options()
        )
    return client


async def close_redis() -> None:
    client = _clients.pop(id(asyncio.get_running_loop()), None)
    if client is not None:
        with suppress(*REDIS_ERRORS):
            await client.aclose()


def key(tenant_id: object, plugin: str, name: str) -> str:
    """Every Redis key carries the tenant: ``mendian:{tenant}:{plugin}:{name}`` (CORE-4.4)."""
    return f"mendian:{tenant_id}:{plugin}:{name}"


class OutageLog:
    """Logs that ``what`` lost Redis once per outage, and once when it is back."""

    def __init__(self, what: str, fallback: str) -> None:
        self.what = what
        self.fallback = fallback
        self.since: float | None = None

    def failed(self, exc: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning(
                "Redis unavailable for %s (%s: %s): %s until it is back",
                self.what,
                type(exc).__name__,
                exc,
                self.fallback,
            )

    def ok(self) -> None:
        if self.since is not None:
            log.warning("Redis back for %s after %.1f s", self.what, time.monotonic() - self.since)
            self.since = None


# -- invalidations ------------------------------------------------------------------------------

INVALIDATE_CHANNEL = "mendian:plugins:invalidate"
# kind → what to drop; the value "*" means everything (messages may have been missed).
_handlers: dict[str, Callable[[str], None]] = {}
_publish_outage = OutageLog("invalidations", "other processes rely on their caches' TTL")


def on_invalidation(kind: str, handler: Callable[[str], None]) -> None:
    """Call ``handler(value)`` for every ``kind:value`` published on the invalidation channel
    (by any process, this one included), and ``handler("*")`` after the channel was lost."""
    _handlers[kind] = handler


def _dispatch(data: str) -> None:
    kind, sep, value = data.partition(":")
    if not sep:  # a bare tenant id: what processes before typed messages published
        kind, value = "modules", data
    handler = _handlers.get(kind)
    if handler is not None:
        try:
            handler(value)
        except Exception:  # a malformed message must not stop the listener
            log.warning("ignored invalidation %r", data[:200], exc_info=True)


def _drop_everything() -> None:
    for kind in list(_handlers):
        _dispatch(f"{kind}:*")


_live = [False]


def invalidations_live() -> bool:
    """Whether this process is subscribed to the invalidation channel right now: caches whose
    changes are published may then keep entries long (``core.cache.bounded``'s
    ``live_seconds``); while it is lost they fall back to their short TTL."""
    return _live[0]


async def publish_invalidation(kind: str, value: str) -> bool:
    """Tell every process to drop ``value`` from its ``kind`` cache. Never raises: without
    Redis (or while it is away) the other processes fall back to their caches' TTL. Returns
    whether it was published."""
    client = get_redis()
    if client is None:
        return False
    try:
        await asyncio.wait_for(
            client.publish(INVALIDATE_CHANNEL, f"{kind}:{value}"), PUBLISH_SECONDS
        )
    except REDIS_ERRORS as exc:
        _publish_outage.failed(exc)
        return False
    _publish_outage.ok()
    return True


async def listen_for_invalidations() -> None:
    """Apply every process's invalidations here, for the life of the process (a background
    task; returns at once without Redis). Reconnects after losing Redis, and then drops every
    cache once: invalidations published meanwhile were missed."""
    outage = OutageLog("the invalidation channel", "caches expire by TTL")
    while True:
        client = get_redis()
        if client is None:
            return
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(INVALIDATE_CHANNEL)
            if outage.since is not None:
                _drop_everything()
            outage.ok()
            _live[0] = True
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    _dispatch(str(message["data"]))
        except REDIS_ERRORS as exc:
            outage.failed(exc)
        finally:
            if _live[0]:
                # Entries kept long on the channel's word: from now on nobody tells us when
                # they change, so they go, and new ones get the short TTL until it is back.
                _live[0] = False
                _drop_everything()
            with suppress(*REDIS_ERRORS):
                await pubsub.aclose()
        await asyncio.sleep(RECONNECT_SECONDS)
