"""Public tokens for links a customer keeps (a survey invitation, a complaint's tracking link):
``<tenant slug>.<43 url-safe characters>`` (256 random bits).

The slug lets an anonymous request find its tenant (:func:`core.find_tenant`) before it opens
the tenant's transaction, as API keys do (``mdn_<slug>_<secret>``); a table keeps only
:func:`hash_public_token` of the whole token, so a database dump holds no working link. The
slug is part of what is hashed: another tenant's secret under this tenant's slug finds
nothing, and a malformed, unknown or foreign token all answer the same ``not_found``.
"""

from __future__ import annotations

import hashlib
import re
import secrets

__all__ = ["PUBLIC_TOKEN", "hash_public_token", "new_public_token", "public_token_slug"]

PUBLIC_TOKEN = re.compile(r"^([a-z][a-z0-9-]{1,62})\.([A-Za-z0-9_-]{43})$")


def new_public_token(slug: str) -> str:
    """A fresh token for tenant ``slug``."""
    return f"{slug}.{secrets.token_urlsafe(32)}"


def public_token_slug(token: str) -> str | None:
    """The tenant slug a well-formed token names, or ``None``."""
    found = PUBLIC_TOKEN.match(token or "")
    return found.group(1) if found else None


def hash_public_token(token: str) -> str:
    """What a table stores and looks up: SHA-256 of the whole token, hex."""
    return hashlib.sha256(token.encode()).hexdigest()
