"""Segments (CORE-8): saved JSON filters compiled to one SQL query.

A filter is a tree of ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}`` and conditions
``{"field": "value_class", "op": "eq", "value": "high_value"}``. The core's fields are
:data:`CORE_FIELDS`; plugins add theirs (``loyalty_tier``, ``nps_category`` …) through
``register_segment_conditions``, and those belong to the plugin: a tenant's filters can use
exactly the core's fields plus those of its enabled plugins (the ``fields`` argument, which the
runtime builds per enabled set), so a segment naming a condition of a module the tenant does
not have is ``unknown_field``. Each field compiles to a boolean SQL expression over the aliases
``c`` (customer) and ``s`` (customer_stats). Values are always bound parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID, uuid4

import msgspec
from msgspec import Meta

from core.auditing import audit
from core.context import Actor, TenantInfo
from core.db import is_unique_violation, json_text, json_value, tenant_tx
from core.errors import Conflict, NotFound, ValidationFailed
from core.money import to_minor
from core.sql import named, run
from core.tables import Segment, Store
from core.types import SegmentCondition
from core.validation import convert

__all__ = [
    "CORE_FIELDS",
    "SegmentField",
    "SegmentInput",
    "compile_filter",
    "create_segment",
    "customer_zones_sql",
    "field_catalogue",
    "filter_customer_ids_sql",
    "list_segments",
    "segment_customer_ids_sql",
    "segment_fields",
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
    # For kind="subquery": SQL selecting customer ids, with ``{v}`` bound to the value and the
    # op applied inside (``{op}`` is replaced by the SQL operator); ``:tenant`` and ``:now``
    # are bound too. ``value_kind`` says what the value is: ``str``, ``int`` or ``days_ahead``
    # (a number of days, bound as now + that many days).
    subquery: str = ""
    ops: tuple[str, ...] = tuple(OPS)
    value_kind: str = "str"


CORE_FIELDS: Mapping[str, SegmentField] = {
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


def segment_fields(
    conditions: Iterable[tuple[str, Iterable[SegmentCondition]]],
) -> dict[str, SegmentField]:
    """The core's fields plus plugins' ``(plugin id, conditions)``; a name taken twice (by the
    core or another plugin) is an error naming both owners."""
    fields: dict[str, SegmentField] = dict(CORE_FIELDS)
    owners = dict.fromkeys(CORE_FIELDS, "core")
    for plugin_id, items in conditions:
        for c in items:
            if c.name in owners:
                raise ValueError(
                    f"segment field {c.name!r} is registered by both {owners[c.name]!r} "
                    f"and {plugin_id!r}"
                )
            owners[c.name] = plugin_id
            fields[c.name] = SegmentField(
                sql=c.sql,
                kind=c.kind,
                description=c.description,
                choices=c.choices,
                subquery=c.subquery,
                ops=c.ops,
                value_kind=c.value_kind,
            )
    return fields


class SegmentInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    filter: dict[str, Any]
    description: Annotated[str, Meta(max_length=2000)] = ""


class _Compiler:
    def __init__(
        self, tenant: TenantInfo, now: dt.datetime, fields: Mapping[str, SegmentField]
    ) -> None:
        self.tenant = tenant
        self.now = now
        self.fields = fields
        self.store_ids: set[UUID] = set()
        self.params: dict[str, Any] = {"tenant": tenant.id, "now": now}
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
        spec = self.fields.get(name) if isinstance(name, str) else None
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

        kind = spec.value_kind if spec.kind == "subquery" else spec.kind
        if kind == "days_ahead":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
                raise bad("expected a number of days (0-3650)")
            return self.now + dt.timedelta(days=value)
        if kind in ("str", "tag", "subquery"):
            if not isinstance(value, str) or not 0 < len(value) <= 200:
                raise bad("expected a string")
            if spec.choices and value not in spec.choices:
                raise bad(f"expected one of {', '.join(spec.choices)}")
            return value
        if kind in ("int", "days_ago"):
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not -(10**9) < value < 10**9
            ):
                raise bad("expected an integer")
            return self.now - dt.timedelta(days=value) if kind == "days_ago" else value
        if spec.kind == "money":
            if isinstance(value, bool) or not isinstance(value, (int, str, float)):
                raise bad("expected a decimal amount")
            return to_minor(str(value), self.tenant.currency, field=path)
        if spec.kind == "uuid":
            try:
                uid = UUID(str(value))
            except ValueError:
                raise bad("expected an id") from None
            if spec.sql == "c.home_store_id":
                self.store_ids.add(uid)
            return uid
        raise bad("unsupported field")  # pragma: no cover


def compile_filter(
    tenant: TenantInfo,
    flt: dict[str, Any],
    *,
    fields: Mapping[str, SegmentField] = CORE_FIELDS,
    now: dt.datetime | None = None,
) -> tuple[str, dict[str, Any]]:
    """SQL selecting the ids of active customers matching ``flt``, and its parameters.
    ``fields``: what the tenant's filters may use (the core's and its enabled plugins')."""
    return _compile(tenant, flt, fields, now)[:2]


