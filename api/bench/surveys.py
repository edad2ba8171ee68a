"""``mendian bench surveys``: ``surveyResults`` over many responses (generated set-based with
``INSERT … SELECT generate_series``, not through the API) and answers per second through the
public ``surveyAnswer`` mutation (the whole app in-process over httpx, concurrent clients,
one single-use invitation each). PostgreSQL only: that is where the figures matter."""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["bench_surveys"]

RESULTS = """query($s: ID!) { surveyResults(surveyId: $s) { responses
  nps { score promoters passives detractors } csat { score satisfied total }
  questions { key answered average options { code count } distribution { value count } }
  trend(period: WEEK) { periodStart storeId responses nps { score } } } }"""
ANSWER = "mutation($i: SurveyAnswerInput!) { surveyAnswer(input: $i) { accepted errors { code } } }"


async def _seed(responses: int, stores: int) -> tuple[Any, str, uuid.UUID]:
    """A tenant with surveys, an NPS survey, ``stores`` stores and ``responses`` responses
    spread over 26 weeks (one NPS, CSAT and, for detractors, a choice answer each)."""
    from core.context import Actor
    from core.db import execute, tenant_tx
    from core.plugins import get_runtime
    from plugins.surveys.catalog import create_survey, publish_survey
    from tenants.credentials import create_api_key
    from tenants.modules import enable_module
    from tenants.service import create_store, create_tenant

    actor = Actor(kind="system", id="bench")
    tenant = await create_tenant({"slug": f"bench-s-{uuid.uuid4().hex[:8]}", "name": "bench"})
    await enable_module(
        tenant,
        actor,
        get_runtime(),
        "surveys",
        settings={"client_rate": "999999/minute", "token_rate": "999999/minute"},
    )
    _key_id, key = await create_api_key(tenant, actor, name="bench", role="owner")
    store_ids = [
        uuid.UUID(
            str((await create_store(tenant, actor, {"code": f"S{i}", "name": f"店{i}"}))["id"])
        )
        for i in range(stores)
    ]
    text = {"zh-CN": "?"}
    survey = await create_survey(
        tenant,
        actor,
        {
            "name": "bench",
            "kind": "nps",
            "definition": {
                "questions": [
                    {"key": "nps", "type": "nps", "required": True, "text": text},
                    {
                        "key": "why",
                        "type": "multiple_choice",
                        "text": text,
                        "options": [{"code": c, "text": text} for c in ("wait", "price", "staff")],
                        "show_if": {
                            "conditions": [{"question": "nps", "operator": "lte", "values": ["6"]}]
                        },
                    },
                    {"key": "csat", "type": "csat", "text": text},
                ]
            },
        },
    )
    await publish_survey(tenant, actor, survey)
    zone = tenant.timezone
    start = dt.datetime.now(dt.UTC) - dt.timedelta(weeks=26)
    async with tenant_tx(tenant.id):
        # answered_at spread over 26 weeks; scores from the row number (deterministic)
        await execute(
            "INSERT INTO surveys_response (tenant_id, id, survey_id, family_id, link_id, "
            "customer_id, store_id, staff_id, recorded_by, purchase_id, complaint_id, channel, "
            "locale, nps, nps_category, csat, answered_at, local_day, week_start, month_start) "
            "SELECT {}, gen_random_uuid(), {}, {}, NULL, NULL, "
            "({}::uuid[])[1 + g % {}], NULL, '', NULL, NULL, 'anonymous', 'zh-CN', "
            "(g * 7) % 11, CASE WHEN (g * 7) % 11 >= 9 THEN 'promoter' WHEN (g * 7) % 11 >= 7 "
            "THEN 'passive' ELSE 'detractor' END, 1 + (g * 3) % 5, at, "
            "to_char((at AT TIME ZONE {})::date, 'YYYY-MM-DD'), "
            "to_char(date_trunc('week', at AT TIME ZONE {})::date, 'YYYY-MM-DD'), "
            "to_char(date_trunc('month', at AT TIME ZONE {})::date, 'YYYY-MM-DD') "
            "FROM (SELECT g, {}::timestamptz + (g * interval '1 second' * {}) AS at "
            "FROM generate_series(1, {}) AS g) s",
            tenant.id,
            survey,
            survey,
            store_ids,
            stores,
            zone,
            zone,
            zone,
            start,
            int(26 * 7 * 86400 / responses),
            responses,
        )
        for key_name, qtype, value in (
            ("nps", "nps", "r.nps"),
            ("csat", "csat", "r.csat"),
        ):
            await execute(
                "INSERT INTO surveys_answer (tenant_id, id, response_id, survey_id, store_id, "
                "answered_at, question_key, qtype, position, part, choice, value_int, value_text, "
                f"value_date) SELECT r.tenant_id, gen_random_uuid(), r.id, r.survey_id, "
                f"r.store_id, r.answered_at, {{}}, {{}}, {{}}, 0, NULL, {value}, NULL, NULL "
                "FROM surveys_response r WHERE r.tenant_id = {} AND r.survey_id = {}",
                key_name,
                qtype,
                0 if key_name == "nps" else 2,
                tenant.id,
                survey,
            )
        await execute(
            "INSERT INTO surveys_answer (tenant_id, id, response_id, survey_id, store_id, "
            "answered_at, question_key, qtype, position, part, choice, value_int, value_text, "
            "value_date) SELECT r.tenant_id, gen_random_uuid(), r.id, r.survey_id, r.store_id, "
            "r.answered_at, 'why', 'multiple_choice', 1, 0, "
            "(ARRAY['wait', 'price', 'staff'])[1 + r.csat % 3], NULL, NULL, NULL "
            "FROM surveys_response r WHERE r.tenant_id = {} AND r.survey_id = {} AND r.nps <= 6",
            tenant.id,
            survey,
        )
    await execute_analyze()
    return tenant, key, survey


