"""The survey page ``/s/{token}`` without JavaScript (plain form posts, over in-process HTTP):
the conditional question appears only when the logic asks it, answers are stored once, the
locale follows the survey and the browser, cross-site posts and floods are refused; the counter
poster's QR code comes as SVG and PNG."""

from __future__ import annotations

import re

import pytest

from tests.plugins.surveys.helpers import (
    gql_ok,
    mint_invitation,
    nps_survey,
    response_rows,
    uid,
)

pytestmark = pytest.mark.usefixtures("db")


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, name
    return found.group(1)


async def _invited(api, tenant, owner, make_key, enable_plugins, settings=None):
    from core.customers import create_customer

    await enable_plugins(tenant, "surveys", settings=settings)
    key = await make_key(tenant)
    survey = await nps_survey(api, key)
    customer = await create_customer(tenant, owner, {"name": "王芳"})
    return key, survey, await mint_invitation(tenant, uid(survey), customer.id)


async def test_a_detractor_gets_the_conditional_question_on_the_next_page(
    api, tenant, owner, make_key, enable_plugins
):
    _key, _survey, token = await _invited(api, tenant, owner, make_key, enable_plugins)
    http = api.http
    first = await http.get(f"/s/{token}")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    assert first.headers["referrer-policy"] == "no-referrer"
    html = first.text
    assert '<html lang="zh-Hans">' in html and "满意度调查" in html
    assert 'name="q.nps"' in html and 'name="q.why"' not in html  # NPS first, alone
    assert "<script" not in html and "http" not in html.split("<body>")[1].split("</footer>")[0]
    assert 'href="/static/mendian.css"' in html

    page = {"_lang": "zh-CN", "_shown": "", "_page": _field(html, "_page"), "q.nps": "3"}
    second = await http.post(f"/s/{token}", data=page)
    assert second.status_code == 200
    assert 'name="q.why"' in second.text and 'name="q.csat"' in second.text
    assert _field(second.text, "_shown") == "nps"
    assert 'name="q.nps" value="3"' in second.text  # carried as a hidden field

    done = await http.post(
        f"/s/{token}",
        data={
            "_lang": "zh-CN",
            "_shown": "nps",
            "_page": "why,csat,comment",
            "q.nps": "3",
            "q.why": ["wait", "price"],
            "q.csat": "2",
            "q.comment": "排队太久",
        },
    )
    assert done.status_code == 200 and "感谢您的反馈" in done.text
    (row,) = await response_rows(tenant)
    assert (row["nps"], row["csat"]) == (3, 2)
    again = await http.get(f"/s/{token}")
    assert again.status_code == 409 and "已经完成" in again.text


async def test_a_promoter_never_sees_it_and_missing_required_answers_come_back(
    api, tenant, owner, make_key, enable_plugins
):
    _key, _survey, token = await _invited(api, tenant, owner, make_key, enable_plugins)
    http = api.http
    missing = await http.post(f"/s/{token}", data={"_shown": "", "_page": "nps"})
    assert missing.status_code == 422 and "请回答此题" in missing.text
    second = await http.post(f"/s/{token}", data={"_shown": "", "_page": "nps", "q.nps": "10"})
    assert 'name="q.why"' not in second.text and 'name="q.csat"' in second.text
    # a forged answer to the hidden question is dropped on the server
    done = await http.post(
        f"/s/{token}",
        data={
            "_shown": "nps",
            "_page": "csat,comment",
            "q.nps": "10",
            "q.csat": "5",
            "q.why": "wait",
        },
    )
    assert done.status_code == 200
    (row,) = await response_rows(tenant)
    assert (row["nps"], row["nps_category"], row["csat"]) == (10, "promoter", 5)


async def test_the_locale_follows_the_browser_and_the_survey(
    api, tenant, owner, make_key, enable_plugins
):
    _key, _survey, token = await _invited(api, tenant, owner, make_key, enable_plugins)
    en = await api.http.get(f"/s/{token}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in en.text and "Satisfaction survey" in en.text
    fr = await api.http.get(f"/s/{token}", headers={"Accept-Language": "fr-FR"})
    assert "满意度调查" in fr.text  # not offered: zh-CN


async def test_cross_site_posts_bad_tokens_and_floods_are_refused(
    api, tenant, owner, make_key, enable_plugins
):
    _key, _survey, token = await _invited(
        api, tenant, owner, make_key, enable_plugins, settings={"token_rate": "5/minute"}
    )
    http = api.http
    form = {"_shown": "", "_page": "nps", "q.nps": "9"}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null", "Sec-Fetch-Site": "same-site"},
    ):
        r = await http.post(f"/s/{token}", data=form, headers=headers)
        assert r.status_code == 403, headers
    same = await http.post(
        f"/s/{token}",
        data=form,
        headers={"Origin": "http://mendian.test", "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 200
    assert (await http.get(f"/s/{tenant.slug}.{'x' * 43}")).status_code == 404
    assert (await http.get("/s/nonsense")).status_code == 404
    codes = [(await http.get(f"/s/{token}")).status_code for _ in range(6)]
    assert codes[-1] == 429 and 200 in codes
    limited = await http.get(f"/s/{token}")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert "请求过于频繁" in limited.text
    assert await response_rows(tenant) == []


async def test_the_counter_poster_and_its_qr_codes(api, tenant, owner, make_key, enable_plugins):
    from tenants.service import create_store

    await enable_plugins(tenant, "surveys", settings={"public_url": "https://s.example.cn"})
    key = await make_key(tenant)
    survey = await nps_survey(api, key)
    store = (await create_store(tenant, owner, {"code": "A", "name": "徐家汇店"}))["id"]
    from core import to_global_id

    link = await gql_ok(
        api,
        "query($s: ID!, $st: ID!) { survey(id: $s) { anonymousLink(storeId: $st) { url posterUrl qrSvgUrl qrPngUrl } } }",
        {"s": survey, "st": to_global_id("Store", store)},
        key,
    )
    found = link["survey"]["anonymousLink"]
    path = found["url"].removeprefix("https://s.example.cn")
    again = await gql_ok(
        api,
        "query($s: ID!, $st: ID!) { survey(id: $s) { anonymousLink(storeId: $st) { url } } }",
        {"s": survey, "st": to_global_id("Store", store)},
        key,
    )
    assert again["survey"]["anonymousLink"]["url"] == found["url"]  # one link per store
    poster = await api.http.get(f"{path}/poster")
    assert poster.status_code == 200 and "<svg" in poster.text and "徐家汇店" in poster.text
    svg = await api.http.get(f"{path}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.content.startswith(
        b"<?xml"
    )
    png = await api.http.get(f"{path}/qr.png")
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    # the store's link answers anonymously, for that store
    done = await api.http.post(path, data={"_shown": "", "_page": "nps", "q.nps": "10"})
    done = await api.http.post(path, data={"_shown": "nps", "_page": "csat,comment", "q.nps": "10"})
    assert done.status_code == 200
    (row,) = await response_rows(tenant)
    assert (row["channel"], row["customer_id"], str(row["store_id"])) == (
        "anonymous",
        None,
        str(store),
    )
    # a personal invitation is never printed as a poster
    from core.customers import create_customer

    c = await create_customer(tenant, owner, {"name": "x"})
    personal = await mint_invitation(tenant, uid(survey), c.id)
    assert (await api.http.get(f"/s/{personal}/poster")).status_code == 404
