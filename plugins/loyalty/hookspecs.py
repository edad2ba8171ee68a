"""Hooks the loyalty plugin publishes, so other plugins integrate without importing it.

Loyalty emits the durable events ``loyalty.points_awarded`` (in the same transaction as the
ledger entry) and ``loyalty.coupon_used`` (in the transaction that marks the coupon used); like
every event each reaches each enabled plugin once, through the hooks below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import hookspec

if TYPE_CHECKING:
    from core import ChannelSet, TenantInfo

__all__ = ["on_loyalty_coupon_used", "on_loyalty_points_awarded"]


@hookspec
def on_loyalty_points_awarded(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """Points were awarded: ``event`` has ``customer_id``, ``entry_id``, ``points``, ``growth``,
    ``source`` (``purchase``, ``manual``, ``signup``, ``referral``, ``survey``, ``activation``)
    and ``source_id``. Delivered once per award, after commit, in your own transaction; raise
    to be retried. (``settings`` and ``channels`` are your plugin's, as for every hook.)

    Example::

        @hookimpl
        async def on_loyalty_points_awarded(tenant, event):
            if event["points"] >= 1000:
                await send_thank_you(tenant, event["customer_id"])
    """


@hookspec
def on_loyalty_coupon_used(tenant: TenantInfo, event: dict[str, Any], settings: Any) -> None:
    """A coupon was used at the till (once per coupon). ``event``: ``coupon_id``,
    ``customer_id``, ``reward_id``, ``source_key`` (the key of the offer that gave the coupon
    away, e.g. ``care:<campaign>:<occurrence>:<customer>``; ``''`` for a coupon bought with
    points) and ``used_at`` (ISO 8601). Delivered after commit, in your own transaction;
    raise to be retried.

    Example::

        @hookimpl(optionalhook=True)
        async def on_loyalty_coupon_used(tenant, event, settings):
            if event["source_key"].startswith("myplugin:"):
                await count_redemption(tenant, event["source_key"])
    """
