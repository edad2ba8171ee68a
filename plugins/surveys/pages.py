"""The survey page ``/s/{token}`` and the counter poster, server-rendered, without JavaScript.

The form is multi-step only where the logic needs it: a page ends after each question that
other questions' logic depends on, so the server — which re-runs the logic on every POST —
chooses what comes next (conditional questions appear or stay hidden without a script). Each
POST carries the earlier pages' answers as hidden fields; the last one stores the response
through the same path as ``surveyAnswer``. The token is the capability; cross-site posts are
refused (``Origin`` / ``Sec-Fetch-Site``: :func:`core.cross_site`); every request is throttled per token and per client
address; responses are ``no-store`` and send no referrer (the URL holds the token).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

import core  # core.throttle: `from core import throttle` reads as the submodule to import-linter
from core import (
    PAGE_HEADERS,
    Conflict,
    NotFound,
    Pages,
    RateLimited,
    TenantInfo,
    ValidationFailed,
    client_address,
    cross_site,
    page_response,
    request_locale,
)
from plugins.surveys.answering import (
    Form,
    RawAnswer,
    clean_answers,
    open_form,
    submit_answers,
    typed_answer,
)
from plugins.surveys.definitions import SCALES, Answer, Definition, logic_sources, text_of, walk
from plugins.surveys.settings import SurveysSettings
from plugins.surveys.tokens import hash_token

__all__ = ["MESSAGES", "pages", "routes"]

MESSAGES = {
    "next": {"zh-CN": "下一步", "en": "Next"},
    "submit": {"zh-CN": "提交", "en": "Submit"},
    "required": {"zh-CN": "必答", "en": "required"},
    "required_answer": {"zh-CN": "请回答此题。", "en": "Please answer this question."},
    "invalid_answer": {"zh-CN": "答案无效，请重新选择。", "en": "This answer is not valid."},
    "fix_below": {
        "zh-CN": "请检查下面标出的问题。",
        "en": "Please check the questions marked below.",
    },
    "thanks": {"zh-CN": "感谢您的反馈！", "en": "Thank you for your feedback!"},
    "already_answered": {
        "zh-CN": "您已经完成了这份问卷，感谢参与！",
        "en": "You have already answered this survey. Thank you!",
    },
    "forbidden": {"zh-CN": "请求被拒绝。", "en": "This request was refused."},
    "nps_low": {"zh-CN": "0 完全不可能", "en": "0 not at all likely"},
    "nps_high": {"zh-CN": "10 非常愿意", "en": "10 extremely likely"},
    "csat_low": {"zh-CN": "1 非常不满意", "en": "1 very dissatisfied"},
    "csat_high": {"zh-CN": "5 非常满意", "en": "5 very satisfied"},
    "rating_low": {"zh-CN": "1 星", "en": "1 star"},
    "rating_high": {"zh-CN": "5 星", "en": "5 stars"},
    "scan": {"zh-CN": "扫码评价本店服务", "en": "Scan to tell us how we did"},
}
pages = Pages("plugins.surveys", messages=MESSAGES)
HEADERS = PAGE_HEADERS


_html = page_response


def _runtime(request: Request[Any, Any, Any]) -> Any:
    return request.app.state["runtime"]


def _enabled(request: Request[Any, Any, Any]) -> Any:
    runtime = _runtime(request)

    async def enabled(tenant: TenantInfo) -> bool:
        return "surveys" in await runtime.enabled(tenant.id)

    return enabled


def _locale(request: Request[Any, Any, Any], d: Definition | None, wanted: str | None) -> str:
    return request_locale(request, wanted, tuple(d.locales) if d else ("zh-CN", "en"))


async def _guard(request: Request[Any, Any, Any], form: Form, token: str) -> None:
    """Throttle per token and per client address (the tenant's settings)."""
    settings: SurveysSettings = await _runtime(request).plugin_settings(form.tenant.id, "surveys")
    tenant = form.tenant.id
    client = client_address(request)
    await core.throttle(f"surveys:{tenant}:token:{hash_token(token)[:20]}", settings.token_rate)
    await core.throttle(f"surveys:{tenant}:client:{client}", settings.client_rate)


def _question_view(q: Any, locale: str, given: list[str]) -> dict[str, Any]:
    return {
        "key": q.key,
        "type": q.type,
        "required": q.required,
        "text": text_of(q.text, locale),
        "options": [{"code": o.code, "text": text_of(o.text, locale)} for o in q.options],
        "scale": list(range(SCALES[q.type][0], SCALES[q.type][1] + 1)) if q.type in SCALES else [],
        "given": given,
    }


def _raw(q: Any, values: list[str]) -> RawAnswer:
    """A form's values for a question as a raw answer (types checked afterwards)."""
    values = [v for v in values if v.strip()]
    if q.type in ("single_choice", "multiple_choice"):
        return RawAnswer(question_key=q.key, choices=values)
    if not values:
        return RawAnswer(question_key=q.key)
    if q.type in SCALES:
        try:
            return RawAnswer(question_key=q.key, number=int(values[0]))
        except ValueError:
            return RawAnswer(question_key=q.key, number=-1)
    if q.type == "date":
        try:
            return RawAnswer(question_key=q.key, date=dt.date.fromisoformat(values[0]))
        except ValueError:
            return RawAnswer(question_key=q.key, text="invalid")
    return RawAnswer(question_key=q.key, text=values[0])


def next_page(d: Definition, answers: Mapping[str, Answer], shown: set[str]) -> list[Any]:
    """The questions of the next page: those the logic asks, not shown yet, up to and
    including the first one later logic depends on."""
    sources = logic_sources(d)
    page = []
    for q in walk(d, answers):
        if q.key in shown:
            continue
        page.append(q)
        if q.key in sources:
            break
    return page


def _render(
    form: Form,
    locale: str,
    page: list[Any],
    shown: list[str],
    values: Mapping[str, list[str]],
    *,
    error: str | None = None,
    invalid: Mapping[str, str] | None = None,
) -> str:
    d = form.definition
    # A page ends early only at a question later logic depends on: then more may follow.
    keys = [q.key for q in d.questions]
    last_key = page[-1].key if page else ""
    more = bool(page) and last_key in logic_sources(d) and keys.index(last_key) < len(keys) - 1
    return pages.render(
        "survey.html",
        locale=locale,
        title=text_of(d.title, locale) or form.name,
        intro=text_of(d.intro, locale),
        first_page=not shown,
        error=error,
        invalid=invalid or {},
        shown=",".join(shown),
        page_keys=",".join(q.key for q in page),
        carried=[(k, values.get(k, [])) for k in shown if values.get(k)],
        questions=[_question_view(q, locale, values.get(q.key, [])) for q in page],
        last_page=not more,
    )


async def _open(request: Request[Any, Any, Any], token: str) -> Form | Response[str]:
    try:
        form = await open_form(token, _enabled(request))
    except NotFound:
        locale = _locale(request, None, request.query_params.get("lang"))
        return _html(pages.error("not_found", locale=locale), 404)
    except Conflict:
        locale = _locale(request, None, request.query_params.get("lang"))
        return _html(pages.error("already_answered", locale=locale), 409)
    try:
        await _guard(request, form, token)
    except RateLimited as exc:
        locale = _locale(request, form.definition, request.query_params.get("lang"))
        return _html(
            pages.error("too_many", locale=locale), 429, {"Retry-After": str(exc.retry_after)}
        )
    return form


@get("/{token:str}", name="surveys.page", include_in_schema=False)
async def survey_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """The first page of the survey behind ``token``."""
    opened = await _open(request, token)
    if isinstance(opened, Response):
        return opened
    locale = _locale(request, opened.definition, request.query_params.get("lang"))
    page = next_page(opened.definition, {}, set())
    return _html(_render(opened, locale, page, [], {}))


@post("/{token:str}", name="surveys.submit", include_in_schema=False, status_code=200)
async def survey_submit(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """A page of answers: the next page, or — after the last — the stored response."""
    if cross_site(request):
        return _html(pages.error("forbidden"), 403)
    opened = await _open(request, token)
    if isinstance(opened, Response):
        return opened
    d = opened.definition
    data = await request.form()
    locale = _locale(request, d, data.get("_lang"))
    by_key = {q.key: q for q in d.questions}
    earlier = [k for k in str(data.get("_shown") or "").split(",") if k in by_key]
    current = [k for k in str(data.get("_page") or "").split(",") if k in by_key]
    shown = earlier + [k for k in current if k not in earlier]
    values = {k: [str(v) for v in data.getall(f"q.{k}", [])] for k in shown}
    raws = [_raw(by_key[k], v) for k, v in values.items()]
    page_questions = [by_key[k] for k in current]
    try:
        _asked, typed = _typed(d, raws, set(shown))
    except ValidationFailed as exc:
        invalid = _invalid(exc, raws)
        return _html(
            _render(
                opened, locale, page_questions, earlier, values, error="fix_below", invalid=invalid
            ),
            422,
        )
    following = next_page(d, typed, set(shown))
    if following:
        return _html(_render(opened, locale, following, shown, values))
    try:
        await submit_answers(
            token, [r for r in raws if r.question_key in typed], _enabled(request), locale=locale
        )
    except NotFound:
        return _html(pages.error("not_found", locale=locale), 404)
    except Conflict:
        return _html(pages.error("already_answered", locale=locale), 409)
    except ValidationFailed as exc:
        return _html(
            _render(
                opened,
                locale,
                page_questions,
                earlier,
                values,
                error="fix_below",
                invalid=_invalid(exc, raws),
            ),
            422,
        )
    return _html(
        pages.render(
            "thanks.html",
            locale=locale,
            title=text_of(d.title, locale) or opened.name,
            thanks=text_of(d.thanks, locale),
        )
    )


def _typed(d: Definition, raws: list[RawAnswer], shown: set[str]) -> tuple[Any, dict[str, Answer]]:
    """Check the answers given so far: types, and required questions among those shown."""
    try:
        return clean_answers(d, raws)
    except ValidationFailed as exc:
        # "required" for a question not shown yet is not this page's business
        if exc.code == "required" and all(
            (e.field or "").removeprefix("answers.") not in shown for e in exc.errors
        ):
            typed = {}
            for r in raws:
                q = d.question(r.question_key)
                a = typed_answer(q, r, "answers") if q is not None else None
                if q is not None and a is not None:
                    typed[q.key] = a
            return [], typed
        raise


def _invalid(exc: ValidationFailed, raws: list[RawAnswer]) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors:
        where = (e.field or "").removeprefix("answers.")
        if where.isdigit() and int(where) < len(raws):
            where = raws[int(where)].question_key
        out[where] = "required_answer" if e.code == "required" else "invalid_answer"
    return out


def _public_url(
    request: Request[Any, Any, Any], settings: SurveysSettings, token: FromPath[str]
) -> str:
    base = settings.public_url or str(request.base_url).rstrip("/")
    return f"{base.rstrip('/')}/s/{token}"


async def _poster_form(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Form | Response[str]:
    opened = await _open(request, token)
    if isinstance(opened, Response):
        return opened
    if not opened.anonymous:  # a personal invitation is never printed
        return _html(pages.error("not_found"), 404)
    return opened


@get("/{token:str}/poster", name="surveys.poster", include_in_schema=False)
async def survey_poster(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """A printable A4/phone poster for the counter: the survey's QR code (inline SVG)."""
    import segno

    opened = await _poster_form(request, token)
    if isinstance(opened, Response):
        return opened
    settings = await _runtime(request).plugin_settings(opened.tenant.id, "surveys")
    url = _public_url(request, settings, token)
    locale = _locale(request, opened.definition, request.query_params.get("lang"))
    store = ""
    if opened.link["store_id"]:
        from core import store_facts

        facts = await store_facts(opened.tenant, [opened.link["store_id"]])
        store = next((f.name for f in facts.values()), "")
    qr = segno.make(url, error="m").svg_inline(scale=8, title=url)
    return _html(
        pages.render(
            "poster.html",
            locale=locale,
            title=text_of(opened.definition.title, locale) or opened.name,
            store=store,
            qr=qr,
            url=url,
        )
    )


@get("/{token:str}/qr.svg", name="surveys.qr_svg", include_in_schema=False)
async def survey_qr_svg(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[Any]:
    """The QR code of an anonymous link as SVG."""
    return await _qr(request, token, "svg")


@get("/{token:str}/qr.png", name="surveys.qr_png", include_in_schema=False)
async def survey_qr_png(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[Any]:
    """The QR code of an anonymous link as PNG (segno writes PNG itself: no Pillow)."""
    return await _qr(request, token, "png")


async def _qr(request: Request[Any, Any, Any], token: str, fmt: str) -> Response[Any]:
    import segno

    opened = await _poster_form(request, token)
    if isinstance(opened, Response):
        return opened
    settings = await _runtime(request).plugin_settings(opened.tenant.id, "surveys")
    buffer = io.BytesIO()
    segno.make(_public_url(request, settings, token), error="m").save(
        buffer, kind=fmt, scale=10, border=4
    )
    media = "image/svg+xml" if fmt == "svg" else "image/png"
    return Response(content=buffer.getvalue(), media_type=media, headers=HEADERS)


@get("/download/{token:str}", name="surveys.download", include_in_schema=False)
async def download(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[Any]:
    """An export asked for through ``surveyExport`` (a five-minute, single-use link)."""
    from core import Actor, find_tenant
    from plugins.surveys.exports import FORMATS, export_rows, redeem_download, render
    from plugins.surveys.tokens import slug_of

    slug = token.split(".", 1)[0] if "." in token else None
    tenant = await find_tenant(slug) if slug and slug_of(token) else None
    found = await redeem_download(tenant, token) if tenant else None
    if tenant is None or found is None:
        return _html(pages.error("not_found"), 404)
    survey_id, fmt, params = found
    stores = params.get("stores")
    actor = Actor(
        kind="staff",
        id=str(params.get("actor", "")),
        role=str(params.get("role", "")),
        permissions=frozenset({"surveys:export"}),
        store_ids=None if stores is None else frozenset(UUID(s) for s in stores),
    )
    header, rows = await export_rows(
        tenant,
        actor,
        survey_id,
        dt.datetime.fromisoformat(params["from"]) if params.get("from") else None,
        dt.datetime.fromisoformat(params["to"]) if params.get("to") else None,
        UUID(params["store_id"]) if params.get("store_id") else None,
    )
    return Response(
        content=render(header, rows, fmt),
        media_type=FORMATS[fmt],
        headers={
            **HEADERS,
            "Content-Disposition": f'attachment; filename="survey-{survey_id}.{fmt}"',
        },
    )


def routes() -> list[Any]:
    """``/s/…`` (its own short path) and the download under ``/p/surveys``."""
    return [
        Router(
            path="/s",
            route_handlers=[
                survey_page,
                survey_submit,
                survey_poster,
                survey_qr_svg,
                survey_qr_png,
            ],
        ),
        download,
    ]
