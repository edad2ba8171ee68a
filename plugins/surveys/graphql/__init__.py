"""The surveys plugin's GraphQL (issue 12's public names): queries ``surveys``, ``survey``,
``surveyResults``, ``surveyForm`` (public), ``Customer.surveyResponses``; mutations
``surveyCreate``, ``surveyUpdate``, ``surveyPublish``, ``surveyClose``, ``surveyInvite``,
``surveyTriggerSet``, ``surveyResponseRecord``, ``surveyAnswer`` (public) and
``surveyExport``. Present only where a tenant enabled the plugin (the public ones check the
token's tenant)."""

from __future__ import annotations

import strawberry

from core import GraphQLContribution
from plugins.surveys.graphql import operations as op

__all__ = ["contributions"]


def contributions() -> list[GraphQLContribution]:
    return [
        GraphQLContribution(
            queries={
                "surveys": strawberry.field(
                    resolver=op.resolve_surveys, description="Surveys, newest first."
                ),
                "survey": strawberry.field(
                    resolver=op.resolve_survey, description="A survey by id (null: none)."
                ),
                "survey_results": strawberry.field(
                    resolver=op.resolve_results,
                    description="A survey's results for `[from, to)` and a store (a "
                    "store-scoped caller sees its stores): NPS, CSAT, per question, trends.",
                ),
            },
            public_queries={
                "survey_form": strawberry.field(
                    resolver=op.resolve_form,
                    description="The survey behind a link's token (no credential needed).",
                )
            },
            mutations={
                "survey_create": strawberry.mutation(
                    resolver=op.resolve_create,
                    description="Create a draft survey, or the next version of one (`basedOnId`).",
                ),
                "survey_update": strawberry.mutation(
                    resolver=op.resolve_update,
                    description="Change a draft (a published survey's questions never change).",
                ),
                "survey_publish": strawberry.mutation(
                    resolver=op.resolve_publish,
                    description="Check the logic and publish; the previous version closes.",
                ),
                "survey_close": strawberry.mutation(
                    resolver=op.resolve_close, description="Stop accepting answers."
                ),
                "survey_invite": strawberry.mutation(
                    resolver=op.resolve_invite,
                    description="Invite customers or a segment now, through the messaging "
                    "pipeline (consent, quiet hours, shared cap) and the re-contact limit.",
                ),
                "survey_trigger_set": strawberry.mutation(
                    resolver=op.resolve_trigger_set,
                    description="Send the survey after purchases or periodically to a segment.",
                ),
                "survey_response_record": strawberry.mutation(
                    resolver=op.resolve_record,
                    description="Record answers taken by phone or face to face (电话回访).",
                ),
                "survey_export": strawberry.mutation(
                    resolver=op.resolve_export,
                    description="A five-minute link to download the responses (CSV or XLSX).",
                ),
            },
            public_mutations={
                "survey_answer": strawberry.mutation(
                    resolver=op.resolve_answer,
                    description="Answer a survey with a link's token (no credential needed).",
                )
            },
            fields={
                "Customer": {
                    "survey_responses": strawberry.field(
                        resolver=op.resolve_customer_responses,
                        description="The customer's survey responses, newest first (surveys).",
                    )
                }
            },
            nodes={"Survey": op.load_survey, "SurveyResponse": op.load_response},
        )
    ]
