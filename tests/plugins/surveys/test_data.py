"""Data: exports (CSV and XLSX, the five-minute download, the CLI's service), privacy (text
answers exported and erased, scores kept, anonymous responses in nobody's export), merges,
KPIs and segment conditions."""

from __future__ import annotations

import csv
import io

import pytest

from core import to_global_id
from tests.plugins.surveys.helpers import RECORD, answers, gql_ok, nps_survey, uid

pytestmark = pytest.mark.usefixtures("db")

EXPORT = "mutation($i: SurveyExportInput!) { surveyExport(input: $i) { url expiresAt errors { field code } } }"


async def _recorded(api, key, tenant, owner):
    from core.customers import create_customer

    survey = await nps_survey(api, key)
    people = [await create_customer(tenant, owner, {"name": n}) for n in ("甲", "乙", "丙")]
    for person, (score, csat, comment) in zip(
        people, [(10, 5, "很好"), (6, 2, '=HYPERLINK("x")'), (8, 4, None)], strict=True
    ):
        r = await gql_ok(
            api,
            RECORD,
            {
                "i": {
                    "surveyId": survey,
                    "channel": "PHONE",
                    "customerId": to_global_id("Customer", person.id),
                    "answers": answers(
                        score, why=["price"] if score <= 6 else None, csat=csat, comment=comment
                    ),
                }
            },
            key,
        )
        assert r["surveyResponseRecord"]["errors"] == []
    token = (
        await gql_ok(
            api, "query($s: ID!) { survey(id: $s) { anonymousLink { url } } }", {"s": survey}, key
        )
    )["survey"]["anonymousLink"]["url"].removeprefix("/s/")
    await gql_ok(
        api,
        "mutation($i: SurveyAnswerInput!) { surveyAnswer(input: $i) { accepted } }",
        {"i": {"token": token, "answers": answers(9, comment="匿名意见")}},
        None,
    )
    return survey, people


async def test_exports_as_csv_and_xlsx_through_a_single_use_download(
    api, tenant, owner, make_key, enable_plugins
):
    from openpyxl import load_workbook

    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    survey, people = await _recorded(api, key, tenant, owner)
    r = await gql_ok(api, EXPORT, {"i": {"surveyId": survey, "format": "CSV"}}, key)
    url = r["surveyExport"]["url"]
    assert url.startswith(f"/p/surveys/download/{tenant.slug}.")
    got = await api.http.get(url)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:8] == [
        "response_id",
        "answered_at",
        "channel",
        "store_id",
        "customer_id",
        "staff_id",
        "nps",
        "csat",
    ]
    assert rows[0][8:] == [
        "nps 您有多大可能向朋友推荐本店？",
        "why 哪些地方让您不满意？",
        "csat 您对本次购物满意吗？",
        "comment 还有什么建议？",
    ]
    body = sorted((r[2], r[4], r[6], r[9], r[11]) for r in rows[1:])
    assert body == sorted(
        [
            ("phone", str(people[0].id), "10", "", "很好"),
            ("phone", str(people[1].id), "6", "price", '\'=HYPERLINK("x")'),  # no formula runs
            ("phone", str(people[2].id), "8", "", ""),
            ("anonymous", "", "9", "", "匿名意见"),
        ]
    )
    assert rows[1][1].endswith("+08:00")  # the tenant's timezone
    assert (await api.http.get(url)).status_code == 404  # used once

    r = await gql_ok(api, EXPORT, {"i": {"surveyId": survey, "format": "XLSX"}}, key)
    got = await api.http.get(r["surveyExport"]["url"])
    assert got.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(got.content)).active
    values = list(sheet.values)
    assert len(values) == 5 and values[0][6] == "nps"
    cashier = await make_key(tenant, role="cashier")
    denied = await api.gql(EXPORT, {"i": {"surveyId": survey, "format": "CSV"}}, key=cashier)
    assert denied["errors"][0]["extensions"]["code"] == "forbidden"


async def test_the_cli_export_writes_the_file(
    api, tenant, owner, make_key, enable_plugins, tmp_path
):
    from plugins.surveys.exports import export_rows, render

    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    survey, _people = await _recorded(api, key, tenant, owner)
    from api.cli.dev import export_survey

    out = tmp_path / "r.csv"
    await export_survey(tenant.slug, str(uid(survey)), "csv", out)
    header, rows = await export_rows(tenant, owner, uid(survey))
    assert out.read_bytes() == render(header, rows, "csv")
    assert len(rows) == 4


async def test_privacy_exports_and_erases_text_answers_and_keeps_scores(
    api, tenant, owner, make_key, enable_plugins, runtime
):
    from core.privacy import erase_customer, export_customer
    from plugins.surveys.scoring import results

    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    survey, people = await _recorded(api, key, tenant, owner)
    data = await export_customer(tenant, owner, people[0].id, runtime=runtime)
    mine = data["plugins"]["surveys"]
    assert mine["invitations"] == 0
    (response,) = mine["responses"]
    assert (response["nps"], response["channel"]) == (10, "phone")
    assert [a["text"] for a in response["answers"] if a["question"] == "comment"] == ["很好"]
    assert "匿名意见" not in str(data)  # anonymous answers belong to nobody

    before = await results(tenant, owner, uid(survey))
    await erase_customer(tenant, owner, people[0].id, runtime=runtime)
    after = await export_customer(tenant, owner, people[0].id, runtime=runtime)
    (erased,) = after["plugins"]["surveys"]["responses"]
    assert [a["text"] for a in erased["answers"] if a["question"] == "comment"] == [None]
    assert erased["nps"] == 10
    assert await results(tenant, owner, uid(survey)) == before  # scores unchanged


