"""Server-rendered pages people open on their phones (STYLE "Pages"): a survey, a complaint
form, an unsubscribe page, a report. jinja2 with autoescaping, one mobile-first layout
(``base.html``), every asset served by Mendian itself under ``/static/`` (no CDN: stores'
networks are often offline from foreign CDNs), zh-CN by default, usable without JavaScript.

A plugin keeps its templates in ``<package>/templates/`` and makes them extend ``base.html``::

    pages = Pages("plugins.surveys", messages=MESSAGES)
    html = pages.render("survey.html", locale="zh-CN", survey=...)

``messages`` maps a key to its text per locale; templates call ``t("key")`` (falling back to
zh-CN, then the key). Handlers answer with :func:`page_response`, refuse :func:`cross_site`
posts, throttle on :func:`client_address` and pick :func:`request_locale`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import Request, Response

__all__ = [
    "LOCALES",
    "PAGE_HEADERS",
    "STATIC_DIR",
    "Pages",
    "client_address",
    "cross_site",
    "page_response",
    "pick_locale",
    "request_locale",
]

STATIC_DIR = Path(__file__).parent / "static"
LOCALES = ("zh-CN", "en")
# Every page's response headers: never cached (pages carry tokens and personal data), no
# referrer (the URL is a credential), nothing but our own origin, no framing.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}

_CORE_MESSAGES: dict[str, dict[str, str]] = {
    "powered_by": {"zh-CN": "门店 Mendian", "en": "Mendian"},
    "error_title": {"zh-CN": "出错了", "en": "Something went wrong"},
    "not_found": {"zh-CN": "链接无效或已过期。", "en": "This link is not valid or has expired."},
    "too_many": {
        "zh-CN": "请求过于频繁，请稍后再试。",
        "en": "Too many requests; please try again shortly.",
    },
}


def pick_locale(wanted: str | None, available: tuple[str, ...] = LOCALES) -> str:
    """The first of ``available`` that ``wanted`` (a locale or an Accept-Language header)
    asks for; zh-CN otherwise (or the first available)."""
    for part in (wanted or "").split(","):
        tag = part.split(";")[0].strip()
        for loc in available:
            if tag and (
                tag.lower() == loc.lower() or tag.lower().split("-")[0] == loc.lower().split("-")[0]
            ):
                return loc
    return "zh-CN" if "zh-CN" in available else available[0]


class Pages:
    """The templates of one package (with the core's layout) and its messages."""

    def __init__(
        self, package: str | None = None, messages: Mapping[str, Mapping[str, str]] | None = None
    ) -> None:
        loaders = [PackageLoader(package, "templates")] if package else []
        self.env = Environment(
            loader=ChoiceLoader([*loaders, PackageLoader("core.pages", "templates")]),
            autoescape=select_autoescape(["html", "xml"], default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.messages: dict[str, Mapping[str, str]] = {**_CORE_MESSAGES, **(messages or {})}

    def t(self, locale: str) -> Any:
        def translate(key: str, **values: Any) -> str:
            texts = self.messages.get(key, {})
            text = texts.get(locale) or texts.get("zh-CN") or key
            return text.format(**values) if values else text

        return translate

    def render(self, template: str, *, locale: str = "zh-CN", **context: Any) -> str:
        """The page, escaped; ``t`` and ``locale`` are available in the template."""
        return self.env.get_template(template).render(
            locale=locale,
            lang="zh-Hans" if locale == "zh-CN" else locale,
            t=self.t(locale),
            **context,
        )

    def error(self, message_key: str, *, locale: str = "zh-CN") -> str:
        """A small error page (an expired link, too many requests)."""
        return self.render("error.html", locale=locale, message_key=message_key)


# --- what every public page handler does with its request ----------------------------------
# The CSRF rule (cross_site) holds for pages whose capability is in the URL (a survey's token, a
# store's complaint form): there is no session cookie to steal, but a page elsewhere must not
# post in a visitor's name.


def page_response(
    body: str, status: int = 200, extra: Mapping[str, str] | None = None
) -> Response[str]:
    """An HTML page with the pages' headers (``no-store``, no referrer, our origin only)."""
    return Response(
        content=body,
        status_code=status,
        media_type="text/html; charset=utf-8",
        headers={**PAGE_HEADERS, **(extra or {})},
    )


def cross_site(request: Request[Any, Any, Any]) -> bool:
    """A form posted from another site: refuse it (403). ``Sec-Fetch-Site`` decides where the
    browser sends it; otherwise a foreign ``Origin`` does. (``Origin: null`` alone is not
    refused: our own pages send no referrer, and then browsers post with ``Origin: null``.)"""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return False
    return urlsplit(origin).netloc != request.headers.get("host", "")


def client_address(request: Request[Any, Any, Any]) -> str:
    """The caller's address, as throttles key on it (``unknown`` when the server has none)."""
    return request.client.host if request.client else "unknown"


def request_locale(
    request: Request[Any, Any, Any],
    wanted: str | None = None,
    available: tuple[str, ...] = LOCALES,
) -> str:
    """``wanted`` (a ``?lang=`` or a form's ``_lang``) when offered, else the browser's
    ``Accept-Language``, else zh-CN."""
    if wanted in available:
        return str(wanted)
    return pick_locale(request.headers.get("accept-language"), available)
