"""Customer records (CORE-5): create, update, look up, search, merge.

Every function opens (or joins) the caller's tenant transaction; foreign IDs raise the same
:class:`NotFound` as missing ones. Phones are normalised to E.164 with the tenant's region,
encrypted, and found through their blind index.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import msgspec
from piccolo.columns.combination import WhereRaw

from core.auditing import audit
from core.config import get_settings
from core.context import Actor, TenantInfo
from core.crypto import FieldCipher, cipher_for, mask_email, mask_phone
from core.customers.schemas import CustomerFilter, CustomerInput, CustomerPatch, CustomerView
from core.db import is_unique_violation, json_text, json_value, tenant_read, tenant_tx
from core.errors import Conflict, NotFound, ValidationFailed
from core.events import emit
from core.idempotency import claim
from core.phone import normalize_email, normalize_phone
from core.plugins.hooks import validate_hook
from core.tables import Customer, CustomerStats, CustomerTag, Staff, Store
from core.validation import check_birthday, convert

if TYPE_CHECKING:
    from collections.abc import Mapping

    from core.plugins.runtime import PluginRuntime
    from core.segments import SegmentField

__all__ = [
    "cipher",
    "create_customer",
    "find_by_phone",
    "get_customer",
    "load_customer_row",
    "search_customers",
    "to_view",
    "update_customer",
]

MAX_ATTRIBUTES_BYTES = 8192
MAX_PAGE = 100


def cipher() -> FieldCipher:
    return cipher_for(get_settings().secret_keys)


def field_context(tenant_id: UUID, field: str) -> bytes:
    return tenant_id.bytes + field.encode()


def to_view(row: dict[str, Any], *, unmask: bool = False) -> CustomerView:
    """Build the view of a ``customer`` row, decrypting phone and email."""
    c = cipher()
    tenant_id = row["tenant_id"]
    phone = (
        c.decrypt(row["phone_enc"], context=field_context(tenant_id, "phone"))
        if row["phone_enc"]
        else None
    )
    email = (
        c.decrypt(row["email_enc"], context=field_context(tenant_id, "email"))
        if row["email_enc"]
        else None
    )
    return CustomerView(
        id=row["id"],
        name=row["name"],
        phone=phone if unmask or phone is None else mask_phone(phone),
        email=email if unmask or email is None else mask_email(email),
        gender=row["gender"],
        birthday=row["birthday"],
        birthday_calendar=row["birthday_calendar"],
        company=row["company"],
        position=row["position"],
        address=row["address"],
        tags=list(json_value(row["tags"], [])),
        notes=row["notes"],
        attributes=dict(json_value(row["attributes"], {})),
        source=row["source"],
        card_no=row["card_no"],
        home_store_id=row["home_store_id"],
        assigned_staff_id=row["assigned_staff_id"],
        status=row["status"],
        merged_into_id=row["merged_into_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _check_refs(home_store_id: UUID | None, staff_id: UUID | None) -> None:
    if home_store_id is not None and not await Store.exists().where(Store.id == home_store_id):
        raise ValidationFailed("unknown store", field="home_store_id", code="unknown_store")
    if staff_id is not None and not await Staff.exists().where(Staff.id == staff_id):
        raise ValidationFailed(
            "unknown staff member", field="assigned_staff_id", code="unknown_staff"
        )


def _check_attributes(attributes: dict[str, Any]) -> str:
    encoded = json_text(attributes)
    if len(encoded) > MAX_ATTRIBUTES_BYTES:
        raise ValidationFailed(
            f"custom attributes exceed {MAX_ATTRIBUTES_BYTES} bytes",
            field="attributes",
            code="too_large",
        )
    return encoded


def _contact_columns(tenant: TenantInfo, phone: str | None, email: str | None) -> dict[str, Any]:
    """Encrypted values and blind indexes for the given (already normalised) contacts."""
    c = cipher()
    return {
        "phone_enc": c.encrypt(phone, context=field_context(tenant.id, "phone")) if phone else None,
        "phone_hash": c.blind_index(tenant.id, phone) if phone else None,
        "email_enc": c.encrypt(email, context=field_context(tenant.id, "email")) if email else None,
        "email_hash": c.blind_index(tenant.id, email) if email else None,
    }


def _check_birthday(birthday: dt.date | None, calendar: str) -> None:
    """A lunar birthday needs a date the lunar calendar covers."""
    if birthday is None or calendar != "lunar":
        return
    from core.calendars import to_lunar

    try:
        to_lunar(birthday)
    except ValidationFailed:
        raise ValidationFailed(
            "birthday is outside the lunar calendar's range", field="birthday", code="out_of_range"
        ) from None


async def _set_tags(customer_id: UUID, tags: list[str]) -> None:
    await CustomerTag.delete().where(CustomerTag.customer_id == customer_id)
    unique = list(dict.fromkeys(tags))
    if unique:
        await CustomerTag.insert(*(CustomerTag(customer_id=customer_id, tag=t) for t in unique))


async def _ensure_unique_contacts(
    tenant: TenantInfo, phone: str | None, email: str | None, *, exclude: UUID | None = None
) -> None:
    c = cipher()
    checks = [("phone", phone, Customer.phone_hash), ("email", email, Customer.email_hash)]
    for field, value, column in checks:
        if value is None:
            continue
        query = Customer.exists().where(column.is_in(c.blind_indexes(tenant.id, value)))
        if exclude is not None:
            query = query.where(Customer.id != exclude)
        if await query:
            raise Conflict(
                f"a customer with this {field} already exists", field=field, code="duplicate"
            )


async def create_customer(
    tenant: TenantInfo,
    actor: Actor,
    data: CustomerInput | dict[str, Any],
    *,
    idempotency_key: str | None = None,
    runtime: PluginRuntime | None = None,
) -> CustomerView:
    """Create a customer; duplicate phone/email/card in the tenant is a :class:`Conflict`; a
    retry with the same idempotency key answers the customer it created. ``runtime``: the
    loaded plugins, whose ``customer_validate`` may veto."""
    actor.require("customers:write")
    payload = convert(data, CustomerInput)
    check_birthday(payload.birthday)
    phone = normalize_phone(payload.phone, tenant.phone_region) if payload.phone else None
    email = normalize_email(payload.email) if payload.email else None
    attributes = _check_attributes(payload.attributes)
    _check_birthday(payload.birthday, payload.birthday_calendar)
    await validate_hook(
        runtime, tenant, "customer_validate", actor=actor, customer=msgspec.to_builtins(payload)
    )
    customer_id = uuid4()
    async with tenant_tx(tenant.id):
        earlier = await claim(
            "customer", idempotency_key, msgspec.to_builtins(payload), customer_id
        )
        if earlier is not None:
            return await _view(earlier)
        await _check_refs(payload.home_store_id, payload.assigned_staff_id)
        await _ensure_unique_contacts(tenant, phone, email)
        now = dt.datetime.now(dt.UTC)
        row = Customer(
            id=customer_id,
            name=payload.name.strip(),
            gender=payload.gender,
            birthday=payload.birthday,
            birthday_calendar=payload.birthday_calendar,
            company=payload.company,
            position=payload.position,
            address=payload.address,
            tags=json_text(list(dict.fromkeys(payload.tags))),
            notes=payload.notes,
            attributes=attributes,
            source=payload.source,
            card_no=payload.card_no,
            home_store_id=payload.home_store_id,
            assigned_staff_id=payload.assigned_staff_id,
            created_by_staff_id=actor.staff_id,
            created_at=now,
            updated_at=now,
            **_contact_columns(tenant, phone, email),
        )
        try:
            await Customer.insert(row)
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(
                    "a customer with this phone, email or card already exists", code="duplicate"
                ) from None
            raise
        await _set_tags(customer_id, payload.tags)
        await CustomerStats.insert(CustomerStats(customer_id=customer_id))
        await emit(
            "customer.created",
            customer_id,
            {"customer_id": str(customer_id), "source": payload.source},
        )
        return await _view(customer_id)


async def load_customer_row(customer_id: UUID, *, active_only: bool = True) -> dict[str, Any]:
    """The row of a customer of the current tenant; :class:`NotFound` otherwise."""
    query = Customer.select().where(Customer.id == customer_id)
    if active_only:
        query = query.where(Customer.status == "active")
    row = await query.first()
    if row is None:
        raise NotFound("customer not found", field="id")
    return dict(row)


async def _view(customer_id: UUID, *, unmask: bool = False) -> CustomerView:
    return to_view(await load_customer_row(customer_id, active_only=False), unmask=unmask)


async def get_customer(
    tenant: TenantInfo, actor: Actor, customer_id: UUID, *, unmask: bool = False
) -> CustomerView:
    """One customer. Unmasked phone/email need ``customers:read_pii`` and are audited."""
    actor.require("customers:read")
    if unmask:
        actor.require("customers:read_pii")
    async with tenant_tx(tenant.id, write=unmask):
        view = to_view(await load_customer_row(customer_id, active_only=False), unmask=unmask)
        if unmask:
            await audit(actor, "customer.read_pii", subject_type="customer", subject_id=customer_id)
        return view


async def find_by_phone(tenant: TenantInfo, actor: Actor, phone: str) -> CustomerView | None:
    """The cashier's path: exact phone match through the blind index."""
    actor.require("customers:read")
    e164 = normalize_phone(phone, tenant.phone_region)
    hashes = cipher().blind_indexes(tenant.id, e164)
    # The cashier's hot path: one statement, without the ORM (it cost more than the query).
    rows = await tenant_read(
        tenant.id,
        "SELECT * FROM customer WHERE tenant_id = {} AND status = 'active' AND phone_hash IN ("
        + ", ".join("{}" for _ in hashes)
        + ") LIMIT 1",
        tenant.id,
        *hashes,
    )
    return to_view(rows[0]) if rows else None


