"""Core tables (piccolo). Schema changes go through migrations in ``core/piccolo_migrations``.

Conventions: UUID keys; every tenant-owned table mixes in :class:`core.db.TenantScoped`
(``tenant_id``, scoped queries); every unique constraint leads with ``tenant_id`` (Citus-ready);
money is integer minor units (``*_minor``), quantities integer thousandths (``qty_milli``):
exact on SQLite and PostgreSQL alike.
"""

from core.tables.activity import Interaction, RevisitPlan, Task
from core.tables.audit import AuditLog, EventOutbox
from core.tables.calendars import CalendarFestival, CalendarOverride, CalendarPlatformDay
from core.tables.customers import (
    ConsentRecord,
    Customer,
    CustomerStats,
    CustomerStoreStats,
    CustomerTag,
)
from core.tables.idempotency import IdempotencyRecord
from core.tables.kpis import KpiTarget
from core.tables.messaging import Message, MessageLog, MessageTemplate
from core.tables.modules import EventDelivery, PluginProblem, TenantModule, WebhookSubscription
from core.tables.org import ApiKey, Role, Staff, Store, Tenant
from core.tables.purchases import Purchase, PurchaseLine
from core.tables.segments import Segment

TABLES = (
    Tenant,
    Store,
    Role,
    Staff,
    ApiKey,
    Customer,
    CustomerTag,
    CustomerStats,
    CustomerStoreStats,
    ConsentRecord,
    Purchase,
    PurchaseLine,
    Interaction,
    Task,
    RevisitPlan,
    Segment,
    AuditLog,
    EventOutbox,
    TenantModule,
    PluginProblem,
    EventDelivery,
    WebhookSubscription,
    IdempotencyRecord,
    Message,
    MessageTemplate,
    MessageLog,
    CalendarOverride,
    CalendarFestival,
    CalendarPlatformDay,
    KpiTarget,
)

__all__ = [t.__name__ for t in TABLES] + ["TABLES"]
