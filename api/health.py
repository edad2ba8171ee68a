"""``/health``: the database answers (and Redis, when configured)."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.response import Response
from piccolo.querystring import QueryString

from core.db import get_database
from core.redis import get_redis


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
    client = get_redis()
    if client is not None:
        try:
            await client.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
            status = 503
    return Response(
        {"status": "ok" if status == 200 else "degraded", "checks": checks}, status_code=status
    )
