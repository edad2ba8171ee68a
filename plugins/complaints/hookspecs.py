"""Hooks the complaints plugin publishes, so other plugins integrate without importing it.

Each is the delivery of a durable event complaints emits in the transaction of the change;
like every event it reaches each enabled plugin once, after commit, in its own transaction
(raise to be retried). Implement them with ``@hookimpl(optionalhook=True)``: nothing happens
where complaints is not installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import hookspec

if TYPE_CHECKING:
    from core import ChannelSet, TenantInfo

__all__ = [
    "on_complaints_compensation_granted",
    "on_complaints_escalated",
    "on_complaints_received",
    "on_complaints_resolved",
]


@hookspec
def on_complaints_received(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """A complaint or suggestion was registered. ``event``: ``complaint_id``, ``kind``
    (``complaint``, ``suggestion``), ``channel``, ``store_id``, ``customer_id`` (null when not
    known yet), ``category`` (code), ``severity``."""


@hookspec
def on_complaints_resolved(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """A complaint was resolved (once per resolve cycle). ``event``: ``complaint_id``,
    ``number``, ``customer_id``, ``store_id``, ``staff_id`` (the handler), ``resolution_type``,
    ``follow_up`` (``survey``: ask the customer with a follow-up survey — the surveys plugin
    does; ``message`` or ``call``: complaints' own), ``cycle``. A survey answered for it comes
    back to complaints as ``surveys.completed`` with ``complaint_id``."""


@hookspec
def on_complaints_compensation_granted(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """A resolved complaint compensates its customer. ``event``: ``key``
    (``complaint:<id>`` — pay once per key), ``complaint_id``, ``customer_id``, ``points``
    (0: none), ``coupon`` (a coupon code or ``''``), ``reason``. Loyalty pays the points."""


@hookspec
def on_complaints_escalated(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """A complaint escalated. ``event``: ``complaint_id``, ``stage`` (``acknowledge``,
    ``resolve``, ``follow_up``, ``intake``), ``trigger`` (``warning``, ``breach``,
    ``dissatisfied``, ``media``), ``level`` (1 the store's managers, 2 HQ)."""
