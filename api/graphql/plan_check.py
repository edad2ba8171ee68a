"""Checking the precompiled plans against graphql-core (``MENDIAN_GRAPHQL_PLAN_CHECK=1``).

With the check on, every query is answered both ways — by its :class:`~api.graphql.plan.Plan`
and by strawberry or graphql-core's executor, each with its own DataLoaders — and any difference
in ``data`` or in the errors (message, path, cause) is logged and kept in :data:`mismatches`.
The test suite turns it on, so every query the suite sends is compared; a test fails if a
comparison made during it found a difference. Production leaves it off: it doubles the reads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["compare", "enabled", "mismatches"]

log = logging.getLogger("mendian.graphql")

enabled = os.environ.get("MENDIAN_GRAPHQL_PLAN_CHECK", "") == "1"
mismatches: list[str] = []


def _answer(result: Any) -> tuple[Any, list[tuple[str, tuple[Any, ...], str]]]:
    errors = sorted(
        (
            e.message,
            tuple(e.path or ()),
            type(e.original_error).__name__ if e.original_error is not None else "",
        )
        for e in result.errors or ()
    )
    return result.data, errors


async def _settled(other: Awaitable[Any]) -> Any:
    try:
        return _answer(await other)
    except Exception as exc:  # the path failed outright: as much a difference
        return (None, [(f"{type(exc).__name__}: {exc}", (), "raised")])


async def compare(
    query: str,
    answered: Any,
    other: Awaitable[Any],
    again: Callable[[], Awaitable[tuple[Any, Any]]],
) -> None:
    """Compare the answer given with the other path's (awaited here). Answers that differ
    are asked for once more, both paths right after each other (``again``): an answer that
    depends on the clock (a link signed to expire in a day) may straddle a second the first
    time, not twice; one that differs twice is a difference."""
    if _answer(answered) == await _settled(other):
        return
    try:
        planned, generic = await again()
        got, expected = _answer(planned), _answer(generic)
    except Exception as exc:  # a path failed outright: as much a difference
        got, expected = None, (None, [(f"{type(exc).__name__}: {exc}", (), "raised")])
    if got != expected:
        found = f"{query!r}: one path answered {got!r}, the other {expected!r}"
        mismatches.append(found)
        log.error("graphql plan mismatch: %s", found)
