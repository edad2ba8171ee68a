"""The static description of a plugin (PLUG-2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import msgspec
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = ["RESERVED_IDS", "ManifestError", "PluginManifest"]

PLUGIN_ID = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
# Core table names and namespaces a plugin id may not take (it prefixes tables, types, keys).
RESERVED_IDS = frozenset(
    {
        "core",
        "tenant",
        "tenants",
        "store",
        "staff",
        "role",
        "api",
        "api_key",
        "customer",
        "purchase",
        "interaction",
        "task",
        "segment",
        "consent",
        "audit",
        "event",
        "message",
        "admin",
        "plugin",
        "mendian",
    }
)


class ManifestError(ValueError):
    """The manifest is malformed; the message says which field."""


@dataclass(frozen=True)
class PluginManifest:
    """What a plugin declares about itself.

    ``settings`` is a ``msgspec.Struct`` subclass (its JSON Schema is exported for UIs and
    validates tenants' settings); ``secret_settings`` names fields that are write-only (never
    returned). ``hookspecs`` is a module or class holding the plugin's own hookspecs, so others
    integrate through hooks, never imports. ``piccolo_app`` is the dotted path of the plugin's
    piccolo ``APP_CONFIG`` (its tables and migrations).
    """

    id: str
    name: str
    version: str
    description: str = ""
    requires_core: str = ">=0.1"
    depends: tuple[str, ...] = ()
    optional_depends: tuple[str, ...] = ()
    settings: type[msgspec.Struct] | None = None
    secret_settings: tuple[str, ...] = ()
    personal_data: bool = False
    permissions: dict[str, str] = field(default_factory=dict)
    events: tuple[str, ...] = ()
    hookspecs: Any = None
    piccolo_app: str | None = None
    append_only: tuple[str, ...] = ()  # tables the app role may only read and insert into

    def validate(self, core_version: str) -> None:
        """Raise :class:`ManifestError` if malformed or incompatible with this core."""
        if not PLUGIN_ID.match(self.id):
            raise ManifestError(f"id {self.id!r} must match {PLUGIN_ID.pattern}")
        if self.id in RESERVED_IDS:
            raise ManifestError(f"id {self.id!r} is reserved by the core")
        if not self.name:
            raise ManifestError("name is required")
        try:
            Version(self.version)
        except InvalidVersion:
            raise ManifestError(f"version {self.version!r} is not a PEP 440 version") from None
        try:
            spec = SpecifierSet(self.requires_core)
        except InvalidSpecifier:
            raise ManifestError(
                f"requires_core {self.requires_core!r} is not a PEP 440 specifier"
            ) from None
        if Version(core_version) not in spec:
            raise ManifestError(f"requires core {self.requires_core}, this core is {core_version}")
        if self.id in self.depends or self.id in self.optional_depends:
            raise ManifestError("a plugin cannot depend on itself")
        if self.settings is not None and not (
            isinstance(self.settings, type) and issubclass(self.settings, msgspec.Struct)
        ):
            raise ManifestError("settings must be a msgspec.Struct subclass")
        fields = set(self.settings.__struct_fields__) if self.settings else set()
        if set(self.secret_settings) - fields:
            raise ManifestError(
                f"secret_settings names unknown fields: {sorted(set(self.secret_settings) - fields)}"
            )
        for perm in self.permissions:
            if not perm.startswith(f"{self.id}:"):
                raise ManifestError(f"permission {perm!r} must start with '{self.id}:'")
        for table in self.append_only:
            if not table.startswith(f"{self.id}_"):
                raise ManifestError(f"append-only table {table!r} must start with '{self.id}_'")
        for event in self.events:
            if not event.startswith(f"{self.id}."):
                raise ManifestError(f"event {event!r} must start with '{self.id}.'")

    def settings_schema(self) -> dict[str, Any]:
        """JSON Schema of the settings; secret fields are marked ``writeOnly``."""
        if self.settings is None:
            return {"type": "object", "properties": {}, "additionalProperties": False}
        schema: dict[str, Any] = msgspec.json.schema(self.settings)
        defs = schema.get("$defs", {})
        target = defs.get(self.settings.__name__, schema)
        for name in self.secret_settings:
            prop = target.get("properties", {}).get(name)
            if prop is not None:
                prop["writeOnly"] = True
                prop["x-secret"] = True
        return schema

    def default_settings(self) -> dict[str, Any]:
        if self.settings is None:
            return {}
        try:
            return dict(msgspec.to_builtins(msgspec.convert({}, self.settings)))
        except msgspec.ValidationError:
            return {}

    def typed_settings(self, settings: dict[str, Any]) -> Any:
        """``settings`` (stored JSON over the defaults) as the validated ``settings`` struct
        (``None`` when the plugin has none)."""
        if self.settings is None:
            return None
        return msgspec.convert(self.default_settings() | settings, self.settings, str_keys=True)

    def public_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Settings as shown to callers: secrets replaced by ``"********"`` when set."""
        return {
            k: ("********" if k in self.secret_settings and v else v) for k, v in settings.items()
        }
