"""Append-only audit entries (CORE-12), written in the caller's tenant transaction."""

from __future__ import annotations

from typing import Any

import msgspec

from core.context import Actor
from core.tables import AuditLog

__all__ = ["audit"]


async def audit(
    actor: Actor,
    action: str,
    *,
    subject_type: str = "",
    subject_id: object = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Record ``action`` (e.g. ``customer.export``) by ``actor``; call inside ``tenant_tx``."""
    await AuditLog.insert(
        AuditLog(
            actor_type=actor.kind,
            actor_id=actor.id,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id or ""),
            request_id=actor.request_id,
            details=msgspec.json.encode(details or {}).decode(),
        )
    )
