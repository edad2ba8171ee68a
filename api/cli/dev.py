"""``mendian graphql sdl`` and ``mendian bench …``."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli._common import console, run_command, with_settings
from api.cli._main import main
from core.config import get_settings


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
    from api.bench.plugins import bench_plugins
    from core.migrate import migrate as run_migrate

    run_command(lambda: run_migrate(get_settings()), database=False)
    console.print(f"backend: {get_settings().database.dialect}")
    run_command(lambda: bench_plugins(console.print, calls=calls, messages=messages))


@bench.command("api")
@click.option("--seconds", default=15, show_default=True)
@click.option("--connections", default=16, show_default=True)
@click.option("--customers", default=2000, show_default=True)
@click.option("--profile", is_flag=True, help="Sample Mendian's server with py-spy (installed).")
@with_settings
def bench_api_command(seconds: int, connections: int, customers: int, profile: bool) -> None:
    """customerByPhone over HTTP (wrk): Mendian next to a minimal litestar + asyncpg endpoint."""
    from api.bench.http import bench_api

    try:
        bench_api(
            console.print,
            seconds=seconds,
            connections=connections,
            customers=customers,
            profile=profile,
        )
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
    from api.bench.http import bench_loyalty

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


@bench.command("calendar")
@click.option("--stores", default=50, show_default=True)
@click.option("--questions", default=10_000, show_default=True)
@with_settings
def bench_calendar_command(stores: int, questions: int) -> None:
    """Calendar arithmetic: due dates, elapsed business time, festivals, lunar birthdays."""
    from api.bench.calendar import bench_calendar
    from core.migrate import migrate as run_migrate

    run_command(lambda: run_migrate(get_settings()), database=False)
    run_command(lambda: bench_calendar(console.print, stores=stores, questions=questions))


@bench.command("history")
@click.option("--history", default=5000, show_default=True, help="Past purchases of the regular.")
@click.option("--runs", default=200, show_default=True)
@with_settings
def bench_history_command(history: int, runs: int) -> None:
    """A sale to a customer with a long purchase history next to one to a new customer."""
    from api.bench.history import bench_history
    from core.migrate import migrate as run_migrate

    run_command(lambda: run_migrate(get_settings()), database=False)
    run_command(lambda: bench_history(console.print, history=history, runs=runs))


@bench.command("rfm")
@click.option("--customers", default=1_000_000, show_default=True)
@click.option("--per", default=10, show_default=True, help="Purchases per customer (average).")
@click.option("--pages", default=50, show_default=True, help="Customer pages timed per filter.")
@click.option("--reuse", default=None, help="Time again on a tenant an earlier run generated.")
@with_settings
def bench_rfm_command(customers: int, per: int, pages: int, reuse: str | None) -> None:
    """A million customers generated in the database: RFM recompute, segment count, pages."""
    from api.bench.rfm import bench_rfm
    from core.migrate import migrate as run_migrate

    run_command(lambda: run_migrate(get_settings()), database=False)
    run_command(
        lambda: bench_rfm(console.print, customers=customers, per=per, pages=pages, reuse=reuse)
    )


@bench.command("tenants")
@click.option("--tenants", default=10_000, show_default=True)
@click.option("--few", default=10, show_default=True, help="Tenants in the first phase.")
@click.option("--seconds", default=20, show_default=True)
@click.option("--connections", default=16, show_default=True)
@click.option(
    "--state",
    type=click.Path(path_type=Path),
    default=None,
    help="Save the seeded tenants (and their keys) here, or reuse them from an earlier run.",
)
@with_settings
def bench_tenants_command(
    tenants: int, few: int, seconds: int, connections: int, state: Path | None
) -> None:
    """The mixed workload over few tenants, then over many: latency, memory, schema choice."""
    from api.bench.tenants import bench_tenants
    from core.migrate import migrate as run_migrate

    run_command(lambda: run_migrate(get_settings()), database=False)
    try:
        bench_tenants(
            console.print,
            tenants=tenants,
            few=few,
            seconds=seconds,
            connections=connections,
            state=state,
        )
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@bench.command("reports")
@click.option("--slug", default="demo", show_default=True)
@click.option("--runs", default=10, show_default=True)
@with_settings
def bench_reports_command(slug: str, runs: int) -> None:
    """The weekly report on the demo chain: data, page and workbook, store and chain."""
    from api.bench.reports import bench_reports

    run_command(lambda: bench_reports(console.print, slug=slug, runs=runs))


@bench.command("surveys")
@click.option("--responses", default=100_000, show_default=True)
@click.option("--stores", default=20, show_default=True)
@click.option("--runs", default=20, show_default=True, help="surveyResults calls timed.")
@click.option("--answers", default=2000, show_default=True, help="surveyAnswer calls timed.")
@click.option("--connections", default=16, show_default=True)
@with_settings
def bench_surveys_command(
    responses: int, stores: int, runs: int, answers: int, connections: int
) -> None:
    """surveyResults over many responses and answers per second through surveyAnswer."""
    from api.bench.surveys import bench_surveys
    from core.migrate import migrate as run_migrate

    run_command(lambda: run_migrate(get_settings()), database=False)
    try:
        run_command(
            lambda: bench_surveys(
                console.print,
                responses=responses,
                stores=stores,
                runs=runs,
                answers=answers,
                connections=connections,
            )
        )
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@bench.command("care")
@click.option("--customers", default=100_000, show_default=True)
@with_settings
def bench_care_command(customers: int) -> None:
    """A care campaign's fan-out into the outbox: messages/s for a large audience (PostgreSQL)."""
    from api.bench.care import bench_care
    from core.migrate import migrate as run_migrate

    run_command(lambda: run_migrate(get_settings()), database=False)
    run_command(lambda: bench_care(console.print, customers=customers))


@bench.command("complaints")
@click.option("--complaints", default=10_000, show_default=True)
@click.option("--stores", default=20, show_default=True)
@with_settings
def bench_complaints_command(complaints: int, stores: int) -> None:
    """The complaints SLA job over many open complaints: escalations and seconds (PostgreSQL)."""
    from api.bench.complaints import bench_complaints
    from core.migrate import migrate as run_migrate

    run_command(lambda: run_migrate(get_settings()), database=False)
    run_command(lambda: bench_complaints(console.print, complaints=complaints, stores=stores))


@main.group("surveys")
def surveys_group() -> None:
    """Surveys (the surveys plugin)."""


async def export_survey(slug: str, survey_id: str, fmt: str, out: Path) -> int:
    """Write a survey's responses to ``out`` (``csv`` or ``xlsx``); how many rows."""
    import uuid

    from core.context import Actor
    from core.errors import NotFound
    from plugins.surveys.exports import export_rows, render
    from tenants.service import get_tenant

    tenant = await get_tenant(slug)
    try:
        uid = uuid.UUID(survey_id)
    except ValueError:
        raise NotFound("survey not found", field="survey") from None
    header, rows = await export_rows(tenant, Actor.system("cli"), uid)
    out.write_bytes(render(header, rows, fmt))  # noqa: ASYNC240  # a CLI command, once
    return len(rows)


@surveys_group.command("export")
@click.argument("tenant")
@click.argument("survey_id")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_settings
def surveys_export(tenant: str, survey_id: str, fmt: str, out: Path) -> None:
    """Export a survey's responses (one row per response, one column per question)."""
    count = run_command(lambda: export_survey(tenant, survey_id, fmt, out))
    console.print(f"wrote {count} responses to {out}")
