"""Staff accounts, API keys and their resolution into an :class:`Actor` (CORE-3, API-2).

API keys look like ``mdn_<tenant slug>_<43 url-safe characters>`` (256 random bits). Only the
SHA-256 of the key is stored — a fast hash is right for a high-entropy secret; Argon2id is for
human passwords. The slug in the key routes the lookup to the tenant (and, on Citus, to its
shard) without an index that does not lead with ``tenant_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import secrets
import time
from typing import Annotated, Any
from uuid import UUID, uuid4

import jwt
import msgspec
from cachetools import TLRUCache
from msgspec import Meta

from core.auditing import audit
from core.cache import LIVE_SECONDS, bounded
from core.config import get_settings
from core.context import Actor, TenantInfo
from core.crypto import derive_key
from core.db import json_text, json_value, tenant_tx
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.redis import on_invalidation, publish_invalidation
from core.tables import ApiKey, Role, Staff, Store
from core.validation import convert
from tenants import login_guard as guard
from tenants.service import get_tenant
from tenants.staff import staff_contacts

__all__ = [
    "StaffInput",
    "authenticate_staff",
    "create_api_key",
    "create_staff",
    "forget_api_keys",
    "issue_staff_token",
    "resolve_api_key",
    "resolve_staff_token",
    "revoke_api_key",
    "unlock_staff",
]

KEY_PREFIX = "mdn_"
log = logging.getLogger("mendian.credentials")


class StaffInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    login: Annotated[str, Meta(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    password: Annotated[str, Meta(min_length=10, max_length=256)]
    role: Annotated[str, Meta(min_length=1, max_length=64)]
    store_ids: Annotated[list[UUID], Meta(max_length=1000)] = []
    email: Annotated[str, Meta(max_length=320)] | None = None  # work contact, for notices
    phone: Annotated[str, Meta(max_length=32)] | None = None


async def _role_permissions(role: str) -> frozenset[str]:
    row = await Role.select(Role.permissions).where(Role.code == role).first()
    if row is None:
        raise ValidationFailed("unknown role", field="role", code="unknown_role")
    return frozenset(json_value(row["permissions"], []))


async def _check_stores(store_ids: list[UUID], field: str) -> None:
    if store_ids:
        found = await Store.count().where(Store.id.is_in(store_ids))
        if found != len(set(store_ids)):
            raise ValidationFailed("unknown store", field=field, code="unknown_store")


async def create_staff(tenant: TenantInfo, actor: Actor, data: StaffInput | dict[str, Any]) -> UUID:
    """Create a staff account (password hashed with Argon2id); audited."""
    actor.require("staff:write")
    payload = convert(data, StaffInput)
    if payload.role == "owner" and not actor.can("*"):
        raise Forbidden("only an owner can create owners")
    password_hash = await guard.hash_password(payload.password)
    staff_id = uuid4()
    async with tenant_tx(tenant.id):
        await _role_permissions(payload.role)
        await _check_stores(payload.store_ids, "store_ids")
        if await Staff.exists().where(Staff.login == payload.login):
            raise Conflict("this login is taken", field="login", code="duplicate")
        await Staff.insert(
            Staff(
                id=staff_id,
                login=payload.login,
                name=payload.name,
                password_hash=password_hash,
                role=payload.role,
                store_ids=json_text([str(s) for s in payload.store_ids]),
                **staff_contacts(tenant, payload.email, payload.phone),
            )
        )
        await audit(
            actor,
            "staff.create",
            subject_type="staff",
            subject_id=staff_id,
            details={"role": payload.role},
        )
    return staff_id


async def authenticate_staff(
    tenant_slug: str, login: str, password: str, *, client: str | None = None
) -> tuple[TenantInfo, Actor]:
    """Check a staff login from the address ``client``. Unknown tenant, unknown login, wrong
    password and a locked account look the same and take the same time (one Argon2
    verification, at least ``LOGIN_FLOOR_SECONDS``); failures are throttled per account and
    per address (see :mod:`tenants.login_guard`)."""
    started = time.monotonic()
    try:
        return await _authenticate(tenant_slug, login, password, client)
    finally:
        await asyncio.sleep(max(0.0, guard.LOGIN_FLOOR_SECONDS - (time.monotonic() - started)))


async def _authenticate(
    tenant_slug: str, login: str, password: str, client: str | None
) -> tuple[TenantInfo, Actor]:
    refused = Forbidden("invalid login or password", code="invalid_credentials")
    account, address = guard.account_key(tenant_slug, login), guard.address_key(client)
    lock = await guard.locked([account, address])
    if lock is not None:
        raise Forbidden(
            f"too many failed logins: try again in {lock.seconds} s", code="too_many_attempts"
        )
    tenant: TenantInfo | None = None
    row: dict[str, Any] | None = None
    with contextlib.suppress(NotFound):  # an unknown tenant costs what a known one does
        tenant = await get_tenant(tenant_slug, cached=True)
    if tenant is not None and tenant.status == "active":
        async with tenant_tx(tenant.id, write=False):
            found = await Staff.select().where(Staff.login == login, Staff.active.eq(True)).first()
        row = dict(found) if found else None
    # One verification whatever was found: a dummy hash when the tenant or login is unknown.
    if not await guard.check_password(row["password_hash"] if row else None, password):
        await _failed(tenant, row, login, account, address, client)
        raise refused
    assert tenant is not None and row is not None
    await guard.clear_account(account)
    async with tenant_tx(tenant.id, write=False):
        permissions = await _role_permissions(row["role"])
    return tenant, _staff_actor(row, permissions)


def _staff_actor(row: dict[str, Any], permissions: frozenset[str]) -> Actor:
    """The actor of a staff row: its role and stores as they are now."""
    stores = json_value(row["store_ids"], [])
    return Actor(
        kind="staff",
        id=str(row["id"]),
        role=row["role"],
        permissions=permissions,
        store_ids=frozenset(UUID(s) for s in stores) if stores else None,
    )


async def _failed(
    tenant: TenantInfo | None,
    row: dict[str, Any] | None,
    login: str,
    account: str,
    address: str | None,
    client: str | None,
) -> None:
    """Count a failed login; a lock it causes is audited in the tenant (when there is one)."""
    locks = []
    if await guard.record_failure(account, guard.ACCOUNT_LIMIT):
        locks.append("account")
    if address is not None and await guard.record_failure(address, guard.ADDRESS_LIMIT):
        locks.append("address")
    if not locks:
        return
    log.warning(
        "login locked for %d s (%s): tenant %r, login %r, address %s",
        guard.LOCK_SECONDS,
        ", ".join(locks),
        tenant.slug if tenant else None,
        login[:64],
        client,
    )
    if tenant is None:
        return
    async with tenant_tx(tenant.id):
        await audit(
            Actor.system("login-throttle"),
            "staff.login_locked",
            subject_type="staff",
            subject_id=row["id"] if row else "",
            details={
                "login": login[:64],
                "scope": locks,
                "address": client,
                "seconds": guard.LOCK_SECONDS,
            },
        )


async def unlock_staff(tenant: TenantInfo, actor: Actor, staff_id: UUID) -> dict[str, Any]:
    """Lift the lock on a staff member's logins (an owner only); audited. The member's row."""
    if not actor.can("*"):
        raise Forbidden("only an owner can unlock a staff account")
    async with tenant_tx(tenant.id):
        row = await Staff.select(exclude_secrets=True).where(Staff.id == staff_id).first()
        if row is None:
            raise NotFound("staff member not found", field="id")
        await guard.clear_account(guard.account_key(tenant.slug, row["login"]))
        await audit(actor, "staff.unlock", subject_type="staff", subject_id=staff_id)
    return dict(row)


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(
    tenant: TenantInfo,
    actor: Actor,
    *,
    name: str,
    role: str = "integration",
    store_id: UUID | None = None,
) -> tuple[UUID, str]:
    """Create a key; returns ``(id, key)``. The key is shown this once and never again."""
    actor.require("keys:write")
    if not 1 <= len(name) <= 200:
        raise ValidationFailed("name must be 1-200 characters", field="name")
    key = f"{KEY_PREFIX}{tenant.slug}_{secrets.token_urlsafe(32)}"
    key_id = uuid4()
    async with tenant_tx(tenant.id):
        await _role_permissions(role)
        if store_id is not None:
            await _check_stores([store_id], "store")
        await ApiKey.insert(
            ApiKey(
                id=key_id,
                name=name,
                role=role,
                store_id=store_id,
                key_hash=_hash_key(key),
                key_hint=key[-4:],
            )
        )
        await audit(
            actor,
            "api_key.create",
            subject_type="api_key",
            subject_id=key_id,
            details={"role": role, "name": name},
        )
    return key_id, key


async def revoke_api_key(tenant: TenantInfo, actor: Actor, key_id: UUID) -> None:
    """Revoke a key: refused at once in every process (the revocation is published on the
    invalidation channel; while Redis is away, within ``KEY_CACHE_SECONDS`` elsewhere)."""
    actor.require("keys:write")
    async with tenant_tx(tenant.id):
        if not await ApiKey.exists().where(ApiKey.id == key_id, ApiKey.revoked_at.is_null()):
            raise NotFound("API key not found")
        await ApiKey.update({ApiKey.revoked_at: dt.datetime.now(dt.UTC)}).where(ApiKey.id == key_id)
        await audit(actor, "api_key.revoke", subject_type="api_key", subject_id=key_id)
    _forget_key(str(key_id))
    await publish_invalidation("api_key", str(key_id))


async def list_api_keys(tenant: TenantInfo) -> list[dict[str, Any]]:
    async with tenant_tx(tenant.id, write=False):
        rows = await ApiKey.select(
            ApiKey.id,
            ApiKey.name,
            ApiKey.role,
            ApiKey.store_id,
            ApiKey.key_hint,
            ApiKey.created_at,
            ApiKey.revoked_at,
        ).order_by(ApiKey.created_at)
    return [dict(r) for r in rows]


# Resolved keys are cached per process for KEY_CACHE_SECONDS. A revocation is published on the
# invalidation channel, so every process drops the key at once; the TTL is the fallback while
# Redis is away. A resolution that began before an invalidation is not cached (``_generation``:
# it may have read the key before it was revoked).
KEY_CACHE_SECONDS = 30.0
_key_cache: TLRUCache[str, tuple[UUID, Actor]] = bounded(
    KEY_CACHE_SECONDS, live_seconds=LIVE_SECONDS
)
_generation = [0]


def forget_api_keys() -> None:
    """Drop the resolved-key cache (tests; revocation in this process)."""
    _generation[0] += 1
    _key_cache.clear()


def _forget_key(key_id: str) -> None:
    """Drop one key (by id; every key with ``*``) from this process's cache."""
    if key_id == "*":
        forget_api_keys()
        return
    _generation[0] += 1
    for digest, (_tenant, cached) in list(_key_cache.items()):
        if cached.id == key_id:
            _key_cache.pop(digest, None)


