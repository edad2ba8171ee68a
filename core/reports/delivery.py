"""Who gets the weekly report, how they open it, and the Monday job that sends it.

Every Monday from 08:00 in a store's timezone, each of its store managers gets that store's
report for the week just ended, and at 08:00 in the tenant's timezone the operations managers
(``hq_manager``) and owners get the chain's — by e-mail to their work address, through the
messaging pipeline (transactional, idempotent per recipient and week). The message holds the
key figures as text and a signed link to the page (valid 30 days, for that recipient: it stops
working when they are deactivated or no longer see the store). A worker that was down at 08:00
catches up until the end of Monday.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from core.config import get_settings
from core.context import Actor, TenantInfo
from core.db import fetch, tenant_tx
from core.errors import NotFound
from core.idempotency import claim
from core.links import read_token, sign_token
from core.lookups import StaffFacts, find_tenant, staff_facts, staff_in_roles
from core.messaging import MessageRequest, enqueue_many
from core.reports.render import text_summary
from core.reports.weekly import WeeklyReport, last_week, weekly_report

if TYPE_CHECKING:
    from core.messaging import ChannelSet
    from core.plugins.runtime import PluginRuntime

__all__ = [
    "LINK_DAYS",
    "ReportLink",
    "open_report_link",
    "report_link",
    "send_weekly_reports",
]

log = logging.getLogger("mendian.reports")
LINK_DAYS = 30
SEND_HOUR = 8
PURPOSE = "weekly-report"
STORE_ROLES = ("store_manager",)
CHAIN_ROLES = ("hq_manager", "owner")


def public_url() -> str:
    """Where people open Mendian's pages (``MENDIAN_PUBLIC_URL``)."""
    return get_settings().public_url.rstrip("/")


class ReportLink:
    """The signed page and download links of one report."""

    def __init__(self, token: str, base: str | None = None) -> None:
        self.token = token
        self.base = (public_url() if base is None else base).rstrip("/")  # "": a path

    @property
    def page(self) -> str:
        return f"{self.base}/reports/weekly/{self.token}"

    @property
    def workbook(self) -> str:
        return f"{self.page}/tables.xlsx"

    def table(self, key: str, fmt: str = "csv") -> str:
        return f"{self.page}/tables/{key}.{fmt}"


def report_link(
    tenant: TenantInfo,
    store_id: UUID | None,
    week_start: dt.date,
    locale: str,
    *,
    staff_id: UUID | str | None = None,
    base: str | None = None,
    now: dt.datetime | None = None,
) -> ReportLink:
    """A link to a report, for a staff member (checked again when it is opened) or, without
    one, for whoever holds it (an API key's caller) until it expires."""
    expires = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(days=LINK_DAYS)
    payload = {
        "t": tenant.slug,
        "s": str(store_id) if store_id else None,
        "w": week_start.isoformat(),
        "l": locale,
        "u": str(staff_id) if staff_id else None,
    }
    return ReportLink(sign_token(PURPOSE, payload, expires=expires), base)


def _reader(member: StaffFacts | None, store_id: UUID | None) -> Actor | None:
    """The actor a link reads the report as: its staff member as they are now, allowed only
    this report; None if they may no longer see it."""
    if member is None:
        return Actor(kind="system", id="report-link", permissions=frozenset({"kpis:read"}))
    if not member.active:
        return None
    if store_id is None and member.store_ids:
        return None
    if store_id is not None and not member.works_in(store_id):
        return None
    return Actor(
        kind="staff",
        id=str(member.id),
        role=member.role,
        permissions=frozenset({"kpis:read"}),
        store_ids=frozenset(member.store_ids) or None,
    )


async def open_report_link(
    token: str, *, runtime: PluginRuntime | None
) -> tuple[WeeklyReport, str]:
    """The report a link names (computed now) and its locale; a bad, expired or revoked
    link is :class:`NotFound`."""
    payload = read_token(PURPOSE, token)
    gone = NotFound("this link is not valid or has expired", field="token")
    try:
        tenant = await find_tenant(str(payload["t"]))
        store_id = UUID(payload["s"]) if payload.get("s") else None
        week_start = dt.date.fromisoformat(str(payload["w"]))
        staff_id = UUID(payload["u"]) if payload.get("u") else None
    except (KeyError, ValueError, TypeError):
        raise gone from None
    if tenant is None or tenant.status != "active":
        raise gone
    member = None
    if staff_id is not None:
        member = (await staff_facts(tenant, [staff_id])).get(staff_id)
        if member is None:
            raise gone
    actor = _reader(member, store_id)
    if actor is None:
        raise gone
    report = await weekly_report(tenant, actor, store_id, week_start, runtime=runtime)
    return report, str(payload.get("l") or tenant.locale)


