"""The ``mendian`` command."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table as RichTable

from core.config import ConfigError, get_settings

console = Console()
T = TypeVar("T")


def _run(coro_fn: Callable[[], Awaitable[T]], *, database: bool = True) -> T:
    """Run an async command with the database open; typed errors become clean exits."""
    from core.bootstrap import close_database, open_database
    from core.errors import MendianError

    async def main() -> T:
        if database:
            from core.plugins import load_runtime

            load_runtime()
            await open_database()
        try:
            return await coro_fn()
        finally:
            if database:
                await close_database()

    try:
        return asyncio.run(main())
    except MendianError as exc:
        where = f" ({exc.field})" if exc.field else ""
        console.print(f"[red]error{where}:[/red] {exc.message}")
        sys.exit(2)


def _settings_or_exit() -> Any:
    try:
        return get_settings()
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        sys.exit(2)


def with_settings(fn: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _settings_or_exit()
        return fn(*args, **kwargs)

    return wrapper


@click.group()
def main() -> None:
    """Mendian (门店): customer care for store chains."""


@main.command()
@with_settings
def migrate() -> None:
    """Apply the migrations of core and every installed plugin."""
    from core.migrate import migrate as run_migrate

    started = time.perf_counter()
    _run(lambda: run_migrate(get_settings()), database=False)
    console.print(f"[green]migrated[/green] in {time.perf_counter() - started:.1f}s")


@main.group()
def tenants() -> None:
    """Create, list, suspend and delete tenants."""


@tenants.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--timezone", default="Asia/Shanghai")
@click.option("--locale", default="zh-CN")
@click.option("--currency", default="CNY")
@click.option("--phone-region", default="CN")
@click.option("--plan", default="standard")
@with_settings
def tenants_create(
    slug: str, name: str, timezone: str, locale: str, currency: str, phone_region: str, plan: str
) -> None:
    from tenants.service import create_tenant

    info = _run(
        lambda: create_tenant(
            {
                "slug": slug,
                "name": name,
                "timezone": timezone,
                "locale": locale,
                "currency": currency,
                "phone_region": phone_region,
                "plan": plan,
            }
        )
    )
    console.print(f"created tenant [bold]{info.slug}[/bold] ({info.id})")


@tenants.command("list")
@with_settings
def tenants_list() -> None:
    from tenants.service import list_tenants

    table = RichTable("slug", "name", "status", "plan", "timezone", "id")
    for t in _run(list_tenants):
        table.add_row(t.slug, t.name, t.status, t.plan, t.timezone, str(t.id))
    console.print(table)


@tenants.command("suspend")
@click.argument("slug")
@with_settings
def tenants_suspend(slug: str) -> None:
    """Suspend a tenant: its credentials are refused from now on."""
    from tenants.service import set_tenant_status

    _run(lambda: set_tenant_status(slug, "suspended"))
    console.print(f"suspended {slug}")


@tenants.command("activate")
@click.argument("slug")
@with_settings
def tenants_activate(slug: str) -> None:
    from tenants.service import set_tenant_status

    _run(lambda: set_tenant_status(slug, "active"))
    console.print(f"activated {slug}")


@tenants.command("delete")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_settings
def tenants_delete(slug: str, yes: bool) -> None:
    """Delete a tenant and every row it owns (irreversible)."""
    from tenants.service import delete_tenant

    if not yes:
        click.confirm(f"Delete tenant {slug} and ALL its data?", abort=True)
    removed = _run(lambda: delete_tenant(slug))
    console.print(f"deleted {slug} ({removed} rows)")


@main.group()
def keys() -> None:
    """Create and revoke API keys."""


@keys.command("create")
@click.argument("tenant_slug")
@click.option("--name", required=True)
@click.option("--role", default="integration", show_default=True)
@click.option("--store", "store_code", default=None, help="Restrict the key to one store (code).")
@with_settings
def keys_create(tenant_slug: str, name: str, role: str, store_code: str | None) -> None:
    """Create a key; it is printed once and cannot be shown again."""
    from core.context import Actor
    from core.db import tenant_tx
    from core.errors import ValidationFailed
    from core.tables import Store
    from tenants.credentials import create_api_key
    from tenants.service import get_tenant

    async def go() -> tuple[UUID, str]:
        tenant = await get_tenant(tenant_slug)
        store_id = None
        if store_code:
            async with tenant_tx(tenant.id, write=False):
                row = await Store.select(Store.id).where(Store.code == store_code).first()
            if row is None:
                raise ValidationFailed("unknown store", field="store")
            store_id = row["id"]
        return await create_api_key(
            tenant, Actor(kind="platform", id="cli"), name=name, role=role, store_id=store_id
        )

    key_id, key = _run(go)
    console.print(f"key id {key_id}\n[bold]{key}[/bold]\n(shown once: store it now)")


@keys.command("revoke")
@click.argument("tenant_slug")
@click.argument("key_id", type=click.UUID)
@with_settings
def keys_revoke(tenant_slug: str, key_id: UUID) -> None:
    from core.context import Actor
    from tenants.credentials import revoke_api_key
    from tenants.service import get_tenant

    async def go() -> None:
        await revoke_api_key(
            await get_tenant(tenant_slug), Actor(kind="platform", id="cli"), key_id
        )

    _run(go)
    console.print(f"revoked {key_id}")


@keys.command("list")
@click.argument("tenant_slug")
@with_settings
def keys_list(tenant_slug: str) -> None:
    from tenants.credentials import list_api_keys
    from tenants.service import get_tenant

    async def go() -> list[dict[str, Any]]:
        return await list_api_keys(await get_tenant(tenant_slug))

    table = RichTable("id", "name", "role", "ends with", "created", "revoked")
    for k in _run(go):
        table.add_row(
            str(k["id"]),
            k["name"],
            k["role"],
            k["key_hint"],
            str(k["created_at"])[:19],
            str(k["revoked_at"] or "")[:19],
        )
    console.print(table)


@main.group()
def customers() -> None:
    """Customer data tools."""


@customers.command("import")
@click.argument("tenant_slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the CSV of rejected rows (default: FILE.errors.csv).",
)
@with_settings
def customers_import(tenant_slug: str, file: Path, report: Path | None) -> None:
    """Import customers from CSV or XLSX; bad rows are reported, good rows kept."""
    from core.context import Actor
    from core.importer import import_customers, read_rows
    from tenants.service import get_tenant

    total = sum(1 for _ in read_rows(file))

    async def go() -> Any:
        tenant = await get_tenant(tenant_slug)
        with Progress(console=console) as bar:
            task = bar.add_task(f"importing {file.name}", total=total)
            return await import_customers(
                tenant,
                Actor(kind="platform", id="cli:import"),
                file,
                progress=lambda n: bar.advance(task, n),
            )

    result = _run(go)
    console.print(f"{result.created} created, {len(result.errors)} rejected of {result.total} rows")
    if result.errors:
        out = report or file.with_suffix(file.suffix + ".errors.csv")
        out.write_text(result.as_csv(), encoding="utf-8")
        for e in result.errors[:10]:
            console.print(f"  row {e.row}: {e.field or '-'}: {e.reason}")
        console.print(f"report: {out}")


@main.group()
def rfm() -> None:
    """RFM and lifecycle recomputation."""


@rfm.command("recompute")
@click.argument("tenant_slug")
@with_settings
def rfm_recompute(tenant_slug: str) -> None:
    """Recompute RFM scores, value classes and lifecycle stages of every customer."""
    from core.rfm import recompute_all
    from tenants.service import get_tenant

    async def go() -> float:
        tenant = await get_tenant(tenant_slug)
        started = time.perf_counter()
        await recompute_all(tenant)
        return time.perf_counter() - started

    console.print(f"recomputed in {_run(go):.2f}s")


@main.command()
@click.option("--slug", default="demo", show_default=True)
@click.option("--customers", "count", default=2000, show_default=True)
@click.option("--reset", is_flag=True, help="Delete and recreate the demo tenant if it exists.")
@with_settings
def demo(slug: str, count: int, reset: bool) -> None:
    """Migrate, then seed a demo chain and print its API key."""
    from api.demo import PASSWORD, seed_demo
    from core.migrate import migrate as run_migrate

    _run(lambda: run_migrate(get_settings()), database=False)
    result = _run(
        lambda: seed_demo(
            slug=slug, customers=count, reset=reset, progress=lambda m: console.print(f"  {m}")
        )
    )
    console.print(
        f"[green]demo tenant {result.tenant.slug}[/green]: {result.customers} customers, "
        f"{result.purchases} purchases in {result.seconds:.1f}s (RFM recompute {result.rfm_seconds:.2f}s)\n"
        f"API key (owner): [bold]{result.api_key}[/bold]\n"
        f"staff logins: boss, hq, sh01-store_manager, sh01-cashier, … password {PASSWORD}"
    )
    get_settings().home.mkdir(parents=True, exist_ok=True)
    (get_settings().home / "demo.json").write_text(
        json.dumps({"tenant": slug, "api_key": result.api_key})
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True)
@with_settings
def serve(host: str, port: int, workers: int) -> None:
    """Run the HTTP server (migrating the embedded database first)."""
    import uvicorn

    from core.migrate import migrate as run_migrate

    settings = get_settings()
    if settings.embedded:
        _run(lambda: run_migrate(settings), database=False)
    demo_file = settings.home / "demo.json"
    console.print(
        f"Mendian on http://{host}:{port}  (GraphQL and GraphiQL: /graphql, admin REST: /admin, "
        "OpenAPI: /schema, health: /health)"
    )
    if demo_file.exists():
        console.print(f"demo API key: {json.loads(demo_file.read_text())['api_key']}")
    os.environ.setdefault("MENDIAN_HOME", str(settings.home))
    uvicorn.run(
        "api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


@main.command()
@click.option("--drain", is_flag=True, help="Process everything due once, then exit.")
@click.option("--tenant", "slug", default=None, help="Only this tenant (with --drain).")
@click.option(
    "--nice",
    default=0,
    show_default=True,
    type=click.IntRange(0, 19),
    help="Lower this process's CPU priority: on cores shared with the API, background "
    "delivery yields to requests and catches up in the gaps.",
)
@with_settings
def worker(drain: bool, slug: str | None, nice: int) -> None:
    """Deliver events, send messages and run scheduled jobs (SAQ on Redis when REDIS_URL is set)."""
    import os

    from api import worker as w
    from core.plugins import get_runtime

    if nice:
        os.nice(nice)

    if drain:
        events, sent = _run(lambda: w.drain(get_runtime(), slug=slug))
        console.print(f"delivered {events} events, sent {sent} messages")
        return
    from core.jobs import run_worker

    _run(lambda: run_worker(get_runtime()))


@main.group()
def plugins() -> None:
    """Installed plugins and their enablement per tenant."""


@plugins.command("list")
@click.option("--tenant", "slug", default=None, help="Show enablement for this tenant.")
@with_settings
def plugins_list(slug: str | None) -> None:
    from core.plugins import get_runtime
    from tenants.modules import list_modules
    from tenants.service import get_tenant

    async def go() -> Any:
        runtime = get_runtime()
        return runtime, (await list_modules(await get_tenant(slug), runtime) if slug else None)

    runtime, modules = _run(go)
    table = RichTable(
        "id", "name", "version", "depends", "source", *(("allowed", "enabled") if modules else ())
    )
    status = {m.id: m for m in modules or []}
    for pid in runtime.registry.dependency_order():
        lp = runtime.registry.plugins[pid]
        extra = (str(status[pid].allowed), str(status[pid].enabled)) if modules else ()
        table.add_row(
            pid,
            lp.manifest.name,
            lp.manifest.version,
            ", ".join(lp.manifest.depends),
            lp.source,
            *extra,
        )
    console.print(table)
    for q in runtime.registry.quarantined.values():
        console.print(f"[red]quarantined[/red] {q.id}: {q.reason}")


@plugins.command("enable")
@click.argument("tenant_slug")
@click.argument("plugin_id")
@click.option("--settings", "settings_json", default=None, help="Settings as JSON.")
@click.option("--store", "store_codes", multiple=True, help="Restrict to these stores (codes).")
@click.option("--yes", is_flag=True, help="Enable the dependencies shown without asking.")
@with_settings
def plugins_enable(
    tenant_slug: str,
    plugin_id: str,
    settings_json: str | None,
    store_codes: tuple[str, ...],
    yes: bool,
) -> None:
    from core.context import Actor
    from core.db import tenant_tx
    from core.errors import ValidationFailed
    from core.plugins import get_runtime
    from core.tables import Store
    from tenants.modules import enable_module, plan_enable
    from tenants.service import get_tenant

    settings = json.loads(settings_json) if settings_json else None

    async def go() -> list[str]:
        runtime = get_runtime()
        tenant = await get_tenant(tenant_slug)
        closure = await plan_enable(tenant, runtime, plugin_id)
        deps = [p for p in closure if p != plugin_id]
        if deps:
            console.print(f"{plugin_id} needs: {', '.join(deps)}")
            if not yes and not click.confirm("Enable them too?"):
                raise ValidationFailed("dependencies not confirmed", field="plugin_id")
        store_ids = None
        if store_codes:
            async with tenant_tx(tenant.id, write=False):
                rows = await Store.select(Store.id, Store.code).where(
                    Store.code.is_in(list(store_codes))
                )
            if len(rows) != len(set(store_codes)):
                raise ValidationFailed("unknown store code", field="store")
            store_ids = [r["id"] for r in rows]
        return await enable_module(
            tenant,
            Actor(kind="platform", id="cli"),
            runtime,
            plugin_id,
            settings=settings,
            store_ids=store_ids,
            include_dependencies=True,
        )

    console.print(f"enabled: {', '.join(_run(go)) or '(already enabled; settings updated)'}")


@plugins.command("disable")
@click.argument("tenant_slug")
@click.argument("plugin_id")
@click.option("--cascade", is_flag=True, help="Also disable the plugins that depend on it.")
@with_settings
def plugins_disable(tenant_slug: str, plugin_id: str, cascade: bool) -> None:
    from core.context import Actor
    from core.plugins import get_runtime
    from tenants.modules import disable_module
    from tenants.service import get_tenant

    async def go() -> list[str]:
        return await disable_module(
            await get_tenant(tenant_slug),
            Actor(kind="platform", id="cli"),
            get_runtime(),
            plugin_id,
            cascade=cascade,
        )

    console.print(f"disabled: {', '.join(_run(go))} (data kept)")


@plugins.command("doctor")
@click.option("--tenant", "slug", default=None, help="Also show this tenant's plugin problems.")
@with_settings
def plugins_doctor(slug: str | None) -> None:
    """Check installed plugins: quarantine, privacy hooks, migrations; and a tenant's problems."""
    from api.doctor import diagnose

    findings, ok = _run(lambda: diagnose(slug))
    for level, text in findings:
        colour = {"ok": "green", "warn": "yellow", "error": "red"}[level]
        console.print(f"[{colour}]{level:5}[/{colour}] {text}")
    sys.exit(0 if ok else 1)


