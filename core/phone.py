"""Phone and email normalisation (E.164 with the tenant's region)."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from core.errors import ValidationFailed

__all__ = ["normalize_email", "normalize_phone"]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$")


def normalize_phone(raw: str, region: str, *, field: str = "phone") -> str:
    """Return E.164 (``+8613912347777``) or raise :class:`ValidationFailed`."""
    text = raw.strip()
    if 0 < len(text) <= 32:
        found = _normalized(text, region)
        if found:
            return found
    return _normalize(text, region, field)


@lru_cache(maxsize=32_768)  # as core.cache.TENANT_ENTRIES: a regular's number stays parsed
def _normalized(text: str, region: str) -> str | None:
    """Cached: parsing with phonenumbers is the costliest step of the cashier's look-up."""
    try:
        return _normalize(text, region, "phone")
    except ValidationFailed:
        return None


def _normalize(text: str, region: str, field: str) -> str:
    if not text or len(text) > 32:
        raise ValidationFailed(
            "phone number is empty or too long", field=field, code="invalid_phone"
        )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationFailed("not a phone number", field=field, code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(
            f"not a valid phone number for region {region}", field=field, code="invalid_phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str, *, field: str = "email") -> str:
    text = raw.strip().lower()
    if not _EMAIL.match(text):
        raise ValidationFailed("not an email address", field=field, code="invalid_email")
    return text
