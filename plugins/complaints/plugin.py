"""The Complaints and praise plugin: manifest and hook implementations (thin: logic lives
beside it).

Every hook declares what it needs — the tenant, ``settings`` (this plugin's validated
:class:`ComplaintsSettings`), ``channels``, ``now`` — and calls a module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from core import ChannelSet, PluginManifest, ScheduledJob, TenantInfo, hookimpl
from plugins.complaints import hookspecs
from plugins.complaints.settings import ComplaintsSettings

manifest = PluginManifest(
    id="complaints",
    name="Complaints and praise",
    version="0.1.0",
    description="Complaint intake from every channel, SLA on store hours with escalation, "
    "follow-up, praise and damaged-goods records",
    requires_core=">=0.1,<1",
    settings=ComplaintsSettings,
    personal_data=True,
    permissions={
        "complaints:read": "Read complaints, suggestions, praise and damage records",
        "complaints:create": "Register complaints, suggestions, praise and damaged goods",
        "complaints:handle": "Acknowledge, note, hold, resolve, follow up, reopen and close",
        "complaints:assign": "Assign a handler, transfer to another store or to HQ",
        "complaints:read_contact": "See a complaint's unmasked contact phone (audited)",
    },
    piccolo_app="plugins.complaints.piccolo_app",
    events=(
        "complaints.received",
        "complaints.resolved",
        "complaints.compensation_granted",
        "complaints.escalated",
    ),
    hookspecs=hookspecs,
)


@hookimpl
def register_graphql() -> list[Any]:
    from plugins.complaints.graphql import contributions

    return contributions()


@hookimpl
def register_kpis() -> list[Any]:
    from plugins.complaints.kpis import kpis

    return kpis()


@hookimpl
def register_report_sections() -> list[Any]:
    from plugins.complaints.weekly import report_sections

    return report_sections()


@hookimpl
def demo_settings() -> dict[str, Any]:
    from plugins.complaints.demo import DEMO_SETTINGS

    return DEMO_SETTINGS


@hookimpl
async def seed_demo(tenant: TenantInfo, demo: Any, settings: ComplaintsSettings) -> None:
    from plugins.complaints.demo import seed

    await seed(tenant, demo, settings)


@hookimpl
def register_routes() -> list[Any]:
    from plugins.complaints.pages import routes

    return routes()


@hookimpl
def register_message_templates() -> list[Any]:
    from plugins.complaints.messages import TEMPLATES

    return TEMPLATES


@hookimpl(optionalhook=True)  # the surveys plugin's event; nothing happens without it
async def on_surveys_completed(
    tenant: TenantInfo, event: dict[str, Any], settings: ComplaintsSettings, channels: ChannelSet
) -> None:
    from plugins.complaints.surveys import survey_completed

    await survey_completed(tenant, event, settings, channels)


@hookimpl
async def on_customer_merged(tenant: TenantInfo, event: dict[str, Any]) -> None:
    from plugins.complaints.privacy import move_customer

    await move_customer(tenant, UUID(event["source_id"]), UUID(event["target_id"]))


@hookimpl
async def customer_export_data(tenant: TenantInfo, customer_id: UUID) -> dict[str, Any]:
    from plugins.complaints.privacy import export_customer

    return await export_customer(tenant, customer_id)


@hookimpl
async def customer_erase_data(tenant: TenantInfo, customer_id: UUID) -> None:
    from plugins.complaints.privacy import erase_customer

    await erase_customer(tenant, customer_id)


async def _escalate_due(
    tenant: TenantInfo, settings: ComplaintsSettings, channels: ChannelSet, now: dt.datetime
) -> None:
    from plugins.complaints.escalation import escalate_due

    await escalate_due(tenant, settings, channels, now)


@hookimpl
def register_scheduled_jobs() -> list[ScheduledJob]:
    return [
        ScheduledJob(
            name="complaints.escalate",
            cron="*/5 * * * *",
            run=_escalate_due,
            description="Escalate complaints past their warning or due time to the store's "
            "managers and HQ (each escalation once, whichever worker runs it)",
        )
    ]
