"""Typed, expected failures. The API turns them into 4xx responses or GraphQL ``errors``.

Messages never contain personal data (phones and emails are masked) and never reveal another
tenant's rows: a foreign ID raises exactly the same :class:`NotFound` as a missing one.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "DatabaseUnavailable",
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


class DatabaseUnavailable(MendianError):
    """The database could not be reached, or the connection was lost mid-request (HTTP 503 with
    ``Retry-After``). ``replayable``: the connection was lost while committing, so the change
    may or may not be saved — the client retries with the same idempotency key, and an
    idempotent operation then answers with what was saved or saves it now, once. Otherwise
    nothing was saved."""

    code = "database_unavailable"
    status = 503
    retry_after = 1  # seconds: a lost connection is replaced on the next request

    def __init__(self, message: str, *, replayable: bool = False) -> None:
        super().__init__(message)
        self.replayable = replayable


class UnscopedQuery(RuntimeError):
    """A tenant-owned table was queried outside a tenant transaction (a bug, never user input)."""
