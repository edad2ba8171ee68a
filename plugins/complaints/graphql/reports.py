"""The register and the report over GraphQL: ``complaintRegister(storeId, date)`` (the store
manager's day) and ``complaintReport(storeId, from, to, periods)`` (the operations manager's
week, or any run of days, with the trend). A store the caller does not see answers null."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any, TypeVar
from uuid import UUID

import strawberry
from strawberry.types import Info

from core import (
    Connection,
    NotFound,
    ValidationFailed,
    check_first,
    connection,
    context_of,
    decode_cursor,
    from_global_id,
    to_global_id,
)
from plugins.complaints import reports, stats
from plugins.complaints.categories import category_tree
from plugins.complaints.graphql.praise import (
    ComplaintDamage,
    ComplaintPraise,
    damage_view,
    praise_view,
)
from plugins.complaints.graphql.types import Complaint, complaint_view
from plugins.complaints.settings import ComplaintsSettings

__all__ = ["resolve_register", "resolve_report"]

CHANNEL_NAMES = {
    "phone": "电话",
    "letter": "信件",
    "in_store": "门店现场",
    "online_form": "在线表单",
    "email": "电子邮件",
    "wechat": "微信",
    "media": "媒体",
    "regulator": "行政部门",
    "survey": "问卷",
}
RESOLUTION_NAMES = {
    "": "未处理完",
    "return": "退货",
    "exchange": "换货",
    "price_adjustment": "调整价格",
    "service_change": "改变服务",
    "explanation": "解释说明",
    "compensation": "补偿",
}


def _arg(description: str, **kw: Any) -> Any:
    return strawberry.argument(description=description, **kw)


AFTER = Annotated[str | None, strawberry.argument(description="Cursor of the last item seen.")]
T = TypeVar("T")


def page(items: list[T], first: int, after: str | None) -> Connection[T]:
    """A page of a register's or report's bounded list (its cursor: the position)."""
    check_first(first)
    cursor = decode_cursor(after)
    try:
        start = int(cursor) + 1 if cursor is not None else 0
    except ValueError:
        raise ValidationFailed("malformed cursor", field="after", code="invalid_cursor") from None
    position = {id(item): n for n, item in enumerate(items)}
    return connection(items[start : start + first + 1], lambda i: str(position[id(i)]), first)


@strawberry.enum(description="Why a complaint needs action on the register's day.")
class ComplaintAttention(Enum):
    OVERDUE = "overdue"
    WAITING = "waiting"
    DUE_TODAY = "due_today"


@strawberry.type(description="A complaint the store must act on, and why.")
class ComplaintRegisterAction:
    complaint: Complaint = strawberry.field(description="The complaint.")
    reasons: list[ComplaintAttention] = strawberry.field(description="Why it needs action.")


@strawberry.type(description="A product several complaints named: to report to its supplier.")
class ComplaintFlaggedProduct:
    sku: str = strawberry.field(description="The SKU.")
    product: str = strawberry.field(description="The product's name, as the complaints gave it.")
    count: int = strawberry.field(description="Complaints naming it within the window.")
    first_at: dt.datetime = strawberry.field(description="The first of them.")
    last_at: dt.datetime = strawberry.field(description="The latest of them.")
    store_ids: list[strawberry.ID] = strawberry.field(description="The stores that had them.")


@strawberry.type(description="The store manager's register of a day (店长每天翻阅的投诉登记本).")
class ComplaintRegister:
    store_id: strawberry.ID = strawberry.field(description="The store.")
    date: dt.date = strawberry.field(description="The day, in the store's timezone.")
    timezone: str = strawberry.field(description="The store's timezone.")
    workday: bool = strawberry.field(description="A working day on the store's calendar.")
    complaint_rows: strawberry.Private[list[Complaint]]
    praise_rows: strawberry.Private[list[ComplaintPraise]]
    damage_rows: strawberry.Private[list[ComplaintDamage]]

    @strawberry.field(
        description="Every complaint and suggestion received that day, in order (the register's "
        "rows: name, phone, reason, receiver, handler, times, result; at most 500)."
    )
    def complaints(
        self, first: Annotated[int, _arg("Page size, 1-100.")] = 100, after: AFTER = None
    ) -> Connection[Complaint]:
        return page(self.complaint_rows, first, after)

    @strawberry.field(description="Praise received that day, to read out at the store meeting.")
    def praise(
        self, first: Annotated[int, _arg("Page size, 1-100.")] = 100, after: AFTER = None
    ) -> Connection[ComplaintPraise]:
        return page(self.praise_rows, first, after)

    @strawberry.field(description="Damaged goods that day.")
    def damages(
        self, first: Annotated[int, _arg("Page size, 1-100.")] = 100, after: AFTER = None
    ) -> Connection[ComplaintDamage]:
        return page(self.damage_rows, first, after)

    action_needed: list[ComplaintRegisterAction] = strawberry.field(
        description="The store's complaints needing action that day, whenever received: "
        "overdue, waiting for the customer, or due before the day ends."
    )
    flagged_products: list[ComplaintFlaggedProduct] = strawberry.field(
        description="Products flagged for the supplier in the window ending with the day."
    )


@strawberry.type(description="A count of complaints by one value (a category, a channel …).")
class ComplaintCount:
    key: str = strawberry.field(description="The value: a code ('' when none).")
    name: str = strawberry.field(description="Its zh-CN name.")
    count: int = strawberry.field(description="How many complaints.")


@strawberry.type(description="A period's complaint figures (definitions in the plugin README).")
class ComplaintPeriodFigures:
    first_day: dt.date = strawberry.field(description="The period's first day.")
    last_day: dt.date = strawberry.field(description="The period's last day.")
    received: int = strawberry.field(description="Complaints received.")
    suggestions: int = strawberry.field(description="Suggestions received.")
    open: int = strawberry.field(description="Of the complaints, those still open now.")
    acknowledge_hit_rate: float | None = strawberry.field(
        description="% acknowledged within their SLA (of those decided; null: none)."
    )
    resolve_hit_rate: float | None = strawberry.field(
        description="% resolved within their SLA (of those decided; null: none)."
    )
    median_acknowledge_hours: float | None = strawberry.field(
        description="Median clock hours from received to acknowledged."
    )
    median_resolve_hours: float | None = strawberry.field(
        description="Median clock hours from received to resolved."
    )
    median_acknowledge_business_hours: float | None = strawberry.field(
        description="Median business hours (the store's opening hours, holidays and 调休) from "
        "received to acknowledged: a complaint received at 20:30 on Saturday by a store that "
        "closes at 21:00 and acknowledged at 10:00 on Sunday (opening at 09:00) took 1.5."
    )
    median_resolve_business_hours: float | None = strawberry.field(
        description="Median business hours from received to resolved (the latest resolution)."
    )
    reopen_rate: float | None = strawberry.field(
        description="% of those resolved that were reopened."
    )
    praise: int = strawberry.field(description="Praise received.")


@strawberry.type(description="The operations manager's complaint report (每周向营运经理汇报).")
class ComplaintReport:
    store_id: strawberry.ID | None = strawberry.field(description="The store (null: the chain).")
    timezone: str = strawberry.field(description="The days are this timezone's.")
    figures: ComplaintPeriodFigures = strawberry.field(description="The period's figures.")
    by_category: list[ComplaintCount] = strawberry.field(
        description="The main complaints: by category, most first."
    )
    by_channel: list[ComplaintCount] = strawberry.field(description="By channel, most first.")
    by_resolution: list[ComplaintCount] = strawberry.field(
        description="How they were handled: by resolution type ('' not resolved yet)."
    )
    flagged_products: list[ComplaintFlaggedProduct] = strawberry.field(
        description="Products flagged for the supplier in the window ending with the period."
    )
    trend: list[ComplaintPeriodFigures] = strawberry.field(
        description="The same figures for the equal periods before, oldest first."
    )
    praise_rows: strawberry.Private[list[ComplaintPraise]]

    @strawberry.field(description="The period's praise, newest first (at most 100).")
    def praise(
        self, first: Annotated[int, _arg("Page size, 1-100.")] = 100, after: AFTER = None
    ) -> Connection[ComplaintPraise]:
        return page(self.praise_rows, first, after)


def _flagged(found: list[stats.Flagged]) -> list[ComplaintFlaggedProduct]:
    return [
        ComplaintFlaggedProduct(
            sku=f.sku,
            product=f.product,
            count=f.count,
            first_at=f.first_at,
            last_at=f.last_at,
            store_ids=[to_global_id("Store", s) for s in f.store_ids],
        )
        for f in found
    ]


def _store(value: strawberry.ID | None) -> UUID | None:
    return from_global_id(value, "Store", field="store_id") if value is not None else None


async def _settings(info: Info) -> ComplaintsSettings:
    found: ComplaintsSettings = await context_of(info).settings("complaints")
    return found


async def resolve_register(
    info: Info,
    store_id: Annotated[strawberry.ID, _arg("The store.")],
    date: Annotated[dt.date, _arg("The day, in the store's timezone.")],
) -> ComplaintRegister | None:
    tenant, actor = context_of(info).caller()
    actor.require("complaints:read")
    try:
        store = _store(store_id)
        assert store is not None
        found = await reports.register(tenant, actor, await _settings(info), store, date)
    except NotFound:
        return None
    return ComplaintRegister(
        store_id=to_global_id("Store", found.store_id),
        date=found.day,
        timezone=found.timezone,
        workday=found.workday,
        complaint_rows=[complaint_view(r) for r in found.complaints],
        action_needed=[
            ComplaintRegisterAction(
                complaint=complaint_view(a.row),
                reasons=[ComplaintAttention(r) for r in a.reasons],
            )
            for a in found.attention
        ],
        praise_rows=[praise_view(r) for r in found.praise],
        damage_rows=[damage_view(r) for r in found.damages],
        flagged_products=_flagged(found.flagged),
    )


def _period(f: stats.PeriodFigures, zone: str) -> ComplaintPeriodFigures:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    return ComplaintPeriodFigures(
        first_day=f.start.astimezone(tz).date(),
        last_day=(f.end.astimezone(tz) - dt.timedelta(days=1)).date(),
        received=f.counts.received,
        suggestions=f.counts.suggestions,
        open=f.counts.open,
        acknowledge_hit_rate=f.counts.ack_hit_rate,
        resolve_hit_rate=f.counts.resolve_hit_rate,
        median_acknowledge_hours=f.median_ack_hours,
        median_resolve_hours=f.median_resolve_hours,
        median_acknowledge_business_hours=f.median_ack_business_hours,
        median_resolve_business_hours=f.median_resolve_business_hours,
        reopen_rate=f.counts.reopen_rate,
        praise=f.praise,
    )


async def resolve_report(
    info: Info,
    from_: Annotated[dt.date, _arg("The first day (local).", name="from")],
    to: Annotated[dt.date, _arg("The last day (local, inclusive; at most 366 days).")],
    store_id: Annotated[
        strawberry.ID | None, _arg("The store; omitted: the chain (chain-wide roles).")
    ] = None,
    periods: Annotated[int, _arg("Equal periods before it for the trend, 0-12.")] = 4,
) -> ComplaintReport | None:
    tenant, actor = context_of(info).caller()
    actor.require("complaints:read")
    settings = await _settings(info)
    try:
        store = _store(store_id)
        found = await reports.report(tenant, actor, settings, store, from_, to, periods=periods)
    except NotFound:
        return None
    names = {c.code: c.zh for c in category_tree(settings)} | {"": "未分类"}
    dims = {"category": names, "channel": CHANNEL_NAMES, "resolution": RESOLUTION_NAMES}

    def counts(dimension: str) -> list[ComplaintCount]:
        return [
            ComplaintCount(key=b.key, name=dims[dimension].get(b.key, b.key), count=b.count)
            for b in found.breakdowns
            if b.dimension == dimension
        ]

    return ComplaintReport(
        store_id=to_global_id("Store", store) if store else None,
        timezone=found.timezone,
        figures=_period(found.current, found.timezone),
        by_category=counts("category"),
        by_channel=counts("channel"),
        by_resolution=counts("resolution"),
        praise_rows=[praise_view(r) for r in found.praise],
        flagged_products=_flagged(found.flagged),
        trend=[_period(p, found.timezone) for p in reversed(found.periods[1:])],
    )
