"""Domain events (CORE-15): written to the outbox in the transaction of the change.

Delivery to plugins happens after commit (``core.plugins`` dispatcher); because the row is
committed with the change, a crash between commit and delivery loses nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import msgspec

from core.tables import EventOutbox

__all__ = ["emit"]


async def emit(name: str, subject_id: object, payload: dict[str, Any]) -> UUID:
    """Append event ``name`` (``purchase.recorded`` …); call inside ``tenant_tx``."""
    event_id = uuid4()
    await EventOutbox.insert(
        EventOutbox(
            id=event_id,
            name=name,
            subject_id=str(subject_id),
            payload=msgspec.json.encode(payload).decode(),
        )
    )
    return event_id
