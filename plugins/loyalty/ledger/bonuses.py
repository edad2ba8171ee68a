"""Bonuses: sign-up, survey completion (the surveys plugin's event) and referral."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid4

from core import (
    Actor,
    Conflict,
    NotFound,
    TenantInfo,
    ValidationFailed,
    active_customer,
    customer_facts,
    fetch,
    insert_rows,
    tenant_tx,
)
from plugins.loyalty.ledger.awards import award
from plugins.loyalty.settings import LoyaltySettings
from plugins.loyalty.tables import LoyaltyEntry, LoyaltyReferral

__all__ = ["refer", "referral_bonus", "signup_bonus", "still_bought", "survey_bonus"]


async def signup_bonus(tenant: TenantInfo, customer_id: UUID, settings: LoyaltySettings) -> None:
    """The sign-up bonus, once per customer (a unique source), if the programme has one."""
    if settings.signup_bonus <= 0:
        return
    async with tenant_tx(tenant.id):
        if await LoyaltyEntry.exists().where(
            LoyaltyEntry.source == "signup", LoyaltyEntry.source_id == customer_id
        ):
            return
        await award(
            tenant,
            settings,
            customer_id,
            settings.signup_bonus,
            "signup",
            customer_id,
            dt.datetime.now(dt.UTC),
            reason="sign-up bonus",
        )


async def survey_bonus(
    tenant: TenantInfo, event: dict[str, Any], settings: LoyaltySettings
) -> None:
    """The survey-completion bonus (``surveys.completed``: ``response_id``, ``customer_id``),
    once per response (a unique source), for a customer of this tenant."""
    if settings.survey_bonus <= 0 or not event.get("customer_id") or not event.get("response_id"):
        return
    customer_id, response_id = UUID(event["customer_id"]), UUID(event["response_id"])
    async with tenant_tx(tenant.id):
        if await LoyaltyEntry.exists().where(
            LoyaltyEntry.source == "survey", LoyaltyEntry.source_id == response_id
        ):
            return
        facts = (await customer_facts(tenant, [customer_id])).get(customer_id)
        if facts is None or facts.status != "active":
            return  # not an active customer of this tenant (anonymous, foreign, merged, erased)
        await award(
            tenant,
            settings,
            customer_id,
            settings.survey_bonus,
            "survey",
            response_id,
            dt.datetime.now(dt.UTC),
            reason="survey bonus",
        )


async def referral_bonus(
    tenant: TenantInfo, settings: LoyaltySettings, customer_id: UUID, now: dt.datetime
) -> None:
    """The referrer's bonus on the referred customer's first sale: once per referred customer
    (a unique source), in the accrual's transaction."""
    found = await fetch(
        "SELECT r.referrer_id, (SELECT COUNT(*) FROM loyalty_entry e WHERE e.tenant_id = {} "
        "AND e.source = 'referral' AND e.source_id = {}) AS paid FROM loyalty_referral r "
        "WHERE r.tenant_id = {} AND r.customer_id = {}",
        tenant.id,
        customer_id,
        tenant.id,
        customer_id,
    )
    if not found or found[0]["paid"]:
        return
    referrer = UUID(str(found[0]["referrer_id"]))
    # Held for the return window like the sale it rewards (refer, buy, return: no bonus yet).
    await award(
        tenant,
        settings,
        referrer,
        settings.referral_bonus,
        "referral",
        customer_id,
        now,
        pending_days=settings.pending_days,
        reason="referral bonus",
    )


async def refer(tenant: TenantInfo, actor: Actor, customer_id: UUID, referrer_id: UUID) -> None:
    """Record who referred ``customer_id`` (``customers:write``): once, before their first
    sale, by another active customer. The referral bonus follows that first sale."""
    actor.require("customers:write")
    if customer_id == referrer_id:
        raise ValidationFailed(
            "a customer cannot refer themselves", field="referrerId", code="self_referral"
        )
    async with tenant_tx(tenant.id):
        customer = await active_customer(tenant, customer_id)
        try:
            await active_customer(tenant, referrer_id)
        except NotFound:
            raise NotFound("referrer not found", field="referrerId") from None
        if await LoyaltyReferral.exists().where(LoyaltyReferral.customer_id == customer_id):
            raise Conflict(
                "this customer's referrer is already recorded",
                field="customerId",
                code="already_referred",
            )
        if customer.first_purchase_at is not None:
            raise ValidationFailed(
                "a referral is recorded before the customer's first purchase",
                field="customerId",
                code="not_a_new_customer",
            )
        await insert_rows(
            "loyalty_referral",
            [
                {
                    "tenant_id": tenant.id,
                    "id": uuid4(),
                    "customer_id": customer_id,
                    "referrer_id": referrer_id,
                    "actor": f"{actor.kind}:{actor.id}"[:64],
                    "created_at": dt.datetime.now(dt.UTC),
                }
            ],
        )


async def still_bought(tenant: TenantInfo, customer_id: UUID) -> bool:
    """Whether the customer keeps some of what their sales earned (not everything refunded)."""
    rows = await fetch(
        "SELECT COALESCE(SUM(points + pending), 0) AS n FROM loyalty_entry WHERE tenant_id = {} "
        "AND customer_id = {} AND source IN ('purchase', 'refund')",
        tenant.id,
        customer_id,
    )
    return int(rows[0]["n"]) > 0
