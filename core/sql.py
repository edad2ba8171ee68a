"""Portable raw SQL for set-based work (RFM, segments, KPIs): named parameters and the few
expressions that differ between SQLite and PostgreSQL."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from core.db import fetch, get_database

__all__ = ["named", "run", "seconds_between", "uuid_expr"]

_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@lru_cache(maxsize=512)
def _template(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def sub(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return "{}"

    return _PARAM.sub(sub, sql.replace("{", "{{").replace("}", "}}")), tuple(names)


def named(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """``:name`` placeholders → piccolo's ``{}`` placeholders and positional args (the
    rewriting is cached per statement text)."""
    text, names = _template(sql)
    return text, [params[n] for n in names]


async def run(sql: str, **params: Any) -> list[dict[str, Any]]:
    """Run ``sql`` with ``:name`` parameters in the current tenant transaction."""
    text, args = named(sql, params)
    return await fetch(text, *args)


def uuid_expr() -> str:
    """An expression generating a random UUID in the current dialect."""
    if get_database().is_postgres:
        return "gen_random_uuid()"
    return (
        "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
        "substr(lower(hex(randomblob(2))), 2) || '-' || "
        "substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || "
        "lower(hex(randomblob(6))))"
    )


def seconds_between(start: str, end: str) -> str:
    """An expression for the seconds from timestamp expression ``start`` to ``end`` (both SQL
    you wrote, never input) in the current dialect, as a float; NULL when either is NULL.
    Durations and medians (a resolution time) are then plain SQL on both backends."""
    if get_database().is_postgres:
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"
    return f"((julianday({end}) - julianday({start})) * 86400.0)"
