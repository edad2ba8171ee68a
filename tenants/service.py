"""Tenants (CORE-1) and stores (CORE-2): the platform operator's and HQ's administration."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import phonenumbers
from cachetools import TLRUCache
from msgspec import Meta
from piccolo.querystring import QueryString

from core.auditing import audit
from core.cache import LIVE_SECONDS, bounded
from core.calendars import parse_business_hours
from core.context import Actor, TenantInfo
from core.db import get_database, json_text, platform_tx, tenant_tables, tenant_tx
from core.errors import Conflict, NotFound, ValidationFailed
from core.money import MINOR_UNITS
from core.redis import on_invalidation, publish_invalidation
from core.tables import Role, Store, Tenant
from core.validation import convert
from tenants.roles import BUILTIN_ROLES

if TYPE_CHECKING:
    from core.plugins.runtime import PluginRuntime

__all__ = [
    "StoreInput",
    "TenantInput",
    "create_store",
    "create_tenant",
    "delete_tenant",
    "forget_tenant",
    "forget_tenant_everywhere",
    "get_tenant",
    "list_stores",
    "list_tenants",
    "set_tenant_status",
]

SLUG = r"^[a-z][a-z0-9-]{1,62}$"
# Slugs that are path segments of Mendian's own pages: ``/feedback/status/<token>`` is the
# complaint status page, so a tenant ``status`` could never open its ``/feedback/<slug>/…`` form.
RESERVED_SLUGS = frozenset({"status"})
LOCALES = ("zh-CN", "en")


class TenantInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    slug: Annotated[str, Meta(pattern=SLUG)]
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    timezone: str = "Asia/Shanghai"
    locale: str = "zh-CN"
    currency: str = "CNY"
    phone_region: str = "CN"
    plan: Annotated[str, Meta(min_length=1, max_length=64)] = "standard"


class StoreInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    region: Annotated[str, Meta(max_length=100)] = ""
    address: Annotated[str, Meta(max_length=500)] = ""
    timezone: str | None = None
    business_hours: dict[str, Any] = {}


def check_timezone(name: str, field: str = "timezone") -> str:
    # "Asia" (a directory) or an over-long name raise OSError from the zoneinfo loader.
    try:
        if len(name) > 64 or "\x00" in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed(
            f"unknown timezone {name[:64]!r}", field=field, code="invalid_timezone"
        ) from None
    return name


def _validate(data: TenantInput) -> None:
    if data.slug in RESERVED_SLUGS:
        raise ValidationFailed(
            "this slug is reserved for Mendian's own pages", field="slug", code="reserved"
        )
    check_timezone(data.timezone)
    if data.locale not in LOCALES:
        raise ValidationFailed(f"locale must be one of {', '.join(LOCALES)}", field="locale")
    if data.currency not in MINOR_UNITS:
        raise ValidationFailed("unsupported currency", field="currency", code="invalid_currency")
    if data.phone_region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationFailed("unknown phone region", field="phone_region", code="invalid_region")


def tenant_info(row: dict[str, Any]) -> TenantInfo:
    return TenantInfo.from_row(row)


# Per process, a tenant read for credential checks is kept CACHE_SECONDS. A status change is
# published on the invalidation channel, so every process drops it at once; the TTL is the
# fallback while Redis is away. A read that began before an invalidation is not cached
# (``_generation``): it may predate the change.
CACHE_SECONDS = 5.0
# by id and by slug; status changes are published, so while they are heard entries stay long
_cache: TLRUCache[str, TenantInfo] = bounded(CACHE_SECONDS, live_seconds=LIVE_SECONDS)
_generation = [0]


def forget_tenant(key: str | UUID | None = None) -> None:
    """Drop a tenant (by id or slug; every tenant with ``None``) from this process's cache."""
    _generation[0] += 1
    if key is None:
        _cache.clear()
        return
    text = str(key)
    hit = _cache.pop(text, None)
    if hit is None:  # its other name may still be cached (the two leave the LRU separately)
        hit = next((t for t in list(_cache.values()) if text in (str(t.id), t.slug)), None)
    if hit is not None:
        _cache.pop(str(hit.id), None)
        _cache.pop(hit.slug, None)


def _forget_published(value: str) -> None:
    forget_tenant(None if value == "*" else value)


on_invalidation("tenant", _forget_published)


async def forget_tenant_everywhere(tenant: TenantInfo) -> None:
    """Drop the tenant from every process's cache (here at once; elsewhere over Redis)."""
    forget_tenant(tenant.id)  # both names go (a second call by slug would only scan)
    await publish_invalidation("tenant", str(tenant.id))


async def get_tenant(key: str | UUID, *, cached: bool = False) -> TenantInfo:
    """A tenant by slug or id. ``cached`` allows a view up to 5 s old (credential checks)."""
    text = str(key)
    if cached and (hit := _cache.get(text)) is not None:
        return hit
    generation = _generation[0]
    column: Any
    value: Any
    try:
        column, value = Tenant.id, UUID(text)
    except ValueError:
        if not re.match(SLUG, text):
            raise NotFound("tenant not found") from None
        column, value = Tenant.slug, text
    row = await Tenant.select().where(column == value).first()
    if row is None:
        raise NotFound("tenant not found")
    info = tenant_info(dict(row))
    if generation == _generation[0]:
        _cache[str(info.id)] = _cache[info.slug] = info
    return info


