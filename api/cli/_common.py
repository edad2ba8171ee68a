"""What every command uses: the console, settings check, running a coroutine with the database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

from rich.console import Console

from core.config import ConfigError, get_settings

__all__ = ["console", "run_command", "with_settings"]

console = Console()
T = TypeVar("T")


def run_command(coro_fn: Callable[[], Awaitable[T]], *, database: bool = True) -> T:
    """Run an async command with the database open; typed errors become clean exits."""
    from core.bootstrap import close_database, open_database
    from core.errors import MendianError

    async def main() -> T:
        if database:
            from core.plugins import load_runtime

            load_runtime()
            await open_database()
        try:
            return await coro_fn()
        finally:
            if database:
                await close_database()

    try:
        return asyncio.run(main())
    except MendianError as exc:
        where = f" ({exc.field})" if exc.field else ""
        console.print(f"[red]error{where}:[/red] {exc.message}")
        sys.exit(2)
    except Exception as exc:
        if _unmigrated(exc):
            console.print(
                "[red]error:[/red] the database has no Mendian tables: run mendian migrate first"
            )
            sys.exit(2)
        raise


def _unmigrated(exc: BaseException) -> bool:
    """A missing core table (SQLite's ``no such table``, PostgreSQL's undefined table)."""
    text = str(exc)
    return "no such table" in text or type(exc).__name__ == "UndefinedTableError"


def _settings_or_exit() -> Any:
    try:
        return get_settings()
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        sys.exit(2)


def with_settings(fn: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _settings_or_exit()
        return fn(*args, **kwargs)

    return wrapper
