"""``mendian plugins …``: installed plugins and their enablement per tenant."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table as RichTable

from api.cli._common import console, run_command, with_settings
from api.cli._main import main


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

    runtime, modules = run_command(go)
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

    console.print(f"enabled: {', '.join(run_command(go)) or '(already enabled; settings updated)'}")


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

    console.print(f"disabled: {', '.join(run_command(go))} (data kept)")


@plugins.command("doctor")
@click.option("--tenant", "slug", default=None, help="Also show this tenant's plugin problems.")
@with_settings
def plugins_doctor(slug: str | None) -> None:
    """Check installed plugins: quarantine, privacy hooks, migrations; and a tenant's problems."""
    from api.doctor import diagnose

    findings, ok = run_command(lambda: diagnose(slug))
    for level, text in findings:
        colour = {"ok": "green", "warn": "yellow", "error": "red"}[level]
        console.print(f"[{colour}]{level:5}[/{colour}] {text}")
    sys.exit(0 if ok else 1)


@plugins.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "--directory",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Where to create the package (default: here).",
)
def plugins_new(name: str, directory: Path) -> None:
    """Scaffold a plugin package NAME (manifest, settings, table + migration, hook, tests)."""
    from api.scaffold import scaffold

    path = scaffold(name, directory)
    console.print(
        f"created {path}\nnext: pip install -e {path} && mendian migrate && pytest {path}"
    )


@plugins.command("hooks")
def plugins_hooks() -> None:
    """Every hook a plugin can implement (the core's and installed plugins'), as Markdown."""
    from api.hookref import hook_table

    click.echo(hook_table(), nl=False)
