"""The plugin contract, enforced: plugins reach the core only through its façade (the
import-linter contract in pyproject.toml, run by tests/test_quality.py) and never name a core or
framework table in SQL — they ask a core service, or read what the event carries."""

from __future__ import annotations

import pathlib
import re

from core.tables import TABLES

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORE_TABLES = sorted(t._meta.tablename for t in TABLES)
SQL_NAMING_A_TABLE = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(" + "|".join(CORE_TABLES) + r")\b", re.IGNORECASE
)


def core_tables_named(source: str) -> list[str]:
    return [m.group(1) for m in SQL_NAMING_A_TABLE.finditer(source)]


def test_the_check_finds_core_tables_in_sql():
    assert core_tables_named("SELECT birthday FROM customer WHERE tenant_id = {}") == ["customer"]
    assert core_tables_named("LEFT JOIN event_delivery d ON d.event_id = o.id") == [
        "event_delivery"
    ]
    assert core_tables_named("SELECT 1 FROM loyalty_entry JOIN customer_stats s") == [
        "customer_stats"
    ]
    assert core_tables_named("SELECT * FROM loyalty_account") == []


def test_no_plugin_names_a_core_table_in_sql():
    files = [
        p
        for base in (ROOT / "plugins", ROOT / "tests" / "sample_plugin")
        for p in base.rglob("*.py")
        if "migrations" not in p.parts
    ]
    assert len(files) > 10
    found = {
        str(p.relative_to(ROOT)): names
        for p in files
        if (names := core_tables_named(p.read_text(encoding="utf-8")))
    }
    assert found == {}
