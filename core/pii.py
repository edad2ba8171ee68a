"""Personal data a plugin keeps outside the core's customer record (CORE-10): a complaint's
contact before the customer is known, say. Sealed with the same AES-GCM field cipher as the
customer's phone and email, bound to the tenant and the field (a value copied to another tenant
or another column does not decrypt), with a blind index to find it again by exact value."""

from __future__ import annotations

from uuid import UUID

from core.config import get_settings
from core.context import TenantInfo
from core.crypto import cipher_for, mask_email, mask_phone
from core.phone import normalize_email, normalize_phone

__all__ = [
    "mask_email",
    "mask_phone",
    "normalize_email",
    "normalize_phone",
    "open_pii",
    "pii_index",
    "seal_pii",
]


def _context(tenant_id: UUID, field: str) -> bytes:
    return tenant_id.bytes + b"plugin:" + field.encode()


def seal_pii(tenant: TenantInfo, field: str, value: str) -> str:
    """``value`` encrypted for ``tenant`` and ``field`` (``''`` stays ``''``)."""
    if not value:
        return ""
    return cipher_for(get_settings().secret_keys).encrypt(value, context=_context(tenant.id, field))


def open_pii(tenant: TenantInfo, field: str, sealed: str) -> str:
    """The plaintext of :func:`seal_pii`'s result for the same tenant and field."""
    if not sealed:
        return ""
    return cipher_for(get_settings().secret_keys).decrypt(
        sealed, context=_context(tenant.id, field)
    )


def pii_index(tenant: TenantInfo, value: str) -> str:
    """A keyed blind index of ``value`` in ``tenant`` (equal values, equal indexes; no value
    can be read back, and the same value indexes differently in another tenant)."""
    return cipher_for(get_settings().secret_keys).blind_index(tenant.id, value) if value else ""
