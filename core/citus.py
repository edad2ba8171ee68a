"""Citus readiness: what the database's catalog says about keys, and the distribution calls.

Citus shards tenant-owned tables by ``tenant_id``. It requires the distribution column in every
primary key and unique index of a distributed table, and a foreign key between two distributed
tables must pair ``tenant_id`` with ``tenant_id`` (so it never points into another tenant's
shard). Tables shared by every tenant (:class:`core.db.PlatformTable`) become *reference
tables*, copied to every node; a reference table may not reference a distributed one.

:func:`problems` checks those rules against the live PostgreSQL catalog (``pg_catalog``), for
whatever tables exist — core's, every installed plugin's, and any added later — so a new table
that breaks them fails ``tests/core/test_citus.py`` and ``mendian migrate --check``.
:func:`distribution_sql` prints the ``create_reference_table`` / ``create_distributed_table``
calls, referenced tables before the tables whose foreign keys point at them (Citus refuses a
foreign key to a table it does not know yet).

SQLite (the embedded single-node mode) is never distributed: there the primary keys stay ``id``
(stricter than ``(tenant_id, id)``, since ids are random UUIDs) and there are no foreign keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from piccolo.engine.base import Engine
from piccolo.table import Table

from core.db import PlatformTable, TenantScoped

__all__ = [
    "LOCAL_TABLES",
    "Catalog",
    "ForeignKey",
    "distribution_sql",
    "kinds",
    "problems",
    "read_catalog",
    "referencing_first",
]

DISTRIBUTION_COLUMN = "tenant_id"
# piccolo's own bookkeeping: only ``mendian migrate`` on the coordinator reads it, so it stays a
# plain (local) table there.
LOCAL_TABLES = frozenset({"migration"})
_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass(frozen=True)
class ForeignKey:
    """One foreign-key constraint as ``pg_constraint`` has it."""

    name: str
    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "NO ACTION"
    on_update: str = "NO ACTION"

    def pairs_tenant(self) -> bool:
        """``tenant_id`` of the row is matched with ``tenant_id`` of the referenced row."""
        return any(
            a == DISTRIBUTION_COLUMN and b == DISTRIBUTION_COLUMN
            for a, b in zip(self.columns, self.ref_columns, strict=True)
        )


@dataclass
class Catalog:
    """Tables, columns, keys and unique indexes of the current schema."""

    columns: dict[str, dict[str, tuple[str, bool]]] = field(default_factory=dict)
    """table → column → (``format_type`` of the column, NOT NULL)."""
    primary_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unique_indexes: list[tuple[str, str, tuple[str | None, ...]]] = field(default_factory=list)
    """(table, index, columns) of every unique index that is not the primary key; an
    expression column is ``None``."""
    foreign_keys: list[ForeignKey] = field(default_factory=list)


_COLUMNS = """
SELECT c.relname AS table_name, a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
ORDER BY c.relname, a.attnum
"""
_INDEXES = """
SELECT t.relname AS table_name, i.relname AS index_name, ix.indisprimary AS is_primary,
       ARRAY(SELECT a.attname
             FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema() AND ix.indisunique
ORDER BY t.relname, i.relname
"""
_FOREIGN_KEYS = """
SELECT con.conname AS name, t.relname AS table_name, r.relname AS ref_table,
       con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS ref_columns
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
JOIN pg_class r ON r.oid = con.confrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE con.contype = 'f' AND n.nspname = current_schema()
ORDER BY t.relname, con.conname
"""


async def _rows(engine: Engine, sql: str) -> list[dict[str, Any]]:
    rows = await engine._run_in_new_connection(sql)  # type: ignore[attr-defined]
    return [dict(r) for r in rows or []]


async def read_catalog(engine: Engine) -> Catalog:
    """The PostgreSQL catalog of ``engine``'s current schema (three statements)."""
    catalog = Catalog()
    for row in await _rows(engine, _COLUMNS):
        catalog.columns.setdefault(row["table_name"], {})[row["column_name"]] = (
            row["type"],
            bool(row["not_null"]),
        )
    for row in await _rows(engine, _INDEXES):
        columns = tuple(row["columns"])
        if row["is_primary"]:
            catalog.primary_keys[row["table_name"]] = tuple(c for c in columns if c)
        else:
            catalog.unique_indexes.append((row["table_name"], row["index_name"], columns))
    for row in await _rows(engine, _FOREIGN_KEYS):
        catalog.foreign_keys.append(
            ForeignKey(
                name=row["name"],
                table=row["table_name"],
                columns=tuple(row["columns"]),
                ref_table=row["ref_table"],
                ref_columns=tuple(row["ref_columns"]),
                on_delete=_ACTIONS.get(row["on_delete"], row["on_delete"]),
                on_update=_ACTIONS.get(row["on_update"], row["on_update"]),
            )
        )
    return catalog


def kinds(tables: Iterable[type[Table]]) -> dict[str, str]:
    """Table name → ``"tenant"`` (:class:`TenantScoped`: distributed), ``"platform"``
    (:class:`PlatformTable`: reference) or ``"unmarked"`` (neither: a mistake)."""
    out: dict[str, str] = {}
    for table in tables:
        kind = (
            "tenant"
            if issubclass(table, TenantScoped)
            else "platform"
            if issubclass(table, PlatformTable)
            else "unmarked"
        )
        out[table._meta.tablename] = kind
    return out


def problems(catalog: Catalog, kind: Mapping[str, str]) -> list[str]:
    """Every way the catalog breaks the Citus rules, one sentence each (empty: ready).

    ``kind`` is :func:`kinds` of the loaded Table classes (core and every installed plugin);
    the rules apply to the catalog's tables that one of them declares (a table no class
    declares is drift, which :func:`core.migrate.check` reports).
    """
    out: list[str] = []
    key = (DISTRIBUTION_COLUMN, "id")
    for table, columns in sorted(catalog.columns.items()):
        if table in LOCAL_TABLES or table not in kind:
            continue
        if kind[table] == "tenant":
            if columns.get(DISTRIBUTION_COLUMN) != ("uuid", True):
                out.append(f"{table}: tenant-owned but has no `tenant_id uuid NOT NULL` column")
            pk = catalog.primary_keys.get(table, ())
            if pk != key:
                out.append(f"{table}: primary key ({', '.join(pk)}), expected (tenant_id, id)")
        elif kind[table] == "platform":
            if DISTRIBUTION_COLUMN in columns:
                out.append(f"{table}: marked PlatformTable (reference table) but has tenant_id")
        else:
            out.append(
                f"{table}: its Table class mixes in neither TenantScoped (distributed by "
                "tenant_id) nor PlatformTable (reference table)"
            )
    for table, index, index_columns in catalog.unique_indexes:
        if kind.get(table) == "tenant" and (
            not index_columns or index_columns[0] != DISTRIBUTION_COLUMN
        ):
            shown = ", ".join(c or "<expression>" for c in index_columns)
            out.append(f"{table}: unique index {index} ({shown}) does not lead with tenant_id")
    for fk in catalog.foreign_keys:
        where = (
            f"{fk.table}: foreign key {fk.name} ({', '.join(fk.columns)}) → "
            f"{fk.ref_table} ({', '.join(fk.ref_columns)})"
        )
        source, target = kind.get(fk.table), kind.get(fk.ref_table)
        if source == "tenant" and target != "platform" and not fk.pairs_tenant():
            out.append(f"{where} does not pair tenant_id with tenant_id")
        if source == "platform" and target != "platform":
            out.append(f"{where}: a reference table can only reference reference tables")
        if DISTRIBUTION_COLUMN in fk.columns and (
            fk.on_delete in ("SET NULL", "SET DEFAULT")
            or fk.on_update in ("SET NULL", "SET DEFAULT", "CASCADE")
        ):
            out.append(
                f"{where}: ON DELETE {fk.on_delete} / ON UPDATE {fk.on_update} would change "
                "tenant_id (Citus refuses it)"
            )
    return out


def referencing_first(tables: Iterable[str], foreign_keys: Iterable[ForeignKey]) -> list[str]:
    """``tables`` ordered so that a table comes before every table it references (the order to
    delete in). Self-references are ignored."""
    return list(reversed(_referenced_first(tables, foreign_keys)))


def _referenced_first(tables: Iterable[str], foreign_keys: Iterable[ForeignKey]) -> list[str]:
    names = set(tables)
    needs: dict[str, set[str]] = {t: set() for t in names}
    for fk in foreign_keys:
        if fk.table in names and fk.ref_table in names and fk.table != fk.ref_table:
            needs[fk.table].add(fk.ref_table)
    order: list[str] = []
    while needs:
        ready = sorted(t for t, deps in needs.items() if not deps)
        if not ready:  # a cycle: Citus needs the keys added after distribution then
            ready = sorted(needs)[:1]
        table = ready[0]
        order.append(table)
        del needs[table]
        for deps in needs.values():
            deps.discard(table)
    return order


def distribution_sql(
    tables: Iterable[type[Table]], foreign_keys: Iterable[ForeignKey] = ()
) -> list[str]:
    """The Citus calls for these tables: reference tables first, then every tenant-owned table
    distributed by ``tenant_id`` and co-located with the first one (joins and foreign keys on
    ``tenant_id`` stay on one node), each after the tables it references."""
    kind = kinds(tables)
    out = [
        f"SELECT create_reference_table('{t}');"
        for t in sorted(t for t, k in kind.items() if k == "platform")
    ]
    distributed = _referenced_first([t for t, k in kind.items() if k == "tenant"], foreign_keys)
    for i, table in enumerate(distributed):
        colocate = f", colocate_with => '{distributed[0]}'" if i else ""
        out.append(f"SELECT create_distributed_table('{table}', 'tenant_id'{colocate});")
    return out
