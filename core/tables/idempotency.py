"""Idempotency records: which request (scope + client key) created which record."""

from piccolo.columns import UUID, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import TenantScoped


class IdempotencyRecord(TenantScoped, Table, tablename="idempotency_record"):
    """One per (tenant, scope, key): the request's hash and the id of what it created."""

    id = UUID(primary_key=True)
    scope = Varchar(length=64)
    key = Varchar(length=128)
    request_hash = Varchar(length=64)
    result_id = UUID()
    created_at = Timestamptz(default=TimestamptzNow())
