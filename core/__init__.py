"""Mendian's kernel. This module is the plugin author's API: import from here (and, in tests,
from ``api.testing``'s fixtures), never from ``core``'s submodules — an import-linter contract
fails the suite when a plugin does — and your plugin keeps working as the core evolves.

What is here, by purpose (each name is documented where it is defined):

* **Plugin definition** — :class:`PluginManifest`, :func:`hookimpl`, :func:`hookspec` (to
  publish your own hooks), and the records hooks return: :class:`GraphQLContribution`,
  :class:`KpiDefinition`, :class:`MessageChannel`, :class:`MessageTemplateDefault`,
  :class:`ReportSection` (with :class:`ReportData`, :class:`ReportFigure`, :class:`ReportTable`,
  :class:`ReportChart`), :class:`ScheduledJob`, :class:`SegmentCondition`.
* **Who and where** — :class:`TenantInfo` (passed to every hook), :class:`Actor` (the caller,
  with ``require(permission)`` and ``sees_store(id)``).
* **Data** — :class:`TenantScoped` (mix into every tenant-owned table; :class:`PlatformTable`
  for a table every tenant shares, a Citus reference table), :func:`tenant_tx` (the tenant's
  transaction; RLS on PostgreSQL), :func:`fetch` / :func:`execute` / :func:`insert_rows`
  (plain SQL with ``{}`` placeholders inside it, only on your own tables), :func:`tenant_read`
  (one read statement in its own tenant transaction, straight on the pool: the hot path's
  shortcut, for a resolver's batch read),
  :func:`after_commit`, :func:`is_postgres`, :func:`is_unique_violation`, :func:`json_value`
  / :func:`json_text`, :func:`utc_value` (a read-back timestamp as aware UTC), :func:`claim` (idempotent creation on a client key), :func:`audit`.
* **Events** — :func:`emit` (a durable event in the transaction of the change; delivered to
  ``on_<name>`` hooks after commit, once per plugin); :func:`delivery_outstanding` (is an
  earlier event still on its way to you?).
* **Messaging** — :func:`enqueue_messages` with :class:`MessageRequest` and the ``channels``
  (:class:`ChannelSet`) your hook or job receives; consent, quiet hours and the shared cap apply;
  ``MessageRequest.headers`` carries extra e-mail headers to the ``email`` channel (RFC 8058's
  ``List-Unsubscribe`` / ``List-Unsubscribe-Post``; checked at enqueue, stored with the message,
  :attr:`OutboundMessage.headers` for a channel plugin);
  :func:`withdraw_consent` (CORE-9: the customer's own unsubscribe, audited);
  :func:`record_reply` (a channel gateway's signed reply: logged, "TD"/"退订" withdraws).
* **Customers** — :func:`find_customer_by_phone` and :func:`create_customer` (the core's own
  services, permission-checked: link a complaint's caller to a customer, or create one).
* **Tasks** (CORE-7) — :func:`create_tasks` with :class:`TaskRequest`: follow-up tasks a job
  creates (a revisit campaign's calls) inside your transaction, once per key.
* **Personal data outside the customer record** — :func:`seal_pii` / :func:`open_pii` (AES-GCM,
  bound to the tenant and field), :func:`pii_index` (a blind index), :func:`normalize_phone`,
  :func:`mask_phone`.
* **Core read services** — :func:`customer_facts`, :func:`active_customer`,
  :func:`purchase_facts`, :func:`purchase_totals` (sales per customer in a window),
  :func:`message_outcomes` (outbox status of messages you queued), :func:`store_facts`,
  :func:`store_timezones` (every store's effective timezone: the local days a job serves now),
  :func:`staff_facts`, :func:`staff_in_roles` (never SQL on the core's tables).
* **Calendars** (CORE-13) — :func:`business_calendar` / :func:`business_calendars` (a store's
  :class:`BusinessCalendar`: hours, holidays and 调休, overrides; ``add`` a duration of business
  time, ``elapsed``, ``next_open``, ``is_open``, ``add_workdays``), :func:`festival_calendar`,
  :func:`festivals_on`, :func:`festival_occurrences`, :func:`next_birthday` /
  :func:`is_birthday` (solar or lunar birthdays), :func:`to_lunar` / :func:`from_lunar`,
  :func:`solar_term_date`.
* **Segments** — :func:`segment_customer_ids_sql` (a saved segment) and
  :func:`filter_customer_ids_sql` (an ad-hoc filter), with the ``segment_fields`` a job receives;
  :func:`birthday_customer_ids_sql` (whose birthday, solar or lunar, is on a day),
  :func:`purchasers_sql` (who bought in a window: a thank-you campaign's audience);
  :func:`customer_zones_sql` (each customer's home store and its timezone, to join to an
  audience: greet a store's customers when the day begins in its zone, figures per store);
  :func:`uuid_expr` (a new random UUID in SQL, for set-based ``INSERT … SELECT``),
  :func:`seconds_between` (the seconds between two timestamps in SQL, for durations and
  medians computed in the database).
* **Public pages and anonymous operations** — :func:`find_tenant` (a tenant by slug, for a
  link or a form), :func:`throttle` / :class:`RateLimited` (per token, per client address),
  :class:`Pages` and :func:`pick_locale` (server-rendered, mobile-first pages on the core's
  layout, assets under ``/static/``; :data:`PAGE_HEADERS` for their responses), and what
  every page handler does: :func:`page_response` (HTML with those headers),
  :func:`cross_site` (refuse a form posted from elsewhere), :func:`client_address`,
  :func:`request_locale`; :func:`new_public_token` / :func:`public_token_slug` /
  :func:`hash_public_token` (``<slug>.<secret>`` links a customer keeps, stored hashed;
  :data:`PUBLIC_TOKEN` their pattern); :func:`store_by_code` (a form's store, by the code
  on its poster),
  :func:`sign_token` / :func:`read_token` (signed, expiring links that carry their own
  authorisation).
* **Exports** — :func:`table_file` (CSV with a BOM or XLSX), :func:`workbook` (several sheets),
  :func:`safe_cell` (formula-like cells neutralised), :data:`EXPORT_TYPES` (their media types).
* **Values** — :func:`to_minor` / :func:`from_minor` (exact money), :func:`instant` (an input
  time as aware UTC), :func:`convert` (untrusted data into a msgspec struct, with field errors).
* **Errors** — :class:`MendianError` and its kinds :class:`ValidationFailed`,
  :class:`NotFound`, :class:`Conflict`, :class:`IdempotencyMismatch`, :class:`Forbidden`.
* **GraphQL kit** — :mod:`core.graphql` (also re-exported here): :func:`context_of`,
  :func:`attempt`, :class:`UserError`, :func:`to_global_id` / :func:`from_global_id`,
  :func:`input_data`, :class:`Node`, :class:`Connection`, :func:`connection`,
  :func:`check_first`, :func:`decode_cursor`, and the core's types :class:`Customer`,
  :class:`Store`, :class:`Staff`, :class:`Purchase` with their ``loaders``.

What a hook needs is passed in: besides its spec's arguments, every tenant-scoped hook may
declare ``settings`` (the plugin's own validated settings) and ``channels``; scheduled jobs also
``segment_fields`` and ``now``; resolvers read ``await context_of(info).settings(plugin_id)``.
"""

