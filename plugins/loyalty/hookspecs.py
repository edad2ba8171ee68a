"""Hooks the loyalty plugin publishes, so other plugins integrate without importing it.

Loyalty emits the durable event ``loyalty.points_awarded`` in the same transaction as the
ledger entry; like every event it reaches each enabled plugin once, through the hook below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import hookspec

if TYPE_CHECKING:
    from core import ChannelSet, TenantInfo

__all__ = ["on_loyalty_points_awarded"]


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
