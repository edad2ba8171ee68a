"""Tables as files people open in a spreadsheet: CSV (UTF-8 with a BOM, so Excel in China
reads it right) and XLSX (openpyxl), with formula-like cells neutralised (CSV injection).
One helper for every export: reports, surveys, customers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["EXPORT_TYPES", "safe_cell", "table_file", "workbook"]

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula gets a leading quote; None is empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _xlsx_cell(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):  # openpyxl writes Decimals as numbers
        return value
    return safe_cell(value)


def workbook(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """An XLSX file with one sheet per ``(title, header, rows)`` (titles cut to Excel's 31
    characters, made unique)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    used: set[str] = set()
    for title, header, rows in sheets:
        name = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "sheet"
        base, n = name, 2
        while name in used:
            suffix = f" ({n})"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        used.add(name)
        sheet = book.create_sheet(name)
        sheet.append(list(header))
        for row in rows:
            sheet.append([_xlsx_cell(c) for c in row])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def table_file(
    header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, *, title: str = "data"
) -> bytes:
    """One table as ``csv`` or ``xlsx`` bytes."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(list(header))
        writer.writerows([[safe_cell(c) for c in r] for r in rows])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        return workbook([(title, header, rows)])
    raise ValueError(f"unknown export format {fmt!r}")
