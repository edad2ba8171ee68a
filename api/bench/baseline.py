"""The yardstick for ``mendian bench api``: a minimal hand-written litestar + asyncpg endpoint
doing the cashier's look-up with the same isolation as Mendian (app role without BYPASSRLS,
``app.tenant_id`` set in the transaction, blind-index look-up, decryption, masking, the key
resolved to its tenant once and cached). Not part of the product; run only by the benchmark.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Litestar, Request, Response, post

from core.config import get_settings
from core.crypto import FieldCipher, mask_phone
from core.customers.service import field_context
from core.phone import normalize_phone

_state: dict[str, Any] = {}


class Body(msgspec.Struct):
    query: str
    variables: dict[str, Any]


async def _tenant_of(key: str) -> tuple[UUID, str]:
    cached = _state["keys"].get(key)
    if cached is None:
        slug = key.split("_")[1]
        async with _state["pool"].acquire() as conn:
            tenant = await conn.fetchrow(
                "SELECT id, phone_region FROM tenant WHERE slug = $1", slug
            )
            async with conn.transaction():
                await conn.execute(
                    "SELECT set_config('app.tenant_id', $1, true)", str(tenant["id"])
                )
                ok = await conn.fetchval(
                    "SELECT 1 FROM api_key WHERE key_hash = $1 AND revoked_at IS NULL",
                    hashlib.sha256(key.encode()).hexdigest(),
                )
        if not ok:
            raise PermissionError
        cached = _state["keys"][key] = (tenant["id"], tenant["phone_region"])
    return cached


@post("/graphql", status_code=200)
async def lookup(request: Request[Any, Any, Any]) -> Response[bytes]:
    body = msgspec.json.decode(await request.body(), type=Body)
    tenant_id, region = await _tenant_of(request.headers["authorization"].split(" ", 1)[1])
    cipher: FieldCipher = _state["cipher"]
    hashes = cipher.blind_indexes(tenant_id, normalize_phone(body.variables["phone"], region))
    loyalty = "loyalty" in body.query  # the till's variant: points and tier too
    async with _state["pool"].acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        row = await conn.fetchrow(
            "SELECT id, name, phone_enc FROM customer "
            "WHERE phone_hash = ANY($1::text[]) AND status = 'active' LIMIT 1",
            hashes,
        )
        account = None
        if loyalty and row is not None:
            account = await conn.fetchrow(
                "SELECT points, tier FROM loyalty_account WHERE customer_id = $1", row["id"]
            )
            if tenant_id not in _state["tiers"]:  # tier names from the tenant's settings, cached
                raw = await conn.fetchval(
                    "SELECT settings FROM tenant_module WHERE plugin_id = 'loyalty'"
                )
                tiers = msgspec.json.decode(raw or "{}").get("tiers", [])
                _state["tiers"][tenant_id] = {t["code"]: t["name"] for t in tiers}
    customer: dict[str, Any] | None = None
    if row is not None:
        phone = cipher.decrypt(row["phone_enc"], context=field_context(tenant_id, "phone"))
        customer = {"id": str(row["id"]), "name": row["name"], "phone": mask_phone(phone)}
        if loyalty:
            names = _state["tiers"].get(tenant_id, {})
            tier = account["tier"] if account else ""
            customer["loyalty"] = {
                "points": account["points"] if account else 0,
                "tier": {"name": names.get(tier, tier)} if tier else None,
            }
    return Response(
        msgspec.json.encode({"data": {"customerByPhone": customer}}), media_type="application/json"
    )


async def _startup() -> None:
    settings = get_settings()
    config = settings.database.asyncpg_config(
        user=settings.app_role, password=settings.app_role_password
    )
    _state["pool"] = await asyncpg.create_pool(**config, min_size=4, max_size=settings.db_pool_size)
    _state["cipher"] = FieldCipher(settings.secret_keys)
    _state["keys"] = {}
    _state["tiers"] = {}


app = Litestar(route_handlers=[lookup], on_startup=[_startup])
