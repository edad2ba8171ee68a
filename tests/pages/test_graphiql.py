"""GraphiQL works with the network unplugged: every asset comes from Mendian itself, and a
query runs in a real browser (headless Chromium)."""

from __future__ import annotations

import pytest

from api.graphql.http import graphiql_html
from api.testing import screenshot

pytestmark = pytest.mark.usefixtures("db")


def test_the_page_names_no_external_asset():
    html = graphiql_html()
    assert "unpkg" not in html and "cdn" not in html.lower()
    assert html.count('src="/static/graphiql/') == 5


async def test_graphiql_runs_a_query_offline(live_server, phone, tenant, make_key):
    key = await make_key(tenant)
    outside: list[str] = []

    async def offline(route):  # anything not served by Mendian is refused, as on an offline till
        if route.request.url.startswith(live_server.url):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await phone.context.route("**/*", offline)
    await phone.context.set_extra_http_headers({"Authorization": f"Bearer {key}"})
    await phone.set_viewport_size({"width": 1280, "height": 900})
    await phone.goto(f"{live_server.url}/graphql")
    await phone.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=30_000)
    await phone.evaluate(  # type the query into GraphiQL's editor (CodeMirror)
        "document.querySelector('.graphiql-query-editor .CodeMirror')"
        ".CodeMirror.setValue('{ me { tenant { slug } } }')"
    )
    await phone.click(".graphiql-execute-button")
    try:
        await phone.wait_for_function(
            f"document.body.innerText.includes({tenant.slug!r})", timeout=30_000
        )
    finally:
        await screenshot(phone, "graphiql")
    assert outside == []
    assert [e for e in phone.console_errors if "favicon" not in e] == []
