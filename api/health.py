"""``/health``: 200 when the database answers (503 when it does not); Redis, when configured,
is reported (``"status": "degraded"`` while it is away) without failing the check."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import get
from litestar.response import Response
from piccolo.querystring import QueryString

from core.db import get_database
from core.redis import get_redis

REDIS_PING_SECONDS = 1.0


@get("/health", operation_id="health", summary="Liveness and dependencies", include_in_schema=True)
async def health() -> Response[dict[str, Any]]:
    checks: dict[str, str] = {}
    status = 200
    try:
        db = get_database()
        await db.engine.run_querystring(QueryString("SELECT 1"))
        checks["database"] = db.dialect
    except Exception as exc:  # a health check reports, it does not raise
        checks["database"] = f"error: {type(exc).__name__}"
        status = 503
    degraded = status != 200
    client = get_redis()
    if client is not None:
        # Requests never fail for want of Redis (limits count per process, caches expire by
        # TTL): its absence degrades the service, it does not take the server out of rotation.
        try:
            await asyncio.wait_for(client.ping(), REDIS_PING_SECONDS)
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
            degraded = True
    return Response(
        {"status": "degraded" if degraded else "ok", "checks": checks}, status_code=status
    )
