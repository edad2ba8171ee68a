"""The core's root types (API-7), composed from one module per domain.

Each module holds its inputs, payloads and the fields of one domain as a plain strawberry type;
the roots below inherit them. Plugins' fields are not here: the schema registry adds them per
module set without touching these classes. :data:`CORE_NODES` loads the core's ``Node`` types.
"""

from __future__ import annotations

from typing import Any

import strawberry

from api.graphql.operations.activity import ActivityMutation, ActivityQuery
from api.graphql.operations.calendar import CALENDAR_NODES, CalendarMutation, CalendarQuery
from api.graphql.operations.customers import CustomerMutation, CustomerQuery
from api.graphql.operations.kpis import KpiMutation, KpiQuery
from api.graphql.operations.nodes import CORE_NODES, NodeQuery
from api.graphql.operations.org import OrgQuery
from api.graphql.operations.purchases import PurchaseMutation
from api.graphql.operations.reports import ReportQuery
from api.graphql.operations.segments import SegmentMutation, SegmentQuery
from api.graphql.operations.staff import PublicStaffMutation, StaffMutation, StaffQuery
from api.graphql.operations.stores import StoreMutation, StoreQuery
from api.graphql.operations.webhooks import WEBHOOK_NODES, WebhookMutation, WebhookQuery

__all__ = ["CORE_NODES", "CoreMutation", "CoreQuery", "PublicMutation", "PublicQuery"]

CORE_NODES.update(CALENDAR_NODES)  # node(id:) loads the calendar types too
CORE_NODES.update(WEBHOOK_NODES)


@strawberry.type(name="Query", description="Operations open to callers without credentials.")
class PublicQuery:
    @strawberry.field(description="Always true: the API answers.")
    def ping(self) -> bool:
        return True


@strawberry.type(name="Mutation", description="Operations open to callers without credentials.")
class PublicMutation(PublicStaffMutation):
    pass


@strawberry.type(name="Query", description="Read the tenant's data.")
class CoreQuery(
    PublicQuery,
    OrgQuery,
    StoreQuery,
    StaffQuery,
    CustomerQuery,
    ActivityQuery,
    CalendarQuery,
    SegmentQuery,
    KpiQuery,
    ReportQuery,
    WebhookQuery,
    NodeQuery,
):
    pass


@strawberry.type(name="Mutation", description="Change the tenant's data.")
class CoreMutation(
    PublicMutation,
    StoreMutation,
    StaffMutation,
    CustomerMutation,
    PurchaseMutation,
    ActivityMutation,
    CalendarMutation,
    SegmentMutation,
    KpiMutation,
    WebhookMutation,
):
    pass


def _check_unique() -> None:
    """Two domain modules defining the same root field is a bug: fail at import."""
    for root in (CoreQuery, CoreMutation):
        definition: Any = getattr(root, "__strawberry_definition__")  # noqa: B009  # set by strawberry
        names = [f.python_name for f in definition.fields]
        dupes = {n for n in names if names.count(n) > 1}
        assert not dupes, f"{root.__name__} defines {sorted(dupes)} twice"


_check_unique()