from core.activity import TaskRequest, create_tasks
from core.auditing import audit
from core.calendars import (
    BusinessCalendar,
    FestivalCalendar,
    FestivalOccurrence,
    LunarDate,
    NeverOpen,
    business_calendar,
    business_calendars,
    festival_calendar,
    festival_occurrences,
    festivals_on,
    from_lunar,
    is_birthday,
    next_birthday,
    solar_term_date,
    to_lunar,
)
from core.consent import withdraw_consent
from core.context import Actor, TenantInfo
from core.customers.service import create_customer
from core.customers.service import find_by_phone as find_customer_by_phone
from core.db import (
    PlatformTable,
    TenantScoped,
    after_commit,
    execute,
    fetch,
    insert_rows,
    is_postgres,
    is_unique_violation,
    json_text,
    json_value,
    tenant_read,
    tenant_tx,
    utc_value,
)
from core.errors import (
    Conflict,
    Forbidden,
    IdempotencyMismatch,
    MendianError,
    NotFound,
    ValidationFailed,
)
from core.events import emit
from core.exports import EXPORT_TYPES, safe_cell, table_file, workbook
from core.graphql import (
    Connection,
    Customer,
    GraphQLContribution,
    Node,
    Purchase,
    Staff,
    Store,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    decode_cursor,
    encode_cursor,
    from_global_id,
    input_data,
    loaders,
    to_global_id,
)
from core.hookspecs import hookimpl, hookspec
from core.idempotency import claim
from core.links import read_token, sign_token
from core.lookups import (
    CustomerFacts,
    StaffFacts,
    StoreFacts,
    active_customer,
    customer_facts,
    find_tenant,
    message_outcomes,
    purchase_facts,
    purchase_totals,
    staff_facts,
    staff_in_roles,
    store_by_code,
    store_facts,
    store_timezones,
)
from core.messaging import ChannelSet, EnqueueResult, MessageRequest
from core.messaging import enqueue_many as enqueue_messages
from core.money import from_minor, to_minor
from core.pages import (
    PAGE_HEADERS,
    Pages,
    client_address,
    cross_site,
    page_response,
    pick_locale,
    request_locale,
)
from core.pii import mask_phone, normalize_phone, open_pii, pii_index, seal_pii
from core.plugins.delivery import delivery_outstanding
from core.plugins.manifest import PluginManifest
from core.replies import record_reply
from core.segments import (
    SegmentField,
    birthday_customer_ids_sql,
    customer_zones_sql,
    filter_customer_ids_sql,
    purchasers_sql,
    segment_customer_ids_sql,
)
from core.sql import seconds_between, uuid_expr
from core.throttle import RateLimited, throttle
from core.tokens import PUBLIC_TOKEN, hash_public_token, new_public_token, public_token_slug
from core.types import (
    DeliveryResult,
    DemoData,
    DemoSale,
    KpiDefinition,
    MessageChannel,
    MessageTemplateDefault,
    OutboundMessage,
    ReportChart,
    ReportData,
    ReportFigure,
    ReportSection,
    ReportTable,
    ScheduledJob,
    SegmentCondition,
)
from core.validation import convert, instant

