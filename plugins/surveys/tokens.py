"""Survey link tokens: the core's public tokens (:func:`core.new_public_token`), ``<tenant
slug>.<43 url-safe characters>``, of which the table keeps only the SHA-256. A token of another
tenant, a malformed one, an expired one and one that never existed all answer the same
``not_found``.
"""

from __future__ import annotations

from core import PUBLIC_TOKEN as TOKEN
from core import hash_public_token as hash_token
from core import new_public_token as new_token
from core import public_token_slug as slug_of

__all__ = ["TOKEN", "hash_token", "new_token", "slug_of"]
