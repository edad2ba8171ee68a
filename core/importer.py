"""Bulk customer import from CSV or XLSX (CORE-5): good rows kept, bad rows reported.

Headers may be English or Chinese (``name``/``姓名``, ``phone``/``手机``, …). Each row is created
through :func:`core.customers.create_customer` in its own transaction, so a bad row never takes
good rows with it and every rule (phone format, duplicates, sizes) applies exactly as in the API.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.context import Actor, TenantInfo
from core.customers import create_customer
from core.errors import MendianError

__all__ = ["ImportReport", "RowError", "import_customers", "read_rows"]

HEADERS = {
    "name": "name",
    "姓名": "name",
    "客户姓名": "name",
    "phone": "phone",
    "mobile": "phone",
    "手机": "phone",
    "手机号": "phone",
    "电话": "phone",
    "email": "email",
    "邮箱": "email",
    "gender": "gender",
    "性别": "gender",
    "birthday": "birthday",
    "生日": "birthday",
    "company": "company",
    "公司": "company",
    "position": "position",
    "职位": "position",
    "address": "address",
    "地址": "address",
    "tags": "tags",
    "标签": "tags",
    "notes": "notes",
    "备注": "notes",
    "card_no": "card_no",
    "会员卡号": "card_no",
    "卡号": "card_no",
}
GENDERS = {
    "男": "male",
    "女": "female",
    "m": "male",
    "f": "female",
    "male": "male",
    "female": "female",
    "other": "other",
    "unknown": "unknown",
    "": "unknown",
}
MAX_ROWS = 200_000


@dataclass
class RowError:
    row: int
    field: str | None
    reason: str


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["row", "field", "reason"])
        for e in self.errors:
            writer.writerow([e.row, e.field or "", e.reason])
        return out.getvalue()


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number as the user sees it, header → cell text) for a CSV or XLSX file."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        sheet = wb.active
        rows = sheet.iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(rows, [])]
        for n, values in enumerate(rows, start=2):
            cells = {}
            for h, v in zip(header, values, strict=False):
                if isinstance(v, dt.datetime):
                    v = v.date()
                cells[h] = "" if v is None else str(v).strip()
            if any(cells.values()):
                yield n, cells
        wb.close()
        return
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        for n, raw in enumerate(reader, start=2):
            cells = {
                str(k or "").strip(): (v or "").strip()
                for k, v in raw.items()
                if not isinstance(v, list)
            }
            if any(cells.values()):
                yield n, cells


def _to_input(cells: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"source": "import"}
    for header, value in cells.items():
        key = HEADERS.get(header) or HEADERS.get(header.lower())
        if key is None or value == "":
            continue
        if key == "tags":
            data["tags"] = [
                t.strip()
                for t in value.replace("、", ",").replace("，", ",").split(",")
                if t.strip()
            ]
        elif key == "gender":
            data["gender"] = GENDERS.get(value.lower(), value)
        elif key == "birthday":
            data["birthday"] = value[:10].replace("/", "-")
        else:
            data[key] = value
    return data


async def import_customers(
    tenant: TenantInfo, actor: Actor, path: Path, *, progress: Callable[[int], None] | None = None
) -> ImportReport:
    actor.require("customers:import")
    report = ImportReport()
    for row_no, cells in read_rows(path):
        report.total += 1
        if report.total > MAX_ROWS:
            report.errors.append(
                RowError(row_no, None, f"more than {MAX_ROWS} rows; split the file")
            )
            break
        try:
            await create_customer(tenant, actor, _to_input(cells))
            report.created += 1
        except MendianError as exc:
            report.errors.append(RowError(row_no, exc.field, exc.message))
        if progress:
            progress(1)
    return report