on_invalidation("api_key", _forget_key)


async def resolve_api_key(key: str) -> tuple[TenantInfo, Actor]:
    """The tenant and actor of a key; revoked keys and suspended tenants are refused."""
    refused = Forbidden("invalid API key", code="invalid_credentials")
    if not key.startswith(KEY_PREFIX) or key.count("_") < 2 or len(key) > 200:
        raise refused
    digest = _hash_key(key)
    hit = _key_cache.get(digest)
    if hit is not None:
        tenant = await get_tenant(hit[0], cached=True)
        if tenant.status != "active":
            raise refused
        return tenant, hit[1]  # the caller sets its own request id on the actor
    slug = key[len(KEY_PREFIX) :].split("_", 1)[0]
    generation = _generation[0]
    try:
        tenant = await get_tenant(slug, cached=True)
    except NotFound:
        raise refused from None
    if tenant.status != "active":
        raise refused
    async with tenant_tx(tenant.id, write=False):
        row = (
            await ApiKey.select()
            .where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_null())
            .first()
        )
        if row is None:
            raise refused
        permissions = await _role_permissions(row["role"])
    store = row["store_id"]
    actor = Actor(
        kind="api_key",
        id=str(row["id"]),
        role=row["role"],
        permissions=permissions,
        store_ids=frozenset({store}) if store else None,
    )
    if generation == _generation[0]:
        _key_cache[digest] = (tenant.id, actor)
    return tenant, actor


