"""The care plugin's GraphQL inputs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from plugins.care.graphql.types import CareCampaignKind, CareCampaignState, CareOffer

__all__ = ["settings_data"]

UNSET: Any = strawberry.UNSET


@strawberry.input(description="A kind's settings (only those sent change).")
class CareCampaignSettingsInput:
    days_before: int | None = strawberry.field(
        default=UNSET, description="Birthday/festival: days before, 0-60 (0: on the day)."
    )
    festival: str | None = strawberry.field(
        default=UNSET, description="Festival: the core calendar's or a tenant festival's key."
    )
    first_purchase_only: bool | None = strawberry.field(
        default=UNSET, description="Thank-you: only after a customer's first purchase."
    )
    min_amount: Decimal | None = strawberry.field(
        default=UNSET, description="Thank-you: only purchases from this amount."
    )
    delay_hours: int | None = strawberry.field(
        default=UNSET, description="Thank-you: hours after the purchase, 0-720."
    )
    every_days: int | None = strawberry.field(
        default=UNSET, description="Revisit: every this many days, 1-365."
    )
    high_value_classes: list[str] | None = strawberry.field(
        default=UNSET, description="Revisit: value classes that become call tasks."
    )
    lifecycles: list[str] | None = strawberry.field(
        default=UNSET, description="Win-back: `at_risk`, `churned` (default both)."
    )
    offer: CareOffer | None = strawberry.field(
        default=UNSET, description="An offer granted with the message (by loyalty)."
    )
    offer_points: int | None = strawberry.field(default=UNSET, description="Points granted.")
    offer_coupon: str | None = strawberry.field(default=UNSET, description="Coupon granted.")


@strawberry.input(description="An A/B variant.")
class CareVariantInput:
    key: str = strawberry.field(description="Stable key: lower case letters, digits, `_`.")
    message: str = strawberry.field(description="The message text.")
    weight: int | None = strawberry.field(default=UNSET, description="Relative share (1-100).")


@strawberry.input(description="A new campaign (a draft).")
class CareCampaignCreateInput:
    name: str = strawberry.field(description="Internal name.")
    kind: CareCampaignKind = strawberry.field(description="What it celebrates or follows up.")
    message: str | None = strawberry.field(default=UNSET, description="The message text.")
    segment_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The audience's segment (required for ONE_OFF)."
    )
    message_channel: str | None = strawberry.field(
        default=UNSET, description="A message channel's key (default: the module's setting)."
    )
    settings: CareCampaignSettingsInput | None = strawberry.field(
        default=UNSET, description="The kind's settings."
    )
    control_pct: int | None = strawberry.field(
        default=UNSET, description="Hold-out group, 0-50 % (default 0)."
    )
    variants: list[CareVariantInput] | None = strawberry.field(
        default=UNSET, description="A/B variants (up to 5)."
    )
    window_days: int | None = strawberry.field(
        default=UNSET, description="Count purchases within this many days (1-90, default 14)."
    )
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description="The same key creates once."
    )


@strawberry.input(description="Changes to a campaign (only the fields sent change).")
class CareCampaignUpdateInput:
    id: strawberry.ID = strawberry.field(description="The campaign.")
    name: str | None = strawberry.field(default=UNSET, description="Internal name.")
    kind: CareCampaignKind | None = strawberry.field(
        default=UNSET, description="Changes only while a draft."
    )
    message: str | None = strawberry.field(default=UNSET, description="The message text.")
    segment_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The audience's segment (null: no segment)."
    )
    message_channel: str | None = strawberry.field(
        default=UNSET, description="A message channel's key."
    )
    settings: CareCampaignSettingsInput | None = strawberry.field(
        default=UNSET, description="The kind's settings."
    )
    control_pct: int | None = strawberry.field(default=UNSET, description="Hold-out, 0-50 %.")
    variants: list[CareVariantInput] | None = strawberry.field(
        default=UNSET, description="A/B variants (replaces them)."
    )
    window_days: int | None = strawberry.field(default=UNSET, description="Purchase window.")


@strawberry.input(description="The campaign to activate (it sends when due).")
class CareCampaignActivateInput:
    id: strawberry.ID = strawberry.field(description="The campaign.")


@strawberry.input(description="The campaign to pause (it sends nothing until re-activated).")
class CareCampaignPauseInput:
    id: strawberry.ID = strawberry.field(description="The campaign.")


@strawberry.input(description="The campaign whose audience you approve (owner or HQ).")
class CareCampaignApproveInput:
    id: strawberry.ID = strawberry.field(description="The campaign.")


@strawberry.input(description="Run a campaign now, or send a test to staff members.")
class CareCampaignRunNowInput:
    id: strawberry.ID = strawberry.field(description="The campaign.")
    occurrence: str | None = strawberry.field(
        default=UNSET,
        description="What the run is for (default: `once` for a one-off, else today's date); "
        "a second run of the same occurrence reaches nobody twice.",
    )
    test_staff_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET,
        description="A test send: the message to these staff members only (no run, no results).",
    )


@strawberry.input(description="Which campaigns.")
class CareCampaignFilter:
    kind: CareCampaignKind | None = strawberry.field(default=UNSET, description="Of this kind.")
    state: CareCampaignState | None = strawberry.field(default=UNSET, description="In this state.")


def settings_data(data: dict[str, Any], currency: str) -> dict[str, Any]:
    """The input's settings as :class:`~plugins.care.campaigns.KindSettings` fields."""
    from core import to_minor

    out = dict(data)
    if "min_amount" in out:
        amount = out.pop("min_amount")
        out["min_amount_minor"] = (
            to_minor(amount, currency, field="settings.minAmount") if amount is not None else 0
        )
    return {k: v for k, v in out.items() if v is not None}
