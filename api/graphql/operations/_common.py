"""What every operations module uses: argument descriptions, ID decoding, the runtime."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.errors import ValidationFailed
from core.graphql import context_of, decode_cursor, from_global_id
from core.plugins import PluginRuntime

__all__ = ["arg", "cursor_uuid", "runtime_of", "uuid_of"]


def arg(description: str) -> Any:
    """``Annotated[T, arg("…")]``: every argument is described (the schema rules check it)."""
    return strawberry.argument(description=description)


def uuid_of(value: str, type_name: str, field: str = "id") -> UUID:
    """The UUID of a global ID of ``type_name``; anything else is ``not_found`` on ``field``."""
    return from_global_id(value, type_name, field=field)


def cursor_uuid(after: str | None) -> UUID | None:
    """An id cursor (``customers``, ``stores`` …): decoded, or ``invalid_cursor``."""
    cursor = decode_cursor(after)
    if cursor is None:
        return None
    try:
        return UUID(cursor)
    except ValueError:
        raise ValidationFailed("malformed cursor", field="after", code="invalid_cursor") from None


def runtime_of(info: Info) -> PluginRuntime | None:
    """The plugin runtime that serves this request (what services dispatch hooks through)."""
    return context_of(info).runtime