@plugins.command("new")
@click.argument("name")
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path(".")
)
def plugins_new(name: str, directory: Path) -> None:
    """Scaffold a plugin package NAME (manifest, settings, table + migration, hook, tests)."""
    from api.scaffold import scaffold

    path = scaffold(name, directory)
    console.print(
        f"created {path}\nnext: pip install -e {path} && mendian migrate && pytest {path}"
    )


@main.group()
def graphql() -> None:
    """The GraphQL schema."""


@graphql.command("sdl")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write schema.core.graphql and schema.all.graphql here (default: print the core one).",
)
def graphql_sdl(out_dir: Path | None) -> None:
    """The SDL of the core-only schema and of the schema with every installed plugin."""
    from api.graphql.sdl import export_sdl

    files = export_sdl()
    if out_dir is None:
        click.echo(files["schema.core.graphql"])
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out_dir / name).write_text(text)
        console.print(f"wrote {out_dir / name}")


@main.group()
def bench() -> None:
    """Benchmarks that print figures (run them on an otherwise idle machine)."""


@bench.command("plugins")
@click.option("--calls", default=2000, show_default=True)
@click.option("--messages", default=10_000, show_default=True)
@with_settings
def bench_plugins_command(calls: int, messages: int) -> None:
    """Hook dispatch overhead per call and message-outbox throughput."""
    from api.bench import bench_plugins
    from core.migrate import migrate as run_migrate

    _run(lambda: run_migrate(get_settings()), database=False)
    console.print(f"backend: {get_settings().database.dialect}")
    _run(lambda: bench_plugins(console.print, calls=calls, messages=messages))