def _compile(
    tenant: TenantInfo,
    flt: dict[str, Any],
    fields: Mapping[str, SegmentField],
    now: dt.datetime | None = None,
) -> tuple[str, dict[str, Any], set[UUID]]:
    compiler = _Compiler(tenant, now or dt.datetime.now(dt.UTC), fields)
    where = compiler.node(flt, "filter", 1)
    sql = (
        "SELECT c.id AS id FROM customer c "
        "JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id "
        f"WHERE c.tenant_id = :tenant AND c.status = 'active' AND {where}"
    )
    return sql, compiler.params, compiler.store_ids


async def create_segment(
    tenant: TenantInfo,
    actor: Actor,
    data: SegmentInput | dict[str, Any],
    *,
    fields: Mapping[str, SegmentField] = CORE_FIELDS,
) -> dict[str, Any]:
    """Save a segment; its filter is validated against ``fields`` (the tenant's) and every
    store it names must be one of the tenant's stores."""
    actor.require("segments:write")
    payload = convert(data, SegmentInput)
    _sql, _params, store_ids = _compile(tenant, payload.filter, fields)  # validate first
    segment_id = uuid4()
    try:
        async with tenant_tx(tenant.id):
            if store_ids:
                known = await Store.select(Store.id).where(Store.id.is_in(list(store_ids)))
                if len(known) != len(store_ids):
                    raise ValidationFailed(
                        "the filter names a store that does not exist",
                        field="filter",
                        code="unknown_store",
                    )
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


async def segment_customer_ids_sql(
    tenant: TenantInfo, segment_id: UUID, fields: Mapping[str, SegmentField] = CORE_FIELDS
) -> tuple[str, list[Any]]:
    """Compiled SQL (``{}`` placeholders) + args selecting a saved segment's customer ids;
    call inside ``tenant_tx``. A segment using a condition of a module the tenant no longer
    has is ``unknown_field``."""
    sql, params = compile_filter(tenant, await _load_filter(segment_id), fields=fields)
    return named(sql, params)


async def segment_size(
    tenant: TenantInfo,
    actor: Actor,
    segment_id: UUID,
    fields: Mapping[str, SegmentField] = CORE_FIELDS,
) -> int:
    """How many active customers the saved segment matches now."""
    actor.require("segments:read")
    async with tenant_tx(tenant.id, write=False):
        sql, params = compile_filter(tenant, await _load_filter(segment_id), fields=fields)
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


def field_catalogue(fields: Mapping[str, SegmentField] = CORE_FIELDS) -> list[dict[str, Any]]:
    """The fields a segment can use (for UIs and docs)."""
    return [
        {"field": k, "description": v.description, "ops": list(v.ops), "choices": list(v.choices)}
        for k, v in sorted(fields.items())
    ]


def filter_customer_ids_sql(
    tenant: TenantInfo, flt: dict[str, Any], fields: Mapping[str, SegmentField] = CORE_FIELDS
) -> tuple[str, list[Any]]:
    """:func:`segment_customer_ids_sql` for an ad-hoc filter (not saved as a segment), e.g. a
    win-back campaign's ``{"field": "lifecycle", "op": "in", "value": ["at_risk"]}``."""
    sql, params = compile_filter(tenant, flt, fields=fields)
    return named(sql, params)


