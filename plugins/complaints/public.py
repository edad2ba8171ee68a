"""The public form (意见箱 online): a customer with no account files a complaint or a
suggestion for a store, and follows it with a tracking token — through ``complaintSubmit`` /
``complaintStatus`` and the pages ``/feedback/<tenant>/<store>`` (:mod:`.pages`), which both
call this module.

* **Who is asked.** The tenant comes from its slug and the store from the code on its poster;
  an unknown tenant, a suspended one, one without the complaints module, an unknown or a
  closed store all answer the same :class:`NotFound` (``store``, "no such store"): the form
  tells nobody which tenants exist.
* **Floods.** Every call counts against its client address before anything is looked up
  (:data:`CLIENT_RATE`, the same for every tenant: none is known yet); a submission also
  against the tenant's ``form_client_rate`` (per address) and ``form_store_rate`` (per store),
  a status look-up against ``status_rate`` (per token), an answer also against
  ``answer_rate`` (per address).
* **What is kept.** The complaint goes through :func:`.records.create_complaint` with channel
  ``online_form``: the contact sealed, the SLA on the store's calendar, the
  ``complaints.received`` event. The token (:func:`core.new_public_token`, 256 bits) is
  answered once; the table keeps its hash.
* **What the customer sees** (:class:`PublicStatus`): the reference number, the state in
  their words, when it was received, the reply promised or due, and the resolution once
  resolved — never staff, notes, escalations or the contact.
* **What the customer answers** (:func:`answer`): once a complaint is resolved, whether they
  are satisfied — the follow-up of ``complaintFollowUp``, once per resolution. The token is
  the intake's or the one a follow-up message carried (:mod:`.satisfaction`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import core  # core.throttle: `from core import throttle` reads as the submodule to import-linter
from core import (
    Actor,
    MendianError,
    NotFound,
    StoreFacts,
    TenantInfo,
    ValidationFailed,
    fetch,
    find_tenant,
    hash_public_token,
    normalize_phone,
    public_token_slug,
    store_by_code,
    store_facts,
    tenant_tx,
    utc_value,
)
from plugins.complaints import workflow
from plugins.complaints.categories import check_category
from plugins.complaints.records import IntakeInput, create_complaint
from plugins.complaints.settings import ComplaintsSettings

__all__ = [
    "CLIENT_RATE",
    "STATE_TEXT",
    "PublicForm",
    "PublicStatus",
    "Submitted",
    "answer",
    "check_form",
    "open_form",
    "public_status",
    "submit",
]

CLIENT_RATE = "60/minute"  # any public call, per address, before its tenant is known
PUBLIC_ACTOR = Actor(
    kind="public", id="online_form", role="", permissions=frozenset({"complaints:create"})
)
# the customer answering on the status page: only the follow-up step, of the token's complaint
STATUS_PAGE_ACTOR = Actor(
    kind="public", id="status_page", role="", permissions=frozenset({"complaints:handle"})
)
MAX_WHAT = 2000
MAX_AGE = dt.timedelta(days=366)

STATE_TEXT: dict[str, dict[str, str]] = {
    "received": {
        "zh-CN": "已收到，我们会尽快受理。",
        "en": "Received: we will take it up shortly.",
    },
    "acknowledged": {
        "zh-CN": "已受理，正在安排处理。",
        "en": "Accepted: someone is being assigned to it.",
    },
    "in_progress": {"zh-CN": "正在处理中。", "en": "Being handled."},
    "waiting": {
        "zh-CN": "我们需要向您了解更多情况，请留意我们的电话。",
        "en": "We need more information from you; we will call you.",
    },
    "resolved": {"zh-CN": "已处理完毕。", "en": "Resolved."},
    "followed_up": {"zh-CN": "已处理并回访。", "en": "Resolved, and we have checked back."},
    "closed": {"zh-CN": "已办结。", "en": "Closed."},
}
RESOLVED = ("resolved", "followed_up", "closed")
STATUS_COLUMNS = (
    "id, number, kind, state, store_id, received_at, promised_reply_at, acknowledged_at, "
    "ack_due_at, resolve_due_at, resolved_at, resolution, cycle"
)


@dataclass(frozen=True)
class PublicForm:
    """A form's tenant, store and settings (its categories, its rates)."""

    tenant: TenantInfo
    store: StoreFacts
    settings: ComplaintsSettings


@dataclass(frozen=True)
class Submitted:
    """A filed complaint: its reference number and tracking token (``None`` on a replay of
    the same idempotency key: only the first answer carries the token)."""

    id: UUID
    number: str
    token: str | None


