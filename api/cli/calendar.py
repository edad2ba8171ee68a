"""``mendian calendar …``: the platform's holiday data (load a year's official schedule before
the library ships it, export one, check the next weeks)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from api.cli._common import console, run_command, with_settings
from api.cli._main import main


@main.group()
def calendar() -> None:
    """Holiday data: official schedules, loaded files, estimated years."""


@calendar.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_settings
def calendar_load(file: Path) -> None:
    """Load a year's official schedule (JSON or CSV: every off day and make-up working day)."""
    from core.calendars import load_schedule, parse_schedule
    from core.context import Actor

    csv = file.suffix.lower() == ".csv"
    schedule = parse_schedule(file.read_bytes(), fmt="csv" if csv else "json")
    loaded = run_command(lambda: load_schedule(Actor(kind="platform", id="cli"), schedule))
    console.print(
        f"loaded {loaded.year} ({loaded.region}): {loaded.off_days} days off, "
        f"{loaded.workdays} make-up working days; replaced {loaded.replaced} rows"
    )


@calendar.command("export")
@click.argument("year", type=int)
def calendar_export(year: int) -> None:
    """Print a year the library knows, in the file format `load` reads (JSON)."""
    import msgspec

    from core.calendars import export_schedule

    click.echo(msgspec.json.format(msgspec.json.encode(export_schedule(year))).decode())


@calendar.command("check")
@click.option("--days", default=60, show_default=True, help="How far ahead to look.")
@with_settings
def calendar_check(days: int) -> None:
    """Exit 1 when a year touching the next DAYS days has no official or loaded schedule."""
    from core.calendars import calendar_data_gaps

    gaps = run_command(lambda: calendar_data_gaps(days=days))
    for gap in gaps:
        console.print(f"[yellow]warn[/yellow] {gap.message}")
    if gaps:
        console.print("load the year's schedule: mendian calendar load FILE")
        sys.exit(1)
    console.print(f"[green]ok[/green] the next {days} days have official holiday data")
