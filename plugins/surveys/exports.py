"""Exports of a survey's responses as CSV (UTF-8 with BOM, so Excel in China opens it right)
and XLSX (openpyxl): one row per response, one column per question (choices joined by
``;``), in the tenant's timezone. Used by ``mendian surveys export`` and the authenticated
download (``surveyExport`` hands out a five-minute link)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import zoneinfo
from typing import Any
from uuid import UUID, uuid4

from core import (
    EXPORT_TYPES,
    Actor,
    NotFound,
    TenantInfo,
    audit,
    fetch,
    insert_rows,
    json_text,
    table_file,
    tenant_tx,
)
from plugins.surveys.definitions import parse_definition, text_of
from plugins.surveys.responses import answers_of
from plugins.surveys.scoring import scope

__all__ = ["FORMATS", "create_download", "export_rows", "redeem_download", "render"]

FORMATS = EXPORT_TYPES
MAX_ROWS = 200_000
DOWNLOAD_MINUTES = 5


async def export_rows(
    tenant: TenantInfo,
    actor: Actor,
    survey_id: UUID,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    store_id: UUID | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the survey's responses the caller may see."""
    actor.require("surveys:export")
    where, args = scope(tenant, actor, survey_id, start, end, store_id)
    async with tenant_tx(tenant.id, write=False):
        survey = await fetch(
            "SELECT definition FROM surveys_survey WHERE tenant_id = {} AND id = {}",
            tenant.id,
            survey_id,
        )
        if not survey:
            raise NotFound("survey not found", field="surveyId")
        rows = await fetch(
            "SELECT id, answered_at, channel, store_id, customer_id, staff_id, nps, csat "
            f"FROM surveys_response WHERE {where} ORDER BY answered_at, id LIMIT {MAX_ROWS}",
            *args,
        )
    d = parse_definition(survey[0]["definition"])
    zone = zoneinfo.ZoneInfo(tenant.timezone)
    header = [
        "response_id",
        "answered_at",
        "channel",
        "store_id",
        "customer_id",
        "staff_id",
        "nps",
        "csat",
    ] + [f"{q.key} {text_of(q.text, 'zh-CN')}".strip() for q in d.questions]
    answers: dict[UUID, list[dict[str, Any]]] = {}
    ids = [UUID(str(r["id"])) for r in rows]
    for i in range(0, len(ids), 500):
        answers.update(await answers_of(tenant, ids[i : i + 500]))
    out = []
    for r in rows:
        given = {a["question_key"]: a for a in answers.get(UUID(str(r["id"])), [])}
        cells: list[Any] = [
            str(r["id"]),
            r["answered_at"].astimezone(zone).isoformat(timespec="seconds"),
            r["channel"],
            str(r["store_id"] or ""),
            str(r["customer_id"] or ""),
            str(r["staff_id"] or ""),
            r["nps"],
            r["csat"],
        ]
        for q in d.questions:
            a = given.get(q.key)
            if a is None:
                cells.append(None)
            elif a["choices"]:
                cells.append(";".join(a["choices"]))
            elif a["number"] is not None:
                cells.append(a["number"])
            elif a["date"] is not None:
                cells.append(a["date"].isoformat())
            else:
                cells.append(a["text"])
        out.append(cells)
    return header, out


def render(header: list[str], rows: list[list[Any]], fmt: str) -> bytes:
    """The file's bytes in ``fmt`` (``csv`` or ``xlsx``; formula-like cells quoted)."""
    return table_file(header, rows, fmt, title="responses")


async def create_download(
    tenant: TenantInfo,
    actor: Actor,
    survey_id: UUID,
    fmt: str,
    params: dict[str, Any],
) -> tuple[str, dt.datetime]:
    """A five-minute capability to download the export (the URL's token); audited."""
    actor.require("surveys:export")
    token = f"{tenant.slug}.{secrets.token_urlsafe(32)}"
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=DOWNLOAD_MINUTES)
    async with tenant_tx(tenant.id):
        rows = await fetch(
            "SELECT id FROM surveys_survey WHERE tenant_id = {} AND id = {}", tenant.id, survey_id
        )
        if not rows:
            raise NotFound("survey not found", field="surveyId")
        await insert_rows(
            "surveys_download",
            [
                {
                    "tenant_id": tenant.id,
                    "id": uuid4(),
                    "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                    "survey_id": survey_id,
                    "format": fmt,
                    "params": json_text(
                        {"actor": actor.id, "role": actor.role, **params}
                        | {
                            "stores": sorted(map(str, actor.store_ids or []))
                            if actor.store_ids is not None
                            else None
                        }
                    ),
                    "actor": actor.id,
                    "expires_at": expires,
                    "created_at": dt.datetime.now(dt.UTC),
                }
            ],
        )
        await audit(
            actor,
            "surveys.export",
            subject_type="survey",
            subject_id=survey_id,
            details={"format": fmt},
        )
    return token, expires


async def redeem_download(
    tenant: TenantInfo, token: str
) -> tuple[UUID, str, dict[str, Any]] | None:
    """The survey, format and parameters of a live download token (used once), or ``None``."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    async with tenant_tx(tenant.id):
        rows = await fetch(
            "DELETE FROM surveys_download WHERE tenant_id = {} AND token_hash = {} "
            "AND expires_at > {} RETURNING survey_id, format, params",
            tenant.id,
            digest,
            dt.datetime.now(dt.UTC),
        )
    if not rows:
        return None
    from core import json_value

    return (
        UUID(str(rows[0]["survey_id"])),
        rows[0]["format"],
        dict(json_value(rows[0]["params"], {})),
    )
