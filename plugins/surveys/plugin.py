"""The Surveys plugin: manifest and hook implementations (thin: the behaviour lives beside it).

Every hook declares what it needs — the tenant, the event, ``settings`` (this plugin's
validated :class:`SurveysSettings`), ``channels``, ``segment_fields`` — and calls a module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from core import (
    ChannelSet,
    PluginManifest,
    ScheduledJob,
    SegmentField,
    TenantInfo,
    hookimpl,
)
from plugins.surveys import hookspecs
from plugins.surveys.settings import SurveysSettings

manifest = PluginManifest(
    id="surveys",
    name="Surveys",
    version="0.2.0",
    description="NPS/CSAT surveys, invitations and scores",
    requires_core=">=0.1,<1",
    settings=SurveysSettings,
    personal_data=True,
    permissions={
        "surveys:read": "Read surveys, results and responses",
        "surveys:write": "Create, change, publish and close surveys and their triggers",
        "surveys:invite": "Invite customers or a segment to a survey",
        "surveys:record": "Record answers taken by phone or face to face",
        "surveys:export": "Export survey responses (CSV, XLSX; audited)",
    },
    piccolo_app="plugins.surveys.piccolo_app",
    events=("surveys.completed",),
    hookspecs=hookspecs,
)


@hookimpl
async def on_purchase_recorded(
    tenant: TenantInfo, event: dict[str, Any], settings: SurveysSettings, channels: ChannelSet
) -> None:
    from plugins.surveys.distribution import on_purchase

    await on_purchase(tenant, event, settings, channels)


@hookimpl(optionalhook=True)  # the complaints plugin's event; nothing happens without it
async def on_complaints_resolved(
    tenant: TenantInfo, event: dict[str, Any], settings: SurveysSettings, channels: ChannelSet
) -> None:
    from plugins.surveys.distribution import on_complaint_resolved

    await on_complaint_resolved(tenant, event, settings, channels)


@hookimpl
async def on_customer_merged(tenant: TenantInfo, event: dict[str, Any]) -> None:
    from plugins.surveys.responses import merge_customers

    await merge_customers(tenant, UUID(event["source_id"]), UUID(event["target_id"]))


@hookimpl
def register_graphql() -> list[Any]:
    from plugins.surveys.graphql import contributions

    return contributions()


@hookimpl
def register_routes() -> list[Any]:
    from plugins.surveys.pages import routes

    return routes()


@hookimpl
def register_message_templates() -> list[Any]:
    from plugins.surveys.messages import TEMPLATES

    return TEMPLATES


@hookimpl
def register_segment_conditions() -> list[Any]:
    from plugins.surveys.segments import CONDITIONS

    return CONDITIONS


@hookimpl
def register_report_sections() -> list[Any]:
    from plugins.surveys.report import report_sections

    return report_sections()


@hookimpl
def demo_settings() -> dict[str, Any]:
    from plugins.surveys.demo import DEMO_SETTINGS

    return DEMO_SETTINGS


@hookimpl
async def seed_demo(tenant: TenantInfo, demo: Any, settings: SurveysSettings) -> None:
    from plugins.surveys.demo import seed

    await seed(tenant, demo, settings)


@hookimpl
def register_kpis() -> list[Any]:
    from plugins.surveys.kpis import kpis

    return kpis()


@hookimpl
async def customer_export_data(tenant: TenantInfo, customer_id: UUID) -> dict[str, Any]:
    from plugins.surveys.responses import export_customer

    return await export_customer(tenant, customer_id)


@hookimpl
async def customer_erase_data(tenant: TenantInfo, customer_id: UUID) -> None:
    from plugins.surveys.responses import erase_customer

    await erase_customer(tenant, customer_id)


async def _send_due(
    tenant: TenantInfo, settings: SurveysSettings, channels: ChannelSet, now: dt.datetime
) -> None:
    from plugins.surveys.distribution import send_due

    await send_due(tenant, settings, channels, now)


async def _segment_runs(
    tenant: TenantInfo,
    settings: SurveysSettings,
    channels: ChannelSet,
    segment_fields: Mapping[str, SegmentField],
    now: dt.datetime,
) -> None:
    from plugins.surveys.distribution import run_segment_triggers

    await run_segment_triggers(tenant, settings, channels, segment_fields, now)


@hookimpl
def register_scheduled_jobs() -> list[ScheduledJob]:
    return [
        ScheduledJob(
            name="surveys.send_due",
            cron="*/5 * * * *",
            run=_send_due,
            description="Send the invitations whose delay after a purchase has passed",
        ),
        ScheduledJob(
            name="surveys.segments_daily",
            cron="0 2 * * *",  # 10:00 in China: after quiet hours
            run=_segment_runs,
            description="Periodic surveys: invite each due segment trigger's customers",
        ),
    ]
