"""Request and response bodies of the admin REST API (msgspec; OpenAPI from them)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from tenants.service import (
    TenantInput,
)

__all__ = ["SECURITY_SCHEME"]

SECURITY_SCHEME = "adminToken"

# -- request and response bodies ---------------------------------------------------------------

# PostgreSQL text cannot hold NUL: refuse it in input instead of failing in the database.
NO_NUL = r"^[^\x00]*$"
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Code = Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)]


class ErrorDetail(msgspec.Struct):
    """One error: the input ``field`` at fault (``null`` if none), a stable ``code``, a message."""

    field: str | None
    code: str
    message: str


class ErrorResponse(msgspec.Struct):
    """The body of every error response."""

    errors: list[ErrorDetail]


class TenantCreate(TenantInput, forbid_unknown_fields=True, kw_only=True):
    """A new tenant. ``slug`` is its stable, URL-safe name; the rest has defaults."""

    name: Name
    plan: Code = "standard"
    timezone: Annotated[str, Meta(min_length=1, max_length=64)] = "Asia/Shanghai"
    locale: Annotated[str, Meta(min_length=1, max_length=16)] = "zh-CN"
    currency: Annotated[str, Meta(min_length=3, max_length=3)] = "CNY"
    phone_region: Annotated[str, Meta(min_length=2, max_length=2)] = "CN"


class Tenant(msgspec.Struct):
    """A tenant (a store chain)."""

    id: UUID
    slug: str
    name: str
    status: str
    timezone: str
    locale: str
    currency: str
    phone_region: str
    plan: str


class Module(msgspec.Struct):
    """A plugin as one tenant has it: allowed by its plan, enabled, settings (secrets masked),
    store restriction (``null``: every store) and suspension after repeated failures."""

    id: str
    name: str
    version: str
    description: str
    allowed: bool
    enabled: bool
    settings: dict[str, Any]
    store_ids: list[UUID] | None
    suspended_until: dt.datetime | None
    depends: list[str]


class TenantDetail(Tenant):
    """A tenant with every installed plugin's status for it."""

    modules: list[Module]


class ModuleUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Enable (with the plugins it depends on) or disable a plugin for a tenant.

    ``settings`` replaces the stored settings (omitted: kept; ``"********"`` keeps a secret).
    ``stores`` restricts the plugin to these stores, by code or id (omitted: kept). ``cascade``
    also disables the enabled plugins that depend on it; without it that is refused.
    """

    enabled: bool
    settings: dict[str, Any] | None = None
    stores: Annotated[list[Code], Meta(max_length=1000)] | None = None
    cascade: bool = False


class ModuleChange(msgspec.Struct):
    """The plugin's status after the change and which plugins it enabled or disabled."""

    module: Module
    newly_enabled: list[str]
    newly_disabled: list[str]


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new API key with a role, optionally restricted to one store (code or id)."""

    name: Name
    role: Code
    store: Code | None = None


class ApiKeyCreated(msgspec.Struct):
    """A new key. ``key`` is shown this once: only its hash is stored."""

    id: UUID
    key: str
    name: str
    role: str
    store_id: UUID | None


class ApiKey(msgspec.Struct):
    """An API key without its secret (``key_hint``: its last characters)."""

    id: UUID
    name: str
    role: str
    store_id: UUID | None
    key_hint: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class Plugin(msgspec.Struct):
    """An installed plugin: its manifest, with the JSON Schema of its settings."""

    id: str
    name: str
    version: str
    description: str
    source: str
    depends: list[str]
    optional_depends: list[str]
    settings_schema: dict[str, Any]
    secret_settings: list[str]
    permissions: dict[str, str]
    personal_data: bool


class QuarantinedPlugin(msgspec.Struct):
    """A plugin that did not load, and why."""

    id: str
    reason: str
    source: str


class PluginList(msgspec.Struct):
    """Installed plugins (dependencies first) and quarantined ones."""

    installed: list[Plugin]
    quarantined: list[QuarantinedPlugin]


# -- authentication and errors -----------------------------------------------------------------
