"""Tenant webhooks (CORE-15): subscriptions the owner or HQ manages, signed delivery, a log.

A subscription names an ``https://`` (or ``http://``) URL and the events it receives (names
such as ``purchase.recorded``, ``surveys.completed``, or ``*``). Events reach it through the
outbox like a plugin's handler (``webhook:<id>``): at least once, retried with the outbox's
backoff, each POST signed ``X-Mendian-Signature: sha256=<HMAC-SHA256 of the body>`` with the
subscription's secret. The secret is shown once (on creation and rotation) and stored
encrypted with the field key.

Addresses are checked twice: when the URL is saved and before each POST (the name is resolved
again, so a DNS answer that changed to a private address is refused then). Loopback, private,
link-local, multicast and reserved addresses are refused unless the operator allows them
(``MENDIAN_WEBHOOK_ALLOW_PRIVATE=1``, for on-premise receivers).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import secrets
import socket
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from core.auditing import audit
from core.config import get_settings
from core.context import Actor, TenantInfo
from core.crypto import cipher_for
from core.db import execute, fetch, json_text, json_value, tenant_tx
from core.errors import NotFound, ValidationFailed

__all__ = [
    "check_address",
    "create_webhook",
    "delete_webhook",
    "list_webhooks",
    "reveal_secret",
    "rotate_secret",
    "update_webhook",
    "webhook_deliveries",
]

MAX_PER_TENANT = 20
MAX_EVENTS = 50
_EVENT = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*|\*", re.ASCII)
_CONTEXT = b"webhook-secret"


def _allow_private() -> bool:
    return get_settings().webhook_allow_private


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_url(url: str) -> str:
    """The URL, stripped, if it is an absolute http(s) URL to a public-looking host."""
    url = url.strip()
    parts = urlsplit(url)
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.username
        or parts.password
        or len(url) > 500
    ):
        raise ValidationFailed(
            "an http(s) URL without credentials, at most 500 characters",
            field="url",
            code="invalid_url",
        )
    host = parts.hostname.lower()
    if not _allow_private():
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if (
            (literal is not None and _refused(literal))
            or host == "localhost"
            or (host.endswith((".localhost", ".local", ".internal")))
        ):
            raise ValidationFailed(
                "webhooks cannot point at loopback or private addresses",
                field="url",
                code="private_address",
            )
    return url


async def check_address(url: str) -> None:
    """Before a POST: every address the host resolves to must be public (unless allowed)."""
    if _allow_private():
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        if _refused(ipaddress.ip_address(info[4][0])):
            raise PermissionError(f"webhook host {host} resolves to a private address")


def check_events(events: list[str]) -> list[str]:
    names = sorted({e.strip() for e in events})
    if not names or len(names) > MAX_EVENTS or not all(_EVENT.fullmatch(e) for e in names):
        raise ValidationFailed(
            f"1 to {MAX_EVENTS} event names such as purchase.recorded, or *",
            field="events",
            code="invalid_events",
        )
    return names


def _seal(secret: str, tenant: TenantInfo) -> str:
    return cipher_for(get_settings().secret_keys).encrypt(
        secret, context=_CONTEXT + tenant.id.bytes
    )


def reveal_secret(stored: str, tenant_id: UUID) -> str:
    """The signing secret of a stored subscription (for delivery)."""
    if not stored.startswith("v1."):
        return stored  # written before secrets were sealed
    return cipher_for(get_settings().secret_keys).decrypt(
        stored, context=_CONTEXT + tenant_id.bytes
    )


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": UUID(str(row["id"])),
        "url": row["url"],
        "events": list(json_value(row["events"], [])),
        "active": bool(row["active"]),
        "created_at": row["created_at"],
    }


_COLUMNS = "id, url, events, active, created_at"


async def list_webhooks(tenant: TenantInfo, actor: Actor) -> list[dict[str, Any]]:
    actor.require("webhooks:write")
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {_COLUMNS} FROM webhook_subscription WHERE tenant_id = {{}} "
            "ORDER BY created_at, id",
            tenant.id,
        )
    return [_view(r) for r in rows]


async def _one(tenant: TenantInfo, webhook_id: UUID) -> dict[str, Any]:
    rows = await fetch(
        f"SELECT {_COLUMNS} FROM webhook_subscription WHERE tenant_id = {{}} AND id = {{}}",
        tenant.id,
        webhook_id,
    )
    if not rows:
        raise NotFound("webhook subscription not found", field="id")
    return _view(rows[0])


async def create_webhook(
    tenant: TenantInfo, actor: Actor, *, url: str, events: list[str]
) -> tuple[dict[str, Any], str]:
    """A new active subscription and its signing secret (shown this once)."""
    actor.require("webhooks:write")
    url, names = check_url(url), check_events(events)
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    webhook_id = uuid4()
    async with tenant_tx(tenant.id):
        [count] = await fetch(
            "SELECT COUNT(*) AS n FROM webhook_subscription WHERE tenant_id = {}", tenant.id
        )
        if int(count["n"]) >= MAX_PER_TENANT:
            raise ValidationFailed(
                f"at most {MAX_PER_TENANT} webhook subscriptions", field="url", code="limit"
            )
        await execute(
            "INSERT INTO webhook_subscription (tenant_id, id, url, secret, events, active, "
            "created_at) VALUES ({}, {}, {}, {}, {}, {}, {})",
            tenant.id,
            webhook_id,
            url,
            _seal(secret, tenant),
            json_text(names),
            True,
            dt.datetime.now(dt.UTC),
        )
        await audit(
            actor,
            "webhook.create",
            subject_type="webhook_subscription",
            subject_id=webhook_id,
            details={"url": url, "events": names},
        )
        row = await _one(tenant, webhook_id)
    return row, secret


async def update_webhook(
    tenant: TenantInfo,
    actor: Actor,
    webhook_id: UUID,
    *,
    url: str | None = None,
    events: list[str] | None = None,
    active: bool | None = None,
) -> dict[str, Any]:
    actor.require("webhooks:write")
    changes: dict[str, Any] = {}
    if url is not None:
        changes["url"] = check_url(url)
    if events is not None:
        changes["events"] = json_text(check_events(events))
    if active is not None:
        changes["active"] = active
    async with tenant_tx(tenant.id):
        await _one(tenant, webhook_id)
        if changes:
            sets = ", ".join(f"{column} = {{}}" for column in changes)
            await execute(
                f"UPDATE webhook_subscription SET {sets} WHERE tenant_id = {{}} AND id = {{}}",
                *changes.values(),
                tenant.id,
                webhook_id,
            )
            await audit(
                actor,
                "webhook.update",
                subject_type="webhook_subscription",
                subject_id=webhook_id,
                details={k: v for k, v in changes.items() if k != "events"}
                | ({"events": events} if events is not None else {}),
            )
        return await _one(tenant, webhook_id)


async def rotate_secret(tenant: TenantInfo, actor: Actor, webhook_id: UUID) -> str:
    """A new signing secret, effective for the next POST (the old one stops at once)."""
    actor.require("webhooks:write")
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    async with tenant_tx(tenant.id):
        await _one(tenant, webhook_id)
        await execute(
            "UPDATE webhook_subscription SET secret = {} WHERE tenant_id = {} AND id = {}",
            _seal(secret, tenant),
            tenant.id,
            webhook_id,
        )
        await audit(
            actor,
            "webhook.rotate_secret",
            subject_type="webhook_subscription",
            subject_id=webhook_id,
        )
    return secret


async def delete_webhook(tenant: TenantInfo, actor: Actor, webhook_id: UUID) -> None:
    """Removed; its pending deliveries are dropped with it."""
    actor.require("webhooks:write")
    async with tenant_tx(tenant.id):
        await _one(tenant, webhook_id)
        await execute(
            "DELETE FROM event_delivery WHERE tenant_id = {} AND plugin_id = {} "
            "AND status <> 'done'",
            tenant.id,
            f"webhook:{webhook_id}",
        )
        await execute(
            "DELETE FROM webhook_subscription WHERE tenant_id = {} AND id = {}",
            tenant.id,
            webhook_id,
        )
        await audit(
            actor, "webhook.delete", subject_type="webhook_subscription", subject_id=webhook_id
        )


async def webhook_deliveries(
    tenant: TenantInfo, actor: Actor, webhook_id: UUID, *, limit: int = 20
) -> list[dict[str, Any]]:
    """The subscription's latest deliveries, newest event first: event, status (``pending``
    while retrying, ``done``), attempts, the last error and when the next attempt is due."""
    actor.require("webhooks:write")
    async with tenant_tx(tenant.id, write=False):
        await _one(tenant, webhook_id)
        rows = await fetch(
            "SELECT d.event_id, o.name, o.created_at, d.status, d.attempts, d.last_error, "
            "d.next_attempt_at, d.done_at FROM event_delivery d JOIN event_outbox o "
            "ON o.tenant_id = d.tenant_id AND o.id = d.event_id "
            "WHERE d.tenant_id = {} AND d.plugin_id = {} "
            f"ORDER BY o.created_at DESC, d.event_id LIMIT {max(1, min(limit, 100))}",
            tenant.id,
            f"webhook:{webhook_id}",
        )
    return [dict(r) for r in rows]
