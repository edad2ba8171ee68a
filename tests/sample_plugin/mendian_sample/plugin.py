"""The sample plugin's manifest and hooks."""

from uuid import UUID

import msgspec

from core import PluginManifest, hookimpl


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
            purchase_id=UUID(event["purchase_id"]), customer_id=UUID(customer) if customer else None
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
