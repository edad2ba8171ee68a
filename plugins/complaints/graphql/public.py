"""The public form's GraphQL (no credential needed): ``complaintSubmit`` files a complaint or
suggestion for a tenant's store and answers a tracking token; ``complaintStatus`` tells the
token's holder where it stands. Both call :mod:`plugins.complaints.public`, as the pages do."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core import RateLimited, UserError, attempt, context_of, input_data
from plugins.complaints import public
from plugins.complaints.graphql.inputs import _f
from plugins.complaints.graphql.types import ComplaintKind, ComplaintState

__all__ = [
    "ComplaintPublicStatus",
    "ComplaintStatusResult",
    "ComplaintSubmitInput",
    "ComplaintSubmitPayload",
    "public_mutations",
    "public_queries",
]


@strawberry.input(description="A complaint or suggestion from the public form (意见箱).")
class ComplaintSubmitInput:
    tenant: str = strawberry.field(description="The chain: its slug, as in `/feedback/<tenant>/…`.")
    store: str = strawberry.field(description="The store: its code, as on its poster.")
    name: str | None = _f(
        "The customer's name (kept encrypted), 1-100: required for a complaint, optional for a "
        "suggestion (an anonymous suggestion has neither name nor phone)."
    )
    phone: str | None = _f(
        "The customer's phone for the reply (encrypted): required for a complaint, optional "
        "for a suggestion."
    )
    what: str = strawberry.field(description="What happened, in the customer's words, 1-2000.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened (with an offset).")
    kind: ComplaintKind | None = _f("Complaint (default) or suggestion.")
    category: str | None = _f("A category code (the tenant's tree), if the customer picked one.")
    spot: str | None = _f("Where in the store, 0-200 characters.")
    idempotency_key: str | None = _f("Retry-safe key: the same key files the complaint once.")


@strawberry.type(description="Result of `complaintSubmit`.")
class ComplaintSubmitPayload:
    number: str | None = strawberry.field(description="The reference number (C-20261202-3F7A).")
    token: str | None = strawberry.field(
        description="The tracking token for `complaintStatus` and `/feedback/status/<token>`: "
        "answered once (null on a replay of the same idempotency key), only its hash is kept."
    )
    errors: list[UserError] = strawberry.field(
        description="`not_found` on `store` (no such form: the same for an unknown chain or "
        "store and a chain without complaints), `rate_limited`, or what is wrong with a field "
        "(`required`, `too_long`, `invalid_phone`, `unknown_category`, `in_future`, …)."
    )


@strawberry.type(description="A complaint as its customer sees it (no staff, notes or contact).")
class ComplaintPublicStatus:
    number: str = strawberry.field(description="The reference number.")
    kind: ComplaintKind = strawberry.field(description="Complaint or suggestion.")
    state: ComplaintState = strawberry.field(description="Where it is in its workflow.")
    status_text: str = strawberry.field(description="The state in the customer's words.")
    store: str = strawberry.field(description="The store's name.")
    received_at: dt.datetime = strawberry.field(description="When it was received.")
    promised_reply_at: dt.datetime | None = strawberry.field(
        description="The reply time staff promised the customer (告知顾客回复时间), if any."
    )
    due_at: dt.datetime | None = strawberry.field(
        description="The latest it is taken up (until acknowledged) or resolved (after); null "
        "once resolved."
    )
    resolved_at: dt.datetime | None = strawberry.field(description="When it was resolved.")
    resolution: str | None = strawberry.field(description="How it was resolved (处理结果).")


@strawberry.type(description="Result of `complaintStatus`.")
class ComplaintStatusResult:
    complaint: ComplaintPublicStatus | None = strawberry.field(
        description="The complaint as its customer sees it, when the token names one."
    )
    errors: list[UserError] = strawberry.field(
        description="`not_found` on `token` (malformed, unknown or another chain's) or "
        "`rate_limited`."
    )


def _limited(exc: RateLimited, field: str | None) -> list[UserError]:
    return [
        UserError(
            field=field,
            code="rate_limited",
            message=f"too many requests; retry in {exc.retry_after} s",
        )
    ]


async def resolve_submit(
    info: Info,
    input: Annotated[ComplaintSubmitInput, strawberry.argument(description="The form.")],
) -> ComplaintSubmitPayload:
    ctx = context_of(info)
    client = ctx.client or "unknown"
    data = input_data(input)

    async def run() -> public.Submitted:
        form = await public.open_form(ctx.runtime, data["tenant"], data["store"], client)
        return await public.submit(
            ctx.runtime, form, data, client, idempotency_key=data.get("idempotency_key")
        )

    try:
        done, errors = await attempt(run)
    except RateLimited as exc:
        return ComplaintSubmitPayload(number=None, token=None, errors=_limited(exc, None))
    return ComplaintSubmitPayload(
        number=done.number if done else None, token=done.token if done else None, errors=errors
    )


def status_view(found: public.PublicStatus, locale: str) -> ComplaintPublicStatus:
    return ComplaintPublicStatus(
        number=found.number,
        kind=ComplaintKind(found.kind),
        state=ComplaintState(found.state),
        status_text=found.status_text(locale),
        store=found.store,
        received_at=found.received_at,
        promised_reply_at=found.promised_reply_at,
        due_at=found.due_at,
        resolved_at=found.resolved_at,
        resolution=found.resolution,
    )


async def resolve_status(
    info: Info,
    token: Annotated[str, strawberry.argument(description="The tracking token.")],
    locale: Annotated[
        str | None, strawberry.argument(description="`zh-CN` (default) or `en` for the text.")
    ] = None,
) -> ComplaintStatusResult:
    ctx = context_of(info)

    async def run() -> ComplaintPublicStatus:
        found = await public.public_status(ctx.runtime, token, ctx.client or "unknown")
        return status_view(found, "en" if (locale or "").lower().startswith("en") else "zh-CN")

    try:
        found, errors = await attempt(run)
    except RateLimited as exc:
        return ComplaintStatusResult(complaint=None, errors=_limited(exc, "token"))
    return ComplaintStatusResult(complaint=found, errors=errors)


def public_queries() -> dict[str, Any]:
    return {
        "complaint_status": strawberry.field(
            resolver=resolve_status,
            description="Where a complaint filed on the public form stands, by its tracking "
            "token (no credential needed).",
        )
    }


def public_mutations() -> dict[str, Any]:
    return {
        "complaint_submit": strawberry.mutation(
            resolver=resolve_submit,
            description="File a complaint or suggestion for a store from the public form (no "
            "credential needed); answers the tracking token once.",
        )
    }
