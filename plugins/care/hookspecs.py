"""Hooks the care plugin publishes, so other plugins integrate without importing it.

Care emits the durable event ``care.offer_granted`` in the transaction that queues a
campaign's message to a treatment customer whose campaign carries an offer (points or a
coupon); like every event it reaches each enabled plugin once, through the hook below. The
loyalty plugin implements it (``plugins/loyalty/partners.py``) and grants the offer once
per customer and occurrence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import hookspec

if TYPE_CHECKING:
    from core import TenantInfo

__all__ = ["on_care_offer_granted"]


@hookspec
def on_care_offer_granted(tenant: TenantInfo, event: dict[str, Any], settings: Any) -> None:
    """A care campaign granted a customer an offer (once per campaign, occurrence, customer).

    ``event``: ``key`` (``care:<campaign>:<occurrence>:<customer>``, unique: grant at most
    once per key), ``campaign_id``, ``occurrence``, ``customer_id``, ``offer`` (``points`` or
    ``coupon``), ``points`` (for ``points``), ``coupon`` (the coupon's reward code, for
    ``coupon``). Delivered once per grant, after commit, in your own transaction; raise to be
    retried.

    Example::

        @hookimpl(optionalhook=True)
        async def on_care_offer_granted(tenant, event, settings):
            if event["offer"] == "points":
                await award_points(tenant, event["customer_id"], event["points"], event["key"])
    """
