"""Campaign definitions: create, change, activate, pause, approve, list — with each kind's
settings validated (a clear field error, nothing written) and every change in one tenant
transaction."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import msgspec
from msgspec import Meta

from core import (
    Actor,
    Conflict,
    NotFound,
    TenantInfo,
    ValidationFailed,
    audit,
    claim,
    convert,
    fetch,
    insert_rows,
    json_text,
    json_value,
    tenant_tx,
)

__all__ = [
    "KINDS",
    "KindSettings",
    "Variant",
    "activate",
    "approve",
    "create_campaign",
    "get_campaign",
    "list_campaigns",
    "pause",
    "update_campaign",
]

KINDS = (
    "birthday",
    "festival",
    "thank_you",
    "revisit",
    "winback",
    "points_expiring",
    "one_off",
)
STATES = ("draft", "active", "paused")


class KindSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """What a kind needs (the others are ignored): ``days_before`` (birthday, festival: send
    N days before, 0 on the day); ``festival`` (a festival key of the core calendar or a
    tenant festival); ``first_purchase_only`` / ``min_amount_minor`` / ``delay_hours``
    (thank-you); ``every_days`` / ``high_value_classes`` (revisit); ``lifecycles`` (win-back);
    ``offer`` (``points`` or ``coupon``, granted by loyalty) with ``offer_points`` /
    ``offer_coupon``."""

    days_before: Annotated[int, Meta(ge=0, le=60)] = 0
    festival: Annotated[str, Meta(max_length=64)] = ""
    first_purchase_only: bool = False
    min_amount_minor: Annotated[int, Meta(ge=0)] = 0
    delay_hours: Annotated[int, Meta(ge=0, le=720)] = 24
    every_days: Annotated[int, Meta(ge=0, le=365)] = 0
    high_value_classes: list[str] = msgspec.field(default_factory=list)
    lifecycles: list[Literal["at_risk", "churned"]] = msgspec.field(default_factory=list)
    offer: Literal["", "points", "coupon"] = ""
    offer_points: Annotated[int, Meta(ge=0, le=1_000_000)] = 0
    offer_coupon: Annotated[str, Meta(max_length=64)] = ""


class Variant(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An A/B variant: its own message text and its share of the treatment group."""

    key: Annotated[str, Meta(pattern=r"^[a-z0-9_]{1,32}$")]
    message: Annotated[str, Meta(min_length=1, max_length=2000)]
    weight: Annotated[int, Meta(ge=1, le=100)] = 50


def _check(row: dict[str, Any]) -> None:
    kind = row["kind"]
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}", field="kind")
    s: KindSettings = row["settings"]
    if not str(row.get("name") or "").strip() or len(row["name"]) > 200:
        raise ValidationFailed("a campaign needs a name of 1-200 characters", field="name")
    if not 0 <= int(row["control_pct"]) <= 50:
        raise ValidationFailed("the control group is 0 to 50 %", field="controlPct")
    if not 1 <= int(row["window_days"]) <= 90:
        raise ValidationFailed("the purchase window is 1 to 90 days", field="windowDays")
    if not row["message"].strip() and not row["variants"]:
        raise ValidationFailed("a campaign needs a message (or variants)", field="message")
    if len(row["message"]) > 2000:
        raise ValidationFailed("a message has at most 2000 characters", field="message")
    keys = [v.key for v in row["variants"]]
    if len(keys) != len(set(keys)) or len(keys) > 5:
        raise ValidationFailed("up to 5 variants with distinct keys", field="variants")
    if kind == "one_off" and row.get("segment_id") is None:
        raise ValidationFailed("a one-off campaign goes to a segment", field="segmentId")
    if kind == "festival" and not s.festival:
        raise ValidationFailed("a festival campaign names its festival", field="settings.festival")
    if kind == "revisit" and s.every_days < 1:
        raise ValidationFailed("a revisit runs every 1-365 days", field="settings.everyDays")
    if s.offer == "points" and s.offer_points < 1:
        raise ValidationFailed("a points offer grants 1 or more", field="settings.offerPoints")
    if s.offer == "coupon" and not s.offer_coupon:
        raise ValidationFailed("a coupon offer names the coupon", field="settings.offerCoupon")


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["settings"] = msgspec.convert(json_value(row["settings"], {}), KindSettings)
    out["variants"] = msgspec.convert(json_value(row["variants"], []), list[Variant])
    for k in ("id", "segment_id"):
        if out.get(k) is not None and not isinstance(out[k], UUID):
            out[k] = UUID(str(out[k]))
    return out


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["settings"] = json_text(msgspec.to_builtins(row["settings"]))
    out["variants"] = json_text(msgspec.to_builtins(row["variants"]))
    return out