async def list_tenants() -> list[TenantInfo]:
    return [tenant_info(dict(r)) for r in await Tenant.select().order_by(Tenant.slug)]


async def create_tenant(
    data: TenantInput | dict[str, Any],
    actor: Actor | None = None,
    *,
    runtime: PluginRuntime | None = None,
) -> TenantInfo:
    """Create a tenant with its built-in roles. Duplicate slug is a :class:`Conflict`.
    ``runtime``: the loaded plugins, told through ``on_tenant_created``."""
    payload = convert(data, TenantInput)
    _validate(payload)
    actor = actor or Actor(kind="platform", id="admin")
    tenant_id = uuid4()
    async with platform_tx():
        if await Tenant.exists().where(Tenant.slug == payload.slug):
            raise Conflict("a tenant with this slug already exists", field="slug", code="duplicate")
        await Tenant.insert(
            Tenant(id=tenant_id, settings=json_text({}), **msgspec.structs.asdict(payload))
        )
    try:
        async with tenant_tx(tenant_id):
            await Role.insert(
                *(
                    Role(code=code, name=name, permissions=json_text(sorted(perms)), builtin=True)
                    for code, (name, perms) in BUILTIN_ROLES.items()
                )
            )
            await audit(
                actor,
                "tenant.create",
                subject_type="tenant",
                subject_id=tenant_id,
                details={"slug": payload.slug},
            )
    except BaseException:
        async with platform_tx():
            await Tenant.delete().where(Tenant.id == tenant_id)
        raise
    info = await get_tenant(tenant_id)
    await _notify_created(info, runtime)
    return info


async def _notify_created(tenant: TenantInfo, runtime: PluginRuntime | None) -> None:
    """``on_tenant_created`` for every installed plugin (isolated: a failure is only recorded)."""
    if runtime is None:
        return
    await runtime.notify(
        tenant, "on_tenant_created", plugins=frozenset(runtime.registry.plugins), tenant=tenant
    )


async def set_tenant_status(slug: str, status: str, actor: Actor | None = None) -> TenantInfo:
    if status not in ("active", "suspended"):
        raise ValidationFailed("status must be active or suspended", field="status")
    tenant = await get_tenant(slug)
    async with platform_tx():
        await Tenant.update({Tenant.status: status}).where(Tenant.id == tenant.id)
    async with tenant_tx(tenant.id):
        await audit(
            actor or Actor(kind="platform", id="admin"),
            f"tenant.{'suspend' if status == 'suspended' else 'activate'}",
            subject_type="tenant",
            subject_id=tenant.id,
        )
    # Suspension refuses every credential in every process at once, not within CACHE_SECONDS.
    await forget_tenant_everywhere(tenant)
    return await get_tenant(tenant.id)


async def delete_tenant(slug: str) -> int:
    """Remove the tenant and every row it owns, in core and plugins (PIPL Art. 21 off-boarding).

    Runs on the owner's connection: the app role may not delete audit entries.
    Returns the number of rows removed.
    """
    tenant = await get_tenant(slug)
    db = get_database()
    engine: Any = db.owner_engine
    removed = 0
    async with engine.transaction():
        if db.is_postgres:
            await engine.run_querystring(
                QueryString("SELECT set_config('app.tenant_id', {}, true)", str(tenant.id))
            )
        names = sorted(t._meta.tablename for t in tenant_tables())
        if db.is_postgres:
            from core.citus import read_catalog, referencing_first

            # A row goes before the rows its foreign keys point at (a purchase's lines before
            # the purchase); SQLite has no foreign keys.
            names = referencing_first(names, (await read_catalog(engine)).foreign_keys)
        for name in names:
            rows = await engine.run_querystring(
                QueryString(f'DELETE FROM "{name}" WHERE tenant_id = {{}} RETURNING id', tenant.id)
            )
            removed += len(rows or [])
        await engine.run_querystring(QueryString("DELETE FROM tenant WHERE id = {}", tenant.id))
    await forget_tenant_everywhere(tenant)
    return removed


async def create_store(
    tenant: TenantInfo, actor: Actor, data: StoreInput | dict[str, Any]
) -> dict[str, Any]:
    actor.require("stores:write")
    payload = convert(data, StoreInput)
    if payload.timezone:
        check_timezone(payload.timezone)
    hours = parse_business_hours(payload.business_hours)
    store_id = uuid4()
    async with tenant_tx(tenant.id):
        if await Store.exists().where(Store.code == payload.code):
            raise Conflict("a store with this code already exists", field="code", code="duplicate")
        values = msgspec.structs.asdict(payload)
        values["business_hours"] = json_text(hours.as_json() if hours else {})
        await Store.insert(Store(id=store_id, **values))
        await audit(actor, "store.create", subject_type="store", subject_id=store_id)
        row = await Store.select().where(Store.id == store_id).first()
        assert row is not None
        return dict(row)


async def list_stores(tenant: TenantInfo, actor: Actor) -> list[dict[str, Any]]:
    async with tenant_tx(tenant.id, write=False):
        rows = await Store.select().order_by(Store.code)
    return [dict(r) for r in rows if actor.sees_store(r["id"])]