async def execute_analyze() -> None:
    """Fresh planner statistics for the generated rows (as autovacuum would soon give)."""
    from core.db import get_database

    engine = get_database().owner_engine
    for table in ("surveys_response", "surveys_answer"):
        await engine.run_ddl(f"ANALYZE {table}")


async def _mint(tenant: Any, survey: uuid.UUID, count: int) -> list[str]:
    from core.db import insert_rows, tenant_tx
    from plugins.surveys.tokens import hash_token, new_token

    tokens = [new_token(tenant.slug) for _ in range(count)]
    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        for i in range(0, count, 500):
            await insert_rows(
                "surveys_link",
                [
                    {
                        "tenant_id": tenant.id,
                        "id": uuid.uuid4(),
                        "survey_id": survey,
                        "kind": "invitation",
                        "status": "sent",
                        "token_hash": hash_token(t),
                        "customer_id": None,
                        "trigger": "manual",
                        "source_key": f"bench:{uuid.uuid4()}",
                        "reason": "",
                        "sent_at": now,
                        "expires_at": now + dt.timedelta(days=1),
                        "created_at": now,
                    }
                    for t in tokens[i : i + 500]
                ],
            )
    return tokens


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench_surveys(
    report: Callable[[str], None],
    *,
    responses: int = 100_000,
    stores: int = 20,
    runs: int = 20,
    answers: int = 2000,
    connections: int = 16,
) -> None:
    import logging

    import httpx

    from api.app import create_app

    logging.getLogger("httpx").setLevel(logging.WARNING)
    from core import to_global_id
    from core.config import get_settings
    from core.db import get_database

    if not get_database().is_postgres:
        raise RuntimeError("mendian bench surveys needs PostgreSQL (set DATABASE_URL)")
    app = create_app(get_settings(), background=False)
    started = time.perf_counter()
    tenant, key, survey = await _seed(responses, stores)
    report(
        f"seeded {responses:,} responses ({stores} stores, 26 weeks) set-based in "
        f"{time.perf_counter() - started:.1f} s"
    )
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    headers = {"Authorization": f"Bearer {key}"}
    gid = to_global_id("Survey", survey)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        timings = []
        body: dict[str, Any] = {}
        for i in range(runs + 2):
            t0 = time.perf_counter()
            r = await client.post(
                "/graphql", json={"query": RESULTS, "variables": {"s": gid}}, headers=headers
            )
            elapsed = (time.perf_counter() - t0) * 1000
            body = r.json()
            if i >= 2:  # two warm-up runs
                timings.append(elapsed)
        found = body["data"]["surveyResults"]
        report(
            f"surveyResults over {found['responses']:,} responses (NPS {found['nps']['score']}, "
            f"CSAT {found['csat']['score']}, {len(found['trend'])} trend points), {runs} runs: "
            f"median {statistics.median(timings):.0f} ms, p95 {_pct(timings, 0.95):.0f} ms"
        )

        tokens = await _mint(tenant, survey, answers)
        queue: asyncio.Queue[str] = asyncio.Queue()
        for t in tokens:
            queue.put_nowait(t)
        latencies: list[float] = []
        refused = 0

        async def worker(n: int) -> None:
            nonlocal refused
            # each client its own address, as phones are (the API throttles per address)
            phone = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=(f"10.0.{n}.1", 40000)),  # type: ignore[arg-type]
                base_url="http://bench",
            )
            while not queue.empty():
                token = queue.get_nowait()
                variables = {
                    "i": {
                        "token": token,
                        "answers": [
                            {"questionKey": "nps", "number": 3},
                            {"questionKey": "why", "choices": ["wait"]},
                            {"questionKey": "csat", "number": 2},
                        ],
                    }
                }
                t0 = time.perf_counter()
                r = await phone.post("/graphql", json={"query": ANSWER, "variables": variables})
                latencies.append((time.perf_counter() - t0) * 1000)
                body = r.json()
                if not (body.get("data") or {}).get("surveyAnswer", {}).get("accepted"):
                    refused += 1
                    if refused <= 3:
                        report(f"refused: {r.status_code} {str(body)[:300]}")
            await phone.aclose()

        t0 = time.perf_counter()
        await asyncio.gather(*[worker(n) for n in range(connections)])
        seconds = time.perf_counter() - t0
    report(
        f"surveyAnswer (public, one process, {connections} concurrent clients): "
        f"{len(latencies) / seconds:.0f} answers/s over {len(latencies):,}, "
        f"p50 {_pct(latencies, 0.5):.0f} ms, p99 {_pct(latencies, 0.99):.0f} ms, "
        f"refused {refused}"
    )
