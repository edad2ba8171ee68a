"""The composition root: the one place that wires core, tenants, plugins and the API."""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from api.health import health
from core.bootstrap import close_database, open_database
from core.config import Settings, get_settings
from core.logging import install_masking

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()

    async def startup() -> None:
        install_masking()
        await open_database(settings)

    async def shutdown() -> None:
        await close_database()

    return Litestar(
        route_handlers=[health],
        on_startup=[startup],
        on_shutdown=[shutdown],
        openapi_config=OpenAPIConfig(title="Mendian", version="0.1.0", path="/schema"),
        request_max_body_size=1_048_576,
    )
