"""``mendian demo``: a year of after-purchase NPS surveys — one published survey (NPS, CSAT and
a reason for detractors), about one sale in eight answered a day later, scored by the staff
member who served it. Stores differ (the first does best, the last worst) and so do cashiers,
so the report's NPS league and ``staffKpis(rankBy: "surveys.nps")`` have a story to tell."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from uuid import uuid4

from core import Actor, DemoData, TenantInfo, insert_rows, tenant_tx
from plugins.surveys.answering import periods
from plugins.surveys.catalog import create_survey, publish_survey
from plugins.surveys.settings import SurveysSettings

__all__ = ["DEMO_SETTINGS", "seed"]

DEMO_SETTINGS: dict[str, Any] = {}
ANSWER_SHARE = 0.125
REASONS = ("wait", "price", "staff", "stock")


def _text(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


DEFINITION: dict[str, Any] = {
    "locales": ["zh-CN", "en"],
    "questions": [
        {
            "key": "nps",
            "type": "nps",
            "required": True,
            "text": _text(
                "您有多大可能向朋友推荐我们的门店？", "How likely are you to recommend us?"
            ),
        },
        {
            "key": "why",
            "type": "multiple_choice",
            "text": _text("哪些方面让您不满意？", "What disappointed you?"),
            "options": [
                {"code": "wait", "text": _text("排队时间长", "Long wait")},
                {"code": "price", "text": _text("价格", "Price")},
                {"code": "staff", "text": _text("服务态度", "Staff attitude")},
                {"code": "stock", "text": _text("缺货", "Out of stock")},
            ],
            "show_if": {"conditions": [{"question": "nps", "operator": "lte", "values": ["6"]}]},
        },
        {"key": "csat", "type": "csat", "text": _text("本次购物满意度", "Today's visit")},
    ],
}


def _score(rng: random.Random, lean: float) -> int:
    """An NPS answer: ``lean`` in [-1, 1] shifts answers towards promoters or detractors."""
    roll = rng.random() + lean * 0.25
    if roll > 0.55:
        return rng.choice((9, 10))
    if roll > 0.3:
        return rng.choice((7, 8))
    return rng.randint(2, 6)


async def seed(tenant: TenantInfo, demo: DemoData, settings: SurveysSettings) -> None:
    rng = random.Random(demo.seed + 2)  # noqa: S311 - reproducible fake data
    actor = Actor.system("demo")
    survey = await create_survey(
        tenant, actor, {"name": "购物后满意度 NPS", "kind": "nps", "definition": DEFINITION}
    )
    await publish_survey(tenant, actor, survey)
    # store lean: the first store best, the last worst; each staff member a little apart
    stores = list(demo.stores)
    store_lean = {s: 0.6 - 1.2 * i / max(1, len(stores) - 1) for i, s in enumerate(stores)}
    staff_lean = {s: rng.uniform(-0.4, 0.4) for s in demo.roles}
    responses: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for sale in demo.sales:
        if sale.customer_id is None or rng.random() > ANSWER_SHARE:
            continue
        at = sale.occurred_at + dt.timedelta(hours=rng.randint(20, 30))
        if at > demo.now:
            continue
        lean = store_lean.get(sale.store_id, 0.0) + (
            staff_lean.get(sale.staff_id, 0.0) if sale.staff_id else 0.0
        )
        nps = _score(rng, lean)
        csat = max(1, min(5, round(1 + nps * 0.4 + rng.uniform(-0.7, 0.7))))
        day, week, month = periods(at, tenant.timezone)
        response_id = uuid4()
        responses.append(
            {
                "tenant_id": tenant.id,
                "id": response_id,
                "survey_id": survey,
                "family_id": survey,
                "link_id": None,
                "customer_id": sale.customer_id,
                "store_id": sale.store_id,
                "staff_id": sale.staff_id,
                "recorded_by": "",
                "purchase_id": sale.id,
                "complaint_id": None,
                "channel": "link",
                "locale": "zh-CN",
                "nps": nps,
                "nps_category": "promoter" if nps >= 9 else "passive" if nps >= 7 else "detractor",
                "csat": csat,
                "answered_at": at,
                "local_day": day,
                "week_start": week,
                "month_start": month,
            }
        )
        common = {
            "tenant_id": tenant.id,
            "response_id": response_id,
            "survey_id": survey,
            "store_id": sale.store_id,
            "answered_at": at,
            "part": 0,
            "choice": None,
            "value_text": None,
            "value_date": None,
        }
        answers.append(
            common
            | {
                "id": uuid4(),
                "question_key": "nps",
                "qtype": "nps",
                "position": 0,
                "value_int": nps,
            }
        )
        if nps <= 6:
            answers.append(
                common
                | {
                    "id": uuid4(),
                    "question_key": "why",
                    "qtype": "multiple_choice",
                    "position": 1,
                    "choice": rng.choice(REASONS),
                    "value_int": None,
                }
            )
        answers.append(
            common
            | {
                "id": uuid4(),
                "question_key": "csat",
                "qtype": "csat",
                "position": 2,
                "value_int": csat,
            }
        )
    async with tenant_tx(tenant.id):
        for table, rows in (("surveys_response", responses), ("surveys_answer", answers)):
            for i in range(0, len(rows), 1000):
                await insert_rows(table, rows[i : i + 1000])
