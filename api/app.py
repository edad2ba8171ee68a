"""The composition root: the one place that wires core, tenants, plugins and the API."""

from __future__ import annotations

import asyncio
import contextlib
import gc

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from api.admin import admin_exception_handlers, admin_openapi_components, admin_router
from api.graphql.http import graphql_endpoint
from api.graphql.ratelimit import RateLimiter
from api.graphql.schema import SchemaRegistry
from api.health import health
from core import __version__
from core.bootstrap import close_database, open_database
from core.config import Settings, get_settings
from core.events import set_event_listener
from core.logging import install_masking
from core.plugins import PluginRuntime, load_runtime
from core.redis import close_redis

__all__ = ["create_app", "plugin_routers"]


def plugin_routers(runtime: PluginRuntime) -> list[Router]:
    """Each plugin's ``register_routes`` handlers, mounted under ``/p/<plugin id>``. The handler
    resolves its tenant (and checks the plugin is enabled there) itself, as public routes do."""
    routers = []
    for plugin_id, handlers in runtime.registry.collect_all("register_routes"):
        if handlers:
            routers.append(Router(path=f"/p/{plugin_id}", route_handlers=handlers))
    return routers


def create_app(settings: Settings | None = None, *, background: bool = True) -> Litestar:
    """The HTTP app. ``background``: run event delivery, message sending and cron jobs in this
    process when there is no Redis (the embedded default); with Redis, ``mendian worker`` does,
    and this process only listens for plugin-enablement invalidations."""
    settings = settings or get_settings()
    runtime = load_runtime()
    state = State(
        {
            "graphql": SchemaRegistry(runtime.registry),
            "rate_limiter": RateLimiter(
                settings.rate_limit_key, settings.rate_limit_tenant, settings.redis_url
            ),
        }
    )
    tasks: list[asyncio.Task[None]] = []

    async def startup() -> None:
        install_masking()
        await open_database(settings)
        # Everything loaded so far (schemas, plugins, modules) lives as long as the process:
        # keep it out of the collector's generations, so collections stay short under load.
        gc.collect()
        gc.freeze()
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
            await queue.disconnect()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await close_redis()
        await close_database()

    return Litestar(
        route_handlers=[health, admin_router, graphql_endpoint, *plugin_routers(runtime)],
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
