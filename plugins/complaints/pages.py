"""The public form's pages, server-rendered, without JavaScript: ``/feedback/<tenant>/<store>``
(the form a store's poster points at; posting it files the complaint and shows the tracking
token) and ``/feedback/status/<token>`` (where it stands; once resolved, a form asks 满意 /
不满意, posted to the same address: :func:`public.answer`, once per resolution).

They call :mod:`plugins.complaints.public`, as ``complaintSubmit`` and ``complaintStatus`` do:
the same checks, the same throttles, the same "no such form" for an unknown tenant, store or a
tenant without complaints. A form with a mistake comes back with everything typed kept and the
message next to its field. Cross-site posts are refused (:func:`core.cross_site`); a hidden
idempotency key makes a re-posted form (a refresh, a double tap) file the complaint once.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from core import (
    Conflict,
    IdempotencyMismatch,
    NotFound,
    Pages,
    RateLimited,
    ValidationFailed,
    client_address,
    cross_site,
    page_response,
    request_locale,
)
from plugins.complaints import public
from plugins.complaints.categories import category_tree

__all__ = ["MESSAGES", "pages", "routes"]

MESSAGES = {
    "form_title": {"zh-CN": "意见与投诉", "en": "Feedback and complaints"},
    "form_intro": {
        "zh-CN": "请告诉我们发生了什么，我们会尽快与您联系。",
        "en": "Tell us what happened; we will get back to you soon.",
    },
    "form_not_found": {
        "zh-CN": "找不到这个意见反馈页面，请核对门店海报上的地址。",
        "en": "This feedback page does not exist. Please check the address on the poster.",
    },
    "kind": {"zh-CN": "类型", "en": "Type"},
    "kind_complaint": {"zh-CN": "投诉", "en": "Complaint"},
    "kind_suggestion": {"zh-CN": "意见 / 建议", "en": "Suggestion"},
    "name": {"zh-CN": "您的称呼", "en": "Your name"},
    "phone": {"zh-CN": "手机号码", "en": "Mobile phone"},
    "phone_hint": {"zh-CN": "仅用于回复您，不会公开。", "en": "Only to reply to you."},
    "contact_note": {
        "zh-CN": "投诉请留下称呼和手机号码，以便我们回复您；意见 / 建议可以匿名提交。",
        "en": "For a complaint, leave your name and phone so we can reply; a suggestion may "
        "be anonymous.",
    },
    "e_contact_required": {
        "zh-CN": "投诉需要填写此项，以便我们回复您（意见 / 建议可以匿名）。",
        "en": "A complaint needs this so we can reply (a suggestion may be anonymous).",
    },
    "what": {"zh-CN": "发生了什么", "en": "What happened"},
    "occurred_at": {"zh-CN": "发生时间", "en": "When"},
    "spot": {"zh-CN": "店内位置（选填）", "en": "Where in the store (optional)"},
    "category": {"zh-CN": "问题类别（选填）", "en": "Category (optional)"},
    "category_none": {"zh-CN": "请选择", "en": "Choose"},
    "submit": {"zh-CN": "提交", "en": "Submit"},
    "fix_below": {
        "zh-CN": "请检查下面标出的内容。",
        "en": "Please check the fields marked below.",
    },
    "e_required": {"zh-CN": "请填写此项。", "en": "Please fill this in."},
    "e_too_long": {"zh-CN": "内容过长。", "en": "This is too long."},
    "e_invalid_phone": {"zh-CN": "请输入有效的手机号码。", "en": "Please enter a valid phone."},
    "e_unknown_category": {"zh-CN": "请从列表中选择。", "en": "Please choose from the list."},
    "e_in_future": {"zh-CN": "时间不能晚于现在。", "en": "This cannot be in the future."},
    "e_too_long_ago": {
        "zh-CN": "只能反馈一年以内的事情。",
        "en": "Only for the last twelve months.",
    },
    "e_invalid": {"zh-CN": "请重新填写。", "en": "Please check this."},
    "thanks": {"zh-CN": "感谢您的反馈，我们已经收到。", "en": "Thank you: we have received it."},
    "number": {"zh-CN": "受理编号", "en": "Reference"},
    "token": {"zh-CN": "查询码", "en": "Tracking code"},
    "keep_token": {
        "zh-CN": "请保存查询码或下面的链接，凭它查看处理进度。",
        "en": "Keep this code or the link below to follow your case.",
    },
    "status_link": {"zh-CN": "查看处理进度", "en": "Follow its progress"},
    "replayed": {
        "zh-CN": "这份反馈已经提交过了，无需重复提交。",
        "en": "This was already submitted; no need to send it again.",
    },
    "forbidden": {"zh-CN": "请求被拒绝。", "en": "This request was refused."},
    "status_title": {"zh-CN": "处理进度", "en": "Progress"},
    "store": {"zh-CN": "门店", "en": "Store"},
    "state": {"zh-CN": "状态", "en": "Status"},
    "received_at": {"zh-CN": "提交时间", "en": "Received"},
    "promised_reply_at": {"zh-CN": "承诺回复时间", "en": "We promised to reply by"},
    "due_ack": {"zh-CN": "最迟受理时间", "en": "We will take it up by"},
    "due_resolve": {"zh-CN": "预计处理完成时间", "en": "We aim to resolve it by"},
    "resolved_at": {"zh-CN": "处理时间", "en": "Resolved"},
    "resolution": {"zh-CN": "处理结果", "en": "Resolution"},
    "ask_title": {
        "zh-CN": "您对处理结果满意吗？",
        "en": "Are you satisfied with how we resolved it?",
    },
    "satisfied": {"zh-CN": "满意", "en": "Satisfied"},
    "dissatisfied": {"zh-CN": "不满意", "en": "Not satisfied"},
    "comment": {
        "zh-CN": "还有什么想告诉我们的（选填）",
        "en": "Anything else you want to tell us (optional)",
    },
    "thanks_satisfied": {
        "zh-CN": "感谢您的评价，祝您生活愉快！",
        "en": "Thank you for telling us.",
    },
    "thanks_dissatisfied": {
        "zh-CN": "很抱歉没有让您满意。我们已重新处理并上报，会尽快与您联系。",
        "en": "We are sorry. We have reopened it and passed it up; we will contact you soon.",
    },
    "answered": {
        "zh-CN": "您已经对这次处理作出了评价，无需重复提交。",
        "en": "You have already answered for this resolution; there is no need to send it again.",
    },
    "choose_answer": {"zh-CN": "请选择满意或不满意。", "en": "Please choose an answer."},
}
pages = Pages("plugins.complaints", messages=MESSAGES)
FIELDS = ("kind", "name", "phone", "what", "occurred_at", "spot", "category")


def _runtime(request: Request[Any, Any, Any]) -> Any:
    return request.app.state["runtime"]


def _error(key: str, status: int, locale: str) -> Response[str]:
    return page_response(pages.error(key, locale=locale), status)


def _limited(exc: RateLimited, locale: str) -> Response[str]:
    return page_response(
        pages.error("too_many", locale=locale), 429, {"Retry-After": str(exc.retry_after)}
    )


async def _open(
    request: Request[Any, Any, Any], tenant: str, store: str, locale: str
) -> public.PublicForm | Response[str]:
    try:
        return await public.open_form(_runtime(request), tenant, store, client_address(request))
    except NotFound:
        return _error("form_not_found", 404, locale)
    except RateLimited as exc:
        return _limited(exc, locale)


def _render_form(
    form: public.PublicForm,
    locale: str,
    values: dict[str, str],
    key: str,
    invalid: dict[str, str] | None = None,
) -> str:
    english = locale == "en"
    categories = [
        {
            "code": c.code,
            "name": "\u3000" * c.code.count(".") + (c.en if english else c.zh),
        }
        for c in category_tree(form.settings)
        if c.active
    ]
    return pages.render(
        "feedback_form.html",
        locale=locale,
        store=form.store.name,
        values={name: values.get(name, "") for name in FIELDS},
        invalid=invalid or {},
        categories=categories,
        key=key,
        now=dt.datetime.now(ZoneInfo(form.store.timezone)).strftime("%Y-%m-%dT%H:%M"),
    )


@get("/{tenant:str}/{store:str}", name="complaints.form", include_in_schema=False)
async def feedback_form(
    request: Request[Any, Any, Any], tenant: FromPath[str], store: FromPath[str]
) -> Response[str]:
    """The form of a store (its poster's address)."""
    locale = request_locale(request, request.query_params.get("lang"))
    opened = await _open(request, tenant, store, locale)
    if isinstance(opened, Response):
        return opened
    return page_response(_render_form(opened, locale, {}, secrets.token_urlsafe(16)))


def _occurred(value: str, timezone: str) -> dt.datetime | str:
    """A ``datetime-local`` value as a time in the store's timezone (the text itself when it
    is none: :func:`public.check_form` says what is wrong with it)."""
    try:
        naive = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    return naive.replace(tzinfo=ZoneInfo(timezone)) if naive.tzinfo is None else naive


def _message_key(field: str, code: str) -> str:
    """The page's message for a field's error code (a complaint's missing contact says why)."""
    if code == "required" and field in ("name", "phone"):
        return "e_contact_required"
    return f"e_{code}" if f"e_{code}" in MESSAGES else "e_invalid"


@post("/{tenant:str}/{store:str}", name="complaints.submit", include_in_schema=False)
async def feedback_submit(
    request: Request[Any, Any, Any], tenant: FromPath[str], store: FromPath[str]
) -> Response[str]:
    """File the form: the tracking token, or the form again with what to fix."""
    data = await request.form()
    locale = request_locale(request, data.get("_lang"))
    if cross_site(request):
        return _error("forbidden", 403, locale)
    opened = await _open(request, tenant, store, locale)
    if isinstance(opened, Response):
        return opened
    values = {name: str(data.get(name) or "") for name in FIELDS}
    key = str(data.get("_key") or "")[:64] or secrets.token_urlsafe(16)
    raw = {**values, "occurred_at": _occurred(values["occurred_at"], opened.store.timezone)}
    try:
        done = await public.submit(
            _runtime(request), opened, raw, client_address(request), idempotency_key=key
        )
    except ValidationFailed as exc:
        invalid = {str(e.field): _message_key(str(e.field), str(e.code)) for e in exc.errors}
        return page_response(_render_form(opened, locale, values, key, invalid), 422)
    except IdempotencyMismatch:  # the same key for a changed form: a new key files it
        return page_response(
            _render_form(opened, locale, values, secrets.token_urlsafe(16), {}), 409
        )
    except RateLimited as exc:
        return _limited(exc, locale)
    return page_response(
        pages.render(
            "feedback_done.html",
            locale=locale,
            store=opened.store.name,
            number=done.number,
            token=done.token,
        )
    )


def _render_status(
    found: public.PublicStatus, locale: str, notice: str = "", status: int = 200
) -> Response[str]:
    zone = ZoneInfo(found.timezone)

    def local(at: dt.datetime | None) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else ""

    return page_response(
        pages.render(
            "feedback_status.html",
            locale=locale,
            status=found,
            text=found.status_text(locale),
            notice=notice,
            times=[
                (label, local(at))
                for label, at in (
                    ("received_at", found.received_at),
                    ("promised_reply_at", found.promised_reply_at),
                    ("due_ack" if found.state == "received" else "due_resolve", found.due_at),
                    ("resolved_at", found.resolved_at),
                )
                if at
            ],
        ),
        status,
    )


@get("/status/{token:str}", name="complaints.status", include_in_schema=False)
async def feedback_status(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """Where the complaint of a tracking token stands (and, once resolved, "satisfied?")."""
    locale = request_locale(request, request.query_params.get("lang"))
    try:
        found = await public.public_status(_runtime(request), token, client_address(request))
    except NotFound:
        return _error("not_found", 404, locale)
    except RateLimited as exc:
        return _limited(exc, locale)
    return _render_status(found, locale)


@post("/status/{token:str}", name="complaints.answer", include_in_schema=False)
async def feedback_answer(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """The customer's answer (满意 / 不满意) to a resolution: applied once (a second post for
    the same resolution is refused, 409), then the status page again."""
    data = await request.form()
    locale = request_locale(request, data.get("_lang"))
    if cross_site(request):
        return _error("forbidden", 403, locale)
    runtime, client = _runtime(request), client_address(request)
    choice = str(data.get("answer") or "")
    try:
        cycle = int(str(data.get("cycle") or ""))
    except ValueError:
        cycle = -1
    try:
        if choice not in ("satisfied", "dissatisfied") or cycle < 0:
            found = await public.public_status(runtime, token, client)
            return _render_status(found, locale, "choose_answer", 422)
        found = await public.answer(
            runtime,
            token,
            client,
            satisfied=choice == "satisfied",
            cycle=cycle,
            comment=str(data.get("comment") or ""),
        )
    except NotFound:
        return _error("not_found", 404, locale)
    except RateLimited as exc:
        return _limited(exc, locale)
    except Conflict:  # answered already, or reopened by staff meanwhile: nothing changed
        found = await public.public_status(runtime, token, client)
        return _render_status(found, locale, "answered", 409)
    except ValidationFailed:  # a comment over 2000 characters (the form's maxlength)
        found = await public.public_status(runtime, token, client)
        return _render_status(found, locale, "e_too_long", 422)
    return _render_status(found, locale, f"thanks_{choice}")


def routes() -> list[Any]:
    """``/feedback/…``: the form and the status page (their own short path, for posters).
    ``status`` is not a tenant slug a form can have: its two-segment paths are the status
    page's (a static segment wins over a parameter)."""
    return [
        Router(
            path="/feedback",
            route_handlers=[feedback_status, feedback_answer, feedback_form, feedback_submit],
        )
    ]
