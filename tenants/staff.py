"""Staff accounts (CORE-3) after they are created (``tenants.credentials.create_staff``): read,
change name, role and stores (moving between stores), deactivate, change the password. Every
change is audited, and a change that affects what a staff member may do (role, stores,
deactivation, password) sets ``credentials_changed_at``: tokens issued before it are refused."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from core.auditing import audit
from core.context import Actor, TenantInfo
from core.db import json_text, json_value, tenant_tx
from core.errors import Forbidden, NotFound, ValidationFailed
from core.tables import Role, Staff, Store
from core.validation import convert

__all__ = [
    "StaffPatch",
    "change_password",
    "deactivate_staff",
    "get_staff",
    "list_staff",
    "staff_contacts",
    "update_staff",
]


class StaffPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Only the fields given change; ``store_ids: []`` makes the member chain-wide."""

    name: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    role: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET
    store_ids: Annotated[list[UUID], Meta(max_length=1000)] | UnsetType = UNSET
    email: Annotated[str, Meta(max_length=320)] | UnsetType | None = UNSET
    phone: Annotated[str, Meta(max_length=32)] | UnsetType | None = UNSET


def staff_contacts(
    tenant: TenantInfo, email: str | UnsetType | None, phone: str | UnsetType | None
) -> dict[str, Any]:
    """Column values for a staff member's work email and phone (validated, encrypted like a
    customer's: CORE-10); a field left UNSET is not changed, ``None`` clears it."""
    from core.customers.service import cipher, field_context
    from core.phone import normalize_email, normalize_phone

    out: dict[str, Any] = {}
    c = cipher()
    if email is not UNSET:
        out["email_enc"] = (
            c.encrypt(normalize_email(email), context=field_context(tenant.id, "staff_email"))
            if email
            else None
        )
    if phone is not UNSET:
        out["phone_enc"] = (
            c.encrypt(
                normalize_phone(phone, tenant.phone_region),
                context=field_context(tenant.id, "staff_phone"),
            )
            if phone
            else None
        )
    return out


async def get_staff(tenant: TenantInfo, staff_id: UUID) -> dict[str, Any]:
    """A staff member's row without the password hash; :class:`NotFound` otherwise."""
    async with tenant_tx(tenant.id, write=False):
        row = await Staff.select(exclude_secrets=True).where(Staff.id == staff_id).first()
    if row is None:
        raise NotFound("staff member not found", field="id")
    return dict(row)


async def list_staff(
    tenant: TenantInfo,
    actor: Actor,
    *,
    store_id: UUID | None = None,
    first: int = 50,
    after: UUID | None = None,
) -> list[dict[str, Any]]:
    """Staff by id (``first + 1`` rows, keyset on id). A store-scoped caller sees the members
    of its stores (and chain-wide members, who work in every store)."""
    actor.require("staff:read")
    async with tenant_tx(tenant.id, write=False):
        query = Staff.select(exclude_secrets=True)
        if after is not None:
            query = query.where(Staff.id > after)
        rows = await query.order_by(Staff.id).limit(5000)

    def works_in(row: dict[str, Any], store: UUID) -> bool:
        stores = {UUID(str(s)) for s in json_value(row["store_ids"], [])}
        return not stores or store in stores

    out = []
    for row in rows:
        if store_id is not None and not works_in(row, store_id):
            continue
        if actor.store_ids and not any(works_in(row, s) for s in actor.store_ids):
            continue
        out.append(dict(row))
        if len(out) > first:
            break
    return out


async def _member(staff_id: UUID, actor: Actor) -> dict[str, Any]:
    row = await Staff.select().where(Staff.id == staff_id).first()
    if row is None or not _visible(dict(row), actor):
        raise NotFound("staff member not found", field="id")
    return dict(row)


def _visible(row: dict[str, Any], actor: Actor) -> bool:
    stores = {UUID(str(s)) for s in json_value(row["store_ids"], [])}
    return actor.store_ids is None or not stores or bool(stores & actor.store_ids)


async def _guard_owner(row: dict[str, Any], actor: Actor, new_role: str | None = None) -> None:
    """Only an owner changes an owner or makes one; the last active owner stays an owner."""
    touches_owner = row["role"] == "owner" or new_role == "owner"
    if touches_owner and not actor.can("*"):
        raise Forbidden("only an owner can change an owner or make one")
    if row["role"] == "owner" and new_role not in (None, "owner"):
        owners = await Staff.count().where(Staff.role == "owner", Staff.active.eq(True))
        if owners <= 1:
            raise ValidationFailed(
                "the tenant's last owner cannot lose the role", field="role", code="last_owner"
            )


