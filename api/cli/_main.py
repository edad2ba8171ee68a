"""The ``mendian`` command group."""

from __future__ import annotations

import click

__all__ = ["main"]


@click.group()
def main() -> None:
    """Mendian (门店): customer care for store chains."""