async def test_kpis_nps_csat_and_response_rate_per_store(
    api, tenant, owner, make_key, enable_plugins
):
    from tenants.service import create_store
    from tests.plugins.surveys.helpers import mint_invitation

    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    survey = await nps_survey(api, key)
    store = (await create_store(tenant, owner, {"code": "A", "name": "A"}))["id"]
    from core.customers import create_customer

    people = [await create_customer(tenant, owner, {"name": str(i)}) for i in range(4)]
    tokens = [await mint_invitation(tenant, uid(survey), p.id, store_id=store) for p in people]
    for token, score in zip(tokens[:3], (10, 2, 9), strict=True):
        await gql_ok(
            api,
            "mutation($i: SurveyAnswerInput!) { surveyAnswer(input: $i) { accepted } }",
            {
                "i": {
                    "token": token,
                    "answers": answers(score, why=["wait"] if score < 7 else None, csat=4),
                }
            },
            None,
        )
    body = await gql_ok(
        api,
        'query($s: ID!) { kpis(from: "2020-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z", storeId: $s) { modules { module key value } } }',
        {"s": to_global_id("Store", store)},
        key,
    )
    got = {m["key"]: m["value"] for m in body["kpis"]["modules"] if m["module"] == "surveys"}
    assert got == {
        "responses": 3,
        "nps": 33.3,  # (2 - 1) / 3
        "csat": 100.0,
        "response_rate": 75.0,  # 3 of 4 invitations
        "nps_by_store": {str(store): {"responses": 3, "nps": 33.3}},
        "nps_by_staff": {},
    }


async def test_segment_conditions_last_nps_category_last_csat_answered_survey(
    api, tenant, owner, make_key, enable_plugins, runtime
):
    import datetime as dt

    from core.segments import create_segment, segment_size

    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    survey, people = await _recorded(api, key, tenant, owner)
    # the first customer answers again later as a detractor: the last answer counts
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat()
    await gql_ok(
        api,
        RECORD,
        {
            "i": {
                "surveyId": survey,
                "channel": "PHONE",
                "customerId": to_global_id("Customer", people[0].id),
                "answeredAt": later,
                "answers": answers(3, csat=1),
            }
        },
        key,
    )
    fields = await runtime.segment_fields(tenant)

    async def size(name, flt):
        seg = await create_segment(tenant, owner, {"name": name, "filter": flt}, fields=fields)
        return await segment_size(tenant, owner, seg["id"], fields=fields)

    assert (
        await size("det", {"field": "surveys_last_nps_category", "op": "eq", "value": "detractor"})
        == 2
    )
    assert (
        await size("pro", {"field": "surveys_last_nps_category", "op": "eq", "value": "promoter"})
        == 0
    )
    assert (
        await size(
            "pas",
            {"field": "surveys_last_nps_category", "op": "in", "value": ["passive", "promoter"]},
        )
        == 1
    )
    assert await size("csat", {"field": "surveys_last_csat", "op": "lte", "value": 2}) == 2
    assert (
        await size("ans", {"field": "surveys_answered", "op": "eq", "value": str(uid(survey))}) == 3
    )
    v2 = await gql_ok(
        api,
        "mutation($i: SurveyCreateInput!) { surveyCreate(input: $i) { survey { id } } }",
        {"i": {"name": "v2", "basedOnId": survey, "kind": "NPS"}},
        key,
    )
    await gql_ok(
        api,
        "mutation($i: SurveyPublishInput!) { surveyPublish(input: $i) { errors { code } } }",
        {"i": {"id": v2["surveyCreate"]["survey"]["id"]}},
        key,
    )
    assert (
        await size("ans-any", {"field": "surveys_answered", "op": "eq", "value": str(uid(survey))})
        == 3
    )


async def test_a_merge_moves_responses_to_the_kept_customer(
    tenant, owner, enable_plugins, api, make_key, deliver_events
):
    from core.customers import create_customer, merge_customers

    await enable_plugins(tenant, "surveys")
    key = await make_key(tenant)
    survey = await nps_survey(api, key)
    a = await create_customer(tenant, owner, {"name": "a"})
    b = await create_customer(tenant, owner, {"name": "b"})
    await gql_ok(
        api,
        RECORD,
        {
            "i": {
                "surveyId": survey,
                "channel": "PHONE",
                "customerId": to_global_id("Customer", a.id),
                "answers": answers(9),
            }
        },
        key,
    )
    await merge_customers(tenant, owner, a.id, b.id)
    await deliver_events(tenant)
    shown = await gql_ok(
        api,
        "query($c: ID!) { customer(id: $c) { surveyResponses { nodes { nps } } } }",
        {"c": to_global_id("Customer", b.id)},
        key,
    )
    assert shown["customer"]["surveyResponses"]["nodes"] == [{"nps": 9}]
