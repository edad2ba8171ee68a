"""What complaints does with a completed survey (``on_surveys_completed``, the surveys
plugin's event; nothing happens without it):

* a follow-up survey of a resolved complaint (``complaint_id`` set) is the customer's answer:
  satisfied (CSAT ≥ 4, or not an NPS detractor) follows the complaint up, dissatisfied reopens
  and escalates it (:func:`plugins.complaints.workflow.follow_up`);
* any other response at or below the tenant's detractor threshold opens a complaint (channel
  ``survey``), once per response (its ``source`` is unique), for the store and staff member the
  survey was about.
"""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import UUID

from core import Actor, ChannelSet, Conflict, NotFound, TenantInfo
from plugins.complaints import workflow
from plugins.complaints.records import create_complaint
from plugins.complaints.settings import ComplaintsSettings

__all__ = ["is_detractor", "survey_completed"]

SYSTEM = Actor.system("complaints.surveys")


def is_detractor(event: dict[str, Any], settings: ComplaintsSettings) -> bool:
    nps, csat = event.get("nps"), event.get("csat")
    return (nps is not None and int(nps) <= settings.detractor_nps) or (
        csat is not None and int(csat) <= settings.detractor_csat
    )


def _satisfied(event: dict[str, Any]) -> bool:
    if event.get("satisfied") is not None:
        return bool(event["satisfied"])
    return event.get("nps_category") != "detractor"


async def survey_completed(
    tenant: TenantInfo, event: dict[str, Any], settings: ComplaintsSettings, channels: ChannelSet
) -> None:
    if event.get("complaint_id"):
        # not (or no longer) waiting for this answer: a late or repeated response is dropped
        with contextlib.suppress(NotFound, Conflict):
            await workflow.follow_up(
                tenant,
                SYSTEM,
                settings,
                channels,
                UUID(event["complaint_id"]),
                satisfied=_satisfied(event),
                note=str(event.get("comment") or "")[:4000],
                via="survey",
            )
        return
    if not is_detractor(event, settings):
        return
    score = f"NPS {event['nps']}" if event.get("nps") is not None else f"CSAT {event.get('csat')}"
    await create_complaint(
        tenant,
        SYSTEM,
        settings,
        {
            "channel": "survey",
            "summary": f"满意度调查差评（{score}）",
            "description": str(event.get("comment") or "")[:4000],
            "customer_id": event.get("customer_id"),
            "store_id": event.get("store_id"),
            "staff_involved": [event["staff_id"]] if event.get("staff_id") else [],
            "source": f"survey:{event['response_id']}",
        },
    )
