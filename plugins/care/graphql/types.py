"""The care plugin's GraphQL output types and enums (closed sets upper case in the schema,
lower case in Python)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core import Connection, Node, to_global_id
from plugins.care.campaigns import KindSettings
from plugins.care.results import GroupResult, Results

__all__ = [
    "CareCampaign",
    "CareCampaignKind",
    "CareCampaignState",
    "CareResults",
    "CareRun",
    "CareStoreResult",
    "campaign_view",
    "results_view",
    "run_view",
]


@strawberry.enum(description="What a campaign celebrates or follows up.")
class CareCampaignKind(Enum):
    BIRTHDAY = "birthday"
    FESTIVAL = "festival"
    THANK_YOU = "thank_you"
    REVISIT = "revisit"
    WINBACK = "winback"
    POINTS_EXPIRING = "points_expiring"
    ONE_OFF = "one_off"


@strawberry.enum(description="Draft (not sending), active (sending when due) or paused.")
class CareCampaignState(Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"


@strawberry.enum(description="Whether the audience needs, or has, an owner's or HQ's approval.")
class CareApproval(Enum):
    NOT_REQUESTED = ""
    REQUIRED = "required"
    APPROVED = "approved"


@strawberry.enum(description="A run: fanning out its messages, or done.")
class CareRunStatus(Enum):
    FANNING = "fanning"
    DONE = "done"


@strawberry.enum(description="What started a run.")
class CareRunTrigger(Enum):
    MANUAL = "manual"
    SCHEDULE = "schedule"


@strawberry.enum(description="The offer granted with a campaign's message (by loyalty).")
class CareOffer(Enum):
    NONE = ""
    POINTS = "points"
    COUPON = "coupon"


@strawberry.type(description="A campaign kind's settings (those of other kinds are ignored).")
class CareCampaignSettings:
    days_before: int = strawberry.field(description="Birthday/festival: days before (0: on it).")
    festival: str = strawberry.field(description="Festival: the calendar's festival key.")
    first_purchase_only: bool = strawberry.field(description="Thank-you: first purchases only.")
    min_amount: str = strawberry.field(description="Thank-you: purchases from this amount.")
    delay_hours: int = strawberry.field(description="Thank-you: hours after the purchase.")
    every_days: int = strawberry.field(description="Revisit: every this many days.")
    high_value_classes: list[str] = strawberry.field(
        description="Revisit: value classes that become call tasks."
    )
    lifecycles: list[str] = strawberry.field(description="Win-back: lifecycle stages targeted.")
    offer: CareOffer = strawberry.field(description="The offer granted with the message.")
    offer_points: int = strawberry.field(description="Points granted (offer POINTS).")
    offer_coupon: str = strawberry.field(description="Coupon granted (offer COUPON).")


@strawberry.type(description="An A/B variant: its message and share of the treatment group.")
class CareVariant:
    key: str = strawberry.field(description="Stable key.")
    message: str = strawberry.field(description="The message text.")
    weight: int = strawberry.field(description="Relative share of the treatment group.")


@strawberry.type(description="Messages suppressed for one reason.")
class CareSuppression:
    reason: str = strawberry.field(description="`no_consent`, `frequency_cap`, `no_address` …")
    count: int = strawberry.field(description="How many.")


@strawberry.type(description="A group's figures (treatment, control or a variant).")
class CareGroupResult:
    targeted: int = strawberry.field(description="Customers in the group.")
    queued: int = strawberry.field(description="Messages handed to the messaging pipeline.")
    sent: int = strawberry.field(description="Of those, sent (accepted by the channel).")
    delivered: int = strawberry.field(description="Delivered (the channel's acceptance).")
    failed: int = strawberry.field(description="Of those, failed for good.")
    suppressed: list[CareSuppression] = strawberry.field(description="Not sent, by reason.")
    tasks: int = strawberry.field(
        description="Call tasks created instead of a message (a revisit's high-value customers)."
    )
    offers_granted: int = strawberry.field(
        description="Offers granted with a queued message (loyalty gives the points or coupon)."
    )
    offers_redeemed: int = strawberry.field(
        description="Offers redeemed: their coupon was used (as loyalty reports it)."
    )
    purchasers: int = strawberry.field(description="Customers who purchased within the window.")
    purchase_rate: float = strawberry.field(description="Purchasers / targeted (0-1).")
    spend: str = strawberry.field(description="Their net spend in the window (decimal).")


@strawberry.type(description="A variant's figures.")
class CareVariantResult:
    key: str = strawberry.field(description="The variant.")
    result: CareGroupResult = strawberry.field(description="Its figures.")


@strawberry.type(
    description="One store's share of the results: its customers (their home store when the "
    "run snapshotted them), treatment against control."
)
class CareStoreResult:
    store_id: strawberry.ID | None = strawberry.field(
        description="The store (null: customers without a home store)."
    )
    treatment: CareGroupResult = strawberry.field(description="The store's customers sent it.")
    control: CareGroupResult = strawberry.field(description="The store's customers held out.")
    uplift: float = strawberry.field(description="Treatment's purchase rate minus control's.")
    p_value: float | None = strawberry.field(
        description="Two-sided two-proportion z-test (null without a control group)."
    )
    pending: int = strawberry.field(description="The store's targets not yet fanned out.")


@strawberry.type(description="Treatment against control: purchases within the window.")
class CareResults:
    treatment: CareGroupResult = strawberry.field(description="Customers sent the campaign.")
    control: CareGroupResult = strawberry.field(description="Customers held out.")
    variants: list[CareVariantResult] = strawberry.field(description="Per A/B variant.")
    uplift: float = strawberry.field(description="Treatment's purchase rate minus control's.")
    p_value: float | None = strawberry.field(
        description="Two-sided two-proportion z-test (null without a control group)."
    )
    pending: int = strawberry.field(description="Targets not yet fanned out.")
    by_store: list[CareStoreResult] = strawberry.field(
        description="The same figures per store (the stores the caller may see), by the "
        "customers' home store when the run snapshotted them."
    )


def _money(minor: int, currency: str) -> str:
    from core import from_minor

    return str(from_minor(minor, currency))


def group_view(g: GroupResult, currency: str) -> CareGroupResult:
    return CareGroupResult(
        targeted=g.targeted,
        queued=g.queued,
        sent=g.sent,
        delivered=g.sent,
        failed=g.failed,
        suppressed=[CareSuppression(reason=r, count=n) for r, n in sorted(g.suppressed.items())],
        tasks=g.tasks,
        offers_granted=g.offers_granted,
        offers_redeemed=g.offers_redeemed,
        purchasers=g.purchasers,
        purchase_rate=round(g.rate, 6),
        spend=_money(g.spend_minor, currency),
    )


def store_view(store: UUID | None, r: Results, currency: str) -> CareStoreResult:
    return CareStoreResult(
        store_id=to_global_id("Store", store) if store is not None else None,
        treatment=group_view(r.treatment, currency),
        control=group_view(r.control, currency),
        uplift=round(r.uplift, 6),
        p_value=r.p_value,
        pending=r.pending,
    )


def results_view(
    r: Results, currency: str, sees_store: Callable[[UUID | None], bool] = lambda _s: True
) -> CareResults:
    return CareResults(
        treatment=group_view(r.treatment, currency),
        control=group_view(r.control, currency),
        variants=[
            CareVariantResult(key=k, result=group_view(v, currency))
            for k, v in sorted(r.variants.items())
        ],
        uplift=round(r.uplift, 6),
        p_value=r.p_value,
        pending=r.pending,
        by_store=[
            store_view(store, found, currency)
            for store, found in sorted(r.by_store.items(), key=lambda i: (i[0] is None, str(i[0])))
            if sees_store(store)
        ],
    )


@strawberry.type(description="A run of a campaign for one occurrence.")
class CareRun(Node):
    occurrence: str = strawberry.field(
        description="What it is for: a year (birthday), a date (festival), `once` (one-off)."
    )
    trigger: CareRunTrigger = strawberry.field(description="Started by hand or by schedule.")
    status: CareRunStatus = strawberry.field(description="Fanning out, or done.")
    targeted: int = strawberry.field(description="Customers snapshotted for it.")
    started_at: dt.datetime = strawberry.field(description="When it started.")
    finished_at: dt.datetime | None = strawberry.field(description="When it was done.")
    uid: strawberry.Private[UUID]
    campaign_uid: strawberry.Private[UUID]

    @strawberry.field(description="This run's results, treatment against control.")
    async def results(self, info: Info) -> CareResults:
        from plugins.care.graphql.operations import resolve_run_results

        return await resolve_run_results(self, info)


def run_view(r: dict[str, Any]) -> CareRun:
    return CareRun(
        id=to_global_id("CareRun", UUID(str(r["id"]))),
        uid=UUID(str(r["id"])),
        campaign_uid=UUID(str(r["campaign_id"])),
        occurrence=r["occurrence"],
        trigger=CareRunTrigger(r["trigger"]),
        status=CareRunStatus(r["status"]),
        targeted=int(r["targeted"]),
        started_at=r["started_at"],
        finished_at=r["finished_at"],
    )


@strawberry.type(description="A care campaign (birthday, festival, thank-you, revisit …).")
class CareCampaign(Node):
    name: str = strawberry.field(description="Internal name.")
    kind: CareCampaignKind = strawberry.field(description="What it celebrates or follows up.")
    state: CareCampaignState = strawberry.field(description="Draft, active or paused.")
    segment_id: strawberry.ID | None = strawberry.field(description="The audience's segment.")
    message_channel: str = strawberry.field(description="The message channel's key (`sms` …).")
    message: str = strawberry.field(description="The message text (without A/B variants).")
    settings: CareCampaignSettings = strawberry.field(description="The kind's settings.")
    control_pct: int = strawberry.field(description="Hold-out group, percent of the audience.")
    variants: list[CareVariant] = strawberry.field(description="A/B variants (may be empty).")
    window_days: int = strawberry.field(description="Purchases counted within this many days.")
    approval: CareApproval = strawberry.field(description="Approval of a large audience.")
    approved_at: dt.datetime | None = strawberry.field(description="When it was approved.")
    created_at: dt.datetime = strawberry.field(description="When created.")
    updated_at: dt.datetime = strawberry.field(description="When last changed.")
    uid: strawberry.Private[UUID]
    raw: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="The campaign's runs, newest first.")
    async def runs(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 1-100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor of the last run seen.")
        ] = None,
    ) -> Connection[CareRun]:
        from plugins.care.graphql.operations import resolve_runs

        return await resolve_runs(self, info, first, after)

    @strawberry.field(description="All runs' results together, treatment against control.")
    async def results(self, info: Info) -> CareResults:
        from plugins.care.graphql.operations import resolve_campaign_results

        return await resolve_campaign_results(self, info)


def settings_view(s: KindSettings, currency: str) -> CareCampaignSettings:
    return CareCampaignSettings(
        days_before=s.days_before,
        festival=s.festival,
        first_purchase_only=s.first_purchase_only,
        min_amount=_money(s.min_amount_minor, currency),
        delay_hours=s.delay_hours,
        every_days=s.every_days,
        high_value_classes=list(s.high_value_classes),
        lifecycles=list(s.lifecycles),
        offer=CareOffer(s.offer),
        offer_points=s.offer_points,
        offer_coupon=s.offer_coupon,
    )


def campaign_view(r: dict[str, Any], currency: str) -> CareCampaign:
    return CareCampaign(
        id=to_global_id("CareCampaign", r["id"]),
        uid=r["id"],
        raw=r,
        name=r["name"],
        kind=CareCampaignKind(r["kind"]),
        state=CareCampaignState(r["state"]),
        segment_id=to_global_id("Segment", r["segment_id"]) if r["segment_id"] else None,
        message_channel=r["channel"],
        message=r["message"],
        settings=settings_view(r["settings"], currency),
        control_pct=int(r["control_pct"]),
        variants=[
            CareVariant(key=v.key, message=v.message, weight=v.weight) for v in r["variants"]
        ],
        window_days=int(r["window_days"]),
        approval=CareApproval(r["approval"]),
        approved_at=r["approved_at"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )
