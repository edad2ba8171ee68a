"""``mendian plugins new NAME``: a working plugin package shaped like the built-in ones.

The package (STYLE "plugin anatomy") has a thin ``plugin.py`` (manifest and hook
implementations), ``settings.py`` (validated, with a secret), ``tables.py`` (a tenant-scoped
table), ``service.py`` (the behaviour, on the ``core`` façade only), ``graphql.py`` (a query, a
mutation following the API conventions, a ``Customer`` field batched by a DataLoader, a ``Node``
type), ``migrations/``, a ``README.md`` and tests (isolation between two tenants, the plugin
disabled, settings validation, idempotency). ``pip install -e`` it and ``pytest`` in it passes,
on SQLite and — with ``DATABASE_URL`` set — on PostgreSQL.
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

README = """# {title}

A Mendian plugin: staff record a customer's visits (and every sale counts as one).

- **Settings** (`Settings` in `settings.py`): `greeting` (shown with the count), `goal`
  (visits for a reward, 1–1000), `api_secret` (write-only).
- **Table**: `{id}_visit` (tenant-scoped; row-level security on PostgreSQL).
- **Hooks**: `on_purchase_recorded` (a sale with a customer is a visit, once per sale),
  `register_graphql`, `customer_export_data` / `customer_erase_data`.
- **GraphQL**: `{camel}Count` (query), `{camel}Record(input: {{customerId, note,
  idempotencyKey}})` (mutation), `Customer.{camel}` (visits, batched), `{type}` (a `Node`).
- **Permissions**: `{id}:read`, `{id}:write`.

```
pip install -e . && mendian migrate && python -m pytest
```
"""

INIT = '"""{title} plugin for Mendian."""\n'

SETTINGS = '''"""{title}'s settings per tenant: validated when a tenant enables or changes them."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

__all__ = ["Settings"]


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Exported as JSON Schema for the admin UI; ``api_secret`` is write-only."""

    greeting: Annotated[str, Meta(max_length=100)] = "thanks for visiting"
    goal: Annotated[int, Meta(ge=1, le=1000)] = 10
    api_secret: str = ""
'''

PLUGIN = '''"""{title}: manifest and hooks (thin: the behaviour is in ``service.py``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core import PluginManifest, TenantInfo, hookimpl
from mendian_{id}.settings import Settings

manifest = PluginManifest(
    id="{id}",
    name="{title}",
    version="0.1.0",
    description="Counts customers' visits",
    requires_core=">=0.1,<1",
    settings=Settings,
    secret_settings=("api_secret",),
    personal_data=True,
    permissions={{"{id}:read": "Read visits", "{id}:write": "Record visits"}},
    piccolo_app="mendian_{id}.piccolo_app",
)


@hookimpl
async def on_purchase_recorded(tenant: TenantInfo, event: dict[str, Any]) -> None:
    from mendian_{id}.service import visit_from_sale

    await visit_from_sale(tenant, event)


@hookimpl
def register_graphql() -> list[Any]:
    from mendian_{id}.graphql import contributions

    return contributions()


@hookimpl
async def customer_export_data(tenant: TenantInfo, customer_id: UUID) -> dict[str, Any]:
    from mendian_{id}.service import visits_of

    return {{"visits": await visits_of(tenant, customer_id)}}


@hookimpl
async def customer_erase_data(tenant: TenantInfo, customer_id: UUID) -> None:
    from mendian_{id}.service import erase_notes

    await erase_notes(tenant, customer_id)
'''

TABLES = '''"""{title}'s table: tenant-scoped (queries carry the tenant; RLS on PostgreSQL)."""

from piccolo.columns import UUID, Text, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import TenantScoped

__all__ = ["{cls}"]


class {cls}(TenantScoped, Table, tablename="{id}_visit"):
    """A visit of a customer: from a sale (``purchase_id``) or recorded by staff."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    purchase_id = UUID(null=True, default=None)
    note = Text(default="")
    at = Timestamptz(default=TimestamptzNow())
'''

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

SERVICE = '''"""{title}'s behaviour, on the ``core`` façade only (no SQL on the core's tables)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID, uuid4

import msgspec
from msgspec import Meta

from core import (
    Actor,
    TenantInfo,
    active_customer,
    claim,
    convert,
    fetch,
    insert_rows,
    is_unique_violation,
    tenant_tx,
)
from mendian_{id}.tables import {cls}

__all__ = ["VisitInput", "erase_notes", "record_visit", "visit", "visit_counts", "visit_from_sale", "visits_of"]


class VisitInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    customer_id: UUID
    note: Annotated[str, Meta(max_length=500)] = ""


async def record_visit(
    tenant: TenantInfo, actor: Actor, data: dict[str, Any], *, idempotency_key: str | None = None
) -> UUID:
    """A visit recorded by staff; a retry with the same key records it once."""
    actor.require("{id}:write")
    payload = convert(data, VisitInput)
    visit_id = uuid4()
    async with tenant_tx(tenant.id):
        earlier = await claim("{id}.visit", idempotency_key, msgspec.to_builtins(payload), visit_id)
        if earlier is not None:
            return earlier
        await active_customer(tenant, payload.customer_id)
        await insert_rows(
            "{id}_visit",
            [
                {{
                    "tenant_id": tenant.id,
                    "id": visit_id,
                    "customer_id": payload.customer_id,
                    "purchase_id": None,
                    "note": payload.note,
                    "at": dt.datetime.now(dt.UTC),
                }}
            ],
        )
    return visit_id


async def visit_from_sale(tenant: TenantInfo, event: dict[str, Any]) -> None:
    """A sale with a customer is a visit, once per sale (a unique index on the purchase)."""
    if event.get("kind") != "sale" or not event.get("customer_id"):
        return
    try:
        async with tenant_tx(tenant.id):
            await insert_rows(
                "{id}_visit",
                [
                    {{
                        "tenant_id": tenant.id,
                        "id": uuid4(),
                        "customer_id": UUID(event["customer_id"]),
                        "purchase_id": UUID(event["purchase_id"]),
                        "note": "",
                        "at": dt.datetime.fromisoformat(event["occurred_at"]),
                    }}
                ],
            )
    except Exception as exc:
        if not is_unique_violation(exc):
            raise


async def visit_counts(tenant: TenantInfo, customer_ids: list[UUID]) -> list[int]:
    """Visits per customer, in one statement (a DataLoader batch)."""
    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT customer_id, COUNT(*) AS n FROM {id}_visit WHERE tenant_id = {{}} "
            "AND customer_id IN (" + ", ".join("{{}}" for _ in customer_ids) + ") GROUP BY customer_id",
            tenant.id,
            *customer_ids,
        )
    counts = {{UUID(str(r["customer_id"])): int(r["n"]) for r in rows}}
    return [counts.get(c, 0) for c in customer_ids]


async def visit(tenant: TenantInfo, visit_id: UUID) -> dict[str, Any] | None:
    async with tenant_tx(tenant.id, write=False):
        row = await {cls}.select().where({cls}.id == visit_id).first()
    return dict(row) if row else None


async def visits_of(tenant: TenantInfo, customer_id: UUID) -> list[dict[str, Any]]:
    async with tenant_tx(tenant.id, write=False):
        rows = await {cls}.select({cls}.at, {cls}.note).where({cls}.customer_id == customer_id)
    return [{{"at": r["at"].isoformat(), "note": r["note"]}} for r in rows]


async def erase_notes(tenant: TenantInfo, customer_id: UUID) -> None:
    """Notes are free text about a person: erased; the visits stay as counts."""
    async with tenant_tx(tenant.id):
        await {cls}.update({{{cls}.note: ""}}).where({cls}.customer_id == customer_id)
