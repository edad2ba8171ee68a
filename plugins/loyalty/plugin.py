"""The Loyalty plugin: manifest and hook implementations (thin: logic lives beside it)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core import PluginManifest, TenantInfo, hookimpl
from plugins.loyalty import hookspecs
from plugins.loyalty.settings import LoyaltySettings, settings_for

manifest = PluginManifest(
    id="loyalty",
    name="Loyalty",
    version="0.3.0",
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
    events=("loyalty.points_awarded",),
    hookspecs=hookspecs,
)


@hookimpl
async def on_purchase_recorded(tenant: TenantInfo, event: dict[str, Any]) -> None:
    from plugins.loyalty.ledger import accrue

    await accrue(tenant, event, await settings_for(tenant))


@hookimpl
async def on_customer_created(tenant: TenantInfo, event: dict[str, Any]) -> None:
    from plugins.loyalty.ledger import signup_bonus

    await signup_bonus(tenant, UUID(event["customer_id"]), await settings_for(tenant))


@hookimpl(optionalhook=True)  # the surveys plugin's event; nothing happens without it
async def on_survey_completed(tenant: TenantInfo, event: dict[str, Any]) -> None:
    from plugins.loyalty.ledger import survey_bonus

    await survey_bonus(tenant, event, await settings_for(tenant))


@hookimpl
async def on_purchase_refunded(tenant: TenantInfo, event: dict[str, Any]) -> None:
    from plugins.loyalty.ledger import reverse

    await reverse(tenant, event)


@hookimpl
def register_graphql() -> list[Any]:
    from plugins.loyalty.graphql import contributions

    return contributions()


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
    the record of a liability; free-text reasons are cleared only if they could name someone —
    they are staff-written, so they are kept."""
    return None


@hookimpl
def register_scheduled_jobs() -> list[Any]:
    from core import ScheduledJob

    async def evaluate_tiers(tenant: TenantInfo) -> None:
        import datetime as dt

        from plugins.loyalty.tiers import evaluate

        await evaluate(tenant, await settings_for(tenant), dt.datetime.now(dt.UTC))

    async def expire_points(tenant: TenantInfo) -> None:
        import datetime as dt

        from plugins.loyalty.expiry import expire

        await expire(tenant, await settings_for(tenant), dt.datetime.now(dt.UTC))

    async def release_pending(tenant: TenantInfo) -> None:
        import datetime as dt

        from plugins.loyalty.ledger import release_pending

        await release_pending(tenant, await settings_for(tenant), dt.datetime.now(dt.UTC))

    return [
        ScheduledJob(
            name="loyalty.pending_hourly",
            cron="20 * * * *",
            run=release_pending,
            description="Make pending points spendable once their return window has passed",
        ),
        ScheduledJob(
            name="loyalty.expiry_nightly",
            cron="0 18 * * *",  # 02:00 in China
            run=expire_points,
            description="Expire lapsed points (FIFO); notify points expiring soon",
        ),
        ScheduledJob(
            name="loyalty.tiers_nightly",
            cron="30 18 * * *",  # 02:30 in China
            run=evaluate_tiers,
            description="Demote after the downgrade period; send tier notices",
        ),
    ]


@hookimpl
def register_kpis() -> list[Any]:
    from plugins.loyalty.kpis import kpis

    return kpis()
