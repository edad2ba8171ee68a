"""``mendian plugins new NAME``: a working plugin package, with its own tests.

The package has a manifest with typed settings, a table and its migrations, a hook
(``on_purchase_recorded`` writing a row), privacy hooks, a GraphQL-free core contribution
(permissions), and a test using Mendian's pytest plugin. ``pip install -e`` it, run
``mendian migrate``, and ``pytest`` in it passes.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["scaffold"]

PYPROJECT = """[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "mendian-{dash}"
version = "0.1.0"
description = "A Mendian plugin: {title}"
requires-python = ">=3.11"
dependencies = ["mendian>=0.1"]

[project.entry-points."mendian.plugins"]
{id} = "mendian_{id}.plugin"

[tool.setuptools.packages.find]
include = ["mendian_{id}*"]

[tool.pytest.ini_options]
testpaths = ["tests"]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "session"
asyncio_default_test_loop_scope = "session"
"""

PLUGIN = '''"""{title}: manifest and hooks (keep this thin; put logic in service modules)."""

from uuid import UUID

import msgspec

from core import PluginManifest, hookimpl


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Validated per tenant; exported as JSON Schema for the admin UI."""

    enabled_note: str = "thanks for shopping"
    api_secret: str = ""


manifest = PluginManifest(
    id="{id}",
    name="{title}",
    version="0.1.0",
    description="Records every purchase it sees",
    requires_core=">=0.1,<1",
    settings=Settings,
    secret_settings=("api_secret",),
    personal_data=True,
    permissions={{"{id}:read": "Read {title} records"}},
    piccolo_app="mendian_{id}.piccolo_app",
)


@hookimpl
async def on_purchase_recorded(tenant, event):
    from mendian_{id}.tables import {cls}

    customer = event.get("customer_id")
    await {cls}.insert({cls}(purchase_id=UUID(event["purchase_id"]), customer_id=UUID(customer) if customer else None))


@hookimpl
async def customer_export_data(tenant, customer_id):
    from mendian_{id}.tables import {cls}

    rows = await {cls}.select({cls}.purchase_id).where({cls}.customer_id == customer_id)
    return {{"purchases_seen": [str(r["purchase_id"]) for r in rows]}}


@hookimpl
async def customer_erase_data(tenant, customer_id):
    """Nothing personal is stored beyond the id, which stays as a pseudonym."""
'''

TABLES = """from piccolo.columns import UUID, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import TenantScoped


class {cls}(TenantScoped, Table, tablename="{id}_record"):
    id = UUID(primary_key=True)
    purchase_id = UUID()
    customer_id = UUID(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())
"""

APP = """from pathlib import Path

from piccolo.conf.apps import AppConfig

from mendian_{id}.tables import {cls}

APP_CONFIG = AppConfig(
    app_name="{id}",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[{cls}],
    migration_dependencies=["core.piccolo_app"],
)
"""

MIGRATION_TABLE = """from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4

ID = "2026-01-01T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "{id}_record"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="{id}", description=DESCRIPTION)
    manager.add_table(class_name="{cls}", tablename="{id}_record")
    for name, column in [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("purchase_id", UUID(default=UUID4())),
        ("customer_id", UUID(null=True, default=None)),
        ("at", Timestamptz(default=TimestamptzNow())),
    ]:
        manager.add_column(
            table_class_name="{cls}", tablename="{id}_record", column_name=name, db_column_name=name,
            column_class_name=type(column).__name__, column_class=type(column), params=column._meta.params,
        )
    return manager
"""

MIGRATION_INDEX = """from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-01-01T00:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "{id}_record indexes (tenant_id first)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="{id}", description=DESCRIPTION)

    async def indexes():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_{id}_record ON {id}_record (tenant_id, purchase_id)"
        )

    manager.add_raw(indexes)
    return manager
"""

TEST = '''"""Tests of the {title} plugin, with Mendian's pytest fixtures."""

from core.db import tenant_tx
from core.purchases import record_purchase
from mendian_{id}.tables import {cls}


async def test_purchases_are_recorded_only_for_enabling_tenants(
    runtime, tenant, other_tenant, owner, enable_plugins, deliver_events
):
    from tenants.service import create_store

    await enable_plugins(tenant, "{id}")
    for t in (tenant, other_tenant):
        store = await create_store(t, owner, {{"code": "S1", "name": "store"}})
        await record_purchase(t, owner, {{"store_id": str(store["id"]), "lines": [{{"sku": "x", "unit_price": "9.90"}}]}})
        await deliver_events(t)
    async with tenant_tx(tenant.id):
        assert await {cls}.count() == 1
    async with tenant_tx(other_tenant.id):
        assert await {cls}.count() == 0
'''


def scaffold(name: str, directory: Path) -> Path:
    plugin_id = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_")
    if not re.match(r"^[a-z][a-z0-9_]{1,30}$", plugin_id):
        raise ValueError(f"{name!r} does not make a valid plugin id")
    values = {
        "id": plugin_id,
        "dash": plugin_id.replace("_", "-"),
        "title": plugin_id.replace("_", " ").title(),
        "cls": "".join(p.title() for p in plugin_id.split("_")) + "Record",
    }
    root = directory / f"mendian-{values['dash']}"
    if root.exists():
        raise FileExistsError(f"{root} exists")
    package = root / f"mendian_{plugin_id}"
    files = {
        root / "pyproject.toml": PYPROJECT,
        root
        / "README.md": "# {title}\n\nA Mendian plugin. `pip install -e .`, `mendian migrate`, `pytest`.\n",
        package / "__init__.py": '"""{title} plugin for Mendian."""\n',
        package / "plugin.py": PLUGIN,
        package / "tables.py": TABLES,
        package / "piccolo_app.py": APP,
        package / "migrations" / "__init__.py": "",
        package / "migrations" / f"{plugin_id}_2026_01_01t00_00_00_000000.py": MIGRATION_TABLE,
        package / "migrations" / f"{plugin_id}_2026_01_01t00_00_01_000000.py": MIGRATION_INDEX,
        root / "tests" / "test_plugin.py": TEST,
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
    return root
