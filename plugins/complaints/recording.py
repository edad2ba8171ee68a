"""What praise and damaged goods share: the store check, the one idempotent insert (a retried
``idempotency_key`` answers the first record, nothing is written twice) and the listing of
what the caller sees (the complaints' visibility rule), newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

import msgspec

from core import Actor, NotFound, TenantInfo, claim, fetch, insert_rows, store_facts, tenant_tx
from plugins.complaints.records import scope_sql

__all__ = ["check_store", "insert_once", "visible_rows"]


async def check_store(tenant: TenantInfo, actor: Actor, store_id: UUID) -> None:
    """A store of the tenant that ``actor`` works in, else :class:`NotFound` on ``store_id``."""
    if not actor.sees_store(store_id) or not await store_facts(tenant, [store_id]):
        raise NotFound("no such store", field="store_id")


async def insert_once(
    tenant: TenantInfo,
    actor: Actor,
    table: str,
    key: str | None,
    request: msgspec.Struct,
    row: dict[str, Any],
) -> UUID:
    """Insert ``row`` (its ``id``, ``tenant_id`` and ``recorded_by`` filled in) in one
    transaction, claiming ``key`` for it under ``<table>`` with ``request`` as the payload."""
    uid = uuid4()
    async with tenant_tx(tenant.id):
        earlier = await claim(table, key, msgspec.to_builtins(request), uid)
        if earlier is not None:
            return earlier
        recorded = {"tenant_id": tenant.id, "id": uid, "recorded_by": f"{actor.kind}:{actor.id}"}
        await insert_rows(table, [recorded | row])
    return uid


async def visible_rows(
    tenant: TenantInfo,
    actor: Actor,
    table: str,
    columns: str,
    at: str,
    conditions: Sequence[tuple[str, Any]],
    ids: list[UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Rows of ``table`` (alias ``t``) that ``actor`` sees, newest first by column ``at``:
    each condition whose value is not None (``(sql, value)``, or ``(sql, [values])`` for
    several placeholders), and by id when ``ids`` is given."""
    where: list[str] = ["t.tenant_id = {}"]
    args: list[Any] = [tenant.id]
    for sql, value in conditions:
        if value is not None:
            where.append(sql)
            args += value if isinstance(value, list) else [value]
    if ids is not None:
        if not ids:
            return []
        where.append("t.id IN (" + ", ".join("{}" for _ in ids) + ")")
        args += ids
    scope, scope_args = scope_sql(actor, "t", hq=False)
    async with tenant_tx(tenant.id, write=False):
        return await fetch(
            f"SELECT {columns} FROM {table} t WHERE {' AND '.join(where)}{scope} "
            f"ORDER BY t.{at} DESC, t.id DESC LIMIT {int(limit)}",
            *args,
            *scope_args,
        )
