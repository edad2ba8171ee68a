"""Audit log (CORE-12) and the event outbox (CORE-15). Both are append-only."""

from piccolo.columns import JSON, UUID, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import TenantScoped


class AuditLog(TenantScoped, Table, tablename="audit_log"):
    """Who did what to which subject, when, in which request. The app role may only insert."""

    id = UUID(primary_key=True)
    actor_type = Varchar(length=16)
    actor_id = Varchar(length=64, default="")
    action = Varchar(length=64)
    subject_type = Varchar(length=32, default="")
    subject_id = Varchar(length=64, default="")
    request_id = Varchar(length=64, default="")
    details = JSON(default="{}")
    at = Timestamptz(default=TimestamptzNow())


class EventOutbox(TenantScoped, Table, tablename="event_outbox"):
    """A domain event written in the transaction of the change, delivered after commit."""

    id = UUID(primary_key=True)
    name = Varchar(length=64)
    subject_id = Varchar(length=64, default="")
    payload = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    dispatched_at = Timestamptz(null=True, default=None)
    note = Text(default="")
