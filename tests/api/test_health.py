import os

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app


async def test_health_reports_the_database(db):
    app = create_app(db.settings, background=False)
    async with AsyncTestClient(app) as client:
        r = await client.get("/health")
        assert r.status_code == 200
        expected = {"database": db.dialect} | (
            {"redis": "ok"} if os.environ.get("REDIS_URL") else {}
        )
        assert r.json() == {"status": "ok", "checks": expected}
        spec = (await client.get("/schema/openapi.json")).json()
        assert spec["paths"]["/health"]["get"]["operationId"] == "health"


async def test_broken_plugin_is_quarantined_and_the_server_still_starts(db, monkeypatch):
    from importlib.metadata import EntryPoint, entry_points

    import core.plugins.registry as registry_module
    from core.config import get_settings
    from core.plugins import StrictPluginError, get_runtime

    broken = EntryPoint(
        name="broken", value="mendian_no_such_plugin.plugin", group="mendian.plugins"
    )
    monkeypatch.setattr(
        registry_module, "entry_points", lambda group: [*entry_points(group=group), broken]
    )
    app = create_app(db.settings, background=False)
    async with AsyncTestClient(app) as client:
        assert (await client.get("/health")).status_code == 200
    quarantined = get_runtime().registry.quarantined["broken"]
    assert (
        quarantined.reason
        == "import failed: ModuleNotFoundError: No module named 'mendian_no_such_plugin'"
    )
    assert "loyalty" in get_runtime().registry.plugins

    monkeypatch.setenv("MENDIAN_STRICT_PLUGINS", "1")
    get_settings.cache_clear()
    try:
        with pytest.raises(StrictPluginError):
            create_app(db.settings)
    finally:
        monkeypatch.delenv("MENDIAN_STRICT_PLUGINS")
        get_settings.cache_clear()
