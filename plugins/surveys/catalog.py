"""Survey records: create a draft (or the next version of a survey), change a draft, publish
(the questions freeze; the previous version closes and its triggers move on), close, read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid4

import msgspec

from core import (
    Actor,
    Conflict,
    NotFound,
    TenantInfo,
    audit,
    claim,
    execute,
    fetch,
    insert_rows,
    json_text,
    tenant_tx,
)
from plugins.surveys.definitions import (
    Definition,
    Question,
    SurveyInput,
    check_publishable,
    check_shape,
    parse_definition,
)
from plugins.surveys.tokens import hash_token, new_token

__all__ = [
    "BUILTIN_COMPLAINT",
    "anonymous_link",
    "builtin_complaint_survey",
    "close_survey",
    "create_survey",
    "get_survey",
    "get_surveys",
    "list_surveys",
    "publish_survey",
    "update_survey",
]

BUILTIN_COMPLAINT = "complaint_resolution"
_COLUMNS = (
    "id, family_id, version, name, kind, status, definition, builtin, created_at, updated_at, "
    "published_at, closed_at"
)


def _row(r: dict[str, Any]) -> dict[str, Any]:
    out = dict(r)
    out["id"] = UUID(str(r["id"]))
    out["family_id"] = UUID(str(r["family_id"]))
    out["definition"] = parse_definition(r["definition"])
    return out


async def _load(tenant: TenantInfo, survey_id: UUID) -> dict[str, Any]:
    """The survey, inside the open tenant transaction; ``NotFound`` on ``id``."""
    rows = await fetch(
        f"SELECT {_COLUMNS} FROM surveys_survey WHERE tenant_id = {{}} AND id = {{}}",
        tenant.id,
        survey_id,
    )
    if not rows:
        raise NotFound("survey not found", field="id")
    return _row(rows[0])


async def get_survey(tenant: TenantInfo, survey_id: UUID) -> dict[str, Any] | None:
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {_COLUMNS} FROM surveys_survey WHERE tenant_id = {{}} AND id = {{}}",
            tenant.id,
            survey_id,
        )
    return _row(rows[0]) if rows else None


async def get_surveys(tenant: TenantInfo, ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    """Several surveys in one statement (a DataLoader batch)."""
    if not ids:
        return {}
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {_COLUMNS} FROM surveys_survey WHERE tenant_id = {{}} AND id IN ("
            + ", ".join("{}" for _ in ids)
            + ")",
            tenant.id,
            *ids,
        )
    return {r["id"]: r for r in map(_row, rows)}


async def list_surveys(
    tenant: TenantInfo,
    actor: Actor,
    *,
    status: str | None,
    after: tuple[dt.datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first; ``after`` is the (created_at, id) of the last one seen."""
    actor.require("surveys:read")
    where: list[str] = ["tenant_id = {}"]
    args: list[Any] = [tenant.id]
    if status:
        where.append("status = {}")
        args.append(status)
    if after:
        where.append("(created_at < {} OR (created_at = {} AND id < {}))")
        args += [after[0], after[0], after[1]]
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            f"SELECT {_COLUMNS} FROM surveys_survey WHERE {' AND '.join(where)} "
            "ORDER BY created_at DESC, id DESC LIMIT {}",
            *args,
            limit,
        )
    return [_row(r) for r in rows]


async def create_survey(
    tenant: TenantInfo,
    actor: Actor,
    data: dict[str, Any],
    *,
    based_on: UUID | None = None,
    idempotency_key: str | None = None,
) -> UUID:
    """A new draft; with ``based_on``, the next version of that survey (its questions copied
    unless the input brings its own)."""
    actor.require("surveys:write")
    payload = check_shape(data)
    survey_id = uuid4()
    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        earlier = await claim(
            "surveys.create",
            idempotency_key,
            {"data": msgspec.to_builtins(payload), "based_on": str(based_on)},
            survey_id,
        )
        if earlier is not None:
            return earlier
        family, version = survey_id, 1
        definition = payload.definition
        if based_on is not None:
            try:
                base = await _load(tenant, based_on)
            except NotFound:
                raise NotFound("survey not found", field="basedOnId") from None
            family = base["family_id"]
            rows = await fetch(
                "SELECT MAX(version) AS v FROM surveys_survey WHERE tenant_id = {} "
                "AND family_id = {}",
                tenant.id,
                family,
            )
            version = int(rows[0]["v"]) + 1
            if "definition" not in data:
                definition = base["definition"]
        await insert_rows(
            "surveys_survey",
            [
                {
                    "tenant_id": tenant.id,
                    "id": survey_id,
                    "family_id": family,
                    "version": version,
                    "name": payload.name,
                    "kind": payload.kind,
                    "status": "draft",
                    "definition": json_text(definition),
                    "builtin": "",
                    "created_by": actor.id,
                    "created_at": now,
                    "updated_at": now,
                    "published_at": None,
                    "closed_at": None,
                }
            ],
        )
        await audit(actor, "surveys.create", subject_type="survey", subject_id=survey_id)
    return survey_id


