"""Citus readiness, checked on PostgreSQL's catalog for every table that exists: core's, the
built-in plugins', the sample plugin's and any table a plugin adds later (the list comes from
the database and the installed apps, never from this file)."""

import re
import uuid
from pathlib import Path

import pytest

from core.citus import LOCAL_TABLES, kinds, problems, read_catalog, referencing_first
from core.db import PlatformTable, TenantScoped

REPO = Path(__file__).resolve().parents[2]


def installed_tables():
    from core.migrate import _app_configs

    return [t for app in _app_configs() for t in app.table_classes]


def builtin_apps() -> set[str]:
    """Apps shipped in this repository (core, plugins/…): the README documents those."""
    from core.migrate import _app_configs

    roots = (REPO / "core", REPO / "plugins")
    return {
        app.app_name
        for app in _app_configs()
        if any(Path(app.resolved_migrations_folder_path).is_relative_to(r) for r in roots)
    }


async def test_every_table_is_citus_ready(pg_only):
    catalog = await read_catalog(pg_only.owner_engine)
    tables = installed_tables()
    declared = {t._meta.tablename for t in tables}
    # Every table in the database belongs to an installed app, and every app table exists.
    assert set(catalog.columns) - LOCAL_TABLES == declared
    assert {"customer", "loyalty_entry", "sample_visit", "tenant"} <= declared
    assert problems(catalog, kinds(tables)) == []
    for table in tables:
        name = table._meta.tablename
        if issubclass(table, TenantScoped):
            assert catalog.primary_keys[name] == ("tenant_id", "id"), name
        else:
            assert issubclass(table, PlatformTable), name
            assert catalog.primary_keys[name] == ("id",), name


async def test_foreign_keys_pair_tenant_id(pg_only):
    catalog = await read_catalog(pg_only.owner_engine)
    keys = {fk.name: fk for fk in catalog.foreign_keys}
    line = keys["fk_purchase_line_purchase"]
    assert (line.table, line.columns, line.ref_table, line.ref_columns) == (
        "purchase_line",
        ("tenant_id", "purchase_id"),
        "purchase",
        ("tenant_id", "id"),
    )
    assert keys["fk_loyalty_coupon_reward"].columns == ("tenant_id", "reward_id")
    assert all(fk.pairs_tenant() for fk in catalog.foreign_keys)
    # Delete order: a table before the tables it references.
    order = referencing_first(["purchase", "purchase_line", "store"], catalog.foreign_keys)
    assert order.index("purchase_line") < order.index("purchase")


async def test_a_line_cannot_point_at_another_tenants_purchase(pg_only, tenant, other_tenant):
    """The composite key refuses a row of tenant A that names tenant B's purchase."""
    import asyncpg

    conn = await asyncpg.connect(**pg_only.settings.database.asyncpg_config())
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(other_tenant.id))
            purchase = uuid.uuid4()
            await conn.execute(
                "INSERT INTO purchase (tenant_id, id, store_id, kind, occurred_at, amount_minor, "
                "currency, channel, request_hash, note, created_at) VALUES "
                "($1, $2, $3, 'sale', now(), 100, 'CNY', 'pos', '', '', now())",
                other_tenant.id,
                purchase,
                uuid.uuid4(),
            )
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant.id))
                await conn.execute(
                    "INSERT INTO purchase_line (tenant_id, id, purchase_id, line_no, sku, name, "
                    "category, qty_milli, unit_price_minor, amount_minor) VALUES "
                    "($1, $2, $3, 1, 'x', '', '', 1000, 100, 100)",
                    tenant.id,
                    uuid.uuid4(),
                    purchase,
                )
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant.id))
            # (this connection is the owner, a superuser: RLS does not filter for it)
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM purchase_line WHERE tenant_id = $1", tenant.id
                )
                == 0
            )
    finally:
        await conn.close()


async def test_rules_catch_a_plugin_table_that_breaks_them(pg_only):
    """A new plugin table with a key without tenant_id, a unique index that does not lead with
    it and a foreign key into another tenant's rows: each is reported."""
    engine = pg_only.owner_engine
    await engine._run_in_new_connection(
        "CREATE TABLE bad_visit (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, "
        "code varchar(8) NOT NULL, owner_id uuid NOT NULL, purchase_id uuid NOT NULL, "
        "FOREIGN KEY (owner_id, purchase_id) REFERENCES purchase (tenant_id, id))"
    )
    await engine._run_in_new_connection(
        "CREATE UNIQUE INDEX uq_bad_visit_code ON bad_visit (code, tenant_id)"
    )
    try:
        catalog = await read_catalog(engine)
        found = problems(catalog, kinds(installed_tables()) | {"bad_visit": "tenant"})
        fk = next(fk.name for fk in catalog.foreign_keys if fk.table == "bad_visit")
        assert found == [
            "bad_visit: primary key (id), expected (tenant_id, id)",
            "bad_visit: unique index uq_bad_visit_code (code, tenant_id) does not lead with "
            "tenant_id",
            f"bad_visit: foreign key {fk} (owner_id, purchase_id) → purchase (tenant_id, id) "
            "does not pair tenant_id with tenant_id",
        ]
        # Unmarked, it is reported too; undeclared, it is drift for `migrate --check`.
        assert problems(catalog, kinds(installed_tables()) | {"bad_visit": "unmarked"})[0] == (
            "bad_visit: its Table class mixes in neither TenantScoped (distributed by "
            "tenant_id) nor PlatformTable (reference table)"
        )
    finally:
        await engine._run_in_new_connection("DROP TABLE bad_visit")


def readme_block() -> list[str]:
    text = (REPO / "README.md").read_text()
    match = re.search(r"<!-- citus-sql:.*?-->\n```sql\n(.*?)\n```", text, re.S)
    assert match, "README.md lost its citus-sql block"
    return match.group(1).splitlines()


async def test_readme_gives_every_distribution_call(pg_only):
    from core.migrate import citus_sql

    generated = await citus_sql(pg_only.settings, apps=builtin_apps())
    assert readme_block() == generated
    tables = [t._meta.tablename for t in installed_tables()]
    everything = "\n".join(await citus_sql(pg_only.settings))
    for name in tables:  # the CLI's output names every installed table once
        assert len(re.findall(rf"\('{name}'", everything)) == 1, name


async def test_tenant_deletion_follows_the_foreign_keys(tenant, other_tenant, owner, store):
    """A sale, its lines and a refund pointing at both go, on either backend; the other
    tenant's sale stays."""
    from core.db import tenant_tx
    from core.purchases import record_purchase, record_refund
    from core.tables import Purchase, PurchaseLine
    from tenants.service import create_store, delete_tenant

    sale = await record_purchase(
        tenant,
        owner,
        {"store_id": str(store), "lines": [{"sku": "tea", "unit_price": "5", "qty": "2"}]},
    )
    await record_refund(
        tenant, owner, {"refund_of": str(sale.id), "lines": [{"line_no": 1, "qty": "1"}]}
    )
    other_store = await create_store(other_tenant, owner, {"code": "S1", "name": "other"})
    kept = await record_purchase(
        other_tenant,
        owner,
        {"store_id": str(other_store["id"]), "lines": [{"sku": "tea", "unit_price": "5"}]},
    )
    assert await delete_tenant(tenant.slug) > 4
    async with tenant_tx(tenant.id):
        assert (await Purchase.count(), await PurchaseLine.count()) == (0, 0)
    async with tenant_tx(other_tenant.id):
        assert [r["id"] for r in await Purchase.select(Purchase.id)] == [kept.id]
        assert await PurchaseLine.count() == 1
