"""The complaints plugin's GraphQL (issue 13's public names): queries ``complaint``,
``complaints``, ``complaintCategories``; the workflow mutations ``complaintCreate``,
``complaintAcknowledge``, ``complaintAssign``, ``complaintTransfer``, ``complaintWait``,
``complaintResume``, ``complaintResolve``, ``complaintFollowUp``, ``complaintReopen``,
``complaintClose``, ``complaintNoteAdd`` and ``complaintCustomerLink``; praise and damaged goods
(``praiseRecord``, ``praises``, ``damageRecord``, ``damages``: :mod:`.praise`); the register and the report
(``complaintRegister``, ``complaintReport``: :mod:`.reports`); the public form's
``complaintSubmit`` and ``complaintStatus`` (:mod:`.public`, no credential). Present only where
a tenant enabled the plugin (the public ones check the tenant they name)."""

from __future__ import annotations

import strawberry

from core import GraphQLContribution
from plugins.complaints.graphql import operations as op
from plugins.complaints.graphql import praise, public, reports

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
        ),
        GraphQLContribution(
            queries={
                "praises": strawberry.field(
                    resolver=praise.resolve_praises,
                    description="Praise (表扬) the caller sees, newest first.",
                ),
                "damages": strawberry.field(
                    resolver=praise.resolve_damages,
                    description="Damaged-goods incidents (顾客损坏商品) the caller sees, newest "
                    "first by when they happened.",
                ),
                "complaint_register": strawberry.field(
                    resolver=reports.resolve_register,
                    description="A store's complaint register of a day (null: no such store).",
                ),
                "complaint_report": strawberry.field(
                    resolver=reports.resolve_report,
                    description="Complaint figures of a store or the chain over days, with "
                    "the trend (null: no such store).",
                ),
            },
            mutations=praise.mutations(),
            nodes={"ComplaintPraise": praise.load_praise, "ComplaintDamage": praise.load_damage},
        ),
    ]