def birthday_customer_ids_sql(tenant: TenantInfo, day: dt.date) -> tuple[str, list[Any]]:
    """SQL selecting the active customers whose birthday falls on ``day`` — solar or lunar
    (农历生日), each by the calendar the customer keeps it by, with the tenant's rules for
    29 February and leap-month births (``tenant.calendar``) — and its arguments. Compose it
    like :func:`filter_customer_ids_sql` (``… WHERE id IN (<this>)``)."""
    from core.calendars.birthdays import birth_dates_celebrated_on

    solar = birth_dates_celebrated_on(day, calendar="solar", policy=tenant.calendar)
    lunar = birth_dates_celebrated_on(day, calendar="lunar", policy=tenant.calendar)

    def among(dates: list[dt.date]) -> str:
        return ", ".join("{}" for _ in dates) or "NULL"

    sql = (
        "SELECT c.id AS id FROM customer c WHERE c.tenant_id = {} AND c.status = 'active' AND "
        f"((c.birthday_calendar = 'solar' AND c.birthday IN ({among(solar)})) OR "
        f"(c.birthday_calendar = 'lunar' AND c.birthday IN ({among(lunar)})))"
    )
    return sql, [tenant.id, *solar, *lunar]


BACKFILL_GRACE = dt.timedelta(days=2)


def purchasers_sql(
    tenant: TenantInfo,
    start: dt.datetime,
    end: dt.datetime,
    *,
    min_amount_minor: int = 0,
    first_only: bool = False,
) -> tuple[str, list[Any]]:
    """SQL selecting the active customers with a sale *recorded* in ``[start, end)`` — of at
    least ``min_amount_minor``, or only their very first sale with ``first_only`` — and its
    arguments (a thank-you campaign's audience). A sale that happened more than two days
    before the window (imported history) does not count."""
    first = (
        " AND NOT EXISTS (SELECT 1 FROM purchase e WHERE e.tenant_id = p.tenant_id "
        "AND e.customer_id = p.customer_id AND e.kind = 'sale' AND (e.occurred_at < "
        "p.occurred_at OR (e.occurred_at = p.occurred_at AND e.id < p.id)))"
        if first_only
        else ""
    )
    sql = (
        "SELECT DISTINCT p.customer_id AS id FROM purchase p JOIN customer c "
        "ON c.tenant_id = p.tenant_id AND c.id = p.customer_id AND c.status = 'active' "
        "WHERE p.tenant_id = {} AND p.kind = 'sale' AND p.created_at >= {} AND p.created_at < {} "
        f"AND p.occurred_at >= {{}} AND p.amount_minor >= {{}}{first}"
    )
    return sql, [tenant.id, start, end, start - BACKFILL_GRACE, min_amount_minor]


def customer_zones_sql(
    tenant: TenantInfo, zones: Iterable[str] | None = None
) -> tuple[str, list[Any]]:
    """SQL selecting ``id``, ``store_id`` (the home store, or NULL) and ``timezone`` (the home
    store's, else the tenant's) of the tenant's active customers — only those living in
    ``zones`` when given — and its arguments. Join it to an audience to act at a local time in
    each store's zone (a festival greeting when the day begins there) or to record each
    customer's store: ``SELECT q.id, z.store_id FROM (<audience>) q JOIN (<this>) z ON z.id =
    q.id``. The zones in use are :func:`core.lookups.store_timezones` plus the tenant's."""
    wanted = sorted(set(zones)) if zones is not None else None
    only = (
        f" AND COALESCE(NULLIF(st.timezone, ''), {{}}) IN ({', '.join('{}' for _ in wanted)})"
        if wanted
        else (" AND 1 = 0" if wanted is not None else "")
    )
    sql = (
        "SELECT c.id AS id, c.home_store_id AS store_id, "
        "COALESCE(NULLIF(st.timezone, ''), {}) AS timezone FROM customer c "
        "LEFT JOIN store st ON st.tenant_id = c.tenant_id AND st.id = c.home_store_id "
        f"WHERE c.tenant_id = {{}} AND c.status = 'active'{only}"
    )
    args: list[Any] = [tenant.timezone, tenant.id]
    if wanted:
        args += [tenant.timezone, *wanted]
    return sql, args
