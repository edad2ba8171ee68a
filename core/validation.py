"""Turn untrusted input into typed msgspec structs, with field-level errors."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from core.errors import ValidationFailed

__all__ = ["convert"]

T = TypeVar("T")
_PATH = re.compile(r"at `\$\.?([^`]*)`")


def convert(data: Any, type_: type[T]) -> T:
    """``msgspec.convert`` raising :class:`ValidationFailed` naming the field at fault."""
    if isinstance(data, type_):
        return data
    try:
        return msgspec.convert(data, type_, str_keys=True)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = _PATH.search(text)
        field = match.group(1) if match else None
        message = text.split(" - at ")[0]
        raise ValidationFailed(message, field=field or None, code="invalid") from None
