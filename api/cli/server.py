"""``mendian migrate``, ``serve`` and ``worker``."""

from __future__ import annotations

import json
import os
import time

import click

from api.cli._common import console, run_command, with_settings
from api.cli._main import main
from core.config import get_settings


@main.command()
@click.option(
    "--check",
    is_flag=True,
    help="Apply nothing: print every difference between Table classes, migrations and the "
    "database (and the Citus rules on PostgreSQL); exit 1 if there is any.",
)
@click.option(
    "--citus-sql",
    is_flag=True,
    help="Apply nothing: print the Citus create_reference_table / create_distributed_table "
    "calls for every table (reads the PostgreSQL catalog).",
)
@with_settings
def migrate(check: bool, citus_sql: bool) -> None:
    """Apply the migrations of core and every installed plugin."""
    import core.migrate as migrations

    if citus_sql:
        try:
            statements = run_command(lambda: migrations.citus_sql(get_settings()), database=False)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo("\n".join(statements))
        return
    if check:
        differences = run_command(lambda: migrations.check(get_settings()), database=False)
        for difference in differences:
            click.echo(str(difference))
        if differences:
            raise SystemExit(1)
        console.print("[green]tables, migrations and database agree[/green]")
        return
    started = time.perf_counter()
    run_command(lambda: migrations.migrate(get_settings()), database=False)
    console.print(f"[green]migrated[/green] in {time.perf_counter() - started:.1f}s")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True)
@with_settings
def serve(host: str, port: int, workers: int) -> None:
    """Run the HTTP server (migrating the embedded database first)."""
    import uvicorn

    from api.app import SHUTDOWN_GRACE_SECONDS
    from core.migrate import migrate as run_migrate

    settings = get_settings()
    if settings.embedded:
        run_command(lambda: run_migrate(settings), database=False)
    demo_file = settings.home / "demo.json"
    console.print(
        f"Mendian on http://{host}:{port}  (GraphQL and GraphiQL: /graphql, admin REST: /admin, "
        "OpenAPI: /schema, health: /health)"
    )
    if demo_file.exists():
        console.print(f"demo API key: {json.loads(demo_file.read_text())['api_key']}")
    os.environ.setdefault("MENDIAN_HOME", str(settings.home))
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # SIGTERM: requests still running after this are cut off, so the process always ends
        # (then the pool closes within POOL_CLOSE_SECONDS).
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
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
        events, sent = run_command(lambda: w.drain(get_runtime(), slug=slug))
        console.print(f"delivered {events} events, sent {sent} messages")
        return
    from core.jobs import run_worker

    run_command(lambda: run_worker(get_runtime()))