async def update_staff(
    tenant: TenantInfo, actor: Actor, staff_id: UUID, patch: StaffPatch | dict[str, Any]
) -> dict[str, Any]:
    """Rename, change role or move between stores (audited; a new role or stores takes effect
    at once: earlier tokens are refused)."""
    actor.require("staff:write")
    data = convert(patch, StaffPatch)
    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        row = await _member(staff_id, actor)
        changes: dict[Any, Any] = {}
        if data.name is not UNSET:
            changes[Staff.name] = data.name
        for column, value in staff_contacts(tenant, data.email, data.phone).items():
            changes[getattr(Staff, column)] = value
        if data.role is not UNSET and data.role != row["role"]:
            await _guard_owner(row, actor, data.role)
            if not await Role.exists().where(Role.code == data.role):
                raise ValidationFailed("unknown role", field="role", code="unknown_role")
            changes[Staff.role] = data.role
        if data.store_ids is not UNSET:
            wanted = list(dict.fromkeys(data.store_ids))
            if wanted:
                found = await Store.count().where(Store.id.is_in(wanted), Store.closed_at.is_null())
                if found != len(wanted) or not all(actor.sees_store(s) for s in wanted):
                    raise ValidationFailed("unknown store", field="store_ids", code="unknown_store")
            elif actor.store_ids is not None:
                raise Forbidden("a store-scoped caller cannot make a member chain-wide")
            changes[Staff.store_ids] = json_text([str(s) for s in wanted])
        if Staff.role in changes or Staff.store_ids in changes:
            changes[Staff.credentials_changed_at] = now
        if changes:
            await Staff.update(changes).where(Staff.id == staff_id)
            await audit(
                actor,
                "staff.update",
                subject_type="staff",
                subject_id=staff_id,
                details={
                    "fields": sorted(c._meta.name for c in changes),
                    **({"role": changes[Staff.role]} if Staff.role in changes else {}),
                },
            )
        updated = await Staff.select(exclude_secrets=True).where(Staff.id == staff_id).first()
    assert updated is not None
    return dict(updated)


async def deactivate_staff(tenant: TenantInfo, actor: Actor, staff_id: UUID) -> dict[str, Any]:
    """Deactivate a staff member (audited): they cannot log in, and their tokens are refused at
    once. Their records stay."""
    actor.require("staff:write")
    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        row = await _member(staff_id, actor)
        if not row["active"]:
            raise ValidationFailed("already deactivated", field="id", code="inactive")
        await _guard_owner(row, actor, "none" if row["role"] == "owner" else None)
        await Staff.update({Staff.active: False, Staff.credentials_changed_at: now}).where(
            Staff.id == staff_id
        )
        await audit(actor, "staff.deactivate", subject_type="staff", subject_id=staff_id)
        updated = await Staff.select(exclude_secrets=True).where(Staff.id == staff_id).first()
    assert updated is not None
    return dict(updated)


async def change_password(
    tenant: TenantInfo,
    actor: Actor,
    staff_id: UUID,
    new_password: str,
    *,
    current_password: str | None = None,
) -> None:
    """Change a password (audited). Staff change their own with the current one; someone with
    ``staff:write`` resets another's. Earlier tokens are refused from then on."""
    from tenants.login_guard import check_password, hash_password

    if not 10 <= len(new_password) <= 256:
        raise ValidationFailed(
            "a password has 10 to 256 characters", field="newPassword", code="invalid"
        )
    own = actor.kind == "staff" and actor.id == str(staff_id)
    if not own:
        actor.require("staff:write")
    async with tenant_tx(tenant.id):
        row = await _member(staff_id, actor)
        if own and not await check_password(row["password_hash"], current_password or ""):
            raise ValidationFailed(
                "the current password is wrong", field="currentPassword", code="wrong_password"
            )
        if not own:
            await _guard_owner(row, actor)
        await Staff.update(
            {
                Staff.password_hash: await hash_password(new_password),
                Staff.credentials_changed_at: dt.datetime.now(dt.UTC),
            }
        ).where(Staff.id == staff_id)
        await audit(
            actor,
            "staff.password",
            subject_type="staff",
            subject_id=staff_id,
            details={"by": "self" if own else "reset"},
        )