@dataclass(frozen=True)
class PublicStatus:
    """What the customer sees of their complaint (nothing about staff, notes or contact)."""

    number: str
    kind: str
    state: str
    store: str
    received_at: dt.datetime
    promised_reply_at: dt.datetime | None
    due_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolution: str | None
    timezone: str  # the store's (else the tenant's), for showing the times
    cycle: int = 0  # the resolution an answer is for (the status page's form carries it)
    awaiting_answer: bool = False  # resolved, not yet answered: "are you satisfied?"

    def status_text(self, locale: str) -> str:
        texts = STATE_TEXT[self.state]
        return texts.get(locale) or texts["zh-CN"]


def _no_store() -> NotFound:
    # one answer for every reason the form is not there (STYLE: a foreign id is a missing one)
    return NotFound("no such store", field="store")


async def _count(key: str, rate: str) -> None:
    await core.throttle(key, rate)


async def open_form(runtime: Any, slug: str, code: str, client: str) -> PublicForm:
    """The form of store ``code`` of tenant ``slug``, throttled per ``client`` address;
    :class:`NotFound` on ``store`` for anything that makes it absent."""
    await _count(f"complaints:client:{client}", CLIENT_RATE)
    tenant = await find_tenant(slug)
    if tenant is None or runtime is None or "complaints" not in await runtime.enabled(tenant.id):
        raise _no_store()
    store = await store_by_code(tenant, code)
    if store is None:
        raise _no_store()
    settings: ComplaintsSettings = await runtime.plugin_settings(tenant.id, "complaints")
    return PublicForm(tenant, store, settings)


def _summary(what: str) -> str:
    line = re.sub(r"\s+", " ", what.strip().splitlines()[0] if what.strip() else "").strip()
    return line if len(line) <= 60 else line[:59] + "…"


def check_form(form: PublicForm, raw: dict[str, Any], now: dt.datetime) -> IntakeInput:
    """The form's fields as an intake, every field's error at once (``ValidationFailed``
    with one entry per field: the page shows each next to its field). ``name`` and ``phone``
    are required for a complaint and optional for a suggestion (an anonymous 意见箱 note)."""
    errors: list[MendianError] = []

    def text(name: str, limit: int, *, required: bool = True) -> str:
        value = raw.get(name)
        value = value.strip() if isinstance(value, str) else ""
        if required and not value:
            errors.append(ValidationFailed("required", field=name, code="required"))
        elif len(value) > limit:
            errors.append(
                ValidationFailed(f"at most {limit} characters", field=name, code="too_long")
            )
        return value

    kind = raw.get("kind") or "complaint"
    if kind not in ("complaint", "suggestion"):
        errors.append(ValidationFailed("complaint or suggestion", field="kind", code="invalid"))
    # a suggestion may be anonymous (意见箱); a complaint needs someone to reply to
    anonymous = kind == "suggestion"
    name = text("name", 100, required=False)
    what = text("what", MAX_WHAT)
    spot = text("spot", 200, required=False)
    phone = text("phone", 32, required=False)
    if phone:
        try:
            phone = normalize_phone(phone, form.tenant.phone_region, field="phone")
        except ValidationFailed as exc:
            errors.append(exc)
    if not anonymous:
        for field, value in (("name", name), ("phone", raw.get("phone"))):
            if not (value.strip() if isinstance(value, str) else ""):
                errors.append(
                    ValidationFailed(
                        "required for a complaint, so that we can reply (a suggestion may "
                        "be anonymous)",
                        field=field,
                        code="required",
                    )
                )
    category = raw.get("category") or ""
    try:
        category = check_category(form.settings, str(category))
    except ValidationFailed as exc:
        errors.append(exc)
    occurred = raw.get("occurred_at")
    if occurred is None or (isinstance(occurred, str) and not occurred.strip()):
        errors.append(ValidationFailed("required", field="occurred_at", code="required"))
    elif not isinstance(occurred, dt.datetime):  # a page's text that is no time
        errors.append(ValidationFailed("not a time", field="occurred_at", code="invalid"))
    elif occurred.tzinfo is None:
        errors.append(
            ValidationFailed("needs a timezone offset", field="occurred_at", code="naive_datetime")
        )
    elif occurred > now + dt.timedelta(minutes=5):
        errors.append(
            ValidationFailed("it cannot be in the future", field="occurred_at", code="in_future")
        )
    elif occurred < now - MAX_AGE:
        errors.append(
            ValidationFailed("more than a year ago", field="occurred_at", code="too_long_ago")
        )
    if errors:
        raise ValidationFailed(errors[0].message, field=errors[0].field, errors=errors)
    assert isinstance(occurred, dt.datetime)
    return IntakeInput(
        channel="online_form",
        kind=str(kind),
        category=category,
        store_id=form.store.id,
        spot=spot,
        occurred_at=occurred.astimezone(dt.UTC),
        contact_name=name,
        contact_phone=phone,
        summary=_summary(what),
        description=what,
    )


