"""Idempotent creation for any mutation a retry could double (API-3): one helper for core and
plugins.

A client sends an ``idempotencyKey``; the first request with it claims the key (scope, key) by
inserting its record with the id of what it is about to create, in the same transaction. A
retry with the same payload finds the record and answers with that id (``replayed``); the same
key with another payload is :class:`IdempotencyMismatch`. Concurrent duplicates meet the unique
index: on PostgreSQL the second insert waits for the first transaction and then sees its row;
on SQLite writers are serialized.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any
from uuid import UUID, uuid4

import msgspec

from core.db import current_tenant, fetch
from core.errors import IdempotencyMismatch, UnscopedQuery, ValidationFailed

__all__ = ["claim", "request_digest"]

MAX_KEY = 128


def request_digest(payload: Any) -> str:
    """SHA-256 of the canonical JSON of ``payload`` (what a replay must match)."""
    return hashlib.sha256(msgspec.json.encode(payload, order="sorted")).hexdigest()


async def claim(
    scope: str, key: str | None, payload: Any, new_id: UUID, *, field: str = "idempotency_key"
) -> UUID | None:
    """Inside the tenant transaction that creates ``new_id``: claim ``key`` for it.

    Returns ``None`` when the caller should go on and create ``new_id`` (no key, or the key is
    new), or the id an earlier identical request created (answer with it, create nothing).
    Raises :class:`IdempotencyMismatch` when the key was used for a different payload.
    """
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY:
        raise ValidationFailed(
            f"an idempotency key has 1 to {MAX_KEY} characters", field=field, code="invalid"
        )
    tenant = current_tenant.get()
    if tenant is None:
        raise UnscopedQuery("claim() belongs inside the tenant transaction that creates")
    digest = request_digest(payload)
    won = await fetch(
        "INSERT INTO idempotency_record (tenant_id, id, scope, key, request_hash, result_id, "
        "created_at) VALUES ({}, {}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (tenant_id, scope, key) DO NOTHING RETURNING result_id",
        tenant,
        uuid4(),
        scope,
        key,
        digest,
        new_id,
        dt.datetime.now(dt.UTC),
    )
    if won:
        return None
    rows = await fetch(
        "SELECT request_hash, result_id FROM idempotency_record "
        "WHERE tenant_id = {} AND scope = {} AND key = {}",
        tenant,
        scope,
        key,
    )
    if rows[0]["request_hash"] != digest:
        raise IdempotencyMismatch(
            "this idempotency key was already used for a different request", field=field
        )
    return UUID(str(rows[0]["result_id"]))
