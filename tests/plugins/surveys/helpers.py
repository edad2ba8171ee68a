"""Shared drivers for the surveys tests: GraphQL documents, an NPS survey with a conditional
question, published through the API, and invitations minted without the messaging pipeline
(to answer by token in tests that are not about sending)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid4

from core import from_global_id

SURVEY_FIELDS = "id name kind status version locales title questions { key type required }"
CREATE = (
    "mutation($i: SurveyCreateInput!) { surveyCreate(input: $i) { survey { "
    + SURVEY_FIELDS
    + " } errors { field code message } } }"
)
UPDATE = (
    "mutation($i: SurveyUpdateInput!) { surveyUpdate(input: $i) { survey { "
    + SURVEY_FIELDS
    + " } errors { field code } } }"
)
PUBLISH = (
    "mutation($i: SurveyPublishInput!) { surveyPublish(input: $i) { survey { id status } "
    "errors { field code message } } }"
)
CLOSE = (
    "mutation($i: SurveyCloseInput!) { surveyClose(input: $i) { survey { id status } "
    "errors { field code } } }"
)
INVITE = (
    "mutation($i: SurveyInviteInput!) { surveyInvite(input: $i) { queued deferred "
    "suppressed { reason count } errors { field code } } }"
)
TRIGGER = (
    "mutation($i: SurveyTriggerSetInput!) { surveyTriggerSet(input: $i) { trigger { kind "
    "active delayMinutes samplingPercent storeIds segmentId everyDays } errors { field code } } }"
)
FORM = (
    "query($t: String!, $l: String) { surveyForm(token: $t, locale: $l) { form { kind locale "
    "title anonymous questions { key type text required options { code text } "
    "showIf { connector conditions { question operator values } } } } errors { field code } } }"
)
ANSWER = (
    "mutation($i: SurveyAnswerInput!) { surveyAnswer(input: $i) { accepted "
    "errors { field code } } }"
)
RECORD = (
    "mutation($i: SurveyResponseRecordInput!) { surveyResponseRecord(input: $i) { response { "
    "id channel nps npsCategory csat staffId storeId answers { questionKey choices number text } "
    "} errors { field code } } }"
)
RESULTS = """
query($s: ID!, $store: ID, $from: DateTime, $to: DateTime) {
  surveyResults(surveyId: $s, storeId: $store, from: $from, to: $to) {
    responses
    nps { score promoters passives detractors total }
    csat { score satisfied total }
    questions { key type answered average options { code count } distribution { value count } }
    week: trend(period: WEEK) { periodStart storeId responses nps { score total } csat { score } }
    month: trend(period: MONTH) { periodStart storeId responses nps { score total } }
  }
}"""


def texts(zh: str, en: str | None = None) -> list[dict[str, str]]:
    return [{"locale": "zh-CN", "text": zh}] + ([{"locale": "en", "text": en}] if en else [])


def nps_questions() -> list[dict[str, Any]]:
    """NPS, then "why?" asked only of detractors (a conditional question), then CSAT."""
    return [
        {
            "key": "nps",
            "type": "NPS",
            "required": True,
            "text": texts("您有多大可能向朋友推荐本店？", "How likely are you to recommend us?"),
        },
        {
            "key": "why",
            "type": "MULTIPLE_CHOICE",
            "text": texts("哪些地方让您不满意？", "What disappointed you?"),
            "options": [
                {"code": "wait", "text": texts("排队太久", "Long wait")},
                {"code": "price", "text": texts("价格", "Price")},
                {"code": "staff", "text": texts("服务态度", "Staff")},
            ],
            "showIf": {"conditions": [{"question": "nps", "operator": "LTE", "values": ["6"]}]},
        },
        {
            "key": "csat",
            "type": "CSAT",
            "text": texts("您对本次购物满意吗？", "Are you satisfied with this visit?"),
        },
        {"key": "comment", "type": "TEXT", "text": texts("还有什么建议？", "Anything else?")},
    ]


async def gql_ok(api: Any, doc: str, variables: dict[str, Any], key: str | None) -> dict[str, Any]:
    body = await api.gql(doc, variables, key=key)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def nps_survey(api: Any, key: str, *, publish: bool = True, **extra: Any) -> str:
    """A bilingual NPS survey with a conditional question; its global id."""
    data = await gql_ok(
        api,
        CREATE,
        {
            "i": {
                "name": "门店满意度",
                "kind": "NPS",
                "locales": ["zh-CN", "en"],
                "title": texts("满意度调查", "Satisfaction survey"),
                "questions": nps_questions(),
            }
            | extra
        },
        key,
    )
    assert data["surveyCreate"]["errors"] == [], data
    survey_id: str = data["surveyCreate"]["survey"]["id"]
    if publish:
        done = await gql_ok(api, PUBLISH, {"i": {"id": survey_id}}, key)
        assert done["surveyPublish"]["errors"] == [], done
    return survey_id


def uid(global_id: str, kind: str = "Survey") -> UUID:
    return from_global_id(global_id, kind)


async def mint_invitation(
    tenant: Any,
    survey_id: UUID,
    customer_id: UUID | None,
    *,
    store_id: UUID | None = None,
    staff_id: UUID | None = None,
    purchase_id: UUID | None = None,
    expires_in: dt.timedelta = dt.timedelta(days=14),
) -> str:
    """An invitation as if sent (status ``sent``), straight into the table: its token."""
    from core.db import insert_rows, tenant_tx
    from plugins.surveys.tokens import hash_token, new_token

    token = new_token(tenant.slug)
    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        await insert_rows(
            "surveys_link",
            [
                {
                    "tenant_id": tenant.id,
                    "id": uuid4(),
                    "survey_id": survey_id,
                    "kind": "invitation",
                    "status": "sent",
                    "token_hash": hash_token(token),
                    "customer_id": customer_id,
                    "store_id": store_id,
                    "staff_id": staff_id,
                    "purchase_id": purchase_id,
                    "trigger": "manual",
                    "source_key": f"test:{uuid4()}",
                    "reason": "",
                    "sent_at": now,
                    "expires_at": now + expires_in,
                    "created_at": now,
                }
            ],
        )
    return token


def answers(
    nps: int, *, why: list[str] | None = None, csat: int | None = None, comment: str | None = None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"questionKey": "nps", "number": nps}]
    if why is not None:
        out.append({"questionKey": "why", "choices": why})
    if csat is not None:
        out.append({"questionKey": "csat", "number": csat})
    if comment is not None:
        out.append({"questionKey": "comment", "text": comment})
    return out


async def response_rows(tenant: Any) -> list[dict[str, Any]]:
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        return await fetch(
            "SELECT * FROM surveys_response WHERE tenant_id = {} ORDER BY answered_at", tenant.id
        )


async def answer_rows(tenant: Any) -> list[dict[str, Any]]:
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        return await fetch(
            "SELECT * FROM surveys_answer WHERE tenant_id = {} ORDER BY position, choice",
            tenant.id,
        )