'''

GRAPHQL = '''"""{title}'s GraphQL: present only where a tenant enabled the plugin."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core import (
    Customer,
    GraphQLContribution,
    Node,
    UserError,
    attempt,
    context_of,
    input_data,
    tenant_tx,
    to_global_id,
)
from mendian_{id} import service
from mendian_{id}.settings import Settings
from mendian_{id}.tables import {cls}


@strawberry.type(description="A customer's visit.")
class {type}(Node):
    note: str = strawberry.field(description="What staff noted.")
    at: dt.datetime = strawberry.field(description="When.")


def _visit(row: dict[str, Any]) -> {type}:
    return {type}(id=to_global_id("{type}", row["id"]), note=row["note"], at=row["at"])


@strawberry.input(description="A visit to record.")
class {camel_cap}RecordInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    note: str | None = strawberry.field(default=strawberry.UNSET, description="A note.")
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET, description="A retry with this key records the visit once."
    )


@strawberry.type(description="Result of `{camel}Record`.")
class {camel_cap}RecordPayload:
    visit: {type} | None = strawberry.field(description="The visit recorded.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Visits counted for the tenant.")
class {camel_cap}Count:
    visits: int = strawberry.field(description="All visits.")
    greeting: str = strawberry.field(description="The tenant's greeting (a setting).")


async def resolve_count(info: Info) -> {camel_cap}Count:
    ctx = context_of(info)
    tenant, actor = ctx.caller()
    actor.require("{id}:read")
    settings: Settings = await ctx.settings("{id}")
    async with tenant_tx(tenant.id, write=False):
        total = await {cls}.count()
    return {camel_cap}Count(visits=total, greeting=settings.greeting)


async def resolve_record(
    info: Info,
    input: Annotated[{camel_cap}RecordInput, strawberry.argument(description="The visit.")],
) -> {camel_cap}RecordPayload:
    tenant, actor = context_of(info).caller()

    async def run() -> dict[str, Any] | None:
        data = input_data(input)
        key = data.pop("idempotency_key", None)
        visit_id = await service.record_visit(tenant, actor, data, idempotency_key=key)
        return await service.visit(tenant, visit_id)

    row, errors = await attempt(run)
    return {camel_cap}RecordPayload(visit=_visit(row) if row else None, errors=errors)


async def resolve_customer_visits(root: Customer, info: Info) -> int:
    ctx = context_of(info)
    tenant, _actor = ctx.caller()
    loader = ctx.loader("{id}.visits", lambda ids: service.visit_counts(tenant, ids))
    count: int = await loader.load(root.uid)
    return count


async def load_visit(info: Info, uid: UUID) -> {type} | None:
    tenant, actor = context_of(info).caller()
    actor.require("{id}:read")
    row = await service.visit(tenant, uid)
    return _visit(row) if row else None


def contributions() -> list[GraphQLContribution]:
    return [
        GraphQLContribution(
            queries={{
                "{id}_count": strawberry.field(
                    resolver=resolve_count, description="Visits counted by {title}."
                )
            }},
            mutations={{
                "{id}_record": strawberry.mutation(
                    resolver=resolve_record, description="Record a customer's visit."
                )
            }},
            fields={{
                "Customer": {{
                    "{id}": strawberry.field(
                        resolver=resolve_customer_visits, description="Visits ({title})."
                    )
                }}
            }},
            nodes={{"{type}": load_visit}},
        )
    ]
'''

MIGRATION = '''"""{id}_visit: the table, declared column by column so that piccolo's migration
state knows every column (``mendian migrate --check`` compares it with ``tables.py``)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Text, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4

ID = "2026-01-01T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "{id}_visit"

COLUMNS = [
    ("tenant_id", UUID(null=False, default=None)),
    ("id", UUID(primary_key=True, default=UUID4())),
    ("customer_id", UUID(default=UUID4())),
    ("purchase_id", UUID(null=True, default=None)),
    ("note", Text(default="")),
    ("at", Timestamptz(default=TimestamptzNow())),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="{id}", description=DESCRIPTION)
    manager.add_table(class_name="{cls}", tablename="{id}_visit")
    for name, column in COLUMNS:
        manager.add_column(
            table_class_name="{cls}",
            tablename="{id}_visit",
            column_name=name,
            db_column_name=name,
            column_class_name=type(column).__name__,
            column_class=type(column),
            params=column._meta.params,
        )
    return manager
