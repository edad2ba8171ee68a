"""Read services for plugins: what a plugin may know about the core's customers, purchases,
stores and staff, without reading the core's tables (STYLE: "ask a core service").

Every function runs in the caller's open tenant transaction (or opens a read-only one), reads
in one statement per call (pass many ids at once: they are loaded set-based), and returns
frozen records of non-secret facts — never phone or email (those stay encrypted in the core and
reach customers through the messaging pipeline).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cachetools import TLRUCache

from core.cache import bounded
from core.context import TenantInfo
from core.db import fetch, json_value, tenant_tx
from core.errors import NotFound
from core.purchases import PurchaseView
from core.purchases import load as load_purchase

__all__ = [
    "CustomerFacts",
    "StaffFacts",
    "StoreFacts",
    "active_customer",
    "customer_facts",
    "find_tenant",
    "message_outcomes",
    "purchase_facts",
    "purchase_totals",
    "staff_facts",
    "staff_in_roles",
    "store_by_code",
    "store_facts",
    "store_timezones",
]


@dataclass(frozen=True)
class CustomerFacts:
    """A customer as a plugin may see it: status, dates and relations, no contact data."""

    id: UUID
    status: str  # active, merged, erased
    birthday: dt.date | None
    birthday_calendar: str  # solar or lunar (农历生日)
    home_store_id: UUID | None
    assigned_staff_id: UUID | None
    created_at: dt.datetime
    purchase_count: int
    total_spent_minor: int
    first_purchase_at: dt.datetime | None
    last_purchase_at: dt.datetime | None
    value_class: str
    lifecycle: str
    merged_into_id: UUID | None


@dataclass(frozen=True)
class StoreFacts:
    """A store with its effective timezone (its own, else the tenant's)."""

    id: UUID
    code: str
    name: str
    region: str
    timezone: str
    business_hours: dict[str, Any]


@dataclass(frozen=True)
class StaffFacts:
    """A staff member: role and stores (empty: every store), whether still active."""

    id: UUID
    login: str
    name: str
    role: str
    store_ids: frozenset[UUID]
    active: bool

    def works_in(self, store_id: UUID | None) -> bool:
        return not self.store_ids or store_id is None or store_id in self.store_ids


TENANT_CACHE_SECONDS = 5.0
_MISSING: Any = object()  # ``None`` is a cached answer (no such tenant)
# unknown slugs are remembered too (``None``): the bound keeps a scan of made-up slugs small
_tenants: TLRUCache[str, TenantInfo | None] = bounded(TENANT_CACHE_SECONDS)


async def find_tenant(slug: str) -> TenantInfo | None:
    """The active tenant with this slug, or ``None`` (unknown, malformed or suspended look the
    same): how a public page or an anonymous operation — a survey link, a complaint form —
    finds its tenant before opening the tenant's transaction. Cached a few seconds."""
    import re

    from core.tables import Tenant

    if not re.fullmatch(r"[a-z][a-z0-9-]{1,62}", slug or ""):
        return None
    hit = _tenants.get(slug, _MISSING)
    if hit is not _MISSING:
        return hit
    row = await Tenant.select().where(Tenant.slug == slug).first()
    found = TenantInfo.from_row(dict(row)) if row and row["status"] == "active" else None
    _tenants[slug] = found
    return found


def _ids(values: Iterable[UUID]) -> list[UUID]:
    return list(dict.fromkeys(values))


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _uuid(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


def _in(ids: Sequence[object]) -> str:
    return "(" + ", ".join("{}" for _ in ids) + ")"


async def customer_facts(tenant: TenantInfo, ids: Iterable[UUID]) -> dict[UUID, CustomerFacts]:
    """Facts about the tenant's customers among ``ids`` (any status; missing ones and other
    tenants' are simply absent)."""
    wanted = _ids(ids)
    if not wanted:
        return {}
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT c.id, c.status, c.birthday, c.birthday_calendar, c.home_store_id, "
            "c.assigned_staff_id, "
            "c.created_at, c.merged_into_id, s.purchase_count, s.total_spent_minor, "
            "s.first_purchase_at, s.last_purchase_at, s.value_class, s.lifecycle "
            "FROM customer c LEFT JOIN customer_stats s "
            "ON s.tenant_id = c.tenant_id AND s.customer_id = c.id "
            f"WHERE c.tenant_id = {{}} AND c.id IN {_in(wanted)}",
            tenant.id,
            *wanted,
        )
    out = {}
    for r in rows:
        uid = UUID(str(r["id"]))
        out[uid] = CustomerFacts(
            id=uid,
            status=r["status"],
            birthday=_date(r["birthday"]),
            birthday_calendar=r["birthday_calendar"] or "solar",
            home_store_id=_uuid(r["home_store_id"]),
            assigned_staff_id=_uuid(r["assigned_staff_id"]),
            created_at=r["created_at"],
            purchase_count=int(r["purchase_count"] or 0),
            total_spent_minor=int(r["total_spent_minor"] or 0),
            first_purchase_at=r["first_purchase_at"],
            last_purchase_at=r["last_purchase_at"],
            value_class=r["value_class"] or "potential",
            lifecycle=r["lifecycle"] or "prospect",
            merged_into_id=_uuid(r["merged_into_id"]),
        )
    return out


async def active_customer(
    tenant: TenantInfo, customer_id: UUID, *, field: str = "customerId"
) -> CustomerFacts:
    """The tenant's active customer ``customer_id``; a missing, merged, erased or foreign one
    is the same :class:`NotFound` on ``field``."""
    found = (await customer_facts(tenant, [customer_id])).get(customer_id)
    if found is None or found.status != "active":
        raise NotFound("customer not found", field=field)
    return found


async def purchase_facts(tenant: TenantInfo, purchase_id: UUID) -> PurchaseView | None:
    """A sale or refund of the tenant with its lines, or ``None``."""
    async with tenant_tx(tenant.id, write=False):
        try:
            return await load_purchase(purchase_id)
        except NotFound:
            return None


async def store_facts(tenant: TenantInfo, ids: Iterable[UUID]) -> dict[UUID, StoreFacts]:
    """The tenant's stores among ``ids``."""
    wanted = _ids(ids)
    if not wanted:
        return {}
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT id, code, name, region, timezone, business_hours FROM store "
            f"WHERE tenant_id = {{}} AND id IN {_in(wanted)}",
            tenant.id,
            *wanted,
        )
    return {
        UUID(str(r["id"])): StoreFacts(
            id=UUID(str(r["id"])),
            code=r["code"],
            name=r["name"],
            region=r["region"],
            timezone=r["timezone"] or tenant.timezone,
            business_hours=dict(json_value(r["business_hours"], {})),
        )
        for r in rows
    }


