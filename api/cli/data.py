"""Tenants, API keys, customer import, RFM and the demo chain."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import click
from rich.progress import Progress
from rich.table import Table as RichTable

from api.cli._common import console, run_command, with_settings
from api.cli._main import main
from core.config import get_settings


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

    info = run_command(
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
    for t in run_command(list_tenants):
        table.add_row(t.slug, t.name, t.status, t.plan, t.timezone, str(t.id))
    console.print(table)


@tenants.command("suspend")
@click.argument("slug")
@with_settings
def tenants_suspend(slug: str) -> None:
    """Suspend a tenant: its credentials are refused from now on."""
    from tenants.service import set_tenant_status

    run_command(lambda: set_tenant_status(slug, "suspended"))
    console.print(f"suspended {slug}")


@tenants.command("activate")
@click.argument("slug")
@with_settings
def tenants_activate(slug: str) -> None:
    from tenants.service import set_tenant_status

    run_command(lambda: set_tenant_status(slug, "active"))
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
    removed = run_command(lambda: delete_tenant(slug))
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

    key_id, key = run_command(go)
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

    run_command(go)
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
    for k in run_command(go):
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

    result = run_command(go)
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

    console.print(f"recomputed in {run_command(go):.2f}s")


@main.command()
@click.option("--slug", default="demo", show_default=True)
@click.option("--customers", "count", default=2000, show_default=True)
@click.option("--reset", is_flag=True, help="Delete and recreate the demo tenant if it exists.")
@with_settings
def demo(slug: str, count: int, reset: bool) -> None:
    """Migrate, then seed a demo chain with a year of activity in every built-in module, and
    print how to look at it (GraphiQL, a staff login, last week's report)."""
    from api.demo import PASSWORD, seed_demo
    from core.migrate import migrate as run_migrate
    from core.plugins import current_runtime

    run_command(lambda: run_migrate(get_settings()), database=False)
    with Progress(console=console, transient=False) as bars:
        stages: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in stages:
                stages[stage] = bars.add_task(stage, total=total)
            bars.update(stages[stage], completed=done, total=total)

        result = run_command(
            lambda: seed_demo(
                slug=slug,
                customers=count,
                reset=reset,
                runtime=current_runtime(),
                progress=progress,
            )
        )
    base = get_settings().public_url.rstrip("/")
    modules = ", ".join(
        f"{p} ({result.plugin_seconds[p]:.1f}s)" if p in result.plugin_seconds else p
        for p in result.plugins
    )
    console.print(
        f"[green]demo tenant {result.tenant.slug}[/green]: {result.customers} customers, "
        f"{result.purchases} purchases in {result.seconds:.1f}s (RFM recompute {result.rfm_seconds:.2f}s)\n"
        f"modules: {modules or 'none installed'}\n"
        f"GraphiQL: [bold]{base}/graphql[/bold] (after `mendian serve`; header Authorization: "
        f"Bearer <API key>)\n"
        f"API key (owner): [bold]{result.api_key}[/bold]\n"
        f"staff logins (password {PASSWORD}): hq (operations), sh01-manager, sh01-cashier1, "
        f"sh01-service, … (tenant {result.tenant.slug})\n"
        f"last week's chain report: [bold]{base}{result.report_path}[/bold]\n"
        f"last week's SH01 report: {base}{result.store_report_path}",
        soft_wrap=True,  # links stay whole, to copy
    )
    get_settings().home.mkdir(parents=True, exist_ok=True)
    (get_settings().home / "demo.json").write_text(
        json.dumps({"tenant": slug, "api_key": result.api_key})
    )