# --- staff tokens ---------------------------------------------------------------------------

STAFF_TOKEN_TTL = dt.timedelta(minutes=30)
_TOKEN_AUDIENCE = "mendian:staff"  # noqa: S105 - an audience, not a secret


def _token_key() -> bytes:
    return derive_key(get_settings().secret_key, b"staff-token")


def issue_staff_token(tenant: TenantInfo, actor: Actor) -> tuple[str, dt.datetime]:
    """A short-lived signed bearer token (JWT, HS256) for a logged-in staff member."""
    expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + STAFF_TOKEN_TTL
    claims = {
        "aud": _TOKEN_AUDIENCE,
        "sub": actor.id,
        "tid": str(tenant.id),
        "role": actor.role,
        "stores": sorted(str(s) for s in actor.store_ids) if actor.store_ids else None,
        "exp": expires,
        "iat": dt.datetime.now(dt.UTC),
    }
    return jwt.encode(claims, _token_key(), algorithm="HS256"), expires


async def resolve_staff_token(token: str) -> tuple[TenantInfo, Actor]:
    """The tenant and actor of a staff token; expired, tampered or foreign tokens are refused."""
    refused = Forbidden("invalid or expired token", code="invalid_credentials")
    try:
        claims = jwt.decode(
            token,
            _token_key(),
            algorithms=["HS256"],
            audience=_TOKEN_AUDIENCE,
            options={"require": ["exp", "sub", "tid", "aud"]},
        )
        tenant = await get_tenant(UUID(claims["tid"]), cached=True)
    except (jwt.PyJWTError, ValueError, KeyError, NotFound):
        raise refused from None
    if tenant.status != "active":
        raise refused
    # The staff member as they are now (one primary-key read): a deactivated member, or a
    # token issued before the password last changed, is refused at once (not when the token
    # expires), and a changed role or store list applies to the very next request.
    try:
        staff_id = UUID(str(claims["sub"]))
        issued = int(claims.get("iat", 0))
    except (ValueError, TypeError):
        raise refused from None
    async with tenant_tx(tenant.id, write=False):
        found = (
            await Staff.select(
                Staff.id, Staff.role, Staff.store_ids, Staff.active, Staff.credentials_changed_at
            )
            .where(Staff.id == staff_id)
            .first()
        )
        if found is None or not found["active"]:
            raise refused
        changed = found["credentials_changed_at"]
        if changed is not None and issued < int(changed.timestamp()):
            raise refused
        permissions = await _cached_permissions(tenant.id, str(found["role"]))
    return tenant, _staff_actor(dict(found), permissions)


_role_cache: TLRUCache[tuple[UUID, str], frozenset[str]] = bounded(KEY_CACHE_SECONDS)


async def _cached_permissions(tenant_id: UUID, role: str) -> frozenset[str]:
    hit = _role_cache.get((tenant_id, role))
    if hit is not None:
        return hit
    permissions = await _role_permissions(role)
    _role_cache[(tenant_id, role)] = permissions
    return permissions
