"""Signed, expiring links (a report e-mailed to a manager, an export): the link carries its
own authorisation, so a recipient opens it without logging in.

A token is ``base64url(JSON payload).base64url(HMAC-SHA256)``, keyed per purpose from
``MENDIAN_SECRET_KEY`` (a token for one purpose is worthless for another) and carrying its
expiry. Keep payloads small and free of personal data: tokens end up in mail logs.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
from functools import lru_cache
from hashlib import sha256
from typing import Any

import msgspec

from core.config import get_settings
from core.crypto import derive_key
from core.errors import NotFound

__all__ = ["read_token", "sign_token"]


@lru_cache(maxsize=32)
def _key(secret: str, purpose: str) -> bytes:
    return derive_key(secret, b"link:" + purpose.encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(purpose: str, payload: dict[str, Any], *, expires: dt.datetime) -> str:
    """A token for ``payload`` (JSON-able), valid until ``expires`` (aware)."""
    body = _b64(msgspec.json.encode({**payload, "exp": int(expires.timestamp())}))
    mac = hmac.new(_key(get_settings().secret_key, purpose), body.encode(), sha256).digest()
    return f"{body}.{_b64(mac)}"


def read_token(purpose: str, token: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The payload of a valid, unexpired token for ``purpose``; anything else (tampered,
    expired, another purpose's, malformed) is the same :class:`NotFound`."""
    invalid = NotFound("this link is not valid or has expired", field="token")
    body, _, mac = token.partition(".")
    if not body or not mac or len(token) > 2048:
        raise invalid
    expected = hmac.new(_key(get_settings().secret_key, purpose), body.encode(), sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise invalid
        payload = msgspec.json.decode(_unb64(body))
    except (ValueError, msgspec.DecodeError):
        raise invalid from None
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise invalid
    if payload["exp"] < (now or dt.datetime.now(dt.UTC)).timestamp():
        raise invalid
    return payload