__version__ = "0.1.0"

__all__ = [
    "EXPORT_TYPES",
    "PAGE_HEADERS",
    "PUBLIC_TOKEN",
    "Actor",
    "BusinessCalendar",
    "ChannelSet",
    "Conflict",
    "Connection",
    "Customer",
    "CustomerFacts",
    "DeliveryResult",
    "DemoData",
    "DemoSale",
    "EnqueueResult",
    "FestivalCalendar",
    "FestivalOccurrence",
    "Forbidden",
    "GraphQLContribution",
    "IdempotencyMismatch",
    "KpiDefinition",
    "LunarDate",
    "MendianError",
    "MessageChannel",
    "MessageRequest",
    "MessageTemplateDefault",
    "NeverOpen",
    "Node",
    "NotFound",
    "OutboundMessage",
    "Pages",
    "PlatformTable",
    "PluginManifest",
    "Purchase",
    "RateLimited",
    "ReportChart",
    "ReportData",
    "ReportFigure",
    "ReportSection",
    "ReportTable",
    "ScheduledJob",
    "SegmentCondition",
    "SegmentField",
    "Staff",
    "StaffFacts",
    "Store",
    "StoreFacts",
    "TaskRequest",
    "TenantInfo",
    "TenantScoped",
    "UserError",
    "ValidationFailed",
    "__version__",
    "active_customer",
    "after_commit",
    "attempt",
    "audit",
    "birthday_customer_ids_sql",
    "business_calendar",
    "business_calendars",
    "check_first",
    "claim",
    "client_address",
    "connection",
    "context_of",
    "convert",
    "create_customer",
    "create_tasks",
    "cross_site",
    "customer_facts",
    "customer_zones_sql",
    "decode_cursor",
    "delivery_outstanding",
    "emit",
    "encode_cursor",
    "enqueue_messages",
    "execute",
    "festival_calendar",
    "festival_occurrences",
    "festivals_on",
    "fetch",
    "filter_customer_ids_sql",
    "find_customer_by_phone",
    "find_tenant",
    "from_global_id",
    "from_lunar",
    "from_minor",
    "hash_public_token",
    "hookimpl",
    "hookspec",
    "input_data",
    "insert_rows",
    "instant",
    "is_birthday",
    "is_postgres",
    "is_unique_violation",
    "json_text",
    "json_value",
    "loaders",
    "mask_phone",
    "message_outcomes",
    "new_public_token",
    "next_birthday",
    "normalize_phone",
    "open_pii",
    "page_response",
    "pick_locale",
    "pii_index",
    "public_token_slug",
    "purchase_facts",
    "purchase_totals",
    "purchasers_sql",
    "read_token",
    "record_reply",
    "request_locale",
    "safe_cell",
    "seal_pii",
    "seconds_between",
    "segment_customer_ids_sql",
    "sign_token",
    "solar_term_date",
    "staff_facts",
    "staff_in_roles",
    "store_by_code",
    "store_facts",
    "store_timezones",
    "table_file",
    "tenant_read",
    "tenant_tx",
    "throttle",
    "to_global_id",
    "to_lunar",
    "to_minor",
    "utc_value",
    "uuid_expr",
    "withdraw_consent",
    "workbook",
]
