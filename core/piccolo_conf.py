"""piccolo configuration: the owner engine (migrations) and every installed app.

``PICCOLO_CONF=core.piccolo_conf`` is set by :mod:`core.migrate`; plugins' piccolo apps are
found through their manifests, so ``mendian migrate`` runs them all in dependency order.
"""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from core.config import get_settings
from core.db import Database

DB: Engine = Database(get_settings()).owner_engine

APP_REGISTRY = AppRegistry(apps=["core.piccolo_app"])