async def update_customer(
    tenant: TenantInfo,
    actor: Actor,
    customer_id: UUID,
    patch: CustomerPatch | dict[str, Any],
    *,
    runtime: PluginRuntime | None = None,
) -> CustomerView:
    """Change the fields given (``null`` clears an optional one). ``runtime``: the loaded
    plugins, whose ``customer_validate`` sees the changed fields (and ``id``) and may veto."""
    actor.require("customers:write")
    data = convert(patch, CustomerPatch)
    if isinstance(data.birthday, dt.date):
        check_birthday(data.birthday)
    changes: dict[str, Any] = {}
    fields = {
        f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not msgspec.UNSET
    }
    await validate_hook(
        runtime,
        tenant,
        "customer_validate",
        actor=actor,
        customer={"id": str(customer_id), **msgspec.to_builtins(fields)},
    )
    async with tenant_tx(tenant.id):
        row = await load_customer_row(customer_id)
        if "birthday" in fields or "birthday_calendar" in fields:
            _check_birthday(
                fields.get("birthday", row["birthday"]),
                fields.get("birthday_calendar", row["birthday_calendar"]),
            )
        if "phone" in fields or "email" in fields:
            c = cipher()
            current_phone = (
                c.decrypt(row["phone_enc"], context=field_context(tenant.id, "phone"))
                if row["phone_enc"]
                else None
            )
            current_email = (
                c.decrypt(row["email_enc"], context=field_context(tenant.id, "email"))
                if row["email_enc"]
                else None
            )
            phone = current_phone
            email = current_email
            if "phone" in fields:
                raw = fields.pop("phone")
                phone = normalize_phone(raw, tenant.phone_region) if raw else None
            if "email" in fields:
                raw = fields.pop("email")
                email = normalize_email(raw) if raw else None
            await _ensure_unique_contacts(
                tenant,
                phone if phone != current_phone else None,
                email if email != current_email else None,
                exclude=customer_id,
            )
            changes.update(_contact_columns(tenant, phone, email))
        await _check_refs(fields.get("home_store_id"), fields.get("assigned_staff_id"))
        if "attributes" in fields:
            fields["attributes"] = _check_attributes(fields["attributes"])
        if "tags" in fields:
            tags = list(dict.fromkeys(fields["tags"]))
            await _set_tags(customer_id, tags)
            fields["tags"] = json_text(tags)
        if "name" in fields:
            fields["name"] = fields["name"].strip()
        changes.update(fields)
        changes["updated_at"] = dt.datetime.now(dt.UTC)
        try:
            await Customer.update({getattr(Customer, k): v for k, v in changes.items()}).where(
                Customer.id == customer_id
            )
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(
                    "a customer with this card number already exists",
                    field="card_no",
                    code="duplicate",
                ) from None
            raise
        await emit(
            "customer.updated",
            customer_id,
            {"customer_id": str(customer_id), "fields": sorted(k for k in fields)},
        )
        return await _view(customer_id)


