"""The Loyalty plugin: manifest and hook implementations (thin: logic lives beside it).

Every hook declares what it needs — the tenant, the event, ``settings`` (this plugin's
validated :class:`LoyaltySettings` for the tenant) and ``channels`` — and calls a module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from core import (
    ChannelSet,
    PluginManifest,
    ScheduledJob,
    TenantInfo,
    hookimpl,
)
from plugins.loyalty import hookspecs
from plugins.loyalty.partners import (  # noqa: F401  # care offers, complaint compensation
    on_care_offer_granted,
    on_complaints_compensation_granted,
)
from plugins.loyalty.settings import LoyaltySettings

manifest = PluginManifest(
    id="loyalty",
    name="Loyalty",
    version="0.4.0",
    description="Points and growth ledger: accrual on sales, reversal on refunds, redemption",
    requires_core=">=0.1,<1",
    settings=LoyaltySettings,
    personal_data=True,
    permissions={
        "loyalty:adjust": "Adjust a customer's points by hand (with a reason)",
        "loyalty:rewards": "Manage the rewards catalogue",
    },
    piccolo_app="plugins.loyalty.piccolo_app",
    append_only=("loyalty_entry",),
    events=("loyalty.points_awarded", "loyalty.coupon_used"),
    hookspecs=hookspecs,
)


@hookimpl
async def on_purchase_recorded(
    tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings, channels: ChannelSet
) -> None:
    from plugins.loyalty.ledger import accrue

    await accrue(tenant, event, settings, channels)


@hookimpl
async def on_purchase_refunded(
    tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings
) -> None:
    from plugins.loyalty.ledger import restore_paid, reverse

    # Points paid for the sale come back first: the reversal never takes a balance below zero,
    # so taken back first it would count them as spent and leave what they bought.
    await restore_paid(tenant, settings, event)
    await reverse(tenant, event)


@hookimpl
async def on_customer_created(
    tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings
) -> None:
    from plugins.loyalty.ledger import signup_bonus

    await signup_bonus(tenant, UUID(event["customer_id"]), settings)


@hookimpl
async def on_customer_merged(
    tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings, channels: ChannelSet
) -> None:
    from plugins.loyalty.ledger import merge_accounts

    await merge_accounts(
        tenant, settings, channels, UUID(event["source_id"]), UUID(event["target_id"])
    )


@hookimpl(optionalhook=True)  # the surveys plugin's event; nothing happens without it
async def on_surveys_completed(
    tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings
) -> None:
    from plugins.loyalty.ledger import survey_bonus

    await survey_bonus(tenant, event, settings)


@hookimpl
def register_graphql() -> list[Any]:
    from plugins.loyalty.graphql import contributions

    return contributions()


@hookimpl
def register_message_templates() -> list[Any]:
    from plugins.loyalty.templates import TEMPLATES

    return TEMPLATES


@hookimpl
def register_segment_conditions() -> list[Any]:
    from plugins.loyalty.segments import CONDITIONS

    return CONDITIONS


@hookimpl
async def customer_export_data(tenant: TenantInfo, customer_id: UUID) -> dict[str, Any]:
    from plugins.loyalty.ledger import balances, entries

    points, growth = (await balances(tenant, [customer_id])).get(customer_id, (0, 0))
    ledger = await entries(tenant, customer_id, 10_000, None)
    return {
        "points": points,
        "growth": growth,
        "ledger": [
            {
                "kind": e["kind"],
                "points": e["points"],
                "growth": e["growth"],
                "source": e["source"],
                "reason": e["reason"],
                "at": e["created_at"].isoformat(),
            }
            for e in ledger
        ],
    }


@hookimpl
async def customer_erase_data(tenant: TenantInfo, customer_id: UUID) -> None:
    """The ledger holds no personal data beyond the (pseudonymised) customer id: it stays, as
    the record of a liability; free-text reasons are staff-written, so they are kept."""
    return None


async def _evaluate_tiers(
    tenant: TenantInfo, settings: LoyaltySettings, channels: ChannelSet, now: dt.datetime
) -> None:
    from plugins.loyalty.tiers import evaluate

    await evaluate(tenant, settings, channels, now)


async def _expire_points(
    tenant: TenantInfo, settings: LoyaltySettings, channels: ChannelSet, now: dt.datetime
) -> None:
    from plugins.loyalty.expiry import expire

    await expire(tenant, settings, channels, now)


async def _release_pending(tenant: TenantInfo, settings: LoyaltySettings, now: dt.datetime) -> None:
    from plugins.loyalty.ledger import release_pending

    await release_pending(tenant, settings, now)


@hookimpl
def register_scheduled_jobs() -> list[ScheduledJob]:
    return [
        ScheduledJob(
            name="loyalty.pending_hourly",
            cron="20 * * * *",
            run=_release_pending,
            description="Make pending points spendable once their return window has passed",
        ),
        ScheduledJob(
            name="loyalty.expiry_nightly",
            cron="0 18 * * *",  # 02:00 in China
            run=_expire_points,
            description="Expire lapsed points (FIFO); notify points expiring soon",
        ),
        ScheduledJob(
            name="loyalty.tiers_nightly",
            cron="30 18 * * *",  # 02:30 in China
            run=_evaluate_tiers,
            description="Demote after the downgrade period; send tier notices",
        ),
    ]


@hookimpl
def register_kpis() -> list[Any]:
    from plugins.loyalty.kpis import kpis

    return kpis()


@hookimpl
def demo_settings() -> dict[str, Any]:
    from plugins.loyalty.demo import DEMO_SETTINGS

    return DEMO_SETTINGS


@hookimpl
async def seed_demo(tenant: TenantInfo, demo: Any, settings: LoyaltySettings) -> None:
    from plugins.loyalty.demo import seed

    await seed(tenant, demo, settings)


@hookimpl
def register_report_sections() -> list[Any]:
    from plugins.loyalty.kpis import report_sections

    return report_sections()
