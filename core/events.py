"""Domain events (CORE-15): written to the outbox in the transaction of the change.

Delivery to plugins happens after commit (``core.plugins`` dispatcher); because the row is
committed with the change, a crash between commit and delivery loses nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import msgspec

from core.db import after_commit, current_tenant, insert_rows
from core.errors import UnscopedQuery

__all__ = ["emit", "set_event_listener"]

_listener: Callable[[UUID], None] | None = None


def set_event_listener(listener: Callable[[UUID], None] | None) -> None:
    """Called with the tenant id after a transaction that emitted events commits (the app
    schedules delivery; a periodic sweep catches anything a crash left behind)."""
    global _listener
    _listener = listener


def _kick(tenant_id: UUID) -> Callable[[], None]:
    def kick() -> None:
        if _listener is not None:
            _listener(tenant_id)

    return kick


async def emit(name: str, subject_id: object, payload: dict[str, Any]) -> UUID:
    """Append event ``name`` (``purchase.recorded`` …); call inside ``tenant_tx``."""
    tenant_id = current_tenant.get()
    if tenant_id is None:
        raise UnscopedQuery("emit() belongs inside the tenant transaction of the change")
    event_id = uuid4()
    await insert_rows(
        "event_outbox",
        [
            {
                "tenant_id": tenant_id,
                "id": event_id,
                "name": name,
                "subject_id": str(subject_id),
                "payload": msgspec.json.encode(payload).decode(),
                "created_at": dt.datetime.now(dt.UTC),
                "note": "",
            }
        ],
    )
    after_commit(_kick(tenant_id))
    return event_id
