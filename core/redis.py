"""The process's Redis client, when ``REDIS_URL`` is set (``None`` on the embedded default)."""

from __future__ import annotations

import asyncio

import redis.asyncio as redis_asyncio

from core.config import get_settings

__all__ = ["close_redis", "get_redis", "key"]

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
        client = _clients[loop] = redis_asyncio.from_url(url, decode_responses=True)
    return client


async def close_redis() -> None:
    client = _clients.pop(id(asyncio.get_running_loop()), None)
    if client is not None:
        await client.aclose()


def key(tenant_id: object, plugin: str, name: str) -> str:
    """Every Redis key carries the tenant: ``mendian:{tenant}:{plugin}:{name}`` (CORE-4.4)."""
    return f"mendian:{tenant_id}:{plugin}:{name}"