async def submit(
    runtime: Any,
    form: PublicForm,
    raw: dict[str, Any],
    client: str,
    *,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Submitted:
    """File the form's complaint (``raw``: ``name``, ``phone``, ``what``, ``occurred_at``,
    optional ``kind``, ``category``, ``spot``; a suggestion without name or phone is
    anonymous). Checked whole before anything is written;
    throttled per address and per store (``RateLimited``)."""
    now = now or dt.datetime.now(dt.UTC)
    tenant, settings = form.tenant, form.settings
    intake = check_form(form, raw, now)
    await _count(f"complaints:{tenant.id}:form-client:{client}", settings.form_client_rate)
    await _count(f"complaints:{tenant.id}:form-store:{form.store.id}", settings.form_store_rate)
    channels = await runtime.channels(tenant) if runtime is not None else None
    created = await create_complaint(
        tenant,
        PUBLIC_ACTOR,
        settings,
        intake,
        idempotency_key=idempotency_key,
        channels=channels,
        now=now,
    )
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT number FROM complaints_complaint WHERE tenant_id = {} AND id = {}",
            tenant.id,
            created.id,
        )
    return Submitted(created.id, rows[0]["number"], created.token or None)


async def _by_token(
    runtime: Any, token: str, client: str
) -> tuple[TenantInfo, ComplaintsSettings, dict[str, Any]]:
    """The tenant, its settings and the complaint row of a token (the intake's or a follow-up
    message's), throttled per address and per token; :class:`NotFound` on ``token``."""
    await _count(f"complaints:client:{client}", CLIENT_RATE)
    missing = NotFound("no complaint with this token", field="token")
    slug = public_token_slug(token)
    tenant = await find_tenant(slug) if slug else None
    if tenant is None or runtime is None or "complaints" not in await runtime.enabled(tenant.id):
        raise missing
    settings: ComplaintsSettings = await runtime.plugin_settings(tenant.id, "complaints")
    digest = hash_public_token(token)
    await _count(f"complaints:{tenant.id}:token:{digest[:20]}", settings.status_rate)
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {STATUS_COLUMNS} FROM complaints_complaint WHERE tenant_id = {{}} "
            "AND (token_hash = {} OR follow_up_token_hash = {})",
            tenant.id,
            digest,
            digest,
        )
    if not rows:
        raise missing
    return tenant, settings, rows[0]


async def public_status(runtime: Any, token: str, client: str) -> PublicStatus:
    """The complaint behind a tracking token (the intake's, or the one in a follow-up
    message); :class:`NotFound` on ``token`` for a malformed, unknown or another tenant's
    token, or a tenant without the module."""
    tenant, _settings, row = await _by_token(runtime, token, client)
    return await _status(tenant, row)


async def _status(tenant: TenantInfo, row: dict[str, Any]) -> PublicStatus:
    store, timezone = "", tenant.timezone
    if row["store_id"]:
        found = await store_facts(tenant, [UUID(str(row["store_id"]))])
        for facts in found.values():
            store, timezone = facts.name, facts.timezone
    resolved = row["state"] in RESOLVED
    due = None
    if not resolved:
        due = row["resolve_due_at"] if row["acknowledged_at"] else row["ack_due_at"]
    return PublicStatus(
        number=row["number"],
        kind=row["kind"],
        state=row["state"],
        store=store,
        received_at=utc_value(row["received_at"]),
        promised_reply_at=utc_value(row["promised_reply_at"]),
        due_at=utc_value(due),
        resolved_at=utc_value(row["resolved_at"]) if resolved else None,
        resolution=(row["resolution"] or None) if resolved else None,
        timezone=timezone,
        cycle=int(row["cycle"]),
        awaiting_answer=row["state"] == "resolved" and row["kind"] == "complaint",
    )


async def answer(
    runtime: Any,
    token: str,
    client: str,
    *,
    satisfied: bool,
    cycle: int,
    comment: str = "",
) -> PublicStatus:
    """The customer's "satisfied?" on the status page: the same follow-up as
    ``complaintFollowUp`` (:func:`.workflow.follow_up`: dissatisfied reopens and escalates),
    for resolution ``cycle`` only — a second answer to it is :class:`Conflict` ``answered``
    and changes nothing. Throttled like a look-up and per address (``answer_rate``). Answers
    the status after it."""
    tenant, settings, row = await _by_token(runtime, token, client)
    await _count(f"complaints:{tenant.id}:answer:{client}", settings.answer_rate)
    if len(comment) > MAX_WHAT:
        raise ValidationFailed(f"at most {MAX_WHAT} characters", field="comment", code="too_long")
    await workflow.follow_up(
        tenant,
        STATUS_PAGE_ACTOR,
        settings,
        await runtime.channels(tenant),
        UUID(str(row["id"])),
        satisfied=satisfied,
        note=comment.strip(),
        via="status_page",
        cycle=cycle,
    )
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {STATUS_COLUMNS} FROM complaints_complaint WHERE tenant_id = {{}} "
            "AND id = {}",
            tenant.id,
            row["id"],
        )
    return await _status(tenant, rows[0])
