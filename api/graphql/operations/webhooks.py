"""Tenant webhooks: ``webhookSubscriptions`` (with each one's delivery log) and
``webhookSubscriptionCreate`` / ``Update`` / ``RotateSecret`` / ``Delete`` — owner and HQ
(``webhooks:write``), audited. The signing secret is returned only by create and rotate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from api.graphql.operations._common import arg, cursor_uuid, uuid_of
from core.graphql import (
    Connection,
    Node,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    to_global_id,
)

__all__ = ["WEBHOOK_NODES", "WebhookMutation", "WebhookQuery"]

TYPE = "WebhookSubscription"


@strawberry.enum(description="Where a webhook delivery stands.")
class WebhookDeliveryStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="Not yet taken; being retried.")
    DONE = strawberry.enum_value("done", description="The receiver answered 2xx.")


@strawberry.type(description="One POST of one event to a subscription (retried until done).")
class WebhookDelivery:
    event_id: str = strawberry.field(description="The event's id (`X-Mendian-Event-Id`).")
    event_name: str = strawberry.field(description="The event, e.g. `purchase.recorded`.")
    event_at: dt.datetime = strawberry.field(description="When the event happened.")
    status: WebhookDeliveryStatus = strawberry.field(description="Pending or done.")
    attempts: int = strawberry.field(description="POSTs made so far.")
    last_error: str = strawberry.field(description="Why the last POST failed; empty if none.")
    next_attempt_at: dt.datetime | None = strawberry.field(description="The next retry.")
    done_at: dt.datetime | None = strawberry.field(description="When the receiver took it.")


@strawberry.type(description="An endpoint receiving the tenant's events, signed HMAC-SHA256.")
class WebhookSubscription(Node):
    url: str = strawberry.field(description="Where events are POSTed.")
    events: list[str] = strawberry.field(description="Event names received (`*`: all).")
    active: bool = strawberry.field(description="False: paused (events are not kept for it).")
    created_at: dt.datetime = strawberry.field(description="When it was created.")

    @strawberry.field(description="The latest deliveries, newest event first.")
    async def deliveries(
        self, info: Info, first: Annotated[int, arg("How many (1–100).")] = 20
    ) -> list[WebhookDelivery]:
        from core.webhooks import webhook_deliveries

        tenant, actor = context_of(info).caller()
        rows = await webhook_deliveries(tenant, actor, uuid_of(self.id, TYPE), limit=first)
        return [
            WebhookDelivery(
                event_id=str(r["event_id"]),
                event_name=r["name"],
                event_at=r["created_at"],
                status=WebhookDeliveryStatus(r["status"]),
                attempts=int(r["attempts"]),
                last_error=r["last_error"] or "",
                next_attempt_at=r["next_attempt_at"],
                done_at=r["done_at"],
            )
            for r in rows
        ]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WebhookSubscription:
        return cls(
            id=strawberry.ID(to_global_id(TYPE, row["id"])),
            url=row["url"],
            events=row["events"],
            active=row["active"],
            created_at=row["created_at"],
        )


async def _node(info: Info, uid: UUID) -> WebhookSubscription | None:
    from core.webhooks import list_webhooks

    tenant, actor = context_of(info).caller()
    rows = [r for r in await list_webhooks(tenant, actor) if r["id"] == uid]
    return WebhookSubscription.from_row(rows[0]) if rows else None


WEBHOOK_NODES: dict[str, Callable[[Info, UUID], Awaitable[Any]]] = {TYPE: _node}


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        description="The tenant's webhook subscriptions, oldest first (needs `webhooks:write`)."
    )
    async def webhook_subscriptions(
        self,
        info: Info,
        first: Annotated[int, arg("Page size (1–100).")] = 20,
        after: Annotated[str | None, arg("Cursor from `pageInfo.endCursor`.")] = None,
    ) -> Connection[WebhookSubscription]:
        from core.webhooks import list_webhooks

        check_first(first)
        start = cursor_uuid(after)
        tenant, actor = context_of(info).caller()
        rows = await list_webhooks(tenant, actor)
        if start is not None:
            ids = [r["id"] for r in rows]
            rows = rows[ids.index(start) + 1 :] if start in ids else []
        items = [WebhookSubscription.from_row(r) for r in rows[: first + 1]]
        return connection(items, lambda w: str(uuid_of(w.id, TYPE)), first)


@strawberry.input(description="A new webhook subscription.")
class WebhookSubscriptionCreateInput:
    url: str = strawberry.field(description="An http(s) URL on a public address.")
    events: list[str] = strawberry.field(description="Event names, e.g. `purchase.recorded`.")


@strawberry.type(description="Result of `webhookSubscriptionCreate`.")
class WebhookSubscriptionCreatePayload:
    subscription: WebhookSubscription | None = strawberry.field(description="As saved.")
    secret: str | None = strawberry.field(description="The signing secret: shown only now.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="Changes to a webhook subscription (omitted: unchanged).")
class WebhookSubscriptionUpdateInput:
    id: strawberry.ID = strawberry.field(description="The subscription.")
    url: str | None = strawberry.field(default=strawberry.UNSET, description="A new URL.")
    events: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The new event names."
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Pause (false) or resume (true)."
    )


@strawberry.type(description="Result of `webhookSubscriptionUpdate`.")
class WebhookSubscriptionUpdatePayload:
    subscription: WebhookSubscription | None = strawberry.field(description="As saved.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="The subscription whose secret to rotate.")
class WebhookSubscriptionRotateSecretInput:
    id: strawberry.ID = strawberry.field(description="The subscription.")


@strawberry.input(description="The subscription to delete.")
class WebhookSubscriptionDeleteInput:
    id: strawberry.ID = strawberry.field(description="The subscription.")


@strawberry.type(description="Result of `webhookSubscriptionRotateSecret`.")
class WebhookSubscriptionRotateSecretPayload:
    secret: str | None = strawberry.field(description="The new secret, in force at once.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `webhookSubscriptionDelete`.")
class WebhookSubscriptionDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The removed subscription.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


def _given(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Subscribe an endpoint to events (audited).")
    async def webhook_subscription_create(
        self, info: Info, input: Annotated[WebhookSubscriptionCreateInput, arg("The endpoint.")]
    ) -> WebhookSubscriptionCreatePayload:
        from core.webhooks import create_webhook

        tenant, actor = context_of(info).caller()

        async def run() -> tuple[dict[str, Any], str]:
            return await create_webhook(tenant, actor, url=input.url, events=list(input.events))

        done, errors = await attempt(run)
        return WebhookSubscriptionCreatePayload(
            subscription=WebhookSubscription.from_row(done[0]) if done else None,
            secret=done[1] if done else None,
            errors=errors,
        )

    @strawberry.mutation(description="Change a subscription's URL, events or state (audited).")
    async def webhook_subscription_update(
        self, info: Info, input: Annotated[WebhookSubscriptionUpdateInput, arg("The changes.")]
    ) -> WebhookSubscriptionUpdatePayload:
        from core.webhooks import update_webhook

        tenant, actor = context_of(info).caller()

        async def run() -> dict[str, Any]:
            events = _given(input.events)
            return await update_webhook(
                tenant,
                actor,
                uuid_of(input.id, TYPE),
                url=_given(input.url),
                events=list(events) if events is not None else None,
                active=_given(input.active),
            )

        row, errors = await attempt(run)
        return WebhookSubscriptionUpdatePayload(
            subscription=WebhookSubscription.from_row(row) if row else None, errors=errors
        )

    @strawberry.mutation(description="Replace a subscription's signing secret (audited).")
    async def webhook_subscription_rotate_secret(
        self,
        info: Info,
        input: Annotated[WebhookSubscriptionRotateSecretInput, arg("The subscription.")],
    ) -> WebhookSubscriptionRotateSecretPayload:
        from core.webhooks import rotate_secret

        tenant, actor = context_of(info).caller()

        async def run() -> str:
            return await rotate_secret(tenant, actor, uuid_of(input.id, TYPE))

        secret, errors = await attempt(run)
        return WebhookSubscriptionRotateSecretPayload(secret=secret, errors=errors)

    @strawberry.mutation(description="Remove a subscription and its pending deliveries.")
    async def webhook_subscription_delete(
        self, info: Info, input: Annotated[WebhookSubscriptionDeleteInput, arg("The subscription.")]
    ) -> WebhookSubscriptionDeletePayload:
        from core.webhooks import delete_webhook

        tenant, actor = context_of(info).caller()

        async def run() -> strawberry.ID:
            await delete_webhook(tenant, actor, uuid_of(input.id, TYPE))
            return input.id

        deleted, errors = await attempt(run)
        return WebhookSubscriptionDeletePayload(deleted_id=deleted, errors=errors)