async def update_survey(
    tenant: TenantInfo, actor: Actor, survey_id: UUID, data: dict[str, Any]
) -> UUID:
    """Change a draft (name, kind, definition). A published or closed survey keeps its
    questions, so old responses keep their meaning: create its next version instead."""
    actor.require("surveys:write")
    async with tenant_tx(tenant.id):
        current = await _load(tenant, survey_id)
        if current["status"] != "draft":
            raise Conflict(
                "only a draft can change; create a new version (basedOnId) instead",
                field="id",
                code="not_draft",
            )
        merged = {
            "name": data.get("name", current["name"]),
            "kind": data.get("kind", current["kind"]),
            "definition": data.get("definition", msgspec.to_builtins(current["definition"])),
        }
        payload = check_shape(merged)
        await execute(
            "UPDATE surveys_survey SET name = {}, kind = {}, definition = {}, updated_at = {} "
            "WHERE tenant_id = {} AND id = {}",
            payload.name,
            payload.kind,
            json_text(payload.definition),
            dt.datetime.now(dt.UTC),
            tenant.id,
            survey_id,
        )
        await audit(actor, "surveys.update", subject_type="survey", subject_id=survey_id)
    return survey_id


async def publish_survey(tenant: TenantInfo, actor: Actor, survey_id: UUID) -> UUID:
    """Validate the logic and freeze the survey; open its anonymous link. The previous
    published version of the same survey closes, and its triggers now send this version."""
    actor.require("surveys:write")
    now = dt.datetime.now(dt.UTC)
    async with tenant_tx(tenant.id):
        current = await _load(tenant, survey_id)
        if current["status"] != "draft":
            raise Conflict("the survey is already published", field="id", code="not_draft")
        check_publishable(
            SurveyInput(
                name=current["name"], kind=current["kind"], definition=current["definition"]
            )
        )
        previous = await fetch(
            "SELECT id FROM surveys_survey WHERE tenant_id = {} AND family_id = {} "
            "AND status = 'published'",
            tenant.id,
            current["family_id"],
        )
        for p in previous:
            await execute(
                "UPDATE surveys_survey SET status = 'closed', closed_at = {} "
                "WHERE tenant_id = {} AND id = {}",
                now,
                tenant.id,
                p["id"],
            )
            await execute(
                "UPDATE surveys_trigger SET survey_id = {} WHERE tenant_id = {} AND survey_id = {}",
                survey_id,
                tenant.id,
                p["id"],
            )
        await execute(
            "UPDATE surveys_survey SET status = 'published', published_at = {}, updated_at = {} "
            "WHERE tenant_id = {} AND id = {}",
            now,
            now,
            tenant.id,
            survey_id,
        )
        await _open_anonymous(tenant, survey_id, None)
        await audit(actor, "surveys.publish", subject_type="survey", subject_id=survey_id)
    return survey_id


async def close_survey(tenant: TenantInfo, actor: Actor, survey_id: UUID) -> UUID:
    """No more answers; its triggers stop. Results stay."""
    actor.require("surveys:write")
    async with tenant_tx(tenant.id):
        current = await _load(tenant, survey_id)
        if current["status"] == "closed":
            raise Conflict("the survey is already closed", field="id", code="closed")
        await execute(
            "UPDATE surveys_survey SET status = 'closed', closed_at = {} "
            "WHERE tenant_id = {} AND id = {}",
            dt.datetime.now(dt.UTC),
            tenant.id,
            survey_id,
        )
        await execute(
            "UPDATE surveys_trigger SET active = {} WHERE tenant_id = {} AND survey_id = {}",
            False,
            tenant.id,
            survey_id,
        )
        await audit(actor, "surveys.close", subject_type="survey", subject_id=survey_id)
    return survey_id


