"""Small frozen records that hooks return (conda-style): typed, comparable, named."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from core.context import TenantInfo

__all__ = [
    "DeliveryResult",
    "KpiDefinition",
    "MessageChannel",
    "OutboundMessage",
    "ScheduledJob",
    "SegmentCondition",
]


@dataclass(frozen=True)
class OutboundMessage:
    """What a channel is asked to send. ``idempotency_key`` is stable across retries."""

    tenant_id: UUID
    message_id: UUID
    idempotency_key: str
    channel: str
    to: str
    subject: str
    body: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


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
class ScheduledJob:
    """A periodic job, run once per tenant that has the plugin enabled, at ``cron`` (UTC)."""

    name: str
    cron: str
    run: Callable[[TenantInfo], Awaitable[None]]
    description: str = ""


@dataclass(frozen=True)
class SegmentCondition:
    """A segment field (``register_segment_conditions``): see :class:`core.segments.SegmentField`."""

    name: str
    sql: str
    kind: str
    description: str
    choices: tuple[str, ...] = ()
    subquery: str = ""
    ops: tuple[str, ...] = ("eq", "ne", "gt", "gte", "lt", "lte", "in")


@dataclass(frozen=True)
class KpiDefinition:
    """A KPI a plugin contributes; ``compute`` runs inside the tenant transaction."""

    name: str
    description: str
    compute: Callable[[TenantInfo, Any, Any, UUID | None], Awaitable[Any]]
