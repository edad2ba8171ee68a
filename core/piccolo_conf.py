"""piccolo configuration: the owner engine (migrations) and every installed app.

``PICCOLO_CONF=core.piccolo_conf`` is set by :mod:`core.migrate`; plugins' piccolo apps are
found through their manifests, so ``mendian migrate`` runs them all in dependency order.
"""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from core.config import get_settings
from core.db import Database

DB: Engine = Database(get_settings()).owner_engine


def _plugin_apps() -> list[str]:
    from core import __version__
    from core.plugins.registry import PluginRegistry

    return PluginRegistry(core_version=__version__).discover().piccolo_apps()


APP_REGISTRY = AppRegistry(apps=["core.piccolo_app", *_plugin_apps()])