async def _emails(tenant: TenantInfo, members: list[StaffFacts]) -> list[StaffFacts]:
    """Those of ``members`` with a work e-mail address."""
    if not members:
        return []
    ids = [m.id for m in members]
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT id FROM staff WHERE tenant_id = {} AND email_enc IS NOT NULL AND id IN ("
            + ", ".join("{}" for _ in ids)
            + ")",
            tenant.id,
            *ids,
        )
    with_email = {UUID(str(r["id"])) for r in rows}
    return [m for m in members if m.id in with_email]


def _due(now: dt.datetime, timezone: str) -> dt.date | None:
    """The week to send at ``now`` in ``timezone``: Monday from 08:00 to midnight, the week
    just ended; otherwise None."""
    local = now.astimezone(ZoneInfo(timezone))
    if local.isoweekday() != 1 or local.hour < SEND_HOUR:
        return None
    return last_week(now, timezone)


async def _sent(tenant: TenantInfo, key: str) -> bool:
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT 1 AS x FROM idempotency_record WHERE tenant_id = {} AND scope = {} AND key = {}",
            tenant.id,
            PURPOSE,
            key,
        )
    return bool(rows)


async def _send_one(
    tenant: TenantInfo,
    store_id: UUID | None,
    store_name: str,
    week_start: dt.date,
    recipients: list[StaffFacts],
    runtime: PluginRuntime | None,
    channels: ChannelSet,
    now: dt.datetime,
) -> int:
    key = f"{store_id or 'chain'}:{week_start.isoformat()}"
    if not recipients or await _sent(tenant, key):
        return 0
    report = await weekly_report(
        tenant, Actor.system("weekly-report"), store_id, week_start, runtime=runtime, now=now
    )
    locale = tenant.locale
    summary = text_summary(report, locale)
    requests = [
        MessageRequest(
            customer_id=None,
            staff_id=member.id,
            channel="email",
            template_key="core.weekly_report",
            idempotency_key=f"weekly-report:{key}:{member.id}",
            source="core",
            purpose="service",
            transactional=True,
            store_id=store_id,
            locale=locale,
            context={
                "scope": store_name,
                "week_start": week_start.isoformat(),
                "week_end": report.week_end.isoformat(),
                "summary": summary,
                "url": report_link(
                    tenant, store_id, week_start, locale, staff_id=member.id, now=now
                ).page,
                "name": member.name,
            },
        )
        for member in recipients
    ]
    async with tenant_tx(tenant.id):
        if await claim(PURPOSE, key, {}, uuid4()) is not None:
            return 0  # another worker sent it meanwhile
        result = await enqueue_many(tenant, requests, channels, now=now)
    return result.queued


async def send_weekly_reports(
    tenant: TenantInfo,
    *,
    runtime: PluginRuntime | None,
    channels: ChannelSet,
    now: dt.datetime,
) -> int:
    """Send the reports due at ``now`` (run hourly); the number of messages queued."""
    queued = 0
    async with tenant_tx(tenant.id, write=False):
        stores = await fetch(
            "SELECT id, name, timezone FROM store WHERE tenant_id = {} AND closed_at IS NULL",
            tenant.id,
        )
    for store in stores:
        week = _due(now, store["timezone"] or tenant.timezone)
        if week is None:
            continue
        store_id = UUID(str(store["id"]))
        managers = await staff_in_roles(tenant, STORE_ROLES, store_id=store_id)
        managers = [m for m in managers if m.store_ids]  # the store's own managers
        queued += await _send_one(
            tenant,
            store_id,
            store["name"],
            week,
            await _emails(tenant, managers),
            runtime,
            channels,
            now,
        )
    week = _due(now, tenant.timezone)
    if week is not None:
        chain = [m for m in await staff_in_roles(tenant, CHAIN_ROLES) if not m.store_ids]
        queued += await _send_one(
            tenant, None, tenant.name, week, await _emails(tenant, chain), runtime, channels, now
        )
    return queued
