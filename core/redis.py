"""The process's Redis client, when ``REDIS_URL`` is set (``None`` on the embedded default)."""

from __future__ import annotations

import redis.asyncio as redis_asyncio

from core.config import get_settings

__all__ = ["close_redis", "get_redis", "key"]

_client: redis_asyncio.Redis | None = None


def get_redis() -> redis_asyncio.Redis | None:
    global _client
    url = get_settings().redis_url
    if url is None:
        return None
    if _client is None:
        _client = redis_asyncio.from_url(url, decode_responses=True)
    return _client


async def close_redis() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None


def key(tenant_id: object, plugin: str, name: str) -> str:
    """Every Redis key carries the tenant: ``mendian:{tenant}:{plugin}:{name}`` (CORE-4.4)."""
    return f"mendian:{tenant_id}:{plugin}:{name}"
