"""Plugin enablement per tenant, plugin problems and per-plugin event delivery (PLUG-1/4/5, CORE-15)."""

from piccolo.columns import JSON, UUID, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import TenantScoped


class TenantModule(TenantScoped, Table, tablename="tenant_module"):
    """A plugin's state for one tenant: enabled, settings, store restriction, suspension."""

    id = UUID(primary_key=True)
    plugin_id = Varchar(length=64)
    enabled = Boolean(default=False)
    settings = JSON(default="{}")
    store_ids = JSON(null=True, default=None)  # null: every store
    failure_count = Integer(default=0)
    suspended_until = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class PluginProblem(TenantScoped, Table, tablename="plugin_problem"):
    """A failure of a plugin's hook for a tenant (error or timeout), kept for operators."""

    id = UUID(primary_key=True)
    plugin_id = Varchar(length=64)
    hook = Varchar(length=64)
    kind = Varchar(length=16)
    message = Text()
    event_id = UUID(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())


class EventDelivery(TenantScoped, Table, tablename="event_delivery"):
    """One plugin's handling of one event. ``done`` is written in the plugin's own transaction,
    so a handled event is never handled again; failures retry with backoff."""

    id = UUID(primary_key=True)
    event_id = UUID()
    plugin_id = Varchar(length=64)
    status = Varchar(length=8, default="pending")  # pending | done
    attempts = Integer(default=0)
    last_error = Text(default="")
    next_attempt_at = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)


class WebhookSubscription(TenantScoped, Table, tablename="webhook_subscription"):
    """A tenant endpoint receiving events, signed with HMAC-SHA256 of the body."""

    id = UUID(primary_key=True)
    url = Varchar(length=500)
    secret = Varchar(length=128, secret=True)
    events = JSON(default="[]")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
