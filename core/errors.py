"""Typed, expected failures. The API turns them into 4xx responses or GraphQL ``errors``.

Messages never contain personal data (phones and emails are masked) and never reveal another
tenant's rows: a foreign ID raises exactly the same :class:`NotFound` as a missing one.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "Forbidden",
    "IdempotencyMismatch",
    "MendianError",
    "NotFound",
    "UnscopedQuery",
    "ValidationFailed",
]


class MendianError(Exception):
    """Base of expected failures: ``code`` is stable, ``field`` names the input at fault."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict[str, str | None]:
        return {"field": self.field, "code": self.code, "message": self.message}


class ValidationFailed(MendianError):
    """Input is malformed or violates a rule; nothing was written."""

    code = "invalid"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        errors: list[MendianError] | None = None,
    ):
        super().__init__(message, field=field, code=code)
        self.errors = errors or [self]


class NotFound(MendianError):
    code = "not_found"
    status = 404


class Conflict(MendianError):
    code = "conflict"
    status = 409


class IdempotencyMismatch(Conflict):
    """The same idempotency key was sent with a different payload."""

    code = "idempotency_mismatch"


class Forbidden(MendianError):
    code = "forbidden"
    status = 403


class UnscopedQuery(RuntimeError):
    """A tenant-owned table was queried outside a tenant transaction (a bug, never user input)."""
