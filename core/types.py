"""Small frozen records that hooks return (conda-style): typed, comparable, named."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from core.context import TenantInfo

__all__ = [
    "DeliveryResult",
    "DemoData",
    "DemoSale",
    "KpiDefinition",
    "MessageChannel",
    "MessageTemplateDefault",
    "OutboundMessage",
    "ReportChart",
    "ReportData",
    "ReportFigure",
    "ReportSection",
    "ReportTable",
    "ScheduledJob",
    "SegmentCondition",
]


@dataclass(frozen=True)
class OutboundMessage:
    """What a channel is asked to send. ``idempotency_key`` is stable across retries;
    ``headers`` are the module's extra e-mail headers (``List-Unsubscribe`` …), checked at
    enqueue — an e-mail channel sets them, others may ignore them."""

    tenant_id: UUID
    message_id: UUID
    idempotency_key: str
    channel: str
    to: str
    subject: str
    body: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    provider_ref: str = ""
    error: str = ""
    permanent: bool = False  # True: do not retry (bad address, rejected content)


@dataclass(frozen=True)
class MessageChannel:
    """A way to reach customers (``register_message_channels``).

    ``address`` names the customer field the channel needs (``phone`` or ``email``) or ``none``
    (the channel addresses the tenant's endpoint). ``consent_channel`` says which consent applies
    (a WeChat gateway counts as ``wechat``, an SMS provider as ``sms``).
    """

    name: str
    address: str
    send: Callable[[OutboundMessage], Awaitable[DeliveryResult]]
    description: str = ""
    consent_channel: str = "any"  # the consent channel it counts as: sms, email, wechat, phone, app
    # Optional: send many at once (providers with batch APIs); results in the same order.
    send_batch: Callable[[list[OutboundMessage]], Awaitable[list[DeliveryResult]]] | None = None


@dataclass(frozen=True)
class MessageTemplateDefault:
    """A default message template a plugin ships (``register_message_templates``), per key and
    locale; tenants override it with their own. ``subject`` and ``body`` are jinja2 sandboxed
    templates (variables: ``name``, ``tenant`` and the request's ``context``)."""

    key: str
    locale: str
    subject: str
    body: str


@dataclass(frozen=True)
class ScheduledJob:
    """A periodic job, run once per tenant that has the plugin enabled, at ``cron`` (UTC).

    ``run(tenant, **offered)`` receives the tenant and, if it declares them, ``settings``
    (the plugin's validated settings for that tenant), ``channels`` (the tenant's message
    channels and templates) and ``now``.
    """

    name: str
    cron: str
    run: Callable[..., Awaitable[None]]
    description: str = ""


@dataclass(frozen=True)
class SegmentCondition:
    """A segment field a plugin contributes (``register_segment_conditions``), named
    ``<plugin>_<thing>``. ``kind="subquery"``: ``subquery`` selects customer ids of the tenant
    (``:tenant``), with ``{op}`` the SQL operator and ``{v}`` the bound value (``:now`` is bound
    too); ``value_kind`` validates the value. See :class:`core.segments.SegmentField`."""

    name: str
    sql: str
    kind: str
    description: str
    choices: tuple[str, ...] = ()
    subquery: str = ""
    ops: tuple[str, ...] = ("eq", "ne", "gt", "gte", "lt", "lte", "in")
    value_kind: str = "str"  # for kind="subquery": str, int or days_ahead


@dataclass(frozen=True)
class KpiDefinition:
    """A KPI a plugin contributes (``register_kpis``).

    ``compute(tenant, period_from, period_to, store_id)`` runs inside the tenant transaction
    and returns the period's value (``store_id`` None: the chain). ``by_staff(tenant,
    period_from, period_to, store_id)``, when given, returns ``{staff id: value}`` — the staff
    dimension of ``staffKpis`` (绩效考核). ``better`` says which way is good (``higher`` or
    ``lower``: a resolution time), for targets and reports; ``label`` names it per locale.
    A KPI whose value is a number can be given a target (``kpiTargetSet``); ``accumulates``
    says the value grows through the period (a count, an amount: a target is projected at the
    current pace) — False for a rate, an average or a score (its value is the projection).
    """

    name: str
    description: str
    compute: Callable[[TenantInfo, Any, Any, UUID | None], Awaitable[Any]]
    by_staff: (
        Callable[[TenantInfo, Any, Any, UUID | None], Awaitable[Mapping[UUID, Any]]] | None
    ) = None
    better: str = "higher"
    label: Mapping[str, str] = field(default_factory=dict)
    accumulates: bool = True


@dataclass(frozen=True)
class ReportSection:
    """A section of the weekly store and chain report a plugin contributes
    (``register_report_sections``).

    ``compute(tenant, store_id, start, end)`` runs inside the tenant transaction (``store_id``
    None: the chain; ``start``/``end``: the week, aware datetimes) and returns a
    :class:`ReportData`; a ``compute`` that declares a ``settings`` parameter also gets the
    plugin's validated settings for the tenant (keyword). ``title`` maps locales to text;
    ``order`` sorts sections (the core's come first).
    """

    key: str
    title: Mapping[str, str]
    compute: Callable[..., Awaitable[ReportData]]
    order: int = 100


@dataclass(frozen=True)
class ReportFigure:
    """A key figure of a section: this week's value and, when known, the previous week's and
    the same week a year earlier's (the page shows the changes, coloured by ``better``)."""

    key: str
    label: Mapping[str, str]
    value: Any
    previous: Any = None
    last_year: Any = None
    better: str = "higher"
    format: str = "number"  # number, money, percent (a share, 0.25) or score


@dataclass(frozen=True)
class ReportTable:
    """A table of a section (also exported as CSV/XLSX): column labels and rows of values."""

    key: str
    title: Mapping[str, str]
    columns: Sequence[Mapping[str, str]]
    rows: Sequence[Sequence[Any]]
    # Per column: text, number, money, percent, change (a signed share), date, status, score.
    formats: Sequence[str] = ()


@dataclass(frozen=True)
class ReportChart:
    """A chart of a section, drawn as inline SVG: ``kind`` ``line`` (a trend) or ``bar``
    (categories); one series per name, values aligned with ``labels``."""

    key: str
    title: Mapping[str, str]
    kind: str
    labels: Sequence[str]
    series: Mapping[str, Sequence[float | None]]
    series_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    label_text: Mapping[str, Sequence[str]] = field(default_factory=dict)  # labels per locale


@dataclass(frozen=True)
class ReportData:
    """What a report section holds."""

    figures: Sequence[ReportFigure] = ()
    tables: Sequence[ReportTable] = ()
    charts: Sequence[ReportChart] = ()
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class DemoSale:
    """A sale ``mendian demo`` seeded (amount in minor units)."""

    id: UUID
    customer_id: UUID | None
    store_id: UUID
    staff_id: UUID | None
    occurred_at: Any  # aware datetime
    amount_minor: int


@dataclass(frozen=True)
class DemoData:
    """What ``mendian demo`` seeded, for the plugins' ``seed_demo``: a year of a chain."""

    stores: Sequence[UUID]
    staff: Mapping[str, UUID]  # login -> id
    roles: Mapping[UUID, tuple[str, UUID | None]]  # staff id -> (role, their store or None)
    customers: Sequence[UUID]
    sales: Sequence[DemoSale]
    start: Any  # aware datetime: a year ago
    now: Any
    seed: int

    def staff_in(self, role: str, store_id: UUID | None = None) -> list[UUID]:
        """The demo's staff with ``role`` (in ``store_id``, when given)."""
        return [
            s
            for s, (r, store) in self.roles.items()
            if r == role and (store_id is None or store == store_id)
        ]