async def store_timezones(tenant: TenantInfo) -> dict[UUID, str]:
    """Every store of the tenant (closed ones too: their customers keep them as home store)
    with its effective timezone (its own, else the tenant's) — e.g. to find the local days a
    job must serve now; with the tenant's own zone, every zone its customers live in."""
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch("SELECT id, timezone FROM store WHERE tenant_id = {}", tenant.id)
    return {UUID(str(r["id"])): r["timezone"] or tenant.timezone for r in rows}


async def store_by_code(tenant: TenantInfo, code: str) -> StoreFacts | None:
    """The tenant's open store with this ``code`` (as printed on a poster: ``/feedback/<tenant
    slug>/<store code>``), or ``None`` — an unknown code and a closed store look the same."""
    if not code or len(code) > 32:
        return None
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT id FROM store WHERE tenant_id = {} AND code = {} AND closed_at IS NULL",
            tenant.id,
            code,
        )
    if not rows:
        return None
    return (await store_facts(tenant, [UUID(str(rows[0]["id"]))])).get(UUID(str(rows[0]["id"])))


def _staff(r: dict[str, Any]) -> StaffFacts:
    return StaffFacts(
        id=UUID(str(r["id"])),
        login=r["login"],
        name=r["name"],
        role=r["role"],
        store_ids=frozenset(UUID(str(s)) for s in json_value(r["store_ids"], [])),
        active=bool(r["active"]),
    )


async def staff_facts(tenant: TenantInfo, ids: Iterable[UUID]) -> dict[UUID, StaffFacts]:
    """The tenant's staff members among ``ids`` (active or not)."""
    wanted = _ids(ids)
    if not wanted:
        return {}
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT id, login, name, role, store_ids, active FROM staff "
            f"WHERE tenant_id = {{}} AND id IN {_in(wanted)}",
            tenant.id,
            *wanted,
        )
    return {s.id: s for s in map(_staff, rows)}


async def staff_in_roles(
    tenant: TenantInfo, roles: Iterable[str], *, store_id: UUID | None = None
) -> list[StaffFacts]:
    """Active staff with one of ``roles``, who work in ``store_id`` when given (chain-wide
    staff work in every store), by name: an escalation ladder's next rung."""
    wanted = list(dict.fromkeys(roles))
    if not wanted:
        return []
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT id, login, name, role, store_ids, active FROM staff "
            f"WHERE tenant_id = {{}} AND active = {{}} AND role IN {_in(wanted)} ORDER BY name",
            tenant.id,
            True,
            *wanted,
        )
    return [s for s in map(_staff, rows) if s.works_in(store_id)]


async def message_outcomes(tenant: TenantInfo, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The outbox status (``queued``, ``sending``, ``sent``, ``failed``, ``suppressed``) and
    reason of the tenant's messages by the idempotency keys you queued them with."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, tuple[str, str]] = {}
    async with tenant_tx(tenant.id, write=False):
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            for r in await fetch(
                "SELECT idempotency_key, status, reason FROM message WHERE tenant_id = {} "
                f"AND idempotency_key IN {_in(chunk)}",
                tenant.id,
                *chunk,
            ):
                found[r["idempotency_key"]] = (r["status"], r["reason"])
    return found


async def purchase_totals(
    tenant: TenantInfo, ids: Iterable[UUID], start: dt.datetime, end: dt.datetime
) -> dict[UUID, tuple[int, int]]:
    """Per customer among ``ids``: sales in ``[start, end)`` — (count, net amount in minor
    units, refunds included). Customers without a sale there are absent."""
    wanted = _ids(ids)
    found: dict[UUID, tuple[int, int]] = {}
    async with tenant_tx(tenant.id, write=False):
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            for r in await fetch(
                "SELECT customer_id, SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END) AS n, "
                "SUM(amount_minor) AS total FROM purchase WHERE tenant_id = {} "
                f"AND occurred_at >= {{}} AND occurred_at < {{}} AND customer_id IN {_in(chunk)} "
                "GROUP BY customer_id",
                tenant.id,
                start,
                end,
                *chunk,
            ):
                if int(r["n"] or 0):
                    found[UUID(str(r["customer_id"]))] = (int(r["n"]), int(r["total"] or 0))
    return found