def _parse(data: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    row = dict(base)
    for name in ("name", "kind", "segment_id", "channel", "message", "control_pct", "window_days"):
        if name in data:
            row[name] = data[name]
    if "settings" in data:
        merged = msgspec.to_builtins(base["settings"]) | dict(data["settings"] or {})
        row["settings"] = convert(merged, KindSettings)
    if "variants" in data:
        row["variants"] = convert(list(data["variants"] or []), list[Variant])
    return row


_COLUMNS = (
    "id, name, kind, state, segment_id, channel, message, settings, control_pct, variants, "
    "window_days, approval, approved_by, approved_at, created_by, created_at, updated_at"
)


async def _check_segment(tenant: TenantInfo, segment_id: UUID | None) -> None:
    """The segment must be one of the tenant's (another tenant's is simply not found)."""
    if segment_id is None:
        return
    from core import segment_customer_ids_sql

    try:
        await segment_customer_ids_sql(tenant, segment_id, {})
    except NotFound:
        raise NotFound("segment not found", field="segmentId") from None
    except ValidationFailed:
        pass  # it exists; it uses a plugin's condition, compiled with the tenant's fields later


async def get_campaign(tenant: TenantInfo, campaign_id: UUID) -> dict[str, Any] | None:
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {_COLUMNS} FROM care_campaign WHERE tenant_id = {{}} AND id = {{}}",
            tenant.id,
            campaign_id,
        )
    return _decode(rows[0]) if rows else None


async def _locked(tenant: TenantInfo, campaign_id: UUID) -> dict[str, Any]:
    rows = await fetch(
        f"SELECT {_COLUMNS} FROM care_campaign WHERE tenant_id = {{}} AND id = {{}}",
        tenant.id,
        campaign_id,
    )
    if not rows:
        raise NotFound("campaign not found", field="id")
    return _decode(rows[0])


async def list_campaigns(
    tenant: TenantInfo,
    actor: Actor,
    *,
    kind: str | None = None,
    state: str | None = None,
    after: tuple[dt.datetime, UUID] | None = None,
    limit: int = 21,
) -> list[dict[str, Any]]:
    """Campaigns, newest first (keyset on ``created_at, id``)."""
    actor.require("care:read")
    where: list[str] = ["tenant_id = {}"]
    args: list[Any] = [tenant.id]
    if kind:
        where.append("kind = {}")
        args.append(kind)
    if state:
        where.append("state = {}")
        args.append(state)
    if after:
        where.append("(created_at < {} OR (created_at = {} AND id < {}))")
        args += [after[0], after[0], after[1]]
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {_COLUMNS} FROM care_campaign WHERE {' AND '.join(where)} "
            f"ORDER BY created_at DESC, id DESC LIMIT {int(limit)}",
            *args,
        )
    return [_decode(r) for r in rows]


