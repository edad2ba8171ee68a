"""``mendian migrate --check``: Table classes, piccolo's migration state and the live database
agree for core and every installed plugin, on both backends; a drift is caught; a database
deployed before the Citus keys migrates forward with its rows."""

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from piccolo.columns import UUID, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from api.testing import PG_URL, _pg_admin
from core.config import load_settings
from core.migrate import Difference, _app_configs, check, citus_sql, migrate
from tests.conftest import BACKENDS

# The last migration of each app before the Citus keys and the registered state.
BEFORE_CITUS = {
    "core": "2026-12-01T07:00:00:000000",
    "loyalty": "2026-12-01T06:00:00:000000",
    "sample": "2026-11-22T12:00:01:000000",
}


async def test_tables_migrations_and_database_agree(db):
    assert [str(d) for d in await check(db.settings)] == []


async def test_piccolo_auto_migrations_find_nothing_to_add(db):
    """What ``piccolo migrations new APP --auto`` computes, for every installed app."""
    from piccolo.apps.migrations.commands.new import AutoMigrationManager

    apps = _app_configs()
    assert {"core", "loyalty", "sample"} <= {a.app_name for a in apps}
    for app in apps:
        alter = await AutoMigrationManager(auto_input="n").get_alter_statements(app_config=app)
        assert [s for a in alter for s in a.statements] == [], app.app_name


class SampleVisit(Table, tablename="sample_visit"):
    """sample_visit as a careless author might change it: ``note`` gone, ``mood`` added,
    ``customer_id`` made NOT NULL — with no migration. (A plain Table: a ``TenantScoped``
    subclass would join ``tenant_tables()`` for the rest of the session.)"""

    tenant_id = UUID(null=False, default=None)
    id = UUID(primary_key=True)
    purchase_id = UUID()
    customer_id = UUID()
    kind = Varchar(length=8, default="sale")
    mood = Varchar(length=16, default="")
    at = Timestamptz(default=TimestamptzNow())


async def test_check_reports_every_drift(db, monkeypatch):
    import core.migrate

    apps = [
        replace(a, table_classes=[SampleVisit]) if a.app_name == "sample" else a
        for a in _app_configs()
    ]
    monkeypatch.setattr(core.migrate, "_app_configs", lambda: apps)
    found = [str(d) for d in await check(db.settings) if d.app == "sample"]
    assert found == [
        "[sample] migrations: sample_visit.mood: in the Table class, not in the migrations",
        "[sample] migrations: sample_visit.note: in the migrations, not in the Table class",
        "[sample] migrations: sample_visit.customer_id: migrations differ from the class "
        "(default None → UUID4(), null True → False)",
        "[sample] database: sample_visit.mood: in the Table class, not in the database",
        "[sample] database: sample_visit.note: in the database, not in the Table class",
        "[sample] database: sample_visit.customer_id: NULL in the database, NOT NULL in the class",
    ]
    if db.is_postgres:  # and the class is neither TenantScoped nor PlatformTable
        assert Difference(
            "-",
            "citus",
            "sample_visit: its Table class mixes in neither TenantScoped (distributed by "
            "tenant_id) nor PlatformTable (reference table)",
        ) in await check(db.settings)


def mendian(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from api.cli import run; run()", *args],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        | {"MENDIAN_HOME": str(home)}
        | env,
        timeout=300,
        check=False,
    )


def test_cli_check_exits_non_zero_on_a_drift(tmp_path):
    env: dict[str, str] = {}
    assert mendian(tmp_path, "migrate", env=env).returncode == 0
    clean = mendian(tmp_path, "migrate", "--check", env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "tables, migrations and database agree" in clean.stdout
    with sqlite3.connect(tmp_path / "mendian.sqlite3") as conn:
        conn.execute("ALTER TABLE customer ADD COLUMN shoe_size INTEGER")
    drifted = mendian(tmp_path, "migrate", "--check", env=env)
    assert drifted.returncode == 1
    assert drifted.stdout.splitlines() == [
        "[core] database: customer.shoe_size: in the database, not in the Table class"
    ]
    refused = mendian(tmp_path, "migrate", "--citus-sql", env=env)
    assert refused.returncode == 1 and "PostgreSQL" in refused.stderr


async def test_cli_on_postgres(pg_only, tmp_path):
    url = PG_URL.rsplit("/", 1)[0] + "/" + pg_only.settings.database.database
    env = {"DATABASE_URL": url}
    clean = mendian(tmp_path, "migrate", "--check", env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    printed = mendian(tmp_path, "migrate", "--citus-sql", env=env)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines() == await citus_sql(pg_only.settings)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_deployed_database_migrates_forward(backend, tmp_path):
    """Migrate to the state before this work, write rows, migrate the rest: rows are kept,
    keys are widened (PostgreSQL) or tightened (SQLite) and nothing differs."""
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.querystring import QueryString

    from core.migrate import _owner_engine

    name = f"mendian_fwd_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        await _pg_admin(f'CREATE DATABASE "{name}"')
        url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    settings = load_settings(dict(os.environ) | {"DATABASE_URL": url})
    try:
        engine = _owner_engine(settings)
        for app, last in BEFORE_CITUS.items():
            assert (await run_forwards(app_name=app, migration_id=last)).success
        tenant, purchase, reward = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        at = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
        rows = [
            (
                "INSERT INTO purchase (tenant_id, id, store_id, kind, occurred_at, amount_minor, "
                "currency, channel, request_hash, note, created_at) VALUES "
                "({}, {}, {}, 'sale', {}, 100, 'CNY', 'pos', '', '', {})",
                [tenant, purchase, uuid.uuid4(), at, at],
            ),
            (
                "INSERT INTO purchase_line (tenant_id, id, purchase_id, line_no, sku, name, "
                "category, qty_milli, unit_price_minor, amount_minor) VALUES "
                "({}, {}, {}, 1, 'tea', '', '', 1000, 100, 100)",
                [tenant, uuid.uuid4(), purchase],
            ),
            (
                "INSERT INTO loyalty_reward (id, tenant_id, code, name, points_cost, created_at) "
                "VALUES ({}, {}, 'MUG', 'Mug', 100, {})",
                [reward, tenant, at],
            ),
            (
                "INSERT INTO loyalty_coupon (id, tenant_id, reward_id, customer_id, code, status, "
                "entry_id, valid_until, created_at) VALUES ({}, {}, {}, {}, 'C1', 'issued', {}, "
                "{}, {})",
                [uuid.uuid4(), tenant, reward, uuid.uuid4(), uuid.uuid4(), at, at],
            ),
        ]

        def value(v: object) -> object:  # what the old code wrote on SQLite: text
            if backend == "postgres":
                return v
            return v.isoformat() if isinstance(v, dt.datetime) else str(v)

        async with engine.transaction():
            for sql, args in rows:
                await engine.run_querystring(QueryString(sql, *(value(a) for a in args)))
        await migrate(settings)
        counts = await engine.run_querystring(
            QueryString(
                "SELECT (SELECT count(*) FROM purchase) AS p, (SELECT count(*) FROM "
                "purchase_line) AS l, (SELECT count(*) FROM loyalty_reward) AS r, "
                "(SELECT count(*) FROM loyalty_coupon) AS c"
            )
        )
        assert dict(counts[0]) == {"p": 1, "l": 1, "r": 1, "c": 1}
        assert [str(d) for d in await check(settings)] == []
    finally:
        if backend == "postgres":
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
