"""When CI provides PostgreSQL and Redis, the suite must reach them (fail, never skip)."""

import os

import pytest

from tests.conftest import BACKENDS, REQUIRE


def test_postgres_backend_selected_when_required():
    if not REQUIRE:
        pytest.skip("MENDIAN_REQUIRE_SERVICES is not set")
    assert "postgres" in BACKENDS


async def test_redis_reachable():
    url = os.environ.get("REDIS_URL")
    if not url:
        if REQUIRE:
            pytest.fail("MENDIAN_REQUIRE_SERVICES=1 but REDIS_URL is not set")
        pytest.skip("REDIS_URL not set")
    import redis.asyncio as redis

    client = redis.from_url(url)
    try:
        assert await client.ping() is True
    finally:
        await client.aclose()
