"""The Care campaigns plugin: manifest and hook implementations (thin: logic lives beside it).

Every hook declares what it needs — the tenant, ``settings`` (this plugin's validated
:class:`CareSettings`), ``channels`` — and calls a module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from core import (
    ChannelSet,
    PluginManifest,
    ScheduledJob,
    SegmentField,
    TenantInfo,
    hookimpl,
)
from plugins.care import hookspecs
from plugins.care.settings import CareSettings

manifest = PluginManifest(
    id="care",
    name="Care campaigns",
    version="0.1.0",
    description="Birthday, holiday, revisit and win-back campaigns",
    requires_core=">=0.1,<1",
    settings=CareSettings,
    personal_data=True,
    permissions={
        "care:read": "Read campaigns, their runs and results",
        "care:write": "Create, change, activate and pause campaigns",
        "care:send": "Run a campaign now, or send a test to staff",
        "care:approve": "Approve a campaign's large audience (owner or HQ)",
    },
    piccolo_app="plugins.care.piccolo_app",
    events=("care.offer_granted",),
    hookspecs=hookspecs,
)


@hookimpl
def register_graphql() -> list[Any]:
    from plugins.care.graphql import contributions

    return contributions()


@hookimpl
def register_routes() -> list[Any]:
    from plugins.care.pages import routes

    return routes()


@hookimpl
def demo_settings() -> dict[str, Any]:
    from plugins.care.demo import DEMO_SETTINGS

    return DEMO_SETTINGS


@hookimpl
async def seed_demo(tenant: TenantInfo, demo: Any, settings: CareSettings) -> None:
    from plugins.care.demo import seed

    await seed(tenant, demo, settings)


@hookimpl
async def customer_export_data(tenant: TenantInfo, customer_id: Any) -> dict[str, Any]:
    from plugins.care.results import export_customer

    return await export_customer(tenant, customer_id)


@hookimpl
async def customer_erase_data(tenant: TenantInfo, customer_id: Any) -> None:
    from plugins.care.results import erase_customer

    await erase_customer(tenant, customer_id)


@hookimpl
async def on_customer_merged(tenant: TenantInfo, event: dict[str, Any]) -> None:
    from uuid import UUID

    from plugins.care.results import merge_customers

    await merge_customers(tenant, UUID(event["source_id"]), UUID(event["target_id"]))


@hookimpl
def register_kpis() -> list[Any]:
    from plugins.care.kpis import kpis

    return kpis()


@hookimpl(optionalhook=True)  # loyalty's event; nothing happens without loyalty
async def on_loyalty_coupon_used(tenant: TenantInfo, event: dict[str, Any]) -> None:
    from plugins.care.offers import record_redemption

    await record_redemption(tenant, event)


@hookimpl
def register_report_sections() -> list[Any]:
    from plugins.care.report import report_sections

    return report_sections()


@hookimpl
def register_message_templates() -> list[Any]:
    from plugins.care.messages import TEMPLATES

    return TEMPLATES


async def _fan_out(tenant: TenantInfo, settings: CareSettings, channels: ChannelSet) -> None:
    from plugins.care.runs import finish_pending

    await finish_pending(tenant, settings, channels)


async def _schedule(
    tenant: TenantInfo,
    settings: CareSettings,
    channels: ChannelSet,
    segment_fields: Mapping[str, SegmentField],
    now: dt.datetime,
) -> None:
    from plugins.care.occurrences import start_due

    await start_due(tenant, settings, channels, segment_fields, now)


@hookimpl
def register_scheduled_jobs() -> list[ScheduledJob]:
    return [
        ScheduledJob(
            name="care.schedule",
            cron="*/15 * * * *",
            run=_schedule,
            description="Start the runs that are due (festivals in the tenant's timezone, "
            "win-back and revisit periods, points-expiring reminders), once per occurrence",
        ),
        ScheduledJob(
            name="care.fan_out",
            cron="* * * * *",
            run=_fan_out,
            description="Go on fanning out every campaign run not done yet (chunk by chunk, "
            "exactly once; a run left by a killed worker included)",
        ),
    ]
