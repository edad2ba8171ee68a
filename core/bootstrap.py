"""Open and close the process-wide database (used by the server, worker, CLI and tests)."""

from __future__ import annotations

from core.config import Settings, get_settings
from core.db import Database, get_database, platform_tables, set_database, tenant_tables
from core.tables import TABLES

__all__ = ["close_database", "open_database"]


async def open_database(settings: Settings | None = None) -> Database:
    """Bind every table (core and loaded plugins) to the app engine and start its pool."""
    db = Database(settings or get_settings())
    db.bind([*TABLES, *tenant_tables(), *platform_tables()])
    await db.start()
    set_database(db)
    return db


async def close_database() -> None:
    try:
        db = get_database()
    except RuntimeError:
        return
    await db.stop()
    set_database(None)
