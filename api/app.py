"""The composition root: the one place that wires core, tenants, plugins and the API."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from api.admin import admin_exception_handlers, admin_openapi_components, admin_router
from api.collector import Collector
from api.graphql.http import graphql_endpoint
from api.graphql.ratelimit import RateLimiter
from api.graphql.schema import SchemaRegistry
from api.health import health
from api.reports import reports_router
from core import __version__
from core.bootstrap import close_database, open_database
from core.config import Settings, get_settings
from core.events import set_event_listener
from core.logging import install_masking
from core.plugins import PluginRuntime, load_runtime
from core.redis import close_redis

__all__ = ["SHUTDOWN_GRACE_SECONDS", "create_app", "plugin_routers"]

# On SIGTERM, requests still running after this long are cut off (uvicorn's graceful timeout),
# then the pool closes within core.db.POOL_CLOSE_SECONDS: the process always ends.
SHUTDOWN_GRACE_SECONDS = 10


RESERVED_PATHS = ("/graphql", "/admin", "/health", "/schema", "/static", "/reports", "/p")


def plugin_routers(runtime: PluginRuntime) -> list[Router]:
    """Each plugin's ``register_routes``: route handlers are mounted under ``/p/<plugin id>``;
    a ``Router`` keeps its own path (a short public URL such as ``/s/{token}``), which must not
    be one of the core's nor another plugin's. The handler resolves its tenant (and checks the
    plugin is enabled there) itself, as public routes do."""
    routers: list[Router] = []
    taken: dict[str, str] = dict.fromkeys(RESERVED_PATHS, "core")
    for plugin_id, handlers in runtime.registry.collect_all("register_routes"):
        loose = [h for h in handlers or [] if not isinstance(h, Router)]
        if loose:
            routers.append(Router(path=f"/p/{plugin_id}", route_handlers=loose))
        for router in (h for h in handlers or [] if isinstance(h, Router)):
            first = "/" + router.path.strip("/").split("/")[0]
            if first in taken:
                raise RuntimeError(
                    f"plugin {plugin_id!r} routes {router.path!r}, which {taken[first]!r} owns"
                )
            taken[first] = plugin_id
            routers.append(router)
    return routers


def static_files() -> Any:
    """``/static/…``: the pages' stylesheet and every asset a page needs, served here."""
    from litestar.static_files import create_static_files_router

    from core.pages import STATIC_DIR

    return create_static_files_router(path="/static", directories=[STATIC_DIR], name="static")


def create_app(settings: Settings | None = None, *, background: bool = True) -> Litestar:
    """The HTTP app. ``background``: run event delivery, message sending and cron jobs in this
    process when there is no Redis (the embedded default); with Redis, ``mendian worker`` does,
    and this process only listens for plugin-enablement invalidations."""
    settings = settings or get_settings()
    runtime = load_runtime()
    state = State(
        {
            "runtime": runtime,
            "graphql": SchemaRegistry(runtime.registry),
            "rate_limiter": RateLimiter(
                settings.rate_limit_key, settings.rate_limit_tenant, settings.redis_url
            ),
        }
    )
    tasks: list[asyncio.Task[None]] = []
    collector = Collector()

    async def startup() -> None:
        install_masking()
        await open_database(settings)
        # Everything loaded so far (schemas, plugins, modules) lives as long as the process:
        # keep it out of the collector's generations, so collections stay short under load.
        collector.start()
        tasks.append(asyncio.create_task(collector.run()))
        if not background:
            return
        if settings.redis_url:
            from core.jobs import DeliveryKicker, saq_queue

            queue = saq_queue(settings.redis_url)
            await queue.connect()
            state.saq_queue = queue
            set_event_listener(DeliveryKicker(queue))
            tasks.append(asyncio.create_task(runtime.listen_for_invalidations()))
        else:
            from core.jobs import JobTable, run_in_process

            tasks.append(asyncio.create_task(run_in_process(JobTable(runtime))))

    async def shutdown() -> None:
        set_event_listener(None)
        queue = state.get("saq_queue")
        if queue is not None:
            with contextlib.suppress(Exception):  # Redis away: nothing to flush, just go
                await asyncio.wait_for(queue.disconnect(), 2)
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await state.rate_limiter.close()
        await close_redis()
        await close_database()

    return Litestar(
        route_handlers=[
            health,
            admin_router,
            graphql_endpoint,
            static_files(),
            reports_router,
            *plugin_routers(runtime),
        ],
        state=state,
        on_startup=[startup],
        on_shutdown=[shutdown],
        exception_handlers=admin_exception_handlers,
        openapi_config=OpenAPIConfig(
            title="Mendian",
            version=__version__,
            path="/schema",
            components=admin_openapi_components,
        ),
        request_max_body_size=1_048_576,
    )
