"""The care plugin's GraphQL (issue 14's public names): queries ``careCampaigns``,
``careCampaign`` (with ``runs`` and ``results``); mutations ``careCampaignCreate``,
``careCampaignUpdate``, ``careCampaignActivate``, ``careCampaignPause``,
``careCampaignApprove`` and ``careCampaignRunNow``. Present only where a tenant enabled the
plugin."""

from __future__ import annotations

import strawberry

from core import GraphQLContribution
from plugins.care.graphql import operations as op

__all__ = ["contributions"]


def contributions() -> list[GraphQLContribution]:
    return [
        GraphQLContribution(
            queries={
                "care_campaigns": strawberry.field(
                    resolver=op.resolve_campaigns, description="Care campaigns, newest first."
                ),
                "care_campaign": strawberry.field(
                    resolver=op.resolve_campaign, description="A campaign by id (null: none)."
                ),
            },
            mutations={
                "care_campaign_create": strawberry.mutation(
                    resolver=op.resolve_create, description="Create a draft campaign."
                ),
                "care_campaign_update": strawberry.mutation(
                    resolver=op.resolve_update,
                    description="Change a campaign (customers already reached for an "
                    "occurrence are not reached again).",
                ),
                "care_campaign_activate": strawberry.mutation(
                    resolver=op.resolve_activate,
                    description="Activate: the campaign sends when its occurrences are due.",
                ),
                "care_campaign_pause": strawberry.mutation(
                    resolver=op.resolve_pause,
                    description="Pause: nothing is sent until re-activated.",
                ),
                "care_campaign_approve": strawberry.mutation(
                    resolver=op.resolve_approve,
                    description="Approve a large audience (owner or HQ; audited).",
                ),
                "care_campaign_run_now": strawberry.mutation(
                    resolver=op.resolve_run_now,
                    description="Run now (a one-off, or an occurrence by hand), through the "
                    "messaging pipeline; or send a test to staff members.",
                ),
            },
            nodes={"CareCampaign": op.load_campaign, "CareRun": op.load_run},
        )
    ]
