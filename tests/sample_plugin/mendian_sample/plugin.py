"""The sample plugin's manifest and hooks."""

from uuid import UUID

import msgspec
from strawberry.types import Info

from core import (
    Customer,
    GraphQLContribution,
    PluginManifest,
    TenantInfo,
    context_of,
    hookimpl,
    tenant_tx,
)


class SampleSettings(msgspec.Struct, forbid_unknown_fields=True):
    greeting: str = "hello"
    visits_goal: int = 10
    api_token: str = ""


manifest = PluginManifest(
    id="sample",
    name="Sample visits",
    version="1.2.0",
    description="Counts visits from purchases",
    requires_core=">=0.1",
    settings=SampleSettings,
    secret_settings=("api_token",),
    personal_data=True,
    permissions={"sample:read": "Read visit counts"},
    piccolo_app="mendian_sample.piccolo_app",
)


@hookimpl
async def on_purchase_recorded(tenant, event):
    from mendian_sample.tables import SampleVisit

    customer = event.get("customer_id")
    await SampleVisit.insert(
        SampleVisit(
            purchase_id=UUID(event["purchase_id"]),
            customer_id=UUID(customer) if customer else None,
            kind=event.get("kind", "sale"),
        )
    )


@hookimpl
async def customer_export_data(tenant, customer_id):
    from mendian_sample.tables import SampleVisit

    rows = await SampleVisit.select(SampleVisit.purchase_id).where(
        SampleVisit.customer_id == customer_id
    )
    return {"visits": [str(r["purchase_id"]) for r in rows]}


@hookimpl
async def customer_erase_data(tenant, customer_id):
    from mendian_sample.tables import SampleVisit

    await SampleVisit.update({SampleVisit.note: ""}).where(SampleVisit.customer_id == customer_id)


async def _visit_counts(tenant: TenantInfo, customer_ids: list[UUID]) -> list[int]:
    """One statement for a whole page of customers (a DataLoader batch)."""
    from mendian_sample.tables import SampleVisit

    async with tenant_tx(tenant.id, write=False):
        rows = await SampleVisit.select(SampleVisit.customer_id).where(
            SampleVisit.customer_id.is_in(list(set(customer_ids)))
        )
    counts = {}
    for r in rows:
        counts[r["customer_id"]] = counts.get(r["customer_id"], 0) + 1
    return [counts.get(c, 0) for c in customer_ids]


async def resolve_customer_visits(root: Customer, info: Info) -> int:
    ctx = context_of(info)
    tenant, _actor = ctx.caller()
    return await ctx.loader("sample.visits", lambda ids: _visit_counts(tenant, ids)).load(root.uid)


async def resolve_sample_visit_total(info: Info) -> int:
    from mendian_sample.tables import SampleVisit

    tenant, actor = context_of(info).caller()
    actor.require("sample:read")
    async with tenant_tx(tenant.id, write=False):
        return await SampleVisit.count()


@hookimpl
def register_graphql():
    import strawberry

    return [
        GraphQLContribution(
            queries={
                "sample_visit_total": strawberry.field(
                    resolver=resolve_sample_visit_total,
                    description="Purchases the sample plugin has seen.",
                )
            },
            fields={
                "Customer": {
                    "visits": strawberry.field(
                        resolver=resolve_customer_visits,
                        description="Visits counted by the sample plugin.",
                    )
                }
            },
        )
    ]