async def search_customers(
    tenant: TenantInfo,
    actor: Actor,
    flt: CustomerFilter | dict[str, Any] | None = None,
    *,
    first: int = 50,
    after: UUID | None = None,
    peek: bool = False,
    segment_fields: Mapping[str, SegmentField] | None = None,
) -> list[CustomerView]:
    """Active customers matching every given criterion, ordered by id (keyset pagination).
    ``peek``: return one more row than ``first`` when there is one (so callers know a next
    page exists). ``segment_fields``: what the tenant's segments may use (for ``segment_id``)."""
    from core.segments import CORE_FIELDS, segment_customer_ids_sql

    actor.require("customers:read")
    f = convert(flt or {}, CustomerFilter)
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed(
            f"first must be between 1 and {MAX_PAGE}", field="first", code="invalid"
        )
    async with tenant_tx(tenant.id, write=False):
        query = Customer.select().where(Customer.status == "active")
        if f.phone:
            e164 = normalize_phone(f.phone, tenant.phone_region)
            query = query.where(Customer.phone_hash.is_in(cipher().blind_indexes(tenant.id, e164)))
        if f.name_prefix:
            # A range, not LIKE: portable, index-friendly and free of wildcard escaping.
            query = query.where(
                Customer.name >= f.name_prefix, Customer.name < f.name_prefix + "\U0010ffff"
            )
        if f.card_no:
            query = query.where(Customer.card_no == f.card_no)
        if f.home_store_id:
            query = query.where(Customer.home_store_id == f.home_store_id)
        # Sub-selects, not id lists: a value class or a segment may hold most of a million
        # customers (and an id list would exceed the driver's 32,767 arguments).
        if f.tag:
            query = query.where(
                WhereRaw(
                    "id IN (SELECT customer_id FROM customer_tag WHERE tenant_id = {} "
                    "AND tag = {})",
                    tenant.id,
                    f.tag,
                )
            )
        if f.value_class:
            query = query.where(
                WhereRaw(
                    "id IN (SELECT customer_id FROM customer_stats WHERE tenant_id = {} "
                    "AND value_class = {})",
                    tenant.id,
                    f.value_class,
                )
            )
        if f.segment_id:
            sql, args = await segment_customer_ids_sql(
                tenant, f.segment_id, segment_fields or CORE_FIELDS
            )
            query = query.where(WhereRaw(f"id IN ({sql})", *args))
        if after is not None:
            query = query.where(Customer.id > after)
        rows = await query.order_by(Customer.id).limit(first + 1 if peek else first)
        return [to_view(dict(r)) for r in rows]
