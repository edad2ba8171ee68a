import pytest

from core.config import ConfigError, DatabaseURL, load_settings

KEY = "k" * 40


def test_embedded_default_generates_and_keeps_secrets(tmp_path):
    env = {"MENDIAN_HOME": str(tmp_path)}
    first = load_settings(env)
    assert first.database.dialect == "sqlite" and first.redis_url is None
    assert first.database.path == str(tmp_path / "mendian.sqlite3")
    assert load_settings(env).secret_key == first.secret_key
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "postgres://h/db"}, "MENDIAN_SECRET_KEY is required"),
        (
            {"DATABASE_URL": "postgres://h/db", "MENDIAN_SECRET_KEY": KEY},
            "MENDIAN_ADMIN_TOKEN is required",
        ),
        ({"DATABASE_URL": "mysql://h/db"}, "unsupported scheme"),
        ({"DATABASE_URL": "postgres://h/"}, "database name"),
        ({"DATABASE_URL": "postgres://h:notaport/db"}, "bad port"),
        ({"MENDIAN_SECRET_KEY": "short", "MENDIAN_ADMIN_TOKEN": "a" * 20}, "at least 32"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"MENDIAN_STRICT_PLUGINS": "maybe"}, "MENDIAN_STRICT_PLUGINS"),
        ({"MENDIAN_DB_POOL_SIZE": "lots"}, "MENDIAN_DB_POOL_SIZE"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"MENDIAN_HOME": str(tmp_path)} | env)


def test_postgres_url_parsing():
    url = DatabaseURL.parse("postgresql://app:p%40ss@db.internal:6543/mendian")
    assert (url.host, url.port, url.user, url.password, url.database) == (
        "db.internal",
        6543,
        "app",
        "p@ss",
        "mendian",
    )
    assert url.asyncpg_config(user="mendian_app")["user"] == "mendian_app"
    assert "password" not in url.asyncpg_config(user="mendian_app")
