"""Segments (CORE-8): saved JSON filters compiled to one SQL query.

A filter is a tree of ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}`` and conditions
``{"field": "value_class", "op": "eq", "value": "high_value"}``. Fields are registered in
:data:`SEGMENT_FIELDS`; plugins add theirs (``tier``, ``nps`` …) with
:func:`register_segment_field`, each compiling to a boolean SQL expression over the aliases
``c`` (customer) and ``s`` (customer_stats). Values are always bound parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID, uuid4

import msgspec
from msgspec import Meta

from core.audit import audit
from core.context import Actor, TenantInfo
from core.db import is_unique_violation, json_text, json_value, tenant_tx
from core.errors import Conflict, NotFound, ValidationFailed
from core.money import to_minor
from core.sql import named, run
from core.tables import Segment
from core.validation import convert

__all__ = [
    "SEGMENT_FIELDS",
    "SegmentField",
    "SegmentInput",
    "compile_filter",
    "create_segment",
    "list_segments",
    "register_segment_field",
    "segment_customer_ids_sql",
    "segment_size",
]

OPS = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "IN"}
MAX_DEPTH = 6
MAX_CONDITIONS = 50


@dataclass(frozen=True)
class SegmentField:
    """``sql`` is an expression over ``c``/``s``; ``kind`` validates and converts the value."""

    sql: str
    kind: str  # "str" | "int" | "money" | "uuid" | "days_ago" | "tag" | "subquery"
    description: str
    choices: tuple[str, ...] = ()
    # For kind="subquery": SQL selecting customer ids, with :v bound to the value and the op
    # applied inside (``{op}`` is replaced by the SQL operator).
    subquery: str = ""
    ops: tuple[str, ...] = tuple(OPS)


SEGMENT_FIELDS: dict[str, SegmentField] = {
    "value_class": SegmentField(
        "s.value_class",
        "str",
        "high_value, regular or potential",
        ("high_value", "regular", "potential"),
        ops=("eq", "ne", "in"),
    ),
    "lifecycle": SegmentField(
        "s.lifecycle",
        "str",
        "lifecycle stage",
        ("prospect", "first_purchase", "repeat", "loyal", "at_risk", "churned"),
        ops=("eq", "ne", "in"),
    ),
    "r_score": SegmentField("s.r_score", "int", "recency score 1-5"),
    "f_score": SegmentField("s.f_score", "int", "frequency score 1-5"),
    "m_score": SegmentField("s.m_score", "int", "monetary score 1-5"),
    "purchase_count": SegmentField("s.purchase_count", "int", "number of purchases"),
    "total_spent": SegmentField("s.total_spent_minor", "money", "total spent (decimal)"),
    "days_since_last_purchase": SegmentField(
        "s.last_purchase_at",
        "days_ago",
        "days since the last purchase",
        ops=("gt", "gte", "lt", "lte"),
    ),
    "home_store_id": SegmentField("c.home_store_id", "uuid", "home store", ops=("eq", "ne", "in")),
    "source": SegmentField("c.source", "str", "source channel", ops=("eq", "ne", "in")),
    "gender": SegmentField(
        "c.gender", "str", "gender", ("male", "female", "other", "unknown"), ops=("eq", "ne", "in")
    ),
    "tag": SegmentField(
        "",
        "subquery",
        "has the tag",
        ops=("eq", "in"),
        subquery="SELECT customer_id FROM customer_tag WHERE tenant_id = :tenant AND tag {op} {v}",
    ),
}


def register_segment_field(name: str, spec: SegmentField) -> None:
    """Add a field (plugins: ``register_segment_conditions``). Duplicates are an error."""
    if name in SEGMENT_FIELDS and SEGMENT_FIELDS[name] != spec:
        raise ValueError(f"segment field {name!r} is already registered")
    SEGMENT_FIELDS[name] = spec


class SegmentInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    filter: dict[str, Any]
    description: Annotated[str, Meta(max_length=2000)] = ""


class _Compiler:
    def __init__(self, tenant: TenantInfo, now: dt.datetime) -> None:
        self.tenant = tenant
        self.now = now
        self.params: dict[str, Any] = {"tenant": tenant.id}
        self.count = 0

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def node(self, node: Any, path: str, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise ValidationFailed(
                f"filter nests deeper than {MAX_DEPTH}", field=path, code="too_deep"
            )
        if not isinstance(node, dict) or len(node) == 0:
            raise ValidationFailed("expected a condition object", field=path, code="invalid_filter")
        if "all" in node or "any" in node:
            key = "all" if "all" in node else "any"
            items = node[key]
            if not isinstance(items, list) or not items or len(node) != 1:
                raise ValidationFailed(
                    f"'{key}' takes a non-empty list", field=path, code="invalid_filter"
                )
            joiner = " AND " if key == "all" else " OR "
            return (
                "("
                + joiner.join(
                    self.node(n, f"{path}.{key}.{i}", depth + 1) for i, n in enumerate(items)
                )
                + ")"
            )
        if "not" in node:
            if len(node) != 1:
                raise ValidationFailed(
                    "'not' takes one condition", field=path, code="invalid_filter"
                )
            return f"(NOT {self.node(node['not'], f'{path}.not', depth + 1)})"
        return self.condition(node, path)

    def condition(self, node: dict[str, Any], path: str) -> str:
        self.count += 1
        if self.count > MAX_CONDITIONS:
            raise ValidationFailed(
                f"at most {MAX_CONDITIONS} conditions", field=path, code="too_many"
            )
        if set(node) - {"field", "op", "value"}:
            raise ValidationFailed(
                "a condition has field, op and value", field=path, code="invalid_filter"
            )
        name, op, value = node.get("field"), node.get("op", "eq"), node.get("value")
        spec = SEGMENT_FIELDS.get(name) if isinstance(name, str) else None
        if spec is None:
            raise ValidationFailed(
                f"unknown field {name!r}", field=f"{path}.field", code="unknown_field"
            )
        if op not in spec.ops:
            raise ValidationFailed(
                f"operator {op!r} is not allowed for {name}",
                field=f"{path}.op",
                code="invalid_operator",
            )
        if op == "in":
            if not isinstance(value, list) or not 1 <= len(value) <= 100:
                raise ValidationFailed(
                    "'in' takes a list of 1-100 values", field=f"{path}.value", code="invalid_value"
                )
            bound = (
                "("
                + ", ".join(self.bind(self.value(spec, v, f"{path}.value")) for v in value)
                + ")"
            )
        else:
            bound = self.bind(self.value(spec, value, f"{path}.value"))
        sql_op = OPS[op]
        if spec.kind == "subquery":
            return f"c.id IN ({spec.subquery.replace('{op}', sql_op).replace('{v}', bound)})"
        if spec.kind == "days_ago":
            # "more than N days ago" is "last purchase before now - N days": flip the operator.
            flipped = {">": "<", ">=": "<=", "<": ">", "<=": ">="}[sql_op]
            return f"({spec.sql} IS NOT NULL AND {spec.sql} {flipped} {bound})"
        return f"{spec.sql} {sql_op} {bound}"

    def value(self, spec: SegmentField, value: Any, path: str) -> Any:
        def bad(msg: str) -> ValidationFailed:
            return ValidationFailed(msg, field=path, code="invalid_value")

        if spec.kind in ("str", "tag", "subquery"):
            if not isinstance(value, str) or not 0 < len(value) <= 200:
                raise bad("expected a string")
            if spec.choices and value not in spec.choices:
                raise bad(f"expected one of {', '.join(spec.choices)}")
            return value
        if spec.kind in ("int", "days_ago"):
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not -(10**9) < value < 10**9
            ):
                raise bad("expected an integer")
            return self.now - dt.timedelta(days=value) if spec.kind == "days_ago" else value
        if spec.kind == "money":
            if isinstance(value, bool) or not isinstance(value, (int, str, float)):
                raise bad("expected a decimal amount")
            return to_minor(str(value), self.tenant.currency, field=path)
        if spec.kind == "uuid":
            try:
                return UUID(str(value))
            except ValueError:
                raise bad("expected an id") from None
        raise bad("unsupported field")  # pragma: no cover


def compile_filter(
    tenant: TenantInfo, flt: dict[str, Any], *, now: dt.datetime | None = None
) -> tuple[str, dict[str, Any]]:
    """SQL selecting the ids of active customers matching ``flt``, and its parameters."""
    compiler = _Compiler(tenant, now or dt.datetime.now(dt.UTC))
    where = compiler.node(flt, "filter", 1)
    sql = (
        "SELECT c.id AS id FROM customer c "
        "JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id "
        f"WHERE c.tenant_id = :tenant AND c.status = 'active' AND {where}"
    )
    return sql, compiler.params


async def create_segment(
    tenant: TenantInfo, actor: Actor, data: SegmentInput | dict[str, Any]
) -> dict[str, Any]:
    actor.require("segments:write")
    payload = convert(data, SegmentInput)
    compile_filter(tenant, payload.filter)  # validate before saving
    segment_id = uuid4()
    try:
        async with tenant_tx(tenant.id):
            if await Segment.exists().where(Segment.name == payload.name):
                raise Conflict("a segment with this name exists", field="name", code="duplicate")
            await Segment.insert(
                Segment(
                    id=segment_id,
                    name=payload.name,
                    description=payload.description,
                    filter=json_text(payload.filter),
                )
            )
            await audit(actor, "segment.create", subject_type="segment", subject_id=segment_id)
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict(
                "a segment with this name exists", field="name", code="duplicate"
            ) from None
        raise
    return {
        "id": segment_id,
        "name": payload.name,
        "description": payload.description,
        "filter": payload.filter,
    }


async def _load_filter(segment_id: UUID) -> dict[str, Any]:
    row = await Segment.select(Segment.filter).where(Segment.id == segment_id).first()
    if row is None:
        raise NotFound("segment not found", field="segment_id")
    return dict(json_value(row["filter"], {}))


async def segment_customer_ids_sql(tenant: TenantInfo, segment_id: UUID) -> tuple[str, list[Any]]:
    """Compiled SQL (piccolo placeholders) + args for a saved segment; call in ``tenant_tx``."""
    sql, params = compile_filter(tenant, await _load_filter(segment_id))
    return named(sql, params)


async def segment_size(tenant: TenantInfo, actor: Actor, segment_id: UUID) -> int:
    actor.require("segments:read")
    async with tenant_tx(tenant.id, write=False):
        sql, params = compile_filter(tenant, await _load_filter(segment_id))
        rows = await run(f"SELECT COUNT(*) AS n FROM ({sql}) q", **params)
    return int(rows[0]["n"])


async def list_segments(tenant: TenantInfo, actor: Actor) -> list[dict[str, Any]]:
    actor.require("segments:read")
    async with tenant_tx(tenant.id, write=False):
        rows = await Segment.select().order_by(Segment.name)
    return [
        {
            "id": r["id"],
            "name": r["name"],
            "description": r["description"],
            "filter": json_value(r["filter"], {}),
        }
        for r in rows
    ]


def field_catalogue() -> list[dict[str, Any]]:
    """The fields a segment can use (for UIs and docs)."""
    return [
        {"field": k, "description": v.description, "ops": list(v.ops), "choices": list(v.choices)}
        for k, v in sorted(SEGMENT_FIELDS.items())
    ]


SegmentFieldFactory = Callable[[], dict[str, SegmentField]]
