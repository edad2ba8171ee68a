"""The ``mendian`` command: one module per group of sub-commands, registered on import."""

from __future__ import annotations

from api.cli import calendar, data, dev, plugins, server
from api.cli._main import main

__all__ = ["main", "run"]

_GROUPS = (calendar, data, dev, plugins, server)  # importing them registers their commands


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
