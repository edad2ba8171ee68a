"""Turn untrusted input into typed msgspec structs, with field-level errors."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, TypeVar, get_origin

import msgspec

from core.errors import ValidationFailed

__all__ = ["EARLIEST", "MAX_NESTING", "check_birthday", "check_input", "convert", "instant"]

T = TypeVar("T")
_PATH = re.compile(r"at `\$\.?([^`]*)`")
MAX_NESTING = 32  # lists and objects inside each other in one input value


def _join(path: str | None, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def check_input(value: Any, field: str | None = None, *, max_nesting: int = MAX_NESTING) -> None:
    """Refuse what no service may receive, whatever the field: a NUL character in any text or
    key (PostgreSQL text and jsonb cannot hold it; the driver fails on it) and lists or objects
    nested deeper than ``max_nesting``. Raises :class:`ValidationFailed` (``invalid_input``)
    naming the path at fault (``input.tags.1``). Iterative, so any depth is safe to check."""
    stack: list[tuple[Any, str | None, int]] = [(value, field, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValidationFailed(
                    "text must not contain NUL characters", field=path, code="invalid_input"
                )
        elif isinstance(item, (dict, list, tuple)):
            if depth >= max_nesting:
                raise ValidationFailed(
                    f"input nested deeper than {max_nesting} levels",
                    field=path,
                    code="invalid_input",
                )
            if isinstance(item, dict):
                for key, inner in item.items():
                    if isinstance(key, str) and "\x00" in key:
                        raise ValidationFailed(
                            "text must not contain NUL characters",  # in a key
                            field=path,
                            code="invalid_input",
                        )
                    stack.append((inner, _join(path, key), depth + 1))
            else:
                stack.extend((inner, _join(path, i), depth + 1) for i, inner in enumerate(item))


def convert(data: Any, type_: type[T]) -> T:
    """``msgspec.convert`` raising :class:`ValidationFailed` naming the field at fault.
    ``type_`` may be generic (``list[Variant]``)."""
    if get_origin(type_) is None and isinstance(data, type_):
        return data
    try:
        return msgspec.convert(data, type_, str_keys=True)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = _PATH.search(text)
        field = match.group(1) if match else None
        message = text.split(" - at ")[0]
        raise ValidationFailed(message, field=field or None, code="invalid") from None


# Mendian's records start here: a time before it is a typo (0001-01-01), not history.
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(days=1)  # clock skew between tills and the server


def instant(
    value: dt.datetime | None,
    field: str,
    *,
    future: dt.timedelta | None = FUTURE_SLACK,
    now: dt.datetime | None = None,
) -> dt.datetime:
    """An input time as an aware UTC instant: ``None`` is now; a naive time is
    ``naive_datetime``; before 1990 or more than ``future`` ahead (``None``: any future, e.g. a
    due date) is ``out_of_range``."""
    now = now or dt.datetime.now(dt.UTC)
    if value is None:
        return now
    if value.tzinfo is None:
        raise ValidationFailed(
            "time must carry a timezone offset", field=field, code="naive_datetime"
        )
    try:
        moment = value.astimezone(dt.UTC)
    except OverflowError:
        moment = EARLIEST - dt.timedelta(days=1)
    if moment < EARLIEST or (future is not None and moment > now + future):
        latest = "" if future is None else f" and {future} from now"
        raise ValidationFailed(
            f"time must lie between {EARLIEST.date()}{latest}", field=field, code="out_of_range"
        )
    return moment


def check_birthday(value: dt.date | None, field: str = "birthday") -> None:
    """A birthday lies between 1900 and today."""
    if value is not None and not dt.date(1900, 1, 1) <= value <= dt.date.today():
        raise ValidationFailed(
            "a birthday lies between 1900-01-01 and today", field=field, code="out_of_range"
        )
