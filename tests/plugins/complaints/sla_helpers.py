"""Shared drivers for the SLA and escalation tests: stores with given hours in Asia/Shanghai,
staff on the ladder, complaints filed at a given instant, the workflow's clock set by the test,
and the rows as stored."""

from __future__ import annotations

import datetime as dt
import types
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAILY_9_21 = {d: ["09:00-21:00"] for d in WEEK}
LUNCH_BREAK = {d: ["09:00-12:00", "13:00-21:00"] for d in WEEK}
WEEKDAYS_9_18 = {d: ["09:00-18:00"] for d in WEEK[:5]} | {"holiday_policy": "closed"}


def local(day: str, hhmm: str) -> dt.datetime:
    """``local("2026-12-05", "20:00")``: that wall-clock time in Asia/Shanghai."""
    return dt.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=SHANGHAI)


SATURDAY_EVENING = local("2026-12-05", "20:00")  # an hour before a 09:00-21:00 store closes


async def make_store(tenant: Any, owner: Any, code: str, hours: dict[str, Any] | None) -> UUID:
    """A store open ``hours`` (``None``: not configured, open around the clock), set through
    the core's calendar service as ``storeUpdate`` does."""
    from core.calendars import set_business_hours
    from tenants.service import create_store

    row = await create_store(tenant, owner, {"code": code, "name": f"门店 {code}"})
    store_id = UUID(str(row["id"]))
    await set_business_hours(tenant, owner, store_id, hours, timezone="Asia/Shanghai")
    return store_id


async def make_staff(
    tenant: Any, owner: Any, login: str, role: str, stores: list[UUID] | None = None
) -> UUID:
    """A staff member with a work phone (the ``log`` channel addresses staff by phone)."""
    from tenants.credentials import create_staff

    n = sum(map(ord, login)) % 10_000
    return await create_staff(
        tenant,
        owner,
        {
            "login": login,
            "name": login,
            "password": "correct horse battery",
            "role": role,
            "store_ids": [str(s) for s in stores or []],
            "phone": f"1390000{n:04d}",
        },
    )


async def file_complaint(
    tenant: Any, owner: Any, settings: Any, store_id: UUID | None, at: dt.datetime, **extra: Any
) -> UUID:
    """A complaint received at ``at`` (by phone unless ``channel`` says otherwise)."""
    from plugins.complaints.records import create_complaint

    data = {"channel": "phone", "summary": "收银员多收了钱", "store_id": store_id} | extra
    created = await create_complaint(tenant, owner, settings, data, now=at)
    return created.id


async def row_of(tenant: Any, complaint_id: UUID) -> dict[str, Any]:
    """The complaint as stored (its due times in UTC)."""
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT * FROM complaints_complaint WHERE tenant_id = {} AND id = {}",
            tenant.id,
            complaint_id,
        )
    return rows[0]


def due_times(row: dict[str, Any]) -> dict[str, dt.datetime | None]:
    """The four SLA instants of a row, as Asia/Shanghai wall-clock times for reading."""
    return {
        k: row[k].astimezone(SHANGHAI) if row[k] is not None else None
        for k in ("ack_warn_at", "ack_due_at", "resolve_warn_at", "resolve_due_at")
    }


class Clock:
    """The workflow's clock, set by the test: transitions happen at :attr:`now`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: dt.datetime) -> None:
        from plugins.complaints import workflow

        self.now = at
        clock = self

        class Frozen(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
                return clock.now.astimezone(tz)

        shim = types.SimpleNamespace(**{k: getattr(dt, k) for k in dir(dt) if k[0] != "_"})
        shim.datetime = Frozen
        monkeypatch.setattr(workflow, "dt", shim)

    def set(self, at: dt.datetime) -> None:
        self.now = at


async def acknowledged(
    tenant: Any, owner: Any, settings: Any, store_id: UUID, monkeypatch: pytest.MonkeyPatch
) -> tuple[UUID, Clock]:
    """A phone complaint filed on Saturday evening and acknowledged half an hour later; the
    workflow's clock, for the test's next steps."""
    from plugins.complaints import workflow

    cid = await file_complaint(tenant, owner, settings, store_id, SATURDAY_EVENING)
    clock = Clock(monkeypatch, local("2026-12-05", "20:30"))
    await workflow.acknowledge(tenant, owner, settings, cid)
    return cid, clock


async def resolve(tenant: Any, owner: Any, settings: Any, complaint_id: UUID) -> None:
    """Resolved by an explanation, the customer to be called back."""
    from plugins.complaints import workflow

    await workflow.resolve(
        tenant,
        owner,
        settings,
        complaint_id,
        resolution_type="explanation",
        resolution="向顾客解释并道歉",
        follow_up="call",
    )
