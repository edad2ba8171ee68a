"""The public form's pages without JavaScript (plain form posts, over in-process HTTP): the form
in zh-CN or English, a mistake brings the form back with everything typed kept, a good post
shows the token and the status page; missing forms, cross-site posts and floods are refused."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.usefixtures("db")


def _value(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, name
    return found.group(1)


@pytest.fixture
async def store(tenant, owner, enable_plugins):
    from tenants.service import create_store

    await enable_plugins(tenant, "complaints")
    return (await create_store(tenant, owner, {"code": "A1", "name": "徐家汇店"}))["id"]


YESTERDAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")) - dt.timedelta(days=1)


def _post(**changes):
    return {
        "_lang": "zh-CN",
        "_key": "k-1",
        "kind": "complaint",
        "name": "王先生",
        "phone": "13912345678",
        "what": "冷柜里的酸奶过期了",
        "occurred_at": YESTERDAY.strftime("%Y-%m-%dT%H:%M"),
        "spot": "冷藏区",
        "category": "goods.expired",
        **changes,
    }


async def _count(tenant):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT count(*) AS n FROM complaints_complaint WHERE tenant_id = {}", tenant.id
        )
    return int(rows[0]["n"])


async def test_the_form_in_chinese_and_english(api, tenant, store):
    page = await api.http.get(f"/feedback/{tenant.slug}/A1")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    html = page.text
    assert '<html lang="zh-Hans">' in html and "意见与投诉" in html and "徐家汇店" in html
    assert "<script" not in html and 'href="/static/mendian.css"' in html
    assert "http" not in html.split("<body>")[1].split("</footer>")[0]  # no external asset
    assert '<option value="goods.expired">' in html and "商品过期" in html
    assert 'name="_key" value="' in html
    en = await api.http.get(
        f"/feedback/{tenant.slug}/A1", headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    assert '<html lang="en">' in en.text and "Feedback and complaints" in en.text
    assert "Expired" in en.text
    query = await api.http.get(f"/feedback/{tenant.slug}/A1?lang=en")
    assert "Feedback and complaints" in query.text


async def test_a_mistake_keeps_what_was_typed_and_a_good_post_shows_the_token(api, tenant, store):
    bad = await api.http.post(
        f"/feedback/{tenant.slug}/A1", data=_post(phone="12345", name="", occurred_at="")
    )
    assert bad.status_code == 422
    html = bad.text
    assert "请检查下面标出的内容" in html
    assert "请输入有效的手机号码" in html and html.count("请填写此项") == 1  # the time
    assert "投诉需要填写此项，以便我们回复您" in html  # the name, for a complaint
    assert _value(html, "phone") == "12345" and _value(html, "spot") == "冷藏区"
    assert ">冷柜里的酸奶过期了</textarea>" in html
    assert '<option value="goods.expired" selected>' in html
    assert _value(html, "_key") == "k-1"
    assert await _count(tenant) == 0

    done = await api.http.post(f"/feedback/{tenant.slug}/A1", data=_post())
    assert done.status_code == 200 and "感谢您的反馈" in done.text
    token = re.search(r'<code id="token" class="token">([^<]+)</code>', done.text).group(1)
    assert token.startswith(f"{tenant.slug}.")
    assert f'href="/feedback/status/{token}?lang=zh-CN"' in done.text
    again = await api.http.post(f"/feedback/{tenant.slug}/A1", data=_post())  # a refresh
    assert again.status_code == 200 and "已经提交过了" in again.text and token not in again.text
    assert await _count(tenant) == 1

    status = await api.http.get(f"/feedback/status/{token}")
    assert status.status_code == 200 and status.headers["cache-control"] == "no-store"
    assert "已收到，我们会尽快受理" in status.text and "徐家汇店" in status.text
    assert YESTERDAY.strftime("%Y-%m-%d %H:%M") not in status.text  # only our own times
    assert "13912345678" not in status.text and "王先生" not in status.text
    en = await api.http.get(f"/feedback/status/{token}?lang=en")
    assert "Received: we will take it up shortly." in en.text


async def test_missing_forms_cross_site_posts_and_floods_are_refused(
    api, tenant, other_tenant, owner, enable_plugins
):
    from tenants.service import create_store

    await enable_plugins(tenant, "complaints", settings={"form_client_rate": "1/minute"})
    await create_store(tenant, owner, {"code": "A1", "name": "徐家汇店"})
    await create_store(other_tenant, owner, {"code": "B1", "name": "B"})  # no complaints there
    missing = [
        await api.http.get(f"/feedback/{tenant.slug}/NOPE"),
        await api.http.get("/feedback/no-such-chain/A1"),
        await api.http.get(f"/feedback/{other_tenant.slug}/B1"),
        await api.http.post(f"/feedback/{other_tenant.slug}/B1", data=_post()),
    ]
    assert {r.status_code for r in missing} == {404}
    assert len({r.text for r in missing}) == 1 and "找不到这个意见反馈页面" in missing[0].text
    assert (await api.http.get(f"/feedback/status/{tenant.slug}.{'x' * 43}")).status_code == 404

    for headers in (
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null", "Sec-Fetch-Site": "same-site"},
    ):
        r = await api.http.post(f"/feedback/{tenant.slug}/A1", data=_post(), headers=headers)
        assert r.status_code == 403, headers
    assert await _count(tenant) == 0
    same = await api.http.post(
        f"/feedback/{tenant.slug}/A1",
        data=_post(),
        headers={"Origin": "http://mendian.test", "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 200
    flood = await api.http.post(f"/feedback/{tenant.slug}/A1", data=_post(_key="k-2"))
    assert flood.status_code == 429 and int(flood.headers["retry-after"]) >= 1
    assert "请求过于频繁" in flood.text
    assert await _count(tenant) == 1


async def test_an_anonymous_suggestion_is_filed_and_an_anonymous_complaint_is_refused(
    api, tenant, store
):
    page = (await api.http.get(f"/feedback/{tenant.slug}/A1")).text
    assert "意见 / 建议可以匿名提交" in page
    assert 'name="name" value="" maxlength="100" autocomplete="name">' in page  # not required

    refused = await api.http.post(
        f"/feedback/{tenant.slug}/A1", data=_post(name="", phone="", _key="k-anon-1")
    )
    assert refused.status_code == 422
    assert refused.text.count("投诉需要填写此项，以便我们回复您") == 2
    assert await _count(tenant) == 0

    done = await api.http.post(
        f"/feedback/{tenant.slug}/A1",
        data=_post(kind="suggestion", name="", phone="", _key="k-anon-2"),
    )
    assert done.status_code == 200 and "感谢您的反馈" in done.text
    assert await _count(tenant) == 1
