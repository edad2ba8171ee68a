import os

from litestar.testing import AsyncTestClient

from api.app import create_app


async def test_health_reports_the_database(db):
    app = create_app(db.settings)
    async with AsyncTestClient(app) as client:
        r = await client.get("/health")
        assert r.status_code == 200
        expected = {"database": db.dialect} | (
            {"redis": "ok"} if os.environ.get("REDIS_URL") else {}
        )
        assert r.json() == {"status": "ok", "checks": expected}
        spec = (await client.get("/schema/openapi.json")).json()
        assert spec["paths"]["/health"]["get"]["operationId"] == "health"
