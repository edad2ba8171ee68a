"""The complaints plugin's GraphQL (issue 13's public names): queries ``complaint``,
``complaints``, ``complaintCategories``; the workflow mutations ``complaintCreate``,
``complaintAcknowledge``, ``complaintAssign``, ``complaintTransfer``, ``complaintWait``,
``complaintResume``, ``complaintResolve``, ``complaintFollowUp``, ``complaintReopen``,
``complaintClose``, ``complaintNoteAdd`` and ``complaintCustomerLink``; the public form's
``complaintSubmit`` and ``complaintStatus`` (:mod:`.public`, no credential). Present only where
a tenant enabled the plugin (the public ones check the tenant they name)."""

from __future__ import annotations

import strawberry

from core import GraphQLContribution
from plugins.complaints.graphql import operations as op
from plugins.complaints.graphql import public

__all__ = ["contributions"]


def contributions() -> list[GraphQLContribution]:
    return [
        GraphQLContribution(
            queries={
                "complaints": strawberry.field(
                    resolver=op.resolve_complaints,
                    description="Complaints and suggestions the caller sees, newest first.",
                ),
                "complaint": strawberry.field(
                    resolver=op.resolve_complaint, description="A complaint by id (null: none)."
                ),
                "complaint_categories": strawberry.field(
                    resolver=op.resolve_categories,
                    description="The tenant's category tree (seed 003's and its own).",
                ),
            },
            mutations=op.mutations(),
            public_queries=public.public_queries(),
            public_mutations=public.public_mutations(),
            nodes={"Complaint": op.load_complaint},
        )
    ]
