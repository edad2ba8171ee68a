"""Settings read from the environment, validated once at startup.

Embedded default (no ``DATABASE_URL``): a SQLite file under ``MENDIAN_HOME`` and in-process
stores; a secret key and admin token are generated on first start and kept in
``MENDIAN_HOME/secrets.json`` (mode 0600) so that a fresh machine runs with no configuration.
Production (``DATABASE_URL=postgres://…``): ``MENDIAN_SECRET_KEY`` and ``MENDIAN_ADMIN_TOKEN``
are required; a missing or malformed value is a :class:`ConfigError` naming the variable.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import msgspec

__all__ = ["ConfigError", "DatabaseURL", "Settings", "get_settings", "load_settings"]

MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


class DatabaseURL(msgspec.Struct, frozen=True):
    """A parsed ``DATABASE_URL``."""

    dialect: str  # "sqlite" | "postgres"
    path: str = ""  # sqlite file
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str | None = None
    database: str = ""

    @classmethod
    def parse(cls, url: str) -> DatabaseURL:
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            path = unquote(parts.netloc + parts.path)
            if path.startswith("/") and parts.netloc == "":
                # sqlite:///relative.db -> "relative.db"; sqlite:////abs.db -> "/abs.db"
                path = path[1:]
            if not path:
                raise ConfigError("DATABASE_URL: sqlite URL needs a file path (sqlite:///file.db)")
            return cls(dialect="sqlite", path=path)
        if parts.scheme in {"postgres", "postgresql", "postgresql+asyncpg"}:
            database = parts.path.lstrip("/")
            if not database:
                raise ConfigError("DATABASE_URL: a database name is required (postgres://host/db)")
            try:
                port = parts.port or 5432
            except ValueError as exc:
                raise ConfigError(f"DATABASE_URL: bad port ({exc})") from None
            return cls(
                dialect="postgres",
                host=parts.hostname or "127.0.0.1",
                port=port,
                user=unquote(parts.username) if parts.username else "postgres",
                password=unquote(parts.password) if parts.password else None,
                database=database,
            )
        raise ConfigError(
            f"DATABASE_URL: unsupported scheme {parts.scheme!r} (use sqlite:/// or postgres://)"
        )

    def as_url(self) -> str:
        """Back to a ``DATABASE_URL`` (for child processes)."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.path}"
        auth = self.user + (f":{quote(self.password, safe='')}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{self.database}"

    def asyncpg_config(self, *, user: str | None = None, password: str | None = None) -> dict:
        """Connection keywords for asyncpg, optionally as another role."""
        config: dict[str, object] = {
            "host": self.host,
            "port": self.port,
            "user": user or self.user,
            "database": self.database,
        }
        pw = password if user else self.password
        if pw:
            config["password"] = pw
        return config


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything Mendian reads from the environment."""

    home: Path
    database: DatabaseURL
    redis_url: str | None
    secret_keys: tuple[str, ...]
    admin_token: str
    app_role: str = "mendian_app"
    app_role_password: str | None = None
    strict_plugins: bool = False
    environment: str = "development"
    db_pool_size: int = 10
    rate_limit_key: str = "1200/minute"
    rate_limit_tenant: str = "6000/minute"
    query_cost_limit: int = 5000
    public_url: str = "http://localhost:8000"  # where links in messages point (reports)
    webhook_allow_private: bool = False  # webhooks to loopback/private addresses (on-premise)

    @property
    def secret_key(self) -> str:
        """The current key; the others only decrypt data written before a rotation."""
        return self.secret_keys[0]

    @property
    def embedded(self) -> bool:
        return self.database.dialect == "sqlite"


def _secrets_file(home: Path) -> dict[str, str]:
    """Load, or create once, the generated secrets of the embedded default."""
    path = home / "secrets.json"
    if path.exists():
        data = json.loads(path.read_text())
        return {str(k): str(v) for k, v in data.items()}
    home.mkdir(parents=True, exist_ok=True)
    data = {
        "MENDIAN_SECRET_KEY": secrets.token_urlsafe(48),
        "MENDIAN_ADMIN_TOKEN": secrets.token_urlsafe(32),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    return data


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in {"", "0", "false", "no", "off"}:
        return False
    if raw in {"1", "true", "yes", "on"}:
        return True
    raise ConfigError(f"{name}: expected 1/0/true/false, got {raw!r}")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate settings; raises :class:`ConfigError` with the variable's name."""
    env = os.environ if env is None else env
    home = Path(env.get("MENDIAN_HOME", ".mendian")).expanduser()
    url = env.get("DATABASE_URL", "").strip()
    database = (
        DatabaseURL.parse(url)
        if url
        else DatabaseURL(dialect="sqlite", path=str(home / "mendian.sqlite3"))
    )
    redis_url = env.get("REDIS_URL", "").strip() or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"REDIS_URL: expected redis://host:port/db, got {redis_url!r}")

    secret = env.get("MENDIAN_SECRET_KEY", "").strip()
    admin = env.get("MENDIAN_ADMIN_TOKEN", "").strip()
    if database.dialect == "sqlite" and (not secret or not admin):
        generated = _secrets_file(home)
        secret = secret or generated["MENDIAN_SECRET_KEY"]
        admin = admin or generated["MENDIAN_ADMIN_TOKEN"]
    if not secret:
        raise ConfigError("MENDIAN_SECRET_KEY is required when DATABASE_URL is set")
    if not admin:
        raise ConfigError("MENDIAN_ADMIN_TOKEN is required when DATABASE_URL is set")
    old = tuple(k.strip() for k in env.get("MENDIAN_OLD_SECRET_KEYS", "").split(",") if k.strip())
    for name, value in [
        ("MENDIAN_SECRET_KEY", secret),
        *(("MENDIAN_OLD_SECRET_KEYS", k) for k in old),
    ]:
        if len(value) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{name}: must be at least {MIN_SECRET_LENGTH} characters")
    if len(admin) < 16:
        raise ConfigError("MENDIAN_ADMIN_TOKEN: must be at least 16 characters")
    try:
        pool = int(env.get("MENDIAN_DB_POOL_SIZE", "10"))
    except ValueError:
        raise ConfigError("MENDIAN_DB_POOL_SIZE: expected an integer") from None
    if not 1 <= pool <= 500:
        raise ConfigError("MENDIAN_DB_POOL_SIZE: expected 1..500")
    return Settings(
        home=home,
        database=database,
        redis_url=redis_url,
        secret_keys=(secret, *old),
        admin_token=admin,
        app_role=env.get("MENDIAN_DB_APP_ROLE", "mendian_app").strip() or "mendian_app",
        app_role_password=env.get("MENDIAN_DB_APP_PASSWORD") or None,
        strict_plugins=_bool(env, "MENDIAN_STRICT_PLUGINS"),
        environment=env.get("MENDIAN_ENV", "development"),
        db_pool_size=pool,
        rate_limit_key=_rate(env, "MENDIAN_RATE_LIMIT_KEY", "1200/minute"),
        rate_limit_tenant=_rate(env, "MENDIAN_RATE_LIMIT_TENANT", "6000/minute"),
        query_cost_limit=_positive(env, "MENDIAN_QUERY_COST_LIMIT", 5000),
        public_url=_public_url(env),
        webhook_allow_private=_bool(env, "MENDIAN_WEBHOOK_ALLOW_PRIVATE"),
    )


def _public_url(env: Mapping[str, str]) -> str:
    """Where people open Mendian's pages (links in e-mails): ``MENDIAN_PUBLIC_URL``."""
    raw = env.get("MENDIAN_PUBLIC_URL", "").strip() or "http://localhost:8000"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"MENDIAN_PUBLIC_URL: expected http(s)://host[:port][/path], got {raw!r}")
    return raw.rstrip("/")


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    """A rate such as ``600/minute`` (the ``limits`` notation), checked now, not at request time."""
    from limits import parse

    value = env.get(name, default).strip()
    try:
        parse(value)
    except ValueError:
        raise ConfigError(f"{name}: expected e.g. 600/minute, got {value!r}") from None
    return value


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        value = int(env.get(name, str(default)))
    except ValueError:
        raise ConfigError(f"{name}: expected an integer") from None
    if value < 1:
        raise ConfigError(f"{name}: must be positive")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return load_settings()
