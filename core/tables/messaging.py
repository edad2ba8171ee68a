"""The messaging pipeline's outbox, templates and the log channel's sink (CORE-11)."""

from piccolo.columns import JSON, UUID, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import TenantScoped


class Message(TenantScoped, Table, tablename="message"):
    """An outbound message, persisted before it is sent.

    Status: ``queued`` → ``sending`` (leased to a worker until ``lease_until``) → ``sent`` or
    ``failed``; or ``suppressed`` (no consent, frequency cap) at enqueue. ``idempotency_key`` is
    unique per tenant and passed to the channel on every attempt.
    """

    id = UUID(primary_key=True)
    idempotency_key = Varchar(length=160)
    customer_id = UUID(null=True, default=None)
    staff_id = UUID(null=True, default=None)  # a notice to a staff member (always transactional)
    store_id = UUID(null=True, default=None)
    source = Varchar(length=64)
    purpose = Varchar(length=32)
    transactional = Boolean(default=False)
    channel = Varchar(length=32)
    template_key = Varchar(length=100, default="")
    locale = Varchar(length=16, default="zh-CN")
    subject = Text(default="")
    body = Text(default="")
    status = Varchar(length=16, default="queued")
    reason = Varchar(length=64, default="")
    attempts = Integer(default=0)
    not_before = Timestamptz(default=TimestamptzNow())
    lease_until = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    provider_ref = Varchar(length=200, default="")
    last_error = Text(default="")
    headers = Text(default="")  # extra e-mail headers, JSON (``MessageRequest.headers``)
    created_at = Timestamptz(default=TimestamptzNow())


class MessageTemplate(TenantScoped, Table, tablename="message_template"):
    """A tenant's template for a key and locale (jinja2, rendered in a sandbox)."""

    id = UUID(primary_key=True)
    key = Varchar(length=100)
    locale = Varchar(length=16)
    subject = Text(default="")
    body = Text()
    updated_at = Timestamptz(default=TimestamptzNow())


class MessageLog(TenantScoped, Table, tablename="message_log"):
    """What the ``log`` channel "sent": one row per idempotency key (a redelivery is a no-op)."""

    id = UUID(primary_key=True)
    idempotency_key = Varchar(length=160)
    message_id = UUID()
    to_masked = Varchar(length=64, default="")
    subject = Text(default="")
    body = Text(default="")
    metadata = JSON(default="{}")
    at = Timestamptz(default=TimestamptzNow())
