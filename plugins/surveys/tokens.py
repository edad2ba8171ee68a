"""Survey link tokens: ``<tenant slug>.<43 url-safe characters>`` (256 random bits).

The slug lets an anonymous request find its tenant (``find_tenant``) before it opens the
tenant's transaction, as API keys do (``mdn_<slug>_<secret>``); the table keeps only the
SHA-256 of the whole token, so a database dump holds no working invitation link. A token of
another tenant, a malformed one, an expired one and one that never existed all answer the
same ``not_found``.
"""

from __future__ import annotations

import hashlib
import re
import secrets

__all__ = ["TOKEN", "hash_token", "new_token", "slug_of"]

TOKEN = re.compile(r"^([a-z][a-z0-9-]{1,62})\.([A-Za-z0-9_-]{43})$")


def new_token(slug: str) -> str:
    """A fresh token for tenant ``slug``."""
    return f"{slug}.{secrets.token_urlsafe(32)}"


def slug_of(token: str) -> str | None:
    """The tenant slug a well-formed token names, or ``None``."""
    found = TOKEN.match(token or "")
    return found.group(1) if found else None


def hash_token(token: str) -> str:
    """What the table stores and looks up: SHA-256 of the whole token, hex."""
    return hashlib.sha256(token.encode()).hexdigest()
