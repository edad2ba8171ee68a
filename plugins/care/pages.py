"""The public unsubscribe page (CORE-9): ``GET /u/<token>`` asks "stop these messages?" with
one button (zh-CN by default, ``?lang=en``; no JavaScript, no CDN); ``POST /u/<token>``
withdraws the customer's marketing consent on the message's channel and says so. The same
POST answers an e-mail client's RFC 8058 one-click unsubscribe (``List-Unsubscribe-Post:
List-Unsubscribe=One-Click``). The token is signed (``sign_token``, purpose
``care.unsubscribe``) and carries the tenant's slug, the customer and the channel: it is its
own authorisation, valid one year; a tampered or expired one is the same "not valid" page."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from core import (
    PAGE_HEADERS,
    Forbidden,
    NotFound,
    ValidationFailed,
    find_tenant,
    read_token,
    record_reply,
    sign_token,
    withdraw_consent,
)

__all__ = ["PURPOSE", "one_click_headers", "routes", "unsubscribe_token"]

PURPOSE = "care.unsubscribe"
TEXT = {
    "title": {"zh-CN": "退订营销消息", "en": "Unsubscribe"},
    "ask": {
        "zh-CN": "确定不再接收{tenant}的营销消息（{channel}）吗？",
        "en": "Stop marketing messages from {tenant} ({channel})?",
    },
    "button": {"zh-CN": "确认退订", "en": "Unsubscribe"},
    "done": {
        "zh-CN": "已退订。您将不再收到{tenant}的营销消息（{channel}）。",
        "en": "Done. You will receive no more marketing messages from {tenant} ({channel}).",
    },
    "invalid": {"zh-CN": "此链接无效或已过期。", "en": "This link is not valid or has expired."},
}


def unsubscribe_token(tenant_slug: str, customer_id: UUID, channel: str, now: dt.datetime) -> str:
    return sign_token(
        PURPOSE,
        {"t": tenant_slug, "c": str(customer_id), "ch": channel},
        expires=now + dt.timedelta(days=365),
    )


def one_click_headers(link: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe for an e-mail whose unsubscribe ``link`` is ``https``
    (the RFC requires it, so a path or plain-HTTP link gets none): the mail client POSTs
    ``List-Unsubscribe=One-Click`` to the link, which is this page's POST."""
    if not link.startswith("https://"):
        return {}
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _locale(request: Request[Any, Any, Any]) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh-CN"


def _page(locale: str, title: str, body: str, status: int = 200) -> Response[str]:
    doc = (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.6}button{font-size:1.1rem;padding:.6rem 1.4rem}</style>"
        f"</head><body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return Response(
        content=doc,
        status_code=status,
        media_type="text/html; charset=utf-8",
        headers={**PAGE_HEADERS, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


async def _open(request: Request[Any, Any, Any], token: str) -> tuple[Any, dict[str, Any]] | None:
    try:
        payload = read_token(PURPOSE, token)
        tenant = await find_tenant(str(payload["t"]))
        runtime = request.app.state["runtime"]
        if tenant is None or "care" not in await runtime.enabled(tenant.id):
            return None
        UUID(str(payload["c"]))
    except (NotFound, KeyError, ValueError):
        return None
    return tenant, payload


@get("/{token:str}", name="care.unsubscribe", include_in_schema=False)
async def unsubscribe_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """Ask for the one click (a GET changes nothing: link scanners open links)."""
    locale = _locale(request)
    opened = await _open(request, token)
    if opened is None:
        return _page(locale, TEXT["title"][locale], f"<p>{TEXT['invalid'][locale]}</p>", 404)
    tenant, payload = opened
    ask = TEXT["ask"][locale].format(tenant=html.escape(tenant.name), channel=payload["ch"])
    lang = "?lang=en" if locale == "en" else ""
    body = (
        f'<p>{ask}</p><form method="post" action="{html.escape(token)}{lang}">'
        f'<button type="submit">{TEXT["button"][locale]}</button></form>'
    )
    return _page(locale, TEXT["title"][locale], body)


@post("/{token:str}", name="care.unsubscribe_confirm", include_in_schema=False, status_code=200)
async def unsubscribe_confirm(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Response[str]:
    """Withdraw (idempotent: a second click records nothing new that matters)."""
    locale = _locale(request)
    opened = await _open(request, token)
    if opened is None:
        return _page(locale, TEXT["title"][locale], f"<p>{TEXT['invalid'][locale]}</p>", 404)
    tenant, payload = opened
    with contextlib.suppress(NotFound):  # erased or merged meanwhile: nothing left to send to
        await withdraw_consent(
            tenant,
            UUID(str(payload["c"])),
            "marketing",
            str(payload["ch"]),
            source="unsubscribe_link",
        )
    done = TEXT["done"][locale].format(tenant=html.escape(tenant.name), channel=payload["ch"])
    return _page(locale, TEXT["title"][locale], f"<p>{done}</p>")


@post("/replies/{slug:str}/webhook", name="care.reply", include_in_schema=False, status_code=200)
async def channel_reply(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
    """A customer's reply through the ``webhook`` channel's gateway, signed like outbound
    messages (``X-Mendian-Signature``): recorded, and "TD"/"退订" withdraws consent."""
    tenant = await find_tenant(slug)
    runtime = request.app.state["runtime"]
    if tenant is None or "care" not in await runtime.enabled(tenant.id):
        return Response(content={"error": "not_found"}, status_code=404)
    try:
        outcome = await record_reply(
            tenant,
            await request.body(),
            request.headers.get("x-mendian-signature", ""),
            await runtime.channels(tenant),
        )
    except Forbidden:
        return Response(content={"error": "forbidden"}, status_code=403)
    except NotFound:
        return Response(content={"error": "not_found"}, status_code=404)
    except ValidationFailed as exc:
        return Response(content={"error": "invalid", "message": exc.message}, status_code=400)
    return Response(content={"outcome": outcome}, status_code=200)


def routes() -> list[Any]:
    """``/u/…``: its own short path (it goes into text messages)."""
    return [
        Router(path="/u", route_handlers=[unsubscribe_page, unsubscribe_confirm, channel_reply])
    ]
