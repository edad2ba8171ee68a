"""The committed SDL files (API-3): what clients code against; a test fails when they drift."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SDL_DIR", "export_sdl"]

SDL_DIR = Path(__file__).parent / "sdl"


def export_sdl() -> dict[str, str]:
    """``schema.core.graphql`` (no module enabled) and ``schema.all.graphql`` (every installed
    plugin enabled), plus ``schema.public.graphql`` (anonymous callers)."""
    from api.graphql.schema import SchemaRegistry
    from core.plugins import load_runtime

    registry = load_runtime(strict=False).registry
    schemas = SchemaRegistry(registry)
    return {
        "schema.core.graphql": schemas.for_modules(frozenset()).as_str() + "\n",
        "schema.all.graphql": schemas.for_modules(frozenset(registry.plugins)).as_str() + "\n",
        "schema.public.graphql": schemas.public.as_str() + "\n",
    }