async def _open_anonymous(tenant: TenantInfo, survey_id: UUID, store_id: UUID | None) -> str:
    """The multi-use anonymous link of the survey (of one store's counter when ``store_id``),
    created once. Its token is kept in the clear: it is printed on posters by design."""
    args: list[Any] = [tenant.id, survey_id]
    store_clause = "store_id IS NULL"
    if store_id is not None:
        store_clause = "store_id = {}"
        args.append(store_id)
    rows = await fetch(
        "SELECT public_token FROM surveys_link WHERE tenant_id = {} AND survey_id = {} "
        f"AND kind = 'anonymous' AND {store_clause}",
        *args,
    )
    if rows:
        return str(rows[0]["public_token"])
    token = new_token(tenant.slug)
    key = f"anonymous:{survey_id}:{store_id or 'all'}"
    inserted = await fetch(
        "INSERT INTO surveys_link (tenant_id, id, survey_id, kind, status, token_hash, "
        "public_token, store_id, trigger, source_key, reason, created_at) VALUES "
        "({}, {}, {}, 'anonymous', 'active', {}, {}, {}, 'anonymous', {}, '', {}) "
        "ON CONFLICT (tenant_id, source_key) WHERE source_key IS NOT NULL DO NOTHING "
        "RETURNING public_token",
        tenant.id,
        uuid4(),
        survey_id,
        hash_token(token),
        token,
        store_id,
        key,
        dt.datetime.now(dt.UTC),
    )
    if inserted:
        return token
    return await _open_anonymous(tenant, survey_id, store_id)


async def anonymous_link(tenant: TenantInfo, survey_id: UUID, store_id: UUID | None) -> str | None:
    """The anonymous token of a published survey (per store when given), or ``None`` when the
    survey is not published."""
    async with tenant_tx(tenant.id):
        try:
            current = await _load(tenant, survey_id)
        except NotFound:
            return None
        if current["status"] != "published":
            return None
        return await _open_anonymous(tenant, survey_id, store_id)


BUILTIN_DEFINITION = Definition(
    locales=["zh-CN", "en"],
    title={"zh-CN": "投诉处理回访", "en": "How did we handle your complaint?"},
    intro={
        "zh-CN": "感谢您给我们改进的机会。请告诉我们您对处理结果是否满意。",
        "en": "Thank you for giving us the chance to put it right. Tell us how we did.",
    },
    thanks={"zh-CN": "感谢您的反馈！", "en": "Thank you for your feedback!"},
    questions=[
        Question(
            key="resolution",
            type="csat",
            required=True,
            text={
                "zh-CN": "您对投诉的处理结果满意吗？",
                "en": "Are you satisfied with how your complaint was resolved?",
            },
        ),
        Question(
            key="comment",
            type="text",
            text={"zh-CN": "还有什么想告诉我们的吗？", "en": "Anything else you want to tell us?"},
        ),
    ],
)


async def builtin_complaint_survey(tenant: TenantInfo) -> UUID:
    """The built-in "satisfied with the resolution?" CSAT survey, published on first need."""
    async with tenant_tx(tenant.id):
        rows = await fetch(
            "SELECT id FROM surveys_survey WHERE tenant_id = {} AND builtin = {}",
            tenant.id,
            BUILTIN_COMPLAINT,
        )
        if rows:
            return UUID(str(rows[0]["id"]))
        survey_id = uuid4()
        now = dt.datetime.now(dt.UTC)
        # a concurrent first need meets the unique index and fails: its event is retried
        await insert_rows(
            "surveys_survey",
            [
                {
                    "tenant_id": tenant.id,
                    "id": survey_id,
                    "family_id": survey_id,
                    "version": 1,
                    "name": "投诉处理满意度 (built-in)",
                    "kind": "csat",
                    "status": "published",
                    "definition": json_text(BUILTIN_DEFINITION),
                    "builtin": BUILTIN_COMPLAINT,
                    "created_by": "system",
                    "created_at": now,
                    "updated_at": now,
                    "published_at": now,
                    "closed_at": None,
                }
            ],
        )
    return survey_id