async def create_campaign(
    tenant: TenantInfo, actor: Actor, data: dict[str, Any], *, idempotency_key: str | None = None
) -> UUID:
    actor.require("care:write")
    now = dt.datetime.now(dt.UTC)
    base: dict[str, Any] = {
        "name": "",
        "kind": "",
        "segment_id": None,
        "channel": "log",
        "message": "",
        "settings": KindSettings(),
        "control_pct": 0,
        "variants": [],
        "window_days": 14,
    }
    row = _parse(data, base)
    if row["kind"] == "winback" and not row["settings"].lifecycles:
        row["settings"] = msgspec.structs.replace(
            row["settings"], lifecycles=["at_risk", "churned"]
        )
    _check(row)
    new_id = uuid4()
    async with tenant_tx(tenant.id):
        await _check_segment(tenant, row["segment_id"])
        earlier = await claim("care.campaign", idempotency_key, data, new_id)
        if earlier is not None:
            return earlier
        await insert_rows(
            "care_campaign",
            [
                _encode(row)
                | {
                    "tenant_id": tenant.id,
                    "id": new_id,
                    "state": "draft",
                    "approval": "",
                    "approved_by": "",
                    "created_by": actor.id,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        await audit(actor, "care.campaign_create", subject_type="care_campaign", subject_id=new_id)
    return new_id


async def update_campaign(
    tenant: TenantInfo, actor: Actor, campaign_id: UUID, data: dict[str, Any]
) -> UUID:
    """Change a campaign. Its kind changes only while a draft; a change of audience, split
    or hold-out after approval needs approval again. Already targeted customers keep their
    occurrence (no second greeting)."""
    actor.require("care:write")
    async with tenant_tx(tenant.id):
        current = await _locked(tenant, campaign_id)
        if "kind" in data and data["kind"] != current["kind"] and current["state"] != "draft":
            raise Conflict("the kind of a campaign changes only while a draft", field="kind")
        row = _parse(data, current)
        _check(row)
        if row["segment_id"] != current["segment_id"]:
            await _check_segment(tenant, row["segment_id"])
        approval = current["approval"]
        if approval == "approved" and (
            row["segment_id"] != current["segment_id"] or row["kind"] != current["kind"]
        ):
            approval = ""
        enc = _encode(row)
        await fetch(
            "UPDATE care_campaign SET name = {}, kind = {}, segment_id = {}, channel = {}, "
            "message = {}, settings = {}, control_pct = {}, variants = {}, window_days = {}, "
            "approval = {}, updated_at = {} WHERE tenant_id = {} AND id = {}",
            enc["name"],
            enc["kind"],
            enc["segment_id"],
            enc["channel"],
            enc["message"],
            enc["settings"],
            int(enc["control_pct"]),
            enc["variants"],
            int(enc["window_days"]),
            approval,
            dt.datetime.now(dt.UTC),
            tenant.id,
            campaign_id,
        )
        await audit(
            actor, "care.campaign_update", subject_type="care_campaign", subject_id=campaign_id
        )
    return campaign_id


async def _set_state(
    tenant: TenantInfo, actor: Actor, campaign_id: UUID, state: str, allowed: tuple[str, ...]
) -> UUID:
    actor.require("care:write")
    async with tenant_tx(tenant.id):
        current = await _locked(tenant, campaign_id)
        if current["state"] == state:
            return campaign_id
        if current["state"] not in allowed:
            raise Conflict(f"a {current['state']} campaign cannot become {state}", field="id")
        await fetch(
            "UPDATE care_campaign SET state = {}, updated_at = {} WHERE tenant_id = {} AND id = {}",
            state,
            dt.datetime.now(dt.UTC),
            tenant.id,
            campaign_id,
        )
        await audit(
            actor, f"care.campaign_{state}", subject_type="care_campaign", subject_id=campaign_id
        )
    return campaign_id


async def activate(tenant: TenantInfo, actor: Actor, campaign_id: UUID) -> UUID:
    return await _set_state(tenant, actor, campaign_id, "active", ("draft", "paused"))


async def pause(tenant: TenantInfo, actor: Actor, campaign_id: UUID) -> UUID:
    return await _set_state(tenant, actor, campaign_id, "paused", ("active",))


async def approve(tenant: TenantInfo, actor: Actor, campaign_id: UUID) -> UUID:
    """Approve a campaign's audience (``care:approve``: an owner or HQ); audited."""
    actor.require("care:approve")
    async with tenant_tx(tenant.id):
        current = await _locked(tenant, campaign_id)
        if current["approval"] == "approved":
            return campaign_id
        await fetch(
            "UPDATE care_campaign SET approval = 'approved', approved_by = {}, approved_at = {} "
            "WHERE tenant_id = {} AND id = {}",
            actor.id,
            dt.datetime.now(dt.UTC),
            tenant.id,
            campaign_id,
        )
        await audit(
            actor, "care.campaign_approve", subject_type="care_campaign", subject_id=campaign_id
        )
    return campaign_id