'''

MIGRATION_KEYS = '''"""{id}_visit's keys: on PostgreSQL the Citus-ready primary key (tenant_id, id); unique
and plain indexes leading with tenant_id. (Raw DDL runs before a migration's tables are
created, so keys come in the migration after the table's.)"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-01-01T00:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "{id}_visit keys"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="{id}", description=DESCRIPTION)

    async def keys():
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            await engine.run_ddl(
                "ALTER TABLE {id}_visit DROP CONSTRAINT IF EXISTS {id}_visit_pkey, "
                "ADD PRIMARY KEY (tenant_id, id)"
            )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_{id}_visit_sale ON {id}_visit "
            "(tenant_id, purchase_id)"
        )
        await engine.run_ddl(
            "CREATE INDEX IF NOT EXISTS ix_{id}_visit_customer ON {id}_visit (tenant_id, customer_id)"
        )

    manager.add_raw(keys)
    return manager
'''

TESTS = '''"""Tests of {title}, with Mendian's pytest fixtures (``api.testing``): each runs on SQLite,
and on PostgreSQL as the RLS-bound role when ``DATABASE_URL`` is set."""

import pytest

from core import ValidationFailed, to_global_id

CREATE = """mutation($i: CustomerCreateInput!) {{ customerCreate(input: $i) {{ customer {{ id }} }} }}"""
RECORD = """mutation($i: {camel_cap}RecordInput!) {{
  {camel}Record(input: $i) {{ visit {{ id note }} errors {{ field code }} }}
}}"""


async def _customer(api, key, name="王芳"):
    r = await api.gql(CREATE, {{"i": {{"name": name}}}}, key=key)
    return r["data"]["customerCreate"]["customer"]["id"]


async def test_staff_record_visits_once_per_key_and_customers_show_them(
    api, tenant, make_key, enable_plugins
):
    await enable_plugins(tenant, "{id}", settings={{"greeting": "欢迎"}})
    key = await make_key(tenant)
    customer = await _customer(api, key)
    visit = {{"customerId": customer, "note": "asked about tea", "idempotencyKey": "v-1"}}
    first = await api.gql(RECORD, {{"i": visit}}, key=key)
    again = await api.gql(RECORD, {{"i": visit}}, key=key)
    assert first["data"]["{camel}Record"]["errors"] == []
    assert again["data"]["{camel}Record"]["visit"] == first["data"]["{camel}Record"]["visit"]
    shown = await api.gql(
        "query($c: ID!) {{ customer(id: $c) {{ {camel} }} {camel}Count {{ visits greeting }} }}",
        {{"c": customer}},
        key=key,
    )
    assert shown["data"] == {{"customer": {{"{camel}": 1}}, "{camel}Count": {{"visits": 1, "greeting": "欢迎"}}}}
    node = await api.gql(
        "query($v: ID!) {{ node(id: $v) {{ id }} }}",
        {{"v": first["data"]["{camel}Record"]["visit"]["id"]}},
        key=key,
    )
    assert node["data"]["node"] == {{"id": first["data"]["{camel}Record"]["visit"]["id"]}}


async def test_another_tenant_sees_nothing_and_its_ids_are_not_found(
    api, tenant, other_tenant, make_key, enable_plugins
):
    await enable_plugins(tenant, "{id}")
    await enable_plugins(other_tenant, "{id}")
    mine, theirs = await make_key(tenant), await make_key(other_tenant)
    their_customer = await _customer(api, theirs, "B")
    await api.gql(RECORD, {{"i": {{"customerId": their_customer}}}}, key=theirs)
    probe = await api.gql(RECORD, {{"i": {{"customerId": their_customer}}}}, key=mine)
    assert probe["data"]["{camel}Record"] == {{
        "visit": None,
        "errors": [{{"field": "customerId", "code": "not_found"}}],
    }}
    count = await api.gql("{{ {camel}Count {{ visits }} }}", key=mine)
    assert count["data"]["{camel}Count"]["visits"] == 0


async def test_without_the_plugin_its_fields_are_absent_and_sales_count_nothing(
    api, tenant, make_key, deliver_events, owner, store
):
    from core.purchases import record_purchase

    key = await make_key(tenant)
    customer = await _customer(api, key)
    r = await api.gql("{{ {camel}Count {{ visits }} }}", key=key)
    assert r["errors"][0]["extensions"]["code"] == "invalid_query"
    await record_purchase(
        tenant,
        owner,
        {{"store_id": str(store), "customer_id": customer_uuid(customer), "lines": [{{"sku": "x", "unit_price": "1"}}]}},
    )
    await deliver_events(tenant)
    from mendian_{id}.service import visit_counts

    assert await visit_counts(tenant, [customer_uuid(customer)]) == [0]


async def test_a_sale_is_a_visit_once(tenant, owner, store, runtime, enable_plugins, deliver_events):
    from core.customers import create_customer
    from core.purchases import record_purchase

    from mendian_{id}.service import visit_counts

    await enable_plugins(tenant, "{id}")
    c = await create_customer(tenant, owner, {{"name": "x"}})
    sale = {{"store_id": str(store), "customer_id": str(c.id), "lines": [{{"sku": "x", "unit_price": "9.90"}}]}}
    await record_purchase(tenant, owner, sale)
    await deliver_events(tenant)
    await deliver_events(tenant)
    assert await visit_counts(tenant, [c.id]) == [1]


@pytest.mark.parametrize("settings", [{{"goal": 0}}, {{"goal": "ten"}}, {{"colour": "red"}}])
async def test_bad_settings_are_refused(tenant, runtime, enable_plugins, settings):
    with pytest.raises(ValidationFailed):
        await enable_plugins(tenant, "{id}", settings=settings)
    assert "{id}" not in await runtime.enabled(tenant.id)


def customer_uuid(global_id: str) -> str:
    from core import from_global_id

    return str(from_global_id(global_id, "Customer"))


def test_ids_are_typed():
    import uuid

    assert customer_uuid(to_global_id("Customer", uuid.UUID(int=1))) == str(uuid.UUID(int=1))
'''


def scaffold(name: str, directory: Path) -> Path:
    """Write the package ``mendian-<name>`` into ``directory``; its path."""
    plugin_id = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_")
    if not re.match(r"^[a-z][a-z0-9_]{1,30}$", plugin_id):
        raise ValueError(f"{name!r} does not make a valid plugin id")
    parts = plugin_id.split("_")
    camel = parts[0] + "".join(p.title() for p in parts[1:])
    values = {
        "id": plugin_id,
        "dash": plugin_id.replace("_", "-"),
        "title": plugin_id.replace("_", " ").title(),
        "camel": camel,
        "camel_cap": camel[0].upper() + camel[1:],
        "cls": "".join(p.title() for p in parts) + "VisitRow",
        "type": "".join(p.title() for p in parts) + "Visit",
    }
    root = directory / f"mendian-{values['dash']}"
    if root.exists():
        raise FileExistsError(f"{root} exists")
    package = root / f"mendian_{plugin_id}"
    files = {
        root / "pyproject.toml": PYPROJECT,
        root / "README.md": README,
        package / "__init__.py": INIT,
        package / "plugin.py": PLUGIN,
        package / "settings.py": SETTINGS,
        package / "tables.py": TABLES,
        package / "service.py": SERVICE,
        package / "graphql.py": GRAPHQL,
        package / "piccolo_app.py": APP,
        package / "migrations" / "__init__.py": "",
        package / "migrations" / f"{plugin_id}_2026_01_01t00_00_00_000000.py": MIGRATION,
        package / "migrations" / f"{plugin_id}_2026_01_01t00_00_01_000000.py": MIGRATION_KEYS,
        root / "tests" / "test_plugin.py": TESTS,
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
    return root
