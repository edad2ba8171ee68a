"""Hooks the surveys plugin publishes, so other plugins integrate without importing it.

Surveys emits the durable event ``surveys.completed`` in the transaction that stores a
response; like every event it reaches each enabled plugin once, through the hook below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import hookspec

if TYPE_CHECKING:
    from core import ChannelSet, TenantInfo

__all__ = ["on_surveys_completed"]


@hookspec
def on_surveys_completed(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """A survey response was completed (once per response, with its scores).

    ``event``: ``response_id``, ``survey_id``,
    ``survey_kind`` (``nps``, ``csat``, ``general``), ``customer_id`` (null for anonymous
    responses), ``store_id``, ``staff_id`` (who served the customer), ``purchase_id``,
    ``complaint_id`` (a complaint follow-up), ``channel`` (``link``, ``anonymous``, ``phone``,
    ``in_person``), ``answered_at`` (ISO 8601), ``nps`` (0-10 or null), ``nps_category``
    (``promoter``, ``passive``, ``detractor`` or null), ``csat`` (1-5 or null),
    ``satisfied`` (CSAT ≥ 4, or null) and ``comment`` (the first text answer, may be empty).
    Delivered once per response, after commit, in your own transaction; raise to be retried.

    Example::

        @hookimpl(optionalhook=True)
        async def on_surveys_completed(tenant, event):
            if event["nps_category"] == "detractor" and not event["complaint_id"]:
                await open_complaint_from_survey(tenant, event)
    """