@bench.command("api")
@click.option("--seconds", default=15, show_default=True)
@click.option("--connections", default=16, show_default=True)
@click.option("--customers", default=2000, show_default=True)
@with_settings
def bench_api_command(seconds: int, connections: int, customers: int) -> None:
    """customerByPhone over HTTP (wrk): Mendian next to a minimal litestar + asyncpg endpoint."""
    from api.bench_api import bench_api

    try:
        bench_api(console.print, seconds=seconds, connections=connections, customers=customers)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@bench.command("loyalty")
@click.option("--seconds", default=15, show_default=True)
@click.option("--connections", default=16, show_default=True)
@click.option("--workers", default=2, show_default=True, help="Server processes (one per core).")
@click.option("--customers", default=2000, show_default=True, help="Members buying at random.")
@with_settings
def bench_loyalty_command(seconds: int, connections: int, workers: int, customers: int) -> None:
    """purchaseRecord with points accrual (wrk): throughput, p99, lost or doubled accruals."""
    from api.bench_api import bench_loyalty

    try:
        bench_loyalty(
            console.print,
            seconds=seconds,
            connections=connections,
            workers=workers,
            customers=customers,
        )
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


def _add_plugin_commands() -> None:
    """Sub-commands contributed by installed plugins (``register_cli``), under ``mendian <plugin>``."""
    from core import __version__
    from core.plugins import PluginRegistry

    try:
        registry = PluginRegistry(core_version=__version__).discover()
    except Exception:  # a broken plugin must not break the CLI (doctor reports it)
        return
    for _plugin_id, commands in registry.collect_all("register_cli"):
        for command in commands or []:
            if command.name not in main.commands:
                main.add_command(command)


def run() -> None:
    """Console entry point: ``mendian``."""
    _add_plugin_commands()
    main()


if __name__ == "__main__":  # pragma: no cover
    run()
