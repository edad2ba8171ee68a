"""Mendian's kernel. This module is the plugin author's API: import from here, not from
submodules, and your plugin keeps working as the core evolves."""

from core.context import Actor, TenantInfo
from core.errors import Conflict, Forbidden, MendianError, NotFound, ValidationFailed
from core.hookspecs import hookimpl, hookspec
from core.plugins.manifest import PluginManifest
from core.types import (
    DeliveryResult,
    KpiDefinition,
    MessageChannel,
    OutboundMessage,
    ScheduledJob,
    SegmentCondition,
)

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "Conflict",
    "DeliveryResult",
    "Forbidden",
    "KpiDefinition",
    "MendianError",
    "MessageChannel",
    "NotFound",
    "OutboundMessage",
    "PluginManifest",
    "ScheduledJob",
    "SegmentCondition",
    "TenantInfo",
    "ValidationFailed",
    "__version__",
    "hookimpl",
    "hookspec",
]
