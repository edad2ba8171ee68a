"""Field encryption (AES-GCM) with a keyed HMAC blind index (CORE-10).

Ciphertext layout: ``v1.<key id>.<base64url(nonce || ciphertext || tag)>``. The key id names the
secret that encrypted the value, so rotation is: put the new secret in ``MENDIAN_SECRET_KEY``,
move the old one to ``MENDIAN_OLD_SECRET_KEYS``, run ``mendian rekey``. Blind indexes are
HMAC-SHA256 over ``tenant_id || value`` so that the same phone in two tenants indexes
differently (no cross-tenant correlation from a dump).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence
from functools import lru_cache
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["FieldCipher", "derive_key", "mask_email", "mask_phone"]


def derive_key(secret: str, purpose: bytes) -> bytes:
    """A 32-byte key for ``purpose`` derived from a secret (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"mendian", info=purpose).derive(
        secret.encode()
    )


class DecryptionError(ValueError):
    """A ciphertext could not be decrypted with any configured key."""


class FieldCipher:
    """Encrypts personal fields and computes their blind indexes."""

    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is required")
        self._enc: dict[str, AESGCM] = {}
        self._index_keys: list[bytes] = []
        self._current = ""
        for position, secret in enumerate(secret_keys):
            key = derive_key(secret, b"field-encryption")
            key_id = hashlib.sha256(key).hexdigest()[:8]
            self._enc[key_id] = AESGCM(key)
            self._index_keys.append(derive_key(secret, b"blind-index"))
            if position == 0:
                self._current = key_id

    def encrypt(self, plaintext: str, *, context: bytes = b"") -> str:
        nonce = os.urandom(12)
        sealed = self._enc[self._current].encrypt(nonce, plaintext.encode(), context)
        return f"v1.{self._current}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: bytes = b"") -> str:
        try:
            version, key_id, payload = token.split(".", 2)
            aead = self._enc[key_id]
            raw = base64.urlsafe_b64decode(payload)
            if version != "v1":
                raise DecryptionError("unknown ciphertext version")
            return aead.decrypt(raw[:12], raw[12:], context).decode()
        except (KeyError, ValueError, InvalidTag) as exc:
            raise DecryptionError("cannot decrypt field (unknown key or tampered value)") from exc

    def needs_rekey(self, token: str) -> bool:
        return token.split(".", 2)[1] != self._current

    def blind_index(self, tenant_id: UUID, value: str) -> str:
        """Index under the current key (what new rows store)."""
        return self._hmac(self._index_keys[0], tenant_id, value)

    def blind_indexes(self, tenant_id: UUID, value: str) -> list[str]:
        """Indexes under every key, to find rows written before a rotation was re-keyed."""
        return [self._hmac(k, tenant_id, value) for k in self._index_keys]

    @staticmethod
    def _hmac(key: bytes, tenant_id: UUID, value: str) -> str:
        return hmac.new(key, tenant_id.bytes + value.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def cipher_for(secret_keys: tuple[str, ...]) -> FieldCipher:
    return FieldCipher(secret_keys)


def mask_phone(phone: str | None) -> str:
    """``+8613912347777`` → ``139****7777`` (national digits, middle masked)."""
    if not phone:
        return ""
    digits = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
    if len(digits) <= 7:
        return digits[:2] + "*" * max(len(digits) - 4, 1) + digits[-2:]
    return digits[:3] + "****" + digits[-4:]


def mask_email(email: str | None) -> str:
    """``wang.fang@example.com`` → ``w***@example.com``."""
    if not email or "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
