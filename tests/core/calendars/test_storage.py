"""The calendar tables on both backends: keys, row-level security, the migration state."""

import os
import uuid

import pytest

from core.calendars import set_festival, set_override
from core.db import fetch, get_database, tenant_tx
from core.tables import CalendarOverride


async def _primary_key(table: str) -> list[str]:
    db = get_database()
    engine = db.owner_engine
    if db.is_postgres:
        rows = await engine._run_in_new_connection(
            "SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            f"WHERE i.indrelid = '{table}'::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey, a.attnum)"
        )
        return [r["name"] for r in rows]
    rows = await engine._run_in_new_connection(f"PRAGMA table_info({table})")
    return [r["name"] for r in sorted((r for r in rows if r["pk"]), key=lambda r: r["pk"])]


async def test_tenant_tables_are_keyed_by_tenant_then_id(db):
    assert await _primary_key("calendar_override") == ["tenant_id", "id"]
    assert await _primary_key("calendar_festival") == ["tenant_id", "id"]
    assert await _primary_key("calendar_platform_day") == ["id"]


async def test_override_rows_are_stored_exactly(tenant, owner, store):
    view = await set_override(
        tenant,
        owner,
        {
            "kind": "closure",
            "start_date": "2026-03-01",
            "end_date": "2026-03-31",
            "store_id": str(store),
            "name_zh": "装修",
            "name_en": "Renovation",
            "note": "二楼",
        },
    )
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT tenant_id, id, store_id, start_date, end_date, kind, name_zh, name_en, note, "
            "created_by FROM calendar_override WHERE tenant_id = {}",
            tenant.id,
        )
    assert len(rows) == 1
    row = rows[0]
    assert str(row["tenant_id"]) == str(tenant.id) and str(row["id"]) == str(view.id)
    assert str(row["store_id"]) == str(store)
    assert (str(row["start_date"]), str(row["end_date"]), row["kind"]) == (
        "2026-03-01",
        "2026-03-31",
        "closure",
    )
    assert (row["name_zh"], row["name_en"], row["note"], row["created_by"]) == (
        "装修",
        "Renovation",
        "二楼",
        owner.id,
    )


async def test_row_level_security_hides_other_tenants_rows(tenant, other_tenant, owner, pg_only):
    await set_override(tenant, owner, {"kind": "day_off", "start_date": "2026-06-01"})
    await set_festival(
        tenant,
        owner,
        {"code": "member_day", "name_zh": "会员日", "rule": {"kind": "monthly", "day": 18}},
    )
    async with tenant_tx(other_tenant.id, write=False):
        # Raw SQL without any tenant filter: RLS alone keeps tenant's rows out.
        assert await fetch("SELECT id FROM calendar_override") == []
        assert await fetch("SELECT id FROM calendar_festival") == []
    async with tenant_tx(tenant.id, write=False):
        assert len(await fetch("SELECT id FROM calendar_override")) == 1


async def test_unique_indexes_lead_with_tenant(tenant, other_tenant, owner):
    data = {"kind": "day_off", "start_date": "2026-06-01"}
    a = await set_override(tenant, owner, data)
    b = await set_override(other_tenant, owner, data)
    assert a.id != b.id
    async with tenant_tx(tenant.id):
        with pytest.raises(Exception) as err:  # the partial unique index (tenant-wide scope)
            await CalendarOverride.insert(
                CalendarOverride(
                    id=uuid.uuid4(), kind="day_off", start_date=a.start_date, end_date=a.end_date
                )
            )
    from core.db import is_unique_violation

    assert is_unique_violation(err.value)


async def test_piccolo_migration_state_matches_the_tables():
    """``add_table``/``add_column`` recorded the calendar tables and the customer column: an
    auto migration of core finds nothing to do."""
    os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
    from piccolo.apps.migrations.commands.new import AutoMigrationManager
    from piccolo.conf.apps import Finder

    app_config = Finder().get_app_config("core")
    statements = await AutoMigrationManager(auto_input="n").get_alter_statements(app_config)
    assert [s.statements for s in statements if s.statements] == []


async def test_migration_grants_calendar_manage_to_existing_hq_managers(db, tenant):
    """Tenants created before the permission existed: the migration adds it to hq_manager."""
    import importlib

    from core.db import json_text, json_value
    from core.tables import Role

    migration = importlib.import_module("core.piccolo_migrations.core_2026_12_02t12_00_00_000000")
    async with tenant_tx(tenant.id):
        row = await Role.select(Role.permissions).where(Role.code == "hq_manager").first()
        before = json_value(row["permissions"], [])
        assert "calendar:manage" in before
        old = [p for p in before if p != "calendar:manage"]
        await Role.update({Role.permissions: json_text(old)}).where(Role.code == "hq_manager")
    engine = db.owner_engine
    async with engine.transaction():
        await migration.grant_calendar_manage(engine)
    async with tenant_tx(tenant.id, write=False):
        rows = await Role.select(Role.code, Role.permissions)
    permissions = {r["code"]: json_value(r["permissions"], []) for r in rows}
    assert permissions["hq_manager"] == sorted([*old, "calendar:manage"])
    assert "calendar:manage" not in permissions["store_manager"]
    assert permissions["owner"] == ["*"]
